"""Migration: one VirtualMachineInstanceMigration per Migration row, as one kind of KindWorker (worker.py).

A migration is one-shot: the first pass creates the VMIM (KubeVirt's admitter
may refuse it: the row then fails with the admitter's words); later passes
never recreate it, so a VMIM deleted outside Harrow ends the migration as
FAILED instead of migrating again. `:cancel` deletes the VMIM, which is how
KubeVirt aborts a migration. Observing folds the VMIM's phase and
`migrationState` into the row (migration_status.py) and finishes the
Operations: `migrate` when the migration ends, `cancel` when it ended aborted.

Why a Pending migration waits depends on every other migration of the
cluster, so an event for one migration refreshes all unfinished ones of that
cluster, and the limits in force are re-read from the KubeVirt CR at most
every few seconds.
"""

from __future__ import annotations

import time
import uuid
from datetime import datetime
from typing import Any

from google.protobuf.message import Message
from google.rpc import code_pb2
from kubernetes_asyncio import client
from kubernetes_asyncio.client.exceptions import ApiException
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from server.config import ReconcileConfig
from server.domain import live_migration
from server.reconcile import migration_status
from server.reconcile.connection import ClusterConnection, Watched
from server.reconcile.metrics import Metrics
from server.reconcile.translate import UID_LABEL
from server.reconcile.translate_migration import translate_migration
from server.reconcile.worker import KindWorker, Outcome, api_message, fail_operation
from server.services import common
from server.services.migrations import MIGRATION_KIND, finish_evacuations, migration_to_proto
from storage.db import Database
from storage.models import MigrationRow, OperationRow

Obj = dict[str, Any]
GROUP, VERSION, PLURAL = "kubevirt.io", "v1", "virtualmachineinstancemigrations"
VMIS = "virtualmachineinstances"
LIMITS_SECONDS = 3.0
# While a migration runs, look again this often (the informer usually reports sooner).
RUNNING_SECONDS = 2.0


def vmim_name(row: MigrationRow) -> str:
    return f"{row.vm}-{row.name.rsplit('/', 1)[1]}"


