"""OpenAI-style errors: ``{"error": {"message", "type", "param", "code"}}`` with the right
HTTP status, for every way a request can fail, so any OpenAI client raises its usual
exception (BadRequestError, AuthenticationError, NotFoundError, RateLimitError, ...)."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

log = logging.getLogger("shopbot.api")

INVALID_REQUEST = "invalid_request_error"


class APIError(Exception):
    """Raised anywhere in a request; becomes the error response."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        type: str = INVALID_REQUEST,
        param: str | None = None,
        code: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.type = type
        self.param = param
        self.code = code
        self.headers = dict(headers or {})

    def body(self) -> dict[str, Any]:
        return error_body(self.message, self.type, self.param, self.code)

    def response(self):
        from starlette.responses import JSONResponse

        return JSONResponse(self.body(), status_code=self.status, headers=self.headers)


def error_body(
    message: str, type: str = INVALID_REQUEST, param: str | None = None, code: str | None = None
) -> dict[str, Any]:
    return {"error": {"message": message, "type": type, "param": param, "code": code}}


def install_handlers(app) -> None:
    """Turn FastAPI's and Starlette's own errors (no such route, wrong method, anything
    unexpected) into the same error shape."""
    from fastapi.exceptions import RequestValidationError
    from starlette.exceptions import HTTPException

    async def on_api_error(request, exc: APIError):
        return exc.response()

    async def on_http_error(request, exc: HTTPException):
        codes = {404: "not_found", 405: "method_not_allowed", 413: "request_too_large"}
        message = {
            404: f"No such endpoint: {request.method} {request.url.path}. This server has "
            "POST /v1/chat/completions, GET /v1/models and GET /health.",
            405: f"{request.method} is not allowed on {request.url.path}.",
        }.get(exc.status_code, str(exc.detail))
        return APIError(
            exc.status_code, message, code=codes.get(exc.status_code), headers=exc.headers
        ).response()

    async def on_validation_error(request, exc: RequestValidationError):
        first = exc.errors()[0] if exc.errors() else {}
        param = ".".join(str(p) for p in first.get("loc", ())[1:]) or None
        return APIError(400, str(first.get("msg", "invalid request")), param=param).response()

    async def on_unexpected(request, exc: Exception):
        log.exception(
            "unexpected %s on %s %s", type(exc).__name__, request.method, request.url.path
        )
        return APIError(
            500,
            "The server had an error while processing your request. Retry, and if it "
            "persists look at the server's log.",
            type="server_error",
            code="internal_error",
        ).response()

    app.add_exception_handler(APIError, on_api_error)
    app.add_exception_handler(HTTPException, on_http_error)
    app.add_exception_handler(RequestValidationError, on_validation_error)
    app.add_exception_handler(Exception, on_unexpected)
