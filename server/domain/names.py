"""Resource names (AIP-122): parse user-supplied names into their IDs, and build canonical ones.

Every ID is a DNS-1123 label starting with a letter, because VM and namespace
IDs become Kubernetes object names and guest hostnames. A name that does not
fit its pattern is INVALID_ARGUMENT naming the request field and the pattern.
"""

from __future__ import annotations

from dataclasses import dataclass

from server.domain.errors import FieldViolation, InvalidArgument
from server.domain.labels import dns1123_label_violation

WILDCARD = "-"
CLUSTER_PATTERN = "clusters/{cluster}"
NAMESPACE_PATTERN = "clusters/{cluster}/namespaces/{namespace}"
VM_PATTERN = "clusters/{cluster}/namespaces/{namespace}/virtualMachines/{virtual_machine}"
OPERATION_PATTERN = "operations/{operation}"


@dataclass(frozen=True)
class NamespaceName:
    cluster: str
    namespace: str

    def __str__(self) -> str:
        return f"clusters/{self.cluster}/namespaces/{self.namespace}"

    @property
    def all_namespaces(self) -> bool:
        return self.namespace == WILDCARD


@dataclass(frozen=True)
class VirtualMachineName:
    cluster: str
    namespace: str
    vm: str

    def __str__(self) -> str:
        return f"clusters/{self.cluster}/namespaces/{self.namespace}/virtualMachines/{self.vm}"

    @property
    def parent(self) -> NamespaceName:
        return NamespaceName(self.cluster, self.namespace)


def _split(value: str, field: str, collections: tuple[str, ...], pattern: str) -> list[str]:
    if not value:
        raise InvalidArgument.for_field(field, f"required; expected {pattern}")
    parts = value.split("/")
    if len(parts) != 2 * len(collections) or any(parts[i * 2] != c for i, c in enumerate(collections)):
        raise InvalidArgument.for_field(field, f'"{value}" does not match {pattern}')
    return parts[1::2]


def _check_ids(field: str, ids: list[tuple[str, str]], wildcard: str | None = None) -> None:
    violations: list[FieldViolation] = []
    for label, value in ids:
        if value == wildcard:
            continue
        violation = dns1123_label_violation(value, field)
        if violation is not None:
            violations.append(FieldViolation(field, f"{label} {violation.description}"))
    if violations:
        raise InvalidArgument.of(violations)


def parse_cluster_name(value: str, field: str = "name") -> str:
    (cluster,) = _split(value, field, ("clusters",), CLUSTER_PATTERN)
    _check_ids(field, [("cluster ID", cluster)])
    return cluster


def parse_namespace_name(value: str, field: str = "parent", *, allow_wildcard: bool = False) -> NamespaceName:
    cluster, namespace = _split(value, field, ("clusters", "namespaces"), NAMESPACE_PATTERN)
    if namespace == WILDCARD and not allow_wildcard:
        raise InvalidArgument.for_field(field, 'the namespace wildcard "-" is only allowed when listing')
    _check_ids(field, [("cluster ID", cluster), ("namespace", namespace)], WILDCARD)
    return NamespaceName(cluster, namespace)


def parse_vm_name(value: str, field: str = "name") -> VirtualMachineName:
    cluster, namespace, vm = _split(value, field, ("clusters", "namespaces", "virtualMachines"), VM_PATTERN)
    _check_ids(field, [("cluster ID", cluster), ("namespace", namespace), ("virtual machine ID", vm)])
    return VirtualMachineName(cluster, namespace, vm)


def check_id(value: str, field: str) -> None:
    """A user-chosen resource ID (e.g. `virtual_machine_id`)."""
    if not value:
        raise InvalidArgument.for_field(field, "required")
    violation = dns1123_label_violation(value, field)
    if violation is not None:
        raise InvalidArgument.of([violation])


def parse_operation_name(value: str, field: str = "name") -> str:
    (operation,) = _split(value, field, ("operations",), OPERATION_PATTERN)
    return operation
