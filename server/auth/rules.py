"""Every RPC of the contract → the permission it needs and the request field naming where it acts.

Permissions are written out per method, so a new RPC is denied until someone
decides what it needs (tests/unit/auth checks the table covers the contract
exactly). The scope field is not written out: it is the first variable of
the RPC's google.api.http path (`name`, `parent`, `ip_pool.name`, `pool`), the
same field REST routes on, so the two cannot drift apart. RPCs without one
act on the whole installation, except the few that filter what they return
to what the caller may see (`OPEN`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from google.api import annotations_pb2
from google.protobuf import descriptor_pool
from google.protobuf.message import Message
from harrow.v1 import (  # noqa: F401  (imported to register the contract's services)
    backup_pb2,
    cluster_pb2,
    ip_pool_pb2,
    migration_pb2,
    operations_pb2,
    security_pb2,
    storage_pb2,
    virtual_machine_pb2,
)

from server.auth.policy import Permission

READ, OPERATE, ADMIN = Permission.READ, Permission.OPERATE, Permission.ADMIN

PERMISSIONS: dict[str, dict[str, Permission]] = {
    "harrow.v1.VirtualMachineService": {
        "GetVirtualMachine": READ,
        "ListVirtualMachines": READ,
        "WatchVirtualMachines": READ,
        "CreateVirtualMachine": OPERATE,
        "AdoptVirtualMachine": OPERATE,
        "UpdateVirtualMachine": OPERATE,
        "DeleteVirtualMachine": OPERATE,
        "StartVirtualMachine": OPERATE,
        "StopVirtualMachine": OPERATE,
        "RestartVirtualMachine": OPERATE,
        "PauseVirtualMachine": OPERATE,
        "UnpauseVirtualMachine": OPERATE,
    },
    "harrow.v1.ClusterService": {
        "GetCluster": READ,
        "ListClusters": READ,
        "CreateCluster": ADMIN,
        "UpdateCluster": ADMIN,
        "DeleteCluster": ADMIN,
    },
    "harrow.v1.OperationService": {
        "GetOperation": READ,
        "ListOperations": READ,
        "WaitOperation": READ,
        "CancelOperation": OPERATE,
    },
    "harrow.v1.IpPoolService": {
        "GetIpPool": READ,
        "ListIpPools": READ,
        "CreateIpPool": ADMIN,
        "UpdateIpPool": ADMIN,
        "DeleteIpPool": ADMIN,
        "AllocateIpAddress": OPERATE,
        "SelectAndAllocateIpAddress": OPERATE,
        "ReleaseIpAddress": OPERATE,
        "GetIpAllocation": READ,
        "ListIpAllocations": READ,
        "ListIpAllocationEvents": READ,
    },
    "harrow.v1.MigrationService": {
        "GetMigrationConfig": READ,
        "UpdateMigrationConfig": ADMIN,
        "GetMigrationPolicy": READ,
        "ListMigrationPolicies": READ,
        "CreateMigrationPolicy": ADMIN,
        "UpdateMigrationPolicy": ADMIN,
        "DeleteMigrationPolicy": ADMIN,
        "ResolveMigrationPolicy": READ,
        "ResolveVirtualMachineMigrationPolicy": READ,
        "MigrateVirtualMachine": OPERATE,
        "GetMigration": READ,
        "ListMigrations": READ,
        "CancelMigration": OPERATE,
        "EvacuateNode": OPERATE,
    },
    "harrow.v1.SecurityService": {
        "GetCallerIdentity": READ,
        "GetPrincipal": ADMIN,
        "ListPrincipals": ADMIN,
        "CreatePrincipal": ADMIN,
        "UpdatePrincipal": ADMIN,
        "DeletePrincipal": ADMIN,
        "CreateToken": ADMIN,
        "ListTokens": ADMIN,
        "RevokeToken": ADMIN,
        "ListAuditRecords": ADMIN,
    },
    "harrow.v1.StorageService": {
        "GetStorageProfile": READ,
        "ListStorageProfiles": READ,
        "UpdateStorageProfile": ADMIN,
        "ListStorageCapabilities": READ,
        "GetStorageClass": READ,
        "ListStorageClasses": READ,
    },
    "harrow.v1.BackupService": {
        "GetVirtualMachineBackup": READ,
        "ListVirtualMachineBackups": READ,
        "CreateVirtualMachineBackup": OPERATE,
        "DeleteVirtualMachineBackup": OPERATE,
        "GetVirtualMachineImage": READ,
        "ListVirtualMachineImages": READ,
        "CreateVirtualMachineImage": OPERATE,
        "DeleteVirtualMachineImage": OPERATE,
    },
}

# Open to every authenticated caller: they return only what the caller may see.
OPEN = frozenset(
    {
        "harrow.v1.ClusterService/ListClusters",
        "harrow.v1.OperationService/ListOperations",
        "harrow.v1.SecurityService/GetCallerIdentity",
        # A static table of what each CSI driver can do: nothing in it belongs to anyone.
        "harrow.v1.StorageService/ListStorageCapabilities",
    }
)

# Readable by anyone holding a role anywhere in the named cluster: a namespace operator must see its cluster.
CLUSTER_MEMBERS = frozenset({"harrow.v1.ClusterService/GetCluster"})

_VARIABLE = re.compile(r"\{([a-z_.]+)")
# `/v1/{parent=…}/things` or `/v1/things`, optionally `:verb`: a call that adds to the collection `things`.
_COLLECTION = re.compile(r"^/v1/(?:\{([a-z_.]+)=[^}]*\}/)?([A-Za-z]+)(?::[A-Za-z]+)?$")


@dataclass(frozen=True)
class Rule:
    method: str
    permission: Permission
    # Dotted request field holding the resource name the call acts on; None: the installation.
    scope_field: str | None
    open: bool
    cluster_members: bool
    # For calls that create a named child (`{parent}/things/{thing_id}`): the collection path and the ID field.
    creates: tuple[str | None, str, str] | None = None

    @property
    def mutating(self) -> bool:
        return self.permission > Permission.READ

    def resource(self, request: Message) -> str:
        """The name the request acts on (the scope field's value), or "" when it has none."""
        if self.scope_field is None:
            return ""
        value: object = request
        for part in self.scope_field.split("."):
            value = getattr(value, part)
        return str(value)

    def audited_resource(self, request: Message) -> str:
        """What the audit log names: the resource a create makes (its ID may be invalid), else `resource`."""
        if self.creates is None:
            return self.resource(request)
        parent_field, collection, id_field = self.creates
        parent = str(getattr(request, parent_field)) if parent_field else ""
        return "/".join(part for part in (parent, collection, str(getattr(request, id_field))) if part)


def _creates(service: str, method: str) -> tuple[str | None, str, str] | None:
    descriptor = descriptor_pool.Default().FindServiceByName(service).methods_by_name[method]
    rule = descriptor.GetOptions().Extensions[annotations_pb2.http]
    found = _COLLECTION.match(rule.post) if rule.WhichOneof("pattern") == "post" else None
    ids = [f.name for f in descriptor.input_type.fields if f.name.endswith("_id") and f.name != "request_id"]
    if found is None or len(ids) != 1:
        return None
    return found.group(1), found.group(2), ids[0]


def _scope_field(service: str, method: str) -> str | None:
    descriptor = descriptor_pool.Default().FindServiceByName(service).methods_by_name[method]
    rule = descriptor.GetOptions().Extensions[annotations_pb2.http]
    pattern = rule.WhichOneof("pattern")
    found = _VARIABLE.search(getattr(rule, pattern)) if pattern else None
    return found.group(1) if found else None


def _build() -> dict[str, Rule]:
    rules: dict[str, Rule] = {}
    for service, methods in PERMISSIONS.items():
        for method, permission in methods.items():
            full = f"{service}/{method}"
            rules[full] = Rule(
                full,
                permission,
                _scope_field(service, method),
                full in OPEN,
                full in CLUSTER_MEMBERS,
                _creates(service, method),
            )
    return rules


RULES = _build()
