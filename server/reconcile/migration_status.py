"""What a VirtualMachineInstanceMigration shows, as Harrow Migration status: pure functions of cluster objects.

The phase walk and `migrationState` fields are KubeVirt's (semantics.md §2.6).
What KubeVirt does not show is why a Pending migration waits: virt-controller
requeues it silently while `parallelMigrationsPerCluster` or
`parallelOutboundMigrationsPerNode` is used up (`migration.go`
`handleTargetPodCreation`, semantics.md §2.3). `queue()` recomputes that from
the migrations Harrow sees, so users read "queued behind 3, per-cluster limit 5"
instead of a bare Pending. Migrations Harrow did not create (a drain's
evacuations) are not labelled Harrow's, are not watched, and so are not
counted: the position is a lower bound on such clusters.

Data transferred and remaining are left unset: KubeVirt reports them only as
virt-handler metrics, not in any object Harrow reads.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from server.domain import migration_config

Obj = dict[str, Any]

PHASES = {
    "": "PENDING",
    "Pending": "PENDING",
    "WaitingForSync": "PENDING",
    "Synchronizing": "PENDING",
    "Scheduling": "SCHEDULING",
    "Scheduled": "SCHEDULED",
    "PreparingTarget": "PREPARING_TARGET",
    "TargetReady": "TARGET_READY",
    "Running": "RUNNING",
    "Succeeded": "SUCCEEDED",
    "Failed": "FAILED",
}
FINAL = ("SUCCEEDED", "FAILED")
# Phases virt-controller counts against the parallel limits (migration.go: running = not pending, not final).
ACTIVE_PHASES = ("Scheduling", "Scheduled", "PreparingTarget", "TargetReady", "Running")
MODES = {"PreCopy": "PRE_COPY", "PostCopy": "POST_COPY", "Paused": "PAUSED"}
METHODS = {"LiveMigration": "LIVE_MIGRATION", "BlockMigration": "BLOCK_MIGRATION"}
_SNAKE = {
    "parallelMigrationsPerCluster": "parallel_migrations_per_cluster",
    "parallelOutboundMigrationsPerNode": "parallel_outbound_migrations_per_node",
    "bandwidthPerMigration": "bandwidth_per_migration",
    "completionTimeoutPerGiB": "completion_timeout_per_gib",
    "progressTimeout": "progress_timeout",
    "allowAutoConverge": "allow_auto_converge",
    "allowPostCopy": "allow_post_copy",
    "allowWorkloadDisruption": "allow_workload_disruption",
    "network": "network",
}


@dataclass(frozen=True)
class Limits:
    per_cluster: int
    per_node: int

    @staticmethod
    def of(migrations: Mapping[str, Any] | None, kubevirt_version: str) -> Limits:
        """The limits in force: the KubeVirt CR's values, else the version's defaults."""
        base, _ = migration_config.defaults(kubevirt_version)
        block = migrations or {}
        return Limits(
            int(block.get("parallelMigrationsPerCluster") or base.parallel_migrations_per_cluster),
            int(block.get("parallelOutboundMigrationsPerNode") or base.parallel_outbound_migrations_per_node),
        )


def _phase(vmim: Obj) -> str:
    return str((vmim.get("status") or {}).get("phase") or "")


def _state(vmim: Obj) -> Obj:
    return (vmim.get("status") or {}).get("migrationState") or {}


def _order(vmim: Obj) -> tuple[str, str]:
    metadata = vmim.get("metadata") or {}
    return str(metadata.get("creationTimestamp", "")), str(metadata.get("name", ""))


def queue(vmim: Obj, others: Iterable[Obj], source_of: Mapping[str, str], limits: Limits) -> Obj | None:
    """Why a Pending migration waits (MigrationQueue as proto JSON), or None when no limit holds it back.

    `source_of` maps a VMI's "namespace/name" to its node. Pending migrations older than this one take
    the free slots first (virt-controller's queue is roughly first come, first served), so a migration
    waits when the running ones plus those ahead of it fill a limit.
    """
    if _phase(vmim) not in ("", "Pending") or _state(vmim).get("targetNode"):
        return None
    everyone = [other for other in others if _key(other) != _key(vmim)]
    active = [other for other in everyone if _phase(other) in ACTIVE_PHASES]
    ahead = [other for other in everyone if _phase(other) in ("", "Pending") and _order(other) < _order(vmim)]
    source = source_of.get(_vmi_key(vmim), "")

    def outbound(items: list[Obj]) -> list[Obj]:
        return [m for m in items if (_state(m).get("sourceNode") or source_of.get(_vmi_key(m))) == source]

    if len(active) + len(ahead) >= limits.per_cluster:
        return {"position": len(ahead), "limit": "PER_CLUSTER", "limit_value": limits.per_cluster}
    if source and len(outbound(active)) + len(outbound(ahead)) >= limits.per_node:
        return {"position": len(outbound(ahead)), "limit": "PER_NODE_OUTBOUND", "limit_value": limits.per_node}
    return None


def _key(vmim: Obj) -> tuple[str, str]:
    metadata = vmim.get("metadata") or {}
    return str(metadata.get("namespace", "")), str(metadata.get("name", ""))


def _vmi_key(vmim: Obj) -> str:
    return f"{(vmim.get('metadata') or {}).get('namespace', '')}/{(vmim.get('spec') or {}).get('vmiName', '')}"


def configuration(block: Mapping[str, Any]) -> Obj:
    """`migrationState.migrationConfiguration` as MigrationSettings proto JSON (the fields Harrow models)."""
    out: Obj = {}
    for camel, snake in _SNAKE.items():
        value = block.get(camel)
        if value is None:
            continue
        out[snake] = str(value) if snake == "bandwidth_per_migration" else value
    return out


def status(cluster: str, vmim: Obj, vmi: Obj | None, previous: Mapping[str, Any], data_bytes: int) -> tuple[str, Obj]:
    """(state, MigrationStatus as proto JSON) from the cluster's VMIM and VMI; `previous` keeps what was seen."""
    state = PHASES.get(_phase(vmim), "PENDING")
    seen = _state(vmim)
    out: Obj = {key: previous[key] for key in ("method",) if key in previous}
    if seen.get("mode") in MODES:
        out["mode"] = MODES[seen["mode"]]
    for field, key in (("source_node", "sourceNode"), ("target_node", "targetNode")):
        if seen.get(key):
            out[field] = seen[key]
    for field, key in (("start_time", "startTimestamp"), ("end_time", "endTimestamp")):
        if seen.get(key):
            out[field] = seen[key]
    if seen.get("migrationPolicyName"):
        out["policy"] = f"clusters/{cluster}/migrationPolicies/{seen['migrationPolicyName']}"
    settings = configuration(seen.get("migrationConfiguration") or {})
    if settings:
        out["configuration"] = settings
        if "completion_timeout_per_gib" in settings and data_bytes:
            timeout = migration_config.completion_timeout(int(settings["completion_timeout_per_gib"]), data_bytes)
            out["completion_timeout"] = {
                "seconds": timeout.seconds,
                "data_bytes": timeout.data_bytes,
                "completion_timeout_per_gib": timeout.per_gib,
                "formula": timeout.formula,
            }
    if state == "FAILED":
        out["failure_reason"] = seen.get("failureReason") or _failed_condition(vmim) or "the migration failed"
    method = ((vmi or {}).get("status") or {}).get("migrationMethod")
    if method in METHODS:
        out["method"] = METHODS[method]
    return state, out


def _failed_condition(vmim: Obj) -> str:
    for condition in (vmim.get("status") or {}).get("conditions") or []:
        if condition.get("status") == "True" and condition.get("message"):
            return str(condition["message"])
    return ""
