"""What every kind of reconciled resource shares: claim → translate → apply → observe → finish → purge.

A kind (VirtualMachine, IpPool, …) supplies only what differs: which cluster
objects its connection must list and watch, how a claimed row is applied or
deleted, how the cached cluster objects fold into its row, and whether they
show something only a worker can fix (drift, a finished deletion). The
bookkeeping around that is written once, here: leases are checked on every
write, failures back off per object with a `Reconciled=False` condition,
drift is counted and recorded, and a purge finishes the row's Operations.

Two paths touch a row. `reconcile` runs for a claimed row (one worker per
object, under a lease) and is the only one that writes to the cluster.
`observe` runs on informer events for any batch of rows and only writes
status; when the cluster drifted or a deletion advanced it pokes the row so a
worker claims it. Each visible status change is one MODIFIED change row
(DELETED when purged).
"""

from __future__ import annotations

import json
import logging
import uuid
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, ClassVar, Generic, TypeVar

from google.protobuf import empty_pb2
from google.protobuf.message import Message
from google.rpc import code_pb2
from kubernetes_asyncio.client.exceptions import ApiException
from sqlalchemy import ColumnElement
from sqlalchemy.ext.asyncio import AsyncSession

from server.config import ReconcileConfig
from server.reconcile.connection import ClusterConnection, Watched
from server.reconcile.metrics import Metrics
from server.reconcile.observe import set_condition
from server.reconcile.translate import UID_LABEL
from server.services import common, intent
from storage.db import Database
from storage.models import OperationRow, ResourceColumns
from storage.repos import changes, work

Obj = dict[str, Any]
Row = TypeVar("Row", bound=ResourceColumns)
CONFLICT_RETRIES = 5
# While the cluster is finishing something the worker started (a deletion), look again this soon at the latest.
WAITING_SECONDS = 2.0


class Waiting(Exception):
    """The cluster is busy with something that must finish first; try again shortly."""


@dataclass
class Outcome:
    """What one apply or delete did, for the bookkeeping that follows it."""

    purge: bool = False
    waiting: bool = False
    drift: list[str] = field(default_factory=list)
    # Operation id → what was asked of the cluster for it (kept in operations.progress).
    requested: dict[uuid.UUID, Obj] = field(default_factory=dict)
    # Set with `purge`: why the row's pending Operations fail with FAILED_PRECONDITION (a refused adoption).
    refused: str = ""
    # Set when the cluster object can never come to be, or ended without the cluster saying so: why (an
    # admission refusal, the object deleted outside Harrow). Kinds whose rows can end (migrations, backups) read it.
    ended: str = ""


