"""VirtualMachine: apply a claimed row to its cluster, and write back what the cluster shows.

Two paths touch a row. `reconcile` runs for a claimed row (one worker per
object, under a lease) and is the only one that writes to the cluster: create
or update the kubevirt.io VirtualMachine, call lifecycle subresources, delete.
`observe` runs on informer events for any row and only writes status: state,
node, IPs, conditions, observed_generation, finished Operations; when the
cluster drifted or a deletion advanced it pokes the row so a worker claims it.
Each visible status change is one MODIFIED change row (DELETED when purged).
"""

from __future__ import annotations

import copy
import json
import logging
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from google.protobuf import empty_pb2, json_format
from google.rpc import code_pb2
from kubernetes_asyncio import client
from kubernetes_asyncio.client.exceptions import ApiException
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from server.config import ReconcileConfig
from server.reconcile import progress
from server.reconcile.connection import ClusterConnection
from server.reconcile.metrics import Metrics
from server.reconcile.observe import observe, set_condition
from server.reconcile.translate import FINALIZER, GENERATION_ANNOTATION, Intent, differences, translate
from server.services import common
from server.services.virtual_machines import KIND, to_proto
from storage.db import Database
from storage.models import OperationRow, VirtualMachineRow
from storage.repos import changes, work

log = logging.getLogger(__name__)

Obj = dict[str, Any]
GROUP, VERSION, PLURAL = "kubevirt.io", "v1", "virtualmachines"
CONFLICT_RETRIES = 5
# While the cluster is finishing something the worker started (a deletion), look again this soon at the latest.
WAITING_SECONDS = 2.0


class Waiting(Exception):
    """The cluster is busy with something that must finish first; try again shortly."""


@dataclass
class Outcome:
    purge: bool = False
    waiting: bool = False
    drift: list[str] = field(default_factory=list)
    requested: dict[uuid.UUID, Obj] = field(default_factory=dict)


def intent_of(row: VirtualMachineRow) -> Intent:
    return Intent(
        namespace=row.namespace,
        vm_id=row.name.rsplit("/", 1)[1],
        uid=str(row.uid),
        generation=row.generation,
        spec=row.spec,
    )


def owned(desired: Obj) -> Obj:
    """The parts of a translated object Harrow owns and compares (finalizers are checked on their own)."""
    metadata = desired["metadata"]
    return {"metadata": {"labels": metadata["labels"], "annotations": metadata["annotations"]}, "spec": desired["spec"]}


def drift_of(row: VirtualMachineRow, desired: Obj, actual: Obj) -> list[str]:
    """What someone else changed on a cluster object Harrow had already brought to the row's generation."""
    annotations = (actual.get("metadata") or {}).get("annotations") or {}
    if annotations.get(GENERATION_ANNOTATION) != str(row.generation):
        return []
    found = differences(owned(desired), actual)
    if FINALIZER not in ((actual.get("metadata") or {}).get("finalizers") or []):
        found.append("metadata.finalizers")
    return found


def _merge(base: Obj, overlay: Obj) -> Obj:
    out = copy.deepcopy(base)
    for key, value in overlay.items():
        out[key] = _merge(out[key], value) if isinstance(value, dict) and isinstance(out.get(key), dict) else value
    return out


