"""One reachable cluster: its rate-limited client, what it reports about itself, and its informers.

A cluster is READY for work only once both informers (VMs and VMIs managed by
Harrow) have listed: before that the cache cannot tell "absent" from "not
seen yet", and creating from a cold cache would duplicate objects.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from typing import Any

from server.reconcile import facts, kube
from server.reconcile.informer import Informer
from server.reconcile.translate import MANAGED_BY, ClusterFacts

Obj = dict[str, Any]
SELECTOR = f"{MANAGED_BY[0]}={MANAGED_BY[1]}"


class ClusterConnection:
    def __init__(self, cluster: str, fingerprint: str, api: kube.LimitedApiClient, probe: facts.Probe):
        self.cluster = cluster
        self.fingerprint = fingerprint
        self.api = api
        self.probe = probe
        self.vms: Informer | None = None
        self.vmis: Informer | None = None
        self._tasks: list[asyncio.Task[None]] = []

    @property
    def facts(self) -> ClusterFacts:
        return self.probe.facts

    @classmethod
    async def open(
        cls,
        cluster: str,
        fingerprint: str,
        kubeconfig: bytes | None,
        flavor: str,
        *,
        qps: float,
        burst: int,
        watch_seconds: int,
        on_event: Callable[[str, str, Obj], None],
        sync_seconds: float,
    ) -> ClusterConnection:
        api = await kube.connect(kubeconfig, qps=qps, burst=burst)
        try:
            probe = await facts.probe(api, flavor)
        except BaseException:
            await api.close()
            raise
        connection = cls(cluster, fingerprint, api, probe)
        try:
            connection.vms = Informer(
                api,
                group="kubevirt.io",
                version="v1",
                plural="virtualmachines",
                label_selector=SELECTOR,
                on_event=lambda kind, obj: on_event(cluster, kind, obj),
                watch_seconds=watch_seconds,
            )
            connection.vmis = Informer(
                api,
                group="kubevirt.io",
                version="v1",
                plural="virtualmachineinstances",
                label_selector=SELECTOR,
                on_event=lambda kind, obj: on_event(cluster, kind, obj),
                watch_seconds=watch_seconds,
            )
            for informer in (connection.vms, connection.vmis):
                connection._tasks.append(
                    asyncio.create_task(informer.run(), name=f"informer-{cluster}-{informer.plural}")
                )
            await asyncio.wait_for(
                asyncio.gather(connection.vms.synced.wait(), connection.vmis.synced.wait()), sync_seconds
            )
        except BaseException:
            await connection.close()
            raise
        return connection

    @property
    def ready(self) -> bool:
        return all(i is not None and i.synced.is_set() and i.error is None for i in (self.vms, self.vmis))

    @property
    def error(self) -> str | None:
        return next((i.error for i in (self.vms, self.vmis) if i is not None and i.error), None)

    def cached(self, namespace: str, name: str) -> tuple[Obj | None, Obj | None]:
        assert self.vms is not None and self.vmis is not None
        return self.vms.get(namespace, name), self.vmis.get(namespace, name)

    async def close(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        await self.api.close()
