"""Per-principal limits over both transports: a request rate (RESOURCE_EXHAUSTED / 429 with a retry
delay) that refills, and a cap on open Watch streams that frees up when one closes."""

from __future__ import annotations

import asyncio
import contextlib
import ssl
import time
from collections.abc import AsyncIterator

import aiohttp
import grpc
import pytest
from google.rpc import error_details_pb2
from grpc_status import rpc_status
from harrow.v1 import cluster_pb2
from harrow.v1 import security_pb2 as sec_pb
from harrow.v1 import virtual_machine_pb2 as vm_pb

from server.config import LimitsConfig
from tests.e2e.clients import ApiError
from tests.e2e.security.conftest import Api, Secured, Start
from tests.e2e.security.world import TEAM, add_principal, build, new_token

TRANSPORTS = ["grpc", "rest"]
QPS, BURST = 2.0, 6
LIST_CLUSTERS = cluster_pb2.ListClustersRequest()


async def _tokens(secure: Secured, *principals: str) -> dict[str, str]:
    """A viewer token for each principal (two admin calls each)."""
    tokens = {}
    async with secure.api("grpc", secure.admin_token) as admin:
        for principal in principals:
            await add_principal(admin, principal, sec_pb.VIEWER, "local", "")
            tokens[principal] = (await new_token(admin, principal)).secret
    return tokens


def _retry_delay(error: ApiError) -> float | None:
    """The RetryInfo delay of a gRPC failure, in seconds."""
    call_error = error.__cause__
    assert isinstance(call_error, grpc.aio.AioRpcError)
    status = rpc_status.from_call(call_error)
    assert status is not None
    for detail in status.details:
        if detail.Is(error_details_pb2.RetryInfo.DESCRIPTOR):
            info = error_details_pb2.RetryInfo()
            detail.Unpack(info)
            return float(info.retry_delay.ToNanoseconds()) / 1e9
    return None


async def _rest_get(secure: Secured, token: str, path: str) -> tuple[int, dict[str, str], dict[str, object]]:
    context = ssl.create_default_context(cafile=str(secure.pki.ca.cert_file))
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(ssl=context)) as session:
        async with session.get(secure.endpoints.rest + path, headers={"Authorization": f"Bearer {token}"}) as reply:
            return reply.status, dict(reply.headers), await reply.json()


async def _exhaust(api: Api) -> tuple[int, ApiError]:
    """Calls until the first refusal: how many got through, and the refusal."""
    for made in range(BURST + 20):
        try:
            await api.call("ClusterService", "ListClusters", LIST_CLUSTERS)
        except ApiError as error:
            return made, error
    raise AssertionError(f"{BURST + 20} calls and no refusal")


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_a_principal_over_its_rate_is_told_when_to_come_back_and_others_are_not_slowed(
    start_secure: Start, transport: str
) -> None:
    secure = await start_secure(limits=LimitsConfig(rate_limit_qps=QPS, rate_limit_burst=BURST))
    tokens = await _tokens(secure, "busy", "calm")
    async with secure.api(transport, tokens["busy"]) as busy, secure.api(transport, tokens["calm"]) as calm:
        made, refused = await _exhaust(busy)
        assert made >= BURST
        assert (refused.code, refused.reason) == ("RESOURCE_EXHAUSTED", "RATE_LIMITED")
        assert refused.metadata["principal"] == "principals/busy"
        if transport == "grpc":
            delay = _retry_delay(refused)
            assert delay is not None and 0 < delay <= 1 / QPS
        else:
            assert refused.http_status == 429
            status, headers, body = await _rest_get(secure, tokens["busy"], "/v1/clusters")
            assert status == 429 and headers["Retry-After"] == "1"  # 1/QPS = 0.5 s, rounded up
            error = body["error"]
            assert isinstance(error, dict) and error["status"] == "RESOURCE_EXHAUSTED"
            details = {detail["@type"].split("/")[-1]: detail for detail in error["details"]}
            assert details["google.rpc.ErrorInfo"]["reason"] == "RATE_LIMITED"
            assert 0 < float(details["google.rpc.RetryInfo"]["retryDelay"].rstrip("s")) <= 1 / QPS
        for _ in range(3):
            await calm.call("ClusterService", "ListClusters", LIST_CLUSTERS)
        await asyncio.sleep(1 / QPS + 0.05)  # one token back
        await busy.call("ClusterService", "ListClusters", LIST_CLUSTERS)


async def test_a_denied_call_still_costs_a_token_and_a_refused_one_does_not(start_secure: Start) -> None:
    secure = await start_secure(limits=LimitsConfig(rate_limit_qps=QPS, rate_limit_burst=BURST))
    tokens = await _tokens(secure, "viewer")
    async with secure.api("grpc", tokens["viewer"]) as viewer:
        denied = sec_pb.CreatePrincipalRequest(principal_id="x", principal=sec_pb.Principal())
        codes = []
        for _ in range(BURST + 4):
            with pytest.raises(ApiError) as failed:
                await viewer.call("SecurityService", "CreatePrincipal", denied)
            codes.append(failed.value.code)
        assert codes[0] == "PERMISSION_DENIED" and codes[-1] == "RESOURCE_EXHAUSTED"
        # Refusals took nothing: one token's wait is enough however many were refused.
        await asyncio.sleep(1 / QPS + 0.05)
        await viewer.call("ClusterService", "ListClusters", LIST_CLUSTERS)


@contextlib.asynccontextmanager
async def _watching(api: Api) -> AsyncIterator[asyncio.Task[None]]:
    """A Watch held open by `api` (its first event received, so the server counts it) until the block ends."""
    first = asyncio.get_running_loop().create_future()

    async def watch() -> None:
        request = vm_pb.WatchVirtualMachinesRequest(parent=TEAM)
        try:
            async for _ in api.stream("VirtualMachineService", "WatchVirtualMachines", request):
                if not first.done():
                    first.set_result(None)
        except ApiError as error:
            if not first.done():
                first.set_exception(error)

    task = asyncio.create_task(watch())
    try:
        await asyncio.wait_for(asyncio.shield(first), 10)
        yield task
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_the_watch_cap_refuses_one_more_stream_until_one_closes(start_secure: Start, transport: str) -> None:
    secure = await start_secure(limits=LimitsConfig(max_watches_per_principal=2))
    world = await build(secure)
    async with (
        secure.api(transport, world.tokens["operator"]) as operator,
        secure.api(transport, world.tokens["viewer"]) as viewer,
    ):
        async with _watching(operator), _watching(operator) as second:
            with pytest.raises(ApiError) as refused:
                async with _watching(operator):
                    pass
            assert (refused.value.code, refused.value.reason) == ("RESOURCE_EXHAUSTED", "TOO_MANY_WATCHES")
            if transport == "rest":
                assert refused.value.http_status == 429
            async with _watching(viewer):  # another principal has its own streams
                pass
            second.cancel()
            deadline = time.monotonic() + 10
            while True:  # the server lets go of the slot once it sees the stream gone
                try:
                    async with _watching(operator):
                        break
                except ApiError as error:
                    assert error.reason == "TOO_MANY_WATCHES" and time.monotonic() < deadline
                    await asyncio.sleep(0.1)
