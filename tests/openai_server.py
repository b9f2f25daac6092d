"""A small OpenAI-compatible HTTP server for tests: the official client talks real HTTP to it
on loopback, so the code under test runs exactly as against api.openai.com or vLLM.

    POST /v1/chat/completions   streaming (SSE chat.completion.chunk) and non-streaming
    GET  /v1/models

Each test shapes its behaviour through the ``openai_server`` fixture (reset before every
test): ``reply`` (messages -> answer text), ``fail_status`` (e.g. 429, 500) for the next
``fail_times`` requests (``fail_message`` the error text), ``delay`` before answering,
``hold_after_first`` to pause a stream after its first piece, ``drop_after_first`` to cut it
there, and ``models``. Every request body is recorded in ``requests``.
A request for structured output (``tools``, as tool calling sends, or a ``json_schema``
``response_format``) gets ``structured_reply(body)``: a dict is sent as the called function's
arguments (or the JSON content), a str as raw arguments (malformed ones too), None as a plain
text reply that calls nothing; ``structured_delay`` holds only those requests. Without a
``structured_reply`` such a request is answered like any other (a server that ignores tools).
A wrong key gets a 401 whose message echoes the key it received, as some servers do, so tests
can prove that our messages never repeat it.

Only the standard library and pytest are imported at module level; starlette and uvicorn are
imported when the server starts.
"""

from __future__ import annotations

import asyncio
import json
import re
import threading
import time
import uuid
from collections.abc import Callable
from typing import Any

import pytest

DEFAULT_KEY = "sk-test-shopbot-0123456789abcdef"
DEFAULT_MODELS = ("gpt-3.5-turbo",)

Messages = list[dict[str, Any]]


def default_reply(messages: Messages) -> str:
    return "The Alpine 2 Tent costs $349.00 [1]. It sleeps two people [1]."


def split_pieces(text: str) -> list[str]:
    """Word-sized stream pieces that join back to ``text`` exactly."""
    return re.findall(r"\S+\s*|\s+", text) or [""]


def is_structured(body: dict[str, Any]) -> bool:
    """Whether a chat request asks for structured output: tool calling or a JSON schema."""
    response_format = body.get("response_format") or {}
    return bool(body.get("tools")) or response_format.get("type") == "json_schema"


def _tool_name(body: dict[str, Any]) -> str:
    """The function a tool-calling request asks for (its tool_choice, else its first tool)."""
    choice = body.get("tool_choice")
    if isinstance(choice, dict):
        return choice.get("function", {}).get("name", "")
    tools = body.get("tools") or [{}]
    return tools[0].get("function", {}).get("name", "")


