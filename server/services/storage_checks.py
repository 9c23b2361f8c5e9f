"""A VM's disks judged against its cluster's storage profiles, for the VM service and the VM worker.

One query reads the cluster's profile rows (a few per cluster), or a create's
name check carries it (`PROFILES`); the judging itself is pure
(domain/storage_volumes.py). A cluster whose storage Harrow has not observed
yet (no profile rows) is not judged at all, rather than warning about every
disk.
"""

from __future__ import annotations

from typing import Any

from google.longrunning import operations_pb2
from google.protobuf import json_format
from harrow.v1 import common_pb2
from harrow.v1 import virtual_machine_pb2 as vm_pb
from sqlalchemy import ScalarSelect, Text, bindparam, func, literal_column, select
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.ext.asyncio import AsyncSession

from server.domain import storage_sizing, storage_volumes
from server.domain.errors import FailedPrecondition
from server.services.storage_profiles import ACCESS_MODES, ACCESS_NAMES, VOLUME_MODES, VOLUME_NAMES
from storage.models import StorageProfileRow

Obj = dict[str, Any]


# The cluster's live profiles as one JSON value, [[storage_class, observed, status], ...]: a column another
# statement can carry (a create reads them with its insert: `virtual_machines._create`). Built once.
PROFILES: ScalarSelect[Any] = (
    select(
        func.coalesce(
            func.jsonb_agg(
                func.jsonb_build_array(
                    StorageProfileRow.storage_class, StorageProfileRow.observed, StorageProfileRow.status
                )
            ),
            literal_column("'[]'::jsonb", JSONB),
            type_=JSONB,
        )
    )
    .where(StorageProfileRow.cluster == bindparam("cluster", type_=Text), StorageProfileRow.purged.is_(False))
    .scalar_subquery()
)
_PROFILES = select(PROFILES)

Profiles = tuple[dict[str, storage_volumes.ProfileFacts], str]


async def profiles_of(session: AsyncSession, cluster: str) -> Profiles:
    """The cluster's profiles by class name, and its default class ("" when none is marked)."""
    return facts_of((await session.execute(_PROFILES, {"cluster": cluster})).scalar_one())


def facts_of(rows: list[list[Any]]) -> Profiles:
    """`profiles_of` from the `PROFILES` column's value."""
    facts: dict[str, storage_volumes.ProfileFacts] = {}
    default = ""
    for storage_class, observed, status in sorted(rows, key=lambda r: str(r[0])):
        sc = observed.get("storageClass") or {}
        if sc.get("default") and not default:
            default = storage_class
        sets = tuple(
            (
                tuple(ACCESS_MODES[m] for m in s.get("access_modes", []) if m in ACCESS_MODES),
                VOLUME_MODES.get(s.get("volume_mode", ""), ""),
            )
            for s in status.get("claim_property_sets", [])
        )
        overhead = (status.get("filesystem_overhead") or {}).get("effective") or storage_sizing.default_overhead(
            str(observed.get("cdiVersion", ""))
        )
        facts[storage_class] = storage_volumes.ProfileFacts(
            storage_class, str(sc.get("provisioner", "")), sc.get("parameters") or {}, sets, str(overhead)
        )
    return facts, default


async def judge(session: AsyncSession, cluster: str, spec: Obj) -> storage_volumes.VmVerdict | None:
    """The verdict on a VM spec (proto JSON, original names); None when the cluster's storage is not observed."""
    profiles, default = await profiles_of(session, cluster)
    if not profiles:
        return None
    return storage_volumes.judge_vm(spec.get("disks", []), profiles, default)


def needs_profiles(vm: vm_pb.VirtualMachine) -> bool:
    """Whether any disk gets a new volume, the only disks the profiles judge (an existing PVC is not)."""
    return any(disk.HasField("image") or disk.HasField("new_volume") for disk in vm.spec.disks)


async def check_vm(session: AsyncSession, cluster: str, vm: vm_pb.VirtualMachine) -> storage_volumes.VmVerdict | None:
    """Judge a VM about to be written; refuse one whose eviction strategy needs a migration its disks cannot do."""
    if not needs_profiles(vm):
        return None  # nothing to judge, and so nothing to read
    return check_vm_against(vm, await profiles_of(session, cluster))


def check_vm_against(vm: vm_pb.VirtualMachine, profiles: Profiles) -> storage_volumes.VmVerdict | None:
    """`check_vm` with the cluster's profiles already read (`PROFILES`)."""
    facts, default = profiles
    if not facts:
        return None
    spec = json_format.MessageToDict(vm.spec, preserving_proto_field_name=True)
    verdict = storage_volumes.judge_vm(spec.get("disks", []), facts, default)
    if vm.spec.eviction_strategy != vm_pb.VirtualMachineSpec.LIVE_MIGRATE or not verdict.blockers:
        return verdict
    first = next(v for v in verdict.disks if v.blocker)
    raise FailedPrecondition(
        "eviction_strategy LIVE_MIGRATE needs a live-migratable VM, but "
        + "; ".join(verdict.blockers)
        + ". Use ReadWriteMany volumes, or eviction_strategy LIVE_MIGRATE_IF_POSSIBLE or NONE",
        reason="DISKS_NOT_LIVE_MIGRATABLE",
        metadata={"disk": first.disk, "storage_class": first.storage_class, "driver": first.driver},
    )


def with_warnings(
    operation: operations_pb2.Operation, verdict: storage_volumes.VmVerdict | None
) -> operations_pb2.Operation:
    """The operation with the verdict's warnings in its metadata (the request's answer only; not stored)."""
    if verdict is None or not verdict.warnings:
        return operation
    metadata = common_pb2.OperationMetadata()
    if operation.HasField("metadata"):
        operation.metadata.Unpack(metadata)
    metadata.warnings.extend(verdict.warnings)
    operation.metadata.Pack(metadata)
    return operation


def status_of(verdict: storage_volumes.VmVerdict | None) -> Obj:
    """`disks` and `live_migration_blockers` for a VM row's status (proto JSON, original names)."""
    if verdict is None:
        return {}
    disks = []
    for disk in verdict.disks:
        item: Obj = {
            "name": disk.disk,
            "storage_class": disk.storage_class,
            "driver": disk.driver,
            "access_modes": [ACCESS_NAMES[m] for m in disk.access_modes if m in ACCESS_NAMES],
            "requested_bytes": str(disk.requested_bytes),
            "pvc_bytes": str(disk.pvc_bytes),
            "filesystem_overhead": disk.overhead,
            "live_migratable": bool(disk.live_migratable),
            "live_migration_blocker": disk.blocker,
        }
        if disk.volume_mode in VOLUME_NAMES:
            item["volume_mode"] = VOLUME_NAMES[disk.volume_mode]
        disks.append(item)
    return {"disks": disks, "live_migration_blockers": list(verdict.blockers)}


STATUS_KEYS = ("disks", "live_migration_blockers")
