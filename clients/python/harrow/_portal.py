"""An event loop on a daemon thread, so blocking code can drive the asyncio client.

`SyncClient` hands each call's coroutine (and each iterator step) to this
loop and waits for the answer; the gRPC channel lives on the loop, as
`grpc.aio` requires.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterable, Awaitable, Iterator
from concurrent.futures import Future
from typing import TypeVar

T = TypeVar("T")


class Portal:
    """An event loop on a daemon thread that blocking code hands coroutines and iterators to."""

    def __init__(self) -> None:
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="harrow-sdk", daemon=True)
        self._thread.start()

    def run(self, awaitable: Awaitable[T]) -> T:
        async def wrapped() -> T:
            return await awaitable

        future: Future[T] = asyncio.run_coroutine_threadsafe(wrapped(), self._loop)
        return future.result()

    def iterate(self, iterable: AsyncIterable[T]) -> Iterator[T]:
        iterator = aiter(iterable)
        try:
            while True:
                try:
                    yield self.run(anext(iterator))
                except StopAsyncIteration:
                    return
        finally:
            close = getattr(iterator, "aclose", None)
            if close is not None:
                self.run(close())

    def stop(self) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join()
        self._loop.close()
