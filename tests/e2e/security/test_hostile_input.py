"""SQL-looking, oversized and odd inputs in names, filters, labels and annotations, over gRPC and REST.

Each input is either refused with INVALID_ARGUMENT (HTTP 400) naming the
field, or, where it is legal, treated as data: stored and returned byte for
byte, or matched literally. Never executed: after every call the tables are
all still there, the canary VM is unchanged and no row appeared that the
call did not legitimately make.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass

import aiohttp
import asyncpg
import grpc
import pytest
from google.protobuf.message import Message
from harrow.v1 import security_pb2 as sec_pb
from harrow.v1 import virtual_machine_pb2 as vm_pb

from tests.e2e.builders import create_request, vm_name
from tests.e2e.clients import ApiError, GrpcApi, RestApi
from tests.e2e.conftest import Running
from tests.e2e.test_scale_and_outage import copy_vm

NS = "clusters/local/namespaces/default"
VM = "VirtualMachineService"
DROP = "x'; DROP TABLE virtual_machines; --"
OR_TRUE = '" OR 1=1 --'
HOSTILE = {
    "drop table": DROP,
    "or true": OR_TRUE,
    "quote or quote": "x' OR '1'='1",
    "like wildcards": "%_%",
    "backslash": "a\\'b",
    "unicode": "名前-ünï-😀",
    "right-to-left override": "abc\u202edef",
    "nul byte": "a\x00b",
    "1 MB": "a" * 1_000_000,
}
TABLES = ("virtual_machines", "operations", "ip_pools", "principals", "api_tokens", "audit_records", "clusters")


def annotated(vm_id: str, annotations: dict[str, str]) -> vm_pb.CreateVirtualMachineRequest:
    request = create_request(vm_id, parent=NS)
    request.virtual_machine.annotations.update(annotations)
    return request


@dataclass
class Outcome:
    code: str
    violations: dict[str, str]
    http_status: int
    response: Message | None = None
    body: str = ""


async def attempt(api: GrpcApi | RestApi, method: str, request: Message, service: str = VM) -> Outcome:
    try:
        response = await api.call(service, method, request)
    except ApiError as error:
        return Outcome(error.code, error.violations, error.http_status)
    except json.JSONDecodeError:
        # Not Harrow's JSON: the HTTP server refused the request before Harrow saw it. Send it again to see how.
        assert isinstance(api, RestApi)
        verb, url, query, payload = api._request(service, method, request)
        async with api._session.request(verb, url, params=query, json=payload) as reply:
            return Outcome("HTTP", {}, reply.status, body=await reply.text())
    return Outcome("OK", {}, 200, response)


@pytest.fixture
async def apis(harrow: Running) -> AsyncIterator[list[GrpcApi | RestApi]]:
    options = [("grpc.max_send_message_length", 64 << 20), ("grpc.max_receive_message_length", 64 << 20)]
    async with grpc.aio.insecure_channel(harrow.endpoints.grpc, options=options) as channel:
        async with aiohttp.ClientSession() as session:
            yield [GrpcApi(channel), RestApi(session, harrow.endpoints.rest)]


async def intact(database_url: str, vms: int) -> list[str]:
    """What is wrong with the database after the hostile calls: missing tables, unexpected VMs, a changed canary."""
    connection = await asyncpg.connect(database_url)
    try:
        missing = [t for t in TABLES if await connection.fetchval("SELECT to_regclass($1)", t) is None]
        names = [r["name"] for r in await connection.fetch("SELECT name FROM virtual_machines ORDER BY name")]
        canary = await connection.fetchval(
            "SELECT labels FROM virtual_machines WHERE name = $1", f"{NS}/virtualMachines/canary"
        )
    finally:
        await connection.close()
    problems = [f"table {t} is gone" for t in missing]
    if len(names) != vms:
        problems.append(f"{len(names)} VMs, expected {vms}: {names}")
    if canary is None or json.loads(canary) != {"app": "canary"}:
        problems.append(f"the canary changed: {canary}")
    return problems


def refused(outcome: Outcome, transport: str, field: str) -> bool:
    """INVALID_ARGUMENT naming `field` (REST: 400); a request line too long for HTTP is a plain 400."""
    if transport == "rest" and outcome.code == "HTTP":
        return outcome.http_status == 400
    return (
        outcome.code == "INVALID_ARGUMENT"
        and any(f == field or f.startswith(field + "[") for f in outcome.violations)
        and outcome.http_status in (0, 400)
    )


async def test_hostile_names_filters_and_labels_are_refused_or_data(
    harrow: Running, apis: list[GrpcApi | RestApi]
) -> None:
    await apis[0].call(VM, "CreateVirtualMachine", create_request("canary", parent=NS, labels={"app": "canary"}))
    wrong: list[str] = []
    vms = 1

    def expect(ok: bool, what: str, outcome: Outcome) -> None:
        if not ok:
            wrong.append(f"{what}: got {outcome}")

    for api in apis:
        t = api.transport
        for label, text in HOSTILE.items():
            created = await attempt(api, "CreateVirtualMachine", create_request(text, parent=NS))
            expect(refused(created, t, "virtual_machine_id"), f"{t} VM ID {label}", created)
            got = await attempt(
                api, "GetVirtualMachine", vm_pb.GetVirtualMachineRequest(name=f"{NS}/virtualMachines/{text}")
            )
            expect(refused(got, t, "name"), f"{t} VM name {label}", got)

            whole = await attempt(api, "ListVirtualMachines", vm_pb.ListVirtualMachinesRequest(parent=NS, filter=text))
            expect(refused(whole, t, "filter"), f"{t} filter {label}", whole)
            quoted = json.dumps(text, ensure_ascii=False)  # NUL is written \u0000, which the grammar refuses
            for field in ("name", "labels.app"):
                request = vm_pb.ListVirtualMachinesRequest(parent=NS, filter=f"{field} = {quoted}")
                literal = await attempt(api, "ListVirtualMachines", request)
                # Data that matches nothing (no VM has that name or label), or (too long, or an escape the
                # grammar lacks) refused.
                legal = len(text) <= 2000 and "\x00" not in text
                matched_nothing = literal.code == "OK" and not literal.response.virtual_machines  # type: ignore[union-attr]
                expect(matched_nothing if legal else refused(literal, t, "filter"), f"{t} {field} = {label}", literal)

            labelled = create_request(f"l-{t}", parent=NS, labels={"app": text}, validate_only=True)
            outcome = await attempt(api, "CreateVirtualMachine", labelled)
            expect(refused(outcome, t, "virtual_machine.labels"), f"{t} label value {label}", outcome)
            keyed = create_request(f"k-{t}", parent=NS, labels={text: "v"}, validate_only=True)
            outcome = await attempt(api, "CreateVirtualMachine", keyed)
            expect(refused(outcome, t, "virtual_machine.labels"), f"{t} label key {label}", outcome)
            principal = sec_pb.CreatePrincipalRequest(principal_id=text, principal=sec_pb.Principal())
            outcome = await attempt(api, "CreatePrincipal", principal, "SecurityService")
            expect(refused(outcome, t, "principal_id"), f"{t} principal ID {label}", outcome)
            audit = sec_pb.ListAuditRecordsRequest(filter=f"resource = {quoted}")
            outcome = await attempt(api, "ListAuditRecords", audit, "SecurityService")
            expect(outcome.code == "OK" or refused(outcome, t, "filter"), f"{t} audit filter {label}", outcome)

        deep = "(" * 40 + 'name = "a"' + ")" * 40
        for text in (deep, " AND ".join(['name = "a"'] * 150), "(" * 10_000):
            outcome = await attempt(
                api, "ListVirtualMachines", vm_pb.ListVirtualMachinesRequest(parent=NS, filter=text)
            )
            expect(refused(outcome, t, "filter"), f"{t} deep filter {text[:20]}…", outcome)

        # Kubernetes limits labels one by one, not their number: 10k valid ones are data and come back whole.
        many = {f"k{i}": "v" for i in range(10_000)}
        outcome = await attempt(api, "CreateVirtualMachine", create_request(f"many-{t}", parent=NS, labels=many))
        expect(outcome.code == "OK", f"{t} 10k labels", outcome)
        if outcome.code == "OK":
            vms += 1
            vm = await api.call(
                VM, "GetVirtualMachine", vm_pb.GetVirtualMachineRequest(name=f"{NS}/virtualMachines/many-{t}")
            )
            if dict(vm.labels) != many:
                wrong.append(f"{t} 10k labels did not round-trip ({len(vm.labels)} came back)")
        bad_many = {f"-k{i}": "v" for i in range(10_000)}
        outcome = await attempt(api, "CreateVirtualMachine", create_request(f"badmany-{t}", parent=NS, labels=bad_many))
        expect(
            refused(outcome, t, "virtual_machine.labels") and len(outcome.violations) <= 100,
            f"{t} 10k bad labels",
            outcome,
        )

        # Annotations take any text: SQL, quotes and unicode come back exactly as sent.
        notes = {
            f"note-{i}": text for i, text in enumerate(v for v in HOSTILE.values() if len(v) < 1000 and "\x00" not in v)
        }
        stored = await attempt(api, "CreateVirtualMachine", annotated(f"notes-{t}", notes))
        expect(stored.code == "OK", f"{t} annotations with SQL and unicode", stored)
        if stored.code == "OK":
            vms += 1
            vm = await api.call(
                VM, "GetVirtualMachine", vm_pb.GetVirtualMachineRequest(name=f"{NS}/virtualMachines/notes-{t}")
            )
            if dict(vm.annotations) != notes:
                wrong.append(f"{t} annotations did not round-trip: {dict(vm.annotations)}")
        nul = await attempt(api, "CreateVirtualMachine", annotated(f"nul-{t}", {"n": "a\x00b"}))
        expect(refused(nul, t, "virtual_machine.annotations"), f"{t} NUL in an annotation", nul)
        huge = await attempt(api, "CreateVirtualMachine", annotated(f"huge-{t}", {"n": "a" * 1_000_000}))
        expect(refused(huge, t, "virtual_machine.annotations"), f"{t} 1 MB annotation", huge)
        wrong.extend(await intact(harrow.database_url, vms))
    assert not wrong, "\n".join(wrong)


async def test_a_message_over_4_mib_is_refused_whole_and_a_page_holds_at_most_1000(
    harrow: Running, apis: list[GrpcApi | RestApi]
) -> None:
    """gRPC refuses a request over MAX_MESSAGE_BYTES (4 MiB) as RESOURCE_EXHAUSTED, REST a body over 4 MiB as 413,
    before Harrow reads it: no VM, no operation, not even an audit record. A page is at most 1000 long, whatever
    page_size asks for, and says where the rest is."""
    five_mib = "a" * (5 << 20)  # as an annotation: the client's own limit is raised to 64 MiB for this
    for api in apis:
        outcome = await attempt(api, "CreateVirtualMachine", annotated(f"big-{api.transport}", {"n": five_mib}))
        assert (outcome.code, outcome.http_status) == (
            ("RESOURCE_EXHAUSTED", 0) if api.transport == "grpc" else ("RESOURCE_EXHAUSTED", 413)
        )
    connection = await asyncpg.connect(harrow.database_url)
    try:
        written = [
            await connection.fetchval(f"SELECT count(*) FROM {table}")
            for table in ("virtual_machines", "operations", "audit_records")
        ]
    finally:
        await connection.close()
    assert written == [0, 0, 0]

    await apis[0].call(VM, "CreateVirtualMachine", create_request("vm-0000", parent=NS))
    await copy_vm(harrow.database_url, vm_name("vm-0000", NS), [f"vm-{i:04d}" for i in range(1, 1001)])
    for api in apis:
        first = await api.call(VM, "ListVirtualMachines", vm_pb.ListVirtualMachinesRequest(parent=NS, page_size=5000))
        assert len(first.virtual_machines) == 1000 and first.next_page_token
        rest = await api.call(
            VM,
            "ListVirtualMachines",
            vm_pb.ListVirtualMachinesRequest(parent=NS, page_size=5000, page_token=first.next_page_token),
        )
        assert [vm.name for vm in rest.virtual_machines] == [vm_name("vm-1000", NS)] and not rest.next_page_token
