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

from tests.e2e.builders import create_request
from tests.e2e.clients import ApiError, GrpcApi, RestApi
from tests.e2e.conftest import Running

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


async def attempt(api: GrpcApi | RestApi, method: str, request: Message, service: str = VM) -> Outcome:
    try:
        await api.call(service, method, request)
    except ApiError as error:
        return Outcome(error.code, error.violations, error.http_status)
    except json.JSONDecodeError:
        return Outcome("HTTP", {}, 400)  # the HTTP server refused the request line before Harrow saw it
    return Outcome("OK", {}, 200)


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
        return True
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
                # Data that matches nothing, or (too long, or an escape the grammar lacks) refused.
                legal = len(text) <= 2000 and "\x00" not in text
                expect(
                    literal.code == "OK" if legal else refused(literal, t, "filter"), f"{t} {field} = {label}", literal
                )

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
