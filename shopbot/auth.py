"""Staff login: one shared staff password, kept only as a bcrypt hash, with login throttling.

Where the hash comes from, first found wins:

1. ``SHOPBOT_STAFF_PASSWORD_HASH`` (the environment or ``.env``, through Settings);
2. the ``staff_password_hash`` key of ``.streamlit/secrets.toml``, which the app reads from
   ``st.secrets`` and passes in (this module never imports Streamlit).

There is no default password: without a hash the staff pages stay locked and
:attr:`StaffAuth.how_to_configure` says how to set one (``python -m shopbot staff
set-password``). Build one :class:`StaffAuth` per process (``st.cache_resource``) so the
throttle sees every session's attempts.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import bcrypt

if TYPE_CHECKING:
    from shopbot.settings import Settings

log = logging.getLogger(__name__)

MIN_PASSWORD_CHARS = 8
MAX_PASSWORD_BYTES = 72  # bcrypt reads no further; bcrypt 5 refuses longer input
DEFAULT_ROUNDS = 12
HASH_ENV_VAR = "SHOPBOT_STAFF_PASSWORD_HASH"
SECRETS_KEY = "staff_password_hash"
SECRETS_FILE = ".streamlit/secrets.toml"
SET_PASSWORD_COMMAND = "python -m shopbot staff set-password"


# -- hashing -------------------------------------------------------------------------------


def hash_password(password: str, rounds: int = DEFAULT_ROUNDS) -> str:
    """The bcrypt hash of ``password`` (``$2b$...``, 60 characters). Raises ValueError for a
    password shorter than 8 characters or longer than bcrypt's 72 bytes."""
    if not isinstance(password, str):
        raise ValueError("the password must be text")
    if len(password) < MIN_PASSWORD_CHARS:
        raise ValueError(
            f"the staff password must be at least {MIN_PASSWORD_CHARS} characters long"
        )
    encoded = password.encode("utf-8")
    if len(encoded) > MAX_PASSWORD_BYTES:
        raise ValueError(
            f"the staff password must be at most {MAX_PASSWORD_BYTES} bytes long (bcrypt "
            f"ignores anything longer); this one is {len(encoded)} bytes"
        )
    return bcrypt.hashpw(encoded, bcrypt.gensalt(rounds=rounds)).decode("ascii")


def verify_password(password: str, hashed: str | bytes | None) -> bool:
    """Whether ``password`` matches the bcrypt hash ``hashed``, compared in constant time by
    bcrypt. Never raises: a missing or malformed hash gives False (and a warning in the log
    for a malformed one)."""
    if not hashed or not isinstance(password, str) or not password:
        return False
    encoded = password.encode("utf-8")
    if len(encoded) > MAX_PASSWORD_BYTES:
        return False  # hash_password never accepts such a password
    try:
        stored = hashed.encode("ascii") if isinstance(hashed, str) else bytes(hashed)
        return bcrypt.checkpw(encoded, stored.strip())
    except (ValueError, TypeError, UnicodeError):
        # Never log the hash itself: it is enough to guess the password offline.
        log.warning(
            "the staff password hash is not a valid bcrypt hash; make a new one with `%s`",
            SET_PASSWORD_COMMAND,
        )
        return False


def looks_like_bcrypt(hashed: str | None) -> bool:
    """Whether ``hashed`` has the shape of a bcrypt hash (``$2b$12$`` + 53 characters)."""
    if not hashed:
        return False
    value = hashed.strip()
    return (
        len(value) == 60
        and value[:4] in ("$2a$", "$2b$", "$2y$")
        and value[4:6].isdigit()
        and value[6] == "$"
    )


# -- throttling ----------------------------------------------------------------------------


@dataclass
class _KeyState:
    failures: deque[float] = field(default_factory=deque)
    lockouts: int = 0
    locked_until: float = 0.0
    last_seen: float = 0.0


