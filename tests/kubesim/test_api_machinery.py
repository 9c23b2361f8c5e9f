"""API machinery through kubernetes-asyncio: CRUD, conflicts, schemas, selectors, paging."""

from __future__ import annotations

import json
import ssl

import aiohttp
import pytest
from kubernetes_asyncio import client
from kubernetes_asyncio.client.exceptions import ApiException

from kubesim import KubeSim

from .conftest import vm_body

KV = ("kubevirt.io", "v1")
MERGE = "application/merge-patch+json"


async def test_discovery_lists_groups_and_subresources(api: client.ApiClient) -> None:
    groups = await client.ApisApi(api).get_api_versions()
    names = {g.name for g in groups.groups}
    assert {
        "kubevirt.io",
        "cdi.kubevirt.io",
        "loadbalancer.harvesterhci.io",
        "subresources.kubevirt.io",
        "migrations.kubevirt.io",
        "harvesterhci.io",
        "k8s.cni.cncf.io",
    } <= names
    core = await client.CoreV1Api(api).get_api_resources()
    assert any(r.name == "namespaces" and not r.namespaced for r in core.resources)
    version = await client.VersionApi(api).get_code()
    assert version.minor == "32"


async def test_create_get_conflict_and_already_exists(custom: client.CustomObjectsApi) -> None:
    vm = await custom.create_namespaced_custom_object(*KV, "default", "virtualmachines", vm_body("crud", "Halted"))
    meta = vm["metadata"]
    assert meta["uid"] and meta["creationTimestamp"] and meta["generation"] == 1
    with pytest.raises(ApiException) as exists:
        await custom.create_namespaced_custom_object(*KV, "default", "virtualmachines", vm_body("crud", "Halted"))
    assert exists.value.status == 409 and json.loads(exists.value.body)["reason"] == "AlreadyExists"

    fresh = await custom.get_namespaced_custom_object(*KV, "default", "virtualmachines", "crud")
    fresh["metadata"]["labels"] = {"tier": "gold"}
    updated = await custom.replace_namespaced_custom_object(*KV, "default", "virtualmachines", "crud", fresh)
    assert int(updated["metadata"]["resourceVersion"]) > int(meta["resourceVersion"])
    assert updated["metadata"]["generation"] == 1, "metadata-only change must not move generation"

    stale = dict(fresh)
    stale["spec"]["runStrategy"] = "Manual"
    with pytest.raises(ApiException) as conflict:
        await custom.replace_namespaced_custom_object(*KV, "default", "virtualmachines", "crud", stale)
    body = json.loads(conflict.value.body)
    assert conflict.value.status == 409 and body["reason"] == "Conflict"
    assert "the object has been modified" in body["message"]

    patched = await custom.patch_namespaced_custom_object(
        *KV, "default", "virtualmachines", "crud", {"spec": {"runStrategy": "Manual"}}, _content_type=MERGE
    )
    assert patched["metadata"]["generation"] == 2

    with pytest.raises(ApiException) as missing:
        await custom.get_namespaced_custom_object(*KV, "default", "virtualmachines", "nope")
    assert missing.value.status == 404
    assert json.loads(missing.value.body)["message"] == 'virtualmachines.kubevirt.io "nope" not found'


async def test_status_subresource_only_where_the_crd_has_one(custom: client.CustomObjectsApi) -> None:
    await custom.create_namespaced_custom_object(*KV, "default", "virtualmachines", vm_body("stat", "Halted"))
    vm = await custom.get_namespaced_custom_object(*KV, "default", "virtualmachines", "stat")
    vm["status"] = {"printableStatus": "Hacked"}
    after = await custom.replace_namespaced_custom_object(*KV, "default", "virtualmachines", "stat", vm)
    assert after.get("status", {}).get("printableStatus") != "Hacked", "main resource ignores status"
    pool = {
        "apiVersion": "loadbalancer.harvesterhci.io/v1beta1",
        "kind": "IPPool",
        "metadata": {"name": "p1"},
        "spec": {"ranges": [{"subnet": "10.0.0.0/24"}]},
    }
    await custom.create_cluster_custom_object("loadbalancer.harvesterhci.io", "v1beta1", "ippools", pool)
    with pytest.raises(ApiException) as no_sub:
        await custom.patch_cluster_custom_object_status(
            "loadbalancer.harvesterhci.io",
            "v1beta1",
            "ippools",
            "p1",
            {"status": {"total": 1}},
            _content_type=MERGE,
        )
    assert no_sub.value.status == 404


