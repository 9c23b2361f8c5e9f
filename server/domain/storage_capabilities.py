"""What each CSI driver can do for a VM, every cell with the document that says so.

Users otherwise learn these limits at failure time (an image that never
finishes exporting, a VM that cannot be drained). The rows are the drivers
Harvester validated (seed 003, "Third-Party Storage Support", its capability
table) plus Longhorn's v1 data engine, Harvester's built-in storage, and a
documented row for a driver nobody validated. The README table is generated
from this module (`python -m server.domain.storage_capabilities --markdown`),
and a test checks the README shows exactly that, so the two cannot disagree.

Live migration needs a ReadWriteMany volume; whether a class offers one is
the StorageProfile's business (storage_profiles.py). A `True` here means the
driver can, given a class whose profile offers RWX.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from dataclasses import dataclass

SEED_TABLE = "seed 003 (Third-Party Storage Support), capability table"
SEED_LIMITS = "seed 003, Limitations"
SEED_PREREQ = "seed 003, Prerequisites"
SEED_CONFIGURE = "seed 003, Configure Harvester Cluster"
CDI_TABLE = "CDI pkg/storagecapabilities/storagecapabilities.go, CapabilitiesByProvisionerKey"
HARVESTER_LVM_MUTATOR = "Harvester pkg/webhook/resources/storageclass mutator, generateLVMPatchOps"
HARVESTER_DOCS = "Harvester docs, Longhorn (built-in storage): VM backup, snapshot and image export"

RWO, RWX = "ReadWriteOnce", "ReadWriteMany"
BLOCK, FILESYSTEM = "Block", "Filesystem"

# Driver keys, in table order.
LONGHORN_V1, LONGHORN_V2, LVM, NFS, ROOK_RBD, UNKNOWN = (
    "longhorn-v1",
    "longhorn-v2",
    "lvm",
    "nfs",
    "rook-rbd",
    "unknown",
)
LONGHORN = "driver.longhorn.io"
ACTIONS = ("vm_image", "root_disk", "data_disk", "export_to_image", "template", "live_migration", "snapshot", "backup")
ACTION_TITLES = {
    "vm_image": "VM image",
    "root_disk": "root disk",
    "data_disk": "data disk",
    "export_to_image": "export to image",
    "template": "template",
    "live_migration": "live migration (RWX)",
    "snapshot": "snapshot",
    "backup": "backup",
}


@dataclass(frozen=True)
class Cell:
    supported: bool
    source: str
    note: str = ""


@dataclass(frozen=True)
class DriverCapabilities:
    driver: str
    display_name: str
    provisioners: tuple[str, ...]
    cells: Mapping[str, Cell]
    # (access mode, volume mode) pairs CDI gives a class of this driver without overrides, first first.
    default_sets: tuple[tuple[str, str], ...]
    default_sets_source: str

    def cell(self, action: str) -> Cell:
        return self.cells[action]


def _row(
    driver: str,
    display_name: str,
    provisioners: tuple[str, ...],
    supported: str,
    source: str,
    notes: Mapping[str, str],
    default_sets: tuple[tuple[str, str], ...],
    default_sets_source: str,
    sources: Mapping[str, str] | None = None,
) -> DriverCapabilities:
    """A row from a ✔/✖ string in ACTIONS order (the seed's column order), one source unless overridden."""
    cells = {
        action: Cell(flag == "✔", (sources or {}).get(action, source), notes.get(action, ""))
        for action, flag in zip(ACTIONS, supported, strict=True)
    }
    return DriverCapabilities(driver, display_name, provisioners, cells, default_sets, default_sets_source)


_MIGRATABLE = (
    'needs a StorageClass with parameters.migratable: "true" (CDI key driver.longhorn.io/migratable: RWX Block)'
)

TABLE: tuple[DriverCapabilities, ...] = (
    _row(
        LONGHORN_V1,
        "Longhorn v1 data engine",
        (LONGHORN,),
        "✔✔✔✔✔✔✔✔",
        HARVESTER_DOCS,
        {"live_migration": _MIGRATABLE},
        ((RWO, BLOCK),),
        CDI_TABLE + ' ("driver.longhorn.io")',
        {"backup": SEED_LIMITS + " (backup is limited to Longhorn v1)", "snapshot": SEED_CONFIGURE},
    ),
    _row(
        LONGHORN_V2,
        "Longhorn v2 data engine",
        (LONGHORN,),
        "✔✔✔✔✔✔✖✖",
        SEED_TABLE,
        {"live_migration": _MIGRATABLE, "backup": "backup is limited to Longhorn v1 (seed 003, Limitations)"},
        ((RWO, BLOCK),),
        CDI_TABLE + ' ("driver.longhorn.io")',
    ),
    _row(
        LVM,
        "LVM",
        ("lvm.driver.harvesterhci.io",),
        "✔✔✔✔✔✖✔✖",
        SEED_TABLE,
        {"live_migration": "local volumes: ReadWriteOnce only"},
        ((RWO, BLOCK),),
        HARVESTER_LVM_MUTATOR + ' (annotation {"Block":["ReadWriteOnce"]}; CDI itself has no entry)',
    ),
    _row(
        NFS,
        "NFS",
        ("nfs.csi.k8s.io",),
        "✔✔✔✔✔✔✖✖",
        SEED_TABLE,
        {},
        ((RWX, FILESYSTEM),),
        CDI_TABLE + ' ("nfs.csi.k8s.io")',
    ),
    _row(
        ROOK_RBD,
        "Rook Ceph RBD",
        ("rook-ceph.rbd.csi.ceph.com", "rbd.csi.ceph.com"),
        "✔✔✔✔✔✔✔✖",
        SEED_TABLE,
        {},
        ((RWX, BLOCK), (RWO, BLOCK), (RWO, FILESYSTEM)),
        CDI_TABLE + " (createRbdCapabilities)",
    ),
    _row(
        UNKNOWN,
        "unknown driver",
        ("*",),
        "✔✔✔✖✖✖✖✖",
        SEED_PREREQ + " (Harvester validated only the drivers above)",
        {
            "vm_image": "only once its StorageProfile has claim property sets (CDI has no defaults for it)",
            "root_disk": "only once its StorageProfile has claim property sets (CDI has no defaults for it)",
            "data_disk": "only once its StorageProfile has claim property sets (CDI has no defaults for it)",
            "live_migration": "not assumed; a profile whose claim property sets offer RWX is trusted",
        },
        (),
        CDI_TABLE + " (no entry: an unknown provisioner gets no claim property sets)",
    ),
)
BY_DRIVER = {row.driver: row for row in TABLE}


def driver_of(provisioner: str, parameters: Mapping[str, str]) -> str:
    """The row key of a StorageClass: Longhorn's `dataEngine` parameter tells v1 (the default) from v2."""
    if provisioner == LONGHORN:
        return LONGHORN_V2 if parameters.get("dataEngine") == "v2" else LONGHORN_V1
    for row in TABLE:
        if provisioner in row.provisioners:
            return row.driver
    if provisioner.endswith(".rbd.csi.ceph.com"):
        return ROOK_RBD
    return UNKNOWN


def for_class(provisioner: str, parameters: Mapping[str, str]) -> DriverCapabilities:
    return BY_DRIVER[driver_of(provisioner, parameters)]


def markdown() -> str:
    """The README table: one row per driver, ✔/✖ per action, then every cell's source as a footnote list."""
    header = ["driver", "provisioner", *(ACTION_TITLES[a] for a in ACTIONS), "default access / volume mode"]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    footnotes: list[str] = []
    for row in TABLE:
        cells = []
        for action in ACTIONS:
            cell = row.cell(action)
            mark = "✔" if cell.supported else "✖"
            if cell.note:
                footnotes.append(f"- {row.display_name}, {ACTION_TITLES[action]}: {cell.note}.")
                mark += "*"
            cells.append(mark)
        defaults = ", ".join(f"{mode} {volume}" for mode, volume in row.default_sets) or "none"
        provisioners = ", ".join(f"`{p}`" for p in row.provisioners)
        if row.driver == LONGHORN_V2:
            provisioners += " (`dataEngine: v2`)"
        lines.append(f"| {row.display_name} | {provisioners} | " + " | ".join(cells) + f" | {defaults} |")
    sources = ["", "Sources:", ""]
    for row in TABLE:
        by_source: dict[str, list[str]] = {}
        for action in ACTIONS:
            by_source.setdefault(row.cell(action).source, []).append(ACTION_TITLES[action])
        parts = "; ".join(f"{', '.join(actions)}: {source}" for source, actions in by_source.items())
        sources.append(f"- {row.display_name}: {parts}; default modes: {row.default_sets_source}.")
    notes = ["", "\\* Notes:", "", *footnotes] if footnotes else []
    return "\n".join([*lines, *notes, *sources]) + "\n"


if __name__ == "__main__":
    if sys.argv[1:] != ["--markdown"]:
        sys.exit("usage: python -m server.domain.storage_capabilities --markdown")
    sys.stdout.write(markdown())
