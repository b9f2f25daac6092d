"""The Streamlit app, headless with AppTest (every page), and the real server started as a
user would start it."""

from __future__ import annotations

import os
import re
import shutil
import urllib.request

import pytest
from streamlit.testing.v1 import AppTest

from shopbot.auth import hash_password
from tests.conftest import CATALOG_DIR, ROOT, wait_until
from tests.live_app import server_env, streamlit_server

PASSWORD = "correct horse battery"
APP = str(ROOT / "app.py")


@pytest.fixture
def small_catalog(tmp_path):
    folder = tmp_path / "catalog"
    folder.mkdir()
    shutil.copy(CATALOG_DIR / "faq.md", folder)
    shutil.copy(CATALOG_DIR / "new_arrivals.jsonl", folder)
    return folder


@pytest.fixture(scope="module")
def password_hash():
    return hash_password(PASSWORD)


@pytest.fixture
def app_env(monkeypatch, tmp_path, small_catalog, password_hash):
    for key in [k for k in os.environ if k.startswith("SHOPBOT_") or k.startswith("OPENAI_")]:
        monkeypatch.delenv(key)
    monkeypatch.setenv("SHOPBOT_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("SHOPBOT_CATALOG_DIR", str(small_catalog))
    monkeypatch.setenv("SHOPBOT_GENERATOR", "extractive")
    monkeypatch.setenv("SHOPBOT_STAFF_PASSWORD_HASH", password_hash)
    import streamlit as st

    st.cache_resource.clear()  # fresh process-wide objects for these settings
    yield tmp_path / "data"
    st.cache_resource.clear()


def new_app(timeout: float = 120) -> AppTest:
    """The app after its first run, with the demo catalog in. The app seeds it in a
    background thread of the process (its first run starts that and returns at once); here
    the same thread is started and waited for first, so the run finds the catalog complete."""
    from pages.common import catalog_service

    seeding = catalog_service().start_seeding()
    if seeding is not None:
        seeding.join(timeout)
    at = AppTest.from_file(APP, default_timeout=timeout)
    at.run()
    assert not at.exception, at.exception
    return at


def shown(markdown: str) -> str:
    """What a reader sees of escaped Markdown ("\\$64.95" reads "$64.95")."""
    return re.sub(r"\\(.)", r"\1", markdown)


def ask(at: AppTest, question: str) -> str:
    at.chat_input[0].set_value(question).run()
    assert not at.exception, at.exception
    return shown(at.chat_message[-1].markdown[0].value)


def click_ingest(at: AppTest, timeout: float = 120) -> AppTest:
    """Press "Ingest" on the Catalog page; the files are ingested in the background (the
    page shows their progress): wait for the queue, then draw the page with the results."""
    from pages.common import catalog_service

    next(b for b in at.button if b.label == "Ingest").click().run()
    assert not at.exception, at.exception
    queue = catalog_service().ingest_queue
    wait_until(lambda: not any(job.active for job in queue.jobs()), timeout, "the ingest")
    at.run()
    assert not at.exception, at.exception
    return at


def sign_in(at: AppTest, password: str = PASSWORD) -> AppTest:
    at.switch_page("pages/staff.py").run()
    at.text_input[0].input(password)
    at.button[0].click().run()  # the form's submit button
    assert not at.exception, at.exception
    return at


def test_first_start_seeds_in_the_background_and_says_so_until_complete(app_env):
    from pages.common import catalog_service

    service = catalog_service()
    # Another writer holds the store, so the seeding (started by the first visit, in a
    # server thread) is still at 0 of 2 files while this visitor looks and asks.
    with service.store.writing():
        at = AppTest.from_file(APP, default_timeout=60)
        at.run()
        assert not at.exception, at.exception
        notice = " ".join(i.value for i in at.info)
        assert "still setting up the catalog (0 of 2 files loaded)" in notice, notice
        assert "catalog is empty" not in notice
        at.chat_input[0].set_value("How much is the Halo 500 Rechargeable Lantern?").run()
        captions = " ".join(c.value for c in at.chat_message[-1].caption)
        assert "still setting up the catalog" in captions
        # A second visitor (another session) sees the same progress.
        other = AppTest.from_file(APP, default_timeout=60)
        other.run()
        assert any("still setting up the catalog" in i.value for i in other.info)

    wait_until(lambda: not service.seeding_needed(), 120, "seeding the demo catalog")
    assert service.seeding_state()["done"] == 2
    at = new_app()
    assert not any("setting up" in i.value for i in at.info)
    assert at.button_group, "starter questions on an empty chat"

    answer = ask(at, "How much is the Halo 500 Rechargeable Lantern?")
    assert "$64.95" in answer and "[1]" in answer
    assert shown(at.chat_message[0].markdown[0].value) == "How much is the Halo 500 Rechargeable Lantern?"
    cards = shown(" ".join(c.value for c in at.chat_message[-1].caption))
    assert "$64.95" in cards and "In stock" in cards  # the product card

    follow_up = ask(at, "is it in stock?")
    assert "Halo 500" in follow_up

    next(b for b in at.button if b.label == "New chat").click().run()
    assert not at.chat_message

    # a second visitor finds the catalog in place: no second ingestion
    again = new_app(60)
    assert not again.status


def chips(at: AppTest) -> list[str]:
    return [shown(b.label) for b in at.button if str(b.key or "").startswith("drop-filter-")]


def test_filters_stay_on_as_chips_until_removed(app_env):
    at = new_app()
    answer = ask(at, "Emberline gear under $100")
    assert "Halo 500" in answer and "Sunfold 28 W" not in answer  # $149 is over the budget
    assert chips(at) == ["under $100", "brand: Emberline"]

    # A new subject is not filtered by the old budget unless the shopper refers to it, and
    # the answer says which remembered filter it used. No Emberline camp accessory exists
    # under $100, so the bot says so and labels what it shows instead.
    answer = ask(at, "any Emberline camp accessories in the same budget?")
    assert answer.startswith("Using your earlier filters: under $100.")
    assert "Nothing in our catalog matches under $100, brand: Emberline" in answer
    cards = shown(" ".join(c.value for c in at.chat_message[-1].caption))
    assert "Closest match" in cards
    assert chips(at) == ["under $100", "brand: Emberline"]

    next(b for b in at.button if b.key == "drop-filter-brand: Emberline").click().run()
    assert chips(at) == ["under $100"]
    answer = ask(at, "camp accessories in the same budget")
    assert "Nothing in our catalog matches" not in answer
    assert "Skyhook Packable Hammock" in answer  # $59.95, by Talusworks

    # The cards are the records the answer cites, no others.
    message = at.session_state["messages"][-1]
    cited = {int(n) for n in re.findall(r"\[(\d+)\]", message["content"])}
    titles = {s["title"] for n, s in enumerate(message["sources"], 1) if n in cited}
    uncited = {s["title"] for s in message["sources"]} - titles
    cards = {
        shown(m.value).split("**")[1]
        for m in at.chat_message[-1].markdown
        if m.value.startswith("**")
    }
    assert cards == titles and cards, (cards, titles, uncited)

    next(b for b in at.button if b.label == "New chat").click().run()
    assert chips(at) == []


def test_thumbs_and_comment_are_saved_with_the_answer(app_env):
    at = new_app()
    ask(at, "How long do I have to return an item?")
    at.feedback[0].set_value(0).run()  # thumbs down
    assert not at.exception, at.exception
    at.text_input[0].input("I wanted to know about worn boots").run()
    from shopbot.feedback import FeedbackStore
    from tests.conftest import make_settings

    (vote,) = FeedbackStore.from_settings(make_settings(data_dir=app_env)).list()
    assert vote.question == "How long do I have to return an item?"
    assert "30 days" in vote.answer and vote.rating == -1 and vote.generator == "extractive"
    assert vote.comment == "I wanted to know about worn boots"
    assert "faq.md" in {s["source"] for s in vote.sources}
    assert (app_env / "feedback.db").is_file()


def test_staff_pages_are_hidden_and_refused_without_login(app_env):
    at = new_app()
    for page in ("pages/catalog.py", "pages/model.py"):
        with pytest.raises(ValueError, match="Could not find a navigation page"):
            at.switch_page(page)  # not in the navigation at all for a shopper
    at.switch_page("pages/staff.py").run()
    assert not at.file_uploader and not at.selectbox


def test_wrong_password_is_refused_and_slowed_down(app_env):
    at = new_app()
    sign_in(at, "not the password")
    assert at.error and "password" in at.error[0].value.lower()
    for _ in range(5):
        sign_in(at, "still wrong")
    sign_in(at, PASSWORD)  # locked now: even the right password waits out the lockout
    assert "Too many failed attempts" in at.error[0].value
    assert not at.success
    assert "staff" not in at.session_state or at.session_state["staff"] is not True


def test_upload_makes_it_answerable_and_delete_forgets_it(app_env):
    at = new_app()
    sign_in(at)
    assert at.success, "signed in"
    at.switch_page("pages/catalog.py").run()
    csv = b'SKU,Title,Price,Brand,Category\nKY-1,Riverlight Touring Kayak,"$1,099.00",Ridgeline,Boats | Kayaks\n'
    at.file_uploader[0].set_value([("kayaks.csv", csv, "text/csv"), ("empty.csv", b"", "text/csv")]).run()
    click_ingest(at)
    table = at.dataframe[0].value
    results = dict(zip(table["file"], table["result"]))
    assert results == {"kayaks.csv": "added", "empty.csv": "failed"}

    at.switch_page("pages/chat.py").run()
    assert "$1,099.00" in ask(at, "How much is the Riverlight Touring Kayak?")

    at.switch_page("pages/catalog.py").run()
    at.selectbox(key="doc_choice").select_index(
        next(i for i, o in enumerate(at.selectbox(key="doc_choice").options) if o == "kayaks.csv")
    ).run()
    at.checkbox[0].check().run()
    next(b for b in at.button if b.label == "Delete document").click().run()
    assert not at.exception, at.exception
    at.switch_page("pages/chat.py").run()
    assert "couldn't find that in our catalog" in ask(at, "Do you sell kayaks?")


def test_model_page_shows_the_active_generator_and_answers_a_test_question(app_env):
    at = new_app()
    sign_in(at)
    at.switch_page("pages/model.py").run()
    assert not at.exception, at.exception
    assert "extractive" in at.info[0].value
    next(b for b in at.button if b.label == "Ask").click().run()
    assert not at.exception, at.exception
    assert any("answered in" in s.value for s in at.success)


def test_streamlit_run_serves_the_app(tmp_path, small_catalog):
    env = server_env(SHOPBOT_DATA_DIR=str(tmp_path / "data"), SHOPBOT_CATALOG_DIR=str(small_catalog))
    with streamlit_server(env, tmp_path / "server.log") as server:
        assert urllib.request.urlopen(server.url, timeout=10).status == 200
    assert "Traceback" not in server.log(), server.log()
