"""Shoppers' thumbs up/down on answers, kept in a SQL database (SQLAlchemy).

Each vote is stored with everything needed to read it later without the chat that produced
it: the question, the standalone question the search used, the answer text, the sources (the
``Source.to_dict()`` list, as JSON), the generator's name, the session id and a UTC time. The
fine-tuning set builder reads rated answers back with :meth:`FeedbackStore.export_jsonl`.

One store serves every app session of a process (``st.cache_resource``): its methods are
thread-safe. The default database is the SQLite file ``<data_dir>/feedback.db``; any
SQLAlchemy URL can be set with ``SHOPBOT_FEEDBACK_URL``. Tables are created on first use.
"""

from __future__ import annotations

import builtins
import json
import logging
import os
import tempfile
import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    JSON,
    CheckConstraint,
    DateTime,
    Engine,
    Integer,
    SmallInteger,
    String,
    Text,
    create_engine,
    event,
    func,
    make_url,
    select,
    update,
)
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, sessionmaker

from shopbot.db import engine_options, sqlite_wal_pragmas

if TYPE_CHECKING:
    from shopbot.chain import Answer
    from shopbot.retrieval import Source
    from shopbot.settings import Settings

log = logging.getLogger(__name__)

RATINGS = {1: "up", -1: "down"}
MAX_COMMENT_CHARS = 2000
MAX_SESSION_ID_CHARS = 128
MAX_GENERATOR_CHARS = 64


class FeedbackStoreError(RuntimeError):
    """The feedback database cannot be opened or written. The message names the URL with
    its password hidden."""


class _Base(DeclarativeBase):
    pass


