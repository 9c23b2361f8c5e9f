from __future__ import annotations

import pytest

from server.api.rest.path_template import PathTemplate, Variable


def test_parses_variables_literals_and_verb() -> None:
    template = PathTemplate.parse("/v1/{name=clusters/*/namespaces/*/virtualMachines/*}:start")

    assert template.segments == (
        "v1",
        Variable(("name",), ("clusters", "*", "namespaces", "*", "virtualMachines", "*")),
    )
    assert template.verb == "start"


def test_matches_a_resource_name_and_a_custom_verb() -> None:
    template = PathTemplate.parse("/v1/{name=clusters/*/namespaces/*/virtualMachines/*}:start")

    assert template.match("/v1/clusters/c/namespaces/n/virtualMachines/vm1:start") == (
        "clusters/c/namespaces/n/virtualMachines/vm1",
    )
    assert template.match("/v1/clusters/c/namespaces/n/virtualMachines/vm1") is None
    assert template.match("/v1/clusters/c/namespaces/n/virtualMachines/vm1:stop") is None
    assert template.match("/v1/clusters/c/namespaces/n/virtualMachines/a/b:start") is None


def test_collection_verb_is_not_taken_for_a_resource_id() -> None:
    watch = PathTemplate.parse("/v1/{parent=clusters/*/namespaces/*}/virtualMachines:watch")
    get = PathTemplate.parse("/v1/{name=clusters/*/namespaces/*/virtualMachines/*}")

    assert watch.match("/v1/clusters/c/namespaces/n/virtualMachines:watch") == ("clusters/c/namespaces/n",)
    assert get.match("/v1/clusters/c/namespaces/n/virtualMachines:watch") is None


def test_nested_field_path_and_short_variable() -> None:
    template = PathTemplate.parse("/v1/{virtual_machine.name=clusters/*/namespaces/*/virtualMachines/*}/{etag}")

    assert [v.field_path for v in template.variables] == [("virtual_machine", "name"), ("etag",)]
    assert template.match("/v1/clusters/c/namespaces/n/virtualMachines/v/e1") == (
        "clusters/c/namespaces/n/virtualMachines/v",
        "e1",
    )


def test_double_star_spans_segments_and_bare_wildcards_are_not_captured() -> None:
    template = PathTemplate.parse("/v1/*/files/{path=**}")

    assert template.match("/v1/anything/files/a/b/c") == ("a/b/c",)
    assert template.match("/v1/anything/files") is None


def test_values_are_percent_decoded_after_matching() -> None:
    template = PathTemplate.parse("/v1/{name=operations/*}")

    assert template.match("/v1/operations/a%2Fb") == ("operations/a/b",)
    assert template.match("/v1/operations/a%20b") == ("operations/a b",)


@pytest.mark.parametrize(
    "bad",
    [
        "v1/clusters",
        "/v1/{name=clusters/*",
        "/v1//clusters",
        "/v1/{na-me}",
        "/v1/{name}/{name}",
        "/v1/x{name}",
        "/v1/{name=a/{b}}",
        "/v1/{name}:",
    ],
)
def test_rejects_malformed_templates(bad: str) -> None:
    with pytest.raises(ValueError):
        PathTemplate.parse(bad)
