"""API keys for the HTTP API (``python -m shopbot serve``), kept as SHA-256 hashes only.

A key is ``sk-shopbot-`` followed by 43 URL-safe characters from :func:`secrets.token_urlsafe`
(256 random bits). It is shown once, by ``python -m shopbot apikey create``; the store keeps
its SHA-256 hash, a display prefix (``sk-shopbot-`` and the first 6 random characters), its
name, when it was made, last used and revoked, and an optional per-key rate limit. A salted
slow hash (bcrypt) is for passwords that people choose; a 256-bit random key cannot be
guessed, so one fast SHA-256 lookup per request is enough and keeps 32 concurrent clients
cheap (GitHub and Stripe store tokens the same way).

The store is the SQLite file ``<data_dir>/api_keys.db`` (file mode 0600). The CLI and a
running server share it: a key created or revoked by the CLI counts at the server's next
request, with no restart.
"""

from __future__ import annotations

import hashlib
import os
import re
import secrets
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import DateTime, Integer, String, create_engine, event, select, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, sessionmaker

from shopbot.db import sqlite_wal_pragmas

if TYPE_CHECKING:
    from shopbot.settings import Settings

KEY_MARKER = "sk-shopbot-"
_RANDOM_BYTES = 32
_RANDOM_CHARS = 43  # len(token_urlsafe(32))
PREFIX_CHARS = 6  # random characters kept for display, after KEY_MARKER
MAX_NAME_CHARS = 64
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$")
_KEY = re.compile(rf"^{re.escape(KEY_MARKER)}[A-Za-z0-9_-]{{{_RANDOM_CHARS}}}$")
# A key's last use is written at most this often (a write per request would make every
# request wait for SQLite's file lock).
TOUCH_EVERY_SECONDS = 60.0
CREATE_COMMAND = "python -m shopbot apikey create --name NAME"


class APIKeyError(RuntimeError):
    """A key store operation failed; the message says why and what to do."""


class _Base(DeclarativeBase):
    pass


class _KeyRow(_Base):
    __tablename__ = "shopbot_api_keys"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(MAX_NAME_CHARS), index=True)
    prefix: Mapped[str] = mapped_column(String(32), index=True)
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    rate_per_minute: Mapped[int | None] = mapped_column(Integer)


@dataclass(frozen=True)
class APIKey:
    """A stored key, without the key itself. ``label`` is what logs may show."""

    id: int
    name: str
    prefix: str
    created_at: datetime
    last_used_at: datetime | None = None
    revoked_at: datetime | None = None
    rate_per_minute: int | None = None  # None = the server's SHOPBOT_API_RATE_PER_MINUTE

    @property
    def active(self) -> bool:
        return self.revoked_at is None

    @property
    def label(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "prefix": self.prefix,
            "created_at": self.created_at.isoformat(timespec="seconds"),
            "last_used_at": _iso(self.last_used_at),
            "revoked_at": _iso(self.revoked_at),
            "rate_per_minute": self.rate_per_minute,
            "status": "active" if self.active else "revoked",
        }

    @classmethod
    def _from_row(cls, row: _KeyRow) -> APIKey:
        return cls(
            id=row.id,
            name=row.name,
            prefix=row.prefix,
            created_at=_utc(row.created_at),
            last_used_at=_utc(row.last_used_at) if row.last_used_at else None,
            revoked_at=_utc(row.revoked_at) if row.revoked_at else None,
            rate_per_minute=row.rate_per_minute,
        )


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def looks_like_key(text: str) -> bool:
    return bool(_KEY.match(text))


def new_key() -> str:
    return KEY_MARKER + secrets.token_urlsafe(_RANDOM_BYTES)


