"""kubesim in its own process, counting every API request it answers (the reconcile bench's call count).

`python -m bench.kubesim_server KUBECONFIG_PATH CLOCK_SCALE NODES` writes a kubeconfig and serves until
SIGTERM. Counting happens on kubesim's side (aiohttp's response-prepare signal), so every request
Harrow's client makes is seen however the client batches or retries; a watch counts once, when it
opens. `GET /bench/calls` (admin token) answers the counts by verb and resource; `DELETE` resets them.
The nodes are large so 1,000 VMs fit: the bench measures the reconciler, not the scheduler saying no.
"""

from __future__ import annotations

import asyncio
import signal
import sys
from collections import Counter

from aiohttp import web

from kubesim import KubeSim, KubeSimConfig
from kubesim.config import NodeSpec

COUNTS: web.AppKey[Counter[str]] = web.AppKey("bench_calls", Counter)


def classify(request: web.Request) -> str | None:
    """'VERB group/plural[/sub]' for an API request; None for discovery, probes and the admin API."""
    parts = [part for part in request.path.split("/") if part]
    if not parts or parts[0] not in ("api", "apis"):
        return None
    rest = parts[2:] if parts[0] == "api" else parts[3:]
    group = "core" if parts[0] == "api" else parts[1]
    if len(rest) >= 2 and rest[0] == "namespaces" and len(rest) > 2:
        rest = rest[2:]
    if not rest:
        return None
    plural, named, sub = rest[0], len(rest) > 1, "/".join(rest[2:])
    verb = request.method
    if verb == "GET":
        verb = "GET" if named else ("WATCH" if request.query.get("watch") in ("true", "1") else "LIST")
    return f"{verb} {group}/{plural}{'/' + sub if sub else ''}"


async def _serve(kubeconfig: str, clock_scale: float, nodes: int) -> None:
    counts: Counter[str] = Counter()
    sim = KubeSim(
        KubeSimConfig(
            nodes=tuple(NodeSpec(cpu="512", memory="4Ti", pods=2000) for _ in range(nodes)),
            clock_scale=clock_scale,
            token="bench",
        )
    )
    admin_routes = sim.admin.routes

    async def count(request: web.Request, response: web.StreamResponse) -> None:
        key = classify(request)
        if key is not None:
            counts[key] += 1

    async def report(request: web.Request) -> web.Response:
        return web.json_response(dict(counts))

    async def reset(request: web.Request) -> web.Response:
        counts.clear()
        return web.json_response({})

    def routes(app: web.Application) -> None:
        admin_routes(app)
        app.router.add_get("/bench/calls", report)
        app.router.add_delete("/bench/calls", reset)
        app.on_response_prepare.append(count)

    # KubeSim builds its aiohttp app in start(); its admin-routes hook is where an embedder adds its own.
    sim.admin.routes = routes  # type: ignore[method-assign]
    await sim.start()
    sim.write_kubeconfig(kubeconfig)
    print(sim.url, flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    await stop.wait()
    await sim.stop()


if __name__ == "__main__":
    asyncio.run(_serve(sys.argv[1], float(sys.argv[2]), int(sys.argv[3])))