class KindWorker(ABC, Generic[Row]):
    kind: ClassVar[str]
    # The cluster objects this kind's connection must list and watch (labelled managed-by=harrow).
    watched: ClassVar[tuple[Watched, ...]]

    def __init__(self, db: Database, settings: ReconcileConfig, owner: str, metrics: Metrics, table: type[Row]):
        self._db = db
        self._settings = settings
        self._owner = owner
        self._metrics = metrics
        self.table = table
        self._log = logging.getLogger(type(self).__module__)
        # This kind as the change log sees it: the same entries the API writes (services/intent.py).
        self._kind = intent.Kind[Row](name=self.kind, to_proto=self.to_proto, parent_of=self.parent_of)

    # --- what a kind supplies --------------------------------------------------------------------

    @abstractmethod
    def to_proto(self, row: Row) -> Message: ...

    @abstractmethod
    def parent_of(self, row: Row) -> str: ...

    @abstractmethod
    async def apply(self, connection: ClusterConnection, row: Row, operations: list[OperationRow]) -> Outcome:
        """Make the cluster match the row's intent; raise Waiting when the cluster must finish something first."""

    @abstractmethod
    async def delete(self, connection: ClusterConnection, row: Row) -> Outcome:
        """Take the cluster objects away; `Outcome(purge=True)` once they are gone."""

    @abstractmethod
    def observe_into(
        self,
        session: AsyncSession,
        row: Row,
        operations: list[OperationRow],
        connection: ClusterConnection | None,
        at: datetime,
    ) -> bool:
        """Fold the cached cluster objects into `row` and finish what they finish; True if the row visibly changed."""

    @abstractmethod
    def needs_worker(self, row: Row, connection: ClusterConnection) -> bool:
        """Whether the cached cluster objects show something only a claimed worker can fix."""

    def dirty_key(self, cluster: str, obj: Obj) -> uuid.UUID | None:
        """The row a cluster object's change concerns: the one whose uid the object's label carries."""
        label = ((obj.get("metadata") or {}).get("labels") or {}).get(UID_LABEL)
        try:
            return uuid.UUID(label) if label else None
        except ValueError:
            return None

    async def all_keys(self, session: AsyncSession, cluster: str) -> list[uuid.UUID]:
        """What to observe when a cluster (re)connects: every live row of the kind there."""
        return await work.live_uids(session, self.table, cluster)

    def due(self, now: datetime) -> ColumnElement[bool] | None:
        """A kind's own reason, beyond generation and next_attempt_at, for a row to be claimed."""
        return None

    async def applied(self, session: AsyncSession, row: Row, outcome: Outcome, at: datetime) -> bool:
        """Kind-specific bookkeeping after a successful pass (the row is locked); True if it visibly changed."""
        return False

    def next_look(self, row: Row, outcome: Outcome) -> float:
        """Seconds until the row is looked at again after a successful pass."""
        return WAITING_SECONDS if outcome.waiting else self._settings.resync_seconds

    async def purged(self, session: AsyncSession, row: Row, at: datetime) -> None:
        """Release what the row held besides its cluster objects (in the purge's transaction)."""

    def gone_message(self) -> str:
        return f"the {self.kind} was deleted before this finished"

    # --- the claimed path -----------------------------------------------------------------------

    async def reconcile(self, row: Row, operations: list[OperationRow], connection: ClusterConnection | None) -> None:
        """Act on a row as claimed (with its pending Operations), then record the outcome under the lease."""
        uid, generation = row.uid, row.generation
        self._log.debug("reconcile start %s by %s", uid, self._owner)
        try:
            if connection is None or not connection.ready:
                raise Waiting(f"cluster {row.cluster} is not reachable")
            if row.delete_time is not None:
                outcome = await self.delete(connection, row)
            else:
                outcome = await self.apply(connection, row, operations)
        except Exception as error:
            self._log.debug("reconcile end %s by %s (failed)", uid, self._owner)
            await self._failed(uid, error)
            return
        self._log.debug("reconcile end %s by %s", uid, self._owner)
        await self._succeeded(uid, generation, outcome, connection)

    async def _failed(self, uid: uuid.UUID, error: Exception) -> None:
        reason, message = describe(error)
        async with self._db.transaction() as session:
            row = await work.held(session, self.table, uid, self._owner)
            if row is None:
                return
            at = common.now()
            delay = work.release_failed(
                row,
                error=message,
                now=at,
                base=self._settings.backoff_base_seconds,
                cap=self._settings.backoff_max_seconds,
            )
            self._log.info("%s: %s (%s); retrying in %.1fs", row.name, reason, message, delay)
            condition = {"type": "Reconciled", "status": "FALSE", "reason": reason, "message": message}
            conditions = set_condition(row.conditions, condition, at)
            if conditions != row.conditions:
                row.conditions = conditions
                await self.record(session, row, "MODIFIED", at)

    async def _succeeded(
        self, uid: uuid.UUID, generation: int, outcome: Outcome, connection: ClusterConnection | None
    ) -> None:
        async with self._db.transaction() as session:
            row = await work.held(session, self.table, uid, self._owner)
            if row is None:
                return
            at = common.now()
            operations = list(await work.pending_operations(session, uid))
            for operation in operations:
                if operation.id in outcome.requested:
                    operation.progress = outcome.requested[operation.id]
                    operation.update_time = at
            if outcome.purge:
                await self._purge(session, row, operations, at, outcome.refused)
                return
            changed = await self.applied(session, row, outcome, at)
            changed = self.observe_into(session, row, operations, connection, at) or changed
            conditions = set_condition(
                row.conditions, {"type": "Reconciled", "status": "TRUE", "reason": "Applied"}, at
            )
            if outcome.drift and connection is not None:
                self._metrics.drift_corrected(connection.cluster, self.kind)
                count = self._metrics.drift_corrections[(connection.cluster, self.kind)]
                self._log.info("%s: put back out-of-band change to %s", row.name, ", ".join(outcome.drift[:5]))
                drifted = {
                    "type": "DriftCorrected",
                    "status": "TRUE",
                    "reason": "OutOfBandChange",
                    "message": f"put back {', '.join(outcome.drift[:5])} (correction {count} on this cluster)",
                }
                conditions = set_condition(conditions, drifted, at, previous=[])
            if conditions != row.conditions:
                row.conditions = conditions
                changed = True
            wait = self.next_look(row, outcome)
            pending = [op for op in operations if not op.done]
            if pending:
                deadline = min(op.create_time for op in pending) + self._deadline
                wait = min(wait, max((deadline - at).total_seconds(), 0.0) + 0.1)
            work.release_done(row, applied_generation=generation, next_attempt_at=at + timedelta(seconds=wait))
            if changed:
                await self.record(session, row, "MODIFIED", at)

    async def _purge(
        self, session: AsyncSession, row: Row, operations: list[OperationRow], at: datetime, refused: str = ""
    ) -> None:
        row.purged = True
        row.claimed_by = None
        row.lease_expires_at = None
        row.next_attempt_at = None
        await self.purged(session, row, at)
        for operation in operations:
            if operation.verb == "delete":
                work.finish_operation(
                    operation,
                    now=at,
                    message="the cluster object is gone",
                    response=common.any_to_json(empty_pb2.Empty()),
                    error=None,
                )
            elif refused:
                fail_operation(operation, at, code_pb2.FAILED_PRECONDITION, refused)
            else:
                fail_operation(operation, at, code_pb2.ABORTED, self.gone_message())
        await self.record(session, row, "DELETED", at)

    @property
    def _deadline(self) -> timedelta:
        return timedelta(seconds=self._settings.operation_deadline_seconds)

    # --- the observing path ---------------------------------------------------------------------

    async def observe(self, uids: list[uuid.UUID], connection: ClusterConnection) -> None:
        """Write what the cluster shows into these rows, in one transaction; poke rows that need the worker.

        One commit for a batch of rows rather than one per row: a burst of cluster events (200 VMs
        booting) costs a few commits. Rows are locked first, in uid order (two batches never deadlock), and
        the batch's change rows go in last, in one statement."""
        async with self._db.transaction() as session:
            rows = await work.locked_many(session, self.table, uids)
            pending = await work.pending_operations_of(session, [row.uid for row in rows])
            at = common.now()
            changed = []
            for row in rows:
                if row.cluster != connection.cluster:
                    continue
                if self.observe_into(session, row, pending.get(row.uid, []), connection, at):
                    changed.append(row)
                if self.needs_worker(row, connection):
                    work.poke(row, at)
            await changes.append_many(session, [self._kind.change(row, "MODIFIED", at) for row in changed])

    def settle_operations(self, row: Row, operations: list[OperationRow], at: datetime, what: str) -> None:
        """Finish the Operations the cluster's `what` now shows (by generation), and those past the deadline.

        Deletes are left alone: they finish when the object is gone and the row is purged."""
        for operation in operations:
            if operation.verb == "delete":
                continue
            if row.observed_generation >= operation.target_generation:
                self.finish(operation, row, at, f"the cluster's {what} shows this", failed=False)
            elif at - operation.create_time > self._deadline:
                self.finish(operation, row, at, f"the cluster's {what} never showed this", failed=True)

    def finish(self, operation: OperationRow, row: Row, at: datetime, message: str, *, failed: bool) -> None:
        """Finish an Operation with the resource as it is now, or with DEADLINE_EXCEEDED."""
        if failed:
            self._log.info("%s: operation %s failed: %s", row.name, operation.id, message)
            fail_operation(operation, at, code_pb2.DEADLINE_EXCEEDED, message)
        else:
            work.finish_operation(
                operation, now=at, message=message, response=common.any_to_json(self.to_proto(row)), error=None
            )

    async def record(self, session: AsyncSession, row: Row, event: str, at: datetime) -> None:
        await self._kind.record(session, row, event, at)


