"""Watch fan-out (issue 12, benchmark 5): 200 WatchVirtualMachines streams while 500 changes/s are written.

The writer appends VirtualMachine changes straight to the change log at a fixed rate (open loop), one
transaction each with the NOTIFY the API's writers send, so the figure is the fan-out alone and not
the API's write path (bench 2 measures that): a label update's worth of change, each stamped with its
write time in `updateTime`. Every stream watches the namespace, so each change goes to all 200.
Delivery latency is receipt minus that stamp (one machine, one clock): it covers commit, the
sequencer, the change feed's read, per-stream filtering and conversion, gRPC, and the client.

Baseline, in the same run: bench.baselines' bare grpc.aio server-streaming handler fed the same
messages (already serialised, one asyncio queue per stream) by a Publish call per change, read by the
same client code. Target: p99 < 200 ms.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterable, AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import asyncpg
import grpc
from google.protobuf import json_format
from harrow.v1 import common_pb2, virtual_machine_pb2_grpc
from harrow.v1 import virtual_machine_pb2 as vm_pb

from bench.api_bench import sample_vm
from bench.baselines import WATCH_METHOD
from bench.harness import Row, harrow_process, percentile, postgres, save
from bench.watch_writer import Write, change_log_writer, publisher
from storage.embedded import free_port

NAMESPACE = "clusters/local/namespaces/default"
# How long delivery may trail the last write before the rest counts as not delivered.
DRAIN_SECONDS = 10.0
STREAMS_PER_CHANNEL = 10


@dataclass(frozen=True)
class Load:
    streams: int
    rate: float
    seconds: float


@dataclass
class Received:
    """Latencies (s) of measured events across all streams; how many were due; seconds from first write to last."""

    latencies: list[float]
    expected: int
    seconds: float
    written_per_s: float
    failed_writes: int

    @property
    def delivered(self) -> float:
        return len(self.latencies) / self.expected if self.expected else 0.0

    @property
    def per_second(self) -> float:
        return len(self.latencies) / self.seconds if self.seconds else 0.0


def _receipt(event: vm_pb.WatchVirtualMachinesResponse) -> float | None:
    """Latency of a measured event; None for warm-up events and bookmarks."""
    seq = event.virtual_machine.labels.get("seq")
    if seq is None or seq.startswith("w"):
        return None
    written: float = event.virtual_machine.update_time.ToNanoseconds() / 1e9
    return time.time() - written


async def run_writer(mode: str, target: str, template: dict[str, Any], load: Load) -> dict[str, float]:
    """bench.watch_writer in its own process, at the load's rate; what it reports."""
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as file:
        json.dump(template, file)
    try:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bench.watch_writer",
            mode,
            target,
            file.name,
            str(load.rate),
            str(load.seconds),
            stdout=subprocess.PIPE,
        )
        out, _ = await process.communicate()
        if process.returncode:
            raise RuntimeError(f"watch writer failed ({process.returncode})")
        report: dict[str, float] = json.loads(out)
        return report
    finally:
        await asyncio.to_thread(os.unlink, file.name)


