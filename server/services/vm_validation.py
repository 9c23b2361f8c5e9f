"""Validation of a VirtualMachine as a user wrote it: every violation, each naming its field.

All problems are collected before answering, so one round trip shows the
user everything to fix. Paths use the request's field names
(`virtual_machine.spec.disks[1].name`).
"""

from __future__ import annotations

import re
from decimal import Decimal

from google.protobuf.message import Message
from harrow.v1 import virtual_machine_pb2 as vm_pb

from server.domain.errors import FieldViolation
from server.domain.labels import annotation_violations, dns1123_label_violation, label_violations
from server.domain.quantity import parse_quantity

_DNS_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
_MAC = re.compile(r"^([0-9a-fA-F]{2})(:[0-9a-fA-F]{2}){5}$")
_IMAGE_SCHEMES = ("http://", "https://", "docker://")
_TOLERATION_OPERATORS = ("", "Equal", "Exists")
_TAINT_EFFECTS = ("", "NoSchedule", "PreferNoSchedule", "NoExecute")
MAX_VCPUS = 512


def _quantity(value: str, field: str, out: list[FieldViolation], *, required: bool) -> Decimal | None:
    if not value:
        if required:
            out.append(FieldViolation(field, 'required; a Kubernetes quantity such as "4Gi"'))
        return None
    try:
        amount = parse_quantity(value)
    except ValueError as error:
        out.append(FieldViolation(field, f'"{value}" is not a valid quantity: {error}'))
        return None
    if amount <= 0:
        out.append(FieldViolation(field, f'must be greater than zero (got "{value}")'))
        return None
    return amount


def _subdomain(value: str, field: str, out: list[FieldViolation]) -> None:
    if len(value) > 253 or not _DNS_SUBDOMAIN.match(value):
        out.append(
            FieldViolation(field, f'"{value}" is not a DNS-1123 subdomain (lowercase letters, digits, "-", ".")')
        )


def _cpu(cpu: vm_pb.CpuTopology, field: str, out: list[FieldViolation]) -> None:
    if cpu.cores < 1:
        out.append(FieldViolation(f"{field}.cores", f"must be at least 1 (got {cpu.cores})"))
    for name, value in (("sockets", cpu.sockets), ("threads", cpu.threads)):
        if value < 0:
            out.append(FieldViolation(f"{field}.{name}", f"must not be negative (got {value}); 0 means 1"))
    total = max(cpu.cores, 1) * max(cpu.sockets, 1) * max(cpu.threads, 1)
    if total > MAX_VCPUS:
        out.append(FieldViolation(field, f"cores * sockets * threads must be at most {MAX_VCPUS} (got {total})"))


def _disk(disk: vm_pb.Disk, field: str, out: list[FieldViolation]) -> None:
    source = disk.WhichOneof("source")
    if source is None:
        out.append(FieldViolation(field, "one of image, new_volume or existing_claim is required"))
    elif source == "image":
        url = disk.image.url
        if not url.startswith(_IMAGE_SCHEMES):
            out.append(
                FieldViolation(f"{field}.image.url", f'must start with http://, https:// or docker:// (got "{url}")')
            )
        _quantity(disk.image.size, f"{field}.image.size", out, required=True)
        if disk.image.storage_class:
            _subdomain(disk.image.storage_class, f"{field}.image.storage_class", out)
    elif source == "new_volume":
        volume = disk.new_volume
        _quantity(volume.size, f"{field}.new_volume.size", out, required=True)
        if volume.storage_class:
            _subdomain(volume.storage_class, f"{field}.new_volume.storage_class", out)
        for index, mode in enumerate(volume.access_modes):
            if mode == vm_pb.ACCESS_MODE_UNSPECIFIED:
                out.append(
                    FieldViolation(f"{field}.new_volume.access_modes[{index}]", "must not be ACCESS_MODE_UNSPECIFIED")
                )
        if len(set(volume.access_modes)) != len(volume.access_modes):
            out.append(FieldViolation(f"{field}.new_volume.access_modes", "lists an access mode twice"))
    else:
        claim = disk.existing_claim.claim_name
        if not claim:
            out.append(FieldViolation(f"{field}.existing_claim.claim_name", "required"))
        else:
            _subdomain(claim, f"{field}.existing_claim.claim_name", out)


