"""The Streamlit app against a determined guesser and against its own failures, headless with
AppTest: a new browser session (or a new app process) gets no fresh password guesses, and an
error while answering shows the shopper a short message while the server's log gets the
traceback; Streamlit itself is configured to show no error details."""

from __future__ import annotations

import os
import subprocess
import sys
import tomllib

import pytest
from streamlit.testing.v1 import AppTest

from shopbot.auth import hash_password
from tests.conftest import ROOT

PASSWORD = "correct horse battery"
APP = str(ROOT / "app.py")
SECRET_IN_ERROR = "postgresql://shop:hunter2@db.internal/shop"
SORRY = "Sorry, something went wrong on our side."


@pytest.fixture
def app_env(monkeypatch, tmp_path):
    """An app over an empty data dir (nothing is ingested: these tests need no catalog)."""
    for key in [k for k in os.environ if k.startswith(("SHOPBOT_", "OPENAI_"))]:
        monkeypatch.delenv(key)
    monkeypatch.setenv("SHOPBOT_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("SHOPBOT_SEED_DEMO_CATALOG", "false")
    monkeypatch.setenv("SHOPBOT_GENERATOR", "extractive")
    monkeypatch.setenv("SHOPBOT_STAFF_PASSWORD_HASH", hash_password(PASSWORD, rounds=4))
    import streamlit as st

    st.cache_resource.clear()  # fresh process-wide objects for these settings
    yield tmp_path / "data"
    st.cache_resource.clear()


def new_session() -> AppTest:
    at = AppTest.from_file(APP, default_timeout=120)
    at.run()
    assert not at.exception, at.exception
    return at


def sign_in(at: AppTest, password: str) -> str:
    """Submit the staff form; returns the error shown ("" if none)."""
    at.switch_page("pages/staff.py").run()
    at.text_input[0].input(password)
    at.button[0].click().run()  # the form's submit button
    assert not at.exception, at.exception
    return at.error[0].value if at.error else ""


def signed_in(at: AppTest) -> bool:
    return "staff" in at.session_state and at.session_state["staff"] is True


def test_a_new_session_or_app_process_gets_no_fresh_guesses(app_env):
    guesser = new_session()
    for n in range(4):
        assert sign_in(guesser, f"guess number {n}") == "Wrong password."
    assert "Too many failed attempts" in sign_in(guesser, "guess number 4")

    # A new browser session (the guesser's next tab, or anyone else) gets no guess at all,
    # even with the right password: the staff account is locked.
    fresh = new_session()
    assert "Too many failed attempts" in sign_in(fresh, PASSWORD)
    assert not signed_in(fresh)

    # Nor does a new app process on the same data dir (a replica, a restart): the failures
    # are in the feedback database, not in the process's memory.
    import streamlit as st

    st.cache_resource.clear()
    after_restart = new_session()
    assert "Too many failed attempts" in sign_in(after_restart, PASSWORD)
    assert not signed_in(after_restart)
    assert (app_env / "feedback.db").is_file()


def test_streamlit_is_configured_to_show_no_error_details():
    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())
    assert config["client"]["showErrorDetails"] == "none"
    from streamlit.config import ShowErrorDetailsConfigOptions

    assert "none" in {option.value for option in ShowErrorDetailsConfigOptions}
    # Streamlit reads it from the project's config file as `streamlit run app.py` would.
    shown = subprocess.run(
        [sys.executable, "-m", "streamlit", "config", "show"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "STREAMLIT_CLIENT_SHOW_ERROR_DETAILS": ""},
    )
    assert shown.returncode == 0, shown.stderr
    block = shown.stdout.split("showErrorDetails =", 1)[1].splitlines()[0]
    assert block.strip() == '"none"', block


def all_text(at: AppTest) -> str:
    """Every piece of text the page shows (labels, markdown, errors, exceptions, code)."""
    texts: list[str] = []

    def walk(node) -> None:
        for name in ("value", "body", "label", "message", "stack_trace", "placeholder"):
            value = getattr(node, name, None)
            if isinstance(value, str):
                texts.append(value)
            elif isinstance(value, list):
                texts.extend(str(v) for v in value)
        proto = getattr(node, "proto", None)
        if proto is not None:
            texts.append(str(proto))
        for child in getattr(node, "children", {}).values():
            walk(child)

    walk(at._tree)
    return "\n".join(texts)


def test_an_error_while_answering_shows_a_short_message_and_logs_the_traceback(
    app_env, monkeypatch, caplog
):
    from shopbot.chain import ShopAssistant

    def broken_stream(self, question, history=(), constraints=None):
        raise RuntimeError(f"cannot reach {SECRET_IN_ERROR}")

    monkeypatch.setattr(ShopAssistant, "stream", broken_stream)
    at = new_session()
    with caplog.at_level("ERROR", logger="shopbot.app"):
        at.chat_input[0].set_value("How much is the Alpine 2 Tent?").run()

    assert not at.exception, at.exception
    message = at.error[0].value
    assert message.startswith(SORRY)
    shown = all_text(at)
    assert "How much is the Alpine 2 Tent?" in shown and SORRY in shown  # it sees the page
    for detail in ("Traceback", "RuntimeError", SECRET_IN_ERROR, "hunter2", "broken_stream"):
        assert detail not in shown, detail
    assert at.chat_input, "the shopper can ask again"

    assert at.session_state["messages"] == []  # the unanswered question left the history

    assert_logged(caplog, "unexpected error while answering", message)


def assert_logged(caplog, what: str, shown_message: str) -> None:
    """The error is in the log with its traceback, under the reference the user saw."""
    record = next(r for r in caplog.records if r.name == "shopbot.app")
    assert record.levelname == "ERROR" and record.exc_info is not None
    assert what in record.getMessage()
    reference = shown_message.rsplit("reference ", 1)[1].rstrip(").")
    assert len(reference) == 8 and reference in record.getMessage()
    assert "RuntimeError" in caplog.text and "Traceback" in caplog.text
    assert SECRET_IN_ERROR in caplog.text  # the details are in the log, not the page


def test_an_error_anywhere_on_a_page_shows_a_short_message_and_is_logged(
    app_env, monkeypatch, caplog
):
    """app.py catches what a page did not expect (here: the store breaks while the chat
    page draws), so even then the page shows a short message and no details."""
    from shopbot.service import CatalogService

    def broken_store(self):
        raise RuntimeError(f"cannot reach {SECRET_IN_ERROR}")

    monkeypatch.setattr(CatalogService, "is_empty", broken_store)
    at = AppTest.from_file(APP, default_timeout=120)
    with caplog.at_level("ERROR", logger="shopbot.app"):
        at.run()

    assert not at.exception, at.exception
    message = at.error[0].value
    assert message.startswith(SORRY)
    shown = all_text(at)
    assert SORRY in shown
    for detail in ("Traceback", "RuntimeError", SECRET_IN_ERROR, "broken_store"):
        assert detail not in shown, detail
    assert_logged(caplog, "unexpected error on the Chat page", message)
