"""The FastAPI app: routes, API key check, rate limit, body cap, CORS and streaming."""

from __future__ import annotations

import json
import logging
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Annotated, Any

from fastapi import Depends, FastAPI, Request
from fastapi.responses import JSONResponse, StreamingResponse
from starlette.concurrency import iterate_in_threadpool, run_in_threadpool
from starlette.middleware.cors import CORSMiddleware

from shopbot.api.errors import APIError, install_handlers
from shopbot.api.models import AnswerRun, ModelHub, ServedModel
from shopbot.api.ratelimit import Decision, RateLimiter
from shopbot.api.schema import (
    ChatRequest,
    Limits,
    count_tokens,
    cut_to_tokens,
    parse_chat_request,
)
from shopbot.api.timeouts import BodyTimeout
from shopbot.apikeys import CREATE_COMMAND, APIKey, APIKeyError, APIKeyStore
from shopbot.generators.base import GeneratorFailed

if TYPE_CHECKING:
    from shopbot.service import CatalogService

log = logging.getLogger("shopbot.api")

_MAX_AUTH_HEADER = 512


class ServerState:
    """What every request shares: the catalog, the models, the keys and the buckets."""

    def __init__(self, service: CatalogService, keys: APIKeyStore | None = None) -> None:
        settings = service.settings
        self.service = service
        self.settings = settings
        self.models = ModelHub(service)
        self.keys = keys or APIKeyStore.from_settings(settings)
        self.limits = Limits.from_settings(settings)
        self.limiter = RateLimiter(settings.api_rate_per_minute, settings.api_rate_burst)
        self.started = int(time.time())


def authenticate(request: Request) -> APIKey:
    """The caller's API key record, or 401. A sync dependency: FastAPI runs it on a
    worker thread, so the key lookup never blocks the event loop."""
    state: ServerState = request.app.state.shopbot
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    token = token.strip()
    if not header:
        raise _unauthorized(
            "You didn't provide an API key. Send it as `Authorization: Bearer <key>`; "
            f"the shop's staff create keys with `{CREATE_COMMAND}`.",
            code="missing_api_key",
        )
    if scheme.lower() != "bearer" or not token or len(header) > _MAX_AUTH_HEADER:
        raise _unauthorized(
            "The Authorization header must be `Bearer <key>`.", code="invalid_api_key"
        )
    try:
        record = state.keys.verify(token)
        revoked = record is None and state.keys.is_revoked(token)
    except APIKeyError as exc:
        log.error("%s", exc)
        raise APIError(
            503,
            "API keys cannot be checked right now; try again shortly.",
            type="server_error",
            code="key_store_unavailable",
        ) from None
    if record is None:
        # Never echo the key (some servers do); the log gets no part of it either.
        log.info(
            "rejected a %s API key from %s", "revoked" if revoked else "wrong", _client(request)
        )
        raise _unauthorized(
            "This API key has been revoked." if revoked else "Incorrect API key provided.",
            code="invalid_api_key",
        )
    decision = state.limiter.check(record.id, record.rate_per_minute)
    request.state.rate = decision
    if not decision.allowed:
        log.info("rate limit: %s over %d requests/minute", record.label, decision.limit)
        raise APIError(
            429,
            f"Rate limit reached for this API key: {decision.limit} requests per minute. "
            f"Try again in {decision.retry_after_header} s.",
            type="requests",
            code="rate_limit_exceeded",
            headers={"Retry-After": decision.retry_after_header, **_rate_headers(decision)},
        )
    return record


Key = Annotated[APIKey, Depends(authenticate)]


