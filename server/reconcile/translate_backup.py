"""Snapshot, backup and image-export intent → the cluster objects that carry them, and their status back (issue 7).

Pure, like translate.py: the same intent always gives the same object, so drift
is a comparison. Every object validates against the real schemas
(tests/unit/reconcile/test_translate_backup.py):

- On Harvester a snapshot and a backup are both a harvesterhci.io/v1beta1
  VirtualMachineBackup (`type: snapshot | backup`): Harvester's controller
  takes the CSI snapshots (and, for a backup, copies them to the backup target)
  and records the VM's spec with them, which a plain VolumeSnapshot would not.
- On plain KubeVirt a snapshot is a snapshot.kubevirt.io/v1beta1
  VirtualMachineSnapshot; there is no backup.
- An export is a harvesterhci.io/v1beta1 VirtualMachineImage with source type
  `export-from-volume`, built as Harvester's own volume export action builds
  it (pkg/api/volume/handler.go, exportVolume): the target class is the
  volume's own (an export to the same class is always allowed), and the
  backend is `backingimage` for a Longhorn v1 class, `cdi` for any other.

Each object is named by the resource's ID in the VM's namespace and carries
Harrow's labels, so the labelled informers see it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from server.domain import storage_capabilities
from server.reconcile.translate import MANAGED_BY, UID_LABEL

Obj = dict[str, Any]

HARVESTER_BACKUP = ("harvesterhci.io", "v1beta1", "virtualmachinebackups", "VirtualMachineBackup")
KUBEVIRT_SNAPSHOT = ("snapshot.kubevirt.io", "v1beta1", "virtualmachinesnapshots", "VirtualMachineSnapshot")
HARVESTER_IMAGE = ("harvesterhci.io", "v1beta1", "virtualmachineimages", "VirtualMachineImage")
KINDS = {what[3]: what for what in (HARVESTER_BACKUP, KUBEVIRT_SNAPSHOT, HARVESTER_IMAGE)}
# Harvester's annotation naming an image's StorageClass (pkg/util/constants.go AnnotationStorageClassName).
IMAGE_STORAGE_CLASS_ANNOTATION = "harvesterhci.io/storageClassName"
_TYPES = {"SNAPSHOT": "snapshot", "BACKUP": "backup"}


def _metadata(name: str, namespace: str, uid: str) -> Obj:
    return {"name": name, "namespace": namespace, "labels": {MANAGED_BY[0]: MANAGED_BY[1], UID_LABEL: uid}}


def _source(vm_id: str) -> Obj:
    return {"apiGroup": "kubevirt.io", "kind": "VirtualMachine", "name": vm_id}


def backup_kind(harvester: bool) -> tuple[str, str, str, str]:
    """(group, version, plural, kind) of the object a snapshot or backup becomes on this flavour of cluster."""
    return HARVESTER_BACKUP if harvester else KUBEVIRT_SNAPSHOT


def translate_backup(kind: str, name: str, namespace: str, uid: str, vm_id: str, backup_type: str) -> Obj:
    """A VirtualMachineBackup (Harvester) or VirtualMachineSnapshot (plain KubeVirt); `backup_type` is the proto
    enum name (SNAPSHOT, BACKUP)."""
    group, version, _, _ = KINDS[kind]
    spec: Obj = {"source": _source(vm_id)}
    if kind == HARVESTER_BACKUP[3]:
        spec["type"] = _TYPES[backup_type]
    return {
        "apiVersion": f"{group}/{version}",
        "kind": kind,
        "metadata": _metadata(name, namespace, uid),
        "spec": spec,
    }


def translate_image(
    name: str, namespace: str, uid: str, display_name: str, claim: str, storage_class: str, driver: str
) -> Obj:
    """A VirtualMachineImage exporting `claim` (a PVC of `storage_class`, whose driver row is `driver`; both empty
    for a disk on an existing PVC)."""
    group, version, _, kind = HARVESTER_IMAGE
    metadata = _metadata(name, namespace, uid)
    spec: Obj = {
        "displayName": display_name or name,
        "sourceType": "export-from-volume",
        "pvcName": claim,
        "pvcNamespace": namespace,
    }
    # A disk on an existing PVC has no class Harrow knows: Harvester then picks its default backend.
    if storage_class:
        metadata["annotations"] = {IMAGE_STORAGE_CLASS_ANNOTATION: storage_class}
        spec["backend"] = "backingimage" if driver == storage_capabilities.LONGHORN_V1 else "cdi"
        spec["targetStorageClassName"] = storage_class
    return {"apiVersion": f"{group}/{version}", "kind": kind, "metadata": metadata, "spec": spec}


@dataclass(frozen=True)
class Seen:
    """What a cluster object says: the row's state and the status fields Harrow shows (proto JSON names)."""

    state: str
    status: Obj


