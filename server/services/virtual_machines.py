"""VirtualMachine: intent in, Operation out (DESIGN §2, §4).

Every mutation is one transaction: the intent row (generation + 1, new
etag), an operation row and a change row, plus the request_id's answer.
The operation is done when the reconciler reports that the cluster shows
the target generation. Spec is stored exactly as written and echoed back;
what the cluster shows goes to state, status and conditions. NICs that name
an `ip_pool` get their address in the same transaction (issue 5), so an
exhausted pool leaves nothing behind; the reconciler releases it on purge.
"""

from __future__ import annotations

import uuid
from collections import OrderedDict
from collections.abc import AsyncIterator, Callable
from datetime import datetime
from typing import Any

from google.longrunning import operations_pb2
from google.protobuf import empty_pb2, field_mask_pb2, json_format
from google.protobuf.message import Message
from harrow.v1 import common_pb2
from harrow.v1 import virtual_machine_pb2 as vm_pb
from sqlalchemy import null
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from server.domain import page_token, vm_state
from server.domain.errors import AlreadyExists, FailedPrecondition, FieldViolation, InvalidArgument, NotFound
from server.domain.filter_match import evaluate
from server.domain.filtering import Expr, FieldKind, check_fields, parse_filter
from server.domain.names import NamespaceName, VirtualMachineName, check_id, parse_namespace_name, parse_vm_name
from server.services import backups, common, intent, ip_pools, proto_json, storage_checks
from server.services.vm_validation import disk_change_violations, vm_violations
from storage.changefeed import Bookmark, Change, ChangeFeed
from storage.db import Database
from storage.filters import Column, to_sql
from storage.models import ChangeRow, IpPoolRow, VirtualMachineRow
from storage.repos import changes, resources

KIND = "VirtualMachine"
# Changes whose VirtualMachine message is kept for the watchers still behind them.
PARSED_CHANGES = 4096
# A row whose spec the reconciler has yet to read from the cluster VM it adopts (AdoptVirtualMachine).
ADOPTING = "harrow.io/adopting"
SEQUENCE_BATCH = 1000
_VM = vm_pb.VirtualMachine
_WRITABLE = ("labels", "annotations", "spec")
_ORDERS = {"name": "name", "create_time": "create_time"}
_STATES = tuple(name for name in _VM.State.keys() if name != "STATE_UNSPECIFIED")
_RUN_STRATEGIES = tuple(
    name for name in vm_pb.VirtualMachineSpec.RunStrategy.keys() if name != "RUN_STRATEGY_UNSPECIFIED"
)

FILTER_FIELDS: dict[str, FieldKind] = {
    "name": FieldKind.string(),
    "uid": FieldKind.string(),
    "state": FieldKind.enum(_STATES),
    "create_time": FieldKind.timestamp(),
    "update_time": FieldKind.timestamp(),
    "labels": FieldKind.label_map(),
    "spec.run_strategy": FieldKind.enum(_RUN_STRATEGIES),
    "spec.description": FieldKind.string(),
    "status.node": FieldKind.string(),
}
_FILTER_COLUMNS: dict[str, Column] = {
    "name": Column(VirtualMachineRow.name),
    "uid": Column(VirtualMachineRow.uid, cast_text=True),
    "state": Column(VirtualMachineRow.state),
    "create_time": Column(VirtualMachineRow.create_time),
    "update_time": Column(VirtualMachineRow.update_time),
    "labels": Column(VirtualMachineRow.labels),
    "spec.run_strategy": Column(VirtualMachineRow.spec, json_path=("run_strategy",)),
    "spec.description": Column(VirtualMachineRow.spec, json_path=("description",)),
    "status.node": Column(VirtualMachineRow.status, json_path=("node",)),
}


def to_proto(row: VirtualMachineRow) -> vm_pb.VirtualMachine:
    vm = _VM(state=_VM.State.Value(row.state))
    common.fill_resource_fields(vm, row)
    proto_json.parse_field(row.spec, vm, "spec")
    status = vm.status
    status.node = row.status.get("node", "")
    status.ip_addresses.extend(row.status.get("ip_addresses", []))
    for interface in row.status.get("interfaces", []):
        proto_json.parse_into(interface, status.interfaces.add())
    for disk in row.status.get("disks", []):
        proto_json.parse_into(disk, status.disks.add())
    status.live_migration_blockers.extend(row.status.get("live_migration_blockers", []))
    if row.delete_time is None:
        run_strategy = row.spec.get("run_strategy", "HALTED")
        for action in vm_state.allowed_actions(row.state, run_strategy):
            status.allowed_actions.append(vm_pb.VirtualMachineStatus.Action.Value(action))
    return vm


