"""A scaled clock: simulated cluster time runs ``scale`` times faster than the wall.

Controllers express every delay (image import, migration transfer, the
vm-force-reset-policy period) in cluster seconds, so real-world defaults can
be kept and a test only turns the scale up to see minutes pass in
milliseconds. Timestamps written into objects stay on the wall clock: clients
compare them with their own clocks (kubectl's AGE, a reconciler's timeouts),
and a timestamp in the future would mislead them more than a compressed
duration does.
"""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime


class Clock:
    def __init__(self, scale: float = 1.0) -> None:
        if scale <= 0:
            raise ValueError("clock scale must be positive")
        self.scale = scale
        self._wall0 = time.monotonic()

    def elapsed(self) -> float:
        """Cluster seconds since start."""
        return (time.monotonic() - self._wall0) * self.scale

    def now(self) -> datetime:
        return datetime.now(UTC)

    def stamp(self) -> str:
        return self.now().strftime("%Y-%m-%dT%H:%M:%SZ")

    async def sleep(self, cluster_seconds: float) -> None:
        await asyncio.sleep(max(cluster_seconds, 0.0) / self.scale)