async def test_schema_violations_are_422_with_real_field_paths(custom: client.CustomObjectsApi) -> None:
    bad = vm_body("bad", "Halted")
    bad["spec"]["running"] = "yes"
    bad["spec"]["template"]["spec"]["domain"]["devices"]["disks"] = [{"disk": {"bus": "virtio"}}]
    with pytest.raises(ApiException) as err:
        await custom.create_namespaced_custom_object(*KV, "default", "virtualmachines", bad)
    body = json.loads(err.value.body)
    assert err.value.status == 422 and body["reason"] == "Invalid"
    causes = {(c["field"], c["reason"]) for c in body["details"]["causes"]}
    assert ("spec.running", "FieldValueTypeInvalid") in causes
    assert ("spec.template.spec.domain.devices.disks[0].name", "FieldValueRequired") in causes
    assert body["message"].startswith('VirtualMachine.kubevirt.io "bad" is invalid: [')

    pool = {
        "apiVersion": "loadbalancer.harvesterhci.io/v1beta1",
        "kind": "IPPool",
        "metadata": {"name": "p2"},
        "spec": {},
    }
    with pytest.raises(ApiException) as err:
        await custom.create_cluster_custom_object("loadbalancer.harvesterhci.io", "v1beta1", "ippools", pool)
    causes = json.loads(err.value.body)["details"]["causes"]
    assert {"reason": "FieldValueRequired", "message": "Required value", "field": "spec.ranges"} in causes

    dv = {
        "apiVersion": "cdi.kubevirt.io/v1beta1",
        "kind": "DataVolume",
        "metadata": {"name": "baddv"},
        "spec": {"source": {"blank": {}}, "storage": {"resources": {"requests": {"storage": True}}}},
    }
    with pytest.raises(ApiException) as err:
        await custom.create_namespaced_custom_object("cdi.kubevirt.io", "v1beta1", "default", "datavolumes", dv)
    fields = [c["field"] for c in json.loads(err.value.body)["details"]["causes"]]
    assert fields == ["spec.storage.resources.requests.storage"]


async def test_unknown_fields_are_pruned_with_a_warning(sim: KubeSim) -> None:
    body = vm_body("pruned", "Halted")
    body["spec"]["template"]["spec"]["domain"]["gpuMagic"] = True
    ctx = ssl.create_default_context(cadata=sim.ca_pem.decode())
    async with aiohttp.ClientSession(headers={"Authorization": f"Bearer {sim.token}"}) as http:
        url = f"{sim.url}/apis/kubevirt.io/v1/namespaces/default/virtualmachines"
        async with http.post(url, json=body, ssl=ctx) as resp:
            assert resp.status == 201
            assert resp.headers.getall("Warning") == ['299 - "unknown field \\"spec.template.spec.domain.gpuMagic\\""']
            created = await resp.json()
        assert "gpuMagic" not in created["spec"]["template"]["spec"]["domain"]
        async with http.post(
            url + "?fieldValidation=Strict", json={**body, "metadata": {"name": "strict"}}, ssl=ctx
        ) as resp:
            assert resp.status == 400
        async with http.get(url, ssl=ctx, headers={"Authorization": "Bearer wrong"}) as resp:
            assert resp.status == 401 and (await resp.json())["reason"] == "Unauthorized"


async def test_selectors_and_paging(core: client.CoreV1Api) -> None:
    await core.create_namespace({"metadata": {"name": "sel"}})
    for i, (tier, zone) in enumerate([("web", "a"), ("web", "b"), ("db", "a"), ("cache", None)]):
        labels = {"tier": tier} | ({"zone": zone} if zone else {})
        await core.create_namespaced_secret("sel", {"metadata": {"name": f"s{i}", "labels": labels}})

    async def names(**kw: str) -> list[str]:
        return [s.metadata.name for s in (await core.list_namespaced_secret("sel", **kw)).items]

    assert await names(label_selector="tier=web") == ["s0", "s1"]
    assert await names(label_selector="tier==web,zone!=b") == ["s0"]
    assert await names(label_selector="tier in (db,cache)") == ["s2", "s3"]
    assert await names(label_selector="tier notin (web)") == ["s2", "s3"]
    assert await names(label_selector="zone") == ["s0", "s1", "s2"]
    assert await names(label_selector="!zone") == ["s3"]
    assert await names(field_selector="metadata.name=s2") == ["s2"]
    with pytest.raises(ApiException) as err:
        await names(label_selector="tier in web")
    assert err.value.status == 400

    first = await core.list_namespaced_secret("sel", limit=3)
    assert len(first.items) == 3 and first.metadata._continue
    rest = await core.list_namespaced_secret("sel", limit=3, _continue=first.metadata._continue)
    assert [s.metadata.name for s in rest.items] == ["s3"] and not rest.metadata._continue
