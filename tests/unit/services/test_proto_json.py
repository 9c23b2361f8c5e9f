"""The fast proto3 JSON conversions give exactly json_format's result, on every field of every message.

Messages are filled generically from their descriptors (every field set, each oneof member in turn),
so a field added to the contract later is covered without touching this file.
"""

from __future__ import annotations

import importlib
import pkgutil
import uuid
from datetime import UTC, datetime
from typing import Any

import pytest
from google.protobuf import descriptor_pool, json_format, message_factory
from google.protobuf.descriptor import Descriptor, FieldDescriptor
from google.protobuf.message import Message
from harrow.v1 import virtual_machine_pb2 as vm_pb

from server.services import proto_json
from server.services.virtual_machines import to_proto
from storage.models import VirtualMachineRow

CONTRACT = [
    importlib.import_module(f"harrow.v1.{module.name}")
    for module in pkgutil.iter_modules(importlib.import_module("harrow.v1").__path__)
    if module.name.endswith("_pb2")
]
MESSAGES = sorted(
    {
        descriptor.full_name: descriptor
        for module in CONTRACT
        for descriptor in module.DESCRIPTOR.message_types_by_name.values()
    }.values(),
    key=lambda descriptor: descriptor.full_name,
)
VARIANTS = 3  # enough to give every oneof of the contract each of its members


def populated(descriptor: Descriptor, variant: int = 0, depth: int = 0) -> Message:
    message = message_factory.GetMessageClass(descriptor)()
    fill(message, variant, depth)
    return message


def fill(message: Message, variant: int, depth: int) -> None:
    descriptor = message.DESCRIPTOR
    if descriptor.full_name == "google.protobuf.Timestamp":
        message.FromDatetime(datetime(2026, 11, 22, 1, 2, 3, 456789, tzinfo=UTC))  # type: ignore[attr-defined]
        return
    if descriptor.full_name == "google.protobuf.Struct":
        message.update({"nodeAffinity": {"weight": 3, "terms": ["a", True, None]}})  # type: ignore[attr-defined]
        return
    if descriptor.full_name == "google.protobuf.Any":
        message.Pack(vm_pb.VirtualMachineSpec(description="packed"))  # type: ignore[attr-defined]
        return
    if descriptor.full_name.startswith("google.protobuf.") and descriptor.full_name != "google.protobuf.FieldMask":
        return  # Empty and the like: nothing to set
    chosen = {oneof.name: oneof.fields[variant % len(oneof.fields)].name for oneof in descriptor.oneofs}
    for field in descriptor.fields:
        oneof = field.containing_oneof
        if oneof is not None and chosen[oneof.name] != field.name:
            continue
        set_field(message, field, variant, depth)


def set_field(message: Message, field: FieldDescriptor, variant: int, depth: int) -> None:
    container: Any = getattr(message, field.name)
    if field.message_type is not None and field.message_type.GetOptions().map_entry:
        value_field = field.message_type.fields_by_name["value"]
        for key in ("team", "tier/x"):
            if value_field.message_type is not None:
                fill(container[key], variant, depth + 1)
            else:
                container[key] = scalar(value_field, variant)
        return
    if field.message_type is not None:
        if depth > 4:
            return
        if field.is_repeated:
            for index in range(2):
                fill(container.add(), variant + index, depth + 1)
        else:
            fill(container, variant, depth + 1)
            container.SetInParent()
        return
    if field.is_repeated:
        container.extend([scalar(field, variant), scalar(field, variant + 1)])
    else:
        setattr(message, field.name, scalar(field, variant))


def scalar(field: FieldDescriptor, variant: int) -> Any:
    if field.type == FieldDescriptor.TYPE_ENUM:
        assert field.enum_type is not None
        values = [value.number for value in field.enum_type.values if value.number != 0]
        return values[variant % len(values)]
    if field.type == FieldDescriptor.TYPE_STRING:
        return f"{field.name} ✓ {variant}"
    if field.type == FieldDescriptor.TYPE_BOOL:
        return True
    if field.type == FieldDescriptor.TYPE_BYTES:
        return b"\x00\xff" + bytes([variant])
    if field.type in (FieldDescriptor.TYPE_FLOAT, FieldDescriptor.TYPE_DOUBLE):
        return 1.5 + variant
    if field.type in (FieldDescriptor.TYPE_INT64, FieldDescriptor.TYPE_SINT64, FieldDescriptor.TYPE_SFIXED64):
        return -(2**40) - variant
    if field.type in (FieldDescriptor.TYPE_UINT64, FieldDescriptor.TYPE_FIXED64):
        return 2**63 + variant
    return 7 + variant


def stored(message: Message) -> dict[str, Any]:
    """As the services store a spec or status part."""
    return json_format.MessageToDict(message, preserving_proto_field_name=True)


def parse_dicts(document: Any, message_class: type[Message]) -> tuple[bytes, str]:
    """ParseDict's answer: the message's bytes, or its error."""
    message = message_class()
    try:
        json_format.ParseDict(document, message)
    except json_format.ParseError as error:
        return b"", str(error)
    return message.SerializeToString(deterministic=True), ""


def fast(document: Any, message_class: type[Message]) -> tuple[bytes, str]:
    message = message_class()
    try:
        proto_json.parse_into(document, message)
    except json_format.ParseError as error:
        return b"", str(error)
    return message.SerializeToString(deterministic=True), ""


