"""Memory (issue 12, benchmark 6): the server's RSS at idle, with a large inventory, and across a churn soak.

The server is a real `harrow-server serve` process (reconciler off: bench 4 covers the reconciler, and
reports its RSS after 1,000 VMs); its RSS is read from /proc. Baseline: a bare Python process that
imports what the server imports and does nothing.

The inventory (10,000 VMs; 100 pools of 1,000 allocations; and enough changes to fill the change feed's
in-memory window, as on a server that has been running a while) is seeded the fast way: one VM and one
allocation per pool through the API, then copied row by row in SQL (every column copied, the identifying
ones varied), since creating 110,000 resources through the API would take the whole bench budget. The
server then reads all of it (every VM page, every pool's allocations) before its RSS is taken, so the
figure includes what serving that inventory leaves behind.

The soak runs creates, label updates and deletes of VMs plus IP allocate/release for a while (a flag;
10 minutes does not fit `make bench`), sampling RSS; growth is the least-squares slope over the soak's
second half, in MiB per minute. Without the window filled first, a soak shows it filling: about 6 KiB
per change until 10,000 changes are held (some 60 MiB, five minutes of this churn), then flat.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import itertools
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass

import asyncpg
import grpc
from google.protobuf import field_mask_pb2
from harrow.v1 import ip_pool_pb2 as ip_pb
from harrow.v1 import ip_pool_pb2_grpc, virtual_machine_pb2_grpc
from harrow.v1 import virtual_machine_pb2 as vm_pb

from bench.api_bench import sample_vm
from bench.harness import Row, harrow_process, postgres, rss_mib, save
from storage.changefeed import ChangeFeed

NAMESPACE = "clusters/local/namespaces/default"
CLUSTER = "clusters/local"
CHURN_CLIENTS = 8
# The recent changes each server keeps in memory for Watch (storage.changefeed.ChangeFeed).
CHANGE_WINDOW: int = inspect.signature(ChangeFeed).parameters["window"].default
BASELINE_IMPORTS = "import server.cli, server.app, storage.migrate, kubernetes_asyncio, grpc, aiohttp, sqlalchemy"


@dataclass(frozen=True)
class Inventory:
    vms: int = 10_000
    pools: int = 100
    allocations_per_pool: int = 1_000


async def _clone(
    connection: asyncpg.Connection, table: str, where: str, arg: str, overrides: dict[str, str], n: int
) -> None:
    """`n` copies of the rows matching `where` (g = 1..n in the overrides), every other column as it is."""
    columns = [
        row["column_name"]
        for row in await connection.fetch(
            "SELECT column_name FROM information_schema.columns WHERE table_name = $1"
            " AND is_generated = 'NEVER' AND is_identity = 'NO' ORDER BY ordinal_position",
            table,
        )
    ]
    selected = ", ".join(overrides.get(column, column) for column in columns)
    await connection.execute(
        f"INSERT INTO {table} ({', '.join(columns)}) SELECT {selected} FROM {table}, generate_series(1, {n}) AS g"
        f" WHERE {where}",
        arg,
    )


async def seed(database_url: str, channel: grpc.aio.Channel, inventory: Inventory) -> None:
    vms = virtual_machine_pb2_grpc.VirtualMachineServiceStub(channel)
    pools = ip_pool_pb2_grpc.IpPoolServiceStub(channel)
    template = sample_vm()
    await vms.CreateVirtualMachine(
        vm_pb.CreateVirtualMachineRequest(parent=NAMESPACE, virtual_machine_id="seed", virtual_machine=template)
    )
    for index in range(inventory.pools):
        pool = ip_pb.IpPool(spec=ip_pb.IpPoolSpec(ranges=[ip_pb.IpRange(subnet=f"10.{index}.0.0/16")]))
        await pools.CreateIpPool(ip_pb.CreateIpPoolRequest(parent=CLUSTER, ip_pool_id=f"pool-{index}", ip_pool=pool))
        await pools.AllocateIpAddress(ip_pb.AllocateIpAddressRequest(pool=f"{CLUSTER}/ipPools/pool-{index}", owner="o"))
    connection = await asyncpg.connect(database_url)
    try:
        async with connection.transaction():
            seed_name = f"{NAMESPACE}/virtualMachines/seed"
            vm_overrides = {"name": "name || '-' || g", "uid": "gen_random_uuid()"}
            await _clone(connection, "virtual_machines", "name = $1", seed_name, vm_overrides, inventory.vms - 1)
            copies = inventory.allocations_per_pool - 1
            await _clone(
                connection,
                "ip_allocations",
                "cluster = $1",
                CLUSTER,
                {"address": "address + g", "owner": "owner || '-' || g"},
                copies,
            )
            # A server that has run a while holds the change feed's full window of recent changes in memory;
            # filling it here makes the loaded figure that server's, and the soak measure growth, not the fill.
            await _clone(
                connection,
                "changes",
                "name = $1",
                seed_name,
                {"revision": "NULL", "name": "name || '-' || g"},
                CHANGE_WINDOW,
            )
            await _clone(
                connection,
                "ip_allocation_events",
                "cluster = $1",
                CLUSTER,
                {"address": "address + g", "owner": "owner || '-' || g"},
                copies,
            )
    finally:
        await connection.close()


async def read_everything(channel: grpc.aio.Channel, inventory: Inventory) -> int:
    """Page through every VM and every pool's allocations, as a UI or Terraform refresh would; returns the count."""
    vms = virtual_machine_pb2_grpc.VirtualMachineServiceStub(channel)
    pools = ip_pool_pb2_grpc.IpPoolServiceStub(channel)
    seen, token = 0, ""
    while True:
        page = await vms.ListVirtualMachines(
            vm_pb.ListVirtualMachinesRequest(parent=NAMESPACE, page_size=1000, page_token=token)
        )
        seen += len(page.virtual_machines)
        token = page.next_page_token
        if not token:
            break
    for index in range(inventory.pools):
        token = ""
        while True:
            allocations = await pools.ListIpAllocations(
                ip_pb.ListIpAllocationsRequest(
                    parent=f"{CLUSTER}/ipPools/pool-{index}", page_size=1000, page_token=token
                )
            )
            seen += len(allocations.ip_allocations)
            token = allocations.next_page_token
            if not token:
                break
    return seen


