"""`harrow-server up | serve | migrate | kubesim`.

`up` is the one-command demo and development mode: an embedded PostgreSQL
under the data directory, a simulated Harvester cluster (kubesim, 3 nodes,
clock sped up so a VM boots in well under a second) as `clusters/local`,
migrations, and the API on loopback. On its first start it prints an admin
token, once, and keeps a generated secret key under the data directory.
`serve` is production: an external PostgreSQL from HARROW_DATABASE_URL, and
`clusters/local` is the cluster the server runs in (its service account) when
there is one; it refuses to run without TLS and a secret key unless told
`--insecure`. `token create|revoke` mint and revoke API tokens directly in
the database, for the first admin of a `serve` installation.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import gc
import logging
import os
import signal
import sys
import warnings
from collections.abc import AsyncIterator, Callable
from datetime import timedelta
from pathlib import Path

import yaml

from server import logging_config
from server.app import Harrow
from server.auth import bootstrap
from server.auth.policy import ALL_CLUSTERS, Binding, Role
from server.auth.secret_box import generated_key
from server.config import Settings, from_environment
from server.domain.errors import HarrowError
from storage.db import Database

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
        command.add_argument("--tls-cert", help="certificate chain, PEM (HARROW_TLS_CERT_FILE)")
        command.add_argument("--tls-key", help="private key, PEM (HARROW_TLS_KEY_FILE)")
        command.add_argument(
            "--tls-client-ca", help="require client certificates from this CA (HARROW_TLS_CLIENT_CA_FILE)"
        )
        if name == "serve":
            command.add_argument(
                "--insecure", action="store_true", help="allow serving without TLS and storing kubeconfigs unencrypted"
            )
    commands.add_parser("migrate", help="apply the database schema to HARROW_DATABASE_URL")
    token = commands.add_parser("token", help="create or revoke API tokens in HARROW_DATABASE_URL")
    token_commands = token.add_subparsers(dest="token_command", required=True)
    create = token_commands.add_parser("create", help="print a new token's secret (the principal is created if new)")
    create.add_argument("--principal", required=True, help="principal ID, e.g. admin")
    create.add_argument("--role", choices=[role.name.lower() for role in Role], help="add this role binding")
    create.add_argument("--cluster", default=ALL_CLUSTERS, help="the binding's cluster (default *, every cluster)")
    create.add_argument("--namespace", default="", help="the binding's namespace (default: the whole cluster)")
    create.add_argument("--ttl-hours", type=float, help="expire after this many hours (default: never)")
    revoke = token_commands.add_parser("revoke", help="revoke a token by name")
    revoke.add_argument("name", help="principals/{principal}/tokens/{token}")
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
    if kubeconfig is not None and settings.auth.authenticate:
        secret = await bootstrap.bootstrap_admin(harrow.db)
        if secret is not None:
            # stdout, never the log: this is the only time the secret exists outside its holder.
            print(f"First start: an admin token (principals/admin), shown once; keep it safe:\n  {secret}", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    endpoints = await harrow.start()
    _freeze_startup_heap()
    try:
        on_ready(f"Harrow is serving\n  gRPC  {endpoints.grpc}\n  REST  {endpoints.rest}\nCtrl-C stops it.")
        await stop.wait()
        log.info("shutting down: draining calls")
    finally:
        await harrow.stop()


def _freeze_startup_heap() -> None:
    """Keep the objects start-up made (modules, descriptors, the SQLAlchemy and gRPC machinery) out of
    the collector's sight. They live as long as the process, yet each full collection walked all of them:
    a pause of ~100 ms on an idle machine, up to ~450 ms on a busy one, during which no Watch event or
    reply went out (the watch bench's p99 showed it)."""
    gc.collect()
    gc.freeze()


def _up(args: argparse.Namespace) -> int:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from storage.embedded import EmbeddedPostgres

    settings = _settings(args, data_dir=args.data_dir)
    if settings.auth.secret_key is None:
        key = generated_key(settings.data_dir / "secret.key")
        settings = dataclasses.replace(settings, auth=dataclasses.replace(settings.auth, secret_key=key))
    postgres = EmbeddedPostgres(settings.data_dir / "postgres")
    postgres.start()
    try:
        settings = dataclasses.replace(settings, database_url=postgres.url())
        asyncio.run(_run_until_signalled(settings, lambda text: print(text, flush=True), embedded=True))
    finally:
        postgres.stop()
    return 0


def _serve(args: argparse.Namespace) -> int:
    settings = _settings(args, default_host="0.0.0.0")
    if not settings.database_url:
        print("harrow-server serve: set HARROW_DATABASE_URL (postgresql://user@host:port/db)", file=sys.stderr)
        return 2
    if not args.insecure and settings.auth.tls is None:
        print(
            "harrow-server serve: set --tls-cert and --tls-key, or pass --insecure to serve plaintext", file=sys.stderr
        )
        return 2
    if not args.insecure and settings.auth.secret_key is None:
        print(
            "harrow-server serve: set HARROW_SECRET_KEY or HARROW_SECRET_KEY_FILE, or pass --insecure", file=sys.stderr
        )
        return 2
    asyncio.run(_run_until_signalled(settings, lambda text: log.info("%s", text)))
    return 0


def _settings(args: argparse.Namespace, *, data_dir: str | None = None, default_host: str = "127.0.0.1") -> Settings:
    return from_environment(
        host=args.host,
        grpc_port=args.grpc_port,
        rest_port=args.rest_port,
        data_dir=data_dir,
        default_host=default_host,
        tls_cert=args.tls_cert,
        tls_key=args.tls_key,
        tls_client_ca=args.tls_client_ca,
    )


def _token(args: argparse.Namespace) -> int:
    settings = from_environment()
    if not settings.database_url:
        print("harrow-server token: set HARROW_DATABASE_URL", file=sys.stderr)
        return 2

    async def run() -> int:
        db = Database(settings.database_url, pool_size=1)
        try:
            if args.token_command == "revoke":
                if not await bootstrap.revoke_token(db, args.name):
                    print(f"harrow-server token revoke: no token {args.name}", file=sys.stderr)
                    return 1
                print(f"revoked {args.name}")
                return 0
            binding = Binding(Role[args.role.upper()], args.cluster, args.namespace) if args.role else None
            ttl = timedelta(hours=args.ttl_hours) if args.ttl_hours else None
            name, secret = await bootstrap.create_token(db, args.principal, binding, ttl)
            print(f"{name}\n{secret}")
            return 0
        except HarrowError as error:
            print(f"harrow-server token: {error}", file=sys.stderr)
            return 2
        finally:
            await db.close()

    return asyncio.run(run())


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
    args = _parser().parse_args(argv)
    # JSON lines where a log pipeline reads them (serve, and migrate as its Job); plain text for people.
    log_format = os.environ.get("HARROW_LOG_FORMAT") or ("json" if args.command in ("serve", "migrate") else "text")
    logging_config.configure(json_lines=log_format == "json")
    commands: dict[str, Callable[[], int]] = {
        "up": lambda: _up(args),
        "serve": lambda: _serve(args),
        "migrate": _migrate,
        "token": lambda: _token(args),
        "kubesim": lambda: _kubesim(args.rest),
    }
    return commands[args.command]()


def _kubesim(rest: list[str]) -> int:
    from kubesim.cli import main as kubesim_main

    return kubesim_main(rest)


if __name__ == "__main__":
    sys.exit(main())
