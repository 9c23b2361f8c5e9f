"""IP pools: Harrow's database is the allocator of record (issue 5).

Allocation is one short transaction: the pool row is read FOR KEY SHARE (so
a concurrent shrink or delete, which takes it FOR UPDATE, waits, while
allocations from the same pool do not wait for each other), a candidate address is inserted with ON CONFLICT
DO NOTHING against the (cluster, address) primary key, and the ledger gets
one event. A lost race just moves on to another candidate; a duplicate owner
is impossible by construction, not by locking. The pool and the owner's view
are read in one statement that also writes the call's audit row, and each
insert carries its ledger event with it (storage/repos/ip_allocations.py), so
an allocation is four round trips: BEGIN, read, allocate, COMMIT.

Pool changes take the cluster row FOR UPDATE, so two pools cannot be
validated against each other's stale state (overlapping ranges, priorities).
"""

from __future__ import annotations

import ipaddress
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from google.longrunning import operations_pb2
from google.protobuf import empty_pb2, field_mask_pb2, json_format
from harrow.v1 import ip_pool_pb2 as pb
from sqlalchemy import delete, func, select
from sqlalchemy.dialects.postgresql import distinct_on
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from server.auth import audit
from server.domain import ipam, page_token
from server.domain.errors import (
    AlreadyExists,
    FailedPrecondition,
    FieldViolation,
    InvalidArgument,
    NotFound,
    ResourceExhausted,
)
from server.domain.filtering import FieldKind, check_fields, parse_filter
from server.domain.labels import annotation_violations, label_violations
from server.domain.names import check_id, parse_cluster_name
from server.services import common, intent
from storage.db import Database
from storage.filters import Column, to_sql
from storage.models import ClusterRow, IpAllocationEventRow, IpAllocationRow, IpPoolRow
from storage.repos import ip_allocations, resources

KIND = "IpPool"
_WRITABLE = ("labels", "annotations", "spec")
_BATCH = 64
EVENT_FILTER_FIELDS = {
    "address": FieldKind.string(),
    "owner": FieldKind.string(),
    "action": FieldKind.enum(("ALLOCATE", "RELEASE", "FORCE_RELEASE", "POOL_CREATE", "POOL_UPDATE", "POOL_DELETE")),
    "time": FieldKind.timestamp(),
    "request_id": FieldKind.string(),
}
_EVENT_COLUMNS = {
    "address": Column(IpAllocationEventRow.address, host=True),
    "owner": Column(IpAllocationEventRow.owner),
    "action": Column(IpAllocationEventRow.action),
    "time": Column(IpAllocationEventRow.time),
    "request_id": Column(IpAllocationEventRow.request_id),
}


def parse_pool_name(value: str, field: str = "name") -> tuple[str, str]:
    parts = value.split("/")
    if len(parts) != 4 or parts[0] != "clusters" or parts[2] != "ipPools":
        raise InvalidArgument.for_field(field, f'"{value}" does not match clusters/{{cluster}}/ipPools/{{ip_pool}}')
    cluster = parse_cluster_name("/".join(parts[:2]), field)
    check_id(parts[3], field)
    return cluster, parts[3]


def allocation_id(address: str) -> str:
    """IPv6 addresses name their allocation with '-' for ':', which URLs and custom verbs reserve."""
    return address.replace(":", "-")


def _address_of_id(value: str, field: str) -> ipam.Address:
    text = value if "." in value else value.replace("-", ":")
    try:
        return ipaddress.ip_address(text)
    except ValueError as error:
        raise InvalidArgument.for_field(field, f'"{value}" is not an IP address (IPv6 uses "-" for ":")') from error


def _ranges_of(spec: dict[str, Any]) -> list[ipam.Range]:
    ranges, _ = ipam.make_ranges([_range_spec(r) for r in spec.get("ranges", [])], "spec.ranges")
    return ranges


def _range_spec(raw: dict[str, Any]) -> ipam.RangeSpec:
    return ipam.RangeSpec(
        raw.get("subnet", ""), raw.get("range_start", ""), raw.get("range_end", ""), raw.get("gateway", "")
    )


def _selector_of(spec: dict[str, Any]) -> ipam.Selector:
    raw = spec.get("selector", {})
    scopes = tuple(
        ipam.Scope(s.get("project", "") or "", s.get("namespace", "") or "", s.get("guest_cluster", "") or "")
        for s in raw.get("scopes", [])
    )
    return ipam.Selector(int(raw.get("priority", 0)), raw.get("network", ""), scopes)