async def fan_out(
    open_stream: Callable[[int], AsyncIterable[vm_pb.WatchVirtualMachinesResponse]],
    warm_up: Write,
    write_load: Callable[[], Awaitable[dict[str, float]]],
    load: Load,
) -> Received:
    """Open the streams, warm them up until each has seen a change, then run the writer and collect."""
    latencies: list[float] = []
    warmed: set[int] = set()
    warm = asyncio.Event()
    finished = asyncio.Event()
    last = [0.0]
    expected = [load.streams * int(load.rate * load.seconds)]

    async def reader(index: int) -> None:
        async for event in open_stream(index):
            latency = _receipt(event)
            if latency is None:
                if event.virtual_machine.labels.get("seq", "").startswith("w"):
                    warmed.add(index)
                    if len(warmed) == load.streams:
                        warm.set()
                continue
            latencies.append(latency)
            last[0] = time.perf_counter()
            if len(latencies) >= expected[0]:
                finished.set()

    readers = [asyncio.create_task(reader(i)) for i in range(load.streams)]
    try:
        for attempt in range(100):
            await warm_up(f"w{attempt}", time.time())
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(warm.wait(), 0.5)
                break
        else:
            raise TimeoutError(f"only {len(warmed)} of {load.streams} streams saw a warm-up change")
        report = await write_load()
        written_at = time.perf_counter()
        expected[0] = load.streams * int(report["written"])
        if len(latencies) >= expected[0]:
            finished.set()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(finished.wait(), DRAIN_SECONDS)
        rate = report["written"] / report["seconds"]
        print(f"  {report['written']:.0f} writes at {rate:.0f}/s; {len(latencies)} of {expected[0]} events arrived")
    finally:
        for task in readers:
            task.cancel()
        await asyncio.gather(*readers, return_exceptions=True)
    # The writer's own span, plus however long delivery trailed its end.
    seconds = report["seconds"] + max(0.0, (last[0] or written_at) - written_at)
    return Received(latencies, expected[0], seconds, rate, int(report["failed"]))


