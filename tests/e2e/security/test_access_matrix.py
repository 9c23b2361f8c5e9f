"""Every RPC of the contract, for every caller, where it acts, over gRPC and REST, against one Harrow.

The RPCs come from the proto descriptors, so an RPC added to the contract is
in the matrix at once. What each caller may do is written here, in the words
of issue 10, independently of the server's table (server/auth/rules.py):
viewers read, operators run lifecycle actions and allocations and manage
VMs, admins change pools, policies, configs, clusters, principals and
tokens. A namespace binding reaches only its namespace, a cluster binding the
whole cluster, `*` everything. An RPC whose verb or resource this file has no
words for fails the test (`no case`), so a new kind of RPC gets a decision.

Each RPC is called on its own target (the callers' namespace or cluster), on
another (another namespace, another cluster), and, for reads, on a missing
resource next to the other one: a denial must read the same whether the
resource exists or not. Outcomes are exact: UNAUTHENTICATED (401) for no,
garbage, expired and revoked tokens; PERMISSION_DENIED (403) where the role
or binding does not reach; where allowed, the very code the installation
admin gets for the same request (never an auth code). Requests that change
things name missing resources, omit required fields, or cancel an operation
that has already finished, so the matrix leaves the world as it found it.

Every change is on record: each mutation attempt by a known caller leaves
exactly one audit row with its outcome, and so does each denied read and each
read of principals, tokens and audit records; a call with bad credentials
leaves none (no one is known to record it under).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import importlib
import pkgutil
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import asyncpg
import pytest
from google.api import annotations_pb2
from google.longrunning import operations_pb2
from google.protobuf import descriptor_pool, duration_pb2, symbol_database
from google.protobuf.descriptor import MethodDescriptor
from google.protobuf.message import Message
from harrow.v1 import cluster_pb2
from harrow.v1 import ip_pool_pb2 as ip_pb
from harrow.v1 import security_pb2 as sec_pb

from server.config import LimitsConfig
from tests.e2e.builders import create_request
from tests.e2e.clients import ApiError
from tests.e2e.security.conftest import Api, Secured, Start
from tests.e2e.security.world import KUBECONFIG, new_token

# --- what issue 10 says each role may do ----------------------------------------------------------

# Any authenticated caller: these filter what they return, or (storage capabilities) return a public table.
OPEN_TO_EVERY_CALLER = {"GetCallerIdentity", "ListClusters", "ListOperations", "ListStorageCapabilities"}
INSTALLATION_ADMIN = {"principals", "tokens", "auditRecords"}  # admin on `*`, reads included
READS = {"Get", "List", "Watch", "Resolve", "Wait"}
LIFECYCLE = {"Start", "Stop", "Restart", "Pause", "Unpause", "Migrate", "Cancel", "Evacuate", "Adopt"}
ALLOCATIONS = {"Allocate", "SelectAndAllocate", "Release"}
WRITES = {"Create", "Update", "Delete"}
WORKLOADS = {"virtualMachines", "migrations", "virtualMachineBackups", "images"}  # operators create, change, delete
CONFIGURATION = {"clusters", "ipPools", "migrationPolicies", "migrationConfig", "storageProfiles"}  # admins do
VERBS = sorted(READS | LIFECYCLE | ALLOCATIONS | WRITES | {"Revoke"}, key=len, reverse=True)

NONE, VIEWER, OPERATOR, ADMIN = 0, 1, 2, 3


@dataclass(frozen=True)
class Who:
    """A caller as the test understands it: a role and how far its binding reaches."""

    role: int
    reach: str  # "namespace" (local/team), "cluster" (local), "everywhere" (*), "nowhere" (no binding)


CALLERS = {
    "viewer-ns": Who(VIEWER, "namespace"),
    "operator-ns": Who(OPERATOR, "namespace"),
    "admin-ns": Who(ADMIN, "namespace"),
    "viewer-cluster": Who(VIEWER, "cluster"),
    "operator-cluster": Who(OPERATOR, "cluster"),
    "admin-cluster": Who(ADMIN, "cluster"),
    "admin": Who(ADMIN, "everywhere"),  # the bootstrap admin
    "unbound": Who(NONE, "nowhere"),
}
BINDINGS = {"namespace": ("local", "team"), "cluster": ("local", ""), "everywhere": ("*", ""), "nowhere": None}
BAD_CREDENTIALS = ("no token", "garbage token", "expired token", "revoked token")


class NoCase(AssertionError):
    pass


@dataclass(frozen=True)
class Need:
    role: int  # the least role that may call
    anyone: bool = False  # every authenticated caller
    installation: bool = False  # only a binding on every cluster
    member: bool = False  # any role in the named cluster


def need(rpc: Rpc) -> Need:
    if rpc.method in OPEN_TO_EVERY_CALLER:
        return Need(NONE, anyone=True)
    if rpc.collection in INSTALLATION_ADMIN:
        return Need(ADMIN, installation=True)
    if rpc.verb == "Get" and rpc.collection == "clusters":
        return Need(VIEWER, member=True)  # a namespace operator must see its cluster
    if rpc.verb in READS:
        return Need(VIEWER)
    if rpc.verb in LIFECYCLE | ALLOCATIONS:
        return Need(OPERATOR)
    if rpc.verb in WRITES and rpc.collection in WORKLOADS:
        return Need(OPERATOR)
    if rpc.verb in WRITES and rpc.collection in CONFIGURATION:
        return Need(ADMIN)
    raise NoCase(f"no case for {rpc.full}: say in test_access_matrix.py who may call it")


def reaches(who: Who, kind: str, target: str) -> bool:
    """Whether the caller's binding covers the target of an RPC acting at `kind` level."""
    if who.reach == "everywhere":
        return True
    if who.reach == "nowhere" or kind == "installation" or (kind == "operation" and target == "missing"):
        return False  # a missing operation has no scope but the installation's
    if who.reach == "cluster":
        return kind != "cluster" or target == "own"  # other cluster-level targets are in cluster "remote"
    return kind in ("namespace", "operation") and target == "own"