VM_KIND = intent.Kind[VirtualMachineRow](
    name=KIND, to_proto=to_proto, parent_of=lambda row: f"clusters/{row.cluster}/namespaces/{row.namespace}"
)


def nic_owner(vm_name: str, nic: str) -> str:
    """The owner of a NIC's pool address: stable across delete and re-create, so the address is sticky."""
    return f"{vm_name}/interfaces/{nic}"


def _spec_json(spec: vm_pb.VirtualMachineSpec) -> dict[str, Any]:
    return json_format.MessageToDict(spec, preserving_proto_field_name=True)


def _order(order_by: str) -> tuple[str, bool]:
    words = order_by.split()
    if not words:
        return "name", False
    descending = len(words) == 2 and words[1].lower() == "desc"
    if words[0] not in _ORDERS or len(words) > 2 or (len(words) == 2 and not descending):
        raise InvalidArgument.for_field(
            "order_by", f'"{order_by}" is not supported; use name or create_time, optionally followed by " desc"'
        )
    return _ORDERS[words[0]], descending


class VirtualMachineService:
    def __init__(self, db: Database, feed: ChangeFeed, *, bookmark_seconds: float = 10.0):
        self._db = db
        self._feed = feed
        self._bookmark_seconds = bookmark_seconds
        self._parsed: OrderedDict[int, vm_pb.VirtualMachine] = OrderedDict()

    async def get(self, request: vm_pb.GetVirtualMachineRequest) -> vm_pb.VirtualMachine:
        name = parse_vm_name(request.name)
        row = await resources.read_live(self._db, VirtualMachineRow, str(name))
        if row is None:
            raise _not_found(name)
        return to_proto(row)

    async def list(
        self, request: vm_pb.ListVirtualMachinesRequest, *, namespaces: frozenset[str] | None = None
    ) -> vm_pb.ListVirtualMachinesResponse:
        """`namespaces`, when given, are the only namespaces the caller may see."""
        parent = parse_namespace_name(request.parent, allow_wildcard=True)
        size = page_token.page_size(request.page_size)
        order_column, descending = _order(request.order_by)
        digest = page_token.query_digest(str(parent), request.filter, request.order_by)
        after = page_token.decode(request.page_token, digest)
        if after is not None and order_column == "create_time":
            after = [datetime.fromisoformat(after[0]), after[1]]
        expr = parse_filter(request.filter)
        where = [VirtualMachineRow.cluster == parent.cluster]
        if not parent.all_namespaces:
            where.append(VirtualMachineRow.namespace == parent.namespace)
        if namespaces is not None:
            where.append(VirtualMachineRow.namespace.in_(namespaces))
        if expr is not None:
            check_fields(expr, FILTER_FIELDS)
            where.append(to_sql(expr, _FILTER_COLUMNS))
        async with self._db.transaction() as session:
            # Number what has committed so far, so the page's revision covers it (repos/changes.py).
            await changes.sequence_pending(session, SEQUENCE_BATCH)
        async with self._db.snapshot() as session:
            revision, _ = await changes.positions(session)
            rows = await resources.page(
                session,
                VirtualMachineRow,
                where=where,
                order_column=order_column,
                descending=descending,
                after=after,
                limit=size + 1,
            )
        response = vm_pb.ListVirtualMachinesResponse(
            virtual_machines=[to_proto(row) for row in rows[:size]], revision=revision
        )
        if len(rows) > size:
            last = rows[size - 1]
            key: list[Any] = [last.name] if order_column == "name" else [last.create_time.isoformat(), last.name]
            response.next_page_token = page_token.encode(key, digest)
        return response

    async def create(self, request: vm_pb.CreateVirtualMachineRequest) -> operations_pb2.Operation:
        parent = parse_namespace_name(request.parent)
        check_id(request.virtual_machine_id, "virtual_machine_id")
        name = VirtualMachineName(parent.cluster, parent.namespace, request.virtual_machine_id)
        _check(request.virtual_machine)

        async def work(session: AsyncSession, at: datetime) -> operations_pb2.Operation:
            return await _create(session, name, request.virtual_machine, request.request_id, at)

        if request.validate_only:
            return await self._preview(name, request.virtual_machine, must_exist=False)
        return await intent.idempotent(self._db, "CreateVirtualMachine", request, operations_pb2.Operation, work)

    async def adopt(self, request: vm_pb.AdoptVirtualMachineRequest) -> operations_pb2.Operation:
        """Record the intent to adopt a cluster VM; the reconciler reads its spec and finishes the Operation."""
        parent = parse_namespace_name(request.parent)
        check_id(request.virtual_machine_id, "virtual_machine_id")
        name = VirtualMachineName(parent.cluster, parent.namespace, request.virtual_machine_id)

        async def work(session: AsyncSession, at: datetime) -> operations_pb2.Operation:
            await intent.require_cluster(session, name.cluster)
            if await resources.get_live(session, VirtualMachineRow, str(name)) is not None:
                raise _exists(name)
            uid = uuid.uuid4()
            row = VirtualMachineRow(
                name=str(name),
                cluster=name.cluster,
                namespace=name.namespace,
                spec={},
                state="UNKNOWN",
                labels={},
                annotations={ADOPTING: "true"},
                **common.first_generation(uid, at),
            )
            session.add(row)
            try:
                await session.flush()
            except IntegrityError as error:  # a concurrent create of the same name won
                raise _exists(name) from error
            await VM_KIND.record(session, row, "ADDED", at)
            return await VM_KIND.operation(session, row, "adopt", request.request_id, at)

        return await intent.idempotent(self._db, "AdoptVirtualMachine", request, operations_pb2.Operation, work)

    async def update(self, request: vm_pb.UpdateVirtualMachineRequest) -> operations_pb2.Operation:
        name = parse_vm_name(request.virtual_machine.name, "virtual_machine.name")
        paths = common.update_paths(request.update_mask.paths, request.virtual_machine, _WRITABLE)

        async def work(session: AsyncSession, at: datetime) -> operations_pb2.Operation:
            row = await resources.get_live(session, VirtualMachineRow, str(name), lock=True)
            if row is None:
                if not request.allow_missing:
                    raise _not_found(name)
                _check(request.virtual_machine)
                verdict = await storage_checks.check_vm(session, name.cluster, request.virtual_machine)
                if request.validate_only:
                    return storage_checks.with_warnings(intent.done_operation(request.virtual_machine), verdict)
                operation = await self._insert(session, name, request.virtual_machine, request.request_id, at)
                return storage_checks.with_warnings(operation, verdict)
            common.check_etag(request.virtual_machine.etag, row.etag, str(name), "virtual_machine.etag")
            if row.delete_time is not None:
                raise _deleting(name)
            _check_adopted(row, name)
            merged = to_proto(row)
            before = vm_pb.VirtualMachineSpec()
            before.CopyFrom(merged.spec)
            field_mask_pb2.FieldMask(paths=paths).MergeMessage(
                request.virtual_machine, merged, replace_message_field=True, replace_repeated_field=True
            )
            _check(merged, before)
            if before.run_strategy == vm_pb.VirtualMachineSpec.HALTED != merged.spec.run_strategy:
                await backups.check_no_export_under_way(session, row)  # a start by another name
            verdict = await storage_checks.check_vm(session, name.cluster, merged)
            pools = await _pools_of(session, name, merged, "virtual_machine")
            if request.validate_only:
                return storage_checks.with_warnings(intent.done_operation(merged), verdict)
            spec = _spec_json(merged.spec)
            labels, annotations = dict(merged.labels), dict(merged.annotations)
            if (spec, labels, annotations) != (row.spec, row.labels, row.annotations):
                await _hold_addresses(session, name, pools, request.request_id, at, replacing=True)
                row.spec, row.labels, row.annotations = spec, labels, annotations
                await VM_KIND.bump(session, row, "MODIFIED", at)
            operation = await VM_KIND.operation(session, row, "update", request.request_id, at)
            return storage_checks.with_warnings(operation, verdict)

        return await intent.idempotent(
            self._db, "UpdateVirtualMachine", request, operations_pb2.Operation, work, dry_run=request.validate_only
        )

    async def delete(self, request: vm_pb.DeleteVirtualMachineRequest) -> operations_pb2.Operation:
        name = parse_vm_name(request.name)

        async def work(session: AsyncSession, at: datetime) -> operations_pb2.Operation:
            row = await resources.get_live(session, VirtualMachineRow, str(name), lock=True)
            if row is None:
                if not request.allow_missing:
                    raise _not_found(name)
                return intent.done_operation(empty_pb2.Empty())
            common.check_etag(request.etag, row.etag, str(name))
            if request.validate_only:
                return intent.done_operation(empty_pb2.Empty())
            if row.delete_time is None:
                row.delete_time = at
                row.state = "TERMINATING"
                await VM_KIND.bump(session, row, "MODIFIED", at)
            return await VM_KIND.operation(session, row, "delete", request.request_id, at)

        return await intent.idempotent(
            self._db, "DeleteVirtualMachine", request, operations_pb2.Operation, work, dry_run=request.validate_only
        )

    async def act(self, action: str, request: Message) -> operations_pb2.Operation:
        """Start, stop, restart, pause or unpause: checked against the current state, recorded as intent."""
        name = parse_vm_name(getattr(request, "name", ""))
        etag: str = getattr(request, "etag", "")

        async def work(session: AsyncSession, at: datetime) -> operations_pb2.Operation:
            row = await resources.get_live(session, VirtualMachineRow, str(name), lock=True)
            if row is None:
                raise _not_found(name)
            common.check_etag(etag, row.etag, str(name))
            if row.delete_time is not None:
                raise _deleting(name)
            _check_adopted(row, name)
            run_strategy = row.spec.get("run_strategy", "HALTED")
            vm_state.check_action(action, row.state, run_strategy)
            next_run_strategy = vm_state.run_strategy_after(action, run_strategy)
            if action == "START":
                await backups.check_no_export_under_way(session, row)
            if next_run_strategy != run_strategy:
                row.spec = {**row.spec, "run_strategy": next_run_strategy}
            await VM_KIND.bump(session, row, "MODIFIED", at)
            return await VM_KIND.operation(session, row, action.lower(), getattr(request, "request_id", ""), at)

        return await intent.idempotent(
            self._db, f"{action.title()}VirtualMachine", request, operations_pb2.Operation, work
        )

    async def watch(
        self, request: vm_pb.WatchVirtualMachinesRequest, *, namespaces: frozenset[str] | None = None
    ) -> AsyncIterator[vm_pb.WatchVirtualMachinesResponse]:
        parent = parse_namespace_name(request.parent, allow_wildcard=True)
        expr = parse_filter(request.filter)
        if expr is not None:
            check_fields(expr, FILTER_FIELDS)
        matches = _watch_matcher(parent, expr, namespaces)
        cursor = await self._feed.start_position(request.since_revision)
        async for item in self._feed.subscribe(cursor, self._bookmark_seconds):
            if isinstance(item, Bookmark):
                yield vm_pb.WatchVirtualMachinesResponse(type=common_pb2.BOOKMARK, revision=item.revision)
            elif item.kind == KIND and matches(item.parent, item.resource):
                event = vm_pb.WatchVirtualMachinesResponse(
                    type=common_pb2.WatchEventType.Value(item.event_type), revision=item.revision
                )
                event.virtual_machine.CopyFrom(self._parsed_vm(item))
                yield event

    def _parsed_vm(self, change: Change) -> vm_pb.VirtualMachine:
        """The change's VM, parsed once for every stream: per stream, ParseDict was a third of the CPU of a fan-out."""
        parsed = self._parsed.get(change.revision)
        if parsed is None:
            parsed = json_format.ParseDict(change.resource, vm_pb.VirtualMachine())
            self._parsed[change.revision] = parsed
            if len(self._parsed) > PARSED_CHANGES:
                self._parsed.popitem(last=False)
        return parsed

    # --- writing -------------------------------------------------------------------------------

    async def _insert(
        self, session: AsyncSession, name: VirtualMachineName, vm: vm_pb.VirtualMachine, request_id: str, at: datetime
    ) -> operations_pb2.Operation:
        if await intent.name_taken(session, name.cluster, VirtualMachineRow, str(name)):
            raise _exists(name)
        pools = await _pools_of(session, name, vm, "virtual_machine")
        await _hold_addresses(session, name, pools, request_id, at, replacing=False)
        row = _new_row(name, vm, at)
        operation = VM_KIND.new_operation(row, "create", request_id, at)
        try:  # the VM, its operation and the audit row in one statement
            await resources.insert_new(session, row, operation, *intent.audit_rows(session))
        except IntegrityError as error:  # a concurrent create of the same name won
            raise _exists(name) from error
        await VM_KIND.record(session, row, "ADDED", at)
        return common.operation_to_proto(operation)

    async def _preview(
        self, name: VirtualMachineName, vm: vm_pb.VirtualMachine, *, must_exist: bool
    ) -> operations_pb2.Operation:
        async with self._db.transaction() as session:
            await intent.require_cluster(session, name.cluster)
            exists = await resources.get_live(session, VirtualMachineRow, str(name)) is not None
            await _pools_of(session, name, vm, "virtual_machine")
            verdict = await storage_checks.check_vm(session, name.cluster, vm)
        if exists and not must_exist:
            raise _exists(name)
        preview = _VM()
        preview.CopyFrom(vm)
        preview.name = str(name)
        return storage_checks.with_warnings(intent.done_operation(preview), verdict)