@pytest.mark.parametrize("descriptor", MESSAGES, ids=lambda descriptor: descriptor.name)
def test_every_message_of_the_contract_parses_and_prints_as_json_format_does(descriptor: Descriptor) -> None:
    for variant in range(VARIANTS):
        message = populated(descriptor, variant)
        document = stored(message)
        parsed = type(message)()
        proto_json.parse_into(document, parsed)
        assert parsed.SerializeToString(deterministic=True) == message.SerializeToString(deterministic=True)
        assert parsed == message
        assert proto_json.message_to_dict(message) == json_format.MessageToDict(message)


def test_a_fully_populated_vm_comes_out_of_its_row_as_it_went_in() -> None:
    for variant in range(VARIANTS):
        vm = populated(vm_pb.VirtualMachine.DESCRIPTOR, variant)
        assert isinstance(vm, vm_pb.VirtualMachine)
        assert vm.spec.HasField("placement") and vm.spec.placement.HasField("affinity")
        assert vm.status.disks[0].pvc_bytes and vm.status.interfaces[0].prefix_length
        status = stored(vm.status)
        row = VirtualMachineRow(
            uid=uuid.uuid4(),
            name="clusters/local/namespaces/default/virtualMachines/web-1",
            cluster="local",
            namespace="default",
            spec=stored(vm.spec),
            status={key: status[key] for key in ("node", "ip_addresses", "interfaces", "disks")}
            | {"live_migration_blockers": status["live_migration_blockers"]},
            state="RUNNING",
            conditions=[stored(condition) for condition in vm.conditions],
            labels=dict(vm.labels),
            annotations=dict(vm.annotations),
            generation=4,
            observed_generation=3,
            etag="e1",
            create_time=datetime(2026, 1, 1, tzinfo=UTC),
            update_time=datetime(2026, 1, 2, tzinfo=UTC),
            delete_time=None,
        )
        converted = to_proto(row)
        assert converted.spec.SerializeToString(deterministic=True) == vm.spec.SerializeToString(deterministic=True)
        for part in ("interfaces", "disks", "ip_addresses", "live_migration_blockers"):
            assert list(getattr(converted.status, part)) == list(getattr(vm.status, part))
        assert proto_json.message_to_dict(converted) == json_format.MessageToDict(converted)


UNUSUAL_SPECS: list[Any] = [
    {},
    {"disks": []},
    {"description": ""},
    {"cpu": {}},
    {"runStrategy": "ALWAYS"},
    {"run_strategy": "NOT_A_STRATEGY"},
    {"run_strategy": 2},
    {"cpu": {"cores": "2"}},
    {"cpu": {"cores": 2.0}},
    {"cpu": {"cores": 2.5}},
    {"cpu": {"cores": True}},
    {"cpu": {"cores": -1}},
    {"cpu": {"cores": 2**40}},
    {"cpu": None},
    {"description": None},
    {"description": 5},
    {"no_such_field": 1},
    {"disks": [{"name": "a", "image": {"url": "u"}, "new_volume": {"size": "1Gi"}}]},
    {"disks": [None]},
    {"disks": {"name": "a"}},
    {"placement": {"tolerations": [{"toleration_seconds": "30"}]}},
    {"placement": {"tolerations": [{"toleration_seconds": 30}]}},
    {"placement": {"tolerations": [{"toleration_seconds": " 30"}]}},
    {"placement": {"affinity": {"a": [1, {"b": None}]}}},
    {"placement": {"affinity": "not an object"}},
    {"placement": {"node_selector": {"zone": "a", "rack": 5}}},
    {"placement": {"node_selector": {"zone": None}}},
    [],
]


@pytest.mark.parametrize("document", UNUSUAL_SPECS, ids=[str(index) for index in range(len(UNUSUAL_SPECS))])
def test_documents_in_any_other_shape_get_parse_dicts_answer(document: Any) -> None:
    assert fast(document, vm_pb.VirtualMachineSpec) == parse_dicts(document, vm_pb.VirtualMachineSpec)
    reference, converted = vm_pb.VirtualMachine(), vm_pb.VirtualMachine()
    try:
        json_format.ParseDict(document, reference.spec)
    except json_format.ParseError:
        with pytest.raises(json_format.ParseError):
            proto_json.parse_field(document, converted, "spec")
        return
    proto_json.parse_field(document, converted, "spec")
    assert converted.HasField("spec") == reference.HasField("spec")
    assert converted.SerializeToString(deterministic=True) == reference.SerializeToString(deterministic=True)


def test_printing_a_message_with_an_unknown_enum_number_answers_as_json_format() -> None:
    spec = vm_pb.VirtualMachineSpec(run_strategy=99)  # type: ignore[arg-type]
    assert proto_json.message_to_dict(spec) == json_format.MessageToDict(spec) == {"runStrategy": 99}
    assert descriptor_pool.Default().FindMessageTypeByName("harrow.v1.VirtualMachineSpec") is spec.DESCRIPTOR


def test_the_variants_give_every_oneof_member_its_turn() -> None:
    assert VARIANTS >= max(len(oneof.fields) for descriptor in MESSAGES for oneof in descriptor.oneofs)


def test_a_stored_spec_is_parsed_without_falling_back_to_json_format(monkeypatch: pytest.MonkeyPatch) -> None:
    vm = populated(vm_pb.VirtualMachine.DESCRIPTOR)
    assert isinstance(vm, vm_pb.VirtualMachine)
    vm.spec.placement.ClearField("affinity")  # a Struct: json_format's own business
    document = stored(vm.spec)

    def refuse(*_: Any, **__: Any) -> None:
        raise AssertionError("fell back to json_format")

    monkeypatch.setattr(json_format, "ParseDict", refuse)
    spec = vm_pb.VirtualMachineSpec()
    proto_json.parse_into(document, spec)
    assert spec == vm.spec
