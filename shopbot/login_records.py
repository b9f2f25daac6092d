"""The staff login throttle's records in a SQL database, shared by every process using it.

:class:`SQLThrottleStore` keeps one row per throttle key (``account:staff``,
``client:203.0.113.7``) in the table ``shopbot_login_throttle`` of the feedback database
(``SHOPBOT_FEEDBACK_URL``, by default ``<data_dir>/feedback.db``): several app processes
(replicas behind a proxy, a restarted app) then see the same failures and lockouts. Each
change is one transaction that reads and writes the row while holding the database's write
lock (``BEGIN IMMEDIATE`` on SQLite, ``SELECT ... FOR UPDATE`` elsewhere), so failures
counted at the same moment by two processes are both counted. Times are wall-clock seconds
(``time.time``), the one clock processes share. Rows idle for longer than the throttle's
window plus its longest lockout are deleted when new keys arrive.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from typing import Any

from sqlalchemy import (
    Column,
    Engine,
    Float,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    create_engine,
    delete,
    event,
    insert,
    make_url,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from shopbot.auth import ThrottleState, ThrottleStoreError
from shopbot.db import engine_options, sqlite_wal_pragmas

MAX_KEY_CHARS = 200

_metadata = MetaData()
_table = Table(
    "shopbot_login_throttle",
    _metadata,
    Column("key", String(MAX_KEY_CHARS), primary_key=True),
    Column("failures", Text, nullable=False),  # JSON list of times within the window
    Column("lockouts", Integer, nullable=False),
    Column("locked_until", Float, nullable=False),
    Column("last_seen", Float, nullable=False, index=True),
)


class SQLThrottleStore:
    """A :class:`shopbot.auth.ThrottleStore` in the database at ``url`` (any SQLAlchemy
    URL). Thread-safe; process-safe through the database's own locking."""

    def __init__(self, url: str) -> None:
        try:
            parsed = make_url(url)
        except SQLAlchemyError:
            raise ThrottleStoreError(
                "the feedback database URL is not a valid SQLAlchemy URL; check "
                "SHOPBOT_FEEDBACK_URL"
            ) from None
        self.url = parsed.render_as_string(hide_password=True)
        self._password = parsed.password
        kwargs, self._sqlite_file = engine_options(parsed)
        is_sqlite = parsed.get_backend_name() == "sqlite"
        try:
            self._engine: Engine = create_engine(parsed, **kwargs)
        except (SQLAlchemyError, ImportError) as exc:
            raise ThrottleStoreError(
                f"cannot open the login records in {self.url}: {exc.__class__.__name__}"
            ) from None
        if is_sqlite:
            # pysqlite's own transaction handling begins lazily and cannot take the write
            # lock up front; BEGIN IMMEDIATE makes each read-and-write one locked step
            # (other processes wait up to the 30 s busy timeout).
            event.listen(self._engine, "connect", _sqlite_connect)
            event.listen(self._engine, "begin", _sqlite_begin)
        self._ready = False
        self._ready_lock = threading.Lock()

    def __repr__(self) -> str:
        return f"SQLThrottleStore({self.url!r})"

    def close(self) -> None:
        self._engine.dispose()

    def get(self, key: str) -> ThrottleState | None:
        self._ensure_table()
        try:
            with self._engine.begin() as conn:
                row = conn.execute(select(_table).where(_table.c.key == key)).first()
        except SQLAlchemyError as exc:
            raise self._error(exc) from None
        return _state(row) if row is not None else None

    def update(
        self,
        key: str,
        change: Callable[[ThrottleState | None], ThrottleState],
        stale_before: float,
    ) -> ThrottleState:
        self._ensure_table()
        for _ in range(3):  # two processes may insert a new key at once: then re-read it
            try:
                with self._engine.begin() as conn:
                    row = conn.execute(
                        select(_table).where(_table.c.key == key).with_for_update()
                    ).first()
                    if row is None:
                        conn.execute(delete(_table).where(_table.c.last_seen < stale_before))
                    state = change(_state(row) if row is not None else None)
                    values = {
                        "failures": json.dumps(state.failures),
                        "lockouts": state.lockouts,
                        "locked_until": state.locked_until,
                        "last_seen": state.last_seen,
                    }
                    if row is None:
                        conn.execute(insert(_table).values(key=key, **values))
                    else:
                        conn.execute(update(_table).where(_table.c.key == key).values(**values))
                    return state
            except IntegrityError:
                continue
            except SQLAlchemyError as exc:
                raise self._error(exc) from None
        raise ThrottleStoreError(f"cannot record a login attempt in {self.url}: keeps colliding")

    def delete(self, key: str) -> None:
        self._ensure_table()
        try:
            with self._engine.begin() as conn:
                conn.execute(delete(_table).where(_table.c.key == key))
        except SQLAlchemyError as exc:
            raise self._error(exc) from None

    def _ensure_table(self) -> None:
        if self._ready:
            return
        with self._ready_lock:
            if self._ready:
                return
            try:
                if self._sqlite_file is not None:
                    self._sqlite_file.parent.mkdir(parents=True, exist_ok=True)
                _metadata.create_all(self._engine, checkfirst=True)
            except (OSError, SQLAlchemyError) as exc:
                raise self._error(exc) from None
            self._ready = True

    def _error(self, exc: Exception) -> ThrottleStoreError:
        detail = str(getattr(exc, "orig", None) or exc).splitlines()[0] if str(exc) else ""
        if self._password:
            detail = detail.replace(self._password, "***")
        return ThrottleStoreError(
            f"cannot use the login records in {self.url}: {exc.__class__.__name__}: {detail}"
        )


def _state(row: Any) -> ThrottleState:
    try:
        failures = [float(t) for t in json.loads(row.failures or "[]")]
    except (TypeError, ValueError):
        failures = []  # a damaged row counts from zero rather than locking staff out
    return ThrottleState(
        failures=failures,
        lockouts=int(row.lockouts),
        locked_until=float(row.locked_until),
        last_seen=float(row.last_seen),
    )


def _sqlite_connect(dbapi_connection: Any, record: Any) -> None:
    dbapi_connection.isolation_level = None  # autocommit at the driver: we issue BEGIN
    sqlite_wal_pragmas(dbapi_connection, record)


def _sqlite_begin(connection: Any) -> None:
    connection.exec_driver_sql("BEGIN IMMEDIATE")
