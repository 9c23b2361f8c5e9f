"""kubesim throughput: writes/s and watch events/s, against an empty aiohttp handler.

The baseline is an aiohttp server on the same TLS setup answering every
request with ``{}``: the ratio shows what kubesim's API machinery costs on top
of the HTTP stack it shares with it, which is the number that tells whether
kubesim could ever be the bottleneck when Harrow is measured.
"""

from __future__ import annotations

import asyncio
import json
import ssl
import time
from datetime import UTC, datetime
from pathlib import Path

import aiohttp
from aiohttp import web

from kubesim import KubeSim, KubeSimConfig
from kubesim.tls import generate

WRITES = 2000
CONCURRENCY = 16
RESULTS = Path(__file__).with_name("results")


async def _hammer(url: str, token: str, ctx: ssl.SSLContext, count: int, body_of: object) -> float:
    async with aiohttp.ClientSession(headers={"Authorization": f"Bearer {token}"}) as http:
        queue = iter(range(count))

        async def worker() -> None:
            for i in queue:
                async with http.post(url, json=body_of(i), ssl=ctx) as resp:  # type: ignore[operator]
                    await resp.read()
                    assert resp.status in (200, 201), resp.status

        start = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(CONCURRENCY)))
        return count / (time.perf_counter() - start)


async def baseline() -> float:
    async def empty(request: web.Request) -> web.Response:
        await request.read()
        return web.json_response({})

    app = web.Application()
    app.router.add_post("/x", empty)
    runner = web.AppRunner(app)
    await runner.setup()
    certs = generate("127.0.0.1")
    site = web.TCPSite(runner, "127.0.0.1", 0, ssl_context=certs.server_context())
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        return await _hammer(f"https://127.0.0.1:{port}/x", "", certs.client_context(), WRITES, lambda i: {})
    finally:
        await runner.cleanup()


async def measure() -> dict[str, float]:
    sim = KubeSim(KubeSimConfig(token="bench"))
    await sim.start()
    ctx = ssl.create_default_context(cadata=sim.ca_pem.decode())
    try:
        secrets = f"{sim.url}/api/v1/namespaces/default/secrets"
        received = 0
        done = asyncio.Event()

        async def watch() -> None:
            nonlocal received
            watch_url = f"{secrets}?watch=true&resourceVersion={sim.store.rv}"
            async with (
                aiohttp.ClientSession(headers={"Authorization": "Bearer bench"}) as http,
                http.get(watch_url, ssl=ctx, timeout=aiohttp.ClientTimeout()) as resp,
            ):
                async for _line in resp.content:
                    received += 1
                    if received >= WRITES:
                        done.set()
                        return

        watcher = asyncio.create_task(watch())
        await asyncio.sleep(0.1)
        start = time.perf_counter()
        writes = await _hammer(secrets, "bench", ctx, WRITES, lambda i: {"metadata": {"name": f"s{i}"}})
        await asyncio.wait_for(done.wait(), 60)
        events = received / (time.perf_counter() - start)
        watcher.cancel()
    finally:
        await sim.stop()
    return {"writes_per_second": writes, "watch_events_per_second": events}


async def run() -> dict[str, object]:
    base = await baseline()
    sim = await measure()
    return {
        "when": datetime.now(UTC).isoformat(),
        "writes": WRITES,
        "concurrency": CONCURRENCY,
        "baseline_empty_handler_requests_per_second": base,
        **sim,
        "writes_vs_baseline": sim["writes_per_second"] / base,
    }


def main() -> None:
    result = asyncio.run(run())
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / "kubesim.json"
    out.write_text(json.dumps(result, indent=2))
    base = result["baseline_empty_handler_requests_per_second"]
    print(f"baseline (empty aiohttp handler): {base:.0f} req/s")
    print(
        f"kubesim writes:                   {result['writes_per_second']:.0f} writes/s "
        f"({result['writes_vs_baseline']:.2f}x baseline)"
    )
    print(f"kubesim watch events:             {result['watch_events_per_second']:.0f} events/s")
    print(f"written to {out}")


if __name__ == "__main__":
    main()
