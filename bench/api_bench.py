"""API floor and writes (issue 12, benchmarks 1 and 2).

1. GetVirtualMachine over gRPC and REST against an empty grpc.aio / aiohttp handler returning a payload of
   the same size, each server in its own process, 16 closed-loop clients. Target: >= 0.5x on both.
2. CreateVirtualMachine (validation + one transaction with change and operation rows) against pgbench
   single-row INSERT transactions/s on the same PostgreSQL, same client count. Target: >= 0.3x.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import subprocess
import sys
import tempfile
from collections.abc import AsyncIterator

import aiohttp
import grpc
from harrow.v1 import virtual_machine_pb2 as vm_pb
from harrow.v1 import virtual_machine_pb2_grpc

from bench.baselines import GRPC_METHOD
from bench.harness import harrow_process, pgbench_inserts, postgres, save, wait_for_port
from bench.load import Figures, closed_loop
from storage.embedded import free_port

CLIENTS = 16
SECONDS = float(os.environ.get("HARROW_BENCH_SECONDS", "5"))
PARENT = "clusters/local/namespaces/default"


def sample_vm() -> vm_pb.VirtualMachine:
    return vm_pb.VirtualMachine(
        labels={"team": "web", "tier": "frontend"},
        spec=vm_pb.VirtualMachineSpec(
            description="benchmark VM",
            cpu=vm_pb.CpuTopology(cores=2),
            memory="4Gi",
            run_strategy=vm_pb.VirtualMachineSpec.HALTED,
            disks=[
                vm_pb.Disk(
                    name="root",
                    boot_order=1,
                    image=vm_pb.ImageSource(url="https://images.example/u.qcow2", size="20Gi"),
                ),
                vm_pb.Disk(name="data", new_volume=vm_pb.NewVolume(size="100Gi")),
            ],
            interfaces=[vm_pb.NetworkInterface(name="default", network="pod")],
            cloud_init=vm_pb.CloudInit(user_data="#cloud-config\npackages: [nginx]\n"),
        ),
    )


@contextlib.asynccontextmanager
async def baseline(kind: str, payload: bytes) -> AsyncIterator[int]:
    port = free_port()
    with tempfile.NamedTemporaryFile(delete=False) as file:
        file.write(payload)
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bench.baselines",
        kind,
        str(port),
        file.name,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        await wait_for_port(port)
        yield port
    finally:
        process.terminate()
        await process.wait()
        await asyncio.to_thread(os.unlink, file.name)


async def measure(database_url: str) -> dict[str, Figures]:
    figures: dict[str, Figures] = {}
    async with harrow_process(database_url) as endpoints, grpc.aio.insecure_channel(endpoints.grpc) as channel:
        stub = virtual_machine_pb2_grpc.VirtualMachineServiceStub(channel)
        await stub.CreateVirtualMachine(
            vm_pb.CreateVirtualMachineRequest(parent=PARENT, virtual_machine_id="bench", virtual_machine=sample_vm())
        )
        name = f"{PARENT}/virtualMachines/bench"
        get = vm_pb.GetVirtualMachineRequest(name=name)
        grpc_payload = (await stub.GetVirtualMachine(get)).SerializeToString()
        async with aiohttp.ClientSession() as http:
            url = f"{endpoints.rest}/v1/{name}"
            async with http.get(url) as response:
                rest_payload = await response.read()

            async def rest_get(_: int, target: str = url) -> None:
                async with http.get(target) as answer:
                    await answer.read()

            figures["grpc_get"] = await closed_loop(lambda _: stub.GetVirtualMachine(get), CLIENTS, SECONDS)
            async with baseline("grpc", grpc_payload) as port, grpc.aio.insecure_channel(f"127.0.0.1:{port}") as empty:
                call = empty.unary_unary(GRPC_METHOD)
                figures["grpc_empty"] = await closed_loop(lambda _: call(b""), CLIENTS, SECONDS)
            figures["rest_get"] = await closed_loop(rest_get, CLIENTS, SECONDS)
            async with baseline("rest", rest_payload) as port:
                empty_url = f"http://127.0.0.1:{port}/v1/{name}"
                figures["rest_empty"] = await closed_loop(lambda i: rest_get(i, empty_url), CLIENTS, SECONDS)

        vm = sample_vm()
        figures["create"] = await closed_loop(
            lambda i: stub.CreateVirtualMachine(
                vm_pb.CreateVirtualMachineRequest(parent=PARENT, virtual_machine_id=f"vm-{i}", virtual_machine=vm)
            ),
            CLIENTS,
            SECONDS,
        )
    return figures


def run() -> list[tuple[str, float, float, float]]:
    """Rows of (figure, measured/s, baseline/s, target ratio)."""
    with postgres() as server:
        inserts = pgbench_inserts(server, CLIENTS, max(1, int(SECONDS)))
        figures = asyncio.run(measure(server.url()))
    rows = [
        (
            "GetVirtualMachine gRPC vs empty grpc.aio",
            figures["grpc_get"].per_second,
            figures["grpc_empty"].per_second,
            0.5,
        ),
        (
            "GetVirtualMachine REST vs empty aiohttp",
            figures["rest_get"].per_second,
            figures["rest_empty"].per_second,
            0.5,
        ),
        ("CreateVirtualMachine vs pgbench INSERT", figures["create"].per_second, inserts, 0.3),
    ]
    save(
        "api",
        {
            key: {"per_s": value.per_second, "p50_ms": value.p50_ms, "p99_ms": value.p99_ms}
            for key, value in figures.items()
        }
        | {"pgbench_inserts_per_s": inserts, "clients": CLIENTS},
    )
    for key, value in figures.items():
        print(f"  {key:<11} {value.per_second:>9,.0f}/s  p50 {value.p50_ms:6.2f} ms  p99 {value.p99_ms:6.2f} ms")
    return rows


if __name__ == "__main__":
    for figure, measured, base, target in run():
        print(f"{figure}: {measured:,.0f}/s vs {base:,.0f}/s = {measured / base:.2f}x (target {target}x)")
