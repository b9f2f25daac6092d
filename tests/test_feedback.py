"""Thumbs up/down on answers, stored in real SQLite files through SQLAlchemy."""

from __future__ import annotations

import json
import sqlite3
import threading
from datetime import datetime, timedelta, timezone

import pytest

from shopbot.chain import Answer
from shopbot.feedback import FeedbackRecord, FeedbackStore, FeedbackStoreError
from shopbot.retrieval import Source
from tests.conftest import make_settings

TENT = Source(
    id="P-100",
    title="Alpine 2 Tent",
    price=249.0,
    currency="USD",
    category="Tents",
    brand="Summit",
    url="https://shop.example/p/alpine-2",
    source="products.csv",
    snippet="Two-person tent, 2.1 kg.",
    score=0.91,
    stock=12,
    text="the whole chunk text, not stored",
)
FAQ = Source(
    id="faq#returns",
    title="FAQ",
    price=None,
    currency=None,
    category="",
    brand="",
    url="",
    source="faq.md",
    snippet="Unused items can be returned within 30 days.",
    score=0.55,
    kind="passage",
    section="Returns",
)


@pytest.fixture
def store(tmp_path):
    store = FeedbackStore.from_settings(make_settings(data_dir=tmp_path / "data"))
    yield store
    store.close()


def vote(store: FeedbackStore, rating: int = 1, **overrides) -> int:
    fields = dict(
        question="and in green?",
        standalone_question="Is the Alpine 2 Tent available in green?",
        answer="Yes, the Alpine 2 Tent comes in green for $249.00 [1].",
        rating=rating,
        sources=[TENT, FAQ],
        generator="extractive",
        session_id="session-a",
    )
    fields.update(overrides)
    return store.record(**fields)


def test_a_vote_round_trips_with_its_sources_in_a_sqlite_file_under_the_data_dir(tmp_path):
    settings = make_settings(data_dir=tmp_path / "data")
    store = FeedbackStore.from_settings(settings)
    before = datetime.now(timezone.utc)
    feedback_id = vote(store, comment="  Exactly what I needed  ")
    store.close()

    assert (tmp_path / "data" / "feedback.db").is_file()
    reopened = FeedbackStore.from_settings(settings)  # a new process would see the same
    [record] = reopened.list()
    assert isinstance(record, FeedbackRecord)
    assert record.id == feedback_id
    assert record.rating == 1
    assert record.comment == "Exactly what I needed"
    assert record.question == "and in green?"
    assert record.standalone_question == "Is the Alpine 2 Tent available in green?"
    assert record.answer.startswith("Yes, the Alpine 2 Tent")
    assert record.generator == "extractive"
    assert record.session_id == "session-a"
    assert record.sources == [TENT.to_dict(), FAQ.to_dict()]
    assert "text" not in record.sources[0]  # the chunk text stays in the catalog
    assert record.created_at.tzinfo is not None
    assert before - timedelta(seconds=1) <= record.created_at <= datetime.now(timezone.utc)
    assert record.updated_at is None
    assert reopened.get(feedback_id) == record
    assert reopened.get(feedback_id + 1) is None

    # The sources are JSON in the database, readable without shopbot.
    with sqlite3.connect(tmp_path / "data" / "feedback.db") as db:
        (raw,) = db.execute("SELECT sources FROM shopbot_feedback").fetchone()
    assert json.loads(raw)[0]["title"] == "Alpine 2 Tent"
    reopened.close()


def test_an_answer_from_the_chain_is_recorded_as_is(store):
    answer = Answer(
        text="The Alpine 2 Tent costs $249.00 [1].",
        sources=[TENT],
        question="how much is it?",
        standalone_question="How much is the Alpine 2 Tent?",
        generator="openai",
    )
    feedback_id = store.record_answer(answer, -1, session_id="s-1", comment="wrong price")
    record = store.get(feedback_id)
    assert (record.question, record.standalone_question, record.answer, record.generator) == (
        answer.question,
        answer.standalone_question,
        answer.text,
        "openai",
    )
    assert record.sources == [TENT.to_dict()]
    assert (record.rating, record.comment, record.session_id) == (-1, "wrong price", "s-1")