def to_proto(row: IpPoolRow) -> pb.IpPool:
    """The pool; status counts are those last written by `_refresh_usage` (Get recomputes them)."""
    pool = pb.IpPool(state=pb.IpPool.State.Value(row.state))
    common.fill_resource_fields(pool, row)
    json_format.ParseDict(row.spec, pool.spec)
    json_format.ParseDict(row.status, pool.status)
    return pool


POOL_KIND = intent.Kind[IpPoolRow](name=KIND, to_proto=to_proto, parent_of=lambda row: f"clusters/{row.cluster}")


def _allocation(pool: IpPoolRow, row: IpAllocationRow, reason: str) -> pb.IpAllocation:
    return _allocated(pool, row.address, row.owner, row.allocate_time, reason)


def _allocated(pool: IpPoolRow, value: Any, owner: str, since: datetime, reason: str) -> pb.IpAllocation:
    address = ipaddress.ip_address(str(value).split("/")[0])
    ranges = [r for r in _ranges_of(pool.spec) if r.version == address.version and address in r.network]
    allocation = pb.IpAllocation(
        name=f"{pool.name}/allocations/{allocation_id(str(address))}",
        address=str(address),
        owner=owner,
        reason=reason,
    )
    if ranges:
        allocation.prefix_length = ranges[0].network.prefixlen
        if ranges[0].gateway is not None:
            allocation.gateway = str(ranges[0].address(ranges[0].gateway))
    allocation.allocate_time.FromDatetime(since)
    return allocation


def _pool_violations(pool: pb.IpPool, field: str) -> tuple[list[ipam.Range], list[FieldViolation]]:
    out = label_violations(dict(pool.labels), f"{field}.labels") + annotation_violations(
        dict(pool.annotations), f"{field}.annotations"
    )
    specs = [ipam.RangeSpec(r.subnet, r.range_start, r.range_end, r.gateway) for r in pool.spec.ranges]
    ranges, problems = ipam.make_ranges(specs, f"{field}.spec.ranges")
    out += problems
    if pool.spec.selector.priority < 0:
        out.append(FieldViolation(f"{field}.spec.selector.priority", "must not be negative"))
    return ranges, out


