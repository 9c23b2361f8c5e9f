"""Wiring: settings → database → services → transports (DESIGN §1).

`Harrow` owns everything that runs in one process and stops it in reverse
order: health goes NOT_SERVING, gRPC drains in-flight calls for a grace
period, REST closes, the reconciler lets go of its clusters, the change feed
stops, the pool closes. Under `up`, `local_kubeconfig` points
`clusters/local` at the embedded cluster before the reconciler starts.
Both transports get the same guarded servicers (server.auth.guard), so every
RPC is authenticated, authorized and audited the same way on each.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable
from dataclasses import dataclass

import grpc
from aiohttp import web
from grpc_health.v1 import health

from server.api.grpc.server import build_grpc_server
from server.api.grpc.servicers import (
    BackupServicer,
    ClusterServicer,
    IpPoolServicer,
    MigrationServicer,
    OperationServicer,
    SecurityServicer,
    StorageServicer,
    VirtualMachineServicer,
)
from server.api.rest import build_rest_app
from server.auth import tls
from server.auth.guard import Guard, guard_servicers
from server.auth.secret_box import SecretBox
from server.config import Settings
from server.observability import Observability
from server.reconcile.engine import Reconciler
from server.services.backups import BackupService
from server.services.clusters import ClusterService, point_local, seal_stored_kubeconfigs
from server.services.common import now
from server.services.ip_pools import IpPoolService
from server.services.migrations import MigrationService
from server.services.operations import OperationService
from server.services.security import SecurityService
from server.services.storage_profiles import StorageService
from server.services.virtual_machines import VirtualMachineService
from storage.changefeed import ChangeFeed
from storage.db import Database
from storage.repos import changes, idempotency

log = logging.getLogger(__name__)

HOUSEKEEPING_SECONDS = 60.0
# How long one shutdown step may take before it is abandoned (and logged).
STOP_SECONDS = 10.0


@dataclass(frozen=True)
class Endpoints:
    grpc: str
    rest: str


class Harrow:
    def __init__(self, settings: Settings, *, local_kubeconfig: str | None = None):
        self.settings = settings
        self._local_kubeconfig = local_kubeconfig
        self.db = Database(settings.database_url, pool_size=settings.database_pool_size)
        self.secrets = SecretBox(settings.auth.secret_key)
        self.reconciler = Reconciler(self.db, settings.reconcile, self.secrets) if settings.reconcile.enabled else None
        self.feed = ChangeFeed(self.db)
        servicers: dict[str, object] = {
            "harrow.v1.VirtualMachineService": VirtualMachineServicer(
                VirtualMachineService(self.db, self.feed, bookmark_seconds=settings.watch.bookmark_seconds)
            ),
            "harrow.v1.ClusterService": ClusterServicer(ClusterService(self.db, self.secrets)),
            "harrow.v1.OperationService": OperationServicer(OperationService(self.db)),
            "harrow.v1.IpPoolService": IpPoolServicer(IpPoolService(self.db)),
            "harrow.v1.MigrationService": MigrationServicer(MigrationService(self.db)),
            "harrow.v1.SecurityService": SecurityServicer(SecurityService(self.db)),
            "harrow.v1.StorageService": StorageServicer(StorageService(self.db)),
            "harrow.v1.BackupService": BackupServicer(BackupService(self.db)),
        }
        guard = Guard(self.db, authenticate_calls=settings.auth.authenticate, limits=settings.auth.limits)
        self.servicers = guard_servicers(servicers, guard)
        self.observability = Observability(self.db, self.reconciler)
        self._grpc: grpc.aio.Server | None = None
        self._health: health.aio.HealthServicer | None = None
        self._rest: web.AppRunner | None = None
        self._housekeeping: asyncio.Task[None] | None = None

    async def start(self) -> Endpoints:
        listen, files = self.settings.listen, self.settings.auth.tls
        self._warn_if_unprotected()
        if await seal_stored_kubeconfigs(self.db, self.secrets):
            log.info("sealed kubeconfigs stored before a secret key was configured")
        await self.feed.start()
        credentials = tls.grpc_credentials(files) if files is not None else None
        self._grpc, self._health, grpc_port = await build_grpc_server(
            self.servicers, listen.host, listen.grpc_port, credentials, [self.observability.grpc_interceptor]
        )
        await self._grpc.start()
        rest_app = build_rest_app(
            self.servicers,
            middlewares=[self.observability.rest_middleware],
            extra_routes=self.observability.rest_routes,
        )
        self._rest = web.AppRunner(
            self.observability.attach(rest_app), handle_signals=False, access_log=None, shutdown_timeout=2.0
        )
        await self._rest.setup()
        ssl_context = tls.rest_context(files) if files is not None else None
        site = web.TCPSite(self._rest, listen.host, listen.rest_port, ssl_context=ssl_context)
        await site.start()
        rest_port = self._rest.addresses[0][1]
        self._housekeeping = asyncio.create_task(self._keep_house(), name="housekeeping")
        if self._local_kubeconfig is not None:
            await point_local(self.db, self._local_kubeconfig, self.secrets)
        if self.reconciler is not None:
            await self.reconciler.start()
        scheme = "https" if files is not None else "http"
        return Endpoints(grpc=f"{listen.host}:{grpc_port}", rest=f"{scheme}://{listen.host}:{rest_port}")

    def _warn_if_unprotected(self) -> None:
        auth = self.settings.auth
        if not auth.authenticate:
            log.warning("authentication is off (HARROW_AUTH=off): every caller is an admin")
        if auth.tls is None:
            log.warning("serving without TLS: tokens and data cross the network in plaintext")
        if auth.secret_key is None:
            log.warning("no secret key (HARROW_SECRET_KEY): kubeconfigs are stored unencrypted")

    async def stop(self, grace_seconds: float = 5.0) -> None:
        """Stop everything; each step has a deadline, so a stuck stream or connection cannot hold shutdown."""
        if self._health is not None:
            await self._health.enter_graceful_shutdown()
        if self._housekeeping is not None:
            self._housekeeping.cancel()
            await _bounded(asyncio.gather(self._housekeeping, return_exceptions=True), "housekeeping")
        if self._grpc is not None:
            await _bounded(self._grpc.stop(grace_seconds), "gRPC server", grace_seconds + STOP_SECONDS)
        if self._rest is not None:
            await _bounded(self._rest.cleanup(), "REST server", grace_seconds + STOP_SECONDS)
        if self.reconciler is not None:
            await _bounded(self.reconciler.stop(), "reconciler")
        await _bounded(self.feed.stop(), "change feed")
        await _bounded(self.db.close(), "database pool")

    async def _keep_house(self) -> None:
        """Trim the change log to its retention and expire old request_ids, once a minute."""
        while True:
            try:
                async with self.db.transaction() as session:
                    await changes.compact(session, self.settings.watch.retained_changes)
                    await idempotency.expire(session, now())
            except Exception as error:
                log.warning("housekeeping skipped: %s", type(error).__name__)
            await asyncio.sleep(HOUSEKEEPING_SECONDS)


async def _bounded(step: Awaitable[object], what: str, seconds: float = STOP_SECONDS) -> None:
    try:
        await asyncio.wait_for(step, seconds)
    except TimeoutError:
        log.warning("shutdown: %s did not stop within %.0f s; going on without it", what, seconds)