def test_a_shopper_can_change_their_vote(store):
    feedback_id = vote(store, rating=1, comment="great")
    other = vote(store, rating=1, session_id="session-b")

    assert store.update(feedback_id, -1) is True
    record = store.get(feedback_id)
    assert (record.rating, record.comment) == (-1, "great")  # comment=None keeps it
    assert record.updated_at is not None and record.updated_at >= record.created_at

    assert store.update(feedback_id, -1, "it is out of stock in green")
    assert store.get(feedback_id).comment == "it is out of stock in green"
    assert store.update(feedback_id, 1, "")
    assert (store.get(feedback_id).rating, store.get(feedback_id).comment) == (1, "")

    # Only the session that voted may change the vote, when the caller says which one.
    assert store.update(other, -1, session_id="session-a") is False
    assert store.get(other).rating == 1
    assert store.update(other, -1, session_id="session-b") is True
    assert store.update(9999, 1) is False
    assert store.count() == 2


@pytest.mark.parametrize("rating", [0, 2, -2, True, "1", 1.0, None])
def test_a_rating_other_than_up_or_down_is_refused(store, rating):
    with pytest.raises(ValueError, match=r"rating must be 1 \(thumbs up\) or -1 \(thumbs down\)"):
        vote(store, rating=rating)
    feedback_id = vote(store)
    with pytest.raises(ValueError, match="rating must be 1"):
        store.update(feedback_id, rating)
    assert store.get(feedback_id).rating == 1


def test_comments_are_limited_to_2000_characters(store):
    feedback_id = vote(store, comment="x" * 2000)
    assert len(store.get(feedback_id).comment) == 2000
    too_long = "comment is too long: 2,001 characters; the limit is 2,000"
    with pytest.raises(ValueError, match=too_long):
        vote(store, comment="y" * 2001)
    with pytest.raises(ValueError, match="comment is too long"):
        store.update(feedback_id, -1, "z" * 5000)
    assert store.get(feedback_id).comment == "x" * 2000
    assert store.count() == 1


def test_other_bad_input_is_refused_with_a_clear_message(store):
    with pytest.raises(ValueError, match="question is empty"):
        vote(store, question="  ")
    with pytest.raises(ValueError, match="session_id is too long"):
        vote(store, session_id="s" * 129)
    with pytest.raises(ValueError, match="JSON-serialisable"):
        vote(store, sources=[{"title": object()}])
    with pytest.raises(ValueError, match="limit must be at least 1"):
        store.list(limit=0)
    assert store.count() == 0


def test_list_filters_by_rating_newest_first(store):
    ids = [vote(store, rating=r, question=f"q{i}") for i, r in enumerate([1, -1, 1, 1, -1])]
    assert [r.id for r in store.list()] == ids[::-1]
    assert [r.id for r in store.list(limit=2)] == ids[:2:-1]
    assert [r.question for r in store.list(rating=-1)] == ["q4", "q1"]
    assert [r.question for r in store.list(rating=1, limit=2)] == ["q3", "q2"]
    assert (store.count(), store.count(rating=1), store.count(rating=-1)) == (5, 3, 2)