class IpPoolService:
    def __init__(self, db: Database):
        self._db = db

    # --- pools ------------------------------------------------------------------------------------

    async def get_pool(self, request: pb.GetIpPoolRequest) -> pb.IpPool:
        cluster, pool_id = parse_pool_name(request.name)
        async with self._db.transaction() as session:
            row = await self._pool(session, f"clusters/{cluster}/ipPools/{pool_id}")
            await self._refresh_usage(session, row)
        return to_proto(row)

    async def list_pools(self, request: pb.ListIpPoolsRequest) -> pb.ListIpPoolsResponse:
        cluster = parse_cluster_name(request.parent, "parent")
        size = page_token.page_size(request.page_size)
        digest = page_token.query_digest(request.parent)
        after = page_token.decode(request.page_token, digest)
        async with self._db.transaction() as session:
            rows = await resources.page(
                session,
                IpPoolRow,
                where=[IpPoolRow.cluster == cluster],
                order_column="name",
                descending=False,
                after=after,
                limit=size + 1,
            )
            for row in rows[:size]:
                await self._refresh_usage(session, row)
        response = pb.ListIpPoolsResponse(ip_pools=[to_proto(row) for row in rows[:size]])
        if len(rows) > size:
            response.next_page_token = page_token.encode([rows[size - 1].name], digest)
        return response

    async def create_pool(self, request: pb.CreateIpPoolRequest) -> operations_pb2.Operation:
        cluster = parse_cluster_name(request.parent, "parent")
        check_id(request.ip_pool_id, "ip_pool_id")
        name = f"clusters/{cluster}/ipPools/{request.ip_pool_id}"
        ranges, violations = _pool_violations(request.ip_pool, "ip_pool")
        if violations:
            raise InvalidArgument.of(violations)

        async def work(session: AsyncSession, at: datetime) -> operations_pb2.Operation:
            await self._lock_cluster(session, cluster)
            if await resources.get_live(session, IpPoolRow, name) is not None:
                raise AlreadyExists(
                    f"IP pool {name} already exists", reason="IP_POOL_EXISTS", metadata={"resource": name}
                )
            await self._check_against_others(session, cluster, name, request.ip_pool, ranges, "ip_pool.spec")
            if request.validate_only:
                preview = pb.IpPool()
                preview.CopyFrom(request.ip_pool)
                preview.name = name
                return intent.done_operation(preview)
            return await self._insert(session, cluster, name, request.ip_pool, request.request_id, at)

        return await intent.idempotent(
            self._db, "CreateIpPool", request, operations_pb2.Operation, work, dry_run=request.validate_only
        )

    async def update_pool(self, request: pb.UpdateIpPoolRequest) -> operations_pb2.Operation:
        cluster, _ = parse_pool_name(request.ip_pool.name, "ip_pool.name")
        name = request.ip_pool.name
        paths = common.update_paths(request.update_mask.paths, request.ip_pool, _WRITABLE)

        async def work(session: AsyncSession, at: datetime) -> operations_pb2.Operation:
            await self._lock_cluster(session, cluster)
            row = await resources.get_live(session, IpPoolRow, name, lock=True)
            if row is None:
                if not request.allow_missing:
                    raise _pool_not_found(name)
                ranges, violations = _pool_violations(request.ip_pool, "ip_pool")
                if violations:
                    raise InvalidArgument.of(violations)
                await self._check_against_others(session, cluster, name, request.ip_pool, ranges, "ip_pool.spec")
                if request.validate_only:
                    return intent.done_operation(request.ip_pool)
                return await self._insert(session, cluster, name, request.ip_pool, request.request_id, at)
            common.check_etag(request.ip_pool.etag, row.etag, name, "ip_pool.etag")
            if row.delete_time is not None:
                raise FailedPrecondition(
                    f"IP pool {name} is being deleted", reason="DELETING", metadata={"resource": name}
                )
            merged = to_proto(row)
            field_mask_pb2.FieldMask(paths=paths).MergeMessage(
                request.ip_pool, merged, replace_message_field=True, replace_repeated_field=True
            )
            ranges, violations = _pool_violations(merged, "ip_pool")
            if violations:
                raise InvalidArgument.of(violations)
            await self._check_against_others(session, cluster, name, merged, ranges, "ip_pool.spec")
            await self._check_live_allocations_fit(session, row, ranges)
            if request.validate_only:
                return intent.done_operation(merged)
            spec = json_format.MessageToDict(merged.spec, preserving_proto_field_name=True)
            labels, annotations = dict(merged.labels), dict(merged.annotations)
            if (spec, labels, annotations) != (row.spec, row.labels, row.annotations):
                row.spec, row.labels, row.annotations = spec, labels, annotations
                await self._refresh_usage(session, row)
                _event(session, row, "POOL_UPDATE", None, "", request.request_id, at)
                await POOL_KIND.bump(session, row, "MODIFIED", at)
            return await POOL_KIND.operation(session, row, "update", request.request_id, at)

        return await intent.idempotent(
            self._db, "UpdateIpPool", request, operations_pb2.Operation, work, dry_run=request.validate_only
        )

    async def delete_pool(self, request: pb.DeleteIpPoolRequest) -> operations_pb2.Operation:
        cluster, _ = parse_pool_name(request.name)

        async def work(session: AsyncSession, at: datetime) -> operations_pb2.Operation:
            await self._lock_cluster(session, cluster)
            row = await resources.get_live(session, IpPoolRow, request.name, lock=True)
            if row is None:
                if not request.allow_missing:
                    raise _pool_not_found(request.name)
                return intent.done_operation(empty_pb2.Empty())
            common.check_etag(request.etag, row.etag, request.name)
            live = await _count_allocations(session, row.uid)
            if live and not request.force:
                raise FailedPrecondition(
                    f"IP pool {request.name} has {live} live allocations; release them or delete with force",
                    reason="POOL_IN_USE",
                    metadata={"resource": request.name, "allocations": str(live)},
                )
            if request.validate_only:
                return intent.done_operation(empty_pb2.Empty())
            if row.delete_time is None:
                released = await session.execute(
                    delete(IpAllocationRow).where(IpAllocationRow.pool_uid == row.uid).returning(IpAllocationRow)
                )
                for allocation in released.scalars().all():
                    _event(session, row, "FORCE_RELEASE", allocation.address, allocation.owner, request.request_id, at)
                _event(session, row, "POOL_DELETE", None, "", request.request_id, at)
                row.delete_time = at
                row.state = "DELETING"
                await self._refresh_usage(session, row)
                await POOL_KIND.bump(session, row, "MODIFIED", at)
            return await POOL_KIND.operation(session, row, "delete", request.request_id, at)

        return await intent.idempotent(
            self._db, "DeleteIpPool", request, operations_pb2.Operation, work, dry_run=request.validate_only
        )

    # --- allocations ------------------------------------------------------------------------------

    async def allocate(self, request: pb.AllocateIpAddressRequest) -> pb.IpAllocation:
        parse_pool_name(request.pool, "pool")
        _check_owner(request.owner)

        async def work(session: AsyncSession, at: datetime) -> pb.IpAllocation:
            found = await ip_allocations.pool_and_view(session, request.pool, request.owner, audit.take(session))
            pool = _usable(found[0] if found is not None else None, request.pool)
            return await allocate_in(
                session, pool, request.owner, request.address, request.request_id, at, view=found and found[1]
            )

        return await intent.idempotent(self._db, "AllocateIpAddress", request, pb.IpAllocation, work)

    async def select_and_allocate(self, request: pb.SelectAndAllocateIpAddressRequest) -> pb.IpAllocation:
        cluster = parse_cluster_name(request.parent, "parent")
        _check_owner(request.owner)
        requirement = ipam.Requirement(
            network=request.network,
            project=request.project or ipam.WILDCARD,
            namespace=request.namespace or ipam.WILDCARD,
            guest_cluster=request.guest_cluster or ipam.WILDCARD,
        )

        async def work(session: AsyncSession, at: datetime) -> pb.IpAllocation:
            rows = (
                (
                    await session.execute(
                        select(IpPoolRow).where(
                            IpPoolRow.cluster == cluster, IpPoolRow.purged.is_(False), IpPoolRow.delete_time.is_(None)
                        )
                    )
                )
                .scalars()
                .all()
            )
            chosen = ipam.select_pool([(row.name, _selector_of(row.spec)) for row in rows], requirement)
            if chosen is None:
                raise FailedPrecondition(
                    f"no IP pool of clusters/{cluster} matches network {request.network!r}, project "
                    f"{requirement.project!r}, namespace {requirement.namespace!r}, guest cluster "
                    f"{requirement.guest_cluster!r}, and there is no global pool",
                    reason="NO_MATCHING_POOL",
                )
            pool = await usable_pool(session, chosen)
            return await allocate_in(session, pool, request.owner, "", request.request_id, at)

        return await intent.idempotent(self._db, "SelectAndAllocateIpAddress", request, pb.IpAllocation, work)

    async def release(self, request: pb.ReleaseIpAddressRequest) -> pb.ReleaseIpAddressResponse:
        parse_pool_name(request.pool, "pool")
        if bool(request.address) == bool(request.owner):
            raise InvalidArgument.for_field("address", "give exactly one of address and owner")
        wanted = _address_of_id(request.address, "address") if request.address else None

        async def work(session: AsyncSession, at: datetime) -> pb.ReleaseIpAddressResponse:
            pool = await usable_pool(session, request.pool)
            query = delete(IpAllocationRow).where(IpAllocationRow.pool_uid == pool.uid)
            if wanted is not None:
                query = query.where(IpAllocationRow.address == str(wanted))
            else:
                query = query.where(IpAllocationRow.owner == request.owner)
            released = (await session.execute(query.returning(IpAllocationRow))).scalars().all()
            if not released:
                what = f"address {wanted}" if wanted is not None else f"owner {request.owner!r}"
                raise NotFound(
                    f"{what} holds nothing in {request.pool}",
                    reason="ALLOCATION_NOT_FOUND",
                    metadata={"pool": request.pool},
                )
            for row in released:
                _event(session, pool, "RELEASE", row.address, row.owner, request.request_id, at)
            return pb.ReleaseIpAddressResponse(released=[_allocation(pool, row, "RELEASED") for row in released])

        return await intent.idempotent(self._db, "ReleaseIpAddress", request, pb.ReleaseIpAddressResponse, work)

    async def get_allocation(self, request: pb.GetIpAllocationRequest) -> pb.IpAllocation:
        pool_name, _, allocation = request.name.rpartition("/allocations/")
        parse_pool_name(pool_name)
        address = _address_of_id(allocation, "name")
        async with self._db.transaction() as session:
            pool = await self._pool(session, pool_name)
            row = (
                await session.execute(
                    select(IpAllocationRow).where(
                        IpAllocationRow.pool_uid == pool.uid, IpAllocationRow.address == str(address)
                    )
                )
            ).scalar_one_or_none()
        if row is None:
            raise NotFound(f"{address} is not allocated in {pool_name}", reason="ALLOCATION_NOT_FOUND")
        return _allocation(pool, row, "EXISTING")

    async def list_allocations(self, request: pb.ListIpAllocationsRequest) -> pb.ListIpAllocationsResponse:
        parse_pool_name(request.parent, "parent")
        size = page_token.page_size(request.page_size)
        digest = page_token.query_digest(request.parent)
        after = page_token.decode(request.page_token, digest)
        async with self._db.transaction() as session:
            pool = await self._pool(session, request.parent)
            query = select(IpAllocationRow).where(IpAllocationRow.pool_uid == pool.uid)
            if after is not None:
                query = query.where(IpAllocationRow.address > after[0])
            rows = (await session.execute(query.order_by(IpAllocationRow.address).limit(size + 1))).scalars().all()
        response = pb.ListIpAllocationsResponse(
            ip_allocations=[_allocation(pool, row, "EXISTING") for row in rows[:size]]
        )
        if len(rows) > size:
            response.next_page_token = page_token.encode([str(rows[size - 1].address)], digest)
        return response

    async def list_events(self, request: pb.ListIpAllocationEventsRequest) -> pb.ListIpAllocationEventsResponse:
        parse_pool_name(request.parent, "parent")
        size = page_token.page_size(request.page_size)
        digest = page_token.query_digest(request.parent, request.filter)
        after = page_token.decode(request.page_token, digest)
        expr = parse_filter(request.filter)
        async with self._db.transaction() as session:
            pool = await self._pool(session, request.parent)
            query = select(IpAllocationEventRow).where(IpAllocationEventRow.pool_uid == pool.uid)
            if expr is not None:
                check_fields(expr, EVENT_FILTER_FIELDS)
                query = query.where(to_sql(expr, _EVENT_COLUMNS))
            if after is not None:
                query = query.where(IpAllocationEventRow.sequence > int(after[0]))
            query = query.order_by(IpAllocationEventRow.sequence).limit(size + 1)
            rows = (await session.execute(query)).scalars().all()
        response = pb.ListIpAllocationEventsResponse(events=[_event_proto(row) for row in rows[:size]])
        if len(rows) > size:
            response.next_page_token = page_token.encode([rows[size - 1].sequence], digest)
        return response

    # --- helpers ----------------------------------------------------------------------------------

    async def _insert(
        self, session: AsyncSession, cluster: str, name: str, pool: pb.IpPool, request_id: str, at: datetime
    ) -> operations_pb2.Operation:
        uid = uuid.uuid4()
        row = IpPoolRow(
            name=name,
            cluster=cluster,
            spec=json_format.MessageToDict(pool.spec, preserving_proto_field_name=True),
            state="ACTIVE",
            labels=dict(pool.labels),
            annotations=dict(pool.annotations),
            **common.first_generation(uid, at),
        )
        row.status = _usage(_ranges_of(row.spec), 0, None)
        session.add(row)
        try:
            await session.flush()
        except IntegrityError as error:
            raise AlreadyExists(f"IP pool {name} already exists", reason="IP_POOL_EXISTS") from error
        _event(session, row, "POOL_CREATE", None, "", request_id, at)
        await POOL_KIND.record(session, row, "ADDED", at)
        return await POOL_KIND.operation(session, row, "create", request_id, at)

    async def _pool(self, session: AsyncSession, name: str) -> IpPoolRow:
        row = await resources.get_live(session, IpPoolRow, name)
        if row is None:
            raise _pool_not_found(name)
        return row

    async def _lock_cluster(self, session: AsyncSession, cluster: str) -> None:
        await intent.require_cluster(session, cluster)
        await session.execute(select(ClusterRow.uid).where(ClusterRow.name == f"clusters/{cluster}").with_for_update())

    async def _check_against_others(
        self, session: AsyncSession, cluster: str, name: str, pool: pb.IpPool, ranges: list[ipam.Range], field: str
    ) -> None:
        others = (
            (
                await session.execute(
                    select(IpPoolRow).where(
                        IpPoolRow.cluster == cluster, IpPoolRow.purged.is_(False), IpPoolRow.name != name
                    )
                )
            )
            .scalars()
            .all()
        )
        out: list[FieldViolation] = []
        for other in others:
            for index, mine in enumerate(ranges):
                if any(mine.overlaps(theirs) for theirs in _ranges_of(other.spec)):
                    out.append(FieldViolation(f"{field}.ranges[{index}]", f"overlaps a range of {other.name}"))
        selector = _selector_of(json_format.MessageToDict(pool.spec, preserving_proto_field_name=True))
        out += ipam.selector_violations(
            selector, [(other.name, _selector_of(other.spec)) for other in others], f"{field}.selector"
        )
        if out:
            raise InvalidArgument.of(out)

    async def _check_live_allocations_fit(
        self, session: AsyncSession, row: IpPoolRow, ranges: list[ipam.Range]
    ) -> None:
        live = (
            (await session.execute(select(IpAllocationRow).where(IpAllocationRow.pool_uid == row.uid))).scalars().all()
        )
        outside = [str(a.address) for a in live if not ipam.holds(ranges, ipaddress.ip_address(str(a.address)))]
        if outside:
            raise FailedPrecondition(
                f"the new ranges would leave {len(outside)} live allocations outside, e.g. {outside[0]}; "
                "release them first",
                reason="ALLOCATIONS_OUTSIDE_RANGES",
                metadata={"address": outside[0]},
            )

    async def _refresh_usage(self, session: AsyncSession, row: IpPoolRow) -> None:
        used = await _count_allocations(session, row.uid)
        row.status = _usage(_ranges_of(row.spec), used, await _last_allocated(session, row.uid))


