"""VirtualMachine intent → the kubevirt.io/v1 VirtualMachine Harrow keeps on the cluster.

Pure: the same intent and cluster facts always give the same object, so
"does the cluster object still match?" is a comparison with translate()'s
output (drift, DESIGN §2). Only fields Harrow owns are written; the cluster
may add defaults around them. Intent is the proto3 JSON Harrow stores
(original field names), so this module needs no generated code.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from server.reconcile import translate_resources
from server.reconcile.translate_network import NicAddress, interface_macs, network_data, uses_pools
from server.reconcile.translate_resources import Overcommit

Obj = dict[str, Any]

MANAGED_BY = ("app.kubernetes.io/managed-by", "harrow")
UID_LABEL = "harrow.io/uid"
GENERATION_ANNOTATION = "harrow.io/generation"
FINALIZER = "harrow.io/cleanup"
RESERVED_MEMORY_ANNOTATION = "harvesterhci.io/reservedMemory"
# Harvester's mutator replaces a runStrategy leaving Halted with this annotation (kubevirt#7295 workaround).
HARVESTER_RUN_STRATEGY_ANNOTATION = "harvesterhci.io/vmRunStrategy"
CLOUD_INIT_DISK = "cloudinitdisk"

_RUN_STRATEGIES = {"ALWAYS": "Always", "HALTED": "Halted", "MANUAL": "Manual", "RERUN_ON_FAILURE": "RerunOnFailure"}
_EVICTION = {
    "NONE": "None",
    "LIVE_MIGRATE": "LiveMigrate",
    "LIVE_MIGRATE_IF_POSSIBLE": "LiveMigrateIfPossible",
    "EXTERNAL": "External",
}
_BUSES = {"BUS_UNSPECIFIED": "virtio", "VIRTIO": "virtio", "SATA": "sata", "SCSI": "scsi", "USB": "usb"}
_MODELS = {"VIRTIO": "virtio", "E1000": "e1000", "E1000E": "e1000e", "RTL8139": "rtl8139"}
_ACCESS_MODES = {
    "READ_WRITE_ONCE": "ReadWriteOnce",
    "READ_ONLY_MANY": "ReadOnlyMany",
    "READ_WRITE_MANY": "ReadWriteMany",
    "READ_WRITE_ONCE_POD": "ReadWriteOncePod",
}
_VOLUME_MODES = {"FILESYSTEM": "Filesystem", "BLOCK": "Block"}


@dataclass(frozen=True)
class ClusterFacts:
    """What translate needs to know about the target cluster (read from it; see reconcile/facts.py)."""

    harvester: bool
    overcommit: Overcommit
    # Harvester's additional-guest-memory-overhead-ratio setting; None on plain KubeVirt.
    overhead_ratio: str | None = None
    versions: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Intent:
    namespace: str
    vm_id: str
    uid: str
    generation: int
    spec: Obj
    # NIC name → the address it holds from its `ip_pool` (read from the allocation table).
    addresses: dict[str, NicAddress] = field(default_factory=dict)
    # The VM's labels: they go onto the VMI (template labels), where MigrationPolicy selectors match them.
    labels: dict[str, str] = field(default_factory=dict)


def disk_claim_name(vm_id: str, disk_name: str) -> str:
    """The DataVolume (and PVC) of a Harrow-created disk: stable, so a re-apply never makes a second one."""
    return f"{vm_id}-{disk_name}"


def translate(intent: Intent, facts: ClusterFacts) -> Obj:
    spec = intent.spec
    cpu = spec.get("cpu", {})
    cores, sockets, threads = int(cpu.get("cores", 1)), int(cpu.get("sockets") or 1), int(cpu.get("threads") or 1)
    sized = translate_resources.resources(
        vcpus=cores * sockets * threads,
        memory=spec["memory"],
        overcommit=facts.overcommit,
        reserved_memory=spec.get("reserved_memory", ""),
        overhead_ratio=facts.overhead_ratio,
    )
    run_strategy = _RUN_STRATEGIES[spec.get("run_strategy", "HALTED")]
    annotations = {GENERATION_ANNOTATION: str(intent.generation)}
    if facts.harvester:
        annotations[HARVESTER_RUN_STRATEGY_ANNOTATION] = run_strategy
        if spec.get("reserved_memory"):
            annotations[RESERVED_MEMORY_ANNOTATION] = spec["reserved_memory"]
    labels = {MANAGED_BY[0]: MANAGED_BY[1], UID_LABEL: intent.uid}

    disks, volumes, templates = _storage(intent, labels)
    interfaces, networks = _networks(spec.get("interfaces", []), interface_macs(intent.uid, spec))
    template_spec: Obj = {
        "domain": {
            "cpu": {"cores": cores, "sockets": sockets, "threads": threads},
            "memory": {"guest": sized.guest_memory},
            "resources": {"limits": sized.limits, "requests": sized.requests},
            "devices": {"disks": disks, "interfaces": interfaces},
        },
        "networks": networks,
        "volumes": volumes,
    }
    if spec.get("eviction_strategy", "EVICTION_STRATEGY_UNSPECIFIED") in _EVICTION:
        template_spec["evictionStrategy"] = _EVICTION[spec["eviction_strategy"]]
    template_spec.update(_placement(spec.get("placement", {})))
    vm_spec: Obj = {
        "runStrategy": run_strategy,
        "template": {"metadata": {"labels": {**intent.labels, **labels}}, "spec": template_spec},
    }
    if templates:
        vm_spec["dataVolumeTemplates"] = templates
    return {
        "apiVersion": "kubevirt.io/v1",
        "kind": "VirtualMachine",
        "metadata": {
            "name": intent.vm_id,
            "namespace": intent.namespace,
            "labels": labels,
            "annotations": annotations,
            "finalizers": [FINALIZER],
        },
        "spec": vm_spec,
    }


def _storage(intent: Intent, labels: dict[str, str]) -> tuple[list[Obj], list[Obj], list[Obj]]:
    disks: list[Obj] = []
    volumes: list[Obj] = []
    templates: list[Obj] = []
    for disk in intent.spec.get("disks", []):
        name = disk["name"]
        device: Obj = {"name": name, "disk": {"bus": _BUSES[disk.get("bus", "BUS_UNSPECIFIED")]}}
        if disk.get("boot_order"):
            device["bootOrder"] = int(disk["boot_order"])
        disks.append(device)
        if "existing_claim" in disk:
            volumes.append({"name": name, "persistentVolumeClaim": {"claimName": disk["existing_claim"]["claim_name"]}})
            continue
        claim = disk_claim_name(intent.vm_id, name)
        volumes.append({"name": name, "dataVolume": {"name": claim}})
        templates.append({"metadata": {"name": claim, "labels": dict(labels)}, "spec": _data_volume_spec(disk)})
    cloud_init = intent.spec.get("cloud_init") or {}
    no_cloud: Obj = {}
    if cloud_init.get("user_data"):
        no_cloud["userData"] = cloud_init["user_data"]
    if uses_pools(intent.spec):
        no_cloud["networkData"] = network_data(intent.uid, intent.spec, intent.addresses)
    elif cloud_init.get("network_data"):
        no_cloud["networkData"] = cloud_init["network_data"]
    if no_cloud:
        disks.append({"name": CLOUD_INIT_DISK, "disk": {"bus": "virtio"}})
        volumes.append({"name": CLOUD_INIT_DISK, "cloudInitNoCloud": no_cloud})
    return disks, volumes, templates


def _data_volume_spec(disk: Obj) -> Obj:
    if "image" in disk:
        image = disk["image"]
        url: str = image["url"]
        source: Obj = {"registry": {"url": url}} if url.startswith("docker://") else {"http": {"url": url}}
        storage: Obj = {"resources": {"requests": {"storage": image["size"]}}}
        if image.get("storage_class"):
            storage["storageClassName"] = image["storage_class"]
        return {"source": source, "storage": storage}
    volume = disk["new_volume"]
    storage = {"resources": {"requests": {"storage": volume["size"]}}}
    if volume.get("storage_class"):
        storage["storageClassName"] = volume["storage_class"]
    modes = [_ACCESS_MODES[mode] for mode in volume.get("access_modes", []) if mode in _ACCESS_MODES]
    if modes:
        storage["accessModes"] = modes
    if volume.get("volume_mode") in _VOLUME_MODES:
        storage["volumeMode"] = _VOLUME_MODES[volume["volume_mode"]]
    return {"source": {"blank": {}}, "storage": storage}


def _networks(interfaces: list[Obj], macs: dict[str, str]) -> tuple[list[Obj], list[Obj]]:
    """The pod network is masquerade (live-migratable); a NetworkAttachmentDefinition is a Multus bridge."""
    devices: list[Obj] = []
    networks: list[Obj] = []
    for interface in interfaces:
        name = interface["name"]
        pod = interface["network"] == "pod"
        device: Obj = {"name": name, "masquerade" if pod else "bridge": {}}
        if interface.get("model") in _MODELS:
            device["model"] = _MODELS[interface["model"]]
        if name in macs:
            device["macAddress"] = macs[name]
        if interface.get("boot_order"):
            device["bootOrder"] = int(interface["boot_order"])
        devices.append(device)
        networks.append(
            {"name": name, "pod": {}} if pod else {"name": name, "multus": {"networkName": interface["network"]}}
        )
    return devices, networks


def _placement(placement: Obj) -> Obj:
    out: Obj = {}
    if placement.get("node_selector"):
        out["nodeSelector"] = dict(placement["node_selector"])
    tolerations = []
    for toleration in placement.get("tolerations", []):
        item: Obj = {}
        for source, target in (("key", "key"), ("operator", "operator"), ("value", "value"), ("effect", "effect")):
            if toleration.get(source):
                item[target] = toleration[source]
        if toleration.get("toleration_seconds"):
            item["tolerationSeconds"] = int(toleration["toleration_seconds"])
        tolerations.append(item)
    if tolerations:
        out["tolerations"] = tolerations
    if placement.get("affinity"):
        out["affinity"] = placement["affinity"]
    return out


def differences(desired: Any, actual: Any, path: str = "") -> list[str]:
    """Paths where `actual` does not hold what `desired` says; fields only `actual` has are the cluster's own."""
    if isinstance(desired, dict):
        if not isinstance(actual, dict):
            return [path or "."]
        found: list[str] = []
        for key, value in desired.items():
            found += differences(value, actual.get(key), f"{path}.{key}" if path else key)
        return found
    if isinstance(desired, list):
        if not isinstance(actual, list) or len(actual) != len(desired):
            return [path]
        found = []
        for index, (want, have) in enumerate(zip(desired, actual, strict=True)):
            found += differences(want, have, f"{path}[{index}]")
        return found
    return [] if desired == actual else [path]


def stamped_generation(obj: Obj | None, default: int) -> int:
    """The intent generation Harrow stamped on a cluster object it wrote; `default` when there is none."""
    annotated = ((obj or {}).get("metadata") or {}).get("annotations", {}).get(GENERATION_ANNOTATION)
    return int(annotated) if annotated is not None else default
