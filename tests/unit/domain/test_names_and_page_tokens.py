"""Resource names and page tokens: what a user gets back for good and bad input."""

from __future__ import annotations

import pytest

from server.domain import page_token
from server.domain.errors import InvalidArgument
from server.domain.names import VirtualMachineName, check_id, parse_namespace_name, parse_vm_name


def violation(error: pytest.ExceptionInfo[InvalidArgument]) -> tuple[str, str]:
    first = error.value.violations[0]
    return first.field, first.description


def test_a_vm_name_parses_into_its_ids_and_prints_back() -> None:
    name = parse_vm_name("clusters/local/namespaces/default/virtualMachines/web-1")
    assert name == VirtualMachineName("local", "default", "web-1")
    assert str(name) == "clusters/local/namespaces/default/virtualMachines/web-1"


@pytest.mark.parametrize(
    ("value", "words"),
    [
        ("", "required"),
        ("clusters/local/namespaces/default/vms/web-1", "does not match clusters/{cluster}/namespaces"),
        ("clusters/local/namespaces/default/virtualMachines/Web-1", "virtual machine ID"),
        ("clusters/local/namespaces/default/virtualMachines/1web", "virtual machine ID"),
        ("clusters/l_ocal/namespaces/default/virtualMachines/web", "cluster ID"),
    ],
)
def test_bad_vm_names_name_the_field_and_the_problem(value: str, words: str) -> None:
    with pytest.raises(InvalidArgument) as raised:
        parse_vm_name(value, "virtual_machine.name")
    field, description = violation(raised)
    assert field == "virtual_machine.name" and words in description


def test_the_namespace_wildcard_is_only_for_listing() -> None:
    assert parse_namespace_name("clusters/c/namespaces/-", allow_wildcard=True).all_namespaces
    with pytest.raises(InvalidArgument) as raised:
        parse_namespace_name("clusters/c/namespaces/-")
    assert "only allowed when listing" in violation(raised)[1]


def test_ids_longer_than_63_characters_are_refused_with_the_length() -> None:
    with pytest.raises(InvalidArgument) as raised:
        check_id("a" * 64, "virtual_machine_id")
    assert violation(raised)[0] == "virtual_machine_id" and "64" in violation(raised)[1]


def test_page_size_defaults_caps_and_refuses_negative() -> None:
    assert page_token.page_size(0) == 50
    assert page_token.page_size(5000) == 1000
    with pytest.raises(InvalidArgument):
        page_token.page_size(-1)


def test_a_page_token_round_trips_only_for_the_same_query() -> None:
    digest = page_token.query_digest("clusters/c/namespaces/n", 'state = "RUNNING"', "name")
    token = page_token.encode(["vm-9"], digest)
    assert page_token.decode(token, digest) == ["vm-9"]
    assert page_token.decode("", digest) is None
    other = page_token.query_digest("clusters/c/namespaces/n", "", "name")
    with pytest.raises(InvalidArgument) as raised:
        page_token.decode(token, other)
    assert "differ" in violation(raised)[1]
    for garbage in ("garbage", "!!!", token[:-3]):
        with pytest.raises(InvalidArgument) as raised:
            page_token.decode(garbage, digest)
        assert violation(raised)[0] == "page_token"
