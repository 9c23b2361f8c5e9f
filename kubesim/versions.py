"""Defaults that changed between releases, keyed by the versions a cluster reports.

A reconciler that hard-codes one release's defaults works on that release
only (DESIGN §6), so kubesim must be able to play either side of each change:
every fact here is a function of the version in ``KubeSimConfig``, with the
commit that moved it cited in semantics.md. ``main`` (an unreleased build)
counts as newer than every release.
"""

from __future__ import annotations

import re
from typing import Any

_VERSION = re.compile(r"^v?(\d+)\.(\d+)(?:\.(\d+))?")
NEWEST = (10**6, 0, 0)


def parse(version: str) -> tuple[int, int, int]:
    """``v1.8.4`` → (1, 8, 4); ``main`` or an unparsable tag → newer than any release."""
    match = _VERSION.match(version.strip())
    if match is None:
        return NEWEST
    return int(match.group(1)), int(match.group(2)), int(match.group(3) or 0)


def at_least(version: str, floor: str) -> bool:
    return parse(version) >= parse(floor)


def migration_defaults(kubevirt_version: str) -> dict[str, Any]:
    """KubeVirt CR ``spec.configuration.migrations`` defaults (semantics.md §2.3).

    ``completionTimeoutPerGiB`` went from 800 to 150 in v1.4.0 (commit 5080d817f1);
    ``bandwidthPerMigration`` went from 64Mi to unlimited in v0.44 (commit ba569ec0bb).
    """
    return {
        "parallelMigrationsPerCluster": 5,
        "parallelOutboundMigrationsPerNode": 2,
        "bandwidthPerMigration": "0Mi" if at_least(kubevirt_version, "v0.44.0") else "64Mi",
        "completionTimeoutPerGiB": 150 if at_least(kubevirt_version, "v1.4.0") else 800,
        "progressTimeout": 150,
        "allowAutoConverge": False,
        "allowPostCopy": False,
        "unsafeMigrationOverride": False,
        "nodeDrainTaintKey": "kubevirt.io/drain",
    }


def filesystem_overhead(cdi_version: str) -> float:
    """CDIConfig's global filesystem overhead: 0.055, then 0.06 from CDI v1.64.0 (commit 6d6517ae7)."""
    return 0.06 if at_least(cdi_version, "v1.64.0") else 0.055


def overcommit_config(harvester_version: str) -> dict[str, int]:
    """Harvester ``overcommit-config`` default: 1600/150/200 through v1.7.x, 1000/150/100 from v1.8.0."""
    if at_least(harvester_version, "v1.8.0"):
        return {"cpu": 1000, "memory": 150, "storage": 100}
    return {"cpu": 1600, "memory": 150, "storage": 200}


def schema_version(requested: str, bundled: list[str]) -> str:
    """The bundled schema set that validates ``requested``.

    The newest bundled release not newer than the requested one; for older
    releases the oldest bundled one, whose schema is a superset of theirs in
    practice (fields are added, rarely removed), so valid objects still pass.
    """
    if requested in bundled:
        return requested
    releases = sorted((v for v in bundled if parse(v) != NEWEST), key=parse)
    if not releases:
        return bundled[0]
    older = [v for v in releases if parse(v) <= parse(requested)]
    return older[-1] if older else releases[0]
