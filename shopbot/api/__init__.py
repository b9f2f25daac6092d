"""The HTTP API: an OpenAI-compatible server for the shop bot and our local models.

    python -m shopbot serve [--host 127.0.0.1] [--port 8000]

``POST /v1/chat/completions`` (whole or streamed as server-sent events), ``GET /v1/models``
and ``GET /health``; bearer API keys from :mod:`shopbot.apikeys`. Which models are served
and how each answers: :mod:`shopbot.api.models`. Requests are checked in
:mod:`shopbot.api.schema`; every error has OpenAI's shape (:mod:`shopbot.api.errors`).
FastAPI is imported only here, so the rest of shopbot works without it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from fastapi import FastAPI

    from shopbot.apikeys import APIKeyStore
    from shopbot.service import CatalogService


def create_app(
    service: CatalogService, *, keys: APIKeyStore | None = None, warm_up: bool = True
) -> FastAPI:
    """The FastAPI app over ``service``'s catalog (see :func:`shopbot.api.app.create_app`)."""
    from shopbot.api.app import create_app as _create_app

    return _create_app(service, keys=keys, warm_up=warm_up)


__all__ = ["create_app"]
