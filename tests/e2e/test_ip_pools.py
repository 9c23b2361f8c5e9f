"""IP pools end to end over both transports: allocation rules, validation and the ledger."""

from __future__ import annotations

import pytest
from google.protobuf import field_mask_pb2
from harrow.v1 import ip_pool_pb2 as pb

from tests.e2e.clients import ApiError

IP = "IpPoolService"
CLUSTER = "clusters/local"


def pool_name(pool_id: str) -> str:
    return f"{CLUSTER}/ipPools/{pool_id}"


async def create_pool(api, pool_id: str, *ranges: pb.IpRange, selector: pb.IpPoolSelector | None = None) -> None:
    pool = pb.IpPool(spec=pb.IpPoolSpec(ranges=list(ranges), selector=selector))
    await api.call(IP, "CreateIpPool", pb.CreateIpPoolRequest(parent=CLUSTER, ip_pool_id=pool_id, ip_pool=pool))


async def allocate(api, pool_id: str, owner: str, address: str = "") -> pb.IpAllocation:
    request = pb.AllocateIpAddressRequest(pool=pool_name(pool_id), owner=owner, address=address)
    return await api.call(IP, "AllocateIpAddress", request)


async def release(api, pool_id: str, *, owner: str = "", address: str = "") -> pb.ReleaseIpAddressResponse:
    request = pb.ReleaseIpAddressRequest(pool=pool_name(pool_id), owner=owner, address=address)
    return await api.call(IP, "ReleaseIpAddress", request)


async def failure(call) -> ApiError:
    with pytest.raises(ApiError) as raised:
        await call
    return raised.value


async def test_allocation_is_round_robin_idempotent_per_owner_and_sticky(api) -> None:
    await create_pool(api, "lan", pb.IpRange(subnet="10.0.0.0/24"))
    first = await allocate(api, "lan", "default/lb-a")
    assert (first.address, first.reason, first.prefix_length, first.gateway) == (
        "10.0.0.2",
        "NEXT_FREE",
        24,
        "10.0.0.1",
    )
    assert first.name == "clusters/local/ipPools/lan/allocations/10.0.0.2"
    assert (await allocate(api, "lan", "default/lb-b")).address == "10.0.0.3"
    again = await allocate(api, "lan", "default/lb-a")
    assert (again.address, again.reason) == ("10.0.0.2", "EXISTING")

    released = await release(api, "lan", owner="default/lb-a")
    assert [a.address for a in released.released] == ["10.0.0.2"]
    assert (await allocate(api, "lan", "default/lb-c")).address == "10.0.0.4"  # round robin does not go back
    sticky = await allocate(api, "lan", "default/lb-a")
    assert (sticky.address, sticky.reason) == ("10.0.0.2", "STICKY")

    pool = await api.call(IP, "GetIpPool", pb.GetIpPoolRequest(name=pool_name("lan")))
    assert (pool.status.total, pool.status.used, pool.status.available) == ("253", 3, "250")
    assert pool.status.last_allocated == "10.0.0.2"


async def test_a_sticky_owner_whose_address_was_taken_gets_the_next_free_one(api) -> None:
    await create_pool(api, "lan", pb.IpRange(subnet="10.0.0.0/24"))
    await allocate(api, "lan", "a")
    await release(api, "lan", owner="a")
    await allocate(api, "lan", "b", address="10.0.0.2")
    moved = await allocate(api, "lan", "a")
    assert (moved.address, moved.reason) == ("10.0.0.3", "NEXT_FREE")


async def test_requested_addresses(api) -> None:
    await create_pool(api, "lan", pb.IpRange(subnet="10.0.0.0/24", range_start="10.0.0.10", range_end="10.0.0.20"))
    assert (await allocate(api, "lan", "a", address="10.0.0.15")).reason == "REQUESTED"
    taken = await failure(allocate(api, "lan", "b", address="10.0.0.15"))
    assert (taken.code, taken.reason, taken.metadata["holder"]) == ("ALREADY_EXISTS", "ADDRESS_TAKEN", "a")
    outside = await failure(allocate(api, "lan", "b", address="10.0.0.99"))
    assert outside.code == "INVALID_ARGUMENT" and "outside its ranges" in outside.violations["address"]
    gateway = await failure(allocate(api, "lan", "b", address="10.0.0.1"))
    assert gateway.code == "INVALID_ARGUMENT"
    garbage = await failure(allocate(api, "lan", "b", address="10.0.0.300"))
    assert "not an IP address" in garbage.violations["address"]


