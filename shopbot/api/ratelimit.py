"""Per-key request rate limit: a token bucket per API key, in this server process's memory.

A key's bucket holds up to ``burst`` requests and refills at ``rate_per_minute / 60`` per
second, so a key may send a short burst, then keeps its per-minute rate. A request that
finds the bucket empty is refused with the seconds until a token is back (Retry-After).
Replicas behind a load balancer each keep their own buckets.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Decision:
    allowed: bool
    limit: int  # requests per minute; 0 = unlimited
    remaining: int  # whole requests left in the bucket now
    retry_after: float  # seconds until the next request is allowed (0 when allowed)

    @property
    def retry_after_header(self) -> str:
        return str(max(1, math.ceil(self.retry_after)))


class RateLimiter:
    def __init__(
        self,
        rate_per_minute: int,
        burst: int,
        clock: Callable[[], float] = time.monotonic,
        max_keys: int = 100_000,
    ) -> None:
        self.rate_per_minute = rate_per_minute
        self.burst = burst
        self._clock = clock
        self._max_keys = max_keys
        self._buckets: dict[object, tuple[float, float]] = {}  # key -> (tokens, updated)
        self._lock = threading.Lock()

    def check(self, key: object, rate_per_minute: int | None = None) -> Decision:
        """Take one token from ``key``'s bucket if there is one. ``rate_per_minute``
        overrides the server's rate for this key (0 = unlimited)."""
        rate = self.rate_per_minute if rate_per_minute is None else rate_per_minute
        if rate <= 0:
            return Decision(True, 0, 0, 0.0)
        capacity = float(max(1, min(self.burst, rate)))
        per_second = rate / 60.0
        with self._lock:
            now = self._clock()
            tokens, updated = self._buckets.get(key, (capacity, now))
            tokens = min(capacity, tokens + (now - updated) * per_second)
            if tokens >= 1.0:
                self._store(key, tokens - 1.0, now)
                return Decision(True, rate, int(tokens - 1.0), 0.0)
            self._store(key, tokens, now)
            return Decision(False, rate, 0, (1.0 - tokens) / per_second)

    def _store(self, key: object, tokens: float, now: float) -> None:
        if key not in self._buckets and len(self._buckets) >= self._max_keys:
            self._buckets.clear()  # only after a flood of keys; a full bucket each is fair
        self._buckets[key] = (tokens, now)
