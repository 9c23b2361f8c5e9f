"""Whether a VM can live-migrate now, and how much data a migration moves.

KubeVirt refuses a VirtualMachineInstanceMigration for a VMI whose
`LiveMigratable` condition is False (`migration-create-admitter.go`), but users
only find out after asking. Harrow answers up front (issue 6), from what it
knows: the condition the cluster reported, when there is one, is authoritative;
otherwise the VM's intent, checked in virt-handler's order
(`pkg/virt-handler/vm.go` `calculateLiveMigrationCondition`, semantics.md §2.5).

Of virt-handler's reasons only `DisksNotLiveMigratable` can follow from a
Harrow spec: the pod network is always masquerade (migratable) and Harrow
specs have no host devices, SEV/TDX, host-model CPU or Hyper-V passthrough.
A volume whose access modes the user gave without ReadWriteMany is definitely
not migratable. Where the StorageProfile or an existing PVC picks the access
mode, intent cannot tell (status UNKNOWN) and the cluster decides.

The migration method follows the same source: any volume other than a PVC or
DataVolume (Harrow's cloud-init disk) makes it BlockMigration, whose ephemeral
disk files add to the data a migration moves (`migration_data_size`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from server.domain import storage_volumes
from server.domain.quantity import quantity_bytes

MIGRATABLE = "LIVE_MIGRATABLE"
NOT_MIGRATABLE = "NOT_LIVE_MIGRATABLE"
UNKNOWN = "UNKNOWN"

LIVE_MIGRATION = "LIVE_MIGRATION"
BLOCK_MIGRATION = "BLOCK_MIGRATION"

DISKS_NOT_LIVE_MIGRATABLE = "DisksNotLiveMigratable"
NOT_RUNNING = "VirtualMachineNotRunning"
CONDITION_TYPE = "LiveMigratable"
# KubeVirt's completion timeout counts decimal gigabytes (`ScaledValue(resource.Giga)`), rounded up.
GIGA = 10**9


@dataclass(frozen=True)
class Migratability:
    status: str
    reason: str
    message: str
    method: str


def _disk_problem(disk: Mapping[str, Any]) -> tuple[str, str] | None:
    """(status, message) for a disk that is not known to be shared."""
    name = disk.get("name", "")
    if "new_volume" in disk:
        modes = disk["new_volume"].get("access_modes", [])
        if modes and "READ_WRITE_MANY" not in modes:
            return NOT_MIGRATABLE, (
                f'disk "{name}" asks for {", ".join(modes)}: its PVC is not shared, and live migration requires '
                "that all PVCs be shared (ReadWriteMany access mode)"
            )
        if modes:
            return None
        return UNKNOWN, f'disk "{name}" takes its access mode from its StorageProfile, which Harrow has not observed'
    if "image" in disk:
        return UNKNOWN, f'disk "{name}" takes its access mode from its StorageProfile, which Harrow has not observed'
    if "existing_claim" in disk:
        claim = disk["existing_claim"].get("claim_name", "")
        return UNKNOWN, f'disk "{name}" uses the existing PVC {claim}, whose access modes Harrow has not observed'
    return None


def method(spec: Mapping[str, Any]) -> str:
    cloud_init = spec.get("cloud_init") or {}
    return BLOCK_MIGRATION if cloud_init.get("user_data") or cloud_init.get("network_data") else LIVE_MIGRATION


def migratability(
    spec: Mapping[str, Any],
    state: str,
    conditions: Sequence[Mapping[str, Any]],
    storage: Sequence[Mapping[str, Any]] = (),
) -> Migratability:
    """A definite refusal from intent first (it outlasts a restart), then the run state, then the cluster's word.

    `storage` is the VM's `status.disks`: each volume judged from its storage profile and driver (issue 7),
    which settles the disks whose access mode the profile picks.
    """
    how = method(spec)
    unknown: list[str] = []
    for disk in spec.get("disks", []):
        problem = _disk_problem(disk)
        judged = storage_volumes.judged_disk(disk.get("name", ""), storage)
        if judged is not None and not judged[0]:
            problem = NOT_MIGRATABLE, judged[1]
        elif judged is not None and problem is not None and problem[0] == UNKNOWN:
            problem = None
        if problem is not None and problem[0] == NOT_MIGRATABLE:
            return Migratability(NOT_MIGRATABLE, DISKS_NOT_LIVE_MIGRATABLE, problem[1], BLOCK_MIGRATION)
        if problem is not None:
            unknown.append(problem[1])
    if state != "RUNNING":
        return Migratability(NOT_MIGRATABLE, NOT_RUNNING, f"the VM is {state}; only a running VM can migrate", how)
    observed = next((c for c in conditions if c.get("type") == CONDITION_TYPE), None)
    if observed is not None and observed.get("status") in ("TRUE", "FALSE"):
        if observed["status"] == "TRUE":
            return Migratability(MIGRATABLE, "", "the cluster reports the VM live-migratable", how)
        return Migratability(
            NOT_MIGRATABLE, observed.get("reason", ""), observed.get("message", "the cluster says no"), how
        )
    if unknown:
        return Migratability(UNKNOWN, "", "; ".join(unknown), how)
    return Migratability(MIGRATABLE, "", "every disk is shared (ReadWriteMany) and the pod network is masquerade", how)


@dataclass(frozen=True)
class DataSize:
    """The bytes the completion timeout is computed from, and what only the cluster can add to them."""

    bytes: int
    note: str


def migration_data_size(spec: Mapping[str, Any]) -> DataSize:
    """What KubeVirt multiplies `completionTimeoutPerGiB` by, as far as Harrow can know it.

    kubevirt `pkg/virt-launcher/virtwrap/manager.go` `getVMIMigrationDataSize` (called by
    `newMigrationMonitor` in `live-migration-source.go`) sums three things, then takes ceil(bytes / 10^9):
    - the guest memory, `spec.domain.memory.guest`, else the memory request: Harrow always writes
      `memory.guest` (`guest_memory_bytes`);
    - for a BlockMigration, the size of the files in the launcher's ephemeral-disk directory: for Harrow's
      VMs the cloud-init ISO. Only the launcher pod sees that file, so Harrow cannot add it and says so;
    - the capacity of the volumes in `status.migratedVolumes` (`pkg/storage/types/volume.go`
      `GetTotalSizeMigratedVolumes`): volume migration (`updateVolumesStrategy: Migration`), which Harrow
      never asks for, so 0.
    PVC disks are not counted: a live-migratable VM's PVCs are shared (ReadWriteMany), not copied.
    """
    memory = guest_memory_bytes(spec)
    if method(spec) != BLOCK_MIGRATION:
        return DataSize(memory, "")
    headroom = -memory % GIGA
    note = (
        "a block migration also copies the launcher's ephemeral disk files (the cloud-init ISO), whose size "
        "only the cluster knows and adds to data_bytes; "
    )
    if headroom:
        note += (
            f"the timeout shown holds while they total at most {headroom} bytes (the rest of the last 10^9), and "
            "grows by completion_timeout_per_gib for each further 10^9 bytes"
        )
    else:
        note += (
            "the memory is a whole number of 10^9 bytes, so the cluster's timeout is at least one "
            "completion_timeout_per_gib longer than shown"
        )
    return DataSize(memory, note)


def guest_memory_bytes(spec: Mapping[str, Any]) -> int:
    """What Harrow writes as `spec.domain.memory.guest`: memory less the reserved memory."""
    memory = quantity_bytes(spec["memory"])
    if spec.get("reserved_memory"):
        memory -= quantity_bytes(spec["reserved_memory"])
    return memory
