"""List results as iterators that fetch the next page when the current one runs out.

Harrow's pages are keyset pages behind an opaque token, so following
`next_page_token` to the end sees every resource that existed throughout,
once, even while others are created or deleted (README: List).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any, Generic, TypeVar

from google.protobuf.message import Message

from harrow._transport import Transport

ItemT = TypeVar("ItemT", bound=Message)


class AsyncPager(Generic[ItemT]):
    """``async for item in client.list_…()`` yields every item of every page.

    Use `pages` for the responses themselves, e.g. for the ``revision`` a
    page was read at.
    """

    def __init__(
        self,
        transport: Transport,
        path: str,
        request: Message,
        response_type: type[Message],
        items_field: str,
        timeout: float | None,
    ) -> None:
        self._transport = transport
        self._path = path
        self._request = request
        self._response_type = response_type
        self._items_field = items_field
        self._timeout = timeout

    def __aiter__(self) -> AsyncIterator[ItemT]:
        return self._items()

    async def _items(self) -> AsyncIterator[ItemT]:
        async for page in self.pages():
            for item in getattr(page, self._items_field):
                yield item

    async def pages(self) -> AsyncIterator[Any]:
        """Each page's response message, in order, until the last page."""
        request = type(self._request)()
        request.CopyFrom(self._request)
        while True:
            page = await self._transport.unary(
                self._path, request, self._response_type, retry=True, call_timeout=self._timeout
            )
            yield page
            token: str = getattr(page, "next_page_token", "")
            if not token:
                return
            request.page_token = token  # type: ignore[attr-defined]
