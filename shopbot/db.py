"""Small helpers shared by the SQLAlchemy-backed stores (feedback, API keys)."""

from __future__ import annotations

from typing import Any


def sqlite_wal_pragmas(dbapi_connection: Any, _record: Any) -> None:
    """On each new SQLite connection: WAL, so readers (the app, the API server) keep reading
    while another process writes; NORMAL sync, which is safe with WAL."""
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
    finally:
        cursor.close()
