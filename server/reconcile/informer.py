"""List+watch one kind into a cache, the way client-go's reflector does.

Steady state costs one open watch per kind and cluster, never a GET per
object: the cache answers "what does the cluster show" for every worker. A
closed watch resumes from the last resourceVersion seen (bookmarks keep that
fresh); 410 Gone (history compacted) or any error relists, and a relist tells
the callback about every object that appeared, changed or vanished meanwhile.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable
from typing import Any, cast

from kubernetes_asyncio import client

from server.reconcile.kube import LimitedApiClient

log = logging.getLogger(__name__)
RETRY_MAX_SECONDS = 10.0

Obj = dict[str, Any]
Key = tuple[str, str]
OnEvent = Callable[[str, Obj], None]


class Gone(Exception):
    """The watch's resourceVersion is older than the server keeps: relist."""


class Informer:
    def __init__(
        self,
        api: LimitedApiClient,
        *,
        group: str,
        version: str,
        plural: str,
        label_selector: str,
        on_event: OnEvent,
        watch_seconds: int,
        retry_seconds: float = 1.0,
    ):
        # The core group (namespaces) has no `/apis/{group}` path: CustomObjectsApi reaches it through _CoreGroup.
        self._custom = client.CustomObjectsApi(api if group else cast(client.ApiClient, _CoreGroup(api)))
        self._what = (group, version, plural)
        self._selector = label_selector
        self._on_event = on_event
        self._watch_seconds = watch_seconds
        self._retry_seconds = retry_seconds
        self.cache: dict[Key, Obj] = {}
        self.synced = asyncio.Event()
        self.error: str | None = None
        self.relists = 0

    @property
    def plural(self) -> str:
        return self._what[2]

    def get(self, namespace: str, name: str) -> Obj | None:
        return self.cache.get((namespace, name))

    async def run(self) -> None:
        failures = 0
        while True:
            try:
                version = await self._relist()
                failures = 0
                while True:
                    version = await self._watch(version)
            except asyncio.CancelledError:
                raise
            except Gone:
                continue
            except Exception as error:
                self.error = _describe(error)
                # Doubling up to 10 s: a refusal that lasts (a missing permission) is retried and logged
                # six times a minute, not every second.
                delay = min(self._retry_seconds * 2**failures, RETRY_MAX_SECONDS)
                failures += 1
                log.warning("%s: list/watch failed (%s); relisting in %.0f s", self.plural, self.error, delay)
                await asyncio.sleep(delay)

    async def _relist(self) -> str:
        group, version, plural = self._what
        listing = await self._custom.list_cluster_custom_object(group, version, plural, label_selector=self._selector)
        self.relists += 1
        fresh = {_key(item): item for item in listing.get("items", [])}
        stale = self.cache
        self.cache = fresh
        self.error = None
        self.synced.set()
        for key, obj in fresh.items():
            before = stale.get(key)
            if before is None or before["metadata"].get("resourceVersion") != obj["metadata"].get("resourceVersion"):
                self._on_event("MODIFIED" if before else "ADDED", obj)
        for key, obj in stale.items():
            if key not in fresh:
                self._on_event("DELETED", obj)
        return str(listing["metadata"]["resourceVersion"])

    async def _watch(self, resource_version: str) -> str:
        group, version, plural = self._what
        response = await self._custom.list_cluster_custom_object(
            group,
            version,
            plural,
            label_selector=self._selector,
            watch=True,
            allow_watch_bookmarks=True,
            resource_version=resource_version,
            timeout_seconds=self._watch_seconds,
            _preload_content=False,
            _request_timeout=self._watch_seconds + 30,
        )
        try:
            if response.status >= 400:
                # Unread content means the body is the apiserver's Status, not a stream of events.
                raise client.ApiException(status=response.status, reason=response.reason)
            async for line in response.content:
                if not line.strip():
                    continue
                event = json.loads(line)
                kind, obj = event.get("type"), event.get("object") or {}
                if kind == "ERROR":
                    if obj.get("code") == 410:
                        raise Gone(obj.get("message", ""))
                    raise RuntimeError(f"watch error {obj.get('code')}: {obj.get('message', '')}")
                resource_version = str(obj.get("metadata", {}).get("resourceVersion", resource_version))
                if kind == "BOOKMARK":
                    continue
                if kind == "DELETED":
                    self.cache.pop(_key(obj), None)
                else:
                    self.cache[_key(obj)] = obj
                self._on_event(str(kind), obj)
        finally:
            response.release()
        return resource_version


class _CoreGroup:
    """The cluster's client with CustomObjectsApi's `/apis/{group}/…` paths turned into the core group's `/api/…`.

    A stand-in for the ApiClient (everything but `call_api` passes through), so every call still goes
    through the same rate-limited client (kube.LimitedApiClient).
    """

    def __init__(self, api: LimitedApiClient):
        self._api = api

    def __getattr__(self, name: str) -> Any:
        return getattr(self._api, name)

    def call_api(self, resource_path: str, *args: Any, **kwargs: Any) -> Any:
        return self._api.call_api(resource_path.replace("/apis/{group}/", "/api/", 1), *args, **kwargs)


def _key(obj: Obj) -> Key:
    metadata = obj.get("metadata", {})
    return str(metadata.get("namespace", "")), str(metadata["name"])


def _describe(error: Exception) -> str:
    status = getattr(error, "status", None)
    reason = getattr(error, "reason", None)
    if status is not None:
        return f"HTTP {status} {reason or ''}".strip()
    return type(error).__name__ + (f": {error}" if str(error) else "")
