"""IPAM: allocations/s at 32 concurrent clients, next to pgbench single-row INSERTs/s on the same PostgreSQL.

An allocation is more than an insert (the pool read, the candidate search,
the ledger event, and a gRPC round trip through a separate server process),
so the ratio says how close the allocator runs to the database's floor.
Afterwards the live allocations are checked for duplicates and against the
ledger. Target (issue 5/12): >= 0.5x with zero duplicates.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import time

import grpc
from harrow.v1 import ip_pool_pb2 as pb
from harrow.v1 import ip_pool_pb2_grpc

from bench.harness import harrow_process, pgbench_inserts, postgres, save

CLIENTS = 32
SECONDS = float(os.environ.get("HARROW_BENCH_SECONDS", "10"))
POOL = "clusters/local/ipPools/bench"


async def allocate_for(endpoint: str, seconds: float) -> tuple[int, int, float]:
    owners = itertools.count()
    async with grpc.aio.insecure_channel(endpoint) as channel:
        stub = ip_pool_pb2_grpc.IpPoolServiceStub(channel)
        await stub.CreateIpPool(
            pb.CreateIpPoolRequest(
                parent="clusters/local",
                ip_pool_id="bench",
                ip_pool=pb.IpPool(spec=pb.IpPoolSpec(ranges=[pb.IpRange(subnet="10.64.0.0/12")])),
            )
        )
        deadline = time.perf_counter() + seconds
        done = 0

        async def client() -> None:
            nonlocal done
            while time.perf_counter() < deadline:
                await stub.AllocateIpAddress(pb.AllocateIpAddressRequest(pool=POOL, owner=f"owner-{next(owners)}"))
                done += 1

        start = time.perf_counter()
        await asyncio.gather(*(client() for _ in range(CLIENTS)))
        elapsed = time.perf_counter() - start
        addresses: list[str] = []
        token = ""
        while True:
            page = await stub.ListIpAllocations(
                pb.ListIpAllocationsRequest(parent=POOL, page_size=1000, page_token=token)
            )
            addresses += [a.address for a in page.ip_allocations]
            token = page.next_page_token
            if not token:
                break
    assert len(addresses) == done, f"{done} allocations answered, {len(addresses)} live"
    return done, len(addresses) - len(set(addresses)), elapsed


async def measure(database_url: str) -> tuple[int, int, float]:
    async with harrow_process(database_url) as endpoints:
        return await allocate_for(endpoints.grpc, SECONDS)


def run() -> list[tuple[str, float, float, float]]:
    """Rows of (figure, measured/s, baseline/s, target ratio); fails on any duplicate address."""
    with postgres() as server:
        baseline = pgbench_inserts(server, CLIENTS, max(1, int(SECONDS)))
        done, duplicates, elapsed = asyncio.run(measure(server.url()))
    if duplicates:
        raise AssertionError(f"{duplicates} addresses were handed out twice")
    rate = done / elapsed
    print(f"IPAM allocations/s at {CLIENTS} clients: {rate:,.0f}")
    print(f"pgbench single-row INSERT tx/s at {CLIENTS} clients: {baseline:,.0f}")
    print(f"ratio: {rate / baseline:.2f}x (target >= 0.5x); duplicates: {duplicates}")
    save(
        "ipam",
        {
            "allocations_per_s": rate,
            "pgbench_inserts_per_s": baseline,
            "ratio": rate / baseline,
            "allocations": done,
            "duplicates": duplicates,
            "clients": CLIENTS,
        },
    )
    return [(f"IPAM allocations ({CLIENTS} clients) vs pgbench INSERT", rate, baseline, 0.5)]


if __name__ == "__main__":
    run()
