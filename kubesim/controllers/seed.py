"""The objects a fresh Harvester-flavoured cluster already has.

Nodes come from the config; StorageClasses cover the provisioners Harvester
validates (seed 003: Longhorn v1 and v2, LVM, NFS, Rook RBD) plus Longhorn with
``migratable: "true"``, so every StorageProfile capability row is reachable.
Setting defaults and the KubeVirt CR's migration defaults come from the
versions in the config (``versions.py``), and the versions themselves are
published where a client reads them on a real cluster: KubeVirt and CDI CR
status, and Harvester's ``server-version`` setting.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from ..config import KubeSimConfig
from ..resources import Resource, by_kind
from ..store import Store
from ..versions import at_least, migration_defaults, overcommit_config

NAMESPACES = ("default", "kube-system", "kube-public", "harvester-system", "longhorn-system", "cattle-system")

STORAGE_CLASSES: tuple[tuple[str, str, dict[str, str]], ...] = (
    (
        "harvester-longhorn",
        "driver.longhorn.io",
        {"numberOfReplicas": "3", "staleReplicaTimeout": "30", "migratable": "true"},
    ),
    ("longhorn-rwo", "driver.longhorn.io", {"numberOfReplicas": "3"}),
    ("longhorn-v2", "driver.longhorn.io", {"numberOfReplicas": "3", "dataEngine": "v2", "migratable": "true"}),
    ("lvm", "lvm.driver.harvesterhci.io", {"vgName": "vg0"}),
    ("nfs", "nfs.csi.k8s.io", {"server": "nfs.example", "share": "/export"}),
    ("rook-ceph-block", "rook-ceph.rbd.csi.ceph.com", {"clusterID": "rook-ceph", "pool": "replicapool"}),
)
# The VolumeSnapshotClass of each seeded driver that has one (seed 003: Longhorn, LVM and Rook RBD can snapshot;
# NFS cannot). KubeVirt's snapshot controller finds them by driver; Harvester is told their names in
# csi-driver-config (Longhorn's in the setting's default, the others in its value).
SNAPSHOT_CLASSES = {
    "driver.longhorn.io": "longhorn-snapshot",
    "lvm.driver.harvesterhci.io": "lvm-snapshot",
    "rook-ceph.rbd.csi.ceph.com": "csi-rbdplugin-snapclass",
}
# Go field order of settings.BackupTarget, for a default that reads back byte for byte as Harvester's.
BACKUP_TARGET_FIELDS = ("type", "endpoint", "accessKeyId", "secretAccessKey", "bucketName", "bucketRegion", "cert")
BACKUP_TARGET_FLAGS = {"virtualHostedStyle": False, "refreshIntervalInSeconds": 0}


def settings(harvester_version: str) -> dict[str, str]:
    """Harvester settings' ``default`` values for a Harvester release."""
    return {
        "server-version": harvester_version,
        "overcommit-config": json.dumps(overcommit_config(harvester_version)),
        "vm-force-reset-policy": json.dumps({"enable": True, "period": 300}),
        "csi-driver-config": json.dumps(
            {
                "driver.longhorn.io": {
                    "volumeSnapshotClassName": "longhorn-snapshot",
                    "backupVolumeSnapshotClassName": "longhorn",
                },
            }
        ),
        "additional-guest-memory-overhead-ratio": "1.5",
        # settings.InitBackupTargetToString(): an empty target, which Harvester's webhook calls "not set".
        "backup-target": json.dumps(
            dict.fromkeys(BACKUP_TARGET_FIELDS, "") | BACKUP_TARGET_FLAGS, separators=(",", ":")
        ),
        **_migration_setting(harvester_version),
    }


def setting_values() -> dict[str, str]:
    """What an administrator has set on the seeded cluster (Setting ``value``, over the ``default``): an NFS backup
    target, so backups work out of the box, and the snapshot classes of the third-party drivers seed 003 says can
    snapshot (LVM, Rook RBD; neither can back up, so no backup class). Harvester merges ``csi-driver-config``'s value
    into its default."""
    drivers = {
        driver: {"volumeSnapshotClassName": snapshot_class, "backupVolumeSnapshotClassName": ""}
        for driver, snapshot_class in SNAPSHOT_CLASSES.items()
        if driver != "driver.longhorn.io"
    }
    return {
        "backup-target": json.dumps({"type": "nfs", "endpoint": "nfs://backup.kubesim.example:/backups"}),
        "csi-driver-config": json.dumps(drivers),
    }


def _migration_setting(harvester_version: str) -> dict[str, str]:
    """``kubevirt-migration`` (Harvester ≥ v1.7.0, ``pkg/settings/settings.go``; default in semantics.md §2.3)."""
    if not at_least(harvester_version, "v1.7.0"):
        return {}
    default = {
        "parallelOutboundMigrationsPerNode": 2,
        "parallelMigrationsPerCluster": 5,
        "allowAutoConverge": False,
        "bandwidthPerMigration": 0,
        "completionTimeoutPerGiB": 150,
        "progressTimeout": 150,
        "unsafeMigrationOverride": False,
        "allowPostCopy": False,
        "allowWorkloadDisruption": False,
        "disableTLS": False,
        "matchSELinuxLevelOnMigration": False,
    }
    return {"kubevirt-migration": json.dumps(default, separators=(",", ":"))}


