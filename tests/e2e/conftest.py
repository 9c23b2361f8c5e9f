"""A whole Harrow (real PostgreSQL, real sockets) per test, reached through real clients."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

import aiohttp
import grpc
import pytest

from server.app import Endpoints, Harrow
from server.config import AuthConfig, ListenConfig, Settings, WatchConfig
from tests.e2e.clients import GrpcApi, RestApi


@dataclass
class Running:
    harrow: Harrow
    endpoints: Endpoints
    database_url: str


@pytest.fixture
async def harrow(database_url: str) -> AsyncIterator[Running]:
    settings = Settings(
        listen=ListenConfig(host="127.0.0.1", grpc_port=0, rest_port=0),
        watch=WatchConfig(bookmark_seconds=0.5),
        database_url=database_url,
        database_pool_size=5,
        auth=AuthConfig(authenticate=False),
    )
    app = Harrow(settings)
    endpoints = await app.start()
    try:
        yield Running(app, endpoints, database_url)
    finally:
        await app.stop(grace_seconds=0)


@pytest.fixture
async def channel(harrow: Running) -> AsyncIterator[grpc.aio.Channel]:
    async with grpc.aio.insecure_channel(harrow.endpoints.grpc) as channel:
        yield channel


@pytest.fixture
async def http(harrow: Running) -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


@pytest.fixture(params=["grpc", "rest"])
async def api(request: pytest.FixtureRequest, harrow: Running) -> AsyncIterator[GrpcApi | RestApi]:
    if request.param == "grpc":
        async with grpc.aio.insecure_channel(harrow.endpoints.grpc) as channel:
            yield GrpcApi(channel)
    else:
        async with aiohttp.ClientSession() as session:
            yield RestApi(session, harrow.endpoints.rest)