def _interface(nic: vm_pb.NetworkInterface, field: str, out: list[FieldViolation]) -> None:
    network = nic.network
    if not network:
        out.append(
            FieldViolation(f"{field}.network", 'required; "pod" or a NetworkAttachmentDefinition "namespace/name"')
        )
    elif network != "pod":
        parts = network.split("/")
        if len(parts) != 2 or not all(parts):
            out.append(
                FieldViolation(
                    f"{field}.network",
                    f'"{network}" must be "pod" or "namespace/name" of a NetworkAttachmentDefinition',
                )
            )
        else:
            for part in parts:
                violation = dns1123_label_violation(part, f"{field}.network")
                if violation is not None:
                    out.append(violation)
    if nic.ip_pool:
        parts = nic.ip_pool.split("/")
        if len(parts) != 4 or parts[0] != "clusters" or parts[2] != "ipPools" or not all(parts):
            out.append(
                FieldViolation(
                    f"{field}.ip_pool", f'"{nic.ip_pool}" does not match clusters/{{cluster}}/ipPools/{{ip_pool}}'
                )
            )
        if network == "pod":
            out.append(
                FieldViolation(
                    f"{field}.ip_pool",
                    "the pod network (masquerade) gets its address from KubeVirt; use a NetworkAttachmentDefinition",
                )
            )
    if nic.mac_address:
        match = _MAC.match(nic.mac_address)
        if match is None:
            out.append(
                FieldViolation(
                    f"{field}.mac_address", f'"{nic.mac_address}" is not a MAC address like "02:00:00:aa:bb:cc"'
                )
            )
        elif int(match.group(1), 16) & 1:
            out.append(
                FieldViolation(f"{field}.mac_address", f'"{nic.mac_address}" is a multicast address; use a unicast one')
            )


def _unique_names(items: list[tuple[str, str]], field: str, out: list[FieldViolation]) -> None:
    seen: dict[str, int] = {}
    for index, (name, item_field) in enumerate(items):
        if not name:
            out.append(FieldViolation(f"{item_field}.name", "required"))
            continue
        violation = dns1123_label_violation(name, f"{item_field}.name")
        if violation is not None:
            out.append(violation)
        if name in seen:
            out.append(FieldViolation(f"{item_field}.name", f'"{name}" is already used by {field}[{seen[name]}]'))
        else:
            seen[name] = index


def _boot_orders(spec: vm_pb.VirtualMachineSpec, field: str, out: list[FieldViolation]) -> None:
    owners: dict[int, str] = {}
    entries = [(d.boot_order, f"{field}.disks[{i}]") for i, d in enumerate(spec.disks)]
    entries += [(n.boot_order, f"{field}.interfaces[{i}]") for i, n in enumerate(spec.interfaces)]
    for order, owner in entries:
        if order < 0:
            out.append(FieldViolation(f"{owner}.boot_order", f"must not be negative (got {order})"))
        elif order > 0:
            if order in owners:
                out.append(FieldViolation(f"{owner}.boot_order", f"{order} is already used by {owners[order]}"))
            else:
                owners[order] = owner


def _placement(placement: vm_pb.Placement, field: str, out: list[FieldViolation]) -> None:
    out.extend(label_violations(dict(placement.node_selector), f"{field}.node_selector"))
    for index, toleration in enumerate(placement.tolerations):
        item = f"{field}.tolerations[{index}]"
        if toleration.operator not in _TOLERATION_OPERATORS:
            out.append(FieldViolation(f"{item}.operator", f'must be "Equal" or "Exists" (got "{toleration.operator}")'))
        if toleration.operator == "Exists" and toleration.value:
            out.append(FieldViolation(f"{item}.value", 'must be empty when operator is "Exists"'))
        if toleration.effect not in _TAINT_EFFECTS:
            out.append(
                FieldViolation(
                    f"{item}.effect", f'must be NoSchedule, PreferNoSchedule or NoExecute (got "{toleration.effect}")'
                )
            )
        if toleration.toleration_seconds and toleration.effect != "NoExecute":
            out.append(FieldViolation(f"{item}.toleration_seconds", 'only applies to effect "NoExecute"'))