@contextlib.asynccontextmanager
async def watch_channels(target: str, streams: int) -> AsyncIterator[list[grpc.aio.Channel]]:
    """One connection per STREAMS_PER_CHANNEL watchers, as separate clients would have, apart from the writer's."""
    async with contextlib.AsyncExitStack() as stack:
        count = -(-streams // STREAMS_PER_CHANNEL)
        yield [
            await stack.enter_async_context(
                grpc.aio.insecure_channel(target, options=[("grpc.use_local_subchannel_pool", 1)])
            )
            for _ in range(count)
        ]


async def harrow_fan_out(database_url: str, load: Load) -> tuple[Received, dict[str, Any]]:
    """Harrow's fan-out; also returns the watched VM (proto3 JSON), the template both runs' changes carry."""
    env = {"HARROW_MAX_WATCHES_PER_PRINCIPAL": "0", "HARROW_RATE_LIMIT_QPS": "0"}
    async with (
        harrow_process(database_url, **env) as endpoints,
        grpc.aio.insecure_channel(endpoints.grpc) as channel,
    ):
        stub = virtual_machine_pb2_grpc.VirtualMachineServiceStub(channel)
        await stub.CreateVirtualMachine(
            vm_pb.CreateVirtualMachineRequest(
                parent=NAMESPACE, virtual_machine_id="watched", virtual_machine=sample_vm()
            )
        )
        vm = await stub.GetVirtualMachine(vm_pb.GetVirtualMachineRequest(name=f"{NAMESPACE}/virtualMachines/watched"))
        template = json_format.MessageToDict(vm)
        async with (
            asyncpg.create_pool(database_url, min_size=1, max_size=2) as pool,
            watch_channels(endpoints.grpc, load.streams) as channels,
        ):
            stubs = [virtual_machine_pb2_grpc.VirtualMachineServiceStub(c) for c in channels]

            def open_stream(index: int) -> AsyncIterable[vm_pb.WatchVirtualMachinesResponse]:
                request = vm_pb.WatchVirtualMachinesRequest(parent=NAMESPACE)
                return stubs[index % len(stubs)].WatchVirtualMachines(request)  # type: ignore[no-any-return]

            received = await fan_out(
                open_stream,
                change_log_writer(pool, template),
                lambda: run_writer("pg", database_url, template, load),
                load,
            )
    return received, template


async def baseline_fan_out(template: dict[str, Any], load: Load) -> Received:
    port = free_port()
    with tempfile.NamedTemporaryFile(delete=False) as file:
        file.write(vm_pb.WatchVirtualMachinesResponse(type=common_pb2.BOOKMARK).SerializeToString())
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bench.baselines",
        "stream",
        str(port),
        file.name,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    target = f"127.0.0.1:{port}"
    try:
        async with grpc.aio.insecure_channel(target) as channel:
            await asyncio.wait_for(channel.channel_ready(), 60)
            async with watch_channels(target, load.streams) as channels:
                watches: list[grpc.aio.UnaryStreamMultiCallable[bytes, vm_pb.WatchVirtualMachinesResponse]] = [
                    c.unary_stream(WATCH_METHOD, response_deserializer=vm_pb.WatchVirtualMachinesResponse.FromString)
                    for c in channels
                ]

                def open_stream(index: int) -> AsyncIterable[vm_pb.WatchVirtualMachinesResponse]:
                    return watches[index % len(watches)](b"")

                return await fan_out(
                    open_stream, publisher(channel, template), lambda: run_writer("grpc", target, template, load), load
                )
    finally:
        process.terminate()
        await process.wait()
        await asyncio.to_thread(os.unlink, file.name)


def _figures(received: Received) -> dict[str, float]:
    return {
        "p50_ms": percentile(received.latencies, 0.5) * 1000,
        "p99_ms": percentile(received.latencies, 0.99) * 1000,
        "max_ms": max(received.latencies, default=float("nan")) * 1000,
        "delivered": received.delivered,
        "events_per_s": received.per_second,
        "failed_writes": received.failed_writes,
        "written_per_s": received.written_per_s,
    }


def _p99(received: Received) -> float:
    """p99 latency in ms; infinite when over 1% never arrived (a p99 of the arrivals alone would flatter)."""
    return percentile(received.latencies, 0.99) * 1000 if received.delivered >= 0.99 else float("inf")


def measure(database_url: str, load: Load) -> tuple[Received, Received]:
    harrow, template = asyncio.run(harrow_fan_out(database_url, load))
    return harrow, asyncio.run(baseline_fan_out(template, load))


# The load (100,000 events/s to deliver) is several times what a Python gRPC server, bare or not,
# delivers on two cores, so latency there only says how far behind it fell; the second load (2,000 events/s)
# is one Harrow keeps up with, and shows the latency of the fan-out itself.
LOADS = (Load(streams=200, rate=500.0, seconds=3.0), Load(streams=200, rate=10.0, seconds=5.0))


def run(loads: tuple[Load, ...] = LOADS) -> list[Row]:
    rows: list[Row] = []
    results: list[dict[str, object]] = []
    for load in loads:
        with postgres() as database:
            harrow, base = measure(database.url(), load)
        figures = {"harrow": _figures(harrow), "baseline": _figures(base)}
        for key, value in figures.items():
            print(
                f"  watch {load.streams}x{load.rate:.0f}/s {key:<8} p50 {value['p50_ms']:8.1f} ms  "
                f"p99 {value['p99_ms']:8.1f} ms  max {value['max_ms']:8.1f} ms  "
                f"delivered {value['delivered']:6.1%}  {value['events_per_s']:8,.0f} events/s"
            )
        results.append({"streams": load.streams, "changes_per_s": load.rate, "seconds": load.seconds, **figures})
        p99 = _p99(harrow)
        rows.append(
            Row(
                f"Watch p99, {load.streams} streams x {load.rate:.0f} changes/s vs bare grpc.aio",
                p99,
                _p99(base),
                "ms",
                "< 200 ms",
                p99 < 200,
            )
        )
        rows.append(
            Row(
                "  events delivered/s (all streams) vs bare grpc.aio",
                harrow.per_second,
                base.per_second,
                "/s",
                f"{load.streams * load.rate:,.0f}/s due",
                None,
            )
        )
    save("watch", {"drain_s": DRAIN_SECONDS, "runs": results})
    return rows


if __name__ == "__main__":
    streams, rate, seconds = (float(arg) for arg in (sys.argv[1:] or ["200", "500", "5"]))
    run((Load(int(streams), rate, seconds),))