def allowed(who: Who, needed: Need, kind: str, target: str) -> bool:
    if needed.anyone:
        return True
    if needed.installation:
        return who.reach == "everywhere" and who.role >= needed.role
    if needed.member:
        return who.reach == "everywhere" or (who.reach in ("namespace", "cluster") and target == "own")
    return who.role >= needed.role and reaches(who, kind, target)


# --- the contract ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Rpc:
    service: str
    method: str
    descriptor: MethodDescriptor
    field: str | None  # the request field naming where it acts
    pattern: str | None  # that field's path pattern, e.g. clusters/*/ipPools/*
    url: str

    @functools.cached_property
    def full(self) -> str:
        return f"harrow.v1.{self.service}/{self.method}"

    @functools.cached_property
    def verb(self) -> str:
        return next((v for v in VERBS if self.method.startswith(v) and self.method[len(v) : len(v) + 1].isupper()), "")

    @functools.cached_property
    def collection(self) -> str:
        path = self.url.split(":")[0] if self.pattern is None else self.url.replace(self._variable, self.pattern)
        return [s for s in path.split(":")[0].split("/") if s and s != "*" and s != "v1"][-1]

    @property
    def _variable(self) -> str:
        return self.url[self.url.index("{") : self.url.index("}") + 1]

    @functools.cached_property
    def kind(self) -> str:
        if self.pattern is None or self.pattern.startswith("principals/"):
            return "installation"
        if self.pattern.startswith("operations/"):
            return "operation"
        return "namespace" if "/namespaces/" in self.pattern else "cluster"

    @functools.cached_property
    def reads(self) -> bool:
        return self.verb in READS

    @property
    def streaming(self) -> bool:
        return bool(self.descriptor.server_streaming)


