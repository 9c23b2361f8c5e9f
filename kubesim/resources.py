"""The table of served resources: what discovery lists and what the store keeps.

One ``Resource`` row per REST resource carries everything that differs between
kinds (scope, short names, whether the real CRD has a ``status`` subresource,
which schema file validates it). The handlers are generic over this table, so
adding a kind is one line, and the subresource set follows the real CRDs
(kubevirt ``pkg/virt-operator/resource/generate/components/crds.go``: VMI has
no status subresource; VM, VMIM, KubeVirt and MigrationPolicy do; the
Harvester IPPool CRD declares ``subresources: {}``).
"""

from __future__ import annotations

from dataclasses import dataclass

VERBS = ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"]


@dataclass(frozen=True)
class Resource:
    group: str
    version: str
    plural: str
    kind: str
    namespaced: bool
    short_names: tuple[str, ...] = ()
    status_subresource: bool = False
    schema: str | None = None
    generation: bool = True
    categories: tuple[str, ...] = ()

    @property
    def group_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version

    @property
    def key(self) -> str:
        return f"{self.group}/{self.plural}"

    @property
    def singular(self) -> str:
        return self.kind.lower()


RBAC_GROUP = "rbac.authorization.k8s.io"


def _core(plural: str, kind: str, namespaced: bool, short: tuple[str, ...], status: bool) -> Resource:
    return Resource("", "v1", plural, kind, namespaced, short, status, generation=False)


RESOURCES: tuple[Resource, ...] = (
    _core("namespaces", "Namespace", False, ("ns",), True),
    _core("nodes", "Node", False, ("no",), True),
    _core("pods", "Pod", True, ("po",), True),
    _core("persistentvolumeclaims", "PersistentVolumeClaim", True, ("pvc",), True),
    _core("secrets", "Secret", True, (), False),
    _core("events", "Event", True, ("ev",), False),
    _core("serviceaccounts", "ServiceAccount", True, ("sa",), False),
    Resource(RBAC_GROUP, "v1", "clusterroles", "ClusterRole", False, generation=False),
    Resource(RBAC_GROUP, "v1", "clusterrolebindings", "ClusterRoleBinding", False, generation=False),
    Resource(RBAC_GROUP, "v1", "roles", "Role", True, generation=False),
    Resource(RBAC_GROUP, "v1", "rolebindings", "RoleBinding", True, generation=False),
    Resource("storage.k8s.io", "v1", "storageclasses", "StorageClass", False, ("sc",), generation=False),
    Resource("coordination.k8s.io", "v1", "leases", "Lease", True, generation=False),
    Resource(
        "kubevirt.io",
        "v1",
        "virtualmachines",
        "VirtualMachine",
        True,
        ("vm", "vms"),
        True,
        "kubevirt:virtualmachine",
        categories=("all",),
    ),
    Resource(
        "kubevirt.io",
        "v1",
        "virtualmachineinstances",
        "VirtualMachineInstance",
        True,
        ("vmi", "vmis"),
        False,
        "kubevirt:virtualmachineinstance",
        categories=("all",),
    ),
    Resource(
        "kubevirt.io",
        "v1",
        "virtualmachineinstancemigrations",
        "VirtualMachineInstanceMigration",
        True,
        ("vmim", "vmims"),
        True,
        "kubevirt:virtualmachineinstancemigration",
        categories=("all",),
    ),
    Resource(
        "kubevirt.io",
        "v1",
        "kubevirts",
        "KubeVirt",
        True,
        ("kv", "kvs"),
        True,
        "kubevirt:kubevirt",
        categories=("all",),
    ),
    Resource(
        "migrations.kubevirt.io",
        "v1alpha1",
        "migrationpolicies",
        "MigrationPolicy",
        False,
        (),
        True,
        "kubevirt:migrationpolicy",
        categories=("all",),
    ),
    Resource(
        "cdi.kubevirt.io",
        "v1beta1",
        "storageprofiles",
        "StorageProfile",
        False,
        (),
        True,
        "cdi:crd-storageprofile",
    ),
    Resource(
        "cdi.kubevirt.io",
        "v1beta1",
        "datavolumes",
        "DataVolume",
        True,
        ("dv", "dvs"),
        True,
        "cdi:crd-datavolume",
        categories=("all",),
    ),
    Resource("cdi.kubevirt.io", "v1beta1", "cdis", "CDI", False, ("cdi", "cdis"), True),
    Resource(
        "loadbalancer.harvesterhci.io",
        "v1beta1",
        "ippools",
        "IPPool",
        False,
        ("pool", "pools"),
        False,
        "harvester:crd-ippools",
    ),
    Resource(
        "k8s.cni.cncf.io",
        "v1",
        "network-attachment-definitions",
        "NetworkAttachmentDefinition",
        True,
        ("net-attach-def",),
    ),
    Resource("harvesterhci.io", "v1beta1", "settings", "Setting", False),
    # Harvester's VM backup and image kinds: their CRDs declare ``subresources: {}`` (no status subresource).
    Resource(
        "harvesterhci.io",
        "v1beta1",
        "virtualmachinebackups",
        "VirtualMachineBackup",
        True,
        ("vmbackup", "vmbackups"),
        False,
        "harvesterhci:crd-virtualmachinebackups",
    ),
    Resource(
        "harvesterhci.io",
        "v1beta1",
        "virtualmachineimages",
        "VirtualMachineImage",
        True,
        ("vmimage", "vmimages"),
        False,
        "harvesterhci:crd-virtualmachineimages",
    ),
    # KubeVirt's snapshot kind; virt-operator's CRD has a status subresource and these short names and category.
    Resource(
        "snapshot.kubevirt.io",
        "v1beta1",
        "virtualmachinesnapshots",
        "VirtualMachineSnapshot",
        True,
        ("vmsnapshot", "vmsnapshots"),
        True,
        "kubevirt:virtualmachinesnapshot",
        categories=("all",),
    ),
    # Served only by a cluster with KubeSimConfig.hco (served.py hides the group otherwise).
    Resource(
        "hco.kubevirt.io",
        "v1beta1",
        "hyperconvergeds",
        "HyperConverged",
        True,
        ("hco", "hcos"),
        True,
        "hco:hyperconverged",
        categories=("all",),
    ),
)

VM_SUBRESOURCES = ("start", "stop", "restart", "migrate")
VMI_SUBRESOURCES = ("pause", "unpause")

BY_PATH: dict[tuple[str, str, str], Resource] = {(r.group, r.version, r.plural): r for r in RESOURCES}
BY_KEY: dict[str, Resource] = {r.key: r for r in RESOURCES}


def lookup(group: str, version: str, plural: str) -> Resource | None:
    return BY_PATH.get((group, version, plural))


def by_kind(kind: str) -> Resource:
    return next(r for r in RESOURCES if r.kind == kind)


def group_versions() -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for r in RESOURCES:
        if r.group and r.version not in out.setdefault(r.group, []):
            out[r.group].append(r.version)
    out["subresources.kubevirt.io"] = ["v1"]
    return out
