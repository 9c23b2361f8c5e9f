"""Empty servers answering with a fixed payload: the floor each Harrow transport is compared with.

Run in their own process (`python -m bench.baselines grpc|rest|stream PORT PAYLOAD_FILE`), like the Harrow server
under test, so neither shares an interpreter with the load generator.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import grpc
from aiohttp import web

GRPC_METHOD = "/bench.Empty/Get"
# The watch fan-out floor: Publish hands a message to every open Watch stream through an asyncio queue each.
PUBLISH_METHOD = "/bench.Fanout/Publish"
WATCH_METHOD = "/bench.Fanout/Watch"


async def serve_grpc(port: int, payload: bytes) -> None:
    async def get(request: bytes, context: grpc.aio.ServicerContext[bytes, bytes]) -> bytes:
        return payload

    handler = grpc.method_handlers_generic_handler("bench.Empty", {"Get": grpc.unary_unary_rpc_method_handler(get)})
    server = grpc.aio.server()
    server.add_generic_rpc_handlers((handler,))
    server.add_insecure_port(f"127.0.0.1:{port}")
    await server.start()
    await server.wait_for_termination()


async def serve_stream(port: int, payload: bytes) -> None:
    """A bare grpc.aio server-streaming handler: each published message goes, as is, to every subscriber."""
    subscribers: set[asyncio.Queue[bytes]] = set()

    async def publish(request: bytes, context: grpc.aio.ServicerContext[bytes, bytes]) -> bytes:
        for queue in subscribers:
            queue.put_nowait(request)
        return b""

    async def watch(request: bytes, context: grpc.aio.ServicerContext[bytes, bytes]) -> AsyncIterator[bytes]:
        queue: asyncio.Queue[bytes] = asyncio.Queue()
        subscribers.add(queue)
        try:
            yield payload
            while True:
                yield await queue.get()
        finally:
            subscribers.discard(queue)

    handler = grpc.method_handlers_generic_handler(
        "bench.Fanout",
        {
            "Publish": grpc.unary_unary_rpc_method_handler(publish),
            "Watch": grpc.unary_stream_rpc_method_handler(watch),
        },
    )
    server = grpc.aio.server()
    server.add_generic_rpc_handlers((handler,))
    server.add_insecure_port(f"127.0.0.1:{port}")
    await server.start()
    await server.wait_for_termination()


async def serve_rest(port: int, payload: bytes) -> None:
    async def get(request: web.Request) -> web.Response:
        return web.Response(body=payload, content_type="application/json")

    app = web.Application()
    app.router.add_get("/{tail:.*}", get)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    await asyncio.Event().wait()


if __name__ == "__main__":
    kind, port, payload_file = sys.argv[1], int(sys.argv[2]), Path(sys.argv[3])
    serve = {"grpc": serve_grpc, "rest": serve_rest, "stream": serve_stream}[kind]
    asyncio.run(serve(port, payload_file.read_bytes()))