def contract() -> list[Rpc]:
    package = importlib.import_module("harrow.v1")
    rpcs: list[Rpc] = []
    for module in sorted(m.name for m in pkgutil.iter_modules(package.__path__) if m.name.endswith("_pb2")):
        file = importlib.import_module(f"harrow.v1.{module}").DESCRIPTOR
        for service in descriptor_pool.Default().FindFileByName(file.name).services_by_name.values():
            for method in service.methods:
                rule = method.GetOptions().Extensions[annotations_pb2.http]
                url = getattr(rule, rule.WhichOneof("pattern"))
                field, pattern = None, None
                if "{" in url:
                    field, _, pattern = url[url.index("{") + 1 : url.index("}")].partition("=")
                rpcs.append(Rpc(service.name, method.name, method, field, pattern or None, url))
    return rpcs


# --- the world the calls act on -------------------------------------------------------------------


@dataclass
class World:
    tokens: dict[str, str | None]
    operations: dict[str, str]  # "own" / "other" → a finished (cancelled) operation on a VM there


EXISTING = {  # (collection, cluster or namespace) → an ID that exists there
    ("virtualMachines", "team"): "web",
    ("virtualMachines", "other"): "db",
    ("ipPools", "local"): "lan",
    ("ipPools", "remote"): "lan",
}
GHOST_IDS = {"operations": str(uuid.UUID(int=1)), "tokens": str(uuid.UUID(int=2)), "allocations": "10.0.0.250"}


def target_name(rpc: Rpc, target: str, world: World) -> str:
    """The pattern filled in for `target`: the callers' place, another, or a missing one next to another."""
    assert rpc.pattern is not None
    parts = rpc.pattern.split("/")
    place = ""
    for index in range(1, len(parts), 2):
        collection, leaf = parts[index - 1], index == len(parts) - 1
        if parts[index] != "*":
            continue
        # Changes act on a missing resource, except where the name is the scope itself (a parent, a cluster),
        # or is a finished operation, which cancelling leaves as it is.
        acts_on_scope = rpc.field == "parent" or collection in ("clusters", "operations")
        ghost = leaf and (target == "missing" or (not rpc.reads and not acts_on_scope))
        if collection == "clusters":
            other_cluster = rpc.kind == "cluster" and target != "own"
            value = "ghost" if ghost else "remote" if other_cluster else "local"
        elif collection == "namespaces":
            value = "ghost" if ghost else "team" if target == "own" else "other"
        elif collection == "operations":
            value = GHOST_IDS["operations"] if ghost else world.operations[target].removeprefix("operations/")
        else:
            existing = EXISTING.get((collection, place))
            value = GHOST_IDS.get(collection, "ghost") if ghost or existing is None else existing
        parts[index] = value
        place = value
    return "/".join(parts)


def build_request(rpc: Rpc, target: str, world: World) -> tuple[Message, str]:
    request = symbol_database.Default().GetSymbol(rpc.descriptor.input_type.full_name)()
    name = ""
    if rpc.field is not None:
        name = target_name(rpc, target, world)
        holder: Any = request
        *path, last = rpc.field.split(".")
        for part in path:
            holder = getattr(holder, part)
        setattr(holder, last, name)
    if not rpc.reads:
        # Belt and braces for changes that name something real: check, do not do; and never on a stale etag.
        holders = [request, *([getattr(request, rpc.field.split(".")[0])] if rpc.field and "." in rpc.field else [])]
        for message in holders:
            for flag, value in (("validate_only", True), ("etag", '"stale"')):
                if flag in message.DESCRIPTOR.fields_by_name:
                    setattr(message, flag, value)
    if "timeout" in request.DESCRIPTOR.fields_by_name:
        request.timeout.CopyFrom(duration_pb2.Duration())  # WaitOperation answers at once
    if "since_revision" in request.DESCRIPTOR.fields_by_name:
        request.since_revision = 2**62  # an admitted Watch answers at once: OUT_OF_RANGE, a revision to come
    return request, name