class LoginThrottle:
    """Per-key (session id, client address) count of failed logins.

    ``max_failures`` failures within ``window`` seconds lock the key for ``lockout``
    seconds; each further lockout doubles that, up to ``max_lockout``. A success, or a quiet
    ``window`` after the last lockout ended, forgives the key. ``clock`` is injectable (a
    monotonic seconds counter) so tests move time instead of sleeping. Thread-safe.
    """

    def __init__(
        self,
        max_failures: int = 5,
        window: float = 15 * 60,
        lockout: float = 60.0,
        max_lockout: float = 60 * 60,
        clock: Callable[[], float] = time.monotonic,
        max_keys: int = 10_000,
    ) -> None:
        if max_failures < 1 or window <= 0 or lockout <= 0 or max_lockout < lockout:
            raise ValueError(
                "LoginThrottle needs max_failures >= 1, window > 0 and 0 < lockout <= max_lockout"
            )
        self.max_failures = max_failures
        self.window = window
        self.lockout = lockout
        self.max_lockout = max_lockout
        self._clock = clock
        self._max_keys = max_keys
        self._keys: dict[str, _KeyState] = {}
        self._lock = threading.Lock()

    def check(self, key: str) -> float:
        """Seconds ``key`` must wait before its next attempt; 0.0 when it may try now."""
        with self._lock:
            state = self._keys.get(key)
            if state is None:
                return 0.0
            return max(0.0, state.locked_until - self._clock())

    def failure(self, key: str) -> float:
        """Count a failed attempt; returns the wait it causes (0.0 if none yet)."""
        with self._lock:
            now = self._clock()
            state = self._keys.get(key)
            if state is None:
                self._forget_stale(now)
                state = self._keys[key] = _KeyState()
            elif state.lockouts and now - max(state.locked_until, state.last_seen) > self.window:
                state.lockouts = 0  # quiet for a whole window since the last lockout
            state.last_seen = now
            while state.failures and now - state.failures[0] >= self.window:
                state.failures.popleft()
            state.failures.append(now)
            if len(state.failures) >= self.max_failures:
                wait = min(self.lockout * 2**state.lockouts, self.max_lockout)
                state.lockouts += 1
                state.locked_until = now + wait
                state.failures.clear()
                log.warning("staff login locked for %.0f s after repeated failures", wait)
            return max(0.0, state.locked_until - now)

    def success(self, key: str) -> None:
        """Forget ``key``'s failures and lockouts."""
        with self._lock:
            self._keys.pop(key, None)

    def failure_count(self, key: str) -> int:
        """Failures of ``key`` within the window that have not yet led to a lockout."""
        with self._lock:
            state = self._keys.get(key)
            if state is None:
                return 0
            now = self._clock()
            return sum(1 for t in state.failures if now - t < self.window)

    def _forget_stale(self, now: float) -> None:
        # Keys are cheap to make (a new browser session): bound the memory they can take.
        if len(self._keys) < self._max_keys:
            return
        horizon = self.window + self.max_lockout
        for key in [k for k, s in self._keys.items() if now - s.last_seen > horizon]:
            del self._keys[key]
        while len(self._keys) >= self._max_keys:  # still full: drop the oldest
            del self._keys[min(self._keys, key=lambda k: self._keys[k].last_seen)]


# -- the facade the app uses ---------------------------------------------------------------


@dataclass(frozen=True)
class LoginResult:
    ok: bool
    wait_seconds: float
    message: str


class StaffAuth:
    """Checks the staff password against the configured hash, through a LoginThrottle."""

    def __init__(
        self,
        password_hash: str | None,
        *,
        source: str = "",
        throttle: LoginThrottle | None = None,
    ) -> None:
        self._hash = password_hash.strip() if password_hash and password_hash.strip() else None
        self.source = source if self._hash else ""
        self.throttle = throttle or LoginThrottle()
        if self._hash and not looks_like_bcrypt(self._hash):
            log.warning(
                "the staff password hash from %s is not a valid bcrypt hash; staff login is "
                "off until it is replaced (run `%s`)",
                self.source or "the configuration",
                SET_PASSWORD_COMMAND,
            )

    @classmethod
    def from_settings(
        cls,
        settings: Settings,
        secrets_hash: str | None = None,
        *,
        throttle: LoginThrottle | None = None,
    ) -> StaffAuth:
        """The hash from ``settings.staff_password_hash`` (SHOPBOT_STAFF_PASSWORD_HASH) or,
        failing that, ``secrets_hash``: the app passes
        ``st.secrets.get("staff_password_hash")``."""
        if settings.staff_password_hash is not None:
            value = settings.staff_password_hash.get_secret_value()
            return cls(value, source=HASH_ENV_VAR, throttle=throttle)
        if isinstance(secrets_hash, str) and secrets_hash.strip():
            return cls(secrets_hash, source=f"{SECRETS_FILE} ({SECRETS_KEY})", throttle=throttle)
        return cls(None, throttle=throttle)

    def __repr__(self) -> str:  # never shows the hash
        return f"StaffAuth(configured={self.configured}, source={self.source!r})"

    @property
    def configured(self) -> bool:
        """Whether a usable (well-formed bcrypt) staff password hash is set."""
        return looks_like_bcrypt(self._hash)

    @property
    def how_to_configure(self) -> str:
        """What to tell a user when staff login is not configured (Markdown)."""
        problem = (
            f"The staff password hash in {self.source} is not a valid bcrypt hash."
            if self._hash and not self.configured
            else "No staff password is set, so the staff pages are locked."
        )
        return (
            f"{problem} To set one, run `{SET_PASSWORD_COMMAND}` on the server: it asks for "
            f"the password and prints its bcrypt hash. Put the hash in `{SECRETS_FILE}` as "
            f'`{SECRETS_KEY} = "<hash>"` (or let the command write it with `--write-secrets '
            f"{SECRETS_FILE}`), or set the environment variable `{HASH_ENV_VAR}`, then "
            "restart the app."
        )

    def login(self, key: str, password: str) -> LoginResult:
        """Check ``password`` for the client ``key`` (a session id or client address)."""
        if not self.configured:
            return LoginResult(False, 0.0, self.how_to_configure)
        wait = self.throttle.check(key)
        if wait > 0:
            return LoginResult(False, wait, _locked_message(wait))
        if verify_password(password, self._hash):
            self.throttle.success(key)
            return LoginResult(True, 0.0, "Logged in.")
        wait = self.throttle.failure(key)
        if wait > 0:
            return LoginResult(False, wait, _locked_message(wait))
        return LoginResult(False, 0.0, "Wrong password.")


def _locked_message(wait: float) -> str:
    seconds = max(1, math.ceil(wait))
    unit = "second" if seconds == 1 else "seconds"
    return f"Too many failed attempts. Try again in {seconds} {unit}."