class _FeedbackRow(_Base):
    __tablename__ = "shopbot_feedback"
    __table_args__ = (CheckConstraint("rating IN (1, -1)", name="rating_is_up_or_down"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    updated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    session_id: Mapped[str] = mapped_column(String(MAX_SESSION_ID_CHARS), index=True)
    rating: Mapped[int] = mapped_column(SmallInteger, index=True)
    comment: Mapped[str] = mapped_column(Text)
    question: Mapped[str] = mapped_column(Text)
    standalone_question: Mapped[str] = mapped_column(Text)
    answer: Mapped[str] = mapped_column(Text)
    sources: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    generator: Mapped[str] = mapped_column(String(MAX_GENERATOR_CHARS))


@dataclass(frozen=True)
class FeedbackRecord:
    """One stored vote. Times are timezone-aware UTC."""

    id: int
    rating: int
    comment: str
    question: str
    standalone_question: str
    answer: str
    sources: list[dict[str, Any]] = field(default_factory=list)
    generator: str = ""
    session_id: str = ""
    created_at: datetime = field(default_factory=lambda: datetime.now(timezone.utc))
    updated_at: datetime | None = None

    def to_dict(self) -> dict[str, Any]:
        """A self-contained JSON-ready record, as one line of :meth:`FeedbackStore.export_jsonl`.
        The session id is left out: a training set needs no way back to a shopper's session."""
        return {
            "id": self.id,
            "question": self.question,
            "standalone_question": self.standalone_question,
            "answer": self.answer,
            "sources": self.sources,
            "rating": self.rating,
            "comment": self.comment,
            "generator": self.generator,
            "created_at": self.created_at.isoformat(),
            "updated_at": self.updated_at.isoformat() if self.updated_at else None,
        }

    @classmethod
    def _from_row(cls, row: _FeedbackRow) -> FeedbackRecord:
        return cls(
            id=row.id,
            rating=row.rating,
            comment=row.comment,
            question=row.question,
            standalone_question=row.standalone_question,
            answer=row.answer,
            sources=list(row.sources or []),
            generator=row.generator,
            session_id=row.session_id,
            created_at=_as_utc(row.created_at),
            updated_at=_as_utc(row.updated_at) if row.updated_at else None,
        )


class FeedbackStore:
    """Votes on answers in the database at ``url`` (any SQLAlchemy URL)."""

    def __init__(self, url: str) -> None:
        try:
            parsed = make_url(url)
        except SQLAlchemyError as exc:
            raise FeedbackStoreError(
                "the feedback database URL is not a valid SQLAlchemy URL "
                f"({exc.__class__.__name__}); check SHOPBOT_FEEDBACK_URL, e.g. "
                "sqlite:///data/feedback.db"
            ) from None
        self.url = parsed.render_as_string(hide_password=True)
        self._is_sqlite = parsed.get_backend_name() == "sqlite"
        kwargs, self._sqlite_file = engine_options(parsed)
        try:
            self._engine: Engine = create_engine(parsed, **kwargs)
        except (SQLAlchemyError, ImportError) as exc:
            raise FeedbackStoreError(
                f"cannot open the feedback database {self.url}: {exc.__class__.__name__}: "
                f"{_without(str(exc), parsed.password)}. Check SHOPBOT_FEEDBACK_URL; a server "
                "database needs its driver installed (e.g. pip install psycopg)."
            ) from None
        if self._is_sqlite:
            event.listen(self._engine, "connect", sqlite_wal_pragmas)
        self._password = parsed.password
        self._sessions = sessionmaker(self._engine, expire_on_commit=False)
        self._ready = False
        self._ready_lock = threading.Lock()
        # SQLite takes one writer at a time anyway; queueing this process's writers here
        # keeps them from spinning on the file lock.
        self._write_lock = threading.Lock() if self._is_sqlite else None

    @classmethod
    def from_settings(cls, settings: Settings) -> FeedbackStore:
        return cls(settings.feedback_db_url)

    def __repr__(self) -> str:
        return f"FeedbackStore({self.url!r})"

    def close(self) -> None:
        """Close the database connections (a later call opens new ones)."""
        self._engine.dispose()

    # -- writing ---------------------------------------------------------------------------

    def record(
        self,
        *,
        question: str,
        answer: str,
        rating: int,
        sources: Sequence[Source | Mapping[str, Any]] = (),
        generator: str = "",
        standalone_question: str = "",
        session_id: str = "",
        comment: str | None = None,
    ) -> int:
        """Store one vote and return its id (keep it to :meth:`update` the vote later)."""
        _check_rating(rating)
        comment = _check_comment(comment)
        if not isinstance(question, str) or not question.strip():
            raise ValueError("question is empty: feedback needs the question that was asked")
        if not isinstance(answer, str):
            raise ValueError(f"answer must be the answer text, got {type(answer).__name__}")
        session_id = _check_short("session_id", session_id, MAX_SESSION_ID_CHARS)
        generator = _check_short("generator", generator, MAX_GENERATOR_CHARS)
        row = _FeedbackRow(
            created_at=datetime.now(timezone.utc),
            updated_at=None,
            session_id=session_id,
            rating=rating,
            comment=comment,
            question=question,
            standalone_question=standalone_question or question,
            answer=answer,
            sources=_sources_json(sources),
            generator=generator,
        )
        with self._session(write=True) as session:
            session.add(row)
            session.flush()
            return int(row.id)

    def record_answer(
        self, answer: Answer, rating: int, *, session_id: str = "", comment: str | None = None
    ) -> int:
        """:meth:`record` for an :class:`~shopbot.chain.Answer` as the chain returned it."""
        return self.record(
            question=answer.question,
            answer=answer.text,
            rating=rating,
            sources=answer.sources,
            generator=answer.generator,
            standalone_question=answer.standalone_question,
            session_id=session_id,
            comment=comment,
        )

    def update(
        self,
        id: int,
        rating: int,
        comment: str | None = None,
        *,
        session_id: str | None = None,
    ) -> bool:
        """Change a vote. ``comment=None`` keeps the stored comment, ``""`` clears it. With
        ``session_id``, only that session's vote is changed. False when no such vote."""
        _check_rating(rating)
        values: dict[str, Any] = {"rating": rating, "updated_at": datetime.now(timezone.utc)}
        if comment is not None:
            values["comment"] = _check_comment(comment)
        # One UPDATE statement, no read first: SQLite cannot upgrade a read lock to a write
        # lock under contention without failing at once.
        statement = update(_FeedbackRow).where(_FeedbackRow.id == int(id)).values(**values)
        if session_id is not None:
            statement = statement.where(_FeedbackRow.session_id == session_id)
        with self._session(write=True) as session:
            return session.execute(statement).rowcount == 1

    # -- reading ---------------------------------------------------------------------------

    def get(self, id: int) -> FeedbackRecord | None:
        with self._session() as session:
            row = session.get(_FeedbackRow, int(id))
            return FeedbackRecord._from_row(row) if row else None

    def list(
        self, limit: int = 100, rating: int | None = None, offset: int = 0
    ) -> builtins.list[FeedbackRecord]:
        """The newest votes first; ``rating`` 1 or -1 keeps only those."""
        if limit < 1 or offset < 0:
            raise ValueError("limit must be at least 1 and offset at least 0")
        statement = select(_FeedbackRow).order_by(_FeedbackRow.id.desc()).limit(limit)
        if offset:
            statement = statement.offset(offset)
        if rating is not None:
            _check_rating(rating)
            statement = statement.where(_FeedbackRow.rating == rating)
        with self._session() as session:
            return [FeedbackRecord._from_row(row) for row in session.scalars(statement)]

    def count(self, rating: int | None = None) -> int:
        statement = select(func.count(_FeedbackRow.id))
        if rating is not None:
            _check_rating(rating)
            statement = statement.where(_FeedbackRow.rating == rating)
        with self._session() as session:
            return int(session.scalar(statement) or 0)

    def export_jsonl(self, path: Path | str, rating: int | None = None) -> int:
        """Write every vote (oldest first; only ``rating`` ones if given) to ``path`` as JSON
        lines, one self-contained record per line (see :meth:`FeedbackRecord.to_dict`).
        The file is replaced whole, never left half-written. Returns the number of lines."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        statement = select(_FeedbackRow).order_by(_FeedbackRow.id).execution_options(yield_per=500)
        if rating is not None:
            _check_rating(rating)
            statement = statement.where(_FeedbackRow.rating == rating)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
        lines = 0
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as out, self._session() as session:
                for row in session.scalars(statement):
                    record = FeedbackRecord._from_row(row)
                    out.write(json.dumps(record.to_dict(), ensure_ascii=False) + "\n")
                    lines += 1
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return lines

    # -- plumbing --------------------------------------------------------------------------

    @contextmanager
    def _session(self, write: bool = False) -> Iterator[Session]:
        self._ensure_tables()
        lock = self._write_lock if write else None
        try:
            if lock:
                lock.acquire()
            try:
                with self._sessions.begin() as session:
                    yield session
            finally:
                if lock:
                    lock.release()
        except SQLAlchemyError as exc:
            raise self._error("cannot use", exc) from None

    def _ensure_tables(self) -> None:
        if self._ready:
            return
        with self._ready_lock:
            if self._ready:
                return
            if self._sqlite_file is not None:
                try:
                    self._sqlite_file.parent.mkdir(parents=True, exist_ok=True)
                except OSError as exc:
                    raise FeedbackStoreError(
                        f"cannot create the folder of the feedback database {self.url}: {exc}"
                    ) from None
            try:
                _Base.metadata.create_all(self._engine, checkfirst=True)
            except SQLAlchemyError as exc:
                raise self._error("cannot create the tables of", exc) from None
            self._ready = True
            log.info("feedback store ready at %s", self.url)

    def _error(self, what: str, exc: SQLAlchemyError) -> FeedbackStoreError:
        detail = _without(str(getattr(exc, "orig", None) or exc).splitlines()[0], self._password)
        return FeedbackStoreError(
            f"{what} the feedback database {self.url}: {exc.__class__.__name__}: {detail}"
        )


# -- helpers -------------------------------------------------------------------------------


def _check_rating(rating: Any) -> None:
    if isinstance(rating, bool) or not isinstance(rating, int) or rating not in RATINGS:
        raise ValueError(f"rating must be 1 (thumbs up) or -1 (thumbs down), got {rating!r}")


def _check_comment(comment: str | None) -> str:
    if comment is None:
        return ""
    if not isinstance(comment, str):
        raise ValueError(f"comment must be text, got {type(comment).__name__}")
    comment = comment.strip()
    if len(comment) > MAX_COMMENT_CHARS:
        raise ValueError(
            f"comment is too long: {len(comment):,} characters; the limit is "
            f"{MAX_COMMENT_CHARS:,}"
        )
    return comment


def _check_short(name: str, value: str, limit: int) -> str:
    if not isinstance(value, str):
        raise ValueError(f"{name} must be text, got {type(value).__name__}")
    if len(value) > limit:
        raise ValueError(f"{name} is too long: {len(value):,} characters; the limit is {limit}")
    return value


def _sources_json(sources: Sequence[Source | Mapping[str, Any]]) -> list[dict[str, Any]]:
    items = [dict(s) if isinstance(s, Mapping) else s.to_dict() for s in sources or ()]
    try:
        # Stored as JSON: check now, with a clear message, rather than in the driver.
        return json.loads(json.dumps(items))
    except (TypeError, ValueError) as exc:
        raise ValueError(
            f"sources must be JSON-serialisable Source.to_dict() items: {exc}"
        ) from None


def _as_utc(value: datetime) -> datetime:
    # SQLite returns naive datetimes; every stored time is UTC.
    if value.tzinfo is None:
        return value.replace(tzinfo=timezone.utc)
    return value.astimezone(timezone.utc)


def _without(text: str, secret: str | None) -> str:
    return text.replace(secret, "***") if secret else text