async def churn(channel: grpc.aio.Channel, seconds: float, pid: int) -> list[tuple[float, float]]:
    """Create, relabel and delete VMs and allocate/release addresses for `seconds`; RSS samples (s, MiB)."""
    vms = virtual_machine_pb2_grpc.VirtualMachineServiceStub(channel)
    pools = ip_pool_pb2_grpc.IpPoolServiceStub(channel)
    template, names = sample_vm(), itertools.count()
    start = time.perf_counter()
    deadline = start + seconds

    async def vm_client() -> None:
        while time.perf_counter() < deadline:
            vm_id = f"churn-{next(names)}"
            name = f"{NAMESPACE}/virtualMachines/{vm_id}"
            await vms.CreateVirtualMachine(
                vm_pb.CreateVirtualMachineRequest(parent=NAMESPACE, virtual_machine_id=vm_id, virtual_machine=template)
            )
            await vms.UpdateVirtualMachine(
                vm_pb.UpdateVirtualMachineRequest(
                    virtual_machine=vm_pb.VirtualMachine(name=name, labels={"churn": "yes"}),
                    update_mask=field_mask_pb2.FieldMask(paths=["labels"]),
                )
            )
            await vms.DeleteVirtualMachine(vm_pb.DeleteVirtualMachineRequest(name=name))

    async def ip_client(index: int) -> None:
        pool = f"{CLUSTER}/ipPools/pool-{index}"
        while time.perf_counter() < deadline:
            owner = f"churn-{next(names)}"
            await pools.AllocateIpAddress(ip_pb.AllocateIpAddressRequest(pool=pool, owner=owner))
            await pools.ReleaseIpAddress(ip_pb.ReleaseIpAddressRequest(pool=pool, owner=owner))

    samples: list[tuple[float, float]] = []

    async def sample() -> None:
        while time.perf_counter() < deadline:
            samples.append((time.perf_counter() - start, rss_mib(pid)))
            await asyncio.sleep(max(0.25, seconds / 120))

    await asyncio.gather(
        sample(), *(vm_client() for _ in range(CHURN_CLIENTS // 2)), *(ip_client(i) for i in range(CHURN_CLIENTS // 2))
    )
    samples.append((time.perf_counter() - start, rss_mib(pid)))
    return samples


def slope_per_minute(samples: list[tuple[float, float]]) -> float:
    """Least-squares MiB/min over the second half of the samples (the first half warms caches and pools)."""
    half = samples[len(samples) // 2 :]
    if len(half) < 2:
        return 0.0
    mean_t = sum(t for t, _ in half) / len(half)
    mean_m = sum(m for _, m in half) / len(half)
    spread = sum((t - mean_t) ** 2 for t, _ in half)
    return 60 * sum((t - mean_t) * (m - mean_m) for t, m in half) / spread if spread else 0.0


@contextlib.asynccontextmanager
async def bare_imports() -> AsyncIterator[int]:
    """A Python process that imports the server's stack and waits: the baseline's pid."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        f"{BASELINE_IMPORTS}; import sys; print('ready', flush=True); sys.stdin.read()",
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )
    try:
        assert process.stdout is not None
        await asyncio.wait_for(process.stdout.readline(), 60)
        yield process.pid
    finally:
        process.kill()
        await process.wait()


async def settled_rss(pid: int) -> float:
    """RSS after a moment of quiet (in-flight buffers and the last request's garbage gone)."""
    await asyncio.sleep(1.0)
    return rss_mib(pid)


async def _changes(database_url: str) -> int:
    connection = await asyncpg.connect(database_url)
    try:
        count: int = await connection.fetchval("SELECT count(*) FROM changes")
        return count
    finally:
        await connection.close()


async def measure(database_url: str, inventory: Inventory, soak_seconds: float) -> dict[str, object]:
    async with bare_imports() as baseline_pid:
        baseline = await settled_rss(baseline_pid)
    async with harrow_process(database_url) as endpoints, grpc.aio.insecure_channel(endpoints.grpc) as channel:
        idle = await settled_rss(endpoints.pid)
        started = time.perf_counter()
        await seed(database_url, channel, inventory)
        seeded_s = time.perf_counter() - started
        read = await read_everything(channel, inventory)
        loaded = await settled_rss(endpoints.pid)
        changes_before = await _changes(database_url)
        samples = await churn(channel, soak_seconds, endpoints.pid)
        changes = await _changes(database_url) - changes_before
        after = await settled_rss(endpoints.pid)
    return {
        "baseline_mib": baseline,
        "idle_mib": idle,
        "loaded_mib": loaded,
        "after_soak_mib": after,
        "resources_read": read,
        "seed_s": seeded_s,
        "soak_s": soak_seconds,
        "growth_mib_per_min": slope_per_minute(samples),
        # Growth set against what the soak wrote: the change feed keeps a window of recent changes in memory.
        "changes_during_soak": changes,
        "samples": samples,
    }


def run(inventory: Inventory = Inventory(), soak_seconds: float = 60.0) -> list[Row]:
    with postgres() as server:
        figures = asyncio.run(measure(server.url(), inventory, soak_seconds))
    baseline: float = figures["baseline_mib"]  # type: ignore[assignment]
    idle: float = figures["idle_mib"]  # type: ignore[assignment]
    loaded: float = figures["loaded_mib"]  # type: ignore[assignment]
    after: float = figures["after_soak_mib"]  # type: ignore[assignment]
    growth: float = figures["growth_mib_per_min"]  # type: ignore[assignment]
    changes: int = figures["changes_during_soak"]  # type: ignore[assignment]
    print(
        f"  memory: bare imports {baseline:.0f} MiB; server idle {idle:.0f} MiB; with {inventory.vms} VMs and "
        f"{inventory.pools}x{inventory.allocations_per_pool} allocations read {loaded:.0f} MiB; "
        f"after a {soak_seconds:.0f} s churn soak {after:.0f} MiB ({growth:+.2f} MiB/min over its second half; "
        f"{changes} changes written)"
    )
    save(
        "memory", {"vms": inventory.vms, "pools": inventory.pools, "per_pool": inventory.allocations_per_pool} | figures
    )
    inventory_name = f"{inventory.vms:,} VMs + {inventory.pools}x{inventory.allocations_per_pool:,} IPs"
    return [
        Row("Server RSS idle vs bare imports", idle, baseline, "MiB", "", None),
        Row(f"Server RSS, {inventory_name} read, vs idle", loaded, idle, "MiB", "", None),
        Row(
            f"Server RSS growth in a {soak_seconds:.0f} s churn soak (MiB/min)",
            growth,
            0.0,
            "MiB/min",
            "< 1 MiB/min",
            growth < 1.0,
        ),
    ]


if __name__ == "__main__":
    run(soak_seconds=float(sys.argv[1]) if len(sys.argv) > 1 else 60.0)
