"""CDI StorageProfile rules: which claim property sets, clone strategy and source format a class gets.

CDI resolves each field as spec override, else its built-in table for the
class's provisioner key (semantics.md §3; CDI
`pkg/storagecapabilities/storagecapabilities.go`). Harrow computes the same
answer so a profile shows its effective values even before CDI reports them,
and so a VM's disks can be judged at create time.

Where the override lives depends on the cluster. Harvester owns three
StorageProfile.spec fields through StorageClass annotations and clears a field
whose annotation is absent (harvester `storage_class_controller.go`
syncStorageProfile), so Harrow writes those annotations there; plain CDI takes
the StorageProfile spec as written. Spec dicts here use CDI's JSON names.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from server.domain.errors import FieldViolation
from server.domain.storage_capabilities import BLOCK, FILESYSTEM, LONGHORN, RWO, RWX

Obj = dict[str, Any]
Sets = tuple[tuple[tuple[str, ...], str], ...]

ROX, RWOP = "ReadOnlyMany", "ReadWriteOncePod"
ACCESS_MODES = (RWO, ROX, RWX, RWOP)
VOLUME_MODES = (BLOCK, FILESYSTEM)
CLONE_STRATEGIES = ("copy", "snapshot", "csi-clone")
SOURCE_FORMATS = ("pvc", "snapshot")
MAX_SETS, MAX_ACCESS_MODES = 8, 4
OVERHEAD = re.compile(r"^(0(?:\.\d{1,3})?|1)$")

# CDI's built-in table, for the provisioner keys of the drivers Harrow knows (CDI CapabilitiesByProvisionerKey).
CDI_DEFAULTS: Mapping[str, tuple[tuple[str, str], ...]] = {
    "driver.longhorn.io": ((RWO, BLOCK),),
    "driver.longhorn.io/migratable": ((RWX, BLOCK), (RWO, BLOCK)),
    "driver.longhorn.io/nfs": ((RWX, FILESYSTEM), (RWO, FILESYSTEM)),
    "driver.longhorn.io/fs": ((RWO, FILESYSTEM),),
    "nfs.csi.k8s.io": ((RWX, FILESYSTEM),),
    "rbd.csi.ceph.com": ((RWX, BLOCK), (RWO, BLOCK), (RWO, FILESYSTEM)),
    "rook-ceph.rbd.csi.ceph.com": ((RWX, BLOCK), (RWO, BLOCK), (RWO, FILESYSTEM)),
    "cephfs.csi.ceph.com": ((RWX, FILESYSTEM),),
    "kubevirt.io.hostpath-provisioner": ((RWO, FILESYSTEM),),
}
# CDI CloneStrategyByProvisionerKey and SourceFormatsByProvisionerKey, same subset.
CDI_CLONE_STRATEGY: Mapping[str, str] = {"rook-ceph.rbd.csi.ceph.com": "csi-clone", "cephfs.csi.ceph.com": "csi-clone"}
CDI_SOURCE_FORMAT: Mapping[str, str] = {"rook-ceph.rbd.csi.ceph.com": "snapshot"}

# Harvester's StorageClass annotations (harvester pkg/util constants).
ANN_PREFIX = "cdi.harvesterhci.io/"
ANN_CLONE = ANN_PREFIX + "storageProfileCloneStrategy"
ANN_SNAPSHOT_CLASS = ANN_PREFIX + "storageProfileVolumeSnapshotClass"
ANN_MODES = ANN_PREFIX + "storageProfileVolumeModeAccessModes"
ANN_OVERHEAD = ANN_PREFIX + "filesystemOverhead"
HARVESTER_OWNED = ("cloneStrategy", "snapshotClass", "claimPropertySets")
ANN_CLONE_KUBEVIRT = "cdi.kubevirt.io/clone-strategy"


def provisioner_key(provisioner: str, parameters: Mapping[str, str]) -> str:
    """CDI storageClassToProvisionerKeyMapper, for Longhorn (the only mapped driver Harrow's table has)."""
    if provisioner == LONGHORN:
        if parameters.get("migratable") == "true":
            return f"{LONGHORN}/migratable"
        if parameters.get("nfsOptions"):
            return f"{LONGHORN}/nfs"
        if parameters.get("fsType"):
            return f"{LONGHORN}/fs"
    return provisioner


def cdi_defaults(key: str) -> list[Obj]:
    """CDI's claim property sets for a key: one set per (access mode, volume mode) entry, in table order."""
    return [{"accessModes": [mode], "volumeMode": volume} for mode, volume in CDI_DEFAULTS.get(key, ())]


def harvester_owns(provisioner: str, parameters: Mapping[str, str]) -> bool:
    """Whether Harvester drives this class's StorageProfile.spec from its annotations.

    Its controller skips, and its webhook refuses CDI annotations on, a Longhorn class that names
    `dataEngine: "v1"`; every other class (a Longhorn one without the parameter included) is synced.
    """
    return not (provisioner == LONGHORN and parameters.get("dataEngine") == "v1")


@dataclass(frozen=True)
class Effective:
    claim_property_sets: list[Obj]
    source: str  # SPEC | CDI_DEFAULTS | NONE
    clone_strategy: str
    source_format: str
    snapshot_class: str


def effective(
    spec: Obj, provisioner: str, parameters: Mapping[str, str], sc_annotations: Mapping[str, str], cluster_status: Obj
) -> Effective:
    """What CDI uses: the cluster's StorageProfile status where it shows a value, else CDI's own resolution."""
    key = provisioner_key(provisioner, parameters)
    sets = cluster_status.get("claimPropertySets") or spec.get("claimPropertySets") or cdi_defaults(key)
    if spec.get("claimPropertySets"):
        source = "SPEC"
    elif sets:
        source = "CDI_DEFAULTS"
    else:
        source = "NONE"
    snapshot_class = str(cluster_status.get("snapshotClass") or spec.get("snapshotClass") or "")
    clone = (
        cluster_status.get("cloneStrategy")
        or spec.get("cloneStrategy")
        or sc_annotations.get(ANN_CLONE_KUBEVIRT)
        or CDI_CLONE_STRATEGY.get(key)
        or ("snapshot" if snapshot_class else "copy")
    )
    if clone == "snapshot" and not snapshot_class and not cluster_status:
        clone = "copy"
    source_format = (
        cluster_status.get("dataImportCronSourceFormat")
        or spec.get("dataImportCronSourceFormat")
        or CDI_SOURCE_FORMAT.get(key, "pvc")
    )
    return Effective([_copy_set(s) for s in sets], source, str(clone), str(source_format), snapshot_class)


def _copy_set(raw: Obj) -> Obj:
    return {"accessModes": list(raw.get("accessModes") or []), "volumeMode": raw.get("volumeMode", "")}


def offers_rwx(sets: Sequence[Obj]) -> bool:
    return any(RWX in (s.get("accessModes") or []) for s in sets)


# --- Harvester annotations ------------------------------------------------------------------------


def annotations_for(spec: Obj) -> dict[str, str]:
    """The StorageClass annotations that carry `spec` on Harvester (only the fields present)."""
    out: dict[str, str] = {}
    if spec.get("cloneStrategy"):
        out[ANN_CLONE] = str(spec["cloneStrategy"])
    if spec.get("snapshotClass"):
        out[ANN_SNAPSHOT_CLASS] = str(spec["snapshotClass"])
    if spec.get("claimPropertySets"):
        modes = {s["volumeMode"]: list(s["accessModes"]) for s in spec["claimPropertySets"]}
        out[ANN_MODES] = json.dumps(modes, separators=(",", ":"))
    if spec.get("filesystemOverhead"):
        out[ANN_OVERHEAD] = str(spec["filesystemOverhead"])
    return out


MANAGED_ANNOTATIONS = (ANN_CLONE, ANN_SNAPSHOT_CLASS, ANN_MODES, ANN_OVERHEAD)


def spec_from_annotations(annotations: Mapping[str, str]) -> Obj:
    """StorageProfile.spec as Harvester derives it from the class annotations (an absent one clears the field)."""
    spec: Obj = {}
    if annotations.get(ANN_CLONE):
        spec["cloneStrategy"] = annotations[ANN_CLONE]
    if annotations.get(ANN_SNAPSHOT_CLASS):
        spec["snapshotClass"] = annotations[ANN_SNAPSHOT_CLASS]
    raw = annotations.get(ANN_MODES)
    if raw:
        try:
            modes = json.loads(raw)
        except ValueError:
            modes = {}
        if isinstance(modes, dict):
            spec["claimPropertySets"] = [{"accessModes": list(am), "volumeMode": vm} for vm, am in modes.items()]
    return spec


# --- validation -----------------------------------------------------------------------------------


def spec_violations(spec: Obj, field: str, *, harvester: bool) -> list[FieldViolation]:
    """The override as CDI's schema and, on Harvester, its StorageClass webhook would judge it."""
    out: list[FieldViolation] = []
    sets = spec.get("claimPropertySets") or []
    if len(sets) > MAX_SETS:
        out.append(FieldViolation(f"{field}.claim_property_sets", f"at most {MAX_SETS} sets (got {len(sets)})"))
    seen_modes: set[str] = set()
    for index, claim_set in enumerate(sets):
        where = f"{field}.claim_property_sets[{index}]"
        modes = claim_set.get("accessModes") or []
        if not modes:
            out.append(FieldViolation(f"{where}.access_modes", "at least one access mode is required"))
        elif len(modes) > MAX_ACCESS_MODES:
            out.append(FieldViolation(f"{where}.access_modes", f"at most {MAX_ACCESS_MODES} (got {len(modes)})"))
        elif len(set(modes)) != len(modes):
            out.append(FieldViolation(f"{where}.access_modes", "an access mode is listed twice"))
        volume_mode = claim_set.get("volumeMode", "")
        if volume_mode not in VOLUME_MODES:
            out.append(FieldViolation(f"{where}.volume_mode", "required: FILESYSTEM or BLOCK"))
        elif harvester and volume_mode in seen_modes:
            out.append(
                FieldViolation(
                    f"{where}.volume_mode",
                    f"{volume_mode} appears in two sets; Harvester's annotation {ANN_MODES} holds one set per "
                    "volume mode: merge their access modes",
                )
            )
        seen_modes.add(volume_mode)
    overhead = spec.get("filesystemOverhead")
    if overhead and not OVERHEAD.match(str(overhead)):
        out.append(
            FieldViolation(
                f"{field}.filesystem_overhead",
                f'"{overhead}" must be a fraction from 0 to 1 with at most three decimals, e.g. "0.2"',
            )
        )
    return out