def _usage(ranges: Sequence[ipam.Range], used: int, last: ipam.Address | None) -> dict[str, Any]:
    total = ipam.total(ranges)
    usage: dict[str, Any] = {"total": str(total), "available": str(total - used), "used": str(used)}
    if last is not None:
        usage["last_allocated"] = str(last)
    return usage


async def allocate_in(
    session: AsyncSession,
    pool: IpPoolRow,
    owner: str,
    requested: str,
    request_id: str,
    at: datetime,
    *,
    view: ip_allocations.OwnerView | None = None,
) -> pb.IpAllocation:
    """Allocate inside the caller's transaction (the pool held by `usable_pool`): existing, requested, sticky, next.

    `view` is the owner's view when the caller read it with the pool (ip_allocations.pool_and_view)."""
    if view is None:
        view = await ip_allocations.owner_view(session, pool.uid, owner)
    wanted = _address_of_id(requested, "address") if requested else None
    existing = _existing(pool, owner, wanted, view)
    if existing is not None:
        return existing

    async def raced() -> pb.IpAllocation | None:
        """After a claim that got nothing: the owner's own allocation if a concurrent one for it just won.

        Two parallel applies for one owner must both get its one address, not POOL_EXHAUSTED."""
        return _existing(pool, owner, wanted, await ip_allocations.owner_view(session, pool.uid, owner))

    ranges = _ranges_of(pool.spec)
    claim = ip_allocations.Claim(pool, owner, request_id, at)
    if wanted is not None:
        if not ipam.holds(ranges, wanted):
            raise InvalidArgument.for_field(
                "address", f"{wanted} is not an address {pool.name} hands out (outside its ranges, or its gateway)"
            )
        if await ip_allocations.claim(session, claim, wanted) is None:
            if (existing := await raced()) is not None:
                return existing
            holder = await _holder(session, pool.cluster, wanted)
            raise AlreadyExists(
                f"{wanted} is held by {holder!r}",
                reason="ADDRESS_TAKEN",
                metadata={"address": str(wanted), "holder": holder},
            )
        return _allocated(pool, wanted, owner, at, "REQUESTED")
    previous = view.previous
    if previous is not None and ipam.holds(ranges, previous):
        if await ip_allocations.claim(session, claim, previous) is not None:
            return _allocated(pool, previous, owner, at, "STICKY")
        if (existing := await raced()) is not None:
            return existing
    for batch in ipam.candidate_batches(ranges, view.last, _BATCH):
        address = await ip_allocations.claim_first_free(session, claim, batch)
        if address is not None:
            return _allocated(pool, address, owner, at, "NEXT_FREE")
        if (existing := await raced()) is not None:
            return existing
    raise ResourceExhausted(
        f"IP pool {pool.name} has no free address", reason="POOL_EXHAUSTED", metadata={"pool": pool.name}
    )


