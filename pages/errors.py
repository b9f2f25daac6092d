"""Unexpected errors on a page: a short message for the user, the traceback for the server's
log. Streamlit shows no error details in the browser (`showErrorDetails = "none"` in
.streamlit/config.toml); this keeps the page usable and says what to do."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import streamlit as st

log = logging.getLogger("shopbot.app")

SORRY = "Sorry, something went wrong on our side."


def report_error(what: str) -> str:
    """Log the exception being handled (with its traceback) and show a short message with
    a reference that staff can find in the log; returns the reference."""
    reference = uuid.uuid4().hex[:8]
    log.exception("unexpected error %s (reference %s)", what, reference)
    st.error(
        f"{SORRY} Please try again in a moment; if it keeps happening, tell the shop's "
        f"staff (reference {reference})."
    )
    return reference


@contextmanager
def friendly_errors(what: str, on_error: Callable[[], None] | None = None) -> Iterator[None]:
    """Run the block; an Exception in it is logged and replaced by a short message, and
    the page goes on below the block. ``on_error`` then undoes what the block left half
    done. st.stop() and st.rerun() are not Exceptions: they pass through."""
    try:
        yield
    except Exception:
        report_error(what)
        if on_error is not None:
            on_error()
