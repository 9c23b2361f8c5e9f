"""The one place gRPC calls are made: metadata, deadlines, retries and error mapping.

Generated methods build a request and hand it here with the method's path
and response class, so every resource family gets the same behaviour. Calls
go through `grpc.aio` multicallables made from the path, not the generated
`*_pb2_grpc` stubs, which carry no type information.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from typing import Any, TypeVar

import grpc
from google.protobuf.message import Message

from harrow._config import RetryConfig
from harrow._errors import HarrowError, error_from_rpc

ResponseT = TypeVar("ResponseT", bound=Message)


class Transport:
    def __init__(
        self,
        channel: grpc.aio.Channel,
        *,
        metadata: tuple[tuple[str, str], ...],
        retry: RetryConfig,
        timeout: float | None,
    ) -> None:
        self.channel = channel
        self.retry = retry
        self._metadata = metadata
        self._timeout = timeout

    async def unary(
        self,
        path: str,
        request: Message,
        response_type: type[ResponseT],
        *,
        retry: bool,
        call_timeout: float | None = None,
    ) -> ResponseT:
        """One call, retried per `RetryConfig` when ``retry`` says a repeat can have no second effect."""
        call: Callable[..., Any] = self.channel.unary_unary(
            path,
            request_serializer=_serialize,
            response_deserializer=response_type.FromString,
        )
        attempt = 0
        while True:
            attempt += 1
            try:
                response: ResponseT = await call(
                    request, timeout=call_timeout or self._timeout, metadata=self._metadata
                )
                return response
            except grpc.aio.AioRpcError as rpc_error:
                error = error_from_rpc(rpc_error)
                if not (retry and self.should_retry(error, attempt)):
                    raise error from rpc_error
            await asyncio.sleep(self.retry.delay(attempt, error.retry_delay))

    def should_retry(self, error: HarrowError, attempt: int) -> bool:
        return error.code in self.retry.codes and attempt < self.retry.max_attempts

    async def stream(self, path: str, request: Message, response_type: type[ResponseT]) -> AsyncIterator[ResponseT]:
        """A server stream's messages, without a deadline; the call is cancelled when the iteration stops early."""
        call = self.channel.unary_stream(
            path,
            request_serializer=_serialize,
            response_deserializer=response_type.FromString,
        )(request, metadata=self._metadata)
        try:
            async for message in call:
                yield message
        except grpc.aio.AioRpcError as rpc_error:
            raise error_from_rpc(rpc_error) from rpc_error
        finally:
            call.cancel()


def _serialize(message: Message) -> bytes:
    return message.SerializeToString()