class VmWorker:
    def __init__(self, db: Database, settings: ReconcileConfig, owner: str, metrics: Metrics):
        self._db = db
        self._settings = settings
        self._owner = owner
        self._metrics = metrics

    # --- the claimed path -----------------------------------------------------------------------

    async def reconcile(self, uid: uuid.UUID, connection: ClusterConnection | None) -> None:
        async with self._db.transaction() as session:
            row = await session.get(VirtualMachineRow, uid)
            operations = list(await work.pending_operations(session, uid)) if row is not None else []
        if row is None or row.claimed_by != self._owner:
            return
        generation = row.generation
        log.debug("reconcile start %s by %s", uid, self._owner)
        try:
            if connection is None or not connection.ready:
                raise Waiting(f"cluster {row.cluster} is not reachable")
            if row.delete_time is not None:
                outcome = await self._delete(connection, row)
            else:
                outcome = await self._apply(connection, row)
                outcome.requested = await self._lifecycle(connection, row, operations)
        except Exception as error:
            log.debug("reconcile end %s by %s (failed)", uid, self._owner)
            await self._failed(uid, error)
            return
        log.debug("reconcile end %s by %s", uid, self._owner)
        await self._succeeded(uid, generation, outcome, connection)

    async def _apply(self, connection: ClusterConnection, row: VirtualMachineRow) -> Outcome:
        custom = client.CustomObjectsApi(connection.api)
        desired = translate(intent_of(row), connection.facts)
        name = desired["metadata"]["name"]
        actual, _ = connection.cached(row.namespace, name)
        outcome = Outcome()
        if actual is None:
            if row.applied_generation >= row.generation:
                outcome.drift = ["deleted"]
            try:
                await custom.create_namespaced_custom_object(GROUP, VERSION, row.namespace, PLURAL, desired)
                return outcome
            except ApiException as error:
                if error.status != 409:
                    raise
                actual = await custom.get_namespaced_custom_object(GROUP, VERSION, row.namespace, PLURAL, name)
        assert actual is not None
        if (actual.get("metadata") or {}).get("deletionTimestamp"):
            await self._release_finalizer(connection, actual)
            raise Waiting("the cluster object is being deleted by someone else; it is recreated once gone")
        outcome.drift = outcome.drift or drift_of(row, desired, actual)
        for _ in range(CONFLICT_RETRIES):
            finalizers = list((actual.get("metadata") or {}).get("finalizers") or [])
            if not differences(owned(desired), actual) and FINALIZER in finalizers:
                return outcome
            body = _merge(actual, owned(desired))
            body["metadata"]["finalizers"] = finalizers + ([FINALIZER] if FINALIZER not in finalizers else [])
            try:
                await custom.replace_namespaced_custom_object(GROUP, VERSION, row.namespace, PLURAL, name, body)
                return outcome
            except ApiException as error:
                if error.status != 409:
                    raise
                actual = await custom.get_namespaced_custom_object(GROUP, VERSION, row.namespace, PLURAL, name)
        raise Waiting(f"the cluster object kept changing during {CONFLICT_RETRIES} updates")

    async def _lifecycle(
        self, connection: ClusterConnection, row: VirtualMachineRow, operations: list[OperationRow]
    ) -> dict[uuid.UUID, Obj]:
        """Ask KubeVirt's subresources for the verbs the spec cannot express (restart, pause, Manual start…)."""
        requested: dict[uuid.UUID, Obj] = {}
        name = row.name.rsplit("/", 1)[1]
        for operation in operations:
            subresource = progress.subresource_for(operation.verb, row.spec.get("run_strategy", "HALTED"))
            if subresource is None or operation.progress is not None:
                continue
            if operation.target_generation < max(op.target_generation for op in operations):
                continue
            _, vmi = connection.cached(row.namespace, name)
            plural = "virtualmachineinstances" if subresource in ("pause", "unpause") else PLURAL
            path = f"/apis/subresources.kubevirt.io/v1/namespaces/{row.namespace}/{plural}/{name}/{subresource}"
            try:
                await connection.api.call_api(
                    path, "PUT", body={}, response_types_map={}, auth_settings=["BearerToken"]
                )
            except ApiException as error:
                if error.status == 409:
                    raise Waiting(f"{subresource}: {_api_message(error)}") from None
                raise
            requested[operation.id] = {
                "subresource": subresource,
                "vmi_uid": ((vmi or {}).get("metadata") or {}).get("uid", ""),
            }
        return requested

    async def _delete(self, connection: ClusterConnection, row: VirtualMachineRow) -> Outcome:
        custom = client.CustomObjectsApi(connection.api)
        name = row.name.rsplit("/", 1)[1]
        actual, _ = connection.cached(row.namespace, name)
        if actual is None:
            return Outcome(purge=True)
        if not (actual.get("metadata") or {}).get("deletionTimestamp"):
            try:
                await custom.delete_namespaced_custom_object(
                    GROUP, VERSION, row.namespace, PLURAL, name, propagation_policy="Foreground"
                )
            except ApiException as error:
                if error.status != 404:
                    raise
            return Outcome(waiting=True)
        await self._release_finalizer(connection, actual)
        return Outcome(waiting=True)

    @staticmethod
    async def _release_finalizer(connection: ClusterConnection, actual: Obj) -> None:
        """Let a deleted object go once everything it owned is gone (only Harrow's finalizer is left)."""
        metadata = actual["metadata"]
        if (metadata.get("finalizers") or []) != [FINALIZER]:
            return
        patch = [
            {"op": "test", "path": "/metadata/resourceVersion", "value": metadata["resourceVersion"]},
            {"op": "remove", "path": "/metadata/finalizers"},
        ]
        try:
            await connection.api.call_api(
                f"/apis/{GROUP}/{VERSION}/namespaces/{metadata['namespace']}/{PLURAL}/{metadata['name']}",
                "PATCH",
                body=patch,
                header_params={"Content-Type": "application/json-patch+json"},
                response_types_map={},
                auth_settings=["BearerToken"],
            )
        except ApiException as error:
            if error.status not in (404, 409, 422):
                raise

    async def _failed(self, uid: uuid.UUID, error: Exception) -> None:
        reason, message = _reason(error)
        async with self._db.transaction() as session:
            row = await work.held(session, uid, self._owner)
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
            log.info("%s: %s (%s); retrying in %.1fs", row.name, reason, message, delay)
            condition = {"type": "Reconciled", "status": "FALSE", "reason": reason, "message": message}
            conditions = set_condition(row.conditions, condition, at)
            if conditions != row.conditions:
                row.conditions = conditions
                await _record(session, row, "MODIFIED", at)

    async def _succeeded(
        self, uid: uuid.UUID, generation: int, outcome: Outcome, connection: ClusterConnection | None
    ) -> None:
        async with self._db.transaction() as session:
            row = await work.held(session, uid, self._owner)
            if row is None:
                return
            at = common.now()
            operations = list(await work.pending_operations(session, uid))
            for operation in operations:
                if operation.id in outcome.requested:
                    operation.progress = outcome.requested[operation.id]
                    operation.update_time = at
            if outcome.purge:
                await self._purge(session, row, operations, at)
                return
            changed = self._observe_into(session, row, operations, connection, at)
            conditions = set_condition(
                row.conditions, {"type": "Reconciled", "status": "TRUE", "reason": "Applied"}, at
            )
            if outcome.drift and connection is not None:
                self._metrics.drift_corrected(connection.cluster, KIND)
                count = self._metrics.drift_corrections[(connection.cluster, KIND)]
                log.info("%s: put back out-of-band change to %s", row.name, ", ".join(outcome.drift[:5]))
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
            wait = WAITING_SECONDS if outcome.waiting else self._settings.resync_seconds
            pending = [op for op in operations if not op.done]
            if pending:
                deadline = min(op.create_time for op in pending) + self._deadline
                wait = min(wait, max((deadline - at).total_seconds(), 0.0) + 0.1)
            work.release_done(row, applied_generation=generation, next_attempt_at=at + timedelta(seconds=wait))
            if changed:
                await _record(session, row, "MODIFIED", at)

    async def _purge(
        self, session: AsyncSession, row: VirtualMachineRow, operations: list[OperationRow], at: datetime
    ) -> None:
        row.purged = True
        row.claimed_by = None
        row.lease_expires_at = None
        row.next_attempt_at = None
        for operation in operations:
            if operation.verb == "delete":
                work.finish_operation(
                    operation,
                    now=at,
                    message="the cluster object is gone",
                    response=common.any_to_json(empty_pb2.Empty()),
                    error=None,
                )
            else:
                work.finish_operation(
                    operation,
                    now=at,
                    message="the virtual machine was deleted",
                    response=None,
                    error=common.status_json(code_pb2.ABORTED, "the virtual machine was deleted before this finished"),
                )
        await _record(session, row, "DELETED", at)

    @property
    def _deadline(self) -> timedelta:
        return timedelta(seconds=self._settings.operation_deadline_seconds)

    # --- the observing path ---------------------------------------------------------------------

    async def observe(self, uids: list[uuid.UUID], connection: ClusterConnection) -> None:
        """Write what the cluster shows into these rows, in one transaction; poke rows that need the worker.

        One commit for a batch of rows rather than one per row: a burst of cluster events (200 VMs
        booting) costs a few commits. Rows are locked first, in uid order, and every change row is
        appended last, so the batch never holds the revision counter while waiting for a row lock.
        """
        async with self._db.transaction() as session:
            rows = await work.locked_many(session, uids)
            pending = await work.pending_operations_of(session, [row.uid for row in rows])
            at = common.now()
            changed = []
            for row in rows:
                if row.cluster != connection.cluster:
                    continue
                if self._observe_into(session, row, pending.get(row.uid, []), connection, at):
                    changed.append(row)
                if self._needs_worker(row, connection):
                    work.poke(row, at)
            for row in changed:
                await _record(session, row, "MODIFIED", at)

    def _observe_into(
        self,
        session: AsyncSession,
        row: VirtualMachineRow,
        operations: list[OperationRow],
        connection: ClusterConnection | None,
        at: datetime,
    ) -> bool:
        """Fold the cached cluster objects into `row` and finish what they finish; True if the row visibly changed."""
        if connection is None:
            return False
        vm, vmi = connection.cached(row.namespace, row.name.rsplit("/", 1)[1])
        seen = observe(
            vm=vm,
            vmi=vmi,
            current_state=row.state,
            current_conditions=row.conditions,
            observed_generation=row.observed_generation,
            deleting=row.delete_time is not None,
            now=at,
        )
        before = (row.state, row.status, row.conditions, row.observed_generation)
        row.state = seen.state
        row.status = seen.status if vm is not None else row.status
        row.conditions = seen.conditions
        row.observed_generation = min(seen.observed_generation, row.generation)
        changed = before != (row.state, row.status, row.conditions, row.observed_generation)
        newest = max((op.target_generation for op in operations), default=0)
        for operation in operations:
            verdict = progress.judge(
                verb=operation.verb,
                target_generation=operation.target_generation,
                newest_generation=newest,
                progress=operation.progress,
                state=row.state,
                run_strategy=row.spec.get("run_strategy", "HALTED"),
                observed_generation=row.observed_generation,
                vmi_uid=seen.vmi_uid,
                created=operation.create_time,
                now=at,
                deadline=self._deadline,
            )
            if not verdict.done:
                continue
            if verdict.failed:
                log.info("%s: operation %s failed: %s", row.name, operation.id, verdict.message)
                work.finish_operation(
                    operation,
                    now=at,
                    message=verdict.message,
                    response=None,
                    error=common.status_json(code_pb2.DEADLINE_EXCEEDED, verdict.message),
                )
            else:
                work.finish_operation(
                    operation, now=at, message=verdict.message, response=common.any_to_json(to_proto(row)), error=None
                )
        return changed

    def _needs_worker(self, row: VirtualMachineRow, connection: ClusterConnection) -> bool:
        vm, _ = connection.cached(row.namespace, row.name.rsplit("/", 1)[1])
        if row.delete_time is not None:
            return vm is None or ((vm.get("metadata") or {}).get("finalizers") or []) == [FINALIZER]
        if row.applied_generation < row.generation:
            return False
        if vm is None:
            return True
        if (vm.get("metadata") or {}).get("deletionTimestamp"):
            return ((vm.get("metadata") or {}).get("finalizers") or []) == [FINALIZER]
        return bool(drift_of(row, translate(intent_of(row), connection.facts), vm))


