"""The migration configuration a VM actually gets, field by field, with where each value came from.

KubeVirt merges three layers (reference/semantics.md §2.2 and §2.3): its built-in
defaults (`pkg/virt-config/virt-config.go`, `configuration.go` `defaultClusterConfig`),
the KubeVirt CR's `spec.configuration.migrations` (Harrow's MigrationConfig), and
the one MigrationPolicy that wins for the VM (only the fields it sets:
v1.8.4 `MigrationPolicy.GetMigrationConfByPolicy`, main `applyMigrationPolicySpec`).
Tuning is error-prone because nobody can see the result; `effective()` shows it.

Defaults depend on the KubeVirt version (DESIGN §6): completionTimeoutPerGiB was
800 until commit 5080d817f1 (v1.4.0) and is 150 since; bandwidthPerMigration was
64Mi until commit ba569ec0bb (v0.44) and is 0 (unlimited) since. The seeds
(002_996de3ea433a2a10.txt, 004_929998eca6019019.txt) document the older values;
both are real, for different clusters, so they live in a table keyed by version.

allowWorkloadDisruption follows allowPostCopy when it is not set, both in the
cluster configuration (`GetMigrationConfiguration`) and in a policy.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from typing import Any

# Every field, in the order Harrow shows them (proto field names).
FIELDS = (
    "parallel_migrations_per_cluster",
    "parallel_outbound_migrations_per_node",
    "bandwidth_per_migration",
    "completion_timeout_per_gib",
    "progress_timeout",
    "allow_auto_converge",
    "allow_post_copy",
    "allow_workload_disruption",
    "network",
)
# The fields a MigrationPolicy may set (migrations.kubevirt.io/v1alpha1, v1.8.4).
POLICY_FIELDS = (
    "allow_auto_converge",
    "bandwidth_per_migration",
    "completion_timeout_per_gib",
    "allow_post_copy",
    "allow_workload_disruption",
)

# Provenance of a value.
POLICY = "POLICY"
CLUSTER_CONFIG = "CLUSTER_CONFIG"
VERSION_DEFAULT = "VERSION_DEFAULT"


@dataclass(frozen=True)
class Settings:
    """A complete configuration; `bandwidth_per_migration` is a quantity string, "0Mi" meaning unlimited."""

    parallel_migrations_per_cluster: int
    parallel_outbound_migrations_per_node: int
    bandwidth_per_migration: str
    completion_timeout_per_gib: int
    progress_timeout: int
    allow_auto_converge: bool
    allow_post_copy: bool
    allow_workload_disruption: bool
    network: str

    def as_dict(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self)}


@dataclass(frozen=True)
class Provenance:
    field: str
    source: str
    detail: str


@dataclass(frozen=True)
class Effective:
    settings: Settings
    provenance: tuple[Provenance, ...]
    kubevirt_version: str


_NEWEST = Settings(
    parallel_migrations_per_cluster=5,
    parallel_outbound_migrations_per_node=2,
    bandwidth_per_migration="0Mi",
    completion_timeout_per_gib=150,
    progress_timeout=150,
    allow_auto_converge=False,
    allow_post_copy=False,
    allow_workload_disruption=False,
    network="",
)
# (first version, values): newest first; a version gets the first entry it is not older than.
_DEFAULTS: tuple[tuple[tuple[int, int], Settings], ...] = (
    ((1, 4), _NEWEST),
    ((0, 44), replace(_NEWEST, completion_timeout_per_gib=800)),
    ((0, 0), replace(_NEWEST, completion_timeout_per_gib=800, bandwidth_per_migration="64Mi")),
)


def _major_minor(version: str) -> tuple[int, int] | None:
    match = re.match(r"v?(\d+)\.(\d+)", version)
    return (int(match.group(1)), int(match.group(2))) if match else None


def defaults(kubevirt_version: str) -> tuple[Settings, str]:
    """KubeVirt's built-in defaults for a version, and how they were chosen; an unknown version gets the newest."""
    parsed = _major_minor(kubevirt_version)
    if parsed is None:
        return _NEWEST, "KubeVirt default (the cluster has not reported its KubeVirt version; newest defaults)"
    settings = next(value for since, value in _DEFAULTS if parsed >= since)
    return settings, f"KubeVirt {kubevirt_version} default"


def _present(values: Mapping[str, Any], name: str) -> bool:
    return name in values and values[name] is not None


def effective(
    kubevirt_version: str,
    cluster_config: Mapping[str, Any],
    policy: str | None = None,
    policy_spec: Mapping[str, Any] | None = None,
) -> Effective:
    """Defaults ← cluster config ← policy, field by field. Mappings hold only the fields that are set."""
    base, default_detail = defaults(kubevirt_version)
    values = base.as_dict()
    provenance = {name: Provenance(name, VERSION_DEFAULT, default_detail) for name in FIELDS}
    for name in FIELDS:
        if name != "allow_workload_disruption" and _present(cluster_config, name):
            values[name] = cluster_config[name]
            provenance[name] = Provenance(name, CLUSTER_CONFIG, "set in the cluster's migration configuration")
    if _present(cluster_config, "allow_workload_disruption"):
        values["allow_workload_disruption"] = cluster_config["allow_workload_disruption"]
        provenance["allow_workload_disruption"] = Provenance(
            "allow_workload_disruption", CLUSTER_CONFIG, "set in the cluster's migration configuration"
        )
    else:
        values["allow_workload_disruption"] = values["allow_post_copy"]
        post_copy = provenance["allow_post_copy"]
        follows = f"not set, so it follows allow_post_copy ({post_copy.detail})"
        provenance["allow_workload_disruption"] = Provenance("allow_workload_disruption", post_copy.source, follows)
    if policy is not None and policy_spec is not None:
        detail = f"set by migration policy {policy}"
        for name in POLICY_FIELDS:
            if _present(policy_spec, name):
                values[name] = policy_spec[name]
                provenance[name] = Provenance(name, POLICY, detail)
        if not _present(policy_spec, "allow_workload_disruption") and _present(policy_spec, "allow_post_copy"):
            values["allow_workload_disruption"] = policy_spec["allow_post_copy"]
            provenance["allow_workload_disruption"] = Provenance(
                "allow_workload_disruption",
                POLICY,
                f"not set by migration policy {policy}, so it follows the policy's allow_post_copy",
            )
    return Effective(Settings(**values), tuple(provenance[name] for name in FIELDS), kubevirt_version)


@dataclass(frozen=True)
class CompletionTimeout:
    seconds: int
    data_bytes: int
    per_gib: int
    formula: str


def completion_timeout(per_gib: int, data_bytes: int) -> CompletionTimeout:
    """`acceptableCompletionTime` = completionTimeoutPerGiB * ceil(bytes / 10^9).

    kubevirt `pkg/virt-launcher/virtwrap/manager.go` `getVMIMigrationDataSize` uses
    `ScaledValue(resource.Giga)`: decimal gigabytes, rounded up, despite "GiB" (semantics.md §2.4).
    0 disables the timeout.
    """
    gigabytes = math.ceil(data_bytes / 10**9) if data_bytes > 0 else 0
    seconds = per_gib * gigabytes
    formula = f"{per_gib} s * ceil({data_bytes} B / 10^9) = {per_gib} * {gigabytes} = {seconds} s"
    if per_gib == 0:
        formula += " (0 disables the completion timeout)"
    return CompletionTimeout(seconds, data_bytes, per_gib, formula)
