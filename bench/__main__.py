"""`make bench`: every benchmark, then one table of figure, baseline, ratio and target.

`python -m bench --smoke` (`make bench-smoke`, run by CI) runs each for about a second so the harness
cannot rot; its figures mean nothing.
"""

from __future__ import annotations

import os
import sys

SMOKE = "--smoke" in sys.argv
if SMOKE:
    os.environ["HARROW_BENCH_SECONDS"] = "1"

from bench import api_bench, ipam_bench  # noqa: E402  (reads HARROW_BENCH_SECONDS at import)


def main() -> int:
    rows = [*api_bench.run(), *ipam_bench.run()]
    width = max(len(row[0]) for row in rows)
    print(f"\n{'figure':<{width}}  {'measured/s':>11}  {'baseline/s':>11}  {'ratio':>6}  target")
    for figure, measured, baseline, target in rows:
        ratio = measured / baseline if baseline else 0.0
        print(f"{figure:<{width}}  {measured:>11,.0f}  {baseline:>11,.0f}  {ratio:>5.2f}x  >= {target}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
