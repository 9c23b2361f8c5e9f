"""Migration intent → the cluster objects that carry it (issue 6), for the reconciler to apply.

Pure, like translate.py: the same intent always gives the same object, so drift
is a comparison. Intent is the proto3 JSON Harrow stores (original field names).
Every object validates against the real schemas in ../shared/schemas/kubevirt
(tests/unit/reconcile/test_translate_migration.py).

- MigrationPolicy → migrations.kubevirt.io/v1alpha1 MigrationPolicy, cluster-scoped,
  named by the policy's ID: KubeVirt breaks ties by metadata.name, so the name
  Harrow explains with must be the name the cluster compares.
- MigrationConfig → the KubeVirt CR's `spec.configuration.migrations`, only the
  fields the user set (the rest stay KubeVirt's defaults for its version). On
  Harvester ≥ 1.7 the `kubevirt-migration` setting owns that block and its
  controller replaces the whole block with the setting's value, so there the
  same intent becomes the setting value instead, complete, with the version's
  defaults filled in (semantics.md §2.3); `network` is owned by the
  `vm-migration-network` setting and left out.
- Migration → kubevirt.io/v1 VirtualMachineInstanceMigration; a target node
  becomes `addedNodeSelector` on `kubernetes.io/hostname`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from server.domain import migration_config
from server.reconcile.translate import MANAGED_BY, UID_LABEL

Obj = dict[str, Any]

HOSTNAME_LABEL = "kubernetes.io/hostname"
HARVESTER_MIGRATION_SETTING = "kubevirt-migration"
_CAMEL = {
    "parallel_migrations_per_cluster": "parallelMigrationsPerCluster",
    "parallel_outbound_migrations_per_node": "parallelOutboundMigrationsPerNode",
    "bandwidth_per_migration": "bandwidthPerMigration",
    "completion_timeout_per_gib": "completionTimeoutPerGiB",
    "progress_timeout": "progressTimeout",
    "allow_auto_converge": "allowAutoConverge",
    "allow_post_copy": "allowPostCopy",
    "allow_workload_disruption": "allowWorkloadDisruption",
    "network": "network",
}
# The keys of a migrations block Harrow models (and so owns where it writes the block).
MODELED_KEYS = frozenset(_CAMEL.values())
_INTEGERS = ("parallel_migrations_per_cluster", "parallel_outbound_migrations_per_node", "completion_timeout_per_gib")


def _labels(uid: str) -> dict[str, str]:
    return {MANAGED_BY[0]: MANAGED_BY[1], UID_LABEL: uid}


def _value(name: str, value: Any) -> Any:
    """Proto3 JSON writes int64 as a string; the cluster wants a number."""
    return int(value) if name in _INTEGERS or name == "progress_timeout" else value


def _set_fields(spec: Mapping[str, Any], names: tuple[str, ...]) -> Obj:
    return {_CAMEL[name]: _value(name, spec[name]) for name in names if spec.get(name) is not None}


def translate_migration_policy(policy_id: str, uid: str, spec: Mapping[str, Any]) -> Obj:
    selectors = spec.get("selectors") or {}
    body: Obj = {
        "selectors": {
            "namespaceSelector": dict(selectors.get("namespace_selector") or {}),
            "virtualMachineInstanceSelector": dict(selectors.get("virtual_machine_instance_selector") or {}),
        }
    }
    body.update(_set_fields(spec, migration_config.POLICY_FIELDS))
    return {
        "apiVersion": "migrations.kubevirt.io/v1alpha1",
        "kind": "MigrationPolicy",
        "metadata": {"name": policy_id, "labels": _labels(uid)},
        "spec": body,
    }


def translate_kubevirt_migrations(spec: Mapping[str, Any]) -> Obj:
    """The KubeVirt CR's `spec.configuration.migrations`: what the user set, nothing else."""
    return _set_fields(spec, migration_config.FIELDS)


def translate_harvester_migration_setting(spec: Mapping[str, Any], kubevirt_version: str) -> str:
    """The value of Harvester's `kubevirt-migration` setting: the whole block, defaults filled in."""
    effective = migration_config.effective(kubevirt_version, spec).settings.as_dict()
    names = tuple(name for name in migration_config.FIELDS if name != "network")
    return json.dumps({_CAMEL[name]: _value(name, effective[name]) for name in names}, sort_keys=True)


def translate_migration(namespace: str, vm_id: str, migration_id: str, uid: str, spec: Mapping[str, Any]) -> Obj:
    body: Obj = {"vmiName": vm_id}
    if spec.get("target_node"):
        body["addedNodeSelector"] = {HOSTNAME_LABEL: spec["target_node"]}
    return {
        "apiVersion": "kubevirt.io/v1",
        "kind": "VirtualMachineInstanceMigration",
        "metadata": {"name": f"{vm_id}-{migration_id}", "namespace": namespace, "labels": _labels(uid)},
        "spec": body,
    }
