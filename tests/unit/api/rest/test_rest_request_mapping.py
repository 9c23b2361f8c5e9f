from __future__ import annotations

import pytest
from google.protobuf import json_format
from harrow.v1 import virtual_machine_pb2 as vm
from multidict import MultiDict

from server.api.rest.request_mapping import RequestBinding, violation_from_parse_error
from server.domain.errors import FieldViolation, InvalidArgument

VM = "clusters/c/namespaces/n/virtualMachines/v"
NO_QUERY: MultiDict[str] = MultiDict()


def violations(excinfo: pytest.ExceptionInfo[InvalidArgument]) -> list[FieldViolation]:
    return excinfo.value.violations


def test_query_parameters_in_either_spelling_with_types_converted() -> None:
    binding = RequestBinding(vm.DeleteVirtualMachineRequest, [("name",)], "")

    request = binding.build(
        [VM],
        MultiDict([("allowMissing", "true"), ("validate_only", "1"), ("request_id", "r1"), ("etag", '"e"')]),
        b"",
    )

    assert request == vm.DeleteVirtualMachineRequest(
        name=VM, allow_missing=True, validate_only=True, request_id="r1", etag='"e"'
    )


def test_ints_enums_and_repeated_nested_query_parameters() -> None:
    binding = RequestBinding(vm.VirtualMachineStatus, [], "")

    request = binding.build(
        [],
        MultiDict([("allowedActions", "START"), ("allowed_actions", "2"), ("ipAddresses", "10.0.0.1")]),
        b"",
    )

    assert list(request.allowed_actions) == [vm.VirtualMachineStatus.START, vm.VirtualMachineStatus.STOP]
    assert list(request.ip_addresses) == ["10.0.0.1"]

    nested = RequestBinding(vm.VirtualMachine, [], "")
    message = nested.build([], MultiDict([("spec.cpu.cores", "4"), ("spec.runStrategy", "HALTED")]), b"")
    assert message.spec.cpu.cores == 4
    assert message.spec.run_strategy == vm.VirtualMachineSpec.HALTED


def test_field_mask_accepts_camel_and_snake_paths() -> None:
    binding = RequestBinding(vm.UpdateVirtualMachineRequest, [("virtual_machine", "name")], "virtual_machine")

    request = binding.build([VM], MultiDict([("updateMask", "spec.runStrategy,spec.reserved_memory,labels")]), b"{}")

    assert list(request.update_mask.paths) == ["spec.run_strategy", "spec.reserved_memory", "labels"]
    assert request.virtual_machine.name == VM


def test_body_field_and_path_variable_path_wins() -> None:
    binding = RequestBinding(vm.UpdateVirtualMachineRequest, [("virtual_machine", "name")], "virtual_machine")

    request = binding.build([VM], NO_QUERY, b'{"name": "other", "spec": {"memory": "8Gi"}}')

    assert request.virtual_machine.name == VM
    assert request.virtual_machine.spec.memory == "8Gi"


def test_body_star_takes_every_field_and_refuses_query_parameters() -> None:
    binding = RequestBinding(vm.StartVirtualMachineRequest, [("name",)], "*")

    assert binding.build([VM], NO_QUERY, b'{"etag": "e", "requestId": "r"}') == vm.StartVirtualMachineRequest(
        name=VM, etag="e", request_id="r"
    )
    with pytest.raises(InvalidArgument) as excinfo:
        binding.build([VM], MultiDict([("etag", "e")]), b"")
    assert violations(excinfo)[0].field == "etag"


@pytest.mark.parametrize(
    ("query", "field", "description"),
    [
        ([("nope", "1")], "nope", "unknown query parameter"),
        ([("page_size", "ten")], "page_size", "invalid literal for int() with base 10: 'ten'"),
        ([("pageSize", "1"), ("page_size", "2")], "page_size", "given more than once"),
        ([("parent", "x")], "parent", "is set by the URL path"),
    ],
)
def test_bad_query_parameters_name_the_field(query: list[tuple[str, str]], field: str, description: str) -> None:
    binding = RequestBinding(vm.ListVirtualMachinesRequest, [("parent",)], "")

    with pytest.raises(InvalidArgument) as excinfo:
        binding.build(["clusters/c/namespaces/n"], MultiDict(query), b"")

    assert violations(excinfo) == [FieldViolation(field, description)]


