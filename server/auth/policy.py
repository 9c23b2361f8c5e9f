"""Roles, permissions and scopes: who may do what where. Pure logic, no I/O.

A role binding grants a role on one cluster (or `*`, every cluster) and
optionally one namespace. A request needs a permission on the scope its
resource name implies. As with Kubernetes' RoleBinding, a namespace binding
never reaches cluster-level resources (IP pools, migration policies and
config, the cluster itself): those need a binding on the whole cluster.
Installation-wide resources (principals, tokens, audit, registering
clusters) need a binding on `*` without a namespace.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import IntEnum

ALL_CLUSTERS = "*"
ANY_NAMESPACE = "-"


class Permission(IntEnum):
    READ = 1
    OPERATE = 2
    ADMIN = 3


class Role(IntEnum):
    """Each role holds the permission of the same rank and every lower one; values match harrow.v1.Role."""

    VIEWER = 1
    OPERATOR = 2
    ADMIN = 3


@dataclass(frozen=True)
class Binding:
    role: Role
    cluster: str
    namespace: str = ""

    def covers_cluster(self, cluster: str) -> bool:
        return self.cluster in (ALL_CLUSTERS, cluster)


@dataclass(frozen=True)
class Scope:
    """Where a request acts: nowhere in particular (cluster None), a cluster itself (namespace None),
    one namespace, or `-`, some namespace of the cluster (lists and watches, which then filter)."""

    cluster: str | None = None
    namespace: str | None = None


INSTALLATION = Scope()


def scope_of(name: str) -> Scope:
    """The scope a resource name implies: `clusters/c/namespaces/n/…` → (c, n); `clusters/c/…` → (c, None)."""
    parts = name.split("/")
    if len(parts) < 2 or parts[0] != "clusters" or not parts[1]:
        return INSTALLATION
    if len(parts) >= 4 and parts[2] == "namespaces" and parts[3]:
        return Scope(parts[1], parts[3])
    return Scope(parts[1])


@dataclass(frozen=True)
class Caller:
    principal: str
    bindings: tuple[Binding, ...]

    def allows(self, permission: Permission, scope: Scope) -> bool:
        return any(_grants(binding, permission, scope) for binding in self.bindings)

    def namespaces(self, cluster: str) -> frozenset[str] | None:
        """Namespaces of `cluster` whose VMs the caller may see; None means all of them."""
        covering = [b for b in self.bindings if b.covers_cluster(cluster)]
        if any(not b.namespace for b in covering):
            return None
        return frozenset(b.namespace for b in covering)

    def clusters(self) -> frozenset[str] | None:
        """Clusters the caller holds any role in; None means every cluster."""
        if any(b.cluster == ALL_CLUSTERS for b in self.bindings):
            return None
        return frozenset(b.cluster for b in self.bindings)

    def target_patterns(self) -> tuple[str, ...] | None:
        """SQL LIKE patterns for the resource names the caller may see (IDs are DNS labels: no `%` or `_`)."""
        if any(b.cluster == ALL_CLUSTERS and not b.namespace for b in self.bindings):
            return None
        return tuple(sorted({_pattern(b) for b in self.bindings}))


def _grants(binding: Binding, permission: Permission, scope: Scope) -> bool:
    if binding.role < permission:
        return False
    if scope.cluster is None:
        return binding.cluster == ALL_CLUSTERS and not binding.namespace
    if not binding.covers_cluster(scope.cluster):
        return False
    if scope.namespace is None:
        return not binding.namespace
    return scope.namespace == ANY_NAMESPACE or binding.namespace in ("", scope.namespace)


def _pattern(binding: Binding) -> str:
    cluster = "%" if binding.cluster == ALL_CLUSTERS else binding.cluster
    namespace = f"namespaces/{binding.namespace}/" if binding.namespace else ""
    return f"clusters/{cluster}/{namespace}%"


def unrestricted(principal: str) -> Caller:
    """The caller when authentication is off: admin everywhere."""
    return Caller(principal, (Binding(Role.ADMIN, ALL_CLUSTERS),))


def bindings_from_json(items: Iterable[dict[str, str]]) -> tuple[Binding, ...]:
    return tuple(Binding(Role[item["role"]], item["cluster"], item.get("namespace", "")) for item in items)
