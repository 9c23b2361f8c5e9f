"""`harrow-server up | serve | migrate | kubesim`.

`up` is the one-command demo and development mode: an embedded PostgreSQL
under the data directory, a simulated Harvester cluster (kubesim, 3 nodes,
clock sped up so a VM boots in well under a second) as `clusters/local`,
migrations, and the API on loopback. `serve` is production: an external
PostgreSQL from HARROW_DATABASE_URL, and `clusters/local` is the cluster the
server runs in (its service account) when there is one.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import logging
import signal
import sys
import warnings
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import yaml

from server.app import Harrow
from server.config import Settings, from_environment

log = logging.getLogger("harrow")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="harrow-server", description="Harrow: VMs on KubeVirt / Harvester")
    commands = parser.add_subparsers(dest="command", required=True)
    for name, summary in (
        ("up", "run everything with embedded defaults (PostgreSQL under --data-dir)"),
        ("serve", "run against HARROW_DATABASE_URL"),
    ):
        command = commands.add_parser(name, help=summary)
        command.add_argument("--host", help="listen address (HARROW_HOST; up: 127.0.0.1, serve: 0.0.0.0)")
        command.add_argument("--grpc-port", type=int, help="gRPC port (HARROW_GRPC_PORT, default 50051)")
        command.add_argument("--rest-port", type=int, help="REST port (HARROW_REST_PORT, default 8080)")
        command.add_argument("--data-dir", help="state directory for up (HARROW_DATA_DIR, default .harrow)")
    commands.add_parser("migrate", help="apply the database schema to HARROW_DATABASE_URL")
    kubesim = commands.add_parser("kubesim", help="run the simulated Kubernetes cluster alone", add_help=False)
    kubesim.add_argument("rest", nargs=argparse.REMAINDER)
    return parser


# Cluster seconds per real second under `up`: a VM's ~6 simulated seconds to Running take ~0.1 s.
EMBEDDED_CLOCK_SCALE = 50.0


@contextlib.asynccontextmanager
async def _embedded_cluster(data_dir: Path) -> AsyncIterator[str]:
    """kubesim in this event loop; yields its kubeconfig, also written to <data-dir>/kubeconfig for kubectl."""
    from kubesim import KubeSim, KubeSimConfig

    sim = KubeSim(KubeSimConfig(clock_scale=EMBEDDED_CLOCK_SCALE))
    await sim.start()
    try:
        path = sim.write_kubeconfig(data_dir / "kubeconfig")
        log.info("embedded cluster at %s (kubectl --kubeconfig %s)", sim.url, path)
        yield yaml.safe_dump(sim.kubeconfig(), sort_keys=False)
    finally:
        await sim.stop()


async def _run_until_signalled(settings: Settings, on_ready: Callable[[str], None], *, embedded: bool = False) -> None:
    from storage.migrate import upgrade_async

    await upgrade_async(settings.database_url)
    async with contextlib.AsyncExitStack() as stack:
        kubeconfig = await stack.enter_async_context(_embedded_cluster(settings.data_dir)) if embedded else None
        await _serve_until_signalled(settings, on_ready, kubeconfig)


async def _serve_until_signalled(settings: Settings, on_ready: Callable[[str], None], kubeconfig: str | None) -> None:
    harrow = Harrow(settings, local_kubeconfig=kubeconfig)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    endpoints = await harrow.start()
    try:
        on_ready(f"Harrow is serving\n  gRPC  {endpoints.grpc}\n  REST  {endpoints.rest}\nCtrl-C stops it.")
        await stop.wait()
        log.info("shutting down: draining calls")
    finally:
        await harrow.stop()


def _up(args: argparse.Namespace) -> int:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from storage.embedded import EmbeddedPostgres

    settings = from_environment(
        host=args.host, grpc_port=args.grpc_port, rest_port=args.rest_port, data_dir=args.data_dir
    )
    postgres = EmbeddedPostgres(settings.data_dir / "postgres")
    postgres.start()
    try:
        settings = dataclasses.replace(settings, database_url=postgres.url())
        asyncio.run(_run_until_signalled(settings, lambda text: print(text, flush=True), embedded=True))
    finally:
        postgres.stop()
    return 0


def _serve(args: argparse.Namespace) -> int:
    settings = from_environment(
        host=args.host, grpc_port=args.grpc_port, rest_port=args.rest_port, default_host="0.0.0.0"
    )
    if not settings.database_url:
        print("harrow-server serve: set HARROW_DATABASE_URL (postgresql://user@host:port/db)", file=sys.stderr)
        return 2
    asyncio.run(_run_until_signalled(settings, lambda text: log.info("%s", text)))
    return 0


def _migrate() -> int:
    settings = from_environment()
    if not settings.database_url:
        print("harrow-server migrate: set HARROW_DATABASE_URL", file=sys.stderr)
        return 2
    from storage.migrate import upgrade

    upgrade(settings.database_url)
    print("schema is up to date")
    return 0


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    args = _parser().parse_args(argv)
    commands: dict[str, Callable[[], int]] = {
        "up": lambda: _up(args),
        "serve": lambda: _serve(args),
        "migrate": _migrate,
        "kubesim": lambda: _kubesim(args.rest),
    }
    return commands[args.command]()


def _kubesim(rest: list[str]) -> int:
    from kubesim.cli import main as kubesim_main

    return kubesim_main(rest)


if __name__ == "__main__":
    sys.exit(main())