class APIKeyStore:
    """The keys in the SQLite file ``path``; thread-safe, shared by processes."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self._engine = create_engine(
            f"sqlite:///{self.path.as_posix()}",
            # Requests are checked on the server's worker threads; the busy timeout lets a
            # writer wait for the other process's write instead of failing.
            connect_args={"check_same_thread": False, "timeout": 30},
        )
        event.listen(self._engine, "connect", sqlite_wal_pragmas)
        self._sessions = sessionmaker(self._engine, expire_on_commit=False)
        self._ready = False
        self._lock = threading.Lock()
        self._touched: dict[int, float] = {}

    @classmethod
    def from_settings(cls, settings: Settings) -> APIKeyStore:
        return cls(settings.api_keys_path)

    def __repr__(self) -> str:
        return f"APIKeyStore({str(self.path)!r})"

    def close(self) -> None:
        self._engine.dispose()

    # -- managing keys (the CLI) -----------------------------------------------------------

    def create(self, name: str, rate_per_minute: int | None = None) -> tuple[str, APIKey]:
        """A new key named ``name``: returns (the key, its record). The key is not stored and
        cannot be shown again. Names are unique among active keys."""
        name = (name or "").strip()
        if not _NAME.match(name):
            raise APIKeyError(
                f"{name!r} is not a usable key name: 1-{MAX_NAME_CHARS} letters, digits, "
                "'.', '_', '@' or '-', starting with a letter or digit (e.g. storefront-web)"
            )
        if rate_per_minute is not None and rate_per_minute < 0:
            raise APIKeyError("--rate-per-minute must be 0 (no limit) or more")
        key = new_key()
        row = _KeyRow(
            name=name,
            prefix=key[: len(KEY_MARKER) + PREFIX_CHARS],
            key_hash=hash_key(key),
            created_at=datetime.now(timezone.utc),
            rate_per_minute=rate_per_minute,
        )
        with self._session() as session:
            taken = session.scalar(
                select(_KeyRow.id).where(_KeyRow.name == name, _KeyRow.revoked_at.is_(None))
            )
            if taken is not None:
                raise APIKeyError(
                    f"an active key named {name!r} exists already: choose another name, or "
                    f"revoke it first (python -m shopbot apikey revoke {name})"
                )
            session.add(row)
            session.flush()
            return key, APIKey._from_row(row)

    def list(self, include_revoked: bool = True) -> list[APIKey]:
        with self._session() as session:
            query = select(_KeyRow).order_by(_KeyRow.created_at, _KeyRow.id)
            if not include_revoked:
                query = query.where(_KeyRow.revoked_at.is_(None))
            return [APIKey._from_row(r) for r in session.scalars(query)]

    def count_active(self) -> int:
        return len(self.list(include_revoked=False))

    def revoke(self, name_or_prefix: str) -> APIKey:
        """Revoke the active key with this name, display prefix (or a longer start of the
        key), or the whole key. Raises APIKeyError when none or several match."""
        text = (name_or_prefix or "").strip()
        if not text:
            raise APIKeyError("say which key to revoke: its name or its prefix (apikey list)")
        with self._session() as session:
            active = list(session.scalars(select(_KeyRow).where(_KeyRow.revoked_at.is_(None))))
            if looks_like_key(text):
                matches = [r for r in active if r.key_hash == hash_key(text)]
            elif text.startswith(KEY_MARKER):
                matches = [
                    r for r in active if r.prefix.startswith(text) or text.startswith(r.prefix)
                ]
            else:
                matches = [r for r in active if r.name == text]
            if not matches:
                revoked = session.scalar(
                    select(_KeyRow.id).where(
                        _KeyRow.revoked_at.is_not(None),
                        (_KeyRow.name == text) | (_KeyRow.prefix == text),
                    )
                )
                hint = "it is revoked already" if revoked else "`apikey list` shows the keys"
                raise APIKeyError(f"no active key matches {_shown(text)}: {hint}")
            if len(matches) > 1:
                labels = ", ".join(f"{r.name} ({r.prefix}…)" for r in matches)
                raise APIKeyError(
                    f"{_shown(text)} matches {len(matches)} keys ({labels}): give a name or a "
                    "longer prefix"
                )
            row = matches[0]
            row.revoked_at = datetime.now(timezone.utc)
            session.flush()
            return APIKey._from_row(row)

    # -- checking keys (the server) --------------------------------------------------------

    def verify(self, key: str) -> APIKey | None:
        """The active key record for ``key``, or None (unknown, malformed or revoked).
        Notes the key's use (at most once a minute per key)."""
        if not looks_like_key(key):
            return None
        with self._session(create=False) as session:
            if session is None:
                return None
            row = session.scalar(select(_KeyRow).where(_KeyRow.key_hash == hash_key(key)))
            if row is None or row.revoked_at is not None:
                return None
            record = APIKey._from_row(row)
        self._touch(record)
        return record

    def is_revoked(self, key: str) -> bool:
        """Whether ``key`` is a known but revoked key (for a clearer 401 message)."""
        if not looks_like_key(key):
            return False
        with self._session(create=False) as session:
            if session is None:
                return False
            revoked = session.scalar(
                select(_KeyRow.revoked_at).where(_KeyRow.key_hash == hash_key(key))
            )
            return revoked is not None

    def _touch(self, record: APIKey) -> None:
        now = time.monotonic()
        with self._lock:
            last = self._touched.get(record.id)
            if last is not None and now - last < TOUCH_EVERY_SECONDS:
                return
            self._touched[record.id] = now
        try:
            with self._session() as session:
                session.execute(
                    update(_KeyRow)
                    .where(_KeyRow.id == record.id)
                    .values(last_used_at=datetime.now(timezone.utc))
                )
        except APIKeyError:
            pass  # "last used" is informational; a busy database must not fail the request

    # -- plumbing --------------------------------------------------------------------------

    @contextmanager
    def _session(self, create: bool = True) -> Iterator[Session | None]:
        """A transaction. ``create=False`` yields None when the file does not exist yet
        (the server must not create it on a request: no file = no keys)."""
        if not self._ready:
            if not create and not self.path.exists():
                yield None
                return
            self._ensure_file()
        try:
            with self._sessions.begin() as session:
                yield session
        except SQLAlchemyError as exc:
            raise APIKeyError(
                f"cannot use the API key store {self.path}: {exc.__class__.__name__}: "
                f"{str(exc).splitlines()[0]}"
            ) from None

    def _ensure_file(self) -> None:
        with self._lock:
            if self._ready:
                return
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                # Only hashes are inside, but nobody else needs to read them.
                fd = os.open(self.path, os.O_CREAT | os.O_RDWR, 0o600)
                os.close(fd)
                _Base.metadata.create_all(self._engine, checkfirst=True)
            except (OSError, SQLAlchemyError) as exc:
                raise APIKeyError(f"cannot open the API key store {self.path}: {exc}") from None
            self._ready = True


def _shown(text: str) -> str:
    """``text`` fit for a message: a whole key is shortened to its prefix."""
    if looks_like_key(text):
        return repr(text[: len(KEY_MARKER) + PREFIX_CHARS] + "…")
    return repr(text[:80])


def _utc(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


def _iso(value: datetime | None) -> str | None:
    return value.isoformat(timespec="seconds") if value else None
