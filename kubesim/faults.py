"""Fault injection: the failures a reconciler must survive, on demand.

A rule matches a verb and a resource (``*`` for any) and either fails the
request (500 InternalError, or 429 TooManyRequests with ``Retry-After``, as
the real server's priority-and-fairness throttling does) or delays it. The
random source is seeded so a failing test can be replayed.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from .errors import ApiError


@dataclass(frozen=True)
class FaultRule:
    verb: str = "*"
    resource: str = "*"
    error_rate: float = 0.0
    code: int = 500
    retry_after_seconds: int = 1
    latency_ms: float = 0.0

    def matches(self, verb: str, resource: str) -> bool:
        return self.verb in ("*", verb) and self.resource in ("*", resource)


class Faults:
    def __init__(self, seed: int = 0) -> None:
        self.rules: list[FaultRule] = []
        self._random = random.Random(seed)

    def add(self, rule: FaultRule) -> None:
        if rule.code not in (429, 500):
            raise ApiError(400, "fault code must be 429 or 500")
        self.rules.append(rule)

    def clear(self) -> None:
        self.rules.clear()

    def latency(self, verb: str, resource: str) -> float:
        """Seconds to delay this request."""
        return sum(r.latency_ms for r in self.rules if r.matches(verb, resource)) / 1000.0

    def check(self, verb: str, resource: str) -> None:
        for rule in self.rules:
            if rule.error_rate and rule.matches(verb, resource) and self._random.random() < rule.error_rate:
                if rule.code == 429:
                    raise ApiError(
                        429,
                        "Too many requests, please try again later.",
                        details={"retryAfterSeconds": rule.retry_after_seconds},
                        headers={"Retry-After": str(rule.retry_after_seconds)},
                    )
                raise ApiError(500, f"Internal error occurred: injected fault for {verb} {resource}")