def _existing(
    pool: IpPoolRow, owner: str, wanted: ipam.Address | None, view: ip_allocations.OwnerView
) -> pb.IpAllocation | None:
    """The owner's current allocation, if it holds one (an error if it asked for a different address)."""
    if view.held is None or view.held_since is None:
        return None
    if wanted is not None and wanted != view.held:
        raise AlreadyExists(
            f"owner {owner!r} already holds {view.held} in {pool.name}; release it first",
            reason="OWNER_HOLDS_ADDRESS",
            metadata={"address": str(view.held), "owner": owner},
        )
    return _allocated(pool, view.held, owner, view.held_since, "EXISTING")


async def usable_pool(session: AsyncSession, name: str) -> IpPoolRow:
    """The pool, held FOR SHARE: allocations proceed side by side, a shrink or delete waits for them."""
    query = select(IpPoolRow).where(IpPoolRow.name == name, IpPoolRow.purged.is_(False))
    # read=True: FOR KEY SHARE. key_share alone is FOR NO KEY UPDATE, which queues allocations behind each other.
    return _usable((await session.execute(query.with_for_update(read=True, key_share=True))).scalar_one_or_none(), name)


def _usable(row: IpPoolRow | None, name: str) -> IpPoolRow:
    if row is None:
        raise _pool_not_found(name)
    if row.delete_time is not None:
        raise FailedPrecondition(f"IP pool {name} is being deleted", reason="DELETING", metadata={"resource": name})
    return row


