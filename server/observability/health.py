"""HTTP probes for Kubernetes: `/healthz` (the process answers) and `/readyz` (it can serve API calls).

Readiness means the database answers and its schema is the one this build
expects; then the replica belongs in the Service. Each cluster's watch health
is reported in the body but does not decide readiness: one unreachable
managed cluster must not take every replica, and so the API for all other
clusters, out of the Service. Probes answer without authentication, as the
kubelet sends none, and say nothing secret.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from aiohttp import web
from alembic.script import ScriptDirectory
from sqlalchemy import text

from storage.migrate import alembic_config

if TYPE_CHECKING:
    from server.reconcile.engine import Reconciler
    from storage.db import Database

CHECK_SECONDS = 2.0


def expected_revisions() -> frozenset[str]:
    """The migration heads this build ships (the schema `harrow-server migrate` produces)."""
    return frozenset(ScriptDirectory.from_config(alembic_config("")).get_heads())


def _json(body: object, status: int) -> web.Response:
    return web.Response(text=json.dumps(body, indent=2) + "\n", status=status, content_type="application/json")


async def healthz(request: web.Request) -> web.Response:
    return _json({"status": "ok"}, 200)


def readyz(
    db: Database, reconciler: Reconciler | None, expected: frozenset[str]
) -> Callable[[web.Request], Awaitable[web.Response]]:
    async def handle(request: web.Request) -> web.Response:
        checks: dict[str, str] = {}
        clusters: dict[str, dict[str, str]] = {}
        try:
            async with asyncio.timeout(CHECK_SECONDS), db.read() as session:
                current = frozenset((await session.execute(text("SELECT version_num FROM alembic_version"))).scalars())
                states = (
                    await session.execute(text("SELECT cluster, state FROM clusters WHERE NOT purged ORDER BY cluster"))
                ).all()
            checks["database"] = "ok"
            checks["migrations"] = (
                "ok" if current == expected else f"schema at {sorted(current)}, this build needs {sorted(expected)}"
            )
            connections = reconciler.connections if reconciler is not None else {}
            for name, state in states:
                connection = connections.get(name)
                if connection is None:
                    watch = "not connected"
                else:
                    watch = "healthy" if connection.ready else f"unhealthy: {connection.error or 'not synced'}"
                clusters[name] = {"state": state, "watch": watch}
        except Exception as error:
            checks["database"] = f"unreachable ({type(error).__name__})"
        ready = all(value == "ok" for value in checks.values()) and len(checks) == 2
        body = {"status": "ready" if ready else "not ready", "checks": checks, "clusters": clusters}
        return _json(body, 200 if ready else 503)

    return handle
