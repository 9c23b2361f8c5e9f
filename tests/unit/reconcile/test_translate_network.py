"""Static NIC addresses → cloud-init network config v2: one default route, on the primary NIC only."""

from __future__ import annotations

from typing import Any

import jsonschema
import yaml

from server.reconcile.translate import Intent, translate
from server.reconcile.translate_network import NicAddress, stable_mac
from tests.unit.reconcile.test_translate import HARVESTER, SCHEMAS, _crd_schema, _pruned

UID = "7d0c3d0e-1b1f-4a8e-8f47-9d1f2c3b4a55"


def _spec(interfaces: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "cpu": {"cores": 1},
        "memory": "1Gi",
        "run_strategy": "ALWAYS",
        "interfaces": interfaces,
        "cloud_init": {"user_data": "#cloud-config\n"},
    }


def _translated(spec: dict[str, Any], addresses: dict[str, NicAddress]) -> dict[str, Any]:
    return translate(Intent("default", "web", UID, 1, spec, addresses), HARVESTER)


def _network(vm: dict[str, Any]) -> dict[str, Any]:
    volume = next(v for v in vm["spec"]["template"]["spec"]["volumes"] if "cloudInitNoCloud" in v)
    assert volume["cloudInitNoCloud"]["userData"] == "#cloud-config\n"
    loaded: dict[str, Any] = yaml.safe_load(volume["cloudInitNoCloud"]["networkData"])
    return loaded


def test_only_the_primary_nic_gets_a_default_route() -> None:
    spec = _spec(
        [
            {"name": "service", "network": "default/vlan10", "ip_pool": "clusters/local/ipPools/service"},
            {"name": "storage", "network": "default/vlan20", "ip_pool": "clusters/local/ipPools/storage"},
            {"name": "mgmt", "network": "default/vlan30", "mac_address": "52:54:00:00:00:01"},
        ]
    )
    addresses = {
        "service": NicAddress("10.0.0.5", 24, "10.0.0.1"),
        "storage": NicAddress("10.1.0.7", 24, "10.1.0.1"),
    }
    vm = _translated(spec, addresses)
    network = _network(vm)
    devices = {d["name"]: d for d in vm["spec"]["template"]["spec"]["domain"]["devices"]["interfaces"]}
    assert network["version"] == 2
    ethernets = network["ethernets"]
    assert ethernets["service"] == {
        "match": {"macaddress": stable_mac(UID, "service")},
        "addresses": ["10.0.0.5/24"],
        "routes": [{"to": "0.0.0.0/0", "via": "10.0.0.1"}],
    }
    assert ethernets["storage"] == {"match": {"macaddress": stable_mac(UID, "storage")}, "addresses": ["10.1.0.7/24"]}
    assert ethernets["mgmt"] == {
        "match": {"macaddress": "52:54:00:00:00:01"},
        "dhcp4": True,
        "dhcp4-overrides": {"use-routes": False},
    }
    assert [devices[n]["macAddress"] for n in ("service", "storage", "mgmt")] == [
        stable_mac(UID, "service"),
        stable_mac(UID, "storage"),
        "52:54:00:00:00:01",
    ]
    schema = _crd_schema(SCHEMAS / "kubevirt" / "v1.8.4" / "crd-openapiv3" / "virtualmachine.yaml")
    jsonschema.Draft7Validator(schema).validate(vm)
    assert _pruned(vm, schema) == []


def test_a_dhcp_primary_keeps_its_route_and_ipv6_routes_through_its_gateway() -> None:
    spec = _spec(
        [
            {"name": "default", "network": "pod"},
            {"name": "v6", "network": "default/vlan6", "ip_pool": "clusters/local/ipPools/v6"},
        ]
    )
    ethernets = _network(_translated(spec, {"v6": NicAddress("fd00::5", 64, "fd00::1")}))["ethernets"]
    assert ethernets["default"] == {"match": {"macaddress": stable_mac(UID, "default")}, "dhcp4": True}
    assert ethernets["v6"]["addresses"] == ["fd00::5/64"] and "routes" not in ethernets["v6"]
    primary = _network(_translated(_spec(spec["interfaces"][1:]), {"v6": NicAddress("fd00::5", 64, "fd00::1")}))
    assert primary["ethernets"]["v6"]["routes"] == [{"to": "::/0", "via": "fd00::1"}]


def test_without_pools_nothing_changes() -> None:
    spec = _spec([{"name": "default", "network": "pod"}])
    vm = _translated(spec, {})
    volume = next(v for v in vm["spec"]["template"]["spec"]["volumes"] if "cloudInitNoCloud" in v)
    assert "networkData" not in volume["cloudInitNoCloud"]
    assert "macAddress" not in vm["spec"]["template"]["spec"]["domain"]["devices"]["interfaces"][0]


def test_stable_macs_are_unicast_locally_administered_and_stable() -> None:
    mac = stable_mac(UID, "service")
    assert mac == stable_mac(UID, "service") != stable_mac(UID, "storage")
    assert int(mac.split(":")[0], 16) == 0x02 and len(mac.split(":")) == 6
