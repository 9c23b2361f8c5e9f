"""Per-principal limits: a request rate (token bucket) and a cap on open Watch streams.

The guard applies both to authenticated callers only: with authentication off
every caller is the same anonymous admin, and one shared bucket would throttle
the whole installation as if it were a single client.

The rate is charged after authentication and before authorization, so every
call a principal makes costs a token, including one that is then denied (a
denial still costs a scope lookup and an audit row); a call the limiter itself
refuses costs nothing, and it is not audited (writing a row for each refusal
would hand the flood the very work the limit saves). Calls without valid
credentials never reach the limiter: they are refused before there is a
principal to charge.

Both limits live in this process's memory, so they hold per replica: behind a
load balancer spreading a principal over N replicas, it may make up to N times
the rate and hold up to N times the streams. A restart forgets them.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from server.domain.errors import ResourceExhausted

Clock = Callable[[], float]

# Past this many principals, buckets that have refilled completely are dropped
# (a full bucket is the same as a new one), so memory follows the active set.
_PRUNE_ABOVE = 10_000


class TokenBucket:
    """`burst` tokens at most, refilled at `rate` per second; a request takes one."""

    def __init__(self, rate: float, burst: int, clock: Clock = time.monotonic) -> None:
        if rate <= 0 or burst < 1:
            raise ValueError("a token bucket needs a positive rate and a burst of at least 1")
        self._rate = rate
        self._burst = float(burst)
        self._clock = clock
        self._tokens = self._burst
        self._updated = clock()

    def take(self) -> float:
        """0.0 when a token was taken; otherwise the seconds until one will be there (none is taken)."""
        self._refill()
        if self._tokens >= 1.0:
            self._tokens -= 1.0
            return 0.0
        return (1.0 - self._tokens) / self._rate

    def full(self) -> bool:
        self._refill()
        return self._tokens >= self._burst

    def _refill(self) -> None:
        now = self._clock()
        elapsed = max(0.0, now - self._updated)
        self._tokens = min(self._burst, self._tokens + elapsed * self._rate)
        self._updated = now


class RateLimiter:
    """One token bucket per principal; `qps` 0 (or less) lets everything through."""

    def __init__(self, qps: float, burst: int, clock: Clock = time.monotonic) -> None:
        self._qps = qps
        # A burst of 0 means "one second's worth" (at least one request).
        self._burst = burst if burst > 0 else max(1, math.ceil(qps))
        self._clock = clock
        self._buckets: dict[str, TokenBucket] = {}

    @property
    def enabled(self) -> bool:
        return self._qps > 0

    def charge(self, principal: str) -> None:
        """Take a token from `principal`'s bucket; RESOURCE_EXHAUSTED with the delay until the next one if empty."""
        if not self.enabled:
            return
        bucket = self._buckets.get(principal)
        if bucket is None:
            if len(self._buckets) >= _PRUNE_ABOVE:
                self._prune()
            bucket = self._buckets[principal] = TokenBucket(self._qps, self._burst, self._clock)
        delay = bucket.take()
        if delay > 0:
            raise ResourceExhausted(
                f"{principal} is over its request rate ({self._qps:g}/s, burst {self._burst}); retry in {delay:.3f}s",
                reason="RATE_LIMITED",
                metadata={"principal": principal, "qps": f"{self._qps:g}", "burst": str(self._burst)},
                retry_after_seconds=delay,
            )

    def _prune(self) -> None:
        for principal in [p for p, bucket in self._buckets.items() if bucket.full()]:
            del self._buckets[principal]


class StreamLimiter:
    """How many Watch streams each principal has open; `limit` 0 (or less) is no limit."""

    def __init__(self, limit: int) -> None:
        self._limit = limit
        self._open: dict[str, int] = {}

    def open_streams(self, principal: str) -> int:
        return self._open.get(principal, 0)

    @contextmanager
    def slot(self, principal: str) -> Iterator[None]:
        """Hold one of `principal`'s streams for the block; RESOURCE_EXHAUSTED when all are taken.

        The slot is given back however the block ends: the stream finished,
        failed, or was cancelled because the client went away."""
        if self._limit <= 0:
            yield
            return
        held = self._open.get(principal, 0)
        if held >= self._limit:
            raise ResourceExhausted(
                f"{principal} already has {held} Watch streams open (at most {self._limit}); close one first",
                reason="TOO_MANY_WATCHES",
                metadata={"principal": principal, "limit": str(self._limit)},
            )
        self._open[principal] = held + 1
        try:
            yield
        finally:
            remaining = self._open[principal] - 1
            if remaining:
                self._open[principal] = remaining
            else:
                del self._open[principal]


@dataclass(frozen=True)
class Limits:
    rate: RateLimiter
    streams: StreamLimiter

    @classmethod
    def of(cls, qps: float, burst: int, max_streams: int, clock: Clock = time.monotonic) -> Limits:
        return cls(RateLimiter(qps, burst, clock), StreamLimiter(max_streams))

    @classmethod
    def none(cls) -> Limits:
        return cls.of(0, 0, 0)
