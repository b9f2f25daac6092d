"""Staff login: one shared staff password, kept only as a bcrypt hash, with login throttling.

Where the hash comes from, first found wins:

1. ``SHOPBOT_STAFF_PASSWORD_HASH`` (the environment or ``.env``, through Settings);
2. the ``staff_password_hash`` key of ``.streamlit/secrets.toml``, which the app reads from
   ``st.secrets`` and passes in (this module never imports Streamlit).

There is no default password: without a hash the staff pages stay locked and
:attr:`StaffAuth.how_to_configure` says how to set one (``python -m shopbot staff
set-password``).

Failed attempts are counted per account (the staff account) and per client address
(:func:`client_address`: X-Forwarded-For only from a trusted proxy, SHOPBOT_TRUSTED_PROXIES),
and kept in the feedback database (:mod:`shopbot.login_records`), so neither a new browser
session, nor another app process on the same database, nor a restart gives fresh guesses.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from ipaddress import IPv4Address, IPv6Address, ip_address, ip_network
from typing import TYPE_CHECKING, Protocol

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
# The one shared staff account (the password login has no user names).
STAFF_ACCOUNT = "staff"


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
class ThrottleState:
    """One key's record: failure times within the window, lockouts so far, until when it is
    locked and when it was last seen (all in the throttle's clock)."""

    failures: list[float] = field(default_factory=list)
    lockouts: int = 0
    locked_until: float = 0.0
    last_seen: float = 0.0


class ThrottleStoreError(RuntimeError):
    """The login records cannot be read or written (their database is unavailable)."""


class ThrottleStore(Protocol):
    """Where a LoginThrottle keeps its ThrottleState per key. ``update`` is atomic: no other
    update of the same key (in any thread, or any process for a shared store) runs between
    its read and its write."""

    def get(self, key: str) -> ThrottleState | None: ...

    def update(
        self,
        key: str,
        change: Callable[[ThrottleState | None], ThrottleState],
        stale_before: float,
    ) -> ThrottleState:
        """Store ``change(current state or None)`` for ``key`` and return it. A store may
        drop keys last seen before ``stale_before`` (they hold nothing that still counts)."""
        ...

    def delete(self, key: str) -> None: ...


class MemoryThrottleStore:
    """Login records in this process's memory (at most ``max_keys`` keys). Thread-safe; a
    second process has its own: use :class:`shopbot.login_records.SQLThrottleStore` when
    several processes must share a lockout."""

    def __init__(self, max_keys: int = 10_000) -> None:
        self._max_keys = max_keys
        self._keys: dict[str, ThrottleState] = {}
        self._lock = threading.Lock()

    def get(self, key: str) -> ThrottleState | None:
        with self._lock:
            state = self._keys.get(key)
            return replace(state, failures=list(state.failures)) if state else None

    def update(
        self,
        key: str,
        change: Callable[[ThrottleState | None], ThrottleState],
        stale_before: float,
    ) -> ThrottleState:
        with self._lock:
            current = self._keys.get(key)
            if current is None:
                self._forget_stale(stale_before)
            state = self._keys[key] = change(current)
            return replace(state, failures=list(state.failures))

    def delete(self, key: str) -> None:
        with self._lock:
            self._keys.pop(key, None)

    def _forget_stale(self, stale_before: float) -> None:
        # Keys are cheap to make (a new browser session): bound the memory they can take.
        if len(self._keys) < self._max_keys:
            return
        for key in [k for k, s in self._keys.items() if s.last_seen < stale_before]:
            del self._keys[key]
        while len(self._keys) >= self._max_keys:  # still full: drop the oldest
            del self._keys[min(self._keys, key=lambda k: self._keys[k].last_seen)]


class LoginThrottle:
    """Per-key count of failed logins; the keys are the account tried and the client.

    ``max_failures`` failures within ``window`` seconds lock the key for ``lockout``
    seconds; each further lockout doubles that, up to ``max_lockout``. A success, or a quiet
    ``window`` after the last lockout ended, forgives the key. ``clock`` is injectable (a
    seconds counter) so tests move time instead of sleeping; a store shared by several
    processes needs a clock they share (``time.time``). Thread-safe.
    """

    def __init__(
        self,
        max_failures: int = 5,
        window: float = 15 * 60,
        lockout: float = 60.0,
        max_lockout: float = 60 * 60,
        clock: Callable[[], float] = time.monotonic,
        max_keys: int = 10_000,
        store: ThrottleStore | None = None,
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
        self.store: ThrottleStore = store if store is not None else MemoryThrottleStore(max_keys)

    def check(self, key: str) -> float:
        """Seconds ``key`` must wait before its next attempt; 0.0 when it may try now."""
        state = self.store.get(key)
        if state is None:
            return 0.0
        return max(0.0, state.locked_until - self._clock())

    def failure(self, key: str) -> float:
        """Count a failed attempt; returns the wait it causes (0.0 if none yet)."""
        return self._record(key, refuse_if_locked=False)[1]

    def attempt(self, key: str) -> tuple[bool, float]:
        """Count an attempt as failed *before* it is checked (``success`` forgives it), so
        attempts made at the same moment cannot all slip past the count. Returns whether
        it may go ahead (False: the key was locked already, nothing is counted) and the
        wait the key has now."""
        return self._record(key, refuse_if_locked=True)

    def success(self, key: str) -> None:
        """Forget ``key``'s failures and lockouts."""
        self.store.delete(key)

    def failure_count(self, key: str) -> int:
        """Failures of ``key`` within the window that have not yet led to a lockout."""
        state = self.store.get(key)
        if state is None:
            return 0
        now = self._clock()
        return sum(1 for t in state.failures if now - t < self.window)

    def _record(self, key: str, refuse_if_locked: bool) -> tuple[bool, float]:
        now = self._clock()
        outcome = {"allowed": True, "locked_for": 0.0}

        def change(state: ThrottleState | None) -> ThrottleState:
            outcome.update(allowed=True, locked_for=0.0)  # a store may retry the change
            state = state or ThrottleState()
            if refuse_if_locked and state.locked_until > now:
                outcome["allowed"] = False
                return state
            if state.lockouts and now - max(state.locked_until, state.last_seen) > self.window:
                state.lockouts = 0  # quiet for a whole window since the last lockout
            state.last_seen = now
            state.failures = [t for t in state.failures if now - t < self.window]
            state.failures.append(now)
            if len(state.failures) >= self.max_failures:
                wait = min(self.lockout * 2**state.lockouts, self.max_lockout)
                state.lockouts += 1
                state.locked_until = now + wait
                state.failures = []
                outcome["locked_for"] = wait
            return state

        state = self.store.update(key, change, stale_before=now - self.window - self.max_lockout)
        if outcome["locked_for"]:
            log.warning(
                "staff login locked for %.0f s after repeated failures (%s)",
                outcome["locked_for"],
                key,
            )
        return bool(outcome["allowed"]), max(0.0, state.locked_until - now)


# -- the client's address ------------------------------------------------------------------


def client_address(
    peer: str | None, forwarded_for: str | None, trusted_proxies: Sequence[str] = ()
) -> str:
    """The address of the client behind a request, for counting its login failures.

    ``peer`` is the address of the direct peer (None: this host, which is how Streamlit
    reports a loopback peer). ``forwarded_for`` (the X-Forwarded-For header; several
    headers joined with commas) is believed only when the peer is one of
    ``trusted_proxies`` (IPs or CIDR networks): then its entries are read from the right,
    past every trusted proxy, and the first other address is the client. Anything a client
    wrote itself (left of the first untrusted hop) is never read. An entry that is not an
    IP address ends the walk at the last trusted hop. Without a trusted proxy the peer is
    the client (``"localhost"`` for None).
    """
    networks = [ip_network(n, strict=False) for n in trusted_proxies]

    def trusted(address: IPv4Address | IPv6Address | None) -> bool:
        if address is None:  # this host
            loopbacks = (ip_address("127.0.0.1"), ip_address("::1"))
            return any(a in n for n in networks for a in loopbacks)
        return any(address in n for n in networks)

    hop = _parse_ip(peer) if peer else None
    if peer and hop is None:
        return peer[:64]  # not an IP address (a Unix socket, a test): it is what we have
    if not trusted(hop):
        return str(hop) if hop else "localhost"
    entries = [e.strip() for e in (forwarded_for or "").split(",") if e.strip()]
    last = hop
    for entry in reversed(entries):
        address = _parse_ip(entry)
        if address is None:
            break  # garbage where a proxy should have written an address: stop believing
        if not trusted(address):
            return str(address)
        last = address
    return str(last) if last else "localhost"


def _parse_ip(text: str) -> IPv4Address | IPv6Address | None:
    """An address from ``1.2.3.4``, ``1.2.3.4:5678``, ``::1``, ``[::1]:5678`` or an
    IPv4-mapped IPv6 address (as the IPv4 address); None if it is none of these."""
    text = text.strip()
    if text.startswith("[") and "]" in text:
        text = text[1 : text.index("]")]
    elif text.count(":") == 1:
        text = text.split(":", 1)[0]
    try:
        address = ip_address(text.split("%", 1)[0])
    except ValueError:
        return None
    if isinstance(address, IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


# -- the facade the app uses ---------------------------------------------------------------


@dataclass(frozen=True)
class LoginResult:
    ok: bool
    wait_seconds: float
    message: str


class StaffAuth:
    """Checks the staff password against the configured hash, through a LoginThrottle that
    counts each attempt against the account tried *and* the client trying it: a client
    locks itself out after 5 failures, and so does the account after 5 failures from any
    number of clients or sessions (so new sessions or addresses get no fresh guesses)."""

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
        ``st.secrets.get("staff_password_hash")``. Without ``throttle``, failures are kept
        in the feedback database (``settings.feedback_db_url``), which every app process
        on this data dir (or SHOPBOT_FEEDBACK_URL) shares, so a lockout holds in all of
        them and survives a restart."""
        if throttle is None:
            from shopbot.login_records import SQLThrottleStore

            store = SQLThrottleStore(settings.feedback_db_url)
            throttle = LoginThrottle(clock=time.time, store=store)
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

    def login(self, client: str, password: str, account: str = STAFF_ACCOUNT) -> LoginResult:
        """Check ``password`` for ``account`` (the shared staff account) from ``client``
        (its address, see :func:`client_address`, or a session id when none is known).
        Refused while the account or the client is locked out."""
        if not self.configured:
            return LoginResult(False, 0.0, self.how_to_configure)
        keys = (f"account:{account}"[:200], f"client:{client}"[:200])
        try:
            wait = max(self.throttle.check(key) for key in keys)
            if wait > 0:
                return LoginResult(False, wait, _locked_message(wait))
            # Each attempt is counted before the (slow) bcrypt check and forgiven on
            # success, so parallel attempts cannot all pass the count at once.
            waits = []
            for key in keys:
                allowed, wait = self.throttle.attempt(key)
                if not allowed:
                    return LoginResult(False, wait, _locked_message(wait))
                waits.append(wait)
            if verify_password(password, self._hash):
                for key in keys:
                    self.throttle.success(key)
                return LoginResult(True, 0.0, "Logged in.")
        except ThrottleStoreError as exc:
            log.error("staff login refused: %s", exc)
            return LoginResult(
                False,
                0.0,
                "Staff sign-in is unavailable right now: the record of failed attempts cannot "
                "be read. Try again later; the server's log says why.",
            )
        wait = max(waits)
        if wait > 0:
            return LoginResult(False, wait, _locked_message(wait))
        return LoginResult(False, 0.0, "Wrong password.")


def _locked_message(wait: float) -> str:
    seconds = max(1, math.ceil(wait))
    unit = "second" if seconds == 1 else "seconds"
    return f"Too many failed attempts. Try again in {seconds} {unit}."
