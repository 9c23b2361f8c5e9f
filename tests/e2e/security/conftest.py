"""A Harrow with security on: TLS from a throwaway CA, tokens required, kubeconfigs sealed.

Clients authenticate the way users do: gRPC with channel TLS credentials plus
bearer call credentials (or a client certificate), REST over https with an
Authorization header.
"""

from __future__ import annotations

import contextlib
import os
import ssl
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import aiohttp
import grpc
import pytest
from google.protobuf import descriptor_pool, symbol_database

from server.app import Endpoints, Harrow
from server.auth.bootstrap import bootstrap_admin
from server.config import AuthConfig, LimitsConfig, ListenConfig, ReconcileConfig, Settings, TlsConfig, WatchConfig
from tests.e2e.clients import GrpcApi, RestApi
from tests.e2e.security.pki import Authority, Issued, subject

Api = GrpcApi | RestApi


class _Stub:
    """Every method of one service of the contract, looked up in the descriptor pool when first called."""

    def __init__(self, channel: grpc.aio.Channel, service: str):
        self._channel = channel
        self._service = descriptor_pool.Default().FindServiceByName(f"harrow.v1.{service}")

    def __getattr__(self, method: str) -> Any:
        descriptor = self._service.methods_by_name[method]
        output = symbol_database.Default().GetSymbol(descriptor.output_type.full_name)
        factory = self._channel.unary_stream if descriptor.server_streaming else self._channel.unary_unary
        return factory(
            f"/{self._service.full_name}/{method}",
            request_serializer=lambda message: message.SerializeToString(),
            response_deserializer=output.FromString,
        )


class _Stubs(dict[str, _Stub]):
    def __init__(self, channel: grpc.aio.Channel):
        super().__init__()
        self._channel = channel

    def __missing__(self, service: str) -> _Stub:
        self[service] = stub = _Stub(self._channel, service)
        return stub


class ContractGrpcApi(GrpcApi):
    """GrpcApi over every service in the contract, the ones added since tests/e2e/clients.py was written too."""

    def __init__(self, channel: grpc.aio.Channel):
        self._stubs = _Stubs(channel)  # type: ignore[assignment]


@dataclass(frozen=True)
class Pki:
    ca: Authority
    server: Issued
    client: Issued
    stranger: Issued  # a client certificate from a CA Harrow does not trust


@pytest.fixture(scope="session")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    directory = tmp_path_factory.mktemp("pki")
    ca = Authority(directory, "harrow-test-ca")
    other = Authority(directory, "other-ca")
    return Pki(
        ca=ca,
        server=ca.issue("server", subject("harrow", "example"), server=True),
        client=ca.issue("ci", subject("ci", "example"), server=False),
        stranger=other.issue("stranger", subject("ci", "example"), server=False),
    )


@dataclass
class Secured:
    app: Harrow
    endpoints: Endpoints
    database_url: str
    admin_token: str
    pki: Pki
    secret_key: bytes

    @contextlib.asynccontextmanager
    async def api(self, transport: str, token: str | None = None, client: Issued | None = None) -> AsyncIterator[Api]:
        """A client over `transport` sending `token` (if any) and presenting `client` (if any)."""
        if transport == "grpc":
            credentials = grpc.ssl_channel_credentials(
                root_certificates=self.pki.ca.cert_pem,
                private_key=client.key_pem if client else None,
                certificate_chain=client.cert_pem if client else None,
            )
            if token is not None:
                credentials = grpc.composite_channel_credentials(credentials, grpc.access_token_call_credentials(token))
            async with grpc.aio.secure_channel(self.endpoints.grpc, credentials) as channel:
                yield ContractGrpcApi(channel)
        else:
            context = ssl.create_default_context(cafile=str(self.pki.ca.cert_file))
            if client is not None:
                context.load_cert_chain(client.cert_file, client.key_file)
            headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
            connector = aiohttp.TCPConnector(ssl=context)
            async with aiohttp.ClientSession(headers=headers, connector=connector) as session:
                yield RestApi(session, self.endpoints.rest)


Start = Callable[..., Awaitable[Secured]]


@pytest.fixture
async def start_secure(database_url: str, pki: Pki, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Start]:
    async with contextlib.AsyncExitStack() as stack:

        async def start(*, client_ca: bool = False, limits: LimitsConfig | None = None) -> Secured:
            secret_key = os.urandom(32)
            limits = limits or LimitsConfig()
            # The guard reads its limits from the environment when the app does not hand them over.
            monkeypatch.setenv("HARROW_RATE_LIMIT_QPS", str(limits.rate_limit_qps))
            monkeypatch.setenv("HARROW_RATE_LIMIT_BURST", str(limits.rate_limit_burst))
            monkeypatch.setenv("HARROW_MAX_WATCHES_PER_PRINCIPAL", str(limits.max_watches_per_principal))
            settings = Settings(
                listen=ListenConfig(host="127.0.0.1", grpc_port=0, rest_port=0),
                watch=WatchConfig(bookmark_seconds=0.5),
                database_url=database_url,
                database_pool_size=5,
                reconcile=ReconcileConfig(enabled=False),
                auth=AuthConfig(
                    authenticate=True,
                    tls=TlsConfig(pki.server.cert_file, pki.server.key_file, pki.ca.cert_file if client_ca else None),
                    secret_key=secret_key,
                    limits=limits,
                ),
            )
            app = Harrow(settings)
            admin_token = await bootstrap_admin(app.db)
            assert admin_token is not None
            endpoints = await app.start()
            stack.push_async_callback(app.stop, 0)
            return Secured(app, endpoints, database_url, admin_token, pki, secret_key)

        yield start


@pytest.fixture
async def secure(start_secure: Start) -> Secured:
    return await start_secure()