def targets(rpc: Rpc) -> tuple[str, ...]:
    if rpc.kind == "installation":
        return ("own",)
    # A missing operation has the installation's scope, unlike one that exists: both are worth a case.
    return ("own", "other", "missing") if rpc.reads or rpc.kind == "operation" else ("own", "other")


async def build_world(secure: Secured) -> World:
    started = time.monotonic()
    tokens: dict[str, str | None] = {
        "admin": secure.admin_token,
        "no token": None,
        "garbage token": "harrow_" + "x" * 43,
    }
    operations: dict[str, str] = {}
    async with secure.api("grpc", secure.admin_token) as admin:

        async def principal(principal_id: str, binding: tuple[str, str] | None, role: int) -> None:
            bindings = (
                [] if binding is None else [sec_pb.RoleBinding(role=role, cluster=binding[0], namespace=binding[1])]
            )
            request = sec_pb.CreatePrincipalRequest(
                principal_id=principal_id, principal=sec_pb.Principal(role_bindings=bindings)
            )
            await admin.call("SecurityService", "CreatePrincipal", request)

        await principal("unbound", None, 0)
        tokens["expired token"] = (await new_token(admin, "unbound", ttl_seconds=1)).secret
        for caller, who in CALLERS.items():
            if caller == "admin":
                continue
            if caller != "unbound":
                await principal(caller, BINDINGS[who.reach], who.role)
            tokens[caller] = (await new_token(admin, caller)).secret
        revoked = await new_token(admin, "admin-cluster")
        await admin.call("SecurityService", "RevokeToken", sec_pb.RevokeTokenRequest(name=revoked.token.name))
        tokens["revoked token"] = revoked.secret
        await admin.call(
            "ClusterService",
            "CreateCluster",
            cluster_pb2.CreateClusterRequest(cluster_id="remote", cluster=cluster_pb2.Cluster(kubeconfig=KUBECONFIG)),
        )
        for target, (namespace, vm) in {"own": ("team", "web"), "other": ("other", "db")}.items():
            parent = f"clusters/local/namespaces/{namespace}"
            created = await admin.call(
                "VirtualMachineService", "CreateVirtualMachine", create_request(vm, parent=parent)
            )
            # Finished, so that cancelling it again (the matrix does) changes nothing.
            await admin.call(
                "OperationService", "CancelOperation", operations_pb2.CancelOperationRequest(name=created.name)
            )
            operations[target] = created.name
        pool = ip_pb.IpPool(spec=ip_pb.IpPoolSpec(ranges=[ip_pb.IpRange(subnet="10.0.0.0/24")]))
        for cluster in ("local", "remote"):
            request = ip_pb.CreateIpPoolRequest(parent=f"clusters/{cluster}", ip_pool_id="lan", ip_pool=pool)
            await admin.call("IpPoolService", "CreateIpPool", request)
    await asyncio.sleep(max(0.0, 1.05 - (time.monotonic() - started)))  # the 1 s token has expired
    return World(tokens, operations)


# --- calling --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Outcome:
    code: str
    http_status: int
    message: str


async def call(api: Api, rpc: Rpc, request: Message) -> Outcome:
    try:
        if rpc.streaming:
            stream = api.stream(rpc.service, rpc.method, request)
            try:
                await asyncio.wait_for(anext(stream), 10)
            finally:
                await stream.aclose()
        else:
            await api.call(rpc.service, rpc.method, request)
    except ApiError as error:
        return Outcome(error.code, error.http_status, error.message)
    return Outcome("OK", 200, "")


@dataclass(frozen=True)
class Case:
    transport: str
    caller: str
    rpc: Rpc
    target: str


