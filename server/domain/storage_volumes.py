"""What a VM's volumes will be, judged from the storage profiles before anything is created.

A disk's PVC gets the access and volume mode the user named, else the first
claim property set of its class's profile (CDI's rule), and a Filesystem
volume is inflated by the class's filesystem overhead (storage_sizing.py).
From that follow the answers users otherwise get at failure time: KubeVirt
live-migrates only VMs whose PVCs are all ReadWriteMany, so a disk that will
not be RWX (or whose driver cannot do RWX, seed 003) makes the VM not
live-migratable; a class CDI has no claim property sets for fails every
DataVolume that names no access mode; a small image volume loops forever
with the default overhead (seed 003, Known Issues).

A disk on an existing PVC is not judged: Harrow does not observe PVCs.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from server.domain import storage_capabilities, storage_sizing
from server.domain.errors import FailedPrecondition
from server.domain.quantity import quantity_bytes
from server.domain.storage_capabilities import RWX

Sets = tuple[tuple[tuple[str, ...], str], ...]
ACCESS = {
    "READ_WRITE_ONCE": "ReadWriteOnce",
    "READ_ONLY_MANY": "ReadOnlyMany",
    "READ_WRITE_MANY": "ReadWriteMany",
    "READ_WRITE_ONCE_POD": "ReadWriteOncePod",
}
VOLUME = {"FILESYSTEM": "Filesystem", "BLOCK": "Block"}


@dataclass(frozen=True)
class ProfileFacts:
    """A class's storage profile as the disks need it (from the profile row's status)."""

    storage_class: str
    provisioner: str
    parameters: Mapping[str, str]
    sets: Sets
    overhead: str

    @property
    def driver(self) -> storage_capabilities.DriverCapabilities:
        return storage_capabilities.for_class(self.provisioner, self.parameters)


@dataclass(frozen=True)
class DiskVerdict:
    disk: str
    storage_class: str
    driver: str
    access_modes: tuple[str, ...]
    volume_mode: str
    requested_bytes: int
    pvc_bytes: int
    overhead: str
    # None: Harrow cannot tell (the class is not observed).
    live_migratable: bool | None
    blocker: str = ""
    warnings: tuple[str, ...] = field(default_factory=tuple)


def judge_disk(disk: Mapping[str, Any], profile: ProfileFacts | None, default_class: str) -> DiskVerdict | None:
    """The volume a disk (proto JSON, original names) will get; None for an existing PVC."""
    name = str(disk.get("name", ""))
    if "image" in disk:
        source, given_modes, given_volume = disk["image"], [], ""
    elif "new_volume" in disk:
        source = disk["new_volume"]
        given_modes = [ACCESS[m] for m in source.get("access_modes", []) if m in ACCESS]
        given_volume = VOLUME.get(source.get("volume_mode", ""), "")
    else:
        return None
    storage_class = str(source.get("storage_class") or default_class)
    requested = quantity_bytes(str(source.get("size", "0")))
    if profile is None:
        note = (
            f'disk "{name}": StorageClass "{storage_class}" has not been observed on the cluster (no storage profile); '
            "its volume cannot be judged"
            if storage_class
            else f'disk "{name}" names no StorageClass and the cluster has no default one'
        )
        return DiskVerdict(
            name, storage_class, "", tuple(given_modes), given_volume, requested, 0, "", None, "", (note,)
        )
    driver = profile.driver
    first = profile.sets[0] if profile.sets else ((), "")
    modes = tuple(given_modes) or first[0]
    volume_mode = given_volume or first[1] or "Filesystem"
    warnings: list[str] = []
    if not modes:
        warnings.append(
            f'disk "{name}": CDI has no claim property sets for StorageClass "{storage_class}" '
            f'({driver.display_name}, {profile.provisioner}), so its DataVolume fails with "missing accessMode"; '
            "set the storage profile's claim_property_sets"
            + (" or give the disk access_modes" if "new_volume" in disk else "")
        )
    blocker = ""
    if RWX not in modes:
        blocker = (
            f'disk "{name}" on StorageClass "{storage_class}" ({driver.display_name}, {profile.provisioner}) gets '
            f"{', '.join(modes) or 'no access mode'}, not ReadWriteMany: KubeVirt live-migrates only VMs whose "
            "volumes are all ReadWriteMany"
        )
    elif not driver.cell("live_migration").supported and driver.driver != storage_capabilities.UNKNOWN:
        blocker = (
            f'disk "{name}": the {_called(driver.display_name)} ({profile.provisioner}) cannot live-migrate '
            f"({driver.cell('live_migration').source})"
        )
    pvc = storage_sizing.pvc_size(requested, volume_mode, profile.overhead) if requested else 0
    if "image" in disk:
        small = storage_sizing.small_image_warning(requested, profile.overhead, driver.driver)
        if small:
            warnings.append(f'disk "{name}": {small}')
    return DiskVerdict(
        name,
        storage_class,
        driver.driver,
        modes,
        volume_mode,
        requested,
        pvc,
        profile.overhead,
        not blocker,
        blocker,
        tuple(warnings),
    )


@dataclass(frozen=True)
class VmVerdict:
    disks: tuple[DiskVerdict, ...]
    warnings: tuple[str, ...]
    # The disks that keep the VM from live-migrating (each verdict's blocker).
    blockers: tuple[str, ...]

    @property
    def live_migratable(self) -> bool:
        return not self.blockers


def judge_vm(disks: Sequence[Mapping[str, Any]], profiles: Mapping[str, ProfileFacts], default_class: str) -> VmVerdict:
    verdicts = []
    for disk in disks:
        source = disk.get("image") or disk.get("new_volume") or {}
        profile = profiles.get(str(source.get("storage_class") or default_class))
        verdict = judge_disk(disk, profile, default_class)
        if verdict is not None:
            verdicts.append(verdict)
    blockers = tuple(v.blocker for v in verdicts if v.blocker)
    warnings = [w for v in verdicts for w in v.warnings]
    if blockers:
        warnings.insert(0, "the VM is not live-migratable: " + "; ".join(blockers))
    return VmVerdict(tuple(verdicts), tuple(warnings), blockers)


def judged_disk(name: str, judged: Sequence[Mapping[str, Any]]) -> tuple[bool, str] | None:
    """A disk's live-migratability from a VM's `status.disks` (what the VM worker judged): (can, blocker).

    None when the disk was not judged (an existing PVC, or storage not observed yet).
    """
    for disk in judged:
        if disk.get("name") == name and disk.get("driver"):
            return bool(disk.get("live_migratable")), str(disk.get("live_migration_blocker", ""))
    return None


VOLUME_OPERATIONS = {"snapshot": "SNAPSHOT", "backup": "BACKUP", "export_to_image": "EXPORT"}


def check_volume_operation(
    operation: str, volume: str, provisioner: str, parameters: Mapping[str, str], *, attached: bool
) -> None:
    """Refuse a snapshot, backup or export to image that the volume's driver cannot do, naming the driver.

    An export is also refused while the volume is attached: CDI cannot convert an attached PVC, and the
    image then stays Exporting forever (seed 003, Limitations). For the snapshot, backup and export
    requests Harrow will serve; no RPC takes them yet (issue 7 report).
    """
    driver = storage_capabilities.for_class(provisioner, parameters)
    cell = driver.cell(operation)
    word = operation.replace("_", " ")
    if not cell.supported:
        raise FailedPrecondition(
            f"volume {volume}: the {_called(driver.display_name)} ({provisioner}) cannot {word} ({cell.source})",
            reason=f"DRIVER_CANNOT_{VOLUME_OPERATIONS[operation]}",
            metadata={"volume": volume, "driver": driver.driver, "provisioner": provisioner},
        )
    if operation == "export_to_image" and attached:
        raise FailedPrecondition(
            f"volume {volume} is attached: CDI cannot export an attached volume (it would stay Exporting; "
            "seed 003, Limitations); stop the VM or detach the volume first",
            reason="VOLUME_ATTACHED",
            metadata={"volume": volume},
        )


def _called(display_name: str) -> str:
    """ "LVM driver", but "unknown driver" rather than "unknown driver driver"."""
    return display_name if display_name.endswith("driver") else f"{display_name} driver"
