"""The generator contract: what every answer backend receives and yields.

A backend is one module that defines a ``Generator`` subclass and registers it with
``@register``. The chain hands it the shopper's question, the conversation so far and the
numbered sources retrieved from the catalog; it yields the answer text in pieces (streaming).
Backends that hold an LLM may also rewrite a follow-up into a standalone question.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar, Literal

if TYPE_CHECKING:
    from langchain_core.embeddings import Embeddings

    from shopbot.query import Understanding
    from shopbot.retrieval import Retrieval, Source
    from shopbot.settings import Settings


@dataclass(frozen=True)
class Turn:
    """One message of the conversation."""

    role: Literal["user", "assistant"]
    content: str


class GeneratorUnavailable(RuntimeError):
    """The backend cannot run as configured (no API key, no weights, missing package). The
    message is shown to the developer as is: it says what is missing and how to fix it."""


class GeneratorFailed(RuntimeError):
    """The backend was reachable but this answer failed (rate limit, timeout, refused
    connection). ``apology`` is what the shopper sees; the message is for the log."""

    apology = "Sorry, I can't answer right now. Please try again in a moment."


class Generator(ABC):
    """Base class for answer backends; subclasses set the class attributes below."""

    name: ClassVar[str]
    description: ClassVar[str] = ""
    uses_llm: ClassVar[bool] = False
    needs_env: ClassVar[str | None] = None  # e.g. "OPENAI_API_KEY"
    # Whether it answers a question asked in German, Spanish or French in that language
    # (an LLM told to); otherwise the chain says first that the answer is in English.
    answers_in_shoppers_language: ClassVar[bool] = False

    def __init__(self, settings: Settings, *, embeddings: Embeddings | None = None) -> None:
        self.settings = settings
        # The process's embedding model, shared by backends that compare texts (extractive).
        self.embeddings = embeddings

    @abstractmethod
    def generate(
        self, question: str, history: Sequence[Turn], sources: Sequence[Source],
        *, understanding: Understanding | None = None, retrieval: Retrieval | None = None,
    ) -> Iterator[str]:
        """Yield the answer text in pieces. ``sources`` are numbered from 1 in this order;
        cite them as [n]. With no sources, say the catalog has nothing on it."""

    def condense(self, question: str, history: Sequence[Turn]) -> str | None:
        """A standalone version of a follow-up question, or None to let the chain's rules
        do it (backends without an LLM)."""
        return None