def test_all_unknown_query_parameters_are_reported_together() -> None:
    binding = RequestBinding(vm.ListVirtualMachinesRequest, [("parent",)], "")

    with pytest.raises(InvalidArgument) as excinfo:
        binding.build(["p"], MultiDict([("a", "1"), ("b.c", "2"), ("validateOnly", "true")]), b"")

    assert [v.field for v in violations(excinfo)] == ["a", "b.c", "validateOnly"]
    assert excinfo.value.message == "a: unknown query parameter (and 2 more)"


def test_bools_must_be_true_or_false() -> None:
    binding = RequestBinding(vm.DeleteVirtualMachineRequest, [("name",)], "")

    with pytest.raises(InvalidArgument) as excinfo:
        binding.build([VM], MultiDict([("allowMissing", "yes")]), b"")

    assert violations(excinfo) == [FieldViolation("allow_missing", 'expected "true" or "false", got \'yes\'')]


def test_maps_and_repeated_messages_are_not_query_parameters() -> None:
    binding = RequestBinding(vm.VirtualMachine, [], "")

    for key in ("labels", "spec.disks", "conditions.type"):
        with pytest.raises(InvalidArgument) as excinfo:
            binding.build([], MultiDict([(key, "x")]), b"")
        assert violations(excinfo)[0].field == key


@pytest.mark.parametrize(
    ("body", "field", "description"),
    [
        (b'{"spec": {"cpu": {"cores": "x"}}}', "virtual_machine.spec.cpu.cores", None),
        (b'{"spec": {"foo": 1}}', "virtual_machine.spec.foo", "unknown field"),
        (
            b'{"spec": {"runStrategy": "NOPE"}}',
            "virtual_machine.spec.run_strategy",
            "Invalid enum value NOPE for enum type harrow.v1.VirtualMachineSpec.RunStrategy",
        ),
        (b'{"createTime": "yesterday"}', "virtual_machine.create_time", None),
        (b'{"spec": {"disks": [{"image": {}, "newVolume": {}}]}}', "virtual_machine.spec.disks[0]", None),
    ],
)
def test_body_errors_name_the_field_by_its_proto_path(body: bytes, field: str, description: str | None) -> None:
    binding = RequestBinding(vm.CreateVirtualMachineRequest, [("parent",)], "virtual_machine")

    with pytest.raises(InvalidArgument) as excinfo:
        binding.build(["p"], NO_QUERY, body)

    [violation] = violations(excinfo)
    assert violation.field == field
    if description is not None:
        assert violation.description == description
    assert excinfo.value.message.startswith(field + ": ")


def test_malformed_json_and_non_object_bodies() -> None:
    binding = RequestBinding(vm.StartVirtualMachineRequest, [("name",)], "*")

    with pytest.raises(InvalidArgument, match="not valid JSON"):
        binding.build([VM], NO_QUERY, b'{"etag": ')
    with pytest.raises(InvalidArgument, match="must be a JSON object"):
        binding.build([VM], NO_QUERY, b"[1, 2]")


def test_parse_error_without_location_falls_back_to_the_field_chain() -> None:
    with pytest.raises(json_format.ParseError) as excinfo:
        json_format.ParseDict({"virtualMachine": {"labels": {"a": 1}}}, vm.CreateVirtualMachineRequest())

    violation = violation_from_parse_error(excinfo.value, vm.CreateVirtualMachineRequest.DESCRIPTOR)

    assert violation.field == "virtual_machine.labels"


def test_rejects_bindings_the_contract_could_not_mean() -> None:
    with pytest.raises(ValueError, match="not a field"):
        RequestBinding(vm.GetVirtualMachineRequest, [("nope",)], "")
    with pytest.raises(ValueError, match="string field"):
        RequestBinding(vm.ListVirtualMachinesRequest, [("page_size",)], "")
    with pytest.raises(ValueError, match="body field"):
        RequestBinding(vm.GetVirtualMachineRequest, [("name",)], "nope")
