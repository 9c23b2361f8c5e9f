"""Settings: one frozen object built from flags, then HARROW_* environment variables, then defaults."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path


def _env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError as error:
        raise SystemExit(f"{name} must be an integer (got {raw!r})") from error


@dataclass(frozen=True)
class ListenConfig:
    host: str = "127.0.0.1"
    grpc_port: int = 50051
    rest_port: int = 8080


@dataclass(frozen=True)
class WatchConfig:
    # How long a quiet Watch stream waits before sending a BOOKMARK.
    bookmark_seconds: float = 10.0
    # Changes kept for Watch to resume from; older revisions answer OUT_OF_RANGE.
    retained_changes: int = 100_000


@dataclass(frozen=True)
class ReconcileConfig:
    enabled: bool = True
    # Objects reconciled at once by this replica (each object by one worker at a time).
    workers: int = 16
    # Client-side rate limit per cluster, as client-go's QPS/burst.
    qps: float = 200.0
    burst: int = 400
    # A claim's lease; a replica that dies holding one loses it after this long.
    lease_seconds: float = 30.0
    # How often every object is compared with its cluster object even with no change in sight.
    resync_seconds: float = 300.0
    # How often the claim loop looks for due retries when no notification wakes it.
    poll_seconds: float = 1.0
    backoff_base_seconds: float = 0.5
    backoff_max_seconds: float = 300.0
    # An Operation the cluster has not finished by then fails with DEADLINE_EXCEEDED.
    operation_deadline_seconds: float = 600.0
    # Watches are reopened this often (server-side timeout), resuming from their last resourceVersion.
    watch_seconds: int = 300
    # How often each cluster's versions and overcommit settings are read again.
    cluster_refresh_seconds: float = 300.0


@dataclass(frozen=True)
class Settings:
    listen: ListenConfig = field(default_factory=ListenConfig)
    watch: WatchConfig = field(default_factory=WatchConfig)
    # PostgreSQL URL (postgresql://…); empty under `up`, which runs its own.
    database_url: str = ""
    # Where `up` keeps its embedded PostgreSQL and kubeconfig.
    data_dir: Path = Path(".harrow")
    database_pool_size: int = 10
    reconcile: ReconcileConfig = field(default_factory=ReconcileConfig)


def _env_float(name: str, default: float) -> float:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        return float(raw)
    except ValueError as error:
        raise SystemExit(f"{name} must be a number (got {raw!r})") from error


def reconcile_from_environment() -> ReconcileConfig:
    defaults = ReconcileConfig()
    return ReconcileConfig(
        enabled=os.environ.get("HARROW_RECONCILE", "on").lower() not in ("off", "false", "0"),
        workers=_env_int("HARROW_RECONCILE_WORKERS", defaults.workers),
        qps=_env_float("HARROW_KUBE_QPS", defaults.qps),
        burst=_env_int("HARROW_KUBE_BURST", defaults.burst),
        lease_seconds=_env_float("HARROW_RECONCILE_LEASE_SECONDS", defaults.lease_seconds),
        resync_seconds=_env_float("HARROW_RECONCILE_RESYNC_SECONDS", defaults.resync_seconds),
        poll_seconds=_env_float("HARROW_RECONCILE_POLL_SECONDS", defaults.poll_seconds),
        backoff_base_seconds=_env_float("HARROW_RECONCILE_BACKOFF_BASE_SECONDS", defaults.backoff_base_seconds),
        backoff_max_seconds=_env_float("HARROW_RECONCILE_BACKOFF_MAX_SECONDS", defaults.backoff_max_seconds),
        operation_deadline_seconds=_env_float("HARROW_OPERATION_DEADLINE_SECONDS", defaults.operation_deadline_seconds),
        watch_seconds=_env_int("HARROW_KUBE_WATCH_SECONDS", defaults.watch_seconds),
        cluster_refresh_seconds=_env_float("HARROW_CLUSTER_REFRESH_SECONDS", defaults.cluster_refresh_seconds),
    )


def from_environment(
    *,
    host: str | None = None,
    grpc_port: int | None = None,
    rest_port: int | None = None,
    data_dir: str | None = None,
    default_host: str = "127.0.0.1",
) -> Settings:
    listen = ListenConfig(
        host=host or os.environ.get("HARROW_HOST") or default_host,
        grpc_port=grpc_port if grpc_port is not None else _env_int("HARROW_GRPC_PORT", 50051),
        rest_port=rest_port if rest_port is not None else _env_int("HARROW_REST_PORT", 8080),
    )
    return Settings(
        listen=listen,
        watch=WatchConfig(
            bookmark_seconds=float(os.environ.get("HARROW_WATCH_BOOKMARK_SECONDS", "10")),
            retained_changes=_env_int("HARROW_RETAINED_CHANGES", 100_000),
        ),
        database_url=os.environ.get("HARROW_DATABASE_URL", ""),
        data_dir=Path(data_dir or os.environ.get("HARROW_DATA_DIR") or ".harrow"),
        database_pool_size=_env_int("HARROW_DATABASE_POOL_SIZE", 10),
        reconcile=reconcile_from_environment(),
    )
