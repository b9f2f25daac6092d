"""The RAG chain: (history, question) -> standalone question -> sources -> streamed answer.

Built with LCEL so each stage is a named, swappable Runnable::

    condense  : LLM rewrite of a follow-up (generators with an LLM) or rules (without one)
    retrieve  : standalone question -> ranked Sources from the catalog store
    generate  : the generator streams text from the question, history and numbered sources

``chain.stream`` yields the sources before the first piece of text, so a UI can draw the
product cards while the answer is still being written.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from shopbot.generators.base import Generator, GeneratorFailed, Turn

if TYPE_CHECKING:
    from langchain_core.runnables import Runnable

    from shopbot.retrieval import Source

log = logging.getLogger(__name__)

_FOLLOW_UP_START = re.compile(
    r"^\s*(and|or|but|also|so|then|what about|how about|same|ok|okay|in)\b", re.I
)
_PRONOUN = re.compile(r"\b(it|its|it's|they|them|their|those|these|that|this|one|ones)\b", re.I)
_SHORT_QUESTION_WORDS = 3


@dataclass
class Answer:
    """What the chain returns: the text and the sources it was built from."""

    text: str
    sources: list[Source]
    question: str
    standalone_question: str
    generator: str
    failed: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {
            "answer": self.text,
            "sources": [s.to_dict() for s in self.sources],
            "question": self.question,
            "standalone_question": self.standalone_question,
            "generator": self.generator,
        }


@dataclass
class AnswerStream:
    """Iterate for the answer text; ``sources`` is filled before the first piece arrives.
    After iteration, ``answer`` holds the complete Answer."""

    question: str
    generator: str
    _events: Iterator[dict[str, Any]]
    sources: list[Source] = field(default_factory=list)
    standalone_question: str = ""
    answer: Answer | None = None

    def __post_init__(self) -> None:
        # Run the chain up to the first piece of text: condense and retrieve happen now.
        self._pending: list[str] = []
        self._failed = False
        for event in self._pull():
            if "text" in event:
                self._pending.append(event["text"])
                break

    def _pull(self) -> Iterator[dict[str, Any]]:
        try:
            for event in self._events:
                if "standalone" in event:
                    self.standalone_question = event["standalone"]
                if "sources" in event:
                    self.sources = list(event["sources"])
                yield event
        except GeneratorFailed as exc:
            log.warning("generator %s failed: %s", self.generator, exc)
            self._failed = True
            yield {"text": getattr(exc, "apology", GeneratorFailed.apology)}

    def __iter__(self) -> Iterator[str]:
        if self.answer is not None:
            return  # already streamed; the text is in .answer
        pieces: list[str] = []
        for piece in self._pending:
            pieces.append(piece)
            yield piece
        self._pending = []
        for event in self._pull():
            if "text" in event and event["text"]:
                pieces.append(event["text"])
                yield event["text"]
        self.answer = Answer(
            text="".join(pieces).strip(),
            sources=self.sources,
            question=self.question,
            standalone_question=self.standalone_question,
            generator=self.generator,
            failed=self._failed,
        )

    def complete(self) -> Answer:
        """Drain the stream (if not done yet) and return the whole Answer."""
        for _ in self:
            pass
        assert self.answer is not None
        return self.answer


def is_follow_up(question: str) -> bool:
    words = question.split()
    return (
        len(words) <= _SHORT_QUESTION_WORDS
        or bool(_FOLLOW_UP_START.match(question))
        or bool(_PRONOUN.search(question))
    )


def condense_by_rules(question: str, history: Sequence[Turn]) -> str:
    """Carry the subject of the conversation into a follow-up, without an LLM.

    "and is it waterproof?" after "how much is the Alpine 2 tent?" becomes
    "how much is the Alpine 2 tent? — and is it waterproof?": the product and any constraints
    ("under $200", "in size M") of the last self-contained question travel with it, which is
    what the search needs.
    """
    user_turns = [t.content.strip() for t in history if t.role == "user" and t.content.strip()]
    if not user_turns or not is_follow_up(question):
        return question
    context: list[str] = []
    for earlier in reversed(user_turns):
        context.insert(0, earlier)
        if not is_follow_up(earlier) or len(context) == 2:
            break
    return " — ".join([*context, question.strip()])


def build_rag_chain(
    retrieve: Callable[[str], list[Source]], generator: Generator
) -> Runnable:
    """The LCEL chain. Input: {"question": str, "history": [Turn]}; output (invoke) or
    streamed chunks (stream): "standalone", then "sources", then "text" pieces."""
    from langchain_core.runnables import RunnableGenerator, RunnableLambda, RunnablePassthrough

    def condense(inputs: dict[str, Any]) -> str:
        question, history = inputs["question"], inputs.get("history") or []
        if history and generator.uses_llm:
            try:
                rewritten = generator.condense(question, history)
            except GeneratorFailed:
                rewritten = None  # the generator logged why; search with the rules' rewrite
            if rewritten:
                return rewritten
        return condense_by_rules(question, history)

    def generate(chunks: Iterator[dict[str, Any]]) -> Iterator[str]:
        inputs: dict[str, Any] = {}
        for chunk in chunks:
            inputs.update(chunk)
        yield from generator.generate(
            inputs["question"], inputs.get("history") or [], inputs["sources"]
        )

    return (
        RunnablePassthrough.assign(standalone=RunnableLambda(condense).with_config(run_name="condense"))
        | RunnablePassthrough.assign(
            sources=RunnableLambda(lambda x: retrieve(x["standalone"])).with_config(run_name="retrieve")
        )
        | RunnablePassthrough.assign(
            text=RunnableGenerator(generate).with_config(run_name="generate")
        )
    ).with_config(run_name="shopbot_rag")


class ShopAssistant:
    """The chain bound to a catalog and a generator: what the app, CLI and API call."""

    def __init__(self, retrieve: Callable[[str], list[Source]], generator: Generator) -> None:
        self.generator = generator
        self.chain = build_rag_chain(retrieve, generator)

    def stream(self, question: str, history: Sequence[Turn] = ()) -> AnswerStream:
        events = self.chain.stream({"question": question, "history": list(history)})
        return AnswerStream(question=question, generator=self.generator.name, _events=events)

    def ask(self, question: str, history: Sequence[Turn] = ()) -> Answer:
        return self.stream(question, history).complete()