class OpenAICompatibleServer:
    def __init__(self, api_key: str = DEFAULT_KEY) -> None:
        self.default_key = api_key
        self.host = "127.0.0.1"
        self.port: int | None = None
        self._server: Any = None
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self.reset()

    # -- behaviour, set by tests ---------------------------------------------------------

    def reset(self) -> None:
        """Back to a healthy server with the default key and reply; forget requests. Any
        request still waiting (a delay, a held stream) from before is let go."""
        with self._lock:
            self._epoch = getattr(self, "_epoch", 0) + 1
            self.api_key = self.default_key
            self.reply: Callable[[Messages], str] = default_reply
            self.fail_status: int | None = None
            self.fail_times: int | None = None  # None = every request while fail_status is set
            self.delay = 0.0
            self.hold_after_first: threading.Event | None = None
            self.drop_after_first = False  # close the connection mid-stream
            # Error text for fail_status; "{key}" becomes the key the request carried.
            self.fail_message = "The server had an error while processing your request."
            self.models: tuple[str, ...] = DEFAULT_MODELS
            self.requests: list[dict[str, Any]] = []
            self.finished_streams = 0
            self.structured_reply: Callable[[dict[str, Any]], Any] | None = None
            self.structured_delay = 0.0

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}/v1"

    @property
    def last_request(self) -> dict[str, Any]:
        assert self.requests, "the server received no request"
        return self.requests[-1]

    def chat_requests(self) -> list[dict[str, Any]]:
        return [r["body"] for r in self.requests if r["path"].endswith("/chat/completions")]

    def structured_requests(self) -> list[dict[str, Any]]:
        """The chat requests that asked for structured output (tools or a JSON schema)."""
        return [b for b in self.chat_requests() if is_structured(b)]

    # -- lifecycle -----------------------------------------------------------------------

    def start(self, port: int | None = None, timeout: float = 20.0) -> OpenAICompatibleServer:
        import uvicorn

        from tests.conftest import free_port, wait_until

        self.port = port or free_port()
        config = uvicorn.Config(
            self._app(),
            host=self.host,
            port=self.port,
            log_level="warning",
            lifespan="off",
            timeout_graceful_shutdown=2,
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._server.run, name="openai-test-server", daemon=True
        )
        self._thread.start()
        wait_until(
            lambda: self._server.started or not self._thread.is_alive(),
            timeout=timeout,
            what="OpenAI-compatible test server",
            interval=0.02,
        )
        if not self._server.started:
            raise RuntimeError(f"the OpenAI-compatible test server did not start on {self.port}")
        return self

    def stop(self) -> None:
        if self._server is None:
            return
        self.reset()  # releases waiting handlers
        self._server.should_exit = True
        self._thread.join(timeout=10)
        self._server = None

    # -- the app -------------------------------------------------------------------------

    def _app(self):
        from starlette.applications import Starlette
        from starlette.responses import JSONResponse, StreamingResponse
        from starlette.routing import Route

        def error(status: int, message: str, type_: str, code: str | None, headers=None):
            body = {"error": {"message": message, "type": type_, "param": None, "code": code}}
            return JSONResponse(body, status_code=status, headers=headers)

        def authorized(request) -> Any:
            header = request.headers.get("authorization", "")
            received = header.removeprefix("Bearer ").strip()
            if header.startswith("Bearer ") and received == self.api_key:
                return None
            return error(
                401,
                f"Incorrect API key provided: {received}. You can find your API key at "
                "https://platform.openai.com/account/api-keys.",
                "invalid_request_error",
                "invalid_api_key",
            )

        async def models(request):
            if (denied := authorized(request)) is not None:
                return denied
            data = [
                {"id": m, "object": "model", "created": 1677610602, "owned_by": "shopbot-tests"}
                for m in self.models
            ]
            return JSONResponse({"object": "list", "data": data})

        async def chat_completions(request):
            body = await request.json()
            with self._lock:
                epoch = self._epoch
                self.requests.append({"path": request.url.path, "body": body})
            if (denied := authorized(request)) is not None:
                return denied
            with self._lock:
                failing = self.fail_status is not None and (
                    self.fail_times is None or self.fail_times > 0
                )
                if failing and self.fail_times is not None:
                    self.fail_times -= 1
            structured = is_structured(body) and self.structured_reply is not None
            delay = self.delay + (self.structured_delay if structured else 0.0)
            if delay:
                deadline = time.monotonic() + delay
                while time.monotonic() < deadline and epoch == self._epoch:
                    await asyncio.sleep(0.02)
            if failing:
                status = self.fail_status
                if status == 429:
                    return error(
                        429,
                        "Rate limit reached for gpt-3.5-turbo on requests per min (RPM).",
                        "requests",
                        "rate_limit_exceeded",
                        headers={"retry-after-ms": "10"},
                    )
                received = request.headers.get("authorization", "").removeprefix("Bearer ")
                message = self.fail_message.replace("{key}", received)
                return error(status, message, "server_error", None)
            model = body.get("model")
            if model not in self.models:
                return error(
                    404,
                    f"The model `{model}` does not exist or you do not have access to it.",
                    "invalid_request_error",
                    "model_not_found",
                )
            completion_id = f"chatcmpl-{uuid.uuid4().hex[:24]}"
            created = int(time.time())
            if structured and not body.get("stream"):
                reply = self.structured_reply(body)
                if reply is not None:
                    return JSONResponse(structured_completion(body, reply, completion_id, created))
            text = self.reply(body.get("messages", []))
            usage = {"prompt_tokens": 50, "completion_tokens": len(text.split()), "total_tokens": 0}
            usage["total_tokens"] = usage["prompt_tokens"] + usage["completion_tokens"]
            if not body.get("stream"):
                return JSONResponse(
                    {
                        "id": completion_id,
                        "object": "chat.completion",
                        "created": created,
                        "model": model,
                        "system_fingerprint": None,
                        "choices": [
                            {
                                "index": 0,
                                "message": {"role": "assistant", "content": text, "refusal": None},
                                "logprobs": None,
                                "finish_reason": "stop",
                            }
                        ],
                        "usage": usage,
                    }
                )

            def chunk(delta: dict, finish: str | None = None, **extra) -> str:
                payload = {
                    "id": completion_id,
                    "object": "chat.completion.chunk",
                    "created": created,
                    "model": model,
                    "system_fingerprint": None,
                    "choices": [
                        {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}
                    ],
                    **extra,
                }
                return f"data: {json.dumps(payload)}\n\n"

            include_usage = bool((body.get("stream_options") or {}).get("include_usage"))
            hold, drop = self.hold_after_first, self.drop_after_first

            async def events():
                yield chunk({"role": "assistant", "content": ""})
                for n, piece in enumerate(split_pieces(text)):
                    yield chunk({"content": piece})
                    if n == 0 and hold is not None:
                        while not hold.is_set() and epoch == self._epoch:
                            await asyncio.sleep(0.01)
                    if n == 0 and drop:
                        raise ConnectionAbortedError("test server dropped the stream")
                yield chunk({}, "stop")
                if include_usage:
                    payload = json.loads(chunk({})[len("data: ") :])
                    payload.update(choices=[], usage=usage)
                    yield f"data: {json.dumps(payload)}\n\n"
                yield "data: [DONE]\n\n"
                with self._lock:
                    self.finished_streams += 1

            return StreamingResponse(events(), media_type="text/event-stream")

        return Starlette(
            routes=[
                Route("/v1/chat/completions", chat_completions, methods=["POST"]),
                Route("/v1/models", models, methods=["GET"]),
            ]
        )


