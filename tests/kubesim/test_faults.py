"""Injected failures a reconciler must survive: dropped watches, latency, 500s and 429s."""

from __future__ import annotations

import asyncio
import time

import aiohttp
import pytest
from kubernetes_asyncio import client, watch
from kubernetes_asyncio.client.exceptions import ApiException

from kubesim import FaultRule, KubeSim

from .conftest import admin, eventually


@pytest.mark.parametrize("abrupt", [False, True], ids=["clean-end", "connection-reset"])
async def test_dropped_watch_ends_the_stream_and_resumes_from_the_last_revision(
    sim: KubeSim, core: client.CoreV1Api, abrupt: bool
) -> None:
    ns = f"drop-{str(abrupt).lower()}"
    await core.create_namespace({"metadata": {"name": ns}})
    start = (await core.list_namespaced_secret(ns)).metadata.resource_version
    seen: list[tuple[str, str, str]] = []

    async def consume(rv: str) -> None:
        async with watch.Watch().stream(core.list_namespaced_secret, ns, resource_version=rv, timeout_seconds=30) as s:
            async for event in s:
                meta = event["raw_object"]["metadata"]
                seen.append((event["type"], meta["name"], meta["resourceVersion"]))

    first = asyncio.create_task(consume(start))
    await core.create_namespaced_secret(ns, {"metadata": {"name": "before"}})
    await eventually(lambda: _true(len(seen) == 1))
    assert (await admin(sim, f"watches/drop?abrupt={str(abrupt).lower()}"))["dropped"] >= 1
    if abrupt:
        with pytest.raises(aiohttp.ClientPayloadError):
            await asyncio.wait_for(first, 2)
    else:
        await asyncio.wait_for(first, 2)

    await core.create_namespaced_secret(ns, {"metadata": {"name": "while-away"}})
    second = asyncio.create_task(consume(seen[-1][2]))
    await eventually(lambda: _true(len(seen) == 2))
    second.cancel()
    assert [(kind, name) for kind, name, _ in seen] == [("ADDED", "before"), ("ADDED", "while-away")]


async def _true(value: bool) -> bool:
    return value


async def test_latency_delays_only_the_matching_verb(sim: KubeSim, core: client.CoreV1Api) -> None:
    sim.faults.add(FaultRule(verb="list", resource="secrets", latency_ms=300))
    try:
        began = time.perf_counter()
        await core.list_namespaced_secret("default")
        slow = time.perf_counter() - began
        began = time.perf_counter()
        await core.list_namespace()
        fast = time.perf_counter() - began
    finally:
        sim.faults.clear()
    assert slow >= 0.3 > fast


async def test_error_rate_fails_a_share_of_requests(sim: KubeSim, core: client.CoreV1Api) -> None:
    await admin(sim, "faults", {"verb": "get", "resource": "namespaces", "errorRate": 0.5, "code": 500})
    outcomes: list[int] = []
    try:
        for _ in range(40):
            try:
                await core.read_namespace("default")
                outcomes.append(200)
            except ApiException as exc:
                outcomes.append(exc.status)
    finally:
        await admin(sim, "faults", method="DELETE")
    assert set(outcomes) == {200, 500}
    assert 8 <= outcomes.count(500) <= 32


async def test_throttling_reaches_the_client_with_retry_after(sim: KubeSim, core: client.CoreV1Api) -> None:
    await admin(sim, "faults", {"verb": "create", "resource": "secrets", "errorRate": 1.0, "code": 429})
    try:
        with pytest.raises(ApiException) as err:
            await core.create_namespaced_secret("default", {"metadata": {"name": "throttled"}})
    finally:
        await admin(sim, "faults", method="DELETE")
    assert err.value.status == 429 and err.value.headers["Retry-After"] == "1"
    await core.create_namespaced_secret("default", {"metadata": {"name": "throttled"}})
