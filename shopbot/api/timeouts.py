"""Read timeouts for the served API, so a client that sends half a request and stalls cannot
hold a connection (and its memory) for ever.

uvicorn (0.54) has a keep-alive timeout between requests but no timeout for reading a
request: a connection that sends part of its headers, or headers and part of a body, and
then nothing, stays open until the client goes away. Two pieces close that gap:

- :class:`BodyTimeout`, an ASGI middleware: the whole request body must arrive within
  ``SHOPBOT_API_BODY_TIMEOUT`` seconds of the request reaching the app (a total, not a
  per-chunk limit, so trickling a byte at a time does not reset it). A late body gets
  OpenAI-style ``408 request_timeout`` and ``Connection: close``.
- :func:`timed_http_protocol`, uvicorn's httptools protocol with a header timeout: from a
  new connection's start, or a request's first byte, its headers must be complete within
  ``SHOPBOT_API_HEADER_TIMEOUT`` seconds. A connection that sent nothing is closed; one
  that sent part of a request gets 408 first. It also closes a connection whose body
  nobody read (the app answered before it, e.g. 401) if that body is still not complete
  ``SHOPBOT_API_BODY_TIMEOUT`` seconds after the answer.

Other connections are served meanwhile: every wait is a timer on the event loop.
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

from shopbot.api.errors import APIError, error_body

log = logging.getLogger("shopbot.api")

REQUEST_TIMEOUT_CODE = "request_timeout"


def _timeout_message(what: str, seconds: float, setting: str) -> str:
    return (
        f"The request's {what} did not arrive within {seconds:g} s ({setting}); the "
        "connection is closed. Send the whole request at once."
    )


class BodyTimeout:
    """ASGI middleware: the request body must be complete within ``timeout`` seconds of the
    request reaching the app, or the app's read raises :class:`APIError` 408 (which the
    app's error handler turns into the response, with ``Connection: close``)."""

    def __init__(self, app: Any, timeout: float) -> None:
        self.app = app
        self.timeout = timeout

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.timeout
        body_done = False

        async def timed_receive() -> dict[str, Any]:
            nonlocal body_done
            if body_done:  # e.g. a streaming response listening for the disconnect
                return await receive()
            try:
                message = await asyncio.wait_for(receive(), max(0.0, deadline - loop.time()))
            except TimeoutError:
                body_done = True
                client = scope.get("client")
                log.info(
                    "408: the body of %s %s from %s did not arrive within %g s",
                    scope.get("method"),
                    scope.get("path"),
                    client[0] if client else "?",
                    self.timeout,
                )
                raise APIError(
                    408,
                    _timeout_message("body", self.timeout, "SHOPBOT_API_BODY_TIMEOUT"),
                    code=REQUEST_TIMEOUT_CODE,
                    headers={"Connection": "close"},
                ) from None
            if message.get("type") != "http.request" or not message.get("more_body", False):
                body_done = True
            return message

        await self.app(scope, timed_receive, send)


def timed_http_protocol(header_timeout: float, body_timeout: float) -> type:
    """uvicorn's httptools HTTP/1.1 protocol with a header read timeout (see the module's
    text); pass it as ``uvicorn.run(..., http=...)``. Imports uvicorn: call it only when
    serving."""
    from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

    class TimedHttpToolsProtocol(HttpToolsProtocol):
        _read_timer: asyncio.TimerHandle | None = None
        _body_pending = False  # headers in, body not yet complete

        def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
            super().connection_made(transport)
            self._arm(header_timeout, self._headers_late, False)

        def connection_lost(self, exc: Exception | None) -> None:
            self._disarm()
            super().connection_lost(exc)

        # httptools parser callbacks
        def on_message_begin(self) -> None:
            super().on_message_begin()
            self._body_pending = False
            self._arm(header_timeout, self._headers_late, True)

        def on_headers_complete(self) -> None:
            self._disarm()
            self._body_pending = True
            super().on_headers_complete()

        def on_message_complete(self) -> None:
            self._body_pending = False
            self._disarm()
            super().on_message_complete()

        def on_response_complete(self) -> None:
            super().on_response_complete()
            if self._body_pending and not self.transport.is_closing():
                # Answered before the body was read (401, 404, ...): wait for the rest of
                # the body no longer than a body may take.
                self._arm(body_timeout, self._body_late)

        # timers
        def _arm(self, delay: float, callback: Any, *args: Any) -> None:
            self._disarm()
            self._read_timer = self.loop.call_later(delay, callback, *args)

        def _disarm(self) -> None:
            if self._read_timer is not None:
                self._read_timer.cancel()
                self._read_timer = None

        def _headers_late(self, started: bool) -> None:
            self._read_timer = None
            if self.transport.is_closing():
                return
            peer = self.client[0] if self.client else "?"
            if not started:  # connected and sent nothing
                log.info("closed an idle connection from %s after %g s", peer, header_timeout)
                self.transport.close()
                return
            log.info(
                "408: the request headers from %s did not arrive within %g s",
                peer,
                header_timeout,
            )
            self._send_408(_timeout_message("headers", header_timeout, "SHOPBOT_API_HEADER_TIMEOUT"))

        def _body_late(self) -> None:
            self._read_timer = None
            if self._body_pending and not self.transport.is_closing():
                log.info(
                    "closed a connection from %s: an unread request body did not arrive "
                    "within %g s",
                    self.client[0] if self.client else "?",
                    body_timeout,
                )
                self.transport.close()

        def _send_408(self, message: str) -> None:
            body = json.dumps(error_body(message, code=REQUEST_TIMEOUT_CODE)).encode()
            self.transport.write(
                b"HTTP/1.1 408 Request Timeout\r\n"
                b"content-type: application/json\r\n"
                b"content-length: " + str(len(body)).encode("ascii") + b"\r\n"
                b"connection: close\r\n\r\n" + body
            )
            self.transport.close()

    return TimedHttpToolsProtocol
