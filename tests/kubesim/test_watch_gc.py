"""Watches (bookmarks, 410 Gone), finalizers, garbage collection and namespace cascade."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator

import pytest
from kubernetes_asyncio import client, config, watch
from kubernetes_asyncio.client.exceptions import ApiException

from kubesim import KubeSim, KubeSimConfig

from .conftest import eventually


@pytest.fixture
async def small(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[client.CoreV1Api]:
    """A second cluster with a 5-event history, so revisions expire quickly."""
    sim = KubeSim(KubeSimConfig(event_history=5, clock_scale=400))
    await sim.start()
    cfg = client.Configuration()
    path = sim.write_kubeconfig(tmp_path_factory.mktemp("small") / "config")
    await config.load_kube_config(config_file=str(path), client_configuration=cfg)
    async with client.ApiClient(cfg) as api:
        yield client.CoreV1Api(api)
    await sim.stop()


async def test_watch_streams_changes_and_bookmarks(core: client.CoreV1Api) -> None:
    await core.create_namespace({"metadata": {"name": "w"}})
    listing = await core.list_namespaced_secret("w")
    rv = listing.metadata.resource_version
    seen: list[tuple[str, str]] = []

    async def consume() -> None:
        async with watch.Watch().stream(
            core.list_namespaced_secret,
            "w",
            resource_version=rv,
            allow_watch_bookmarks=True,
            timeout_seconds=1,
        ) as stream:
            async for event in stream:
                kind = event["type"]
                name = event["raw_object"]["metadata"].get("name", "") if kind != "BOOKMARK" else ""
                seen.append((kind, name))
                if len(seen) >= 4:
                    return

    task = asyncio.create_task(consume())
    await asyncio.sleep(0.05)
    await core.create_namespaced_secret("w", {"metadata": {"name": "a"}})
    await core.patch_namespaced_secret("a", "w", {"metadata": {"labels": {"x": "1"}}})
    await core.delete_namespaced_secret("a", "w")
    await asyncio.wait_for(task, 3)
    assert seen[:3] == [("ADDED", "a"), ("MODIFIED", "a"), ("DELETED", "a")]
    assert seen[3] == ("BOOKMARK", "")


async def test_expired_resource_version_is_410(small: client.CoreV1Api) -> None:
    old = (await small.list_namespaced_secret("default")).metadata.resource_version
    page = await small.list_namespace(limit=1)
    for i in range(8):
        await small.create_namespaced_secret("default", {"metadata": {"name": f"x{i}"}})
    with pytest.raises(ApiException) as err:
        async with watch.Watch().stream(
            small.list_namespaced_secret, "default", resource_version=old, timeout_seconds=1
        ) as stream:
            async for _ in stream:
                pass
    assert err.value.status == 410
    with pytest.raises(ApiException) as expired:
        await small.list_namespace(limit=1, _continue=page.metadata._continue)
    assert expired.value.status == 410 and json.loads(expired.value.body)["reason"] == "Expired"


async def test_finalizers_hold_deletion(core: client.CoreV1Api) -> None:
    await core.create_namespaced_secret("default", {"metadata": {"name": "fin", "finalizers": ["x/y"]}})
    await core.delete_namespaced_secret("fin", "default")
    held = await core.read_namespaced_secret("fin", "default")
    assert held.metadata.deletion_timestamp is not None
    await core.patch_namespaced_secret("fin", "default", {"metadata": {"finalizers": None}})
    with pytest.raises(ApiException) as gone:
        await core.read_namespaced_secret("fin", "default")
    assert gone.value.status == 404


def _owned(name: str, owner: client.V1Secret, block: bool = False) -> dict[str, object]:
    return {
        "metadata": {
            "name": name,
            "ownerReferences": [
                {
                    "apiVersion": "v1",
                    "kind": "Secret",
                    "name": owner.metadata.name,
                    "uid": owner.metadata.uid,
                    "blockOwnerDeletion": block,
                }
            ],
        }
    }


async def test_garbage_collection_background_foreground_orphan(core: client.CoreV1Api) -> None:
    async def exists(name: str) -> bool:
        try:
            await core.read_namespaced_secret(name, "default")
            return True
        except ApiException:
            return False

    owner = await core.create_namespaced_secret("default", {"metadata": {"name": "owner-bg"}})
    await core.create_namespaced_secret("default", _owned("dep-bg", owner))
    await core.delete_namespaced_secret("owner-bg", "default")
    await eventually(lambda: _not(exists("dep-bg")))

    owner = await core.create_namespaced_secret("default", {"metadata": {"name": "owner-fg"}})
    await core.create_namespaced_secret(
        "default",
        _owned("dep-fg", owner, block=True)
        | {
            "metadata": {
                **_owned("dep-fg", owner, True)["metadata"],  # type: ignore
                "finalizers": ["hold"],
            }
        },
    )
    await core.delete_namespaced_secret("owner-fg", "default", propagation_policy="Foreground")
    held = await core.read_namespaced_secret("owner-fg", "default")
    assert "foregroundDeletion" in held.metadata.finalizers
    await core.patch_namespaced_secret("dep-fg", "default", {"metadata": {"finalizers": None}})
    await eventually(lambda: _not(exists("owner-fg")))

    owner = await core.create_namespaced_secret("default", {"metadata": {"name": "owner-or"}})
    await core.create_namespaced_secret("default", _owned("dep-or", owner))
    await core.delete_namespaced_secret("owner-or", "default", propagation_policy="Orphan")
    await eventually(lambda: _not(exists("owner-or")))
    orphan = await core.read_namespaced_secret("dep-or", "default")
    assert not orphan.metadata.owner_references


async def _not(value: object) -> bool:
    return not await value  # type: ignore[misc]


async def test_namespace_deletion_cascades(core: client.CoreV1Api) -> None:
    await core.create_namespace({"metadata": {"name": "doomed"}})
    await core.create_namespaced_secret("doomed", {"metadata": {"name": "s"}})
    await core.delete_namespace("doomed")
    with pytest.raises(ApiException) as forbidden:
        await core.create_namespaced_secret("doomed", {"metadata": {"name": "late"}})
    assert forbidden.value.status in (403, 404)

    async def gone() -> bool:
        try:
            await core.read_namespace("doomed")
            return False
        except ApiException as exc:
            return exc.status == 404

    await eventually(gone)
