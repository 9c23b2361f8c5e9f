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
class Settings:
    listen: ListenConfig = field(default_factory=ListenConfig)
    watch: WatchConfig = field(default_factory=WatchConfig)
    # PostgreSQL URL (postgresql://…); empty under `up`, which runs its own.
    database_url: str = ""
    # Where `up` keeps its embedded PostgreSQL and kubeconfig.
    data_dir: Path = Path(".harrow")
    database_pool_size: int = 10


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
    )
