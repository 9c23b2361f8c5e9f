"""Parallel automation against one pool: never two owners for one address, and a ledger that replays exactly."""

from __future__ import annotations

import asyncio
import os
import random
from collections import Counter

import grpc
import pytest
from harrow.v1 import ip_pool_pb2 as pb
from harrow.v1 import ip_pool_pb2_grpc

from bench.harness import harrow_process

POOL = "clusters/local/ipPools/lan"
CLIENTS = 64
# Allocations plus releases across all clients; HARROW_IPAM_STRESS_OPERATIONS=10000 for the full run.
OPERATIONS = int(os.environ.get("HARROW_IPAM_STRESS_OPERATIONS", "3000"))


@pytest.fixture
async def second_harrow(database_url: str):
    """Another server, in its own process (`harrow-server serve`), on the same database."""
    async with harrow_process(database_url) as endpoints:
        yield endpoints


async def test_64_clients_on_two_server_processes_never_share_an_address(harrow, second_harrow) -> None:
    async with (
        grpc.aio.insecure_channel(harrow.endpoints.grpc) as first,
        grpc.aio.insecure_channel(second_harrow.grpc) as second,
    ):
        stubs = [ip_pool_pb2_grpc.IpPoolServiceStub(channel) for channel in (first, second)]
        # A /24 with 253 addresses for 64 owners, a few each: contention on purpose.
        await stubs[0].CreateIpPool(
            pb.CreateIpPoolRequest(
                parent="clusters/local",
                ip_pool_id="lan",
                ip_pool=pb.IpPool(spec=pb.IpPoolSpec(ranges=[pb.IpRange(subnet="10.0.0.0/24")])),
            )
        )
        per_client = OPERATIONS // CLIENTS
        held: dict[str, str] = {}

        async def client(index: int) -> None:
            stub = stubs[index % 2]
            rng = random.Random(index)
            for _ in range(per_client):
                owner = f"owner-{index}-{rng.randrange(4)}"
                if owner in held and rng.random() < 0.5:
                    await stub.ReleaseIpAddress(pb.ReleaseIpAddressRequest(pool=POOL, owner=owner))
                    held.pop(owner)
                else:
                    allocation = await stub.AllocateIpAddress(pb.AllocateIpAddressRequest(pool=POOL, owner=owner))
                    held[owner] = allocation.address

        await asyncio.gather(*(client(index) for index in range(CLIENTS)))

        live: dict[str, str] = {}
        token = ""
        while True:
            page = await stubs[1].ListIpAllocations(
                pb.ListIpAllocationsRequest(parent=POOL, page_size=1000, page_token=token)
            )
            for allocation in page.ip_allocations:
                assert allocation.address not in live, f"{allocation.address} listed twice"
                live[allocation.address] = allocation.owner
            token = page.next_page_token
            if not token:
                break
        assert Counter(live.values()).most_common(1)[0][1] == 1, "an owner holds two addresses"
        assert live == {address: owner for owner, address in held.items()}

        replayed: dict[str, str] = {}
        token = ""
        events = 0
        while True:
            page = await stubs[0].ListIpAllocationEvents(
                pb.ListIpAllocationEventsRequest(parent=POOL, page_size=1000, page_token=token)
            )
            for event in page.events:
                events += 1
                if event.action == "ALLOCATE":
                    assert event.address not in replayed, (
                        f"{event.address} allocated while held by {replayed.get(event.address)}"
                    )
                    replayed[event.address] = event.owner
                elif event.action in ("RELEASE", "FORCE_RELEASE"):
                    assert replayed.pop(event.address) == event.owner
            token = page.next_page_token
            if not token:
                break
        assert replayed == live
        assert events > OPERATIONS // 3


async def test_parallel_allocations_for_one_owner_all_get_its_one_address(harrow) -> None:
    """Two applies of the same configuration at once: one address for the owner, and both learn it."""
    async with grpc.aio.insecure_channel(harrow.endpoints.grpc) as channel:
        stub = ip_pool_pb2_grpc.IpPoolServiceStub(channel)
        await stub.CreateIpPool(
            pb.CreateIpPoolRequest(
                parent="clusters/local",
                ip_pool_id="lan",
                ip_pool=pb.IpPool(spec=pb.IpPoolSpec(ranges=[pb.IpRange(subnet="10.0.0.0/24")])),
            )
        )
        for round_ in range(3):
            owner = f"default/web-{round_}"
            request = pb.AllocateIpAddressRequest(pool=POOL, owner=owner)
            answers = await asyncio.gather(*(stub.AllocateIpAddress(request) for _ in range(16)))
            assert len({answer.address for answer in answers}) == 1, [answer.address for answer in answers]
        listed = await stub.ListIpAllocations(pb.ListIpAllocationsRequest(parent=POOL))
        assert sorted(a.owner for a in listed.ip_allocations) == [f"default/web-{n}" for n in range(3)]
