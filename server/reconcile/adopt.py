"""A cluster VirtualMachine Harrow did not create → the intent that translates back to it (AdoptVirtualMachine).

The inverse of translate() for the fields Harrow models. It is checked by
translating the result again: adopting must not change what the VM runs, so
anything translate() would write differently (a feature Harrow cannot
express) refuses the adoption with the fields that differ. Only what Harrow
derives rather than stores may differ: its labels on the template and the
resource requests (KubeVirt applies template changes to the next VMI only).
"""

from __future__ import annotations

import copy
from typing import Any

from server.domain.quantity import quantity_bytes
from server.reconcile.translate import (
    _ACCESS_MODES,
    _BUSES,
    _EVICTION,
    _MODELS,
    _RUN_STRATEGIES,
    _VOLUME_MODES,
    CLOUD_INIT_DISK,
    MANAGED_BY,
    RESERVED_MEMORY_ANNOTATION,
    UID_LABEL,
    ClusterFacts,
    Intent,
    differences,
    translate,
)

Obj = dict[str, Any]


class Unadoptable(Exception):
    """The cluster VM cannot be managed by Harrow as it is; the message says why."""


def _inverse(mapping: dict[str, str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for key, value in mapping.items():
        out.setdefault(value, key)
    return out


def spec_of(vm: Obj, uid: str) -> Obj:
    """The Harrow spec (proto3 JSON, original field names) of a cluster VM; Unadoptable if it has none.

    `uid` is the adopting row's: a VM it already labelled (an adoption retried after a failure) is still its own.
    """
    metadata = vm.get("metadata") or {}
    labels = metadata.get("labels") or {}
    if labels.get(MANAGED_BY[0]) == MANAGED_BY[1] and labels.get(UID_LABEL) != uid:
        raise Unadoptable("the virtual machine is already managed by Harrow")
    if metadata.get("deletionTimestamp"):
        raise Unadoptable("the virtual machine is being deleted")
    spec = vm.get("spec") or {}
    template = (spec.get("template") or {}).get("spec") or {}
    domain = template.get("domain") or {}
    run_strategy = spec.get("runStrategy")
    if run_strategy is None:
        run_strategy = "Always" if spec.get("running") else "Halted"
    if run_strategy not in _inverse(_RUN_STRATEGIES):
        raise Unadoptable(f"runStrategy {run_strategy} is not supported")
    cpu = domain.get("cpu") or {}
    memory = ((domain.get("resources") or {}).get("limits") or {}).get("memory") or (domain.get("memory") or {}).get(
        "guest"
    )
    if not memory:
        raise Unadoptable("the virtual machine has no memory limit or guest memory")
    out: Obj = {
        "cpu": {
            "cores": int(cpu.get("cores", 1)),
            "sockets": int(cpu.get("sockets", 1)),
            "threads": int(cpu.get("threads", 1)),
        },
        "memory": str(memory),
        "run_strategy": _inverse(_RUN_STRATEGIES)[run_strategy],
    }
    reserved = (metadata.get("annotations") or {}).get(RESERVED_MEMORY_ANNOTATION)
    if reserved:
        out["reserved_memory"] = reserved
    disks, cloud_init = _disks(spec, template, domain)
    if disks:
        out["disks"] = disks
    if cloud_init:
        out["cloud_init"] = cloud_init
    interfaces = _interfaces(template, domain)
    if interfaces:
        out["interfaces"] = interfaces
    placement = _placement(template)
    if placement:
        out["placement"] = placement
    if template.get("evictionStrategy"):
        if template["evictionStrategy"] not in _inverse(_EVICTION):
            raise Unadoptable(f"evictionStrategy {template['evictionStrategy']} is not supported")
        out["eviction_strategy"] = _inverse(_EVICTION)[template["evictionStrategy"]]
    return out


def _disks(spec: Obj, template: Obj, domain: Obj) -> tuple[list[Obj], Obj]:
    volumes = {volume["name"]: volume for volume in template.get("volumes") or []}
    templates = {item["metadata"]["name"]: item for item in spec.get("dataVolumeTemplates") or []}
    disks: list[Obj] = []
    cloud_init: Obj = {}
    for device in (domain.get("devices") or {}).get("disks") or []:
        name = device["name"]
        volume = volumes.get(name)
        if volume is None or "disk" not in device:
            raise Unadoptable(f"disk {name} is not a disk backed by a volume")
        if name == CLOUD_INIT_DISK and "cloudInitNoCloud" in volume:
            no_cloud = volume["cloudInitNoCloud"]
            cloud_init = {
                key: no_cloud[source]
                for key, source in (("user_data", "userData"), ("network_data", "networkData"))
                if no_cloud.get(source)
            }
            continue
        bus = (device.get("disk") or {}).get("bus", "virtio")
        if bus not in _inverse(_BUSES):
            raise Unadoptable(f"disk {name}: bus {bus} is not supported")
        disk: Obj = {"name": name, "bus": _inverse(_BUSES)[bus]}
        if device.get("bootOrder"):
            disk["boot_order"] = int(device["bootOrder"])
        if "persistentVolumeClaim" in volume:
            disk["existing_claim"] = {"claim_name": volume["persistentVolumeClaim"]["claimName"]}
        elif "dataVolume" in volume and volume["dataVolume"]["name"] in templates:
            disk.update(_data_volume(name, templates[volume["dataVolume"]["name"]]))
        else:
            raise Unadoptable(f"disk {name}: volume type {', '.join(sorted(set(volume) - {'name'}))} is not supported")
        disks.append(disk)
    return disks, cloud_init


def _data_volume(name: str, template: Obj) -> Obj:
    dv = template.get("spec") or {}
    source = dv.get("source") or {}
    storage = dv.get("storage") or {}
    size = ((storage.get("resources") or {}).get("requests") or {}).get("storage")
    if not size:
        raise Unadoptable(f"disk {name}: the data volume template has no storage size")
    if "registry" in source or "http" in source:
        origin: Obj = source.get("registry") or source.get("http") or {}
        image: Obj = {"url": origin.get("url", ""), "size": size}
        if storage.get("storageClassName"):
            image["storage_class"] = storage["storageClassName"]
        return {"image": image}
    if "blank" in source:
        volume: Obj = {"size": size}
        if storage.get("storageClassName"):
            volume["storage_class"] = storage["storageClassName"]
        modes = storage.get("accessModes") or []
        if modes:
            volume["access_modes"] = [_inverse(_ACCESS_MODES).get(mode, mode) for mode in modes]
        if storage.get("volumeMode"):
            volume["volume_mode"] = _inverse(_VOLUME_MODES).get(storage["volumeMode"], storage["volumeMode"])
        return {"new_volume": volume}
    raise Unadoptable(f"disk {name}: data volume source {', '.join(sorted(source))} is not supported")


def _interfaces(template: Obj, domain: Obj) -> list[Obj]:
    networks = {network["name"]: network for network in template.get("networks") or []}
    out: list[Obj] = []
    for device in (domain.get("devices") or {}).get("interfaces") or []:
        name = device["name"]
        network = networks.get(name) or {}
        if "pod" in network and "masquerade" in device:
            target = "pod"
        elif "multus" in network and "bridge" in device:
            target = network["multus"]["networkName"]
        else:
            raise Unadoptable(f"interface {name}: only masquerade on the pod network or bridge on Multus is supported")
        interface: Obj = {"name": name, "network": target}
        if device.get("model"):
            if device["model"] not in _inverse(_MODELS):
                raise Unadoptable(f"interface {name}: model {device['model']} is not supported")
            interface["model"] = _inverse(_MODELS)[device["model"]]
        if device.get("macAddress"):
            interface["mac_address"] = device["macAddress"]
        if device.get("bootOrder"):
            interface["boot_order"] = int(device["bootOrder"])
        out.append(interface)
    return out


def _placement(template: Obj) -> Obj:
    out: Obj = {}
    if template.get("nodeSelector"):
        out["node_selector"] = dict(template["nodeSelector"])
    tolerations = []
    for toleration in template.get("tolerations") or []:
        item = {key: toleration[key] for key in ("key", "operator", "value", "effect") if toleration.get(key)}
        if toleration.get("tolerationSeconds"):
            item["toleration_seconds"] = str(toleration["tolerationSeconds"])
        tolerations.append(item)
    if tolerations:
        out["tolerations"] = tolerations
    if template.get("affinity"):
        out["affinity"] = copy.deepcopy(template["affinity"])
    return out


def _same_quantity(left: str, right: str) -> bool:
    try:
        return quantity_bytes(str(left)) == quantity_bytes(str(right))
    except ValueError:
        return False


def check_round_trip(intent: Intent, facts: ClusterFacts, actual: Obj) -> None:
    """Refuse unless translating the derived intent writes nothing the running VM does not already have."""
    desired = copy.deepcopy(translate(intent, facts)["spec"])
    desired["template"].pop("metadata", None)
    desired["template"]["spec"]["domain"]["resources"].pop("requests", None)
    guest = (((actual.get("spec") or {}).get("template") or {}).get("spec") or {}).get("domain", {}).get("memory", {})
    wanted = desired["template"]["spec"]["domain"]["memory"]
    if guest.get("guest") and _same_quantity(guest["guest"], wanted["guest"]):
        wanted["guest"] = guest["guest"]  # 2Gi and 2048Mi are the same guest
    for item in desired.get("dataVolumeTemplates") or []:
        item["metadata"].pop("labels", None)
    found = [f"spec.{path}" for path in differences(desired, actual.get("spec") or {})]
    extra = {item["metadata"]["name"] for item in (actual.get("spec") or {}).get("dataVolumeTemplates") or []}
    extra -= {item["metadata"]["name"] for item in desired.get("dataVolumeTemplates") or []}
    found += [f"spec.dataVolumeTemplates[{name}]" for name in sorted(extra)]
    if found:
        raise Unadoptable(f"Harrow cannot express {', '.join(found[:5])} as the cluster has it")
