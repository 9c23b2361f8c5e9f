"""The watch bench's writer, in its own process so the 200 streams it reads cannot slow its pace.

`python -m bench.watch_writer pg|grpc TARGET TEMPLATE_FILE RATE SECONDS` writes RATE changes a second for
SECONDS, open loop (a late write does not delay the next), each carrying its sequence number as a label
and its write time as `updateTime`, then prints {"written", "failed", "seconds"} as JSON.
`pg` appends to Harrow's change log at the database URL TARGET; `grpc` publishes to the bare fan-out
baseline (bench.baselines stream) at host:port TARGET.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg
import grpc
from google.protobuf import json_format
from harrow.v1 import common_pb2
from harrow.v1 import virtual_machine_pb2 as vm_pb

from bench.baselines import PUBLISH_METHOD

KIND = "VirtualMachine"
Write = Callable[[str, float], Awaitable[None]]


class Stamped:
    """The VM each change carries: the template with its sequence number and write time filled in."""

    def __init__(self, template: dict[str, Any]):
        self.template = template

    def resource(self, seq: str, at: float) -> dict[str, Any]:
        labels = {**self.template.get("labels", {}), "seq": seq}
        stamp = datetime.fromtimestamp(at, UTC).isoformat().replace("+00:00", "Z")
        return {**self.template, "labels": labels, "updateTime": stamp}


def change_log_writer(pool: asyncpg.Pool, template: dict[str, Any]) -> Write:
    """Appends the row an API write appends (storage.repos.changes.append_many), numbered later by the sequencer."""
    stamped = Stamped(template)
    name, uid = template["name"], uuid.UUID(template["uid"])
    parent = name.rsplit("/virtualMachines/", 1)[0]

    async def write(seq: str, at: float) -> None:
        resource = json.dumps(stamped.resource(seq, at))
        async with pool.acquire() as connection, connection.transaction():
            await connection.execute(
                "INSERT INTO changes (kind, parent, name, uid, event_type, resource, create_time)"
                " VALUES ($1, $2, $3, $4, 'MODIFIED', $5::jsonb, now())",
                KIND,
                parent,
                name,
                uid,
                resource,
            )

    return write


def publisher(channel: grpc.aio.Channel, template: dict[str, Any]) -> Write:
    """Hands the baseline server each change already serialised, as the message its streams pass on."""
    stamped = Stamped(template)
    publish: grpc.aio.UnaryUnaryMultiCallable[bytes, bytes] = channel.unary_unary(PUBLISH_METHOD)

    async def write(seq: str, at: float) -> None:
        event = vm_pb.WatchVirtualMachinesResponse(type=common_pb2.MODIFIED, revision=1)
        json_format.ParseDict(stamped.resource(seq, at), event.virtual_machine)
        await publish(event.SerializeToString())

    return write


async def paced(write: Write, rate: float, seconds: float) -> dict[str, float]:
    writes, failed = int(rate * seconds), 0

    async def one(seq: int) -> None:
        nonlocal failed
        try:
            await write(str(seq), time.time())
        except grpc.aio.AioRpcError:
            # The bare server under overload cancels some Publish calls: those changes were never made.
            failed += 1

    start = time.perf_counter()
    pending: set[asyncio.Task[None]] = set()
    for seq in range(writes):
        delay = start + seq / rate - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        task = asyncio.create_task(one(seq))
        pending.add(task)
        task.add_done_callback(pending.discard)
    if pending:
        await asyncio.gather(*pending)
    return {"written": writes - failed, "failed": failed, "seconds": time.perf_counter() - start}


async def main(mode: str, target: str, template: dict[str, Any], rate: float, seconds: float) -> dict[str, float]:
    if mode == "pg":
        async with asyncpg.create_pool(target, min_size=4, max_size=8) as pool:
            return await paced(change_log_writer(pool, template), rate, seconds)
    async with grpc.aio.insecure_channel(target) as channel:
        return await paced(publisher(channel, template), rate, seconds)


if __name__ == "__main__":
    mode, target, template_file, rate, seconds = sys.argv[1:6]
    template = json.loads(Path(template_file).read_text())
    print(json.dumps(asyncio.run(main(mode, target, template, float(rate), float(seconds)))), flush=True)