async def held_by(session: AsyncSession, cluster: str, owners: Sequence[str]) -> dict[str, pb.IpAllocation]:
    """The live allocations of these owners in a cluster's pools, by owner."""
    query = (
        select(IpAllocationRow, IpPoolRow)
        .join(IpPoolRow, IpPoolRow.uid == IpAllocationRow.pool_uid)
        .where(IpAllocationRow.cluster == cluster, IpAllocationRow.owner.in_(list(owners)))
    )
    return {row.owner: _allocation(pool, row, "EXISTING") for row, pool in (await session.execute(query)).all()}


async def release_owners(
    session: AsyncSession, cluster: str, prefix: str, at: datetime, *, keep: Sequence[tuple[uuid.UUID, str]] = ()
) -> None:
    """Release every allocation whose owner starts with `prefix`, except (pool uid, owner) pairs in `keep`."""
    query = (
        select(IpAllocationRow, IpPoolRow)
        .join(IpPoolRow, IpPoolRow.uid == IpAllocationRow.pool_uid)
        .where(IpAllocationRow.cluster == cluster, IpAllocationRow.owner.startswith(prefix, autoescape=True))
        .with_for_update(of=IpAllocationRow)
    )
    kept = set(keep)
    for row, pool in (await session.execute(query)).all():
        if (row.pool_uid, row.owner) in kept:
            continue
        await session.execute(
            delete(IpAllocationRow).where(IpAllocationRow.cluster == cluster, IpAllocationRow.address == row.address)
        )
        _event(session, pool, "RELEASE", row.address, row.owner, "", at)