def test_sessions_on_many_threads_share_one_store(tmp_path):
    store = FeedbackStore.from_settings(make_settings(data_dir=tmp_path / "data"))
    threads, per_thread = 8, 25
    ids: list[int] = []
    errors: list[BaseException] = []
    start = threading.Barrier(threads)
    lock = threading.Lock()

    def shopper(n: int) -> None:
        try:
            start.wait()
            mine = []
            for i in range(per_thread):
                mine.append(vote(store, rating=1, question=f"t{n} q{i}", session_id=f"t{n}"))
                if i % 5 == 0:
                    assert store.update(mine[-1], -1, f"changed by {n}", session_id=f"t{n}")
                store.count()
            with lock:
                ids.extend(mine)
        except BaseException as exc:  # surfaced below, with the thread's traceback
            errors.append(exc)

    workers = [threading.Thread(target=shopper, args=(n,)) for n in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()

    assert not errors, errors
    assert len(ids) == len(set(ids)) == threads * per_thread
    assert store.count() == threads * per_thread
    assert store.count(rating=-1) == threads * 5
    changed = store.list(limit=1000, rating=-1)
    assert all(r.comment == f"changed by {r.session_id[1:]}" for r in changed)
    store.close()


def test_export_jsonl_writes_one_self_contained_line_per_vote(store, tmp_path):
    up = vote(store, rating=1, comment="helpful")
    down = vote(store, rating=-1, question="do you ship to Canada?", sources=[FAQ])
    store.update(up, 1, "very helpful")

    out = tmp_path / "export" / "feedback.jsonl"
    assert store.export_jsonl(out) == 2
    lines = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [line["id"] for line in lines] == [up, down]  # oldest first
    first, second = lines
    needed = {"question", "answer", "sources", "rating", "comment", "generator", "created_at"}
    for line in lines:
        assert needed <= set(line)
        assert "session_id" not in line
        assert datetime.fromisoformat(line["created_at"]).tzinfo is not None
    assert first["rating"] == 1 and first["comment"] == "very helpful"
    assert first["sources"] == [TENT.to_dict(), FAQ.to_dict()]
    assert first["standalone_question"] == "Is the Alpine 2 Tent available in green?"
    assert first["updated_at"] is not None
    assert second["rating"] == -1 and second["question"] == "do you ship to Canada?"
    assert second["sources"][0]["section"] == "Returns"
    assert second["generator"] == "extractive"

    assert store.export_jsonl(out, rating=-1) == 1  # replaces the file
    assert [json.loads(line)["id"] for line in out.read_text().splitlines()] == [down]
    assert not [p for p in out.parent.iterdir() if p.name != "feedback.jsonl"]  # no temp left


def test_export_of_an_empty_store_is_an_empty_file(store, tmp_path):
    assert store.export_jsonl(tmp_path / "empty.jsonl") == 0
    assert (tmp_path / "empty.jsonl").read_text() == ""


def test_the_feedback_url_setting_points_the_store_at_another_database(tmp_path, monkeypatch):
    other = tmp_path / "elsewhere" / "votes.sqlite"
    url = f"sqlite:///{other}"
    settings = make_settings(data_dir=tmp_path / "data", feedback_url=url)
    assert settings.feedback_db_url == url
    store = FeedbackStore.from_settings(settings)
    vote(store)
    assert store.count() == 1
    store.close()
    assert other.is_file()
    assert not (tmp_path / "data" / "feedback.db").exists()

    # The same from the environment, as a deployment sets it; blank means the default.
    from shopbot.settings import Settings

    monkeypatch.setenv("SHOPBOT_FEEDBACK_URL", url)
    assert FeedbackStore.from_settings(Settings(_env_file=None)).count() == 1
    monkeypatch.setenv("SHOPBOT_FEEDBACK_URL", " ")
    monkeypatch.setenv("SHOPBOT_DATA_DIR", str(tmp_path / "state"))
    default = f"sqlite:///{tmp_path / 'state' / 'feedback.db'}"
    assert Settings(_env_file=None).feedback_db_url == default


def test_a_bad_feedback_url_says_what_to_fix_and_hides_the_password():
    with pytest.raises(FeedbackStoreError, match="SHOPBOT_FEEDBACK_URL") as error:
        FeedbackStore("nosuchdb+driver://shop:s3cret-pw@db.internal/feedback")
    assert "s3cret-pw" not in str(error.value)
    assert "db.internal" in str(error.value)
    with pytest.raises(FeedbackStoreError, match="not a valid SQLAlchemy URL"):
        FeedbackStore("not a url")


def test_an_unwritable_database_raises_a_feedback_store_error(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("a file where a folder should be")
    store = FeedbackStore(f"sqlite:///{blocker / 'feedback.db'}")
    with pytest.raises(FeedbackStoreError, match="cannot create the folder"):
        vote(store)
    # A database file that is not one fails the same way, not with a driver traceback.
    (tmp_path / "junk.db").write_bytes(b"this is not a sqlite database" * 100)
    with pytest.raises(FeedbackStoreError, match="feedback database"):
        vote(FeedbackStore(f"sqlite:///{tmp_path / 'junk.db'}"))
