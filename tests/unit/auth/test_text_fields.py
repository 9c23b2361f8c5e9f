"""NUL characters are found in every kind of string field and named by path; clean requests cost one serialization."""

from __future__ import annotations

from harrow.v1 import security_pb2, virtual_machine_pb2

from server.auth.text_fields import nul_violations
from tests.e2e.builders import create_request


def test_nul_in_ids_map_keys_map_values_and_repeated_fields_is_named() -> None:
    request = create_request("web\x00")
    request.virtual_machine.annotations["note"] = "a\x00b"
    request.virtual_machine.labels["k\x00"] = "v"
    principal = security_pb2.Principal(certificate_subjects=["CN=a", "CN=\x00"])
    found = [v.field for v in nul_violations(request)] + [v.field for v in nul_violations(principal)]
    assert found == [
        "virtual_machine_id",
        'virtual_machine.labels["k\\u0000"]',
        'virtual_machine.annotations["note"]',
        "certificate_subjects[1]",
    ]


def test_requests_without_nul_have_no_violations() -> None:
    assert nul_violations(create_request("web")) == []
    assert nul_violations(virtual_machine_pb2.ListVirtualMachinesRequest(filter='name = "x\'; DROP TABLE t; --"')) == []