def cases(transport: str, rpcs: list[Rpc]) -> Iterator[Case]:
    for rpc in rpcs:
        for caller in CALLERS:
            for target in targets(rpc):
                yield Case(transport, caller, rpc, target)
        for caller in BAD_CREDENTIALS:
            yield Case(transport, caller, rpc, targets(rpc)[0])


def test_every_rpc_has_a_case() -> None:
    rpcs = contract()
    assert len(rpcs) >= 55
    problems = []
    for rpc in rpcs:
        try:
            need(rpc)
        except NoCase as missing:
            problems.append(str(missing))
        if not rpc.verb:
            problems.append(f"no verb known for {rpc.full}")
    assert not problems, "\n".join(problems)


async def test_every_rpc_for_every_caller_over_both_transports(start_secure: Start, database_url: str) -> None:
    # Thousands of one-row commits (the audit records of refusals): nothing here needs them on disk.
    connection = await asyncpg.connect(database_url)
    try:
        name = await connection.fetchval("SELECT current_database()")
        await connection.execute(f'ALTER DATABASE "{name}" SET synchronous_commit = off')
    finally:
        await connection.close()
    secure = await start_secure(limits=LimitsConfig(rate_limit_qps=0, max_watches_per_principal=0))
    began = time.monotonic()
    world = await build_world(secure)
    built, cpu = time.monotonic(), time.process_time()
    audited_before = await last_audit_sequence(database_url)
    rpcs = contract()
    outcomes: dict[Case, tuple[Outcome, str]] = {}

    async def run(transport: str) -> None:
        apis: dict[str, Api] = {}
        async with contextlib.AsyncExitStack() as stack:
            for caller, token in world.tokens.items():
                apis[caller] = await stack.enter_async_context(secure.api(transport, token))
            limit = asyncio.Semaphore(8)

            async def one(case: Case) -> None:
                request, name = build_request(case.rpc, case.target, world)
                async with limit:
                    outcomes[case] = (await call(apis[case.caller], case.rpc, request), name)

            # The installation admin's answers first: they are what an allowed caller must get too.
            everything = list(cases(transport, rpcs))
            await asyncio.gather(*(one(c) for c in everything if c.caller == "admin"))
            await asyncio.gather(*(one(c) for c in everything if c.caller != "admin"))

    await asyncio.gather(run("grpc"), run("rest"))
    print(f"world {built - began:.1f}s, calls {time.monotonic() - built:.1f}s ({time.process_time() - cpu:.1f}s CPU)")
    wrong = check(outcomes) + audit_mismatches(outcomes, await audit_rows(database_url, audited_before))
    tally = Counter(outcome.code for outcome, _ in outcomes.values())
    assert not wrong, f"{len(wrong)} of {len(outcomes)} cases wrong:\n" + "\n".join(wrong[:60])
    assert len(outcomes) == 2 * sum((len(CALLERS) * len(targets(r)) + len(BAD_CREDENTIALS)) for r in rpcs)
    print(f"\naccess matrix: {len(outcomes)} cases, {len(rpcs)} RPCs, outcomes {dict(tally)}")


