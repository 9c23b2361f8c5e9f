"""Snapshots, backups and images: one cluster object per row, as two kinds of KindWorker (worker.py).

Like a migration, each is one-shot: the first pass creates the object
(translate_backup.py) and later passes never create it again. A snapshot
taken again under the same name would hold the VM as it is now, not as it
was, so an object deleted outside Harrow is not put back, even when it went
before Harrow saw it: the row becomes FAILED saying so (the drift that can be
corrected without lying). For the same reason a namesake someone else made is
never adopted (the row fails naming it). The cluster's admission refusing the
object (e.g. Harvester's webhook) fails the row with the cluster's words.
Observing folds the object's status into the row (ready, progress, error,
size) and finishes the create Operation when the object is ready or failed.
Deleting deletes the object and purges the row once the cluster let it go; a
backup is never deleted with its VM.
"""

from __future__ import annotations

from abc import abstractmethod
from datetime import datetime
from typing import Any, TypeVar

from google.protobuf.message import Message
from google.rpc import code_pb2
from kubernetes_asyncio import client
from kubernetes_asyncio.client.exceptions import ApiException
from sqlalchemy.ext.asyncio import AsyncSession

from server.config import ReconcileConfig
from server.reconcile import translate_backup as tb
from server.reconcile.connection import ClusterConnection, Watched
from server.reconcile.metrics import Metrics
from server.reconcile.translate import UID_LABEL
from server.reconcile.worker import KindWorker, Outcome, api_message, fail_operation
from server.services import backups as service
from storage.db import Database
from storage.models import OperationRow, VmBackupRow, VmImageRow

Obj = dict[str, Any]
Row = TypeVar("Row", VmBackupRow, VmImageRow)
Kind = tuple[str, str, str, str]
# Status keys the API wrote when it accepted the request (the volumes as judged, the object chosen).
ACCEPTED_KEYS = ("volumes", "volume", "cluster_object")


def _watched(what: Kind) -> Watched:
    return Watched(what[0], what[1], what[2], optional=True)


class _CopyWorker(KindWorker[Row]):
    """What a backup and an image share; a subclass says which object a row becomes and how to read it."""

    @abstractmethod
    def what(self, row: Row) -> Kind: ...

    @abstractmethod
    def desired(self, row: Row) -> Obj: ...

    @abstractmethod
    def seen(self, row: Row, obj: Obj) -> tb.Seen: ...

    def parent_of(self, row: Row) -> str:
        return service.parent_of(row)

    @staticmethod
    def _object_name(row: Row) -> str:
        return row.name.rsplit("/", 1)[1]

    def _cached(self, connection: ClusterConnection, row: Row) -> Obj | None:
        return connection.get(self.what(row)[2], row.namespace, self._object_name(row))

    async def _live(self, connection: ClusterConnection, row: Row) -> Obj | None:
        """A live look when the cache has nothing: an object created a moment ago may not have reached it yet.

        A list by Harrow's uid label rather than a get, so the role needs no `get` (deploy/k8s/rbac.yaml)."""
        group, version, plural, _ = self.what(row)
        listing = await client.CustomObjectsApi(connection.api).list_namespaced_custom_object(
            group, version, row.namespace, plural, label_selector=f"{UID_LABEL}={row.uid}"
        )
        items: list[Obj] = listing.get("items") or []
        return items[0] if items else None

    # --- the claimed path -----------------------------------------------------------------------

    async def apply(self, connection: ClusterConnection, row: Row, operations: list[OperationRow]) -> Outcome:
        group, version, plural, kind = self.what(row)
        if not connection.serves(plural):
            return Outcome(ended=f"the cluster does not serve {kind} ({plural}.{group}/{version})")
        if row.state == "FAILED" or self._cached(connection, row) is not None:
            return Outcome()
        if row.applied_generation > 0 or row.observed_generation > 0:
            # An earlier pass made it, yet the cache has none: either it has not reached the cache yet, or it
            # was deleted before Harrow saw it. A live look tells which; it is never made again (module doc).
            if await self._live(connection, row) is not None:
                return Outcome(waiting=True)
            return Outcome(ended=f"the {kind} was deleted outside Harrow")
        try:
            await client.CustomObjectsApi(connection.api).create_namespaced_custom_object(
                group, version, row.namespace, plural, self.desired(row)
            )
        except ApiException as error:
            if not _name_taken(error):
                if error.status in (400, 403, 422):
                    return Outcome(ended=f"the cluster refused the {kind}: {api_message(error)}")
                raise
            # Ours, made by a pass that ended before recording it; or someone else's, which is never adopted:
            # it was not taken when this was asked for, and deleting this backup must not delete it.
            if await self._live(connection, row) is None:
                name = self._object_name(row)
                return Outcome(ended=f"a {kind} named {name} already exists in {row.namespace}, not made by Harrow")
        return Outcome(waiting=True)

    async def delete(self, connection: ClusterConnection, row: Row) -> Outcome:
        group, version, plural, _ = self.what(row)
        if not connection.serves(plural):
            return Outcome(purge=True)
        actual = self._cached(connection, row) or await self._live(connection, row)
        if actual is None:
            return Outcome(purge=True)
        if not (actual.get("metadata") or {}).get("deletionTimestamp"):
            try:
                await client.CustomObjectsApi(connection.api).delete_namespaced_custom_object(
                    group, version, row.namespace, plural, self._object_name(row)
                )
            except ApiException as error:
                if error.status != 404:
                    raise
        return Outcome(waiting=True)

    async def applied(self, session: AsyncSession, row: Row, outcome: Outcome, at: datetime) -> bool:
        if not outcome.ended or row.state == "FAILED":
            return False
        row.state = "FAILED"
        row.status = {**_accepted(row.status), "error": outcome.ended}
        return True

    # --- the observing path ---------------------------------------------------------------------

    def observe_into(
        self,
        session: AsyncSession,
        row: Row,
        operations: list[OperationRow],
        connection: ClusterConnection | None,
        at: datetime,
    ) -> bool:
        before = (row.state, row.status, row.observed_generation)
        if connection is not None and row.delete_time is None:
            actual = self._cached(connection, row)
            if actual is not None:
                seen = self.seen(row, actual)
                row.state, row.status = seen.state, {**_accepted(row.status), **seen.status}
                row.observed_generation = row.generation
            elif row.observed_generation > 0 and row.state != "FAILED":
                kind = self.what(row)[3]
                row.state = "FAILED"
                row.status = {**row.status, "error": f"the {kind} was deleted outside Harrow"}
        for operation in operations:
            self._judge(operation, row, at)
        return before != (row.state, row.status, row.observed_generation)

    def _judge(self, operation: OperationRow, row: Row, at: datetime) -> None:
        if operation.verb == "delete" or operation.done:
            return
        if row.state == "READY":
            self.finish(operation, row, at, "the cluster reports it ready", failed=False)
        elif row.state == "FAILED":
            message = f"the {self.what(row)[3]} failed: {row.status.get('error', '')}"
            fail_operation(operation, at, code_pb2.ABORTED, message)
        elif at - operation.create_time > self._deadline:
            self.finish(operation, row, at, f"the {self.what(row)[3]} was not ready in time", failed=True)

    def needs_worker(self, row: Row, connection: ClusterConnection) -> bool:
        """Only a deletion the cluster finished needs the worker: a missing object is not made again."""
        if row.delete_time is None:
            return False
        return not connection.serves(self.what(row)[2]) or self._cached(connection, row) is None


