"""The controllers' work queue: store events and timers become reconcile calls.

Reconcilers are plain synchronous functions of (namespace, name) that read
the current state and move it one step, like real controllers' level-driven
Reconcile. Keys are de-duplicated while queued, and timers are expressed in
cluster seconds through the clock, so phase durations scale with the test.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from ..clock import Clock
from ..errors import ApiError
from ..store import Event, Store

Key = tuple[str, str, str]
Reconciler = Callable[[str, str], None]
Mapper = Callable[[Event], list[Key]]

log = logging.getLogger("kubesim.controllers")


class WorkLoop:
    def __init__(self, store: Store, clock: Clock) -> None:
        self.store = store
        self.clock = clock
        self.reconcilers: dict[str, list[Reconciler]] = {}
        self.mappers: list[Mapper] = []
        self.pending: dict[Key, None] = {}
        self.wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._timers: set[asyncio.TimerHandle] = set()
        store.listeners.append(self._on_event)

    def register(self, resource_key: str, reconciler: Reconciler) -> None:
        self.reconcilers.setdefault(resource_key, []).append(reconciler)

    def map(self, mapper: Mapper) -> None:
        self.mappers.append(mapper)

    def _on_event(self, event: Event) -> None:
        meta = event.obj["metadata"]
        self.enqueue((event.resource.key, meta.get("namespace", ""), meta["name"]))
        for mapper in self.mappers:
            for key in mapper(event):
                self.enqueue(key)

    def enqueue(self, key: Key) -> None:
        if key[0] in self.reconcilers:
            self.pending[key] = None
            self.wake.set()

    def after(self, cluster_seconds: float, key: Key) -> None:
        loop = asyncio.get_running_loop()
        handle: asyncio.TimerHandle

        def fire() -> None:
            self._timers.discard(handle)
            self.enqueue(key)

        handle = loop.call_later(max(cluster_seconds, 0) / self.clock.scale, fire)
        self._timers.add(handle)

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run())

    async def stop(self) -> None:
        for handle in self._timers:
            handle.cancel()
        self._timers.clear()
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass

    async def _run(self) -> None:
        while True:
            await self.wake.wait()
            self.wake.clear()
            while self.pending:
                key = next(iter(self.pending))
                del self.pending[key]
                for reconcile in self.reconcilers.get(key[0], []):
                    try:
                        reconcile(key[1], key[2])
                    except ApiError as exc:
                        log.debug("reconcile %s: %s", key, exc.message)
                        self.after(1.0, key)
                await asyncio.sleep(0)
