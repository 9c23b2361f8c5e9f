"""VirtualMachine: the kubevirt.io VirtualMachine (and its VMI) as one kind of KindWorker (worker.py).

Apply creates or updates the cluster VM from translate(), then asks
KubeVirt's subresources for the verbs the spec cannot express; delete goes
through Harrow's finalizer so nothing the VM owned is orphaned; observe folds
VM and VMI status into the row. Static addresses of NICs (issue 5) are read
from the allocation table when applying and kept in `status.interfaces`, the
copy that observing and drift checks use; the purge releases them.
"""

from __future__ import annotations

import copy
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from google.protobuf.message import Message
from kubernetes_asyncio import client
from kubernetes_asyncio.client.exceptions import ApiException
from sqlalchemy.ext.asyncio import AsyncSession

from server.config import ReconcileConfig
from server.reconcile import progress
from server.reconcile.adopt import Unadoptable, check_round_trip, spec_of
from server.reconcile.connection import ClusterConnection, Watched
from server.reconcile.metrics import Metrics
from server.reconcile.observe import observe
from server.reconcile.translate import (
    FINALIZER,
    GENERATION_ANNOTATION,
    MANAGED_BY,
    UID_LABEL,
    Intent,
    differences,
    translate,
)
from server.reconcile.translate_network import NicAddress, interface_macs
from server.reconcile.worker import CONFLICT_RETRIES, KindWorker, Outcome, Waiting, api_message
from server.services import ip_pools, storage_checks
from server.services.storage_checks import STATUS_KEYS as STORAGE_KEYS
from server.services.virtual_machines import ADOPTING, KIND, nic_owner, to_proto
from storage.db import Database
from storage.models import OperationRow, VirtualMachineRow

Obj = dict[str, Any]
GROUP, VERSION, PLURAL = "kubevirt.io", "v1", "virtualmachines"
VMIS = "virtualmachineinstances"


def intent_of(row: VirtualMachineRow, addresses: dict[str, NicAddress]) -> Intent:
    return Intent(
        namespace=row.namespace,
        vm_id=row.name.rsplit("/", 1)[1],
        uid=str(row.uid),
        generation=row.generation,
        spec=row.spec,
        addresses=addresses,
        labels=dict(row.labels),
    )


def shown_addresses(row: VirtualMachineRow) -> dict[str, NicAddress]:
    """The static addresses the last apply wrote into the cluster (kept in status.interfaces)."""
    return {
        item["name"]: NicAddress(item["address"], int(item.get("prefix_length", 0)), item.get("gateway", ""))
        for item in row.status.get("interfaces", [])
        if item.get("address")
    }


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


@dataclass
class VmOutcome(Outcome):
    addresses: dict[str, NicAddress] = field(default_factory=dict)
    # The spec read from an adopted cluster VM, for the row.
    adopted: Obj | None = None