async def test_an_exhausted_pool_names_itself(api) -> None:
    await create_pool(api, "tiny", pb.IpRange(subnet="10.9.0.0/30"))  # .1 gateway, .2 the only address
    await allocate(api, "tiny", "a")
    error = await failure(allocate(api, "tiny", "b"))
    assert (error.code, error.reason) == ("RESOURCE_EXHAUSTED", "POOL_EXHAUSTED")
    assert "clusters/local/ipPools/tiny" in error.message


async def test_ipv6_slash_64_counts_without_enumerating(api) -> None:
    await create_pool(api, "v6", pb.IpRange(subnet="fd00:10::/64"))
    allocation = await allocate(api, "v6", "a")
    assert allocation.address == "fd00:10::2" and allocation.name.endswith("/allocations/fd00-10--2")
    fetched = await api.call(IP, "GetIpAllocation", pb.GetIpAllocationRequest(name=allocation.name))
    assert fetched.owner == "a"
    pool = await api.call(IP, "GetIpPool", pb.GetIpPoolRequest(name=pool_name("v6")))
    assert pool.status.total == str(2**64 - 2)


async def test_pools_are_validated_against_each_other(api) -> None:
    await create_pool(
        api,
        "a",
        pb.IpRange(subnet="10.0.0.0/24"),
        selector=pb.IpPoolSelector(priority=5, scopes=[pb.IpPoolScope(namespace="x")]),
    )
    overlap = await failure(create_pool(api, "b", pb.IpRange(subnet="10.0.0.128/25")))
    assert "overlaps a range of clusters/local/ipPools/a" in overlap.violations["ip_pool.spec.ranges[0]"]
    priority = await failure(
        create_pool(
            api,
            "c",
            pb.IpRange(subnet="10.1.0.0/24"),
            selector=pb.IpPoolSelector(priority=5, scopes=[pb.IpPoolScope(namespace="y")]),
        )
    )
    assert "already used by clusters/local/ipPools/a" in priority.violations["ip_pool.spec.selector.priority"]
    empty = await failure(create_pool(api, "d"))
    assert "ip_pool.spec.ranges" in empty.violations


async def test_selector_allocation_prefers_matching_priority_then_the_global_pool(api) -> None:
    await create_pool(
        api,
        "global",
        pb.IpRange(subnet="10.0.0.0/24"),
        selector=pb.IpPoolSelector(scopes=[pb.IpPoolScope(project="*", namespace="*", guest_cluster="*")]),
    )
    await create_pool(
        api,
        "team",
        pb.IpRange(subnet="10.1.0.0/24"),
        selector=pb.IpPoolSelector(
            priority=10,
            network="default/vlan10",
            scopes=[pb.IpPoolScope(project="*", namespace="team", guest_cluster="*")],
        ),
    )
    chosen = await api.call(
        IP,
        "SelectAndAllocateIpAddress",
        pb.SelectAndAllocateIpAddressRequest(
            parent=CLUSTER, owner="team/lb", network="default/vlan10", namespace="team"
        ),
    )
    assert chosen.name.startswith(pool_name("team"))
    fallback = await api.call(
        IP,
        "SelectAndAllocateIpAddress",
        pb.SelectAndAllocateIpAddressRequest(
            parent=CLUSTER, owner="other/lb", network="default/vlan10", namespace="other"
        ),
    )
    assert fallback.name.startswith(pool_name("global"))