def create_app(
    service: CatalogService, *, keys: APIKeyStore | None = None, warm_up: bool = True
) -> FastAPI:
    """The HTTP API over ``service``'s catalog. ``warm_up`` loads the embedding model before
    the server accepts requests (when the catalog holds anything), so the first shopper does
    not wait for it."""
    state = ServerState(service, keys)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # An empty catalog has nothing to search yet: the model then loads on first use.
        if warm_up and not await run_in_threadpool(service.is_empty):
            started = time.perf_counter()
            await run_in_threadpool(service.search, "warm up", 1)
            log.info("embedding model ready in %.1fs", time.perf_counter() - started)
        yield

    app = FastAPI(
        title="shopbot",
        summary="OpenAI-compatible chat completions over the shop's catalog.",
        version="1",
        lifespan=lifespan,
        # The endpoints are OpenAI's, documented there and in the README; the request body
        # is read by hand (schema.py), so a generated schema would say little.
        openapi_url=None,
        docs_url=None,
        redoc_url=None,
    )
    app.state.shopbot = state
    install_handlers(app)
    # The whole body within SHOPBOT_API_BODY_TIMEOUT, or 408 (headers: timeouts.py's
    # protocol, which `serve` runs).
    app.add_middleware(BodyTimeout, timeout=state.settings.api_body_timeout)
    if state.settings.api_cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=state.settings.api_cors_origins,
            allow_methods=["GET", "POST"],
            allow_headers=["Authorization", "Content-Type"],
            expose_headers=[
                "Retry-After",
                "X-RateLimit-Limit-Requests",
                "X-RateLimit-Remaining-Requests",
            ],
            allow_credentials=False,  # bearer keys, never cookies
            max_age=600,
        )

    @app.get("/health")
    async def health() -> dict[str, Any]:
        """Up, and what the catalog holds (no key needed)."""
        try:
            stats = await run_in_threadpool(service.stats)
        except RuntimeError as exc:
            log.warning("health: the catalog cannot be read: %s", exc)
            return JSONResponse(
                {"status": "error", "message": "The catalog store cannot be read."}, status_code=503
            )
        return {
            "status": "ok",
            **stats,
            "catalog_empty": stats["chunks"] == 0,
            "generator": await run_in_threadpool(state.models.chain_generator_name),
        }

    @app.get("/v1/models")
    async def list_models(key: Key, request: Request) -> JSONResponse:
        models = await run_in_threadpool(state.models.models)
        body = {"object": "list", "data": [m.to_dict(state.started) for m in models]}
        return JSONResponse(body, headers=_rate_headers(request.state.rate))

    @app.get("/v1/models/{model_id:path}")
    async def get_model(model_id: str, key: Key, request: Request) -> JSONResponse:
        model = await run_in_threadpool(state.models.get, model_id)
        return JSONResponse(model.to_dict(state.started), headers=_rate_headers(request.state.rate))

    @app.post("/v1/chat/completions")
    async def chat_completions(key: Key, request: Request):
        raw = await _read_body(request, state.limits.max_request_bytes)
        chat = parse_chat_request(raw, state.limits)
        model = await run_in_threadpool(state.models.get, chat.model)
        started = time.perf_counter()
        run = await run_in_threadpool(state.models.start, model, chat.question, chat.history)
        headers = _rate_headers(request.state.rate)
        completion = _Completion(chat, model, run)
        log.info(
            "chat %s model=%s stream=%s sources=%d first piece in %.0f ms",
            key.label,
            model.id,
            chat.stream,
            len(run.sources),
            (time.perf_counter() - started) * 1000,
        )
        if chat.stream:
            return StreamingResponse(
                completion.events(),
                media_type="text/event-stream",
                headers={**headers, "Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
            )
        try:
            text = await run_in_threadpool(lambda: "".join(completion.pieces()))
        except GeneratorFailed as exc:  # a raw backend that broke off mid-answer
            log.warning("answer of %s broke off: %s", model.id, exc)
            raise _broke_off() from None
        finally:
            await run_in_threadpool(run.close)
        return JSONResponse(completion.whole(text), headers=headers)

    return app


class _Completion:
    """One chat completion in OpenAI's shapes: the whole object, or the SSE chunks."""

    def __init__(self, chat: ChatRequest, model: ServedModel, run: AnswerRun) -> None:
        self.chat = chat
        self.model = model
        self.run = run
        self.id = f"chatcmpl-{uuid.uuid4().hex[:24]}"
        self.created = int(time.time())
        self.finish_reason = "stop"
        self.completion_tokens = 0

    def extra(self) -> dict[str, Any]:
        """The documented extra field: what the answer was built from."""
        return {
            "sources": [s.to_dict() for s in self.run.sources],
            "standalone_question": self.run.standalone_question,
            "generator": self.run.generator,
            # Filters read from the question ("under $150") and, for "compare A and B", the
            # products side by side from their records (None otherwise).
            "filters": self.run.filters,
            "comparison": self.run.comparison,
            # Known once the text is: empty on a stream's first chunk, complete on its last.
            "corrections": self.run.corrections,
            "flagged": self.run.flagged,
        }

    def usage(self) -> dict[str, int]:
        prompt = self.chat.prompt_tokens
        return {
            "prompt_tokens": prompt,
            "completion_tokens": self.completion_tokens,
            "total_tokens": prompt + self.completion_tokens,
        }

    def pieces(self) -> Iterator[str]:
        """The answer's pieces, cut at max_tokens (then finish_reason is "length").
        Blocking: iterated on worker threads."""
        budget = self.chat.max_tokens
        for piece in self.run.pieces:
            if not piece:
                continue
            tokens = count_tokens(piece)
            if budget is not None and self.completion_tokens + tokens > budget:
                piece = cut_to_tokens(piece, budget - self.completion_tokens)
                self.completion_tokens = budget
                self.finish_reason = "length"
                if piece:
                    yield piece
                self.run.close()
                return
            self.completion_tokens += tokens
            yield piece

    def whole(self, text: str) -> dict[str, Any]:
        return {
            "id": self.id,
            "object": "chat.completion",
            "created": self.created,
            "model": self.model.id,
            "system_fingerprint": None,
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": text.strip(), "refusal": None},
                    "logprobs": None,
                    "finish_reason": self.finish_reason,
                }
            ],
            "usage": self.usage(),
            "shopbot": {**self.extra(), "failed": self.run.failed},
        }

    def _chunk(self, delta: dict[str, Any] | None, finish: str | None = None, **extra: Any) -> str:
        """One SSE event; ``delta=None`` gives the usage chunk's empty ``choices``."""
        choices = (
            []
            if delta is None
            else [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}]
        )
        payload = {
            "id": self.id,
            "object": "chat.completion.chunk",
            "created": self.created,
            "model": self.model.id,
            "system_fingerprint": None,
            "choices": choices,
            **extra,
        }
        return f"data: {json.dumps(payload, ensure_ascii=False)}\n\n"

    async def events(self) -> AsyncIterator[str]:
        """SSE: a first chunk with the role and the sources, the text, a last chunk with the
        finish reason, usage when asked for, then ``data: [DONE]``. A backend that fails
        mid-answer ends the stream with an ``error`` event, as OpenAI's streams do."""
        try:
            yield self._chunk({"role": "assistant", "content": ""}, shopbot=self.extra())
            try:
                async for piece in iterate_in_threadpool(self.pieces()):
                    yield self._chunk({"content": piece})
            except GeneratorFailed as exc:  # a raw backend that broke off mid-answer
                log.warning("stream of %s broke off: %s", self.model.id, exc)
                yield f"data: {json.dumps(_broke_off().body())}\n\n"
                return
            yield self._chunk(
                {},
                self.finish_reason,
                shopbot={
                    "failed": self.run.failed,
                    "corrections": self.run.corrections,
                    "flagged": self.run.flagged,
                },
            )
            if self.chat.include_usage:
                yield self._chunk(None, usage=self.usage())
            yield "data: [DONE]\n\n"
        finally:
            self.run.close()