class VmWorker(KindWorker[VirtualMachineRow]):
    kind = KIND
    watched = (Watched(GROUP, VERSION, PLURAL), Watched(GROUP, VERSION, VMIS))

    def __init__(self, db: Database, settings: ReconcileConfig, owner: str, metrics: Metrics):
        super().__init__(db, settings, owner, metrics, VirtualMachineRow)

    def to_proto(self, row: VirtualMachineRow) -> Message:
        message: Message = to_proto(row)
        return message

    def parent_of(self, row: VirtualMachineRow) -> str:
        return f"clusters/{row.cluster}/namespaces/{row.namespace}"

    def gone_message(self) -> str:
        return "the virtual machine was deleted before this finished"

    @staticmethod
    def _cached(connection: ClusterConnection, row: VirtualMachineRow) -> tuple[Obj | None, Obj | None]:
        name = row.name.rsplit("/", 1)[1]
        return connection.get(PLURAL, row.namespace, name), connection.get(VMIS, row.namespace, name)

    # --- the claimed path -----------------------------------------------------------------------

    async def apply(
        self, connection: ClusterConnection, row: VirtualMachineRow, operations: list[OperationRow]
    ) -> Outcome:
        if ADOPTING in row.annotations:
            adopted = await self._adopt(connection, row)
            if adopted.purge:
                return adopted
            outcome: Outcome = adopted
        else:
            outcome = await self._apply(connection, row)
        outcome.requested = await self._lifecycle(connection, row, operations)
        return outcome

    async def _addresses(self, row: VirtualMachineRow) -> dict[str, NicAddress]:
        nics = [nic["name"] for nic in row.spec.get("interfaces", []) if nic.get("ip_pool")]
        if not nics:
            return {}
        async with self._db.transaction() as session:
            held = await ip_pools.held_by(session, row.cluster, [nic_owner(row.name, nic) for nic in nics])
        return {
            nic: NicAddress(allocation.address, allocation.prefix_length, allocation.gateway)
            for nic in nics
            if (allocation := held.get(nic_owner(row.name, nic))) is not None
        }

    async def _adopt(self, connection: ClusterConnection, row: VirtualMachineRow) -> VmOutcome:
        """Read the unmanaged cluster VM into the row's spec and label it as Harrow's, leaving what runs alone."""
        custom = client.CustomObjectsApi(connection.api)
        name = row.name.rsplit("/", 1)[1]
        try:
            actual = await custom.get_namespaced_custom_object(GROUP, VERSION, row.namespace, PLURAL, name)
            row.spec = spec_of(actual, str(row.uid))
            check_round_trip(intent_of(row, {}), connection.facts, actual)
        except ApiException as error:
            if error.status != 404:
                raise
            return VmOutcome(purge=True, refused=f"there is no virtual machine {name} in namespace {row.namespace}")
        except Unadoptable as error:
            return VmOutcome(purge=True, refused=f"cannot adopt {name}: {error}")
        outcome = await self._apply(connection, row, actual)
        labels = {MANAGED_BY[0]: MANAGED_BY[1], UID_LABEL: str(row.uid)}
        try:  # the running VMI keeps running; labelled, the informer sees it
            await connection.api.call_api(
                f"/apis/{GROUP}/{VERSION}/namespaces/{row.namespace}/{VMIS}/{name}",
                "PATCH",
                body={"metadata": {"labels": labels}},
                header_params={"Content-Type": "application/merge-patch+json"},
                response_types_map={},
                auth_settings=["BearerToken"],
            )
        except ApiException as error:
            if error.status != 404:
                raise
        outcome.adopted = row.spec
        return outcome

    async def _apply(
        self, connection: ClusterConnection, row: VirtualMachineRow, known: Obj | None = None
    ) -> VmOutcome:
        custom = client.CustomObjectsApi(connection.api)
        addresses = await self._addresses(row)
        desired = translate(intent_of(row, addresses), connection.facts)
        name = desired["metadata"]["name"]
        actual = known or self._cached(connection, row)[0]
        outcome = VmOutcome(addresses=addresses)
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
            _, vmi = self._cached(connection, row)
            plural = VMIS if subresource in ("pause", "unpause") else PLURAL
            path = f"/apis/subresources.kubevirt.io/v1/namespaces/{row.namespace}/{plural}/{name}/{subresource}"
            try:
                await connection.api.call_api(
                    path, "PUT", body={}, response_types_map={}, auth_settings=["BearerToken"]
                )
            except ApiException as error:
                if error.status == 409:
                    raise Waiting(f"{subresource}: {api_message(error)}") from None
                raise
            requested[operation.id] = {
                "subresource": subresource,
                "vmi_uid": ((vmi or {}).get("metadata") or {}).get("uid", ""),
            }
        return requested

    async def delete(self, connection: ClusterConnection, row: VirtualMachineRow) -> Outcome:
        custom = client.CustomObjectsApi(connection.api)
        name = row.name.rsplit("/", 1)[1]
        actual, _ = self._cached(connection, row)
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

    async def applied(self, session: AsyncSession, row: VirtualMachineRow, outcome: Outcome, at: datetime) -> bool:
        """Show the static addresses just written into the cluster VM (with their MACs) and the disks' storage."""
        if not isinstance(outcome, VmOutcome):
            return False
        if outcome.adopted is not None:
            row.spec = outcome.adopted
            row.annotations = {key: value for key, value in row.annotations.items() if key != ADOPTING}
            return True
        macs = interface_macs(str(row.uid), row.spec)
        interfaces = []
        for nic in row.spec.get("interfaces", []):
            if not nic.get("ip_pool"):
                continue
            item: Obj = {"name": nic["name"], "ip_pool": nic["ip_pool"], "mac_address": macs.get(nic["name"], "")}
            address = outcome.addresses.get(nic["name"])
            if address is not None:
                item.update(address=address.address, prefix_length=address.prefix_length)
                if address.gateway:
                    item["gateway"] = address.gateway
            interfaces.append(item)
        status = {key: value for key, value in row.status.items() if key not in ("interfaces", *STORAGE_KEYS)}
        if interfaces:
            status["interfaces"] = interfaces
        status.update(storage_checks.status_of(await storage_checks.judge(session, row.cluster, row.spec)))
        if status == row.status:
            return False
        row.status = status
        return True

    async def purged(self, session: AsyncSession, row: VirtualMachineRow, at: datetime) -> None:
        """The VM is gone from the cluster: its NICs' addresses go back to their pools (kept in the ledger)."""
        await ip_pools.release_owners(session, row.cluster, f"{row.name}/interfaces/", at)

    # --- the observing path ---------------------------------------------------------------------

    def observe_into(
        self,
        session: AsyncSession,
        row: VirtualMachineRow,
        operations: list[OperationRow],
        connection: ClusterConnection | None,
        at: datetime,
    ) -> bool:
        if connection is None or ADOPTING in row.annotations:
            return False
        vm, vmi = self._cached(connection, row)
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
        if vm is not None:
            kept = {key: row.status[key] for key in ("interfaces", *STORAGE_KEYS) if key in row.status}
            row.status = {**seen.status, **kept}
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
            if verdict.done:
                self.finish(operation, row, at, verdict.message, failed=verdict.failed)
        return changed

    def needs_worker(self, row: VirtualMachineRow, connection: ClusterConnection) -> bool:
        if ADOPTING in row.annotations:
            return False
        vm, _ = self._cached(connection, row)
        if row.delete_time is not None:
            return vm is None or ((vm.get("metadata") or {}).get("finalizers") or []) == [FINALIZER]
        if row.applied_generation < row.generation:
            return False
        if vm is None:
            return True
        if (vm.get("metadata") or {}).get("deletionTimestamp"):
            return ((vm.get("metadata") or {}).get("finalizers") or []) == [FINALIZER]
        desired = translate(intent_of(row, shown_addresses(row)), connection.facts)
        return bool(drift_of(row, desired, vm))