@dataclass(frozen=True)
class LedgerView:
    """A pool's allocations as Harvester's IPPool status shows them, up to ledger event `sequence`."""

    allocated: dict[str, str]
    # The last owner of each address no one holds now (newest first, at most `limit`; within the ranges).
    history: dict[str, str]
    last_allocated: str
    sequence: int
    total: int


async def ledger_view(session: AsyncSession, pool: IpPoolRow, history_limit: int) -> LedgerView:
    """Read in one snapshot, so `sequence` covers exactly what `allocated` shows."""
    sequence = (
        await session.execute(
            select(func.coalesce(func.max(IpAllocationEventRow.sequence), 0)).where(
                IpAllocationEventRow.pool_uid == pool.uid
            )
        )
    ).scalar_one()
    live = (await session.execute(select(IpAllocationRow).where(IpAllocationRow.pool_uid == pool.uid))).scalars()
    allocated = {_host(row.address): row.owner for row in live}
    last_owners = (
        select(IpAllocationEventRow.address, IpAllocationEventRow.owner, IpAllocationEventRow.sequence)
        .where(IpAllocationEventRow.pool_uid == pool.uid, IpAllocationEventRow.action == "ALLOCATE")
        .order_by(IpAllocationEventRow.address, IpAllocationEventRow.sequence.desc())
        .ext(distinct_on(IpAllocationEventRow.address))
        .subquery()
    )
    recent = select(last_owners.c.address, last_owners.c.owner).order_by(last_owners.c.sequence.desc())
    ranges = _ranges_of(pool.spec)
    history: dict[str, str] = {}
    for address, owner in (await session.execute(recent)).all():
        host = _host(address)
        if host in allocated or not ipam.holds(ranges, ipaddress.ip_address(host)):
            continue
        history[host] = owner
        if len(history) >= history_limit:
            break
    last = await _last_allocated(session, pool.uid)
    return LedgerView(
        allocated=allocated,
        history=history,
        last_allocated=str(last) if last is not None else "",
        sequence=int(sequence),
        total=ipam.total(ranges),
    )


