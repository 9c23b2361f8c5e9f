"""Resource requests from limits: what the cluster's overcommit setting makes of a VM's CPU and memory.

Users give Harrow limits (vCPUs, memory); the scheduler sees requests. On
Harvester the VM mutator derives requests from the `overcommit-config`
setting and guest memory from `harvesterhci.io/reservedMemory` or the
`additional-guest-memory-overhead-ratio` setting (semantics.md §4). Harrow
writes the same numbers the mutator would, so the mutator's patch never looks
like drift. The setting is read from the cluster; only when the cluster does
not report one is the default taken from a table keyed by Harvester version,
because the default changed in v1.8.0 (DESIGN §6) and an old cluster keeps the
old one. Plain KubeVirt divides CPU by `cpuAllocationRatio` and memory by
`memoryOvercommit` from the KubeVirt CR's developerConfiguration.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from server.domain.quantity import quantity_bytes

MIB = 1024 * 1024
# Harvester's legacy guest-memory reservation (issue harvester#1234), used when the overhead ratio is disabled.
LEGACY_RESERVED_BYTES = 100 * MIB


@dataclass(frozen=True)
class Overcommit:
    """Percentages: 100 means requests = limits; 1000 means a tenth."""

    cpu: int
    memory: int


# overcommit-config defaults: {"cpu":1600,"memory":150,"storage":200} through v1.7.x,
# {"cpu":1000,"memory":150,"storage":100} from v1.8.0 (semantics.md §4; seeds 001/004 document the older ones).
_HARVESTER_DEFAULTS: tuple[tuple[tuple[int, int], Overcommit], ...] = (
    ((1, 8), Overcommit(cpu=1000, memory=150)),
    ((0, 0), Overcommit(cpu=1600, memory=150)),
)
KUBEVIRT_DEFAULT_CPU_ALLOCATION_RATIO = 10


def harvester_default(version: str) -> Overcommit:
    """The overcommit-config default of a Harvester version; an unknown version gets the newest."""
    parsed = _major_minor(version)
    if parsed is None:
        return _HARVESTER_DEFAULTS[0][1]
    return next(value for since, value in _HARVESTER_DEFAULTS if parsed >= since)


def kubevirt_overcommit(cpu_allocation_ratio: int | None, memory_overcommit: int | None) -> Overcommit:
    ratio = cpu_allocation_ratio or KUBEVIRT_DEFAULT_CPU_ALLOCATION_RATIO
    return Overcommit(cpu=100 * ratio, memory=memory_overcommit or 100)


@dataclass(frozen=True)
class Resources:
    limits: dict[str, str]
    requests: dict[str, str]
    guest_memory: str


def resources(
    *, vcpus: int, memory: str, overcommit: Overcommit, reserved_memory: str, overhead_ratio: str | None
) -> Resources:
    """Harvester's mutator formula (integer division; memory floored to whole MiB).

    `overhead_ratio` is the `additional-guest-memory-overhead-ratio` setting, or
    None on plain KubeVirt, where only an explicit reservation lowers the guest.
    """
    limit_bytes = quantity_bytes(memory)
    cpu_request_milli = vcpus * 1000 * 100 // overcommit.cpu
    memory_request_mib = limit_bytes * 100 // overcommit.memory // MIB
    guest = limit_bytes
    if reserved_memory:
        guest -= quantity_bytes(reserved_memory)
    elif overhead_ratio is not None and not _ratio_enabled(overhead_ratio):
        guest -= LEGACY_RESERVED_BYTES
    return Resources(
        limits={"cpu": str(vcpus), "memory": memory},
        requests={"cpu": f"{max(cpu_request_milli, 1)}m", "memory": f"{memory_request_mib}Mi"},
        guest_memory=_bytes_quantity(guest),
    )


def _ratio_enabled(ratio: str) -> bool:
    try:
        return float(ratio) != 0.0
    except ValueError:
        return False


def _bytes_quantity(value: int) -> str:
    return f"{value // MIB}Mi" if value % MIB == 0 else str(value)


def _major_minor(version: str) -> tuple[int, int] | None:
    match = re.match(r"v?(\d+)\.(\d+)", version)
    return (int(match.group(1)), int(match.group(2))) if match else None