async def _create(
    session: AsyncSession, name: VirtualMachineName, vm: vm_pb.VirtualMachine, request_id: str, at: datetime
) -> operations_pb2.Operation:
    """A create in as few round trips as its checks allow.

    One statement inserts the VM (unless its cluster is gone or its name is taken), its operation, its
    change for Watch and the audit row, and reads the cluster's storage profiles; a refusal after it (the
    disks, the pools) rolls it all back. The errors keep their order: no cluster, disks the eviction
    strategy cannot use, the name, then the NICs' pools."""
    row = _new_row(name, vm, at)
    operation = VM_KIND.new_operation(row, "create", request_id, at)
    added = ChangeRow(**VM_KIND.change(row, "ADDED", at))
    judged = storage_checks.needs_profiles(vm)
    cluster_live, inserted, profiles = await resources.insert_new_unless(
        session,
        intent.CLUSTER_LIVE,
        {"cluster_name": f"clusters/{name.cluster}", "cluster": name.cluster},
        storage_checks.PROFILES if judged else _NO_PROFILES,
        row,
        operation,
        added,
        *intent.audit_rows(session),
    )
    if not cluster_live:
        raise intent.cluster_not_found(name.cluster)
    verdict = storage_checks.check_vm_against(vm, storage_checks.facts_of(profiles)) if judged else None
    if not inserted:
        raise _exists(name)
    pools = await _pools_of(session, name, vm, "virtual_machine")
    await _hold_addresses(session, name, pools, request_id, at, replacing=False)
    return storage_checks.with_warnings(common.operation_to_proto(operation), verdict)