async def usage(session: AsyncSession) -> list[tuple[IpPoolRow, int, int]]:
    """Every live pool with the addresses it can hand out and its live allocations (for the per-pool gauges)."""
    used = select(IpAllocationRow.pool_uid, func.count().label("used")).group_by(IpAllocationRow.pool_uid).subquery()
    query = (
        select(IpPoolRow, func.coalesce(used.c.used, 0))
        .outerjoin(used, used.c.pool_uid == IpPoolRow.uid)
        .where(IpPoolRow.purged.is_(False))
    )
    return [
        (pool, ipam.total(_ranges_of(pool.spec)), int(count)) for pool, count in (await session.execute(query)).all()
    ]


def _host(address: Any) -> str:
    return str(address).split("/")[0]


def _check_owner(owner: str) -> None:
    if not owner:
        raise InvalidArgument.for_field("owner", 'required: a stable key for the holder, e.g. "default/lb-web"')
    if len(owner) > 253:
        raise InvalidArgument.for_field("owner", f"must be at most 253 characters (got {len(owner)})")


def _pool_not_found(name: str) -> NotFound:
    return NotFound(f"IP pool {name} does not exist", reason="IP_POOL_NOT_FOUND", metadata={"resource": name})


def _event(
    session: AsyncSession, pool: IpPoolRow, action: str, address: Any, owner: str, request_id: str, at: datetime
) -> None:
    session.add(
        IpAllocationEventRow(
            cluster=pool.cluster,
            pool_uid=pool.uid,
            pool=pool.name,
            action=action,
            address=str(address) if address is not None else None,
            owner=owner,
            time=at,
            request_id=request_id or None,
            actor="",
        )
    )


async def _holder(session: AsyncSession, cluster: str, address: ipam.Address) -> str:
    owner = (
        await session.execute(
            select(IpAllocationRow.owner).where(
                IpAllocationRow.cluster == cluster, IpAllocationRow.address == str(address)
            )
        )
    ).scalar_one_or_none()
    return owner or "another owner"


async def _last_allocated(session: AsyncSession, pool_uid: uuid.UUID) -> ipam.Address | None:
    value = (
        await session.execute(
            select(IpAllocationEventRow.address)
            .where(IpAllocationEventRow.pool_uid == pool_uid, IpAllocationEventRow.action == "ALLOCATE")
            .order_by(IpAllocationEventRow.sequence.desc())
            .limit(1)
        )
    ).scalar_one_or_none()
    return ipaddress.ip_address(str(value).split("/")[0]) if value is not None else None


async def _count_allocations(session: AsyncSession, pool_uid: uuid.UUID) -> int:
    count = await session.execute(
        select(func.count()).select_from(IpAllocationRow).where(IpAllocationRow.pool_uid == pool_uid)
    )
    return int(count.scalar_one())


def _event_proto(row: IpAllocationEventRow) -> pb.IpAllocationEvent:
    event = pb.IpAllocationEvent(
        action=row.action,
        address=str(row.address).split("/")[0] if row.address is not None else "",
        owner=row.owner,
        request_id=row.request_id or "",
        actor=row.actor,
        sequence=row.sequence,
    )
    event.time.FromDatetime(row.time)
    return event