def structured_completion(body: dict[str, Any], reply: Any, completion_id: str,
                          created: int) -> dict[str, Any]:
    """A chat.completion that calls the requested function with ``reply`` (tools), or whose
    content is ``reply`` as JSON (a json_schema response format)."""
    arguments = reply if isinstance(reply, str) else json.dumps(reply)
    if body.get("tools"):
        message = {
            "role": "assistant", "content": None, "refusal": None,
            "tool_calls": [{
                "id": f"call_{uuid.uuid4().hex[:24]}", "type": "function",
                "function": {"name": _tool_name(body), "arguments": arguments},
            }],
        }
        finish = "tool_calls"
    else:
        message = {"role": "assistant", "content": arguments, "refusal": None}
        finish = "stop"
    tokens = len(arguments.split())
    return {
        "id": completion_id, "object": "chat.completion", "created": created,
        "model": body.get("model"), "system_fingerprint": None,
        "choices": [{"index": 0, "message": message, "logprobs": None, "finish_reason": finish}],
        "usage": {"prompt_tokens": 50, "completion_tokens": tokens, "total_tokens": 50 + tokens},
    }


@pytest.fixture(scope="session")
def openai_server_session():
    server = OpenAICompatibleServer().start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def openai_server(openai_server_session):
    """The session's OpenAI-compatible server, reset to healthy defaults for this test."""
    openai_server_session.reset()
    yield openai_server_session
    openai_server_session.reset()
