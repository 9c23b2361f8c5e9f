"""Migration objects validate against the real KubeVirt schemas (../shared/schemas/kubevirt, v1.8.4 and main)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from server.reconcile.translate_migration import (
    translate_harvester_migration_setting,
    translate_kubevirt_migrations,
    translate_migration,
    translate_migration_policy,
)

SCHEMAS = Path(__file__).resolve().parents[4] / "shared" / "schemas" / "kubevirt"
VERSIONS = ("v1.8.4", "main")


def validate(version: str, kind: str, obj: dict[str, Any]) -> None:
    schema = yaml.safe_load((SCHEMAS / version / "crd-openapiv3" / f"{kind}.yaml").read_text())["openAPIV3Schema"]
    jsonschema.validate(obj, schema)


@pytest.mark.parametrize("version", VERSIONS)
def test_a_policy_becomes_a_valid_migration_policy(version: str) -> None:
    spec = {
        "description": "databases",
        "allow_post_copy": True,
        "bandwidth_per_migration": "1Gi",
        "completion_timeout_per_gib": "300",
        "selectors": {"virtual_machine_instance_selector": {"tier": "db"}},
    }
    obj = translate_migration_policy("gold", "uid-1", spec)
    validate(version, "migrationpolicy", obj)
    assert obj["metadata"]["name"] == "gold"
    assert obj["spec"] == {
        "selectors": {"namespaceSelector": {}, "virtualMachineInstanceSelector": {"tier": "db"}},
        "allowPostCopy": True,
        "bandwidthPerMigration": "1Gi",
        "completionTimeoutPerGiB": 300,
    }


@pytest.mark.parametrize("version", VERSIONS)
def test_the_config_becomes_only_the_set_fields_of_the_kubevirt_cr(version: str) -> None:
    migrations = translate_kubevirt_migrations(
        {"completion_timeout_per_gib": "0", "allow_auto_converge": False, "network": "migration"}
    )
    assert migrations == {"completionTimeoutPerGiB": 0, "allowAutoConverge": False, "network": "migration"}
    kubevirt = {
        "apiVersion": "kubevirt.io/v1",
        "kind": "KubeVirt",
        "spec": {"configuration": {"migrations": migrations}},
    }
    validate(version, "kubevirt", kubevirt)


def test_on_harvester_the_setting_value_is_the_whole_block_with_version_defaults() -> None:
    value = json.loads(translate_harvester_migration_setting({"allow_post_copy": True, "network": "x"}, "v1.8.4"))
    assert value == {
        "allowAutoConverge": False,
        "allowPostCopy": True,
        "allowWorkloadDisruption": True,
        "bandwidthPerMigration": "0Mi",
        "completionTimeoutPerGiB": 150,
        "parallelMigrationsPerCluster": 5,
        "parallelOutboundMigrationsPerNode": 2,
        "progressTimeout": 150,
    }


@pytest.mark.parametrize("version", VERSIONS)
def test_a_migration_becomes_a_valid_vmim_pinned_to_its_target_node(version: str) -> None:
    obj = translate_migration("default", "web-1", "m-1", "uid-2", {"target_node": "node-2"})
    validate(version, "virtualmachineinstancemigration", obj)
    assert obj["metadata"] == {
        "name": "web-1-m-1",
        "namespace": "default",
        "labels": {"app.kubernetes.io/managed-by": "harrow", "harrow.io/uid": "uid-2"},
    }
    assert obj["spec"] == {"vmiName": "web-1", "addedNodeSelector": {"kubernetes.io/hostname": "node-2"}}
    assert "addedNodeSelector" not in translate_migration("default", "web-1", "m-2", "u", {})["spec"]