def fail_operation(operation: OperationRow, at: datetime, code: int, message: str) -> None:
    """Finish an Operation with an error (google.rpc code and message), no response."""
    work.finish_operation(operation, now=at, message=message, response=None, error=common.status_json(code, message))


def mirror_needs_worker(
    row: ResourceColumns, actual: Obj | None, *, served: bool, edited: Callable[[Obj], bool]
) -> bool:
    """`needs_worker` for a row mirrored into one cluster object: its deletion can finish, the object went
    missing, or someone `edited` it after Harrow had brought it to the row's generation."""
    if not served:
        return row.delete_time is not None
    if row.delete_time is not None:
        return actual is None
    if row.applied_generation < row.generation:
        return False
    return actual is None or edited(actual)


def api_message(error: ApiException) -> str:
    try:
        return str(json.loads(error.body or b"{}").get("message", error.reason))
    except (TypeError, ValueError):
        return str(error.reason)


def describe(error: Exception) -> tuple[str, str]:
    """A CamelCase reason and a message for the Reconciled condition (never the request, never credentials)."""
    if isinstance(error, Waiting):
        return "Waiting", str(error)
    if isinstance(error, ApiException):
        return "ClusterRefused", f"HTTP {error.status}: {api_message(error)}"
    if isinstance(error, OSError | TimeoutError):
        return "ClusterUnreachable", type(error).__name__
    return "ApplyFailed", f"{type(error).__name__}: {error}"[:500]