_NO_PROFILES = null()


def _new_row(name: VirtualMachineName, vm: vm_pb.VirtualMachine, at: datetime) -> VirtualMachineRow:
    uid = uuid.uuid4()
    spec = _spec_json(vm.spec)
    return VirtualMachineRow(
        name=str(name),
        cluster=name.cluster,
        namespace=name.namespace,
        spec=spec,
        state=vm_state.expected_state(spec["run_strategy"]),
        labels=dict(vm.labels),
        annotations=dict(vm.annotations),
        **common.first_generation(uid, at),
    )


async def _pools_of(
    session: AsyncSession, name: VirtualMachineName, vm: vm_pb.VirtualMachine, field: str
) -> dict[str, IpPoolRow]:
    """NIC name → the pool it takes an address from; every unusable pool is a violation naming its field."""
    pools: dict[str, IpPoolRow] = {}
    violations: list[FieldViolation] = []
    for index, nic in enumerate(vm.spec.interfaces):
        if not nic.ip_pool:
            continue
        where = f"{field}.spec.interfaces[{index}].ip_pool"
        cluster, _ = ip_pools.parse_pool_name(nic.ip_pool, where)
        if cluster != name.cluster:
            violations.append(FieldViolation(where, f"must be a pool of clusters/{name.cluster}, the VM's cluster"))
            continue
        try:
            pool = await ip_pools.usable_pool(session, nic.ip_pool)
        except (NotFound, FailedPrecondition) as error:
            violations.append(FieldViolation(where, error.message))
            continue
        network = pool.spec.get("selector", {}).get("network", "")
        if network and network != nic.network:
            violations.append(
                FieldViolation(where, f"{nic.ip_pool} serves network {network!r}, not the interface's {nic.network!r}")
            )
            continue
        pools[nic.name] = pool
    if violations:
        raise InvalidArgument.of(violations)
    return pools


