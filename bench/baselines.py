"""Empty servers answering with a fixed payload: the floor each Harrow transport is compared with.

Run in their own process (`python -m bench.baselines grpc|rest PORT PAYLOAD_FILE`), like the Harrow server
under test, so neither shares an interpreter with the load generator.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import grpc
from aiohttp import web

GRPC_METHOD = "/bench.Empty/Get"


async def serve_grpc(port: int, payload: bytes) -> None:
    async def get(request: bytes, context: grpc.aio.ServicerContext[bytes, bytes]) -> bytes:
        return payload

    handler = grpc.method_handlers_generic_handler("bench.Empty", {"Get": grpc.unary_unary_rpc_method_handler(get)})
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
    serve = serve_grpc if kind == "grpc" else serve_rest
    asyncio.run(serve(port, payload_file.read_bytes()))