def _accepted(status: Obj) -> Obj:
    return {key: status[key] for key in ACCEPTED_KEYS if key in status}


class BackupWorker(_CopyWorker[VmBackupRow]):
    kind = service.BACKUP_KIND_NAME
    watched = (_watched(tb.HARVESTER_BACKUP), _watched(tb.KUBEVIRT_SNAPSHOT))

    def __init__(self, db: Database, settings: ReconcileConfig, owner: str, metrics: Metrics):
        super().__init__(db, settings, owner, metrics, VmBackupRow)

    def to_proto(self, row: VmBackupRow) -> Message:
        message: Message = service.backup_to_proto(row)
        return message

    def gone_message(self) -> str:
        return "the backup was deleted before this finished"

    def what(self, row: VmBackupRow) -> Kind:
        # Chosen by the API from the cluster's flavour when it accepted the backup, and kept (ACCEPTED_KEYS).
        return tb.KINDS[str(row.status["cluster_object"]["kind"])]

    def desired(self, row: VmBackupRow) -> Obj:
        kind = self.what(row)[3]
        return tb.translate_backup(
            kind, self._object_name(row), row.namespace, str(row.uid), row.vm, str(row.spec["type"])
        )

    def seen(self, row: VmBackupRow, obj: Obj) -> tb.Seen:
        claims = [str(volume.get("claim_name", "")) for volume in row.status.get("volumes") or []]
        return tb.observe_backup(obj, claims)


class ImageWorker(_CopyWorker[VmImageRow]):
    kind = service.IMAGE_KIND_NAME
    watched = (_watched(tb.HARVESTER_IMAGE),)

    def __init__(self, db: Database, settings: ReconcileConfig, owner: str, metrics: Metrics):
        super().__init__(db, settings, owner, metrics, VmImageRow)

    def to_proto(self, row: VmImageRow) -> Message:
        message: Message = service.image_to_proto(row)
        return message

    def gone_message(self) -> str:
        return "the image was deleted before this finished"

    def what(self, row: VmImageRow) -> Kind:
        return tb.HARVESTER_IMAGE

    def desired(self, row: VmImageRow) -> Obj:
        volume = row.status.get("volume") or {}
        return tb.translate_image(
            self._object_name(row),
            row.namespace,
            str(row.uid),
            str(row.spec.get("display_name", "")),
            str(volume.get("claim_name", "")),
            str(volume.get("storage_class", "")),
            str(volume.get("driver", "")),
        )

    def seen(self, row: VmImageRow, obj: Obj) -> tb.Seen:
        return tb.observe_image(obj)


def _name_taken(error: ApiException) -> bool:
    """The apiserver's 409, or Harvester's backup mutator, which runs first and answers a taken name (also one
    taken by the other backup type: they share names) with 400 `… "x" already exists` / `… is already used`."""
    if error.status == 409:
        return True
    message = api_message(error)
    return error.status == 400 and ("already exists" in message or "is already used" in message)
