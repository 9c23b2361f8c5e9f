"""`Client` (asyncio) and `SyncClient`: a channel, credentials and one typed method per RPC.

The methods themselves are generated from the contract into `_services`, so
a new resource family appears here by running the generator; this module
only owns the connection. `SyncClient` runs a `Client` on an event loop in
a private thread, so both behave the same way, retries and watch resumption
included, and there is one implementation of each.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from types import TracebackType
from typing import Any, Self

import grpc

from harrow._config import RetryConfig, TlsConfig
from harrow._portal import Portal
from harrow._services import AsyncMethods, SyncMethods
from harrow._transport import Transport
from harrow._version import __version__

DEFAULT_ENDPOINT = "localhost:50051"
# Reconnect soon after a server comes back instead of gRPC's default backoff of up to two minutes.
_CHANNEL_OPTIONS: tuple[tuple[str, Any], ...] = (
    ("grpc.primary_user_agent", f"harrow-sdk/{__version__}"),
    ("grpc.initial_reconnect_backoff_ms", 100),
    ("grpc.min_reconnect_backoff_ms", 100),
    ("grpc.max_reconnect_backoff_ms", 2000),
    ("grpc.max_receive_message_length", 16 * 1024 * 1024),
)


class Client(AsyncMethods):
    """Harrow over gRPC from asyncio code.

    Create it inside a running event loop, preferably as
    ``async with harrow.Client() as client:``.

    Args:
        endpoint: ``host:port``; default ``$HARROW_ENDPOINT``, else ``localhost:50051``.
        token: sent as ``authorization: Bearer <token>``; default ``$HARROW_TOKEN``, else none.
        tls: ``True`` or a `TlsConfig` for TLS; ``False`` (the default) for plaintext.
        retry: when and how calls are retried.
        timeout: default deadline in seconds for each unary call; ``None`` waits as long as needed.
        channel_options: extra ``grpc`` channel arguments, after the SDK's own.
    """

    def __init__(
        self,
        endpoint: str | None = None,
        *,
        token: str | None = None,
        tls: bool | TlsConfig = False,
        retry: RetryConfig | None = None,
        timeout: float | None = None,
        channel_options: Sequence[tuple[str, Any]] = (),
    ) -> None:
        self.endpoint = endpoint or os.environ.get("HARROW_ENDPOINT") or DEFAULT_ENDPOINT
        token = token if token is not None else os.environ.get("HARROW_TOKEN")
        options = (*_CHANNEL_OPTIONS, *channel_options)
        if tls is False:
            channel = grpc.aio.insecure_channel(self.endpoint, options=options)
        else:
            config = tls if isinstance(tls, TlsConfig) else TlsConfig()
            if config.server_name:
                options = (*options, ("grpc.ssl_target_name_override", config.server_name))
            credentials = grpc.ssl_channel_credentials(
                config.root_certificates, config.private_key, config.certificate_chain
            )
            channel = grpc.aio.secure_channel(self.endpoint, credentials, options=options)
        metadata = (("authorization", f"Bearer {token}"),) if token else ()
        self._transport = Transport(channel, metadata=metadata, retry=retry or RetryConfig(), timeout=timeout)

    async def close(self) -> None:
        """Close the channel; calls in flight are cancelled."""
        await self._transport.channel.close()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, error: BaseException | None, traceback: TracebackType | None
    ) -> None:
        await self.close()


class SyncClient(SyncMethods):
    """Harrow over gRPC from blocking code; the same arguments and methods as `Client`, without ``await``.

    Use it as ``with harrow.SyncClient() as client:`` or call `close`.
    """

    def __init__(
        self,
        endpoint: str | None = None,
        *,
        token: str | None = None,
        tls: bool | TlsConfig = False,
        retry: RetryConfig | None = None,
        timeout: float | None = None,
        channel_options: Sequence[tuple[str, Any]] = (),
    ) -> None:
        self._portal = Portal()

        async def connect() -> Client:
            return Client(endpoint, token=token, tls=tls, retry=retry, timeout=timeout, channel_options=channel_options)

        self._async = self._portal.run(connect())
        self.endpoint = self._async.endpoint

    def close(self) -> None:
        self._portal.run(self._async.close())
        self._portal.stop()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.close()
