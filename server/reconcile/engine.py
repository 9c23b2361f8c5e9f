"""The reconciler of one Harrow process: cluster connections, the claim loop and the status observers.

Work is found in PostgreSQL, not in memory (DESIGN §2): the claim loop takes
due rows of every kind with a lease, woken by the API's NOTIFY on
`harrow_changes`, by a finished worker, or by a short poll for retries,
resyncs and ledger changes coming due. Each claimed row runs on its own task
(one object, one worker; many objects in parallel, at most `workers` at once,
shared by all kinds). Informer events mark rows dirty; the observer folds the
cache into those rows in small batches, so a burst of cluster events costs one
transaction per row, not per event. The engine knows kinds only through
`KindWorker` (worker.py): adding a kind is adding its worker to `self.workers`.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import os
import socket
import time
import uuid
from datetime import timedelta
from typing import Any

import asyncpg

from server.auth.secret_box import SecretBox
from server.config import ReconcileConfig
from server.reconcile.backup_worker import BackupWorker, ImageWorker
from server.reconcile.connection import ClusterConnection
from server.reconcile.metrics import Metrics
from server.reconcile.migration_config_worker import MigrationConfigWorker
from server.reconcile.migration_policy_worker import MigrationPolicyWorker
from server.reconcile.migration_worker import MigrationWorker
from server.reconcile.namespaces import NAMESPACES, NamespaceLabels
from server.reconcile.observe import set_condition
from server.reconcile.pool_worker import PoolWorker
from server.reconcile.storage_worker import StorageWorker
from server.reconcile.vm_worker import VmWorker
from server.reconcile.worker import KindWorker
from server.services import common
from server.services.clusters import CLUSTER_KIND
from storage.db import Database
from storage.models import ClusterRow, OperationRow, ResourceColumns
from storage.repos import changes, work

log = logging.getLogger(__name__)

Obj = dict[str, Any]
# With no Cluster change to wake it, the cluster loop still looks this often: a connection that failed is
# retried, and one whose watches broke is shown UNREACHABLE, within a few seconds.
HEALTH_SECONDS = 2.0
# Re-reading a connected cluster's versions runs in the cluster loop: a server gone silent must not stall it.
REPROBE_SECONDS = 5.0
OBSERVE_BATCH_SECONDS = 0.05
OBSERVE_BATCH_ROWS = 100
# How often the per-pool gauges are read from the database (every replica reports the same truth).
GAUGE_SECONDS = 5.0
Worker = KindWorker[Any]


def _fingerprint(row: ClusterRow) -> str:
    digest = hashlib.sha256(row.kubeconfig or b"")
    digest.update(str(row.spec.get("flavor", "FLAVOR_UNSPECIFIED")).encode())
    return digest.hexdigest()


class Reconciler:
    def __init__(self, db: Database, settings: ReconcileConfig, secrets: SecretBox | None = None):
        self._db = db
        self._settings = settings
        # Opens sealed kubeconfigs; without a key only plaintext ones (development) open.
        self._secrets = secrets or SecretBox()
        self.owner = f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:8]}"
        self.metrics = Metrics()
        self.pools = PoolWorker(db, settings, self.owner, self.metrics)
        # Pools first: they are few and cheap, and a burst of VMs must not starve their mirrors.
        self.workers: dict[str, Worker] = {
            worker.kind: worker
            for worker in (
                self.pools,
                StorageWorker(db, settings, self.owner, self.metrics),
                MigrationConfigWorker(db, settings, self.owner, self.metrics),
                MigrationPolicyWorker(db, settings, self.owner, self.metrics),
                VmWorker(db, settings, self.owner, self.metrics),
                MigrationWorker(db, settings, self.owner, self.metrics),
                BackupWorker(db, settings, self.owner, self.metrics),
                ImageWorker(db, settings, self.owner, self.metrics),
            )
        }
        self._by_plural = {what.plural: worker for worker in self.workers.values() for what in worker.watched}
        self.connections: dict[str, ClusterConnection] = {}
        # Not a kind: namespace labels go to the cluster row, for policy matching (namespaces.py).
        self.namespaces = NamespaceLabels(db, self.connections.get)
        self._failed_fingerprints: dict[str, tuple[str, float]] = {}
        self._wake_claims = asyncio.Event()
        self._wake_clusters = asyncio.Event()
        self._wake_observer = asyncio.Event()
        self._dirty: dict[tuple[str, uuid.UUID], str] = {}
        self._tasks: list[asyncio.Task[None]] = []
        self._workers: set[asyncio.Task[None]] = set()
        # Connections being opened, by cluster, with the fingerprint they are for: each in a task of its own,
        # so one cluster that does not answer does not hold up the others (or the loop) for connect_seconds.
        self._connecting: dict[str, tuple[str, asyncio.Task[None]]] = {}

    @property
    def api_calls(self) -> int:
        return sum(connection.api.calls for connection in self.connections.values())

    async def start(self) -> None:
        await asyncio.gather(*await self._sync_clusters())
        for name, loop in (
            ("listen", self._listen),
            ("clusters", self._cluster_loop),
            ("claims", self._claim_loop),
            ("observer", self._observer_loop),
            ("gauges", self._gauge_loop),
            ("namespaces", self.namespaces.run),
        ):
            self._tasks.append(asyncio.create_task(loop(), name=f"reconcile-{name}"))

    async def stop(self) -> None:
        connecting = [task for _, task in self._connecting.values()]
        for task in [*self._tasks, *self._workers, *connecting]:
            task.cancel()
        for task in [*self._tasks, *self._workers, *connecting]:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        for connection in self.connections.values():
            await connection.close()
        self.connections.clear()

    # --- wake-ups -------------------------------------------------------------------------------

    async def _listen(self) -> None:
        while True:
            connection: asyncpg.Connection | None = None
            try:
                connection = await asyncpg.connect(self._db.url, timeout=5)
                await connection.add_listener(changes.NOTIFY_CHANNEL, lambda *args: self._notified(args[-1]))
                self._notified(CLUSTER_KIND.name)
                await asyncio.Event().wait()
            except asyncio.CancelledError:
                raise
            except Exception as error:
                log.warning("reconciler lost its notification connection (%s); retrying", type(error).__name__)
                await asyncio.sleep(self._settings.poll_seconds)
            finally:
                if connection is not None:
                    with contextlib.suppress(Exception):
                        await connection.close()

    def _notified(self, kind: str) -> None:
        """A change was committed (the payload is its kind): claim work; re-read clusters only for a Cluster."""
        self._wake_claims.set()
        if kind == CLUSTER_KIND.name:
            self._wake_clusters.set()

    def _on_cluster_event(self, cluster: str, plural: str, event: str, obj: Obj) -> None:
        if plural == NAMESPACES.plural:
            self.namespaces.changed(cluster)
            return
        worker = self._by_plural.get(plural)
        key = worker.dirty_key(cluster, obj) if worker is not None else None
        if worker is None or key is None:
            return
        self._dirty[(worker.kind, key)] = cluster
        self._wake_observer.set()

    # --- clusters -------------------------------------------------------------------------------

    async def _cluster_loop(self) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                wait = min(self._settings.cluster_refresh_seconds, HEALTH_SECONDS)
                await asyncio.wait_for(self._wake_clusters.wait(), wait)
            self._wake_clusters.clear()
            try:
                await self._sync_clusters()
            except Exception as error:
                log.warning("cluster sync failed: %s", type(error).__name__)
            await asyncio.sleep(0.5)

    async def _sync_clusters(self) -> list[asyncio.Task[None]]:
        """Drop removed clusters, report reachability on each row, and start connecting to new or changed ones.

        Returns the connections it started opening; they finish in the background.
        """
        async with self._db.transaction() as session:
            rows = list(await work.clusters(session))
        wanted = {row.cluster: row for row in rows}
        for name in [name for name in self._connecting if name not in wanted]:
            self._connecting.pop(name)[1].cancel()
        for name in [name for name in self.connections if name not in wanted]:
            await self.connections.pop(name).close()
        loop = asyncio.get_running_loop()
        started: list[asyncio.Task[None]] = []
        for name, row in wanted.items():
            fingerprint = _fingerprint(row)
            current = self.connections.get(name)
            if current is not None and current.fingerprint == fingerprint:
                if not current.ready:
                    await self._report(row.uid, None, current.error or "watch failed")
                    continue
                if time.monotonic() - current.probed_at >= self._settings.cluster_refresh_seconds:
                    try:
                        flavor = str(row.spec.get("flavor", "FLAVOR_UNSPECIFIED"))
                        await asyncio.wait_for(current.reprobe(flavor), REPROBE_SECONDS)
                    except Exception as error:  # the informers decide reachability; keep what was read before
                        log.warning("re-reading cluster %s versions failed: %s", name, type(error).__name__)
                await self._report(row.uid, current, None)
                continue
            failed = self._failed_fingerprints.get(name)
            if (
                failed is not None
                and failed[0] == fingerprint
                and loop.time() - failed[1] < self._settings.poll_seconds * 10
            ):
                continue
            connecting = self._connecting.get(name)
            if connecting is not None and not connecting[1].done():
                if connecting[0] == fingerprint:
                    continue
                connecting[1].cancel()  # the kubeconfig changed while connecting: connect with the new one
            if current is not None:
                await self.connections.pop(name).close()
            task = asyncio.create_task(self._connect(name, fingerprint, row), name=f"reconcile-connect-{name}")
            self._connecting[name] = (fingerprint, task)
            started.append(task)
        return started

    async def _connect(self, name: str, fingerprint: str, row: ClusterRow) -> None:
        loop = asyncio.get_running_loop()
        try:
            try:
                connection = await ClusterConnection.open(
                    name,
                    fingerprint,
                    self._secrets.open(row.kubeconfig, row.name),
                    str(row.spec.get("flavor", "FLAVOR_UNSPECIFIED")),
                    watched=[*(what for worker in self.workers.values() for what in worker.watched), NAMESPACES],
                    qps=self._settings.qps,
                    burst=self._settings.burst,
                    watch_seconds=self._settings.watch_seconds,
                    on_event=self._on_cluster_event,
                    sync_seconds=self._settings.connect_seconds,
                )
            except Exception as error:
                self._failed_fingerprints[name] = (fingerprint, loop.time())
                message = _connect_error(error)
                log.warning("cluster %s is unreachable: %s", name, message)
                await self._report(row.uid, None, message)
                return
            self._failed_fingerprints.pop(name, None)
            self.connections[name] = connection
            self.namespaces.changed(name)
            log.info("cluster %s connected (%s)", name, connection.probe.flavor)
            await self._report(row.uid, connection, None)
            await self._mark_all_dirty(name)
            self._wake_claims.set()
        except Exception as error:  # reporting failed (the database is away): the next sync connects again
            log.warning("connecting cluster %s failed: %s", name, type(error).__name__)
            stale = self.connections.pop(name, None)
            if stale is not None:
                await stale.close()

    async def _report(self, uid: uuid.UUID, connection: ClusterConnection | None, error: str | None) -> None:
        async with self._db.transaction() as session:
            row = await work.cluster_locked(session, uid)
            if row is None:
                return
            at = common.now()
            before = (row.state, row.flavor, row.versions, row.conditions, row.observed_generation)
            if connection is not None:
                row.state = "READY"
                if row.spec.get("flavor", "FLAVOR_UNSPECIFIED") == "FLAVOR_UNSPECIFIED":
                    row.flavor = connection.probe.flavor
                row.versions = dict(connection.probe.versions)
                condition = {"type": "Reachable", "status": "TRUE", "reason": "Connected"}
            else:
                row.state = "UNREACHABLE"
                condition = {"type": "Reachable", "status": "FALSE", "reason": "ConnectFailed", "message": error or ""}
            row.conditions = set_condition(row.conditions, condition, at)
            row.observed_generation = row.generation
            if before != (row.state, row.flavor, row.versions, row.conditions, row.observed_generation):
                await CLUSTER_KIND.record(session, row, "MODIFIED", at)

    async def _mark_all_dirty(self, cluster: str) -> None:
        async with self._db.transaction() as session:
            for kind, worker in self.workers.items():
                for uid in await worker.all_keys(session, cluster):
                    self._dirty[(kind, uid)] = cluster
        self._wake_observer.set()

    # --- claims ---------------------------------------------------------------------------------

    async def _claim_loop(self) -> None:
        while True:
            self._wake_claims.clear()
            claimed = 0
            free = self._settings.workers - len(self._workers)
            ready = [name for name, connection in self.connections.items() if connection.ready]
            for worker in self.workers.values():
                if free - claimed <= 0 or not ready:
                    break
                try:
                    async with self._db.transaction() as session:
                        at = common.now()
                        claims = await work.claim(
                            session,
                            worker.table,
                            owner=self.owner,
                            clusters=ready,
                            limit=free - claimed,
                            lease=timedelta(seconds=self._settings.lease_seconds),
                            now=at,
                            also_due=worker.due(at),
                        )
                        operations = await work.pending_operations_of(session, [row.uid for row in claims])
                except Exception as error:
                    log.warning("claiming %s work failed: %s", worker.kind, type(error).__name__)
                    claims = []
                claimed += len(claims)
                for row in claims:
                    task = asyncio.create_task(
                        self._run(worker, row, operations.get(row.uid, [])), name=f"reconcile-{row.uid}"
                    )
                    self._workers.add(task)
                    task.add_done_callback(self._workers.discard)
            if claimed and claimed == free:
                await asyncio.sleep(0)
                continue
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake_claims.wait(), self._settings.poll_seconds)

    async def _run(self, worker: Worker, row: ResourceColumns, operations: list[OperationRow]) -> None:
        try:
            connection = self.connections.get(row.cluster)
            reconciling = worker.reconcile(row, operations, connection)
            await asyncio.wait_for(reconciling, self._settings.lease_seconds * 0.8)
        except asyncio.CancelledError:
            raise
        except Exception as error:
            log.warning("reconciling %s failed outside the worker: %s", row.uid, type(error).__name__)
        finally:
            self._wake_claims.set()

    # --- observing ------------------------------------------------------------------------------

    async def _observer_loop(self) -> None:
        while True:
            await self._wake_observer.wait()
            await asyncio.sleep(OBSERVE_BATCH_SECONDS)
            self._wake_observer.clear()
            batch, self._dirty = self._dirty, {}
            groups: dict[tuple[str, str], list[uuid.UUID]] = {}
            for (kind, uid), cluster in batch.items():
                groups.setdefault((kind, cluster), []).append(uid)
            for (kind, cluster), uids in groups.items():
                connection = self.connections.get(cluster)
                if connection is None:
                    continue
                for start in range(0, len(uids), OBSERVE_BATCH_ROWS):
                    chunk = uids[start : start + OBSERVE_BATCH_ROWS]
                    try:
                        await self.workers[kind].observe(chunk, connection)
                    except Exception as error:
                        log.warning("observing %d %s rows failed: %s", len(chunk), kind, type(error).__name__)
                        for uid in chunk:
                            self._dirty.setdefault((kind, uid), cluster)
            if self._dirty:
                self._wake_observer.set()

    async def _gauge_loop(self) -> None:
        while True:
            try:
                await self.pools.refresh_gauges()
            except Exception as error:
                log.warning("reading IP pool usage failed: %s", type(error).__name__)
            await asyncio.sleep(GAUGE_SECONDS)


def _connect_error(error: Exception) -> str:
    """Why a cluster cannot be reached, without echoing its kubeconfig."""
    if isinstance(error, LookupError | ValueError):
        return str(error)
    status = getattr(error, "status", None)
    if status is not None:
        return f"the API server answered HTTP {status}"
    if isinstance(error, TimeoutError):
        return "timed out connecting to the API server"
    return f"cannot connect to the API server ({type(error).__name__})"
