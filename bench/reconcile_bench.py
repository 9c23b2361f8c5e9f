"""Reconcile (issue 12, benchmark 4): N VMs created through the API until every one is RUNNING.

Three processes besides this one: PostgreSQL, `harrow-server serve` with its reconciler on (kube client
at QPS 200 / burst 400, the ReconcileConfig defaults), and kubesim (bench.kubesim_server) with its
clock sped up so a simulated boot costs nothing. The figure is wall time from the first
CreateVirtualMachine to the last VM reported RUNNING on a Watch stream; the floor is what the
client-side rate limit alone allows for the calls the run made, counted on kubesim's side:
(calls - burst) / QPS, since the bucket starts full. Target: within 1.5x of the floor.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import ssl
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import asyncpg
import grpc
import yaml
from google.protobuf import field_mask_pb2
from harrow.v1 import cluster_pb2, cluster_pb2_grpc, virtual_machine_pb2_grpc
from harrow.v1 import virtual_machine_pb2 as vm_pb

from bench.harness import Row, cpu_seconds, harrow_process, postgres, rss_mib, save

QPS, BURST = 200.0, 400
CLIENTS = 16
# Cluster seconds per wall second: a VM's ~6 simulated seconds to Running take ~6 ms.
CLOCK_SCALE = 1000.0
NODES = 4
NAMESPACE = "clusters/local/namespaces/default"


def bench_vm() -> vm_pb.VirtualMachine:
    """A typical small VM: one root disk imported from a registry (a DataVolume template), pod network."""
    return vm_pb.VirtualMachine(
        labels={"team": "bench"},
        spec=vm_pb.VirtualMachineSpec(
            cpu=vm_pb.CpuTopology(cores=1),
            memory="256Mi",
            run_strategy=vm_pb.VirtualMachineSpec.ALWAYS,
            disks=[
                vm_pb.Disk(
                    name="root",
                    boot_order=1,
                    image=vm_pb.ImageSource(url="docker://quay.io/containerdisks/fedora:41", size="2Gi"),
                )
            ],
            interfaces=[vm_pb.NetworkInterface(name="default", network="pod")],
        ),
    )


class Kubesim:
    """The counting kubesim process: its kubeconfig and its call counts."""

    def __init__(self, kubeconfig: Path, pid: int):
        self.kubeconfig = kubeconfig
        self.pid = pid
        config = yaml.safe_load(kubeconfig.read_text())
        self.url = config["clusters"][0]["cluster"]["server"]
        self._ssl = ssl.create_default_context()
        self._ssl.check_hostname = False
        self._ssl.verify_mode = ssl.CERT_NONE

    async def _call(self, method: str) -> dict[str, int]:
        async with (
            aiohttp.ClientSession(headers={"Authorization": "Bearer bench"}) as http,
            http.request(method, f"{self.url}/bench/calls", ssl=self._ssl) as response,
        ):
            response.raise_for_status()
            counts: dict[str, int] = await response.json()
            return counts

    async def calls(self) -> dict[str, int]:
        return await self._call("GET")

    async def reset(self) -> None:
        await self._call("DELETE")


@contextlib.asynccontextmanager
async def kubesim_process(clock_scale: float = CLOCK_SCALE, nodes: int = NODES) -> AsyncIterator[Kubesim]:
    kubeconfig = Path(tempfile.mkdtemp(prefix="harrow-bench-kubesim-")) / "kubeconfig"
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bench.kubesim_server",
        str(kubeconfig),
        str(clock_scale),
        str(nodes),
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )
    try:
        assert process.stdout is not None
        await asyncio.wait_for(process.stdout.readline(), 60)
        yield Kubesim(kubeconfig, process.pid)
    finally:
        process.terminate()
        await process.wait()


async def point_local_at(channel: grpc.aio.Channel, kubeconfig: str) -> None:
    """Register kubesim as clusters/local and wait until the reconciler has connected (state READY)."""
    clusters = cluster_pb2_grpc.ClusterServiceStub(channel)
    await clusters.UpdateCluster(
        cluster_pb2.UpdateClusterRequest(
            cluster=cluster_pb2.Cluster(name="clusters/local", kubeconfig=kubeconfig),
            update_mask=field_mask_pb2.FieldMask(paths=["kubeconfig"]),
        )
    )
    deadline = time.monotonic() + 60
    while (await clusters.GetCluster(cluster_pb2.GetClusterRequest(name="clusters/local"))).state != (
        cluster_pb2.Cluster.READY
    ):
        if time.monotonic() > deadline:
            raise TimeoutError("clusters/local did not become READY within 60 s")
        await asyncio.sleep(0.2)


async def create_until_running(channel: grpc.aio.Channel, count: int, within: float) -> tuple[float, float]:
    """(seconds until every VM was created, seconds until every VM was RUNNING), both from the first create."""
    stub = virtual_machine_pb2_grpc.VirtualMachineServiceStub(channel)
    running: set[str] = set()
    all_running = asyncio.Event()
    # Watch from a List's revision: no change is missed, and nothing waits for the stream's first message.
    since = (await stub.ListVirtualMachines(vm_pb.ListVirtualMachinesRequest(parent=NAMESPACE, page_size=1))).revision

    async def watch() -> None:
        stream = stub.WatchVirtualMachines(vm_pb.WatchVirtualMachinesRequest(parent=NAMESPACE, since_revision=since))
        async for event in stream:
            if event.virtual_machine.state == vm_pb.VirtualMachine.RUNNING:
                running.add(event.virtual_machine.name)
                if len(running) >= count:
                    all_running.set()
                    return

    watcher = asyncio.create_task(watch())
    vm, names = bench_vm(), iter(range(count))
    start = time.perf_counter()

    async def client() -> None:
        for i in names:
            await stub.CreateVirtualMachine(
                vm_pb.CreateVirtualMachineRequest(parent=NAMESPACE, virtual_machine_id=f"vm-{i}", virtual_machine=vm)
            )

    await asyncio.gather(*(client() for _ in range(CLIENTS)))
    created = time.perf_counter() - start
    try:
        await asyncio.wait_for(all_running.wait(), within)
    except TimeoutError:
        raise TimeoutError(f"only {len(running)} of {count} VMs RUNNING after {within:.0f} s") from None
    finally:
        watcher.cancel()
    return created, time.perf_counter() - start


async def measure(database_url: str, count: int) -> dict[str, object]:
    async with kubesim_process() as sim:
        env = {"HARROW_RECONCILE": "on", "HARROW_KUBE_QPS": str(QPS), "HARROW_KUBE_BURST": str(BURST)}
        async with harrow_process(database_url, **env) as endpoints, grpc.aio.insecure_channel(endpoints.grpc) as ch:
            await point_local_at(ch, sim.kubeconfig.read_text())
            # The connection's list/watch calls spent tokens; an idle moment refills the bucket to its burst.
            await asyncio.sleep(BURST / QPS)
            await sim.reset()
            rss_before = rss_mib(endpoints.pid)
            cpu_before = cpu_seconds(endpoints.pid), cpu_seconds(sim.pid)
            created, running = await create_until_running(ch, count, within=max(120.0, count * 0.5))
            cpu_running = cpu_seconds(endpoints.pid) - cpu_before[0], cpu_seconds(sim.pid) - cpu_before[1]
            # Calls that follow the last RUNNING (late status writes, settling) are part of the cost too.
            await asyncio.sleep(1.0)
            calls = await sim.calls()
            rss_after = rss_mib(endpoints.pid)
    # Each status write the reconciler makes appends a change (what Watch streams deliver): its count per VM
    # is the database side of the per-VM cost, next to the kube calls.
    connection = await asyncpg.connect(database_url)
    try:
        changes = await connection.fetchval("SELECT count(*) FROM changes WHERE name LIKE $1", f"{NAMESPACE}/%")
    finally:
        await connection.close()
    return {
        "created_s": created,
        "running_s": running,
        "calls": calls,
        "changes": changes,
        "rss_before_mib": rss_before,
        "rss_after_mib": rss_after,
        "server_cpu_s": cpu_running[0],
        "kubesim_cpu_s": cpu_running[1],
    }


def run(count: int = 1000) -> list[Row]:
    with postgres() as server:
        figures = asyncio.run(measure(server.url(), count))
    calls: dict[str, int] = figures["calls"]  # type: ignore[assignment]
    total = sum(calls.values())
    running_s: float = figures["running_s"]  # type: ignore[assignment]
    floor = max(total - BURST, 0) / QPS
    per_vm = total / count
    print(f"  reconcile: {count} VMs created in {figures['created_s']:.1f} s, all RUNNING in {running_s:.1f} s")
    print(f"  kube API calls: {total} ({per_vm:.2f} per VM); floor (calls - burst) / QPS = {floor:.1f} s")
    changes: int = figures["changes"]  # type: ignore[assignment]
    print(f"  VM changes written (create + status writes): {changes} ({changes / count:.1f} per VM)")
    server_cpu: float = figures["server_cpu_s"]  # type: ignore[assignment]
    kubesim_cpu: float = figures["kubesim_cpu_s"]  # type: ignore[assignment]
    # CPU, unlike wall time, is not inflated by whatever else shares the machine: compare changes by it.
    print(
        f"  CPU until all RUNNING: harrow-server {server_cpu:.1f} s ({1000 * server_cpu / count:.1f} ms per VM), "
        f"kubesim {kubesim_cpu:.1f} s"
    )
    print(
        f"  server RSS {figures['rss_before_mib']:.0f} MiB before, {figures['rss_after_mib']:.0f} MiB with "
        f"{count} VMs reconciled (informer caches, work queues)"
    )
    for key, value in sorted(calls.items(), key=lambda item: -item[1]):
        print(f"    {value:>7}  {key}")
    save(
        "reconcile",
        {
            "vms": count,
            "qps": QPS,
            "burst": BURST,
            "clock_scale": CLOCK_SCALE,
            "created_s": figures["created_s"],
            "all_running_s": running_s,
            "kube_calls": total,
            "kube_calls_per_vm": per_vm,
            "floor_s": floor,
            "ratio_to_floor": running_s / floor if floor else None,
            "calls_by_kind": calls,
            "rss_before_mib": figures["rss_before_mib"],
            "rss_after_mib": figures["rss_after_mib"],
            "vm_changes_per_vm": changes / count,
            "server_cpu_ms_per_vm": 1000 * server_cpu / count,
            "kubesim_cpu_s": kubesim_cpu,
        },
    )
    met = running_s <= 1.5 * floor if floor else None
    return [
        Row(f"Reconcile {count} VMs to RUNNING vs rate-limit floor", running_s, floor, "s", "<= 1.5x", met),
        Row("  kube API calls per VM (kubesim count)", per_vm, 0.0, "", "", None),
    ]


if __name__ == "__main__":
    print(json.dumps([row.__dict__ for row in run(int(sys.argv[1]) if len(sys.argv) > 1 else 1000)], indent=2))
