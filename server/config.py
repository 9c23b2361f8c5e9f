"""Settings: one frozen object built from flags, then HARROW_* environment variables, then defaults."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from server.auth.secret_box import key_from_environment


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
    # How long connecting to a cluster (first answer, then listing every watched kind) may take before the
    # cluster is reported unreachable and tried again.
    connect_seconds: float = 15.0
    # An IP pool's cluster mirror is rewritten at most this often while allocations keep changing it.
    ip_pool_mirror_debounce_seconds: float = 1.0


@dataclass(frozen=True)
class TlsConfig:
    cert_file: Path
    key_file: Path
    # With a client CA, both listeners require client certificates signed by it (mutual TLS).
    client_ca_file: Path | None = None


@dataclass(frozen=True)
class LimitsConfig:
    """Per principal and per replica (kept in memory; see server.auth.limits); 0 turns a limit off."""

    # Requests per second each principal's token bucket refills at, and how many it holds (0: one second's worth).
    rate_limit_qps: float = 50.0
    rate_limit_burst: int = 100
    # Watch streams a principal may hold open at once.
    max_watches_per_principal: int = 20


@dataclass(frozen=True)
class AuthConfig:
    # Off (HARROW_AUTH=off) only behind something else that authenticates: every caller is then an admin.
    authenticate: bool = True
    # None serves plaintext: `serve` refuses that unless told --insecure.
    tls: TlsConfig | None = None
    # AES-256 key sealing kubeconfigs at rest; None stores them as they are (development only).
    secret_key: bytes | None = None
    limits: LimitsConfig = field(default_factory=LimitsConfig)


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
    auth: AuthConfig = field(default_factory=AuthConfig)


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
        connect_seconds=_env_float("HARROW_CLUSTER_CONNECT_SECONDS", defaults.connect_seconds),
        ip_pool_mirror_debounce_seconds=_env_float(
            "HARROW_IP_POOL_MIRROR_DEBOUNCE_SECONDS", defaults.ip_pool_mirror_debounce_seconds
        ),
    )


def from_environment(
    *,
    host: str | None = None,
    grpc_port: int | None = None,
    rest_port: int | None = None,
    data_dir: str | None = None,
    default_host: str = "127.0.0.1",
    tls_cert: str | None = None,
    tls_key: str | None = None,
    tls_client_ca: str | None = None,
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
        auth=auth_from_environment(tls_cert, tls_key, tls_client_ca),
    )


def auth_from_environment(cert: str | None, key: str | None, client_ca: str | None) -> AuthConfig:
    cert = cert or os.environ.get("HARROW_TLS_CERT_FILE")
    key = key or os.environ.get("HARROW_TLS_KEY_FILE")
    client_ca = client_ca or os.environ.get("HARROW_TLS_CLIENT_CA_FILE")
    if bool(cert) != bool(key):
        raise SystemExit("TLS needs both a certificate and a key (--tls-cert/--tls-key, HARROW_TLS_*_FILE)")
    if client_ca and not cert:
        raise SystemExit("a client CA needs TLS: set a certificate and key too")
    tls = TlsConfig(Path(cert), Path(key), Path(client_ca) if client_ca else None) if cert and key else None
    return AuthConfig(
        authenticate=os.environ.get("HARROW_AUTH", "on").lower() not in ("off", "false", "0"),
        tls=tls,
        secret_key=key_from_environment(),
        limits=limits_from_environment(),
    )


def limits_from_environment() -> LimitsConfig:
    defaults = LimitsConfig()
    return LimitsConfig(
        rate_limit_qps=_env_float("HARROW_RATE_LIMIT_QPS", defaults.rate_limit_qps),
        rate_limit_burst=_env_int("HARROW_RATE_LIMIT_BURST", defaults.rate_limit_burst),
        max_watches_per_principal=_env_int("HARROW_MAX_WATCHES_PER_PRINCIPAL", defaults.max_watches_per_principal),
    )
