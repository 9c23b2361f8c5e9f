"""Watch streams that survive dropped connections without missing or repeating a change.

Every event carries the change-log revision it was read at, so after a
dropped stream (server restart, load balancer timeout) the stream is opened
again from the last revision seen, BOOKMARKs included. A watch without a
starting revision first reads the current one from the paired List call, so
even a drop before the first event loses nothing.

A revision the server no longer keeps is OUT_OF_RANGE, like Kubernetes' 410
Gone. By default that is raised: the caller's view is stale and only it
knows how to rebuild it. With ``relist=True`` the stream rebuilds it the way
an informer does: it lists everything, yields ADDED for resources it had not
seen, MODIFIED for those it had, DELETED (name only) for those now gone, and
watches on from the list's revision.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, AsyncIterator, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from google.protobuf.message import Message

from harrow._errors import HarrowError, OutOfRange
from harrow._transport import Transport
from harrow.v1 import common_pb2

EventT = TypeVar("EventT", bound=Message)


@dataclass(frozen=True)
class ListCall:
    """The List method paired with a Watch: same parent and filter, items in ``items_field``."""

    path: str
    request_type: type[Message]
    response_type: type[Message]
    items_field: str
    shared_fields: Sequence[str]


class WatchStream(Generic[EventT]):
    """``async for event in client.watch_…()``; ``await stream.aclose()`` ends it."""

    def __init__(
        self,
        transport: Transport,
        path: str,
        request: Message,
        response_type: type[EventT],
        resource_field: str,
        lister: ListCall,
        *,
        relist: bool,
    ) -> None:
        self._transport = transport
        self._path = path
        self._request = request
        self._response_type = response_type
        self._resource_field = resource_field
        self._lister = lister
        self._relist = relist
        self._known: set[str] = set()
        self._events = self._run()
        self.revision = 0
        """The revision of the last event yielded (or the starting revision before any)."""

    def __aiter__(self) -> WatchStream[EventT]:
        return self

    async def __anext__(self) -> EventT:
        return await self._events.__anext__()

    async def aclose(self) -> None:
        await self._events.aclose()

    async def _run(self) -> AsyncGenerator[EventT]:
        self.revision = getattr(self._request, "since_revision", 0) or await self._current_revision()
        failures = 0
        while True:
            request = type(self._request)()
            request.CopyFrom(self._request)
            request.since_revision = self.revision  # type: ignore[attr-defined]
            try:
                async for event in self._transport.stream(self._path, request, self._response_type):
                    failures = 0
                    self._remember(event)
                    self.revision = event.revision  # type: ignore[attr-defined]
                    yield event
            except OutOfRange:
                if not self._relist:
                    raise
                async for event in self._relisted():
                    yield event
                continue
            except HarrowError as error:
                failures += 1
                if not self._transport.should_retry(error, failures):
                    raise
                await asyncio.sleep(self._transport.retry.delay(failures, error.retry_delay))
                continue
            # The server ended the stream cleanly (it is shutting down): open it again.
            failures += 1
            await asyncio.sleep(self._transport.retry.delay(failures))

    def _remember(self, event: Any) -> None:
        if not self._relist or event.type == common_pb2.BOOKMARK:
            return
        name = getattr(event, self._resource_field).name
        if event.type == common_pb2.DELETED:
            self._known.discard(name)
        else:
            self._known.add(name)

    def _list_request(self, page_size: int = 0) -> Any:
        request: Any = self._lister.request_type()
        for field in self._lister.shared_fields:
            setattr(request, field, getattr(self._request, field))
        if page_size:
            request.page_size = page_size
        return request

    async def _current_revision(self) -> int:
        page: Any = await self._transport.unary(
            self._lister.path, self._list_request(page_size=1), self._lister.response_type, retry=True
        )
        revision: int = page.revision
        return revision

    async def _relisted(self) -> AsyncIterator[EventT]:
        request = self._list_request()
        revision, current = 0, {}
        while True:
            page: Any = await self._transport.unary(self._lister.path, request, self._lister.response_type, retry=True)
            revision = revision or page.revision
            current.update({item.name: item for item in getattr(page, self._lister.items_field)})
            if not page.next_page_token:
                break
            request.page_token = page.next_page_token
        for name in sorted(self._known - current.keys()):
            gone = self._response_type(type=common_pb2.DELETED, revision=revision)
            getattr(gone, self._resource_field).name = name
            yield gone
        for name, resource in current.items():
            kind = common_pb2.MODIFIED if name in self._known else common_pb2.ADDED
            event = self._response_type(type=kind, revision=revision)
            getattr(event, self._resource_field).CopyFrom(resource)
            yield event
        self._known = set(current)
        self.revision = revision
