"""Filesystem overhead and the PVC size CDI asks for, as CDI computes them, per cluster version.

The default overhead moved from 0.055 (seed 004, HCO docs; CDI `DefaultGlobalOverhead`
since 2020) to 0.06 in CDI v1.64.0 (commit 6d6517ae7), so the default is read
for the CDI version the cluster reports, never one constant (DESIGN §6). A
cluster that reports no CDI version gets the seeds' value.

The inflated size is CDI's `GetRequiredSpace` (pkg/controller/common/util.go):
the request rounded up to 1 MiB, then divided by (1 - overhead) and rounded up,
so the overhead is a share of the whole volume. (semantics.md §3 writes it as
times (1 + overhead); CDI's code divides, which asks for slightly more.) Block
volumes are not inflated.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal

SEED_DEFAULT = "0.055"
CDI_164_DEFAULT = "0.06"
ALIGN = 1 << 20
GIB = 1 << 30
# Seed 003, Known Issues 1: below 1 GB, with a virtual size close to the image size, 5.5% is "likely insufficient"
# for the scratch volume of an import (the LVM infinite download loop); the seed's workaround is 0.2.
SMALL_IMAGE_BYTES = 10**9
WORKAROUND_OVERHEAD = "0.2"
_VERSION = re.compile(r"^v?(\d+)\.(\d+)")


def default_overhead(cdi_version: str) -> str:
    """CDI's default global overhead for a release: 0.06 from v1.64.0, 0.055 before (and when unknown)."""
    match = _VERSION.match(cdi_version.strip())
    if match is None:
        return CDI_164_DEFAULT if cdi_version.strip() == "main" else SEED_DEFAULT
    return CDI_164_DEFAULT if (int(match.group(1)), int(match.group(2))) >= (1, 64) else SEED_DEFAULT


@dataclass(frozen=True)
class Overhead:
    effective: str
    global_value: str
    cdi_default: str
    cdi_version: str
    source: str


def resolve_overhead(
    storage_class: str,
    cdi_version: str,
    cdi_config: Mapping[str, object],
    *,
    spec_override: str = "",
    harvester_annotation: str = "",
) -> Overhead:
    """The overhead CDI applies to a class: the class's own value, else the global one, else the version default.

    `cdi_config` is CDI.spec.config.filesystemOverhead ({global, storageClass}). On Harvester the class
    annotation is what Harvester syncs into that per-class map, so it counts as the class's value.
    """
    default = default_overhead(cdi_version)
    per_class = cdi_config.get("storageClass") or {}
    global_value = str(cdi_config.get("global") or default)
    if spec_override:
        return Overhead(spec_override, global_value, default, cdi_version, "spec")
    if harvester_annotation:
        return Overhead(harvester_annotation, global_value, default, cdi_version, "storage class")
    if isinstance(per_class, Mapping) and per_class.get(storage_class):
        return Overhead(str(per_class[storage_class]), global_value, default, cdi_version, "storage class")
    return Overhead(
        global_value, global_value, default, cdi_version, "global" if cdi_config.get("global") else "cdi default"
    )


def required_space(requested: int, overhead: str) -> int:
    """CDI GetRequiredSpace: align to 1 MiB, then make `overhead` a share of the whole volume."""
    aligned = -(-requested // ALIGN) * ALIGN
    fraction = Decimal(overhead)
    if fraction >= 1:
        raise ValueError("a filesystem overhead of 1 leaves no room for data")
    return math.ceil(Decimal(aligned) / (1 - fraction))


def pvc_size(requested: int, volume_mode: str, overhead: str) -> int:
    """The PVC size CDI requests for a DataVolume of `requested` bytes (Block volumes are not inflated)."""
    return required_space(requested, overhead) if volume_mode == "Filesystem" else requested


def scratch_space_class(configured: str, existing: Iterable[str], default_class: str, volume_class: str) -> str:
    """Seed 004: scratchSpaceStorageClass if that class exists, else the default class, else the volume's own."""
    classes = set(existing)
    if configured and configured in classes:
        return configured
    if default_class:
        return default_class
    return volume_class


def small_image_warning(volume_bytes: int, overhead: str, driver: str) -> str:
    """Seed 003's infinite download loop: an image volume under 1 GB whose scratch space the overhead cannot hold.

    CDI sizes the import's scratch volume from the target volume, so an image volume under 1 GB holds an image
    under 1 GB: exactly the case the seed says the default overhead is likely insufficient for.
    """
    if volume_bytes <= 0 or volume_bytes >= SMALL_IMAGE_BYTES or Decimal(overhead) >= Decimal(WORKAROUND_OVERHEAD):
        return ""
    return (
        f"the image volume is {volume_bytes} bytes, under 1 GB: a filesystem overhead of {overhead} is known to be "
        f"too small for the import's scratch volume when the image's virtual size is close to its size (the import "
        f"then loops forever{' on LVM' if driver == 'lvm' else ''}); set the storage profile's filesystem_overhead "
        f'to "{WORKAROUND_OVERHEAD}" (seed 003, Known Issues)'
    )
