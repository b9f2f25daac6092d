"""The RAG chain: (history, question) -> standalone question -> sources -> streamed answer.

Built with LCEL so each stage is a named, swappable Runnable::

    condense  : LLM rewrite of a follow-up (generators with an LLM) or rules (without one)
    retrieve  : standalone question -> ranked Sources from the catalog store
    generate  : the generator streams text from the question, history and numbered sources;
                each sentence's prices, stock and specs are checked against the records it
                cites before it is passed on (shopbot/factcheck.py)

``chain.stream`` yields the sources before the first piece of text, so a UI can draw the
product cards while the answer is still being written.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from shopbot.factcheck import CheckedStream, CheckResult
from shopbot.generators.base import Generator, GeneratorFailed, Turn
from shopbot.languages import english_note
from shopbot.safety import AnswerGuard
from shopbot.unitext import without_lone_surrogates

if TYPE_CHECKING:
    from langchain_core.runnables import Runnable

    from shopbot.compare import Comparison
    from shopbot.constraints import Constraints
    from shopbot.factcheck import Correction
    from shopbot.query import Understanding
    from shopbot.retrieval import Retrieval, Source

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
    # How the sources were found: the constraints applied and whether nothing fit them.
    retrieval: Retrieval | None = None
    # What the catalog check changed: values corrected from the cited records, and the
    # sentences (as generated) it could not confirm, which the text marks.
    corrections: list[Correction] = field(default_factory=list)
    flagged: list[str] = field(default_factory=list)

    @property
    def constraints(self) -> Constraints | None:
        """The filters this answer applied (to remember for the next question)."""
        return self.retrieval.constraints if self.retrieval else None

    @property
    def remember(self) -> Constraints | None:
        """The filters the chat keeps for the next question: this question's own and every
        earlier one the shopper has not removed (also those this question left out because
        they made no sense for it: a boot size stays for the next boot question)."""
        if self.understanding is not None and self.understanding.remember is not None:
            return self.understanding.remember
        return self.constraints.remembered() if self.constraints is not None else None

    @property
    def understanding(self) -> Understanding | None:
        """What the question was read as (intent and slots), when a catalog read it."""
        return self.retrieval.understanding if self.retrieval else None

    @property
    def comparison(self) -> Comparison | None:
        """For "compare A and B": the products side by side, from their records."""
        return self.retrieval.comparison if self.retrieval else None

    def to_dict(self) -> dict[str, Any]:
        return {
            "filters": self.constraints.chips() if self.constraints else [],
            "relaxed": bool(self.retrieval and self.retrieval.relaxed),
            "comparison": self.comparison.to_dict() if self.comparison else None,
            "answer": self.text,
            "sources": [s.to_dict() for s in self.sources],
            "question": self.question,
            "standalone_question": self.standalone_question,
            "generator": self.generator,
            "corrections": [c.to_dict() for c in self.corrections],
            "flagged": list(self.flagged),
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
    retrieval: Retrieval | None = None
    # Filled by the chain's catalog check while the text streams (see build_rag_chain).
    fact_check: CheckResult | None = None

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
                if "retrieval" in event:
                    self.retrieval = event["retrieval"]
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
            retrieval=self.retrieval,
            corrections=list(self.fact_check.corrections) if self.fact_check else [],
            flagged=list(self.fact_check.flagged) if self.fact_check else [],
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


# retrieve(standalone question, remembered constraints, asked=the shopper's own words,
# understanding=what the question asks)
Retrieve = Callable[..., "Retrieval"]
# understand(question, history, remembered constraints) -> Understanding (shopbot.query)
Understand = Callable[..., "Understanding"]


def build_rag_chain(
    retrieve: Retrieve, generator: Generator, understand: Understand | None = None
) -> Runnable:
    """The LCEL chain. Input: {"question": str, "history": [Turn], "constraints":
    Constraints | None (remembered from earlier turns)}; output (invoke) or streamed chunks
    (stream): "understanding", "standalone", then "retrieval" and "sources", then "text"
    pieces. Without ``understand`` (a chain over fixed sources) follow-ups are told by
    their words alone."""
    from langchain_core.runnables import RunnableGenerator, RunnableLambda, RunnablePassthrough

    from shopbot.query import basic

    def read(inputs: dict[str, Any]) -> Understanding:
        question, history = inputs["question"], inputs.get("history") or []
        remembered = inputs.get("constraints")
        if understand is not None:
            understanding = understand(question, history, remembered)
        else:
            understanding = basic(question, history, remembered)
        if history and generator.uses_llm and (understand is None or understanding.follow_up):
            try:
                # A question in another language is condensed from its English reading: the
                # search runs on an English embedding model.
                rewritten = generator.condense(understanding.question if understanding.translated
                                               else question, history)
            except GeneratorFailed:
                rewritten = None  # the generator logged why; search with the rules' rewrite
            if rewritten:
                understanding.search = rewritten
        return understanding

    def generate(chunks: Iterator[dict[str, Any]]) -> Iterator[str]:
        inputs: dict[str, Any] = {}
        for chunk in chunks:
            inputs.update(chunk)
        understanding = inputs["understanding"]
        # A question in another language reaches the generator as its English reading
        # (shopbot.languages); one that answers in English says so first, in the shopper's
        # language.
        question = understanding.question if understanding.translated else inputs["question"]
        if understanding.translated and not generator.answers_in_shoppers_language:
            yield english_note(understanding.language) + "\n\n"
        note = inputs["retrieval"].note
        if note:  # nothing fits the filters: say so before the closest matches
            yield note + "\n\n"
        # Every price, stock level and spec is checked against the records the sentence
        # cites before the shopper sees it (shopbot/factcheck.py); "fact_check" collects
        # what was corrected or flagged, for the Answer. Then catalog text is data, never
        # the shop's words (shopbot/safety.py): a sentence that repeats instructions found in
        # the sources or links outside the shop is dropped, images and HTML removed.
        checked = CheckedStream(
            generator.generate(
                question, inputs.get("history") or [], inputs["sources"],
                understanding=inputs["understanding"] if understand is not None else None,
                retrieval=inputs["retrieval"],
            ),
            inputs["sources"],
            result=inputs.get("fact_check"),
        )
        guard = AnswerGuard(inputs["sources"], generator.settings.link_hosts)
        yield from guard.filter(checked)

    def search(inputs: dict[str, Any]) -> Retrieval:
        understanding = inputs["understanding"] if understand is not None else None
        asked = inputs["question"]
        if understanding is not None and understanding.translated:
            asked = understanding.question
        return retrieve(inputs["standalone"], inputs.get("constraints"), asked=asked,
                        understanding=understanding)

    return (
        RunnablePassthrough.assign(
            understanding=RunnableLambda(read).with_config(run_name="understand")
        )
        | RunnablePassthrough.assign(standalone=lambda x: x["understanding"].search)
        | RunnablePassthrough.assign(
            retrieval=RunnableLambda(search).with_config(run_name="retrieve")
        )
        | RunnablePassthrough.assign(sources=lambda x: x["retrieval"].sources)
        | RunnablePassthrough.assign(
            text=RunnableGenerator(generate).with_config(run_name="generate")
        )
    ).with_config(run_name="shopbot_rag")


class ShopAssistant:
    """The chain bound to a catalog and a generator: what the app, CLI and API call."""

    def __init__(
        self, retrieve: Retrieve, generator: Generator, understand: Understand | None = None
    ) -> None:
        self.generator = generator
        self.chain = build_rag_chain(retrieve, generator, understand)

    def stream(
        self,
        question: str,
        history: Sequence[Turn] = (),
        constraints: Constraints | None = None,
    ) -> AnswerStream:
        """Answer ``question``; ``constraints`` are the shopper's remembered filters (the
        answer's ``constraints`` are the ones to remember for the next turn). Lone
        surrogates (text that cannot be encoded) become U+FFFD here, so none reaches the
        tokenizer, a generator or the log, whichever entry point the text came from."""
        question = without_lone_surrogates(question)
        history = [Turn(t.role, without_lone_surrogates(t.content)) for t in history]
        fact_check = CheckResult(text="")
        events = self.chain.stream(
            {
                "question": question,
                "history": list(history),
                "constraints": constraints,
                "fact_check": fact_check,
            }
        )
        return AnswerStream(
            question=question,
            generator=self.generator.name,
            _events=events,
            fact_check=fact_check,
        )

    def ask(
        self,
        question: str,
        history: Sequence[Turn] = (),
        constraints: Constraints | None = None,
    ) -> Answer:
        return self.stream(question, history, constraints).complete()