async def _record(session: AsyncSession, row: VirtualMachineRow, event: str, at: datetime) -> None:
    row.revision = await changes.append(
        session,
        kind=KIND,
        parent=f"clusters/{row.cluster}/namespaces/{row.namespace}",
        name=row.name,
        uid=row.uid,
        event_type=event,
        resource=json_format.MessageToDict(to_proto(row)),
        now=at,
    )


def _api_message(error: ApiException) -> str:
    try:
        return str(json.loads(error.body or b"{}").get("message", error.reason))
    except (TypeError, ValueError):
        return str(error.reason)


def _reason(error: Exception) -> tuple[str, str]:
    """A CamelCase reason and a message for the Reconciled condition (never the request, never credentials)."""
    if isinstance(error, Waiting):
        return "Waiting", str(error)
    if isinstance(error, ApiException):
        return "ClusterRefused", f"HTTP {error.status}: {_api_message(error)}"
    if isinstance(error, OSError | TimeoutError):
        return "ClusterUnreachable", type(error).__name__
    return "ApplyFailed", f"{type(error).__name__}: {error}"[:500]


async def live_uids(session: AsyncSession, cluster: str) -> list[uuid.UUID]:
    query = select(VirtualMachineRow.uid).where(
        VirtualMachineRow.cluster == cluster, VirtualMachineRow.purged.is_(False)
    )
    return list((await session.execute(query)).scalars().all())
