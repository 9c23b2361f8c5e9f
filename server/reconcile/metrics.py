"""Counters the reconciler keeps, in the shape Prometheus expects, without a client library.

prometheus-client is not a dependency yet; `render()` gives the text
exposition format so the metrics endpoint (another issue) can serve it as is.
"""

from __future__ import annotations

from collections import Counter


class Metrics:
    def __init__(self) -> None:
        self.drift_corrections: Counter[tuple[str, str]] = Counter()

    def drift_corrected(self, cluster: str, kind: str) -> None:
        self.drift_corrections[(cluster, kind)] += 1

    def render(self) -> str:
        lines = [
            "# HELP harrow_drift_corrections_total Cluster objects put back after an out-of-band change.",
            "# TYPE harrow_drift_corrections_total counter",
        ]
        for (cluster, kind), value in sorted(self.drift_corrections.items()):
            lines.append(f'harrow_drift_corrections_total{{cluster="{cluster}",kind="{kind}"}} {value}')
        return "\n".join(lines) + "\n"
