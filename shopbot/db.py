"""Small helpers shared by the SQLAlchemy-backed stores (feedback, login records, API keys)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sqlalchemy.engine import URL


def engine_options(parsed: URL) -> tuple[dict[str, Any], Path | None]:
    """``create_engine`` keyword arguments for a database URL, and the SQLite file it names
    (None for a server database or an in-memory one)."""
    from sqlalchemy.pool import StaticPool

    if parsed.get_backend_name() != "sqlite":
        return {"pool_pre_ping": True}, None
    # Sessions run on Streamlit's script threads: one engine, any thread. The busy timeout
    # lets a writer wait for another process's write instead of failing.
    options: dict[str, Any] = {"connect_args": {"check_same_thread": False, "timeout": 30}}
    database = parsed.database or ""
    if database in ("", ":memory:") or database.startswith("file::memory:"):
        options["poolclass"] = StaticPool  # one shared in-memory database
        return options, None
    return options, Path(database)


def sqlite_wal_pragmas(dbapi_connection: Any, _record: Any) -> None:
    """On each new SQLite connection: WAL, so readers (the app, the API server) keep reading
    while another process writes; NORMAL sync, which is safe with WAL."""
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
    finally:
        cursor.close()
