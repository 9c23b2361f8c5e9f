"""The objects a fresh Harvester-flavoured cluster already has.

Nodes come from the config; StorageClasses cover the provisioners Harvester
validates (seed 003: Longhorn, LVM, NFS, Rook RBD) plus Longhorn with
``migratable: "true"``, so every StorageProfile capability row is reachable.
Setting defaults follow Harvester ≥ 1.8 (semantics.md §4) and the KubeVirt CR
carries KubeVirt's migration defaults (semantics.md §2.3).
"""

from __future__ import annotations

import json
from typing import Any

from ..config import KubeSimConfig
from ..resources import by_kind
from ..store import Store

NAMESPACES = ("default", "kube-system", "kube-public", "harvester-system", "longhorn-system", "cattle-system")

STORAGE_CLASSES: tuple[tuple[str, str, dict[str, str]], ...] = (
    (
        "harvester-longhorn",
        "driver.longhorn.io",
        {"numberOfReplicas": "3", "staleReplicaTimeout": "30", "migratable": "true"},
    ),
    ("longhorn-rwo", "driver.longhorn.io", {"numberOfReplicas": "3"}),
    ("lvm", "lvm.driver.harvesterhci.io", {"vgName": "vg0"}),
    ("nfs", "nfs.csi.k8s.io", {"server": "nfs.example", "share": "/export"}),
    ("rook-ceph-block", "rook-ceph.rbd.csi.ceph.com", {"clusterID": "rook-ceph", "pool": "replicapool"}),
)

SETTINGS: dict[str, str] = {
    "overcommit-config": json.dumps({"cpu": 1000, "memory": 150, "storage": 100}),
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
}

MIGRATION_DEFAULTS: dict[str, Any] = {
    "parallelMigrationsPerCluster": 5,
    "parallelOutboundMigrationsPerNode": 2,
    "bandwidthPerMigration": "0Mi",
    "completionTimeoutPerGiB": 150,
    "progressTimeout": 150,
    "allowAutoConverge": False,
    "allowPostCopy": False,
    "unsafeMigrationOverride": False,
    "nodeDrainTaintKey": "kubevirt.io/drain",
}


def node(name: str, cpu: str, memory: str, pods: int, labels: dict[str, str]) -> dict[str, Any]:
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
        },
    }


def seed(store: Store, config: KubeSimConfig) -> None:
    ns_res = by_kind("Namespace")
    for ns in NAMESPACES:
        store.create(ns_res, "", {"metadata": {"name": ns}})
    for i, spec in enumerate(config.nodes):
        name = f"node-{i}"
        obj = node(name, spec.cpu, spec.memory, spec.pods, dict(spec.labels))
        obj["status"]["addresses"].insert(0, {"type": "InternalIP", "address": f"10.0.0.{10 + i}"})
        store.create(by_kind("Node"), "", obj)
    for name, provisioner, params in STORAGE_CLASSES:
        store.create(
            by_kind("StorageClass"),
            "",
            {
                "metadata": {"name": name},
                "provisioner": provisioner,
                "parameters": params,
                "reclaimPolicy": "Delete",
                "volumeBindingMode": "Immediate",
                "allowVolumeExpansion": True,
            },
        )
    if config.harvester:
        for name, value in SETTINGS.items():
            store.create(by_kind("Setting"), "", {"metadata": {"name": name}, "default": value})
    store.create(
        by_kind("KubeVirt"),
        "harvester-system",
        {
            "metadata": {"name": "kubevirt"},
            "spec": {"configuration": {"migrations": dict(MIGRATION_DEFAULTS)}},
        },
    )
    store.create(by_kind("CDI"), "", {"metadata": {"name": "cdi"}, "spec": {}})