class MigrationWorker(KindWorker[MigrationRow]):
    kind = MIGRATION_KIND.name
    watched = (Watched(GROUP, VERSION, PLURAL),)

    def __init__(self, db: Database, settings: ReconcileConfig, owner: str, metrics: Metrics):
        super().__init__(db, settings, owner, metrics, MigrationRow)
        self._limits: dict[str, tuple[migration_status.Limits, float]] = {}

    def to_proto(self, row: MigrationRow) -> Message:
        message: Message = migration_to_proto(row)
        return message

    def parent_of(self, row: MigrationRow) -> str:
        return f"clusters/{row.cluster}/namespaces/{row.namespace}/virtualMachines/{row.vm}"

    def gone_message(self) -> str:
        return "the migration was deleted before this finished"

    def next_look(self, row: MigrationRow, outcome: Outcome) -> float:
        if row.state in migration_status.FINAL:
            return self._settings.resync_seconds
        return RUNNING_SECONDS

    # --- the claimed path -----------------------------------------------------------------------

    async def apply(self, connection: ClusterConnection, row: MigrationRow, operations: list[OperationRow]) -> Outcome:
        await self._refresh_limits(connection)
        if row.state in migration_status.FINAL:
            return Outcome()
        custom = client.CustomObjectsApi(connection.api)
        name = vmim_name(row)
        actual = connection.get(PLURAL, row.namespace, name) or await self._read(custom, row)
        if row.spec.get("cancel_requested"):
            if actual is None:
                return Outcome(ended="aborted by CancelMigration")
            if not (actual.get("metadata") or {}).get("deletionTimestamp"):
                try:
                    await custom.delete_namespaced_custom_object(GROUP, VERSION, row.namespace, PLURAL, name)
                except ApiException as error:
                    if error.status != 404:
                        raise
            return Outcome(waiting=True)
        if actual is not None:
            return Outcome(waiting=True)
        if row.applied_generation > 0:
            return Outcome(ended="the VirtualMachineInstanceMigration was deleted outside Harrow")
        body = translate_migration(row.namespace, row.vm, row.name.rsplit("/", 1)[1], str(row.uid), row.spec)
        try:
            await custom.create_namespaced_custom_object(GROUP, VERSION, row.namespace, PLURAL, body)
        except ApiException as error:
            if error.status in (400, 403, 422):
                return Outcome(ended=f"the cluster refused the migration: {api_message(error)}")
            if error.status != 409:
                raise
        return Outcome(waiting=True)

    @staticmethod
    async def _read(custom: client.CustomObjectsApi, row: MigrationRow) -> Obj | None:
        """A live look when the cache has nothing: a VMIM created a moment ago may not have reached it yet.

        A list by Harrow's uid label rather than a get, so the role needs no `get` (deploy/k8s/rbac.yaml).
        """
        listing = await custom.list_namespaced_custom_object(
            GROUP, VERSION, row.namespace, PLURAL, label_selector=f"{UID_LABEL}={row.uid}"
        )
        items: list[Obj] = listing.get("items") or []
        return items[0] if items else None

    async def _refresh_limits(self, connection: ClusterConnection) -> None:
        cached = self._limits.get(connection.cluster)
        if cached is not None and time.monotonic() - cached[1] < LIMITS_SECONDS:
            return
        block: Obj | None = None
        try:
            listing = await client.CustomObjectsApi(connection.api).list_cluster_custom_object(
                "kubevirt.io", "v1", "kubevirts"
            )
            items = listing.get("items") or []
            if items:
                block = ((items[0].get("spec") or {}).get("configuration") or {}).get("migrations")
        except ApiException as error:
            if error.status not in (403, 404):
                raise
        version = connection.probe.versions.get("kubevirt", "")
        self._limits[connection.cluster] = (migration_status.Limits.of(block, version), time.monotonic())

    async def delete(self, connection: ClusterConnection, row: MigrationRow) -> Outcome:
        actual = connection.get(PLURAL, row.namespace, vmim_name(row))
        if actual is None:
            return Outcome(purge=True)
        if not (actual.get("metadata") or {}).get("deletionTimestamp"):
            try:
                await client.CustomObjectsApi(connection.api).delete_namespaced_custom_object(
                    GROUP, VERSION, row.namespace, PLURAL, vmim_name(row)
                )
            except ApiException as error:
                if error.status != 404:
                    raise
        return Outcome(waiting=True)

    async def applied(self, session: AsyncSession, row: MigrationRow, outcome: Outcome, at: datetime) -> bool:
        if not outcome.ended or row.state in migration_status.FINAL:
            return False
        row.state = "FAILED"
        row.status = {**row.status, "failure_reason": outcome.ended, "end_time": _rfc3339(at)}
        row.status.pop("queue", None)
        return True

    # --- the observing path ---------------------------------------------------------------------

    async def observe(self, uids: list[uuid.UUID], connection: ClusterConnection) -> None:
        """Also refresh the cluster's other unfinished migrations: their queue positions moved too."""
        async with self._db.snapshot() as session:
            query = select(MigrationRow.uid).where(
                MigrationRow.cluster == connection.cluster,
                MigrationRow.purged.is_(False),
                MigrationRow.state.not_in(migration_status.FINAL),
            )
            unfinished = set((await session.execute(query)).scalars().all())
        await super().observe(sorted(set(uids) | unfinished), connection)
        await self._evacuations(connection.cluster)

    async def reconcile(
        self, row: MigrationRow, operations: list[OperationRow], connection: ClusterConnection | None
    ) -> None:
        await super().reconcile(row, operations, connection)
        if connection is not None:
            await self._evacuations(connection.cluster)

    async def _evacuations(self, cluster: str) -> None:
        """An evacuation's Operation ends with its last migration (services/migrations.py)."""
        async with self._db.transaction() as session:
            await finish_evacuations(session, cluster, common.now())

    def observe_into(
        self,
        session: AsyncSession,
        row: MigrationRow,
        operations: list[OperationRow],
        connection: ClusterConnection | None,
        at: datetime,
    ) -> bool:
        before = (row.state, row.status, row.observed_generation)
        vmim = connection.get(PLURAL, row.namespace, vmim_name(row)) if connection is not None else None
        if vmim is not None and row.state not in migration_status.FINAL:
            vmi = connection.get(VMIS, row.namespace, row.vm) if connection is not None else None
            state, status = migration_status.status(row.cluster, vmim, vmi, row.status, _data_bytes(vmi))
            if state == "PENDING" and connection is not None:
                waiting = migration_status.queue(
                    vmim, _all(connection, PLURAL), _sources(connection), self._limits_of(connection)
                )
                if waiting is not None:
                    status["queue"] = waiting
            if state == "FAILED" and row.spec.get("cancel_requested"):
                status["failure_reason"] = f"aborted by CancelMigration ({status.get('failure_reason', '')})"
            row.state, row.status = state, status
        elif vmim is None and connection is not None and row.state not in migration_status.FINAL:
            if row.observed_generation > 0:  # seen on the cluster before, gone now: it ended without us seeing how
                cancelled = row.spec.get("cancel_requested")
                reason = "aborted by CancelMigration" if cancelled else "the VMIM was deleted outside Harrow"
                kept = {key: value for key, value in row.status.items() if key != "queue"}
                row.state, row.status = "FAILED", {**kept, "failure_reason": reason, "end_time": _rfc3339(at)}
        if row.state in migration_status.FINAL or vmim is not None:
            row.observed_generation = row.generation
        for operation in operations:
            self._judge(operation, row, at)
        return before != (row.state, row.status, row.observed_generation)

    def _limits_of(self, connection: ClusterConnection) -> migration_status.Limits:
        cached = self._limits.get(connection.cluster)
        if cached is not None:
            return cached[0]
        return migration_status.Limits.of(None, connection.probe.versions.get("kubevirt", ""))

    def _judge(self, operation: OperationRow, row: MigrationRow, at: datetime) -> None:
        if row.state not in migration_status.FINAL:
            return
        reason = str(row.status.get("failure_reason", ""))
        cancelled = bool(row.spec.get("cancel_requested"))
        if operation.verb == "cancel":
            if row.state == "FAILED":
                self.finish(operation, row, at, f"the migration was aborted: {reason}", failed=False)
            else:
                fail_operation(
                    operation, at, code_pb2.FAILED_PRECONDITION, "the migration succeeded before it was aborted"
                )
        elif row.state == "SUCCEEDED":
            self.finish(operation, row, at, "the migration succeeded", failed=False)
        else:
            code = code_pb2.CANCELLED if cancelled else code_pb2.ABORTED
            fail_operation(operation, at, code, f"the migration failed: {reason}")

    def needs_worker(self, row: MigrationRow, connection: ClusterConnection) -> bool:
        if row.state in migration_status.FINAL or row.applied_generation < row.generation:
            return False
        return connection.get(PLURAL, row.namespace, vmim_name(row)) is None


def _all(connection: ClusterConnection, plural: str) -> list[Obj]:
    informer = connection.informers.get(plural)
    return list(informer.cache.values()) if informer is not None else []


def _sources(connection: ClusterConnection) -> dict[str, str]:
    out: dict[str, str] = {}
    for vmi in _all(connection, VMIS):
        node = (vmi.get("status") or {}).get("nodeName")
        if node:
            metadata = vmi.get("metadata") or {}
            out[f"{metadata.get('namespace', '')}/{metadata.get('name', '')}"] = str(node)
    return out


def _data_bytes(vmi: Obj | None) -> int:
    """What the completion timeout counts: the guest memory (as getVMIMigrationDataSize does)."""
    domain = ((vmi or {}).get("spec") or {}).get("domain") or {}
    guest = (domain.get("memory") or {}).get("guest") or ((domain.get("resources") or {}).get("requests") or {}).get(
        "memory"
    )
    if not guest:
        return 0
    try:
        return live_migration.guest_memory_bytes({"memory": str(guest)})
    except (ValueError, KeyError):
        return 0


def _rfc3339(at: datetime) -> str:
    return at.isoformat().replace("+00:00", "Z")
