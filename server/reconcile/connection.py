"""One reachable cluster: its rate-limited client, what it reports about itself, and its informers.

A cluster is READY for work only once every informer (one per kind of cluster
object the workers manage, labelled managed-by=harrow) has listed: before that
the cache cannot tell "absent" from "not seen yet", and creating from a cold
cache would duplicate objects. A kind the cluster does not serve (no
Harvester load balancer on plain KubeVirt) gets no informer and is reported
by `serves`, so it never holds the cluster's other work back.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from kubernetes_asyncio import client
from kubernetes_asyncio.client.exceptions import ApiException

from server.reconcile import facts, kube
from server.reconcile.informer import Informer
from server.reconcile.translate import MANAGED_BY, ClusterFacts

Obj = dict[str, Any]
SELECTOR = f"{MANAGED_BY[0]}={MANAGED_BY[1]}"
# (informer plural, event type, object): what the engine hears from every informer of a cluster.
OnEvent = Callable[[str, str, str, Obj], None]


@dataclass(frozen=True)
class Watched:
    """A kind of cluster object a worker manages; `optional` kinds may be missing from a cluster.

    `labelled=False` watches every object of the kind, not only Harrow's: for kinds Harrow observes
    rather than creates (StorageClasses, CDI StorageProfiles). `awaited=False` kinds do not hold the
    connection back until they are listed: without them an answer is less precise, not wrong (namespace
    labels), so a kubeconfig that may not read them still manages the cluster.
    """

    group: str
    version: str
    plural: str
    optional: bool = False
    labelled: bool = True
    awaited: bool = True


class ClusterConnection:
    def __init__(self, cluster: str, fingerprint: str, api: kube.LimitedApiClient, probe: facts.Probe):
        self.cluster = cluster
        self.fingerprint = fingerprint
        self.api = api
        self.probe = probe
        self.probed_at = time.monotonic()
        self.informers: dict[str, Informer] = {}
        # The informers the connection's health depends on (Watched.awaited).
        self._awaited: list[Informer] = []
        self._tasks: list[asyncio.Task[None]] = []

    async def reprobe(self, flavor: str) -> None:
        """Read the cluster's versions and settings again (an upgrade changes its defaults: semantics.md)."""
        self.probe = await facts.probe(self.api, flavor)
        self.probed_at = time.monotonic()

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
        watched: Sequence[Watched],
        qps: float,
        burst: int,
        watch_seconds: int,
        on_event: OnEvent,
        sync_seconds: float,
    ) -> ClusterConnection:
        api = await kube.connect(kubeconfig, qps=qps, burst=burst)
        try:
            # Bounded: the client has no timeout of its own, and a server that accepts but never answers would
            # otherwise hold this connection attempt forever.
            probe = await asyncio.wait_for(facts.probe(api, flavor), sync_seconds)
        except BaseException:
            await api.close()
            raise
        connection = cls(cluster, fingerprint, api, probe)
        try:
            for what in watched:
                if what.optional and not await _served(api, what):
                    continue
                informer = Informer(
                    api,
                    group=what.group,
                    version=what.version,
                    plural=what.plural,
                    label_selector=SELECTOR if what.labelled else "",
                    on_event=_forward(on_event, cluster, what.plural),
                    watch_seconds=watch_seconds,
                )
                connection.informers[what.plural] = informer
                connection._tasks.append(asyncio.create_task(informer.run(), name=f"informer-{cluster}-{what.plural}"))
                if what.awaited:
                    connection._awaited.append(informer)
            synced = (informer.synced.wait() for informer in connection._awaited)
            await asyncio.wait_for(asyncio.gather(*synced), sync_seconds)
        except BaseException:
            await connection.close()
            raise
        return connection

    @property
    def ready(self) -> bool:
        return all(i.synced.is_set() and i.error is None for i in self._awaited)

    @property
    def error(self) -> str | None:
        return next((i.error for i in self._awaited if i.error), None)

    def serves(self, plural: str) -> bool:
        return plural in self.informers

    def get(self, plural: str, namespace: str, name: str) -> Obj | None:
        """The cached object (namespace "" for cluster-scoped kinds), or None when the cluster has none."""
        informer = self.informers.get(plural)
        return informer.get(namespace, name) if informer is not None else None

    async def close(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        await self.api.close()


def _forward(on_event: OnEvent, cluster: str, plural: str) -> Callable[[str, Obj], None]:
    return lambda event, obj: on_event(cluster, plural, event, obj)


async def _served(api: kube.LimitedApiClient, what: Watched) -> bool:
    """Whether the cluster serves this kind (discovery of its group/version; 404 when the CRD is absent)."""
    try:
        resources = await client.CustomObjectsApi(api).get_api_resources(what.group, what.version)
    except ApiException as error:
        if error.status == 404:
            return False
        raise
    return any(resource.name == what.plural for resource in resources.resources)