DEFAULT_CLASS = "harvester-longhorn"
CDI_ANNOTATION = "cdi.harvesterhci.io/storageProfile"


def harvester_cdi_annotations(provisioner: str, params: dict[str, str]) -> dict[str, str]:
    """The CDI annotations Harvester's StorageClass mutator adds on create (``generateLVMPatchOps``,
    ``generateLonghornPatchOps``): LVM gets RWO Block, snapshot cloning and ``lvm-snapshot``; a Longhorn
    v2 class gets copy cloning and ``longhorn-snapshot``."""
    if provisioner == "lvm.driver.harvesterhci.io":
        return {
            f"{CDI_ANNOTATION}VolumeModeAccessModes": '{"Block":["ReadWriteOnce"]}',
            f"{CDI_ANNOTATION}CloneStrategy": "snapshot",
            f"{CDI_ANNOTATION}VolumeSnapshotClass": "lvm-snapshot",
        }
    if provisioner == "driver.longhorn.io" and params.get("dataEngine") == "v2":
        return {f"{CDI_ANNOTATION}CloneStrategy": "copy", f"{CDI_ANNOTATION}VolumeSnapshotClass": "longhorn-snapshot"}
    return {}


def _default_class(default: bool) -> dict[str, str]:
    return {"storageclass.kubernetes.io/is-default-class": "true"} if default else {}


def node(name: str, cpu: str, memory: str, pods: int, labels: dict[str, str], kubelet: str) -> dict[str, Any]:
    capacity = {"cpu": cpu, "memory": memory, "pods": str(pods)}
    return {
        "metadata": {
            "name": name,
            "labels": {
                "kubernetes.io/hostname": name,
                "kubernetes.io/os": "linux",
                "kubernetes.io/arch": "amd64",
                "kubevirt.io/schedulable": "true",
                **labels,
            },
        },
        "spec": {},
        "status": {
            "capacity": capacity,
            "allocatable": dict(capacity),
            "conditions": [
                {
                    "type": "Ready",
                    "status": "True",
                    "reason": "KubeletReady",
                    "message": "kubelet is posting ready status",
                }
            ],
            "addresses": [{"type": "Hostname", "address": name}],
            "nodeInfo": {
                "architecture": "amd64",
                "bootID": str(uuid.uuid5(uuid.NAMESPACE_DNS, f"boot.{name}")),
                "containerRuntimeVersion": "containerd://1.7.23-k3s2",
                "kernelVersion": "6.4.0-150600.23.25-default",
                "kubeProxyVersion": kubelet,
                "kubeletVersion": kubelet,
                "machineID": uuid.uuid5(uuid.NAMESPACE_DNS, f"machine.{name}").hex,
                "operatingSystem": "linux",
                "osImage": "Harvester",
                "systemUUID": str(uuid.uuid5(uuid.NAMESPACE_DNS, f"system.{name}")),
            },
        },
    }


def seed(store: Store, config: KubeSimConfig) -> None:
    ns_res = by_kind("Namespace")
    for ns in NAMESPACES:
        store.create(ns_res, "", {"metadata": {"name": ns}})
    for i, spec in enumerate(config.nodes):
        name = f"node-{i}"
        obj = node(name, spec.cpu, spec.memory, spec.pods, dict(spec.labels), config.kubernetes_version)
        obj["status"]["addresses"].insert(0, {"type": "InternalIP", "address": f"10.0.0.{10 + i}"})
        store.create(by_kind("Node"), "", obj)
    for name, provisioner, params in STORAGE_CLASSES:
        store.create(
            by_kind("StorageClass"),
            "",
            {
                "metadata": {
                    "name": name,
                    "annotations": {
                        **_default_class(name == DEFAULT_CLASS),
                        **(harvester_cdi_annotations(provisioner, params) if config.harvester else {}),
                    },
                },
                "provisioner": provisioner,
                "parameters": params,
                "reclaimPolicy": "Delete",
                "volumeBindingMode": "Immediate",
                "allowVolumeExpansion": True,
            },
        )
    if config.harvester:
        values = setting_values()
        for name, value in settings(config.harvester_version).items():
            body = {"metadata": {"name": name}, "default": value}
            store.create(by_kind("Setting"), "", body | ({"value": values[name]} if name in values else {}))
    kv = config.kubevirt_version
    _with_status(
        store,
        by_kind("KubeVirt"),
        "harvester-system",
        {"metadata": {"name": "kubevirt"}, "spec": {"configuration": {"migrations": migration_defaults(kv)}}},
        {"phase": "Deployed", "observedKubeVirtVersion": kv, "targetKubeVirtVersion": kv, "operatorVersion": kv},
    )
    cdi = config.cdi_version
    _with_status(
        store,
        by_kind("CDI"),
        "",
        {"metadata": {"name": "cdi"}, "spec": {}},
        {"phase": "Deployed", "observedVersion": cdi, "targetVersion": cdi, "operatorVersion": cdi},
    )


def _with_status(store: Store, res: Resource, ns: str, body: dict[str, Any], status: dict[str, Any]) -> None:
    obj, _ = store.create(res, ns, body)
    obj["status"] = status
    store.update(res, ns, obj["metadata"]["name"], obj, "status")