def spec_violations(spec: vm_pb.VirtualMachineSpec, field: str) -> list[FieldViolation]:
    out: list[FieldViolation] = []
    if not spec.HasField("cpu"):
        out.append(FieldViolation(f"{field}.cpu", "required; at least cores"))
    else:
        _cpu(spec.cpu, f"{field}.cpu", out)
    memory = _quantity(spec.memory, f"{field}.memory", out, required=True)
    if spec.run_strategy == vm_pb.VirtualMachineSpec.RUN_STRATEGY_UNSPECIFIED:
        out.append(FieldViolation(f"{field}.run_strategy", "required; one of ALWAYS, HALTED, MANUAL, RERUN_ON_FAILURE"))
    reserved = _quantity(spec.reserved_memory, f"{field}.reserved_memory", out, required=False)
    if memory is not None and reserved is not None and reserved >= memory:
        out.append(
            FieldViolation(
                f"{field}.reserved_memory", f'"{spec.reserved_memory}" must be less than memory "{spec.memory}"'
            )
        )
    disks = [(d.name, f"{field}.disks[{i}]") for i, d in enumerate(spec.disks)]
    _unique_names(disks, f"{field}.disks", out)
    for index, disk in enumerate(spec.disks):
        _disk(disk, f"{field}.disks[{index}]", out)
    nics = [(n.name, f"{field}.interfaces[{i}]") for i, n in enumerate(spec.interfaces)]
    _unique_names(nics, f"{field}.interfaces", out)
    for index, nic in enumerate(spec.interfaces):
        _interface(nic, f"{field}.interfaces[{index}]", out)
    _boot_orders(spec, field, out)
    if spec.cloud_init.network_data and any(nic.ip_pool for nic in spec.interfaces):
        out.append(
            FieldViolation(
                f"{field}.cloud_init.network_data",
                "must be empty when an interface sets ip_pool: Harrow writes the network config then",
            )
        )
    if spec.HasField("placement"):
        _placement(spec.placement, f"{field}.placement", out)
    return out


def vm_violations(vm: vm_pb.VirtualMachine, field: str = "virtual_machine") -> list[FieldViolation]:
    out = label_violations(dict(vm.labels), f"{field}.labels")
    out += annotation_violations(dict(vm.annotations), f"{field}.annotations")
    if not vm.HasField("spec"):
        out.append(FieldViolation(f"{field}.spec", "required"))
    else:
        out += spec_violations(vm.spec, f"{field}.spec")
    return out


# The fields of each source that make up the disk's DataVolume (translate._data_volume_spec) or its claim.
_SOURCE_FIELDS = {
    "image": ("url", "size", "storage_class"),
    "new_volume": ("size", "storage_class", "access_modes", "volume_mode"),
    "existing_claim": ("claim_name",),
}
_REPLACE = "; to change it, replace the disk: remove it and add one under a new name"


def disk_change_violations(
    before: vm_pb.VirtualMachineSpec, after: vm_pb.VirtualMachineSpec, field: str
) -> list[FieldViolation]:
    """Changes to the volume under a disk the VM already has (same name), which the cluster would never make.

    A Harrow-made disk is a DataVolume from the VM's dataVolumeTemplates: KubeVirt creates the DataVolume
    when it is missing and never updates one that exists, CDI's webhook refuses any change to a
    DataVolume's spec, and Harrow does not patch PVCs (so not even a growing size would reach the claim,
    whatever the class's allowVolumeExpansion). Accepted, such a change would be recorded and shown in
    status.disks while the old volume stays: so every field of the source is refused, as is switching to
    another kind of source. A different existing_claim would reach the VM, but only on its next start,
    silently: replacing the disk says what happens. Adding and removing disks stays allowed. A size
    written differently but equal ("2Gi" → "2048Mi") is no change.
    """
    old = {disk.name: disk for disk in before.disks}
    out: list[FieldViolation] = []
    for index, disk in enumerate(after.disks):
        previous = old.get(disk.name)
        if previous is None:
            continue
        where = f"{field}.disks[{index}]"
        kind, previous_kind = disk.WhichOneof("source"), previous.WhichOneof("source")
        if kind != previous_kind:
            out.append(
                FieldViolation(
                    where,
                    f'disk "{disk.name}" is on {previous_kind} and cannot move to {kind or "no source"}{_REPLACE}',
                )
            )
            continue
        if kind is None:
            continue
        new_source, old_source = getattr(disk, kind), getattr(previous, kind)
        for name in _SOURCE_FIELDS[kind]:
            new_value, old_value = _value(new_source, name), _value(old_source, name)
            if name == "size" and _same_quantity(new_value, old_value):
                continue
            if new_value != old_value:
                out.append(
                    FieldViolation(
                        f"{where}.{kind}.{name}",
                        f'cannot change on the existing disk "{disk.name}" ({_shown(old_value)} → '
                        f"{_shown(new_value)}): its volume is made once and never updated{_REPLACE}",
                    )
                )
    return out


def _value(source: Message, name: str) -> str:
    """A source field as the user wrote it: enums by name, "" when unset."""
    value = getattr(source, name)
    if name == "volume_mode":
        return vm_pb.VolumeMode.Name(value) if value else ""
    if name == "access_modes":
        return ", ".join(vm_pb.AccessMode.Name(mode) for mode in value)
    return str(value)


def _same_quantity(a: str, b: str) -> bool:
    try:
        return parse_quantity(a) == parse_quantity(b)
    except ValueError:
        return a == b


def _shown(value: str) -> str:
    return f'"{value}"' if value else "unset"
