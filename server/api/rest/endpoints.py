"""One endpoint object per HTTP rule: request mapping, the servicer call, the response.

Endpoints are generic: each holds its rule's prebuilt `RequestBinding` and
the bound servicer method, so serving a request is a regex match, a message
build, one await and one JSON encode.

Streams are NDJSON. Headers wait until the guard admitted the call (so an
authentication or authorization failure always gets its status), then for
the first message for at most `HEADERS_GRACE` seconds: a call that fails at
once (a bad filter, a too-old revision) still gets its proper HTTP status,
while a quiet watch still answers promptly. After that, a failure is the final line `{"error": {...}}`.
aiohttp does not cancel handlers when a client disconnects (unless the
runner asks for it), so a stream also checks the connection while it waits.
"""

from __future__ import annotations

import asyncio
import inspect
import json
from collections.abc import AsyncGenerator, Awaitable, Callable
from typing import Any, cast

from aiohttp import web
from google.protobuf.message import Message

from server.api.rest.call_context import RestCallContext
from server.api.rest.request_mapping import RequestBinding
from server.api.rest.responses import (
    JSON_TYPE,
    NDJSON_TYPE,
    RequestTooLarge,
    Unimplemented,
    error_body,
    error_response,
    message_json,
    message_response,
)
from server.domain.errors import DeadlineExceeded

HEADERS_GRACE = 0.5
DISCONNECT_POLL = 1.0

Endpoint = Callable[[web.Request, tuple[str, ...]], Awaitable[web.StreamResponse]]
UnaryCall = Callable[[Message, RestCallContext], Awaitable[Message]]
StreamCall = Callable[[Message, RestCallContext], AsyncGenerator[Message, None]]


class _RpcEndpoint:
    def __init__(self, name: str, binding: RequestBinding, max_body_bytes: int) -> None:
        self._name = name
        self._binding = binding
        self._max_body_bytes = max_body_bytes

    async def _prepare(self, request: web.Request, values: tuple[str, ...]) -> tuple[Message, RestCallContext]:
        context = RestCallContext(request)
        body = await _read_body(request, self._max_body_bytes) if self._binding.has_body else b""
        return self._binding.build(values, request.rel_url.query, body), context


class UnaryEndpoint(_RpcEndpoint):
    def __init__(self, name: str, binding: RequestBinding, max_body_bytes: int, call: UnaryCall) -> None:
        super().__init__(name, binding, max_body_bytes)
        self._call = call

    async def __call__(self, request: web.Request, values: tuple[str, ...]) -> web.StreamResponse:
        try:
            message, context = await self._prepare(request, values)
            if context.deadline is None:
                response = await self._call(message, context)
            else:
                response = await _within_deadline(self._call(message, context), context.deadline)
        except Exception as error:
            return error_response(error, self._name)
        return message_response(response)


class StreamEndpoint(_RpcEndpoint):
    def __init__(self, name: str, binding: RequestBinding, max_body_bytes: int, call: StreamCall) -> None:
        super().__init__(name, binding, max_body_bytes)
        self._call = call

    async def __call__(self, request: web.Request, values: tuple[str, ...]) -> web.StreamResponse:
        try:
            message, context = await self._prepare(request, values)
        except Exception as error:
            return error_response(error, self._name)
        messages = self._call(message, context)
        pending = asyncio.ensure_future(_next(messages))
        admitted = asyncio.ensure_future(context.admitted.wait())
        try:
            try:
                gate = asyncio.ensure_future(asyncio.wait({pending, admitted}, return_when=asyncio.FIRST_COMPLETED))
                if not await _settle(gate, request, context.deadline, None):
                    gate.cancel()
                    return web.Response(status=499)  # the client went away before the call was admitted
                await _settle(pending, request, context.deadline, HEADERS_GRACE)
                if pending.done():
                    pending.result()
            except Exception as error:
                return error_response(error, self._name)
            response = web.StreamResponse(headers={"Content-Type": NDJSON_TYPE})
            try:
                await response.prepare(request)
                while True:
                    try:
                        if not await _settle(pending, request, context.deadline, None):
                            return response
                        item = pending.result()
                    except Exception as error:
                        await response.write(self._error_line(error))
                        break
                    if item is None:
                        break
                    await response.write(message_json(item) + b"\n")
                    pending = asyncio.ensure_future(_next(messages))
                await response.write_eof()
            except ConnectionResetError:
                pass  # The client went away; there is no one left to tell.
            return response
        finally:
            admitted.cancel()
            pending.cancel()
            await asyncio.wait({pending})
            await messages.aclose()

    def _error_line(self, error: Exception) -> bytes:
        return json.dumps(error_body(error, self._name)[1], separators=(",", ":")).encode() + b"\n"


class UnimplementedEndpoint:
    """A route whose servicer does not implement the RPC: documented, routed, and 501."""

    def __init__(self, name: str) -> None:
        self._name = name

    async def __call__(self, request: web.Request, values: tuple[str, ...]) -> web.StreamResponse:
        return error_response(Unimplemented(f"{self._name} is not implemented"), self._name)


class DocumentEndpoint:
    def __init__(self, document: bytes) -> None:
        self._document = document

    async def __call__(self, request: web.Request, values: tuple[str, ...]) -> web.StreamResponse:
        return web.Response(body=self._document, content_type=JSON_TYPE)


async def _read_body(request: web.Request, limit: int) -> bytes:
    too_large = RequestTooLarge(f"the request body is larger than {limit} bytes")
    if request.content_length is not None and request.content_length > limit:
        raise too_large
    try:
        return await request.read()
    except web.HTTPRequestEntityTooLarge:
        raise too_large from None


async def _within_deadline(call: Awaitable[Message], deadline: float) -> Message:
    timeout = asyncio.timeout_at(deadline)
    try:
        async with timeout:
            return await call
    except TimeoutError:
        if timeout.expired():
            raise DeadlineExceeded("deadline exceeded") from None
        raise


async def _next(messages: AsyncGenerator[Message, None]) -> Message | None:
    try:
        return await anext(messages)
    except StopAsyncIteration:
        return None


async def _settle(
    pending: asyncio.Future[Any], request: web.Request, deadline: float | None, limit: float | None
) -> bool:
    """Wait for `pending`; False when the client went away or `limit` seconds passed first."""
    loop = asyncio.get_running_loop()
    give_up = None if limit is None else loop.time() + limit
    while not pending.done():
        now = loop.time()
        if deadline is not None and now >= deadline:
            raise DeadlineExceeded("deadline exceeded")
        if give_up is not None and now >= give_up:
            return False
        transport = request.transport
        if transport is None or transport.is_closing():
            return False
        waits = [DISCONNECT_POLL] + [t - now for t in (deadline, give_up) if t is not None]
        await asyncio.wait({pending}, timeout=min(waits))
    return True


def rpc_endpoint(
    name: str, binding: RequestBinding, max_body_bytes: int, servicer: object, method: str, streaming: bool
) -> Endpoint:
    """The endpoint for one RPC; UNIMPLEMENTED when the servicer does not override the generated stub."""
    implementation = getattr(type(servicer), method, None)
    call = getattr(servicer, method, None)
    if streaming and inspect.isasyncgenfunction(implementation):
        return StreamEndpoint(name, binding, max_body_bytes, cast(StreamCall, call))
    if not streaming and inspect.iscoroutinefunction(implementation):
        return UnaryEndpoint(name, binding, max_body_bytes, cast(UnaryCall, call))
    return UnimplementedEndpoint(name)
