"""The ``openai`` backend: OpenAI chat completions (gpt-3.5-turbo by default) or any
OpenAI-compatible server (vLLM, TGI, Ollama) reached through a base URL, via LangChain's
``ChatOpenAI`` and the official ``openai`` client.

Every failure of a call becomes :class:`GeneratorFailed` with a message for the log that names
the cause and what to check, and a short ``apology`` for the shopper. The API key never appears
in a message or a log line, not even when a server echoes it back in an error body.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit, urlunsplit

from shopbot.generators.base import Generator, GeneratorFailed, GeneratorUnavailable, Turn
from shopbot.generators.registry import register
from shopbot.prompts import (
    NOT_IN_CATALOG, build_chat_messages, build_condense_messages, task_note,
)

if TYPE_CHECKING:
    from langchain_core.embeddings import Embeddings
    from langchain_openai import ChatOpenAI

    from shopbot.query import Understanding
    from shopbot.retrieval import Retrieval, Source
    from shopbot.settings import Settings

log = logging.getLogger(__name__)

MISSING_KEY = (
    "The openai generator has no API key: set OPENAI_API_KEY (or SHOPBOT_OPENAI_API_KEY) to "
    "your OpenAI key; for a local OpenAI-compatible server (vLLM, TGI, Ollama) also set "
    "OPENAI_BASE_URL (e.g. http://localhost:8000/v1) and any key that server accepts. "
    "Or choose another backend with SHOPBOT_GENERATOR=extractive (no LLM, works offline)."
)

# What the shopper sees; the cause goes to the log.
APOLOGY_UNAVAILABLE = "Sorry, the assistant isn't available right now. Please try again later."
APOLOGY_BUSY = "Sorry, I'm getting a lot of questions right now. Please try again in a moment."
APOLOGY_SLOW = "Sorry, that took too long. Please try again in a moment."
APOLOGY_DEFAULT = GeneratorFailed.apology
APOLOGY_TOO_LONG = (
    "Sorry, this conversation got too long for me. Please start a new chat or ask a shorter "
    "question."
)

_DETAIL_CHARS = 200


@register
class OpenAIGenerator(Generator):
    name = "openai"
    description = (
        "OpenAI chat completions (gpt-3.5-turbo by default) or any OpenAI-compatible server "
        "(vLLM, TGI, Ollama) via OPENAI_BASE_URL."
    )
    uses_llm = True
    needs_env = "OPENAI_API_KEY"
    answers_in_shoppers_language = True  # told to by the prompt (prompts.task_note)

    def __init__(self, settings: Settings, *, embeddings: Embeddings | None = None) -> None:
        super().__init__(settings, embeddings=embeddings)
        self._llm: ChatOpenAI | None = None
        self._lock = threading.Lock()

    # -- configuration -------------------------------------------------------------------

    def _api_key(self) -> str | None:
        if self.settings.openai_api_key is not None:
            key = self.settings.openai_api_key.get_secret_value().strip()
        else:
            key = os.environ.get("OPENAI_API_KEY", "").strip()
        return key or None

    def _base_url(self) -> str | None:
        """The configured server, or None for the client's default (api.openai.com)."""
        url = self.settings.openai_base_url or os.environ.get("OPENAI_BASE_URL", "").strip()
        return url or None

    @property
    def endpoint(self) -> str:
        """Where requests go, for messages: the base URL without any user:password part."""
        url = self._base_url()
        if url is None:
            return "api.openai.com"
        parts = urlsplit(url)
        host = parts.netloc.rsplit("@", 1)[-1]
        return urlunsplit((parts.scheme, host, parts.path, "", "")) or url

    def chat_model(self) -> ChatOpenAI:
        """The LangChain chat model, built on first use (once per generator, thread-safe)."""
        if self._llm is not None:
            return self._llm
        key = self._api_key()
        if key is None:
            raise GeneratorUnavailable(MISSING_KEY)
        with self._lock:
            if self._llm is None:
                self._llm = self.new_chat_model(streaming=True)
        return self._llm

    def new_chat_model(self, **overrides: Any) -> ChatOpenAI:
        """A new LangChain chat model on the configured server, with the configured key and
        model, and the openai_* settings unless ``overrides`` (ChatOpenAI arguments) say
        otherwise: the question reader (shopbot.llm_parse) asks with its own timeout.
        Raises GeneratorUnavailable when no key is set."""
        key = self._api_key()
        if key is None:
            raise GeneratorUnavailable(MISSING_KEY)
        from langchain_openai import ChatOpenAI
        from pydantic import SecretStr

        options: dict[str, Any] = {
            "model": self.settings.openai_model,
            "temperature": self.settings.openai_temperature,
            "max_tokens": self.settings.openai_max_tokens,
            "timeout": self.settings.openai_timeout,
            "max_retries": self.settings.openai_max_retries,
            **overrides,
        }
        return ChatOpenAI(api_key=SecretStr(key), base_url=self._base_url(), **options)

    @property
    def configured(self) -> bool:
        """Whether a key is set (the model can be asked at all)."""
        return self._api_key() is not None

    def error_detail(self, exc: BaseException) -> str:
        """What went wrong in a call, short, for a log line: the server's own error text
        (or the transport's), never the API key."""
        return self._detail(exc)  # type: ignore[arg-type]

    # -- the contract --------------------------------------------------------------------

    def generate(
        self, question: str, history: Sequence[Turn], sources: Sequence[Source],
        *, understanding: Understanding | None = None, retrieval: Retrieval | None = None,
    ) -> Iterator[str]:
        """Stream the model's answer. Raises GeneratorUnavailable at once when no key is
        set; GeneratorFailed while iterating, possibly after some text was yielded.

        With no sources the model is not called: the answer can only be NOT_IN_CATALOG, so
        we say it ourselves (no cost, no latency, same words every time)."""
        llm = self.chat_model()
        if not sources:
            return iter([NOT_IN_CATALOG])
        note = task_note(understanding, retrieval)
        return self._stream(llm, build_chat_messages(question, history, sources, note=note))

    def _stream(self, llm: ChatOpenAI, messages: list[tuple[str, str]]) -> Iterator[str]:
        import openai

        streamed = 0
        try:
            for chunk in llm.stream(messages):
                text = _text(chunk)
                if text:
                    streamed += len(text)
                    yield text
        except openai.OpenAIError as exc:
            raise self._failure(exc, "answer", streamed=streamed) from None

    def condense(self, question: str, history: Sequence[Turn]) -> str | None:
        """The model's standalone rewrite of a follow-up; None without history (nothing to
        resolve) or when the model returns nothing."""
        if not history:
            return None
        llm = self.chat_model()
        import openai

        try:
            reply = llm.invoke(build_condense_messages(question, history), stream=False)
        except openai.OpenAIError as exc:
            raise self._failure(exc, "condense") from None
        return _text(reply).strip() or None

    # -- errors --------------------------------------------------------------------------

    def _failure(self, exc: Exception, call: str, streamed: int = 0) -> GeneratorFailed:
        """GeneratorFailed for an openai exception, with the reason for the log and the
        apology for the shopper; logged here. ``streamed``: characters already yielded."""
        import openai

        where = self.endpoint
        model = self.settings.openai_model
        retries = self.settings.openai_max_retries
        after = f" after {retries} retr{'y' if retries == 1 else 'ies'}" if retries else ""
        status = getattr(exc, "status_code", None)
        detail = self._detail(exc)

        if isinstance(exc, openai.AuthenticationError):
            reason, apology = "auth", APOLOGY_UNAVAILABLE
            message = (
                f"{where} rejected the API key (401): check OPENAI_API_KEY "
                "(or SHOPBOT_OPENAI_API_KEY)"
            )
        elif isinstance(exc, openai.PermissionDeniedError):
            reason, apology = "permission", APOLOGY_UNAVAILABLE
            message = (
                f"{where} refused access (403) to model {model!r}: check that the key's "
                f"project or organisation may use it ({detail})"
            )
        elif isinstance(exc, openai.NotFoundError):
            reason, apology = "model_not_found", APOLOGY_UNAVAILABLE
            message = (
                f"{where} has no model {model!r} or no chat completions endpoint (404): check "
                "SHOPBOT_OPENAI_MODEL, and that OPENAI_BASE_URL ends in the server's /v1 "
                f"({detail})"
            )
        elif isinstance(exc, openai.RateLimitError):
            reason, apology = "rate_limit", APOLOGY_BUSY
            message = (
                f"{where} refused the request: rate limit or quota exceeded (429){after}: "
                "wait, lower the traffic, or check the account's limits and billing; "
                f"SHOPBOT_OPENAI_MAX_RETRIES sets the retries ({detail})"
            )
        elif isinstance(exc, openai.APITimeoutError):
            reason, apology = "timeout", APOLOGY_SLOW
            waited = f"{self.settings.openai_timeout:g}s"
            message = (
                f"{where} stopped sending for more than {waited} after {streamed} characters "
                if streamed
                else f"{where} did not answer within {waited} "
            ) + f"(timeout){after}: check the server's load, or raise SHOPBOT_OPENAI_TIMEOUT"
        elif isinstance(exc, openai.APIConnectionError) and streamed:
            reason, apology = "connection", APOLOGY_DEFAULT
            message = (
                f"the connection to {where} broke off after {streamed} characters of the "
                f"answer ({detail}): check the server's logs and the network or proxy settings"
            )
        elif isinstance(exc, openai.APIConnectionError):
            reason, apology = "connection", APOLOGY_DEFAULT
            cause = "connection refused" if _refused(exc) else "connection failed"
            message = (
                f"could not reach {where} ({cause}: {detail}){after}: check OPENAI_BASE_URL, "
                "that the server is running, and the network or proxy settings"
            )
        elif isinstance(exc, openai.BadRequestError):
            from langchain_core.exceptions import ContextOverflowError

            if isinstance(exc, ContextOverflowError) or "context_length" in str(exc.code):
                reason, apology = "context_overflow", APOLOGY_TOO_LONG
                message = (
                    f"{where} rejected the prompt as longer than {model!r}'s context (400): "
                    f"fewer sources (SHOPBOT_RETRIEVAL_K) or a shorter history ({detail})"
                )
            else:
                reason, apology = "bad_request", APOLOGY_UNAVAILABLE
                message = (
                    f"{where} rejected the request (400): check SHOPBOT_OPENAI_MODEL and the "
                    f"openai_* settings against what the server supports ({detail})"
                )
        elif isinstance(exc, openai.APIStatusError) and status is not None and status >= 500:
            reason, apology = "server_error", APOLOGY_DEFAULT
            message = (
                f"{where} failed with a server error ({status}){after}: try again later, "
                f"or check the server's logs or status page ({detail})"
            )
        elif isinstance(exc, openai.APIStatusError):
            reason, apology = "http_error", APOLOGY_DEFAULT
            message = f"{where} answered with HTTP {status}: {detail}"
        else:
            reason, apology = "error", APOLOGY_DEFAULT
            message = f"the call to {where} failed ({type(exc).__name__}: {detail})"

        message = f"openai generator ({call}, model {model!r}): {message}"
        log.warning("%s", message)
        failure = GeneratorFailed(message)
        failure.apology = apology
        failure.reason = reason  # type: ignore[attr-defined]
        failure.status_code = status  # type: ignore[attr-defined]
        return failure

    def _detail(self, exc: Exception) -> str:
        """The server's own error text (or the transport's), short and with the key removed."""
        body = getattr(exc, "body", None)
        if isinstance(body, dict) and isinstance(body.get("message"), str):
            text = body["message"]
        elif isinstance(body, str) and body.strip():
            text = body
        else:
            text = _root_cause(exc)
        text = " ".join(text.split())
        if len(text) > _DETAIL_CHARS:
            text = text[:_DETAIL_CHARS].rsplit(" ", 1)[0] + " …"
        return self._redact(text) or type(exc).__name__

    def _redact(self, text: str) -> str:
        key = self._api_key()
        if key:
            text = text.replace(key, "[redacted]")
        return text


def _text(message: Any) -> str:
    content = message.content
    if isinstance(content, str):
        return content
    return "".join(
        block if isinstance(block, str) else str(block.get("text", ""))
        for block in content
        if isinstance(block, str) or (isinstance(block, dict) and block.get("type") == "text")
    )


def _causes(exc: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__


def _root_cause(exc: BaseException) -> str:
    """The innermost non-empty message in the chain (e.g. 'All connection attempts failed')."""
    messages = [str(e) for e in _causes(exc) if str(e)]
    return messages[-1] if messages else ""


def _refused(exc: BaseException) -> bool:
    return any(
        isinstance(e, ConnectionRefusedError) or "refused" in str(e).lower()
        for e in _causes(exc)
    )
