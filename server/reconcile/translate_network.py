"""Static addresses of VM NICs → cloud-init network config (version 2), one default route only.

A guest whose NICs all run DHCP races its DHCP clients for the default route,
and the winner can change at every renewal (seed 001_19d3425f71aeecf0.txt,
"Multiple NICs VM Connectivity"). So once any NIC takes an address from a
pool, Harrow writes the whole network config: pool NICs get their address
statically, the others DHCP, and only the primary NIC (the first interface)
gets a default route; secondary DHCP NICs are told not to take routes.

The config matches NICs by MAC address, the one name a guest cannot
reorder. A NIC without a user-given MAC gets a stable, locally administered
one derived from the VM's uid and the NIC's name, written into the cluster
VM and shown in status, never into spec.
"""

from __future__ import annotations

import hashlib
import ipaddress
from dataclasses import dataclass
from typing import Any

import yaml

Obj = dict[str, Any]


@dataclass(frozen=True)
class NicAddress:
    """An address a NIC holds from a pool, with what configuring it needs."""

    address: str
    prefix_length: int
    gateway: str = ""


def uses_pools(spec: Obj) -> bool:
    return any(nic.get("ip_pool") for nic in spec.get("interfaces", []))


def stable_mac(uid: str, nic: str) -> str:
    """02:… (locally administered, unicast), the same for the same VM and NIC every time."""
    digest = hashlib.sha256(f"{uid}/{nic}".encode()).digest()
    return ":".join(f"{byte:02x}" for byte in (0x02, *digest[:5]))


def interface_macs(uid: str, spec: Obj) -> dict[str, str]:
    """Each NIC's MAC as the cluster VM gets it: the user's, or a stable one when the config must match it."""
    pooled = uses_pools(spec)
    macs: dict[str, str] = {}
    for nic in spec.get("interfaces", []):
        if nic.get("mac_address"):
            macs[nic["name"]] = nic["mac_address"]
        elif pooled:
            macs[nic["name"]] = stable_mac(uid, nic["name"])
    return macs


def network_data(uid: str, spec: Obj, addresses: dict[str, NicAddress]) -> str:
    """The cloud-init network config v2 document for a VM whose NICs take addresses from pools."""
    macs = interface_macs(uid, spec)
    ethernets: Obj = {}
    for index, nic in enumerate(spec.get("interfaces", [])):
        name = nic["name"]
        entry: Obj = {"match": {"macaddress": macs[name]}}
        held = addresses.get(name) if nic.get("ip_pool") else None
        if held is None:
            entry["dhcp4"] = True
            if index > 0:
                entry["dhcp4-overrides"] = {"use-routes": False}
        else:
            entry["addresses"] = [f"{held.address}/{held.prefix_length}"]
            if index == 0 and held.gateway:
                everything = "0.0.0.0/0" if ipaddress.ip_address(held.address).version == 4 else "::/0"
                entry["routes"] = [{"to": everything, "via": held.gateway}]
        ethernets[name] = entry
    return str(yaml.safe_dump({"version": 2, "ethernets": ethernets}, sort_keys=False))