async def test_shrink_and_delete_are_refused_while_live_allocations_would_be_cut_off(api) -> None:
    await create_pool(api, "lan", pb.IpRange(subnet="10.0.0.0/24"))
    await allocate(api, "lan", "a", address="10.0.0.200")
    shrink = pb.IpPool(name=pool_name("lan"), spec=pb.IpPoolSpec(ranges=[pb.IpRange(subnet="10.0.0.0/25")]))
    error = await failure(
        api.call(
            IP,
            "UpdateIpPool",
            pb.UpdateIpPoolRequest(ip_pool=shrink, update_mask=field_mask_pb2.FieldMask(paths=["spec.ranges"])),
        )
    )
    assert (error.code, error.metadata["address"]) == ("FAILED_PRECONDITION", "10.0.0.200")
    error = await failure(api.call(IP, "DeleteIpPool", pb.DeleteIpPoolRequest(name=pool_name("lan"))))
    assert (error.code, error.reason) == ("FAILED_PRECONDITION", "POOL_IN_USE")

    await release(api, "lan", address="10.0.0.200")
    await api.call(
        IP,
        "UpdateIpPool",
        pb.UpdateIpPoolRequest(ip_pool=shrink, update_mask=field_mask_pb2.FieldMask(paths=["spec.ranges"])),
    )
    await allocate(api, "lan", "b")
    await api.call(IP, "DeleteIpPool", pb.DeleteIpPoolRequest(name=pool_name("lan"), force=True))
    events = await api.call(IP, "ListIpAllocationEvents", pb.ListIpAllocationEventsRequest(parent=pool_name("lan")))
    assert [e.action for e in events.events] == [
        "POOL_CREATE",
        "ALLOCATE",
        "RELEASE",
        "POOL_UPDATE",
        "ALLOCATE",
        "FORCE_RELEASE",
        "POOL_DELETE",
    ]


async def test_the_ledger_answers_who_had_an_address(api) -> None:
    await create_pool(api, "lan", pb.IpRange(subnet="10.0.0.0/24"))
    for owner in ("a", "b"):
        await allocate(api, "lan", owner, address="10.0.0.7")
        await release(api, "lan", address="10.0.0.7")
    history = await api.call(
        IP,
        "ListIpAllocationEvents",
        pb.ListIpAllocationEventsRequest(parent=pool_name("lan"), filter='address = "10.0.0.7" AND action = ALLOCATE'),
    )
    assert [e.owner for e in history.events] == ["a", "b"]
    paged = await api.call(
        IP, "ListIpAllocationEvents", pb.ListIpAllocationEventsRequest(parent=pool_name("lan"), page_size=2)
    )
    assert len(paged.events) == 2 and paged.next_page_token
    bad = await failure(
        api.call(
            IP,
            "ListIpAllocationEvents",
            pb.ListIpAllocationEventsRequest(parent=pool_name("lan"), filter="colour = red"),
        )
    )
    assert "filter" in bad.violations


async def test_the_ledger_records_each_allocation_once_with_its_request_id_and_nothing_refused(api) -> None:
    """The allocation and its ledger event are written by one statement: a refused or repeated request adds no event."""
    await create_pool(api, "lan", pb.IpRange(subnet="10.0.0.0/24"))
    request_id = "5f0c3f4e-8a1b-4c55-9d0e-2b7a6c1d9e01"
    request = pb.AllocateIpAddressRequest(pool=pool_name("lan"), owner="a", address="10.0.0.7", request_id=request_id)
    assert (await api.call(IP, "AllocateIpAddress", request)).reason == "REQUESTED"
    assert (await api.call(IP, "AllocateIpAddress", request)).address == "10.0.0.7"  # the retry's first answer
    taken = await failure(allocate(api, "lan", "b", address="10.0.0.7"))
    assert (taken.reason, taken.metadata["holder"]) == ("ADDRESS_TAKEN", "a")
    assert (await allocate(api, "lan", "a")).reason == "EXISTING"
    assert (await allocate(api, "lan", "b")).address == "10.0.0.8"
    events = await api.call(IP, "ListIpAllocationEvents", pb.ListIpAllocationEventsRequest(parent=pool_name("lan")))
    assert [(e.action, e.owner, e.address, e.request_id) for e in events.events] == [
        ("POOL_CREATE", "", "", ""),
        ("ALLOCATE", "a", "10.0.0.7", request_id),
        ("ALLOCATE", "b", "10.0.0.8", ""),
    ]