def check(outcomes: dict[Case, tuple[Outcome, str]]) -> list[str]:
    wrong: list[str] = []
    for case, (got, name) in outcomes.items():
        rpc = case.rpc
        label = f"{case.transport:4} {case.caller:16} {rpc.method} {case.target} {name}"
        if case.caller in BAD_CREDENTIALS:
            expected, status = "UNAUTHENTICATED", 401
        elif allowed(CALLERS[case.caller], need(rpc), rpc.kind, case.target):
            reference, _ = outcomes[Case(case.transport, "admin", rpc, case.target)]
            expected, status = reference.code, reference.http_status
            if reference.code in ("UNAUTHENTICATED", "PERMISSION_DENIED", "INTERNAL", "UNKNOWN", "UNIMPLEMENTED"):
                wrong.append(f"{label}: the installation admin got {reference.code} {reference.message[:80]}")
        else:
            expected, status = "PERMISSION_DENIED", 403
        if got.code != expected or (case.transport == "rest" and got.http_status != status):
            wrong.append(f"{label}: expected {expected}/{status}, got {got.code}/{got.http_status} {got.message[:80]}")
        if got.code == "PERMISSION_DENIED" and case.target == "missing" and "other" in targets(rpc):
            # The same refusal, word for word, as for the resource next to it that exists.
            seen, other_name = outcomes[Case(case.transport, case.caller, rpc, "other")]
            if seen.code == got.code and seen.message.replace(other_name, "<name>") != got.message.replace(
                name, "<name>"
            ):
                wrong.append(f"{label}: refusal differs from the existing one's: {seen.message!r} / {got.message!r}")
    for case, (got, _) in outcomes.items():
        if case.caller == "admin" and case.transport == "grpc":
            rest, _ = outcomes[Case("rest", "admin", case.rpc, case.target)]
            if rest.code != got.code:
                wrong.append(f"{case.rpc.method} {case.target}: gRPC says {got.code}, REST says {rest.code}")
    return wrong


AuditKey = tuple[str, str, str]  # principal, method, code


async def last_audit_sequence(database_url: str) -> int:
    connection = await asyncpg.connect(database_url)
    try:
        return int(await connection.fetchval("SELECT coalesce(max(sequence), 0) FROM audit_records"))
    finally:
        await connection.close()


async def audit_rows(database_url: str, after: int) -> Counter[AuditKey]:
    connection = await asyncpg.connect(database_url)
    try:
        rows = await connection.fetch("SELECT principal, method, code FROM audit_records WHERE sequence > $1", after)
    finally:
        await connection.close()
    return Counter((row["principal"], row["method"], row["code"]) for row in rows)


def on_record(case: Case, got: Outcome) -> bool:
    """Whether a call leaves an audit row: every mutation attempt by a known caller, every denied call, and
    every read of who may do what (principals, tokens, the audit log itself). Bad credentials leave none:
    they are refused before anyone is known to record them under."""
    if case.caller in BAD_CREDENTIALS:
        return False
    return not case.rpc.reads or got.code == "PERMISSION_DENIED" or case.rpc.collection in INSTALLATION_ADMIN


def audit_mismatches(outcomes: dict[Case, tuple[Outcome, str]], recorded: Counter[AuditKey]) -> list[str]:
    """Where the audit log disagrees with what the callers saw: exactly one row, with the code the caller got,
    for each call `on_record`, and no other."""
    expected: Counter[AuditKey] = Counter()
    for case, (got, _) in outcomes.items():
        if on_record(case, got):
            expected[(f"principals/{case.caller}", case.rpc.full, got.code)] += 1
    return [
        f"audit: {recorded[key]} rows for {expected[key]} calls of {key[1]} by {key[0]} ending {key[2]}"
        for key in sorted(expected.keys() | recorded.keys())
        if recorded[key] != expected[key]
    ]


@pytest.mark.parametrize("rpc", ["harrow.v1.ClusterService/GetCluster", "harrow.v1.IpPoolService/AllocateIpAddress"])
def test_the_matrix_states_semantics_independently_of_the_server_table(rpc: str) -> None:
    """A spot check of the test's own words against a reading of issue 10, so a typo here cannot hide."""
    found = {r.full: r for r in contract()}[rpc]
    needed = need(found)
    if found.method == "GetCluster":
        assert needed.member and allowed(CALLERS["viewer-ns"], needed, found.kind, "own")
        assert not allowed(CALLERS["viewer-ns"], needed, found.kind, "other")
    else:
        assert needed.role == OPERATOR and found.kind == "cluster"
        assert not allowed(CALLERS["operator-ns"], needed, found.kind, "own")
        assert allowed(CALLERS["operator-cluster"], needed, found.kind, "own")
        assert not allowed(CALLERS["operator-cluster"], needed, found.kind, "other")
