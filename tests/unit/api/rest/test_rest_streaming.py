from __future__ import annotations

import asyncio
import json
import time
from typing import Any

from tests.unit.api.rest.conftest import RestServer

CLUSTER = "/v1/clusters/local/namespaces"


async def lines_of(rest: RestServer, path: str) -> tuple[int, str, list[dict[str, Any]]]:
    async with rest.session.get(rest(path)) as response:
        lines = [json.loads(line) async for line in response.content if line.strip()]
        return response.status, response.content_type, lines


async def test_watch_streams_ndjson_one_message_per_line(rest: RestServer) -> None:
    status, content_type, lines = await lines_of(rest, f"{CLUSTER}/default/virtualMachines:watch?sinceRevision=10")

    assert (status, content_type) == (200, "application/x-ndjson")
    assert lines == [
        {
            "type": "MODIFIED",
            "revision": str(revision),
            "virtualMachine": {"name": f"clusters/local/namespaces/default/virtualMachines/vm{revision}"},
        }
        for revision in (11, 12, 13)
    ]


async def test_each_message_is_flushed_as_it_comes(rest: RestServer) -> None:
    arrivals: list[float] = []
    async with rest.session.get(rest(f"{CLUSTER}/slow/virtualMachines:watch")) as response:
        async for line in response.content:
            if line.strip():
                arrivals.append(time.monotonic())

    assert len(arrivals) == 3
    assert arrivals[1] - arrivals[0] > 0.2
    assert arrivals[2] - arrivals[1] > 0.2


async def test_error_before_the_first_message_is_a_plain_error_response(rest: RestServer) -> None:
    async with rest.session.get(rest(f"{CLUSTER}/too-old/virtualMachines:watch?sinceRevision=1")) as response:
        assert response.status == 400
        assert response.content_type == "application/json"
        body = await response.json()

    assert body["error"]["status"] == "OUT_OF_RANGE"


async def test_error_after_the_stream_started_is_the_last_line(rest: RestServer) -> None:
    status, _, lines = await lines_of(rest, f"{CLUSTER}/fails-late/virtualMachines:watch")

    assert status == 200
    assert [line["revision"] for line in lines[:-1]] == ["1", "2", "3"]
    error = lines[-1]["error"]
    assert (error["code"], error["status"], error["message"]) == (409, "ABORTED", "the watch was interrupted")
    assert error["details"][0]["reason"] == "WATCH_INTERRUPTED"


async def test_bad_query_parameter_fails_before_streaming(rest: RestServer) -> None:
    async with rest.session.get(rest(f"{CLUSTER}/default/virtualMachines:watch?sinceRevision=x")) as response:
        assert response.status == 400
        body = await response.json()

    assert body["error"]["details"][1]["fieldViolations"][0]["field"] == "since_revision"


async def test_stream_stops_when_the_client_disconnects(rest: RestServer) -> None:
    rest.servicer.watch_closed.clear()
    async with rest.session.get(rest(f"{CLUSTER}/forever/virtualMachines:watch")) as response:
        assert response.status == 200
        for _ in range(3):
            await response.content.readline()
        response.close()

    await asyncio.wait_for(rest.servicer.watch_closed.wait(), timeout=5)