async def _read_body(request: Request, limit: int) -> bytes:
    """The request body, or 413 once it passes ``limit`` bytes (the Content-Length is
    checked first, so a declared giant is refused before it is read)."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise _too_large(int(declared), limit)
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise _too_large(size, limit)
        chunks.append(chunk)
    return b"".join(chunks)


def _too_large(size: int, limit: int) -> APIError:
    return APIError(
        413,
        f"The request body is too large ({size:,} bytes or more): at most {limit:,} bytes "
        "(SHOPBOT_API_MAX_REQUEST_KB). Send fewer or shorter messages.",
        code="request_too_large",
    )


def _broke_off() -> APIError:
    return APIError(
        502,
        "The model failed while answering; retry.",
        type="server_error",
        code="generator_failed",
    )


def _unauthorized(message: str, code: str) -> APIError:
    return APIError(401, message, code=code, headers={"WWW-Authenticate": "Bearer"})


def _rate_headers(decision: Decision | None) -> dict[str, str]:
    if decision is None or decision.limit <= 0:
        return {}
    return {
        "X-RateLimit-Limit-Requests": str(decision.limit),
        "X-RateLimit-Remaining-Requests": str(decision.remaining),
    }


def _client(request: Request) -> str:
    return request.client.host if request.client else "?"