def _error_message(status: Obj) -> str:
    error = status.get("error") or {}
    return str(error.get("message") or "") if isinstance(error, dict) else ""


def uncovered(obj: Obj, claims: Sequence[str]) -> list[str]:
    """The PVCs of `claims` a ready VirtualMachineBackup holds no volume backup of.

    Harvester backs up only a VM's `persistentVolumeClaim` volumes (pkg/backup/common/operator.go,
    volumeToPVCMappings): the `dataVolume` volumes Harrow's disks become are skipped, and the backup is
    marked ready without them. Such a backup cannot restore those disks, so it must not read as READY.
    """
    covered = {
        str(((backup.get("persistentVolumeClaim") or {}).get("metadata") or {}).get("name", ""))
        for backup in (obj.get("status") or {}).get("volumeBackups") or []
    }
    return [claim for claim in claims if claim not in covered]


def observe_backup(obj: Obj, claims: Sequence[str] = ()) -> Seen:
    """A VirtualMachineBackup's or VirtualMachineSnapshot's status, as the backup's state and status; `claims`
    are the PVCs of the VM's volumes as judged when the request was accepted."""
    status = obj.get("status") or {}
    ready = bool(status.get("readyToUse"))
    error = _error_message(status)
    # Harvester lists the volumes it will copy when it starts (sourceUID set): judge coverage from then on.
    started = ready or bool(status.get("sourceUID"))
    missing = uncovered(obj, claims) if started and obj.get("kind") == HARVESTER_BACKUP[3] else []
    if missing:
        ready = False
        error = (
            f"Harvester's backup holds no copy of PVC {', '.join(missing)}: it backs up only a VM's "
            "persistentVolumeClaim volumes, not its dataVolume volumes, so it could not restore those disks"
        )
    if obj.get("kind") == KUBEVIRT_SNAPSHOT[3]:
        # KubeVirt reports no percentage: a snapshot is 0 until it succeeds.
        phase = str(status.get("phase") or "")
        failed = phase == "Failed"
        progress = 100 if ready or phase == "Succeeded" else 0
        if failed and not error:
            error = "the VirtualMachineSnapshot failed"
    else:
        failed = bool(error) and not ready
        progress = int(status.get("progress") or (100 if ready else 0))
    seen: Obj = {"ready_to_use": ready, "progress": max(0, min(progress, 100))}
    if error:
        seen["error"] = error
    if status.get("creationTime"):
        seen["creation_time"] = str(status["creationTime"])
    state = "READY" if ready else "FAILED" if failed else "CREATING"
    return Seen(state, seen)


def _condition(status: Obj, kind: str) -> Obj:
    return next((c for c in status.get("conditions") or [] if c.get("type") == kind), {})


def observe_image(obj: Obj) -> Seen:
    """A VirtualMachineImage's status: ready once `Imported` is True, failed once `RetryLimitExceeded` is."""
    status = obj.get("status") or {}
    imported = _condition(status, "Imported")
    exceeded = _condition(status, "RetryLimitExceeded")
    seen: Obj = {"progress": max(0, min(int(status.get("progress") or 0), 100))}
    if status.get("size"):
        seen["size_bytes"] = str(int(status["size"]))
    if imported.get("status") == "True":
        seen["progress"] = 100
        return Seen("READY", seen)
    if exceeded.get("status") == "True":
        seen["error"] = str(exceeded.get("message") or imported.get("message") or "the export failed too often")
        return Seen("FAILED", seen)
    return Seen("EXPORTING", seen)
