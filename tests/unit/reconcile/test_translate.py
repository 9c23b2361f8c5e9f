"""translate(): what Harrow writes to a cluster validates against the real KubeVirt and CDI schemas."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from server.reconcile.translate import ClusterFacts, Intent, differences, translate
from server.reconcile.translate_resources import Overcommit, harvester_default, kubevirt_overcommit, resources

SCHEMAS = Path("/work/shared/schemas")
if not SCHEMAS.is_dir():
    SCHEMAS = Path(__file__).resolve().parents[3] / "kubesim" / "schemas"

HARVESTER = ClusterFacts(harvester=True, overcommit=Overcommit(cpu=1000, memory=150), overhead_ratio="1.5")
KUBEVIRT = ClusterFacts(harvester=False, overcommit=kubevirt_overcommit(None, None))

FULL_SPEC: dict[str, Any] = {
    "description": "web",
    "cpu": {"cores": 2, "sockets": 2, "threads": 1},
    "memory": "4Gi",
    "run_strategy": "ALWAYS",
    "disks": [
        {"name": "root", "boot_order": 1, "image": {"url": "https://images.example.com/u.qcow2", "size": "20Gi"}},
        {"name": "cd", "bus": "SATA", "image": {"url": "docker://quay.io/containerdisks/fedora:41", "size": "5Gi"}},
        {
            "name": "data",
            "new_volume": {
                "size": "100Gi",
                "storage_class": "longhorn-rwo",
                "access_modes": ["READ_WRITE_MANY"],
                "volume_mode": "BLOCK",
            },
        },
        {"name": "old", "existing_claim": {"claim_name": "legacy-pvc"}},
    ],
    "interfaces": [
        {"name": "default", "network": "pod", "model": "E1000"},
        {"name": "vlan", "network": "default/vlan100", "mac_address": "52:54:00:12:34:56", "boot_order": 2},
    ],
    "cloud_init": {"user_data": "#cloud-config\n", "network_data": "version: 2\n"},
    "placement": {
        "node_selector": {"zone": "a"},
        "tolerations": [{"key": "gpu", "operator": "Exists", "effect": "NoExecute", "toleration_seconds": "30"}],
        "affinity": {"nodeAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": []}},
    },
    "eviction_strategy": "LIVE_MIGRATE",
    "reserved_memory": "256Mi",
}


def _intent(spec: dict[str, Any] = FULL_SPEC) -> Intent:
    return Intent(namespace="default", vm_id="web", uid="0b9f7c1e-4d7a-4a53-9c52-0d7a3c1e2f10", generation=3, spec=spec)


def _crd_schema(path: Path) -> dict[str, Any]:
    loaded = yaml.safe_load(path.read_text())
    if "openAPIV3Schema" in loaded:
        return dict(loaded["openAPIV3Schema"])
    return dict(loaded["spec"]["versions"][0]["schema"]["openAPIV3Schema"])


def _pruned(obj: Any, schema: dict[str, Any], path: str = "") -> list[str]:
    """Fields the API server would silently drop: not in the schema and not allowed as unknown."""
    if schema.get("x-kubernetes-preserve-unknown-fields"):
        return []
    found: list[str] = []
    if isinstance(obj, dict):
        properties = schema.get("properties")
        extra = schema.get("additionalProperties")
        for key, value in obj.items():
            if properties is not None and key in properties:
                found += _pruned(value, properties[key], f"{path}.{key}")
            elif isinstance(extra, dict):
                found += _pruned(value, extra, f"{path}.{key}")
            elif properties is not None and path != "" and not extra:
                found.append(f"{path}.{key}")
    elif isinstance(obj, list) and isinstance(schema.get("items"), dict):
        for index, item in enumerate(obj):
            found += _pruned(item, schema["items"], f"{path}[{index}]")
    return found


@pytest.mark.parametrize("version", ["v1.8.4", "main"])
@pytest.mark.parametrize("facts", [HARVESTER, KUBEVIRT], ids=["harvester", "kubevirt"])
def test_the_virtual_machine_validates_against_kubevirt(version: str, facts: ClusterFacts) -> None:
    schema = _crd_schema(SCHEMAS / "kubevirt" / version / "crd-openapiv3" / "virtualmachine.yaml")
    vm = translate(_intent(), facts)
    jsonschema.Draft7Validator(schema).validate(vm)
    assert _pruned(vm, schema) == []


@pytest.mark.parametrize("version", ["v1.65.0", "main"])
def test_the_data_volume_templates_validate_against_cdi(version: str) -> None:
    schema = _crd_schema(SCHEMAS / "cdi" / version / "crd-datavolume.yaml")
    for template in translate(_intent(), HARVESTER)["spec"]["dataVolumeTemplates"]:
        data_volume = {"apiVersion": "cdi.kubevirt.io/v1beta1", "kind": "DataVolume", **template}
        jsonschema.Draft7Validator(schema).validate(data_volume)
        assert _pruned(data_volume, schema) == []


def test_disks_networks_placement_and_markers() -> None:
    vm = translate(_intent(), HARVESTER)
    metadata, spec = vm["metadata"], vm["spec"]
    template = spec["template"]["spec"]
    assert metadata["labels"] == {"app.kubernetes.io/managed-by": "harrow", "harrow.io/uid": _intent().uid}
    assert metadata["annotations"]["harrow.io/generation"] == "3"
    assert metadata["annotations"]["harvesterhci.io/reservedMemory"] == "256Mi"
    assert metadata["annotations"]["harvesterhci.io/vmRunStrategy"] == "Always"
    assert metadata["finalizers"] == ["harrow.io/cleanup"]
    assert spec["runStrategy"] == "Always"
    assert [t["metadata"]["name"] for t in spec["dataVolumeTemplates"]] == ["web-root", "web-cd", "web-data"]
    sources = [t["spec"]["source"] for t in spec["dataVolumeTemplates"]]
    assert sources[0] == {"http": {"url": "https://images.example.com/u.qcow2"}}
    assert sources[1] == {"registry": {"url": "docker://quay.io/containerdisks/fedora:41"}}
    assert sources[2] == {"blank": {}}
    assert spec["dataVolumeTemplates"][2]["spec"]["storage"]["accessModes"] == ["ReadWriteMany"]
    assert {"name": "old", "persistentVolumeClaim": {"claimName": "legacy-pvc"}} in template["volumes"]
    assert template["volumes"][-1] == {
        "name": "cloudinitdisk",
        "cloudInitNoCloud": {"userData": "#cloud-config\n", "networkData": "version: 2\n"},
    }
    interfaces = template["domain"]["devices"]["interfaces"]
    assert interfaces[0] == {"name": "default", "masquerade": {}, "model": "e1000"}
    assert interfaces[1] == {"name": "vlan", "bridge": {}, "macAddress": "52:54:00:12:34:56", "bootOrder": 2}
    assert template["networks"] == [
        {"name": "default", "pod": {}},
        {"name": "vlan", "multus": {"networkName": "default/vlan100"}},
    ]
    assert template["evictionStrategy"] == "LiveMigrate"
    assert template["nodeSelector"] == {"zone": "a"}
    assert template["tolerations"] == [
        {"key": "gpu", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 30}
    ]


def test_requests_follow_the_clusters_overcommit() -> None:
    harvester = translate(_intent(), HARVESTER)["spec"]["template"]["spec"]["domain"]
    assert harvester["resources"] == {
        "limits": {"cpu": "4", "memory": "4Gi"},
        "requests": {"cpu": "400m", "memory": "2730Mi"},
    }
    assert harvester["memory"] == {"guest": "3840Mi"}
    kubevirt = translate(_intent(), KUBEVIRT)["spec"]["template"]["spec"]["domain"]
    assert kubevirt["resources"]["requests"] == {"cpu": "400m", "memory": "4096Mi"}
    assert "harvesterhci.io/reservedMemory" not in translate(_intent(), KUBEVIRT)["metadata"]["annotations"]


def test_harvesters_formula_and_its_defaults_by_version() -> None:
    # harvester PR #6177: 1 vCPU, 2Gi at the pre-1.8 defaults with the legacy 100Mi reservation.
    old = resources(
        vcpus=1, memory="2Gi", overcommit=harvester_default("v1.7.3"), reserved_memory="", overhead_ratio=""
    )
    assert old.requests == {"cpu": "62m", "memory": "1365Mi"} and old.guest_memory == "1948Mi"
    new = resources(
        vcpus=1, memory="2Gi", overcommit=harvester_default("v1.8.0"), reserved_memory="", overhead_ratio="1.5"
    )
    assert new.requests == {"cpu": "100m", "memory": "1365Mi"} and new.guest_memory == "2048Mi"
    assert harvester_default("") == harvester_default("v1.9.0") == Overcommit(cpu=1000, memory=150)
    assert kubevirt_overcommit(4, 200) == Overcommit(cpu=400, memory=200)


def test_differences_ignore_what_the_cluster_adds_but_not_what_it_changes() -> None:
    desired = translate(_intent(), HARVESTER)
    actual = yaml.safe_load(yaml.safe_dump(desired))
    actual["spec"]["template"]["spec"]["domain"]["machine"] = {"type": "q35"}
    actual["status"] = {"printableStatus": "Running"}
    assert differences(desired, actual) == []
    actual["spec"]["runStrategy"] = "Halted"
    actual["spec"]["template"]["spec"]["domain"]["devices"]["interfaces"].pop()
    assert differences(desired, actual) == ["spec.runStrategy", "spec.template.spec.domain.devices.interfaces"]