async def _hold_addresses(
    session: AsyncSession,
    name: VirtualMachineName,
    pools: dict[str, IpPoolRow],
    request_id: str,
    at: datetime,
    *,
    replacing: bool,
) -> None:
    """Give each pooled NIC its address (kept, sticky or next free); an update releases what NICs no longer ask for.

    A create has nothing to release: a VM of the same name released its addresses when it was purged.
    """
    if replacing:
        await ip_pools.release_owners(
            session,
            name.cluster,
            nic_owner(str(name), ""),
            at,
            keep=[(pool.uid, nic_owner(str(name), nic)) for nic, pool in pools.items()],
        )
    for nic, pool in pools.items():
        await ip_pools.allocate_in(session, pool, nic_owner(str(name), nic), "", request_id, at)


def _check(vm: vm_pb.VirtualMachine, before: vm_pb.VirtualMachineSpec | None = None) -> None:
    """Every violation at once; on an update (`before`: the stored spec) an existing disk keeps its volume."""
    violations = vm_violations(vm)
    if before is not None:
        violations += disk_change_violations(before, vm.spec, "virtual_machine.spec")
    if violations:
        raise InvalidArgument.of(violations)


def _not_found(name: VirtualMachineName) -> NotFound:
    return NotFound(
        f"virtual machine {name} does not exist", reason="VIRTUAL_MACHINE_NOT_FOUND", metadata={"resource": str(name)}
    )


