"""`make bench`: every benchmark, then one table of figure, baseline, ratio and target.

`python -m bench --smoke` (`make bench-smoke`, run by CI) runs each at a token size so the harness
cannot rot; its figures mean nothing. `python -m bench reconcile watch` runs only the named benches;
`--soak-seconds` sets the memory bench's churn soak (the issue's 10 minutes does not fit `make bench`).
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import time
from collections.abc import Callable

from bench.harness import Row, throughput_row

BENCHES = ("api", "ipam", "reconcile", "watch", "memory", "start")


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("benches", nargs="*", choices=[[], *BENCHES], help=f"which to run (default: all of {BENCHES})")
    parser.add_argument("--smoke", action="store_true", help="token sizes, for CI: checks the harness, not speed")
    parser.add_argument("--soak-seconds", type=float, help="memory bench churn soak (default 60, smoke 3)")
    parser.add_argument("--reconcile-vms", type=int, help="VMs in the reconcile bench (default 1000, smoke 50)")
    return parser.parse_args()


def _benches(args: argparse.Namespace) -> dict[str, Callable[[], list[Row]]]:
    if args.smoke:
        os.environ["HARROW_BENCH_SECONDS"] = "1"
    # Imported here: api_bench and ipam_bench read HARROW_BENCH_SECONDS at import.
    from bench import api_bench, ipam_bench, memory_bench, reconcile_bench, start_bench, watch_bench

    smoke = args.smoke
    vms = args.reconcile_vms or (50 if smoke else 1000)
    soak = args.soak_seconds if args.soak_seconds is not None else (3.0 if smoke else 60.0)
    loads = (watch_bench.Load(streams=20, rate=50.0, seconds=1.0),) if smoke else watch_bench.LOADS
    inventory = memory_bench.Inventory(200, 5, 100) if smoke else memory_bench.Inventory()
    return {
        "api": lambda: [throughput_row(*row) for row in api_bench.run()],
        "ipam": lambda: [throughput_row(*row) for row in ipam_bench.run()],
        "reconcile": lambda: reconcile_bench.run(vms),
        "watch": lambda: watch_bench.run(loads),
        "memory": lambda: memory_bench.run(inventory, soak),
        "start": lambda: start_bench.run(cold_only=smoke),
    }


def _value(value: float, unit: str) -> str:
    if math.isinf(value):
        return "never"
    if unit == "/s":
        return f"{value:,.0f}/s"
    if unit == "ms":
        return f"{value:,.1f} ms"
    if unit == "s":
        return f"{value:.2f} s"
    if unit == "MiB":
        return f"{value:.0f} MiB"
    if unit == "MiB/min":
        return f"{value:+.2f} MiB/min"
    return f"{value:.2f}"


def print_table(rows: list[Row]) -> None:
    width = max(len(row.figure) for row in rows)
    print(f"\n{'figure':<{width}}  {'measured':>14}  {'baseline':>14}  {'ratio':>7}  target")
    for row in rows:
        baseline = _value(row.baseline, row.unit) if row.baseline else "-"
        ratio = row.ratio
        shown = "-" if ratio is None else ("inf" if math.isinf(ratio) else f"{ratio:.2f}x")
        verdict = {True: "  met", False: "  MISSED", None: ""}[row.met]
        measured = _value(row.measured, row.unit)
        print(f"{row.figure:<{width}}  {measured:>14}  {baseline:>14}  {shown:>7}  {row.target}{verdict}")


def main() -> int:
    args = _arguments()
    benches = _benches(args)
    rows: list[Row] = []
    for name in args.benches or BENCHES:
        started = time.perf_counter()
        print(f"== {name}", flush=True)
        rows += benches[name]()
        print(f"   ({time.perf_counter() - started:.0f} s)", flush=True)
    print_table(rows)
    return 0


if __name__ == "__main__":
    sys.exit(main())
