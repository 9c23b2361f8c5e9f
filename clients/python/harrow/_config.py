"""Settings a client is created with, as frozen dataclasses so one value can be shared by many clients."""

from __future__ import annotations

import random
from dataclasses import dataclass, field


@dataclass(frozen=True)
class RetryConfig:
    """How calls are retried when the server is briefly unavailable or sheds load.

    Only calls that cannot have a second effect are retried: reads, and
    mutations carrying a ``request_id`` (the SDK generates one for every
    mutation that does not bring its own).
    """

    initial_backoff: float = 0.1
    """Seconds before the first retry (before jitter)."""
    max_backoff: float = 5.0
    """Longest wait between two attempts, unless the server's RetryInfo asks for longer."""
    multiplier: float = 2.0
    """Each wait is this many times the previous one."""
    max_attempts: int = 8
    """Attempts in all, the first included; 1 turns retries off."""
    codes: frozenset[str] = field(default_factory=lambda: frozenset({"UNAVAILABLE", "RESOURCE_EXHAUSTED"}))
    """google.rpc.Code names worth another attempt."""

    def delay(self, attempt: int, hinted: float | None = None) -> float:
        """Seconds to wait after failed attempt number ``attempt`` (1-based).

        Equal jitter (half fixed, half random) spreads clients that failed
        together; a RetryInfo delay from the server is a lower bound.
        """
        backoff = min(self.max_backoff, self.initial_backoff * self.multiplier ** (attempt - 1))
        return max(random.uniform(backoff / 2, backoff), hinted or 0.0)


@dataclass(frozen=True)
class TlsConfig:
    """TLS for the gRPC channel; every field empty means the system's trust store and no client certificate."""

    root_certificates: bytes | None = None
    """PEM CA bundle the server certificate must chain to."""
    private_key: bytes | None = None
    """PEM key of a client certificate (mutual TLS)."""
    certificate_chain: bytes | None = None
    """PEM client certificate chain (mutual TLS)."""
    server_name: str | None = None
    """Name to verify the server certificate against, when it differs from the endpoint's host."""