def _exists(name: VirtualMachineName) -> AlreadyExists:
    return AlreadyExists(
        f"virtual machine {name} already exists", reason="VIRTUAL_MACHINE_EXISTS", metadata={"resource": str(name)}
    )


def _deleting(name: VirtualMachineName) -> FailedPrecondition:
    return FailedPrecondition(
        f"virtual machine {name} is being deleted", reason="DELETING", metadata={"resource": str(name)}
    )


def _check_adopted(row: VirtualMachineRow, name: VirtualMachineName) -> None:
    if ADOPTING in row.annotations:
        raise FailedPrecondition(
            f"virtual machine {name} is being adopted", reason="ADOPTING", metadata={"resource": str(name)}
        )


def _watch_matcher(
    parent: NamespaceName, expr: Expr | None, namespaces: frozenset[str] | None
) -> Callable[[str, dict[str, Any]], bool]:
    prefix = f"clusters/{parent.cluster}/namespaces/"

    def matches(change_parent: str, resource: dict[str, Any]) -> bool:
        in_parent = change_parent.startswith(prefix) if parent.all_namespaces else change_parent == str(parent)
        if namespaces is not None and change_parent.removeprefix(prefix) not in namespaces:
            return False
        return in_parent and (expr is None or evaluate(expr, _json_lookup(resource), FILTER_FIELDS))

    return matches


def _json_lookup(resource: dict[str, Any]) -> Callable[[tuple[str, ...]], Any]:
    """Filter fields (snake_case paths) looked up in a proto3-JSON VirtualMachine (lowerCamelCase)."""

    def lookup(path: tuple[str, ...]) -> Any:
        value: Any = resource
        for index, part in enumerate(path):
            if not isinstance(value, dict):
                return None
            key = part if index > 0 and path[0] == "labels" else _camel(part)
            value = value.get(key)
        if value is None and path == ("state",):
            return "STATE_UNSPECIFIED"
        return value

    return lookup


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(word.title() for word in rest)
