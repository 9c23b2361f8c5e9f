"""``harrow-server kubesim``: run kubesim standalone until SIGINT/SIGTERM.

Writes a kubeconfig so kubectl and any client can point at it at once.
"""

from __future__ import annotations

import argparse
import asyncio
import signal

from .config import KubeSimConfig, NodeSpec
from .sim import KubeSim


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="kubesim",
        description="Kubernetes API emulator with simulated "
        "KubeVirt, CDI and Harvester (for tests and demos, not a cluster)",
    )
    parser.add_argument("--port", type=int, default=6443)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--kubeconfig", required=True, help="where to write a kubeconfig for clients")
    parser.add_argument("--nodes", type=int, default=3)
    parser.add_argument("--clock-scale", type=float, default=1.0, help="cluster seconds per wall second")
    parser.add_argument("--token", default=None, help="bearer token (random if omitted)")
    return parser


async def _serve(args: argparse.Namespace) -> None:
    config = KubeSimConfig(
        nodes=tuple(NodeSpec() for _ in range(args.nodes)), clock_scale=args.clock_scale, token=args.token
    )
    sim = KubeSim(config)
    await sim.start(host=args.host, port=args.port)
    path = sim.write_kubeconfig(args.kubeconfig)
    print(f"kubesim listening on {sim.url}; kubeconfig written to {path}", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    await sim.stop()


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    asyncio.run(_serve(args))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
