"""Counters and gauges the reconciler keeps, in the shape Prometheus expects, without a client library.

prometheus-client is not a dependency yet; `render()` gives the text
exposition format so the metrics endpoint (another issue) can serve it as is.
Pool gauges are read from the database (the allocator of record), not counted
here, so every replica reports the same numbers.
"""

from __future__ import annotations

from collections import Counter


class Metrics:
    def __init__(self) -> None:
        self.drift_corrections: Counter[tuple[str, str]] = Counter()
        # (cluster, pool) → (addresses the ranges hand out, live allocations).
        self.pool_usage: dict[tuple[str, str], tuple[int, int]] = {}

    def drift_corrected(self, cluster: str, kind: str) -> None:
        self.drift_corrections[(cluster, kind)] += 1

    def set_pool_usage(self, usage: dict[tuple[str, str], tuple[int, int]]) -> None:
        self.pool_usage = dict(usage)

    def render(self) -> str:
        lines = [
            "# HELP harrow_drift_corrections_total Cluster objects put back after an out-of-band change.",
            "# TYPE harrow_drift_corrections_total counter",
        ]
        for (cluster, kind), value in sorted(self.drift_corrections.items()):
            lines.append(f'harrow_drift_corrections_total{{cluster="{cluster}",kind="{kind}"}} {value}')
        for index, (name, help_text) in enumerate(
            (
                ("harrow_ip_pool_size_addresses", "Addresses an IP pool's ranges can hand out."),
                ("harrow_ip_pool_used_addresses", "Addresses of an IP pool held by an owner."),
            )
        ):
            lines += [f"# HELP {name} {help_text}", f"# TYPE {name} gauge"]
            for (cluster, pool), values in sorted(self.pool_usage.items()):
                lines.append(f'{name}{{cluster="{cluster}",pool="{pool}"}} {values[index]}')
        return "\n".join(lines) + "\n"
