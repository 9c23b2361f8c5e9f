"""IpPool: keep each pool's IPPool mirror (translate_ip_pool.py) on its cluster, as one kind of KindWorker.

A pool is claimed when its intent changes (generation) and when its ledger
moved past what the mirror shows (`ip_pools.mirrored_sequence`), at most once
per debounce interval, so a burst of allocations costs one write of the
mirror. A pass that wrote the mirror looks again after the debounce: an
allocation committing while the ledger was read is picked up then. Create and
Update Operations finish when the mirror carries the pool's generation;
Delete when the mirror is gone, which also purges the row.

A cluster without Harvester's load balancer CRD has nothing to mirror into:
the pool still allocates, shows `Mirrored=False` and its Operations finish.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from google.protobuf.message import Message
from kubernetes_asyncio import client
from kubernetes_asyncio.client.exceptions import ApiException
from sqlalchemy import ColumnElement
from sqlalchemy.ext.asyncio import AsyncSession

from server.config import ReconcileConfig
from server.reconcile.connection import ClusterConnection, Watched
from server.reconcile.metrics import Metrics
from server.reconcile.observe import set_condition
from server.reconcile.translate import GENERATION_ANNOTATION, stamped_generation
from server.reconcile.translate_ip_pool import GROUP, PLURAL, VERSION, PoolIntent, edited, same, translate_ip_pool
from server.reconcile.worker import CONFLICT_RETRIES, KindWorker, Outcome, Waiting, mirror_needs_worker
from server.services import ip_pools
from storage.db import Database
from storage.models import IpPoolRow, OperationRow
from storage.repos import work

Obj = dict[str, Any]
# Newest released addresses shown in status.allocatedHistory; the ledger keeps them all.
HISTORY_LIMIT = 1024


@dataclass
class MirrorOutcome(Outcome):
    # The ledger sequence the written (or already matching) mirror shows.
    sequence: int = 0
    written: bool = False


def _rfc3339(at: datetime) -> str:
    return at.isoformat().replace("+00:00", "Z")


class PoolWorker(KindWorker[IpPoolRow]):
    kind = ip_pools.KIND
    watched = (Watched(GROUP, VERSION, PLURAL, optional=True),)

    def __init__(self, db: Database, settings: ReconcileConfig, owner: str, metrics: Metrics):
        super().__init__(db, settings, owner, metrics, IpPoolRow)
        self._debounce = timedelta(seconds=settings.ip_pool_mirror_debounce_seconds)

    def to_proto(self, row: IpPoolRow) -> Message:
        message: Message = ip_pools.to_proto(row)
        return message

    def parent_of(self, row: IpPoolRow) -> str:
        return f"clusters/{row.cluster}"

    def gone_message(self) -> str:
        return "the IP pool was deleted before this finished"

    def due(self, now: datetime) -> ColumnElement[bool] | None:
        return work.pool_ledger_moved(self._debounce, now)

    def next_look(self, row: IpPoolRow, outcome: Outcome) -> float:
        if isinstance(outcome, MirrorOutcome) and outcome.written:
            return self._debounce.total_seconds()
        return super().next_look(row, outcome)

    @staticmethod
    def _pool_id(row: IpPoolRow) -> str:
        return row.name.rsplit("/", 1)[1]

    # --- the claimed path -----------------------------------------------------------------------

    async def apply(self, connection: ClusterConnection, row: IpPoolRow, operations: list[OperationRow]) -> Outcome:
        if not connection.serves(PLURAL):
            async with self._db.transaction() as session:
                return MirrorOutcome(sequence=await work.ledger_position(session, row.uid))
        async with self._db.snapshot() as session:
            view = await ip_pools.ledger_view(session, row, HISTORY_LIMIT)
        desired = translate_ip_pool(
            PoolIntent(
                pool_id=self._pool_id(row),
                uid=str(row.uid),
                generation=row.generation,
                spec=row.spec,
                since=_rfc3339(row.create_time),
                allocated=view.allocated,
                history=view.history,
                last_allocated=view.last_allocated,
                total=view.total,
            )
        )
        custom = client.CustomObjectsApi(connection.api)
        name = desired["metadata"]["name"]
        outcome = MirrorOutcome(sequence=view.sequence)
        actual = connection.get(PLURAL, "", name)
        if actual is None:
            if row.applied_generation >= row.generation:
                outcome.drift = ["deleted"]
            try:
                await custom.create_cluster_custom_object(GROUP, VERSION, PLURAL, desired)
                outcome.written = True
                return outcome
            except ApiException as error:
                if error.status != 409:
                    raise
                actual = await custom.get_cluster_custom_object(GROUP, VERSION, PLURAL, name)
        assert actual is not None
        if (actual.get("metadata") or {}).get("deletionTimestamp"):
            raise Waiting("the IPPool mirror is being deleted by someone else; it is recreated once gone")
        if self._shows_generation(row, actual):
            outcome.drift = edited(desired, actual)
        for _ in range(CONFLICT_RETRIES):
            if same(desired, actual):
                return outcome
            metadata = dict(actual["metadata"])
            metadata["labels"] = {**(metadata.get("labels") or {}), **desired["metadata"]["labels"]}
            metadata["annotations"] = {**(metadata.get("annotations") or {}), **desired["metadata"]["annotations"]}
            body = {**desired, "metadata": metadata}
            try:
                await custom.replace_cluster_custom_object(GROUP, VERSION, PLURAL, name, body)
                outcome.written = True
                return outcome
            except ApiException as error:
                if error.status != 409:
                    raise
                actual = await custom.get_cluster_custom_object(GROUP, VERSION, PLURAL, name)
        raise Waiting(f"the IPPool mirror kept changing during {CONFLICT_RETRIES} updates")

    async def delete(self, connection: ClusterConnection, row: IpPoolRow) -> Outcome:
        if not connection.serves(PLURAL):
            return Outcome(purge=True)
        actual = connection.get(PLURAL, "", self._pool_id(row))
        if actual is None:
            return Outcome(purge=True)
        if (actual.get("metadata") or {}).get("deletionTimestamp"):
            return Outcome(waiting=True)
        custom = client.CustomObjectsApi(connection.api)
        name = actual["metadata"]["name"]
        try:
            if (actual.get("status") or {}).get("allocated"):
                # Harvester's webhook refuses to delete a pool whose status still lists allocations.
                emptied = {**actual, "status": {**actual["status"], "allocated": {}}}
                await custom.replace_cluster_custom_object(GROUP, VERSION, PLURAL, name, emptied)
            await custom.delete_cluster_custom_object(GROUP, VERSION, PLURAL, name)
        except ApiException as error:
            if error.status == 409:
                raise Waiting("the IPPool mirror changed while being emptied") from None
            if error.status != 404:
                raise
        return Outcome(waiting=True)

    async def applied(self, session: AsyncSession, row: IpPoolRow, outcome: Outcome, at: datetime) -> bool:
        if isinstance(outcome, MirrorOutcome) and outcome.sequence:
            row.mirrored_sequence = max(row.mirrored_sequence, outcome.sequence)
        row.mirrored_at = at
        return False

    # --- the observing path ---------------------------------------------------------------------

    @staticmethod
    def _shows_generation(row: IpPoolRow, actual: Obj) -> bool:
        annotations = (actual.get("metadata") or {}).get("annotations") or {}
        return annotations.get(GENERATION_ANNOTATION) == str(row.generation)

    def observe_into(
        self,
        session: AsyncSession,
        row: IpPoolRow,
        operations: list[OperationRow],
        connection: ClusterConnection | None,
        at: datetime,
    ) -> bool:
        if connection is None or row.delete_time is not None:
            return False
        before = (row.conditions, row.observed_generation)
        if not connection.serves(PLURAL):
            shown = row.generation
            mirrored = {
                "type": "Mirrored",
                "status": "FALSE",
                "reason": "NoIPPoolResource",
                "message": f"cluster {row.cluster} does not serve {GROUP}/{VERSION} {PLURAL}; nothing to mirror into",
            }
        else:
            actual = connection.get(PLURAL, "", self._pool_id(row))
            shown = stamped_generation(actual, row.observed_generation)
            mirrored = {"type": "Mirrored", "status": "TRUE" if actual else "FALSE", "reason": "IPPool"}
            if actual is None:
                mirrored["reason"] = "Missing"
        row.conditions = set_condition(row.conditions, mirrored, at)
        row.observed_generation = max(row.observed_generation, min(shown, row.generation))
        self.settle_operations(row, operations, at, "IPPool")
        return before != (row.conditions, row.observed_generation)

    def needs_worker(self, row: IpPoolRow, connection: ClusterConnection) -> bool:
        def drifted(actual: Obj) -> bool:
            intent = PoolIntent(self._pool_id(row), str(row.uid), row.generation, row.spec, since="")
            return self._shows_generation(row, actual) and bool(edited(translate_ip_pool(intent), actual))

        return mirror_needs_worker(
            row, connection.get(PLURAL, "", self._pool_id(row)), served=connection.serves(PLURAL), edited=drifted
        )

    async def refresh_gauges(self) -> None:
        """Per-pool size and use, from the database: every replica reports the same numbers."""
        async with self._db.snapshot() as session:
            pools = await ip_pools.usage(session)
        self._metrics.set_pool_usage(
            {(pool.cluster, self._pool_id(pool)): (total, used) for pool, total, used in pools}
        )
