"""Reading a chat completion request: OpenAI's JSON shape, checked field by field so each
mistake gets a 400 that names the field (``param``), and capped so no request can make the
server do unbounded work."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from shopbot.api.errors import APIError
from shopbot.generators.base import Turn
from shopbot.unitext import lone_surrogate_at

if TYPE_CHECKING:
    from shopbot.settings import Settings

ROLES = ("system", "developer", "user", "assistant")
# A chat completion body nests about five levels (body, messages, message, content parts,
# part); anything far deeper is an attack on the parser, refused with a 400.
MAX_JSON_DEPTH = 32
# Words and punctuation marks: the unit of max_tokens and of "usage" (an estimate: each
# backend has its own tokenizer, or none).
_TOKEN = re.compile(r"\w+|[^\w\s]")


def count_tokens(text: str) -> int:
    return len(_TOKEN.findall(text))


def cut_to_tokens(text: str, budget: int) -> str:
    """The start of ``text`` holding at most ``budget`` tokens (whole tokens only)."""
    if budget <= 0:
        return ""
    for n, match in enumerate(_TOKEN.finditer(text), start=1):
        if n == budget:
            return text[: match.end()]
    return text


@dataclass(frozen=True)
class Limits:
    max_request_bytes: int
    max_messages: int
    max_message_chars: int
    max_tokens: int

    @classmethod
    def from_settings(cls, settings: Settings) -> Limits:
        return cls(
            max_request_bytes=settings.api_max_request_kb * 1024,
            max_messages=settings.api_max_messages,
            max_message_chars=settings.api_max_message_chars,
            max_tokens=settings.api_max_tokens,
        )


@dataclass(frozen=True)
class ChatRequest:
    model: str
    question: str  # the last message, the shopper's
    history: list[Turn]  # earlier user and assistant messages, oldest first
    stream: bool
    max_tokens: int | None
    include_usage: bool
    prompt_tokens: int


def _bad(message: str, param: str | None = None, code: str | None = None) -> APIError:
    return APIError(400, message, param=param, code=code)


def _too_deep() -> APIError:
    return _bad(
        f"The JSON body is nested too deeply: at most {MAX_JSON_DEPTH} levels of objects "
        "and lists. A chat completion request needs about five.",
        code="invalid_json",
    )


def _check_json(body: dict[str, Any]) -> None:
    """Refuse a parsed body that nests deeper than MAX_JSON_DEPTH or holds a string (a value
    or a key, anywhere, read or not) with a lone surrogate such as ``"\\ud800"``: that
    text cannot be encoded, so it must not reach the chain, the log or the response.
    Iterative, so no body can exhaust the stack here."""
    pending: list[tuple[Any, str, int]] = [(body, "", 1)]
    while pending:
        value, path, depth = pending.pop()
        if isinstance(value, str):
            _check_text(value, path, path)
        elif isinstance(value, (dict, list)):
            if depth > MAX_JSON_DEPTH:
                raise _too_deep()
            if isinstance(value, dict):
                for key, item in value.items():
                    _check_text(key, f"A key of {path}" if path else "A key of the body", path)
                    pending.append((item, f"{path}.{key}" if path else key, depth + 1))
            else:
                pending.extend((item, f"{path}[{i}]", depth + 1) for i, item in enumerate(value))


def _check_text(text: str, where: str, param: str) -> None:
    at = lone_surrogate_at(text)
    if at is None:
        return
    where, param = where[:120], param[:120]
    raise _bad(
        f"{where or 'The body'} holds an unpaired UTF-16 surrogate (U+{ord(text[at]):04X} at "
        f"character {at}), which is not text. Send valid Unicode: a character outside the "
        'BMP as a surrogate pair (e.g. "\\ud83d\\ude00") or as UTF-8.',
        param=param or None,
        code="invalid_unicode",
    )


def parse_chat_request(raw: bytes, limits: Limits) -> ChatRequest:
    """A ChatRequest from a request body, or APIError(400) saying what is wrong."""
    try:
        body = json.loads(raw)
    except RecursionError:
        raise _too_deep() from None
    except (ValueError, UnicodeDecodeError):
        raise _bad(
            "We could not parse the JSON body of your request. Send a JSON object with "
            '"model" and "messages", and the header Content-Type: application/json.',
            code="invalid_json",
        ) from None
    if not isinstance(body, dict):
        raise _bad("The request body must be a JSON object.", code="invalid_json")
    _check_json(body)

    model = body.get("model")
    if not isinstance(model, str) or not model.strip():
        raise _bad(
            "You must provide a model parameter (GET /v1/models lists them, e.g. shopbot).",
            param="model",
            code="missing_required_parameter" if model is None else "invalid_type",
        )

    for field in ("tools", "functions"):
        if body.get(field):
            raise _bad(f"{field} are not supported by this server.", param=field)
    n = body.get("n")
    if n is not None and (isinstance(n, bool) or n != 1):
        raise _bad("Only n=1 is supported: one answer per request.", param="n")
    stream = body.get("stream")
    if stream is not None and not isinstance(stream, bool):
        raise _bad("stream must be true or false.", param="stream", code="invalid_type")
    options = body.get("stream_options")
    if options is not None and not isinstance(options, dict):
        raise _bad("stream_options must be an object.", param="stream_options", code="invalid_type")
    include_usage = bool((options or {}).get("include_usage"))
    for name, low, high in (("temperature", 0, 2), ("top_p", 0, 1)):
        value = body.get(name)
        if value is None:
            continue
        if (
            isinstance(value, bool)
            or not isinstance(value, (int, float))
            or not low <= value <= high
        ):
            raise _bad(f"{name} must be a number from {low} to {high}.", param=name)

    max_tokens = None
    for name in ("max_tokens", "max_completion_tokens"):
        value = body.get(name)
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, int):
            raise _bad(f"{name} must be an integer.", param=name, code="invalid_type")
        if value < 1:
            raise _bad(f"{name} must be at least 1.", param=name, code="integer_below_min_value")
        if value > limits.max_tokens:
            raise _bad(
                f"{name} must be at most {limits.max_tokens} on this server "
                "(SHOPBOT_API_MAX_TOKENS).",
                param=name,
                code="integer_above_max_value",
            )
        max_tokens = value if max_tokens is None else min(max_tokens, value)

    messages = body.get("messages")
    if messages is None:
        raise _bad(
            "You must provide messages: a list of {role, content} objects ending with the "
            "shopper's question (role user).",
            param="messages",
            code="missing_required_parameter",
        )
    if not isinstance(messages, list):
        raise _bad(
            "messages must be a list of {role, content} objects.",
            param="messages",
            code="invalid_type",
        )
    if not messages:
        raise _bad(
            "messages is empty: send at least one message with role user.",
            param="messages",
            code="empty_array",
        )
    if len(messages) > limits.max_messages:
        raise _bad(
            f"Too many messages ({len(messages)}): at most {limits.max_messages} per request "
            "(SHOPBOT_API_MAX_MESSAGES); send the most recent ones.",
            param="messages",
            code="array_above_max_length",
        )

    turns: list[tuple[str, str]] = []
    for i, message in enumerate(messages):
        where = f"messages[{i}]"
        if not isinstance(message, dict):
            raise _bad(
                f"{where} must be an object with role and content.",
                param=where,
                code="invalid_type",
            )
        role = message.get("role")
        if role in ("tool", "function"):
            raise _bad(
                f"{where}.role {role!r} is not supported: this server has no tools. Use "
                f"one of: {', '.join(ROLES)}.",
                param=f"{where}.role",
                code="invalid_value",
            )
        if role not in ROLES:
            raise _bad(
                f"{where}.role must be one of: {', '.join(ROLES)} (got {str(role)[:40]!r}).",
                param=f"{where}.role",
                code="invalid_value",
            )
        content = _text_of(message.get("content"), f"{where}.content")
        if len(content) > limits.max_message_chars:
            raise _bad(
                f"{where}.content is {len(content):,} characters long: at most "
                f"{limits.max_message_chars:,} (SHOPBOT_API_MAX_MESSAGE_CHARS).",
                param=f"{where}.content",
                code="string_above_max_length",
            )
        turns.append((role, content))

    last_role, question = turns[-1]
    if last_role != "user":
        raise _bad(
            f"The last message must be the shopper's question (role user), not {last_role}.",
            param=f"messages[{len(turns) - 1}].role",
            code="invalid_value",
        )
    if not question.strip():
        raise _bad(
            "The last message is empty: it must hold the shopper's question.",
            param=f"messages[{len(turns) - 1}].content",
            code="empty_string",
        )
    # System and developer messages are not passed on: every answer follows shopbot's own
    # rules (answer from the catalog, cite it), which a caller must not be able to replace.
    history = [Turn(role, text) for role, text in turns[:-1] if role in ("user", "assistant")]
    return ChatRequest(
        model=model.strip(),
        question=question.strip(),
        history=history,
        stream=bool(stream),
        max_tokens=max_tokens,
        include_usage=include_usage,
        prompt_tokens=sum(count_tokens(text) for _, text in turns),
    )


def _text_of(content: Any, where: str) -> str:
    """A message's text: a string, or a list of ``{"type": "text", "text": ...}`` parts."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        texts = []
        for part in content:
            if not isinstance(part, dict) or part.get("type") != "text":
                kind = part.get("type") if isinstance(part, dict) else type(part).__name__
                raise _bad(
                    f"{where} has a {str(kind)[:40]!r} part: only text parts are supported.",
                    param=where,
                    code="invalid_value",
                )
            text = part.get("text")
            if not isinstance(text, str):
                raise _bad(
                    f"{where} has a text part without text.", param=where, code="invalid_type"
                )
            texts.append(text)
        return "".join(texts)
    if content is None:
        raise _bad(
            f"{where} is missing: every message needs text content.",
            param=where,
            code="missing_required_parameter",
        )
    raise _bad(
        f"{where} must be a string or a list of text parts.", param=where, code="invalid_type"
    )
