"""kubesim holds service accounts to their RBAC roles, as the apiserver does; the admin token stays all-powerful."""

from __future__ import annotations

import itertools
import json
import ssl
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

import aiohttp
import pytest
from kubernetes_asyncio import client, config
from kubernetes_asyncio.client.exceptions import ApiException

from kubesim import KubeSim
from tests.kubesim.conftest import vm_body

KV = ("kubevirt.io", "v1")
RBAC = "rbac.authorization.k8s.io"
_numbers = itertools.count()


@pytest.fixture
async def ns(core: client.CoreV1Api) -> str:
    name = f"rbac-{next(_numbers)}"
    await core.create_namespace({"metadata": {"name": name}})
    return name


@asynccontextmanager
async def as_token(sim: KubeSim, token: str) -> AsyncIterator[client.ApiClient]:
    conf = client.Configuration()
    await config.load_kube_config_from_dict(sim.kubeconfig(token=token), client_configuration=conf)
    async with client.ApiClient(conf) as api:
        yield api


async def service_account(sim: KubeSim, core: client.CoreV1Api, ns: str, name: str = "robot") -> str:
    await core.create_namespaced_service_account(ns, {"metadata": {"name": name}})
    return sim.token_for(ns, name)


async def bind_cluster_role(
    api: client.ApiClient, name: str, rules: list[dict[str, Any]], subject_ns: str, namespace: str | None = None
) -> None:
    """A ClusterRole with `rules`, bound cluster-wide or (with `namespace`) by a RoleBinding there."""
    custom = client.CustomObjectsApi(api)
    await custom.create_cluster_custom_object(RBAC, "v1", "clusterroles", {"metadata": {"name": name}, "rules": rules})
    binding = {
        "metadata": {"name": name},
        "roleRef": {"apiGroup": RBAC, "kind": "ClusterRole", "name": name},
        "subjects": [{"kind": "ServiceAccount", "name": "robot", "namespace": subject_ns}],
    }
    if namespace is None:
        await custom.create_cluster_custom_object(RBAC, "v1", "clusterrolebindings", binding)
    else:
        await custom.create_namespaced_custom_object(RBAC, "v1", namespace, "rolebindings", binding)


async def status_of(call: Awaitable[Any]) -> int:
    try:
        await call
    except ApiException as error:
        return int(error.status)
    return 200


async def test_a_service_account_without_roles_is_refused_with_the_apiservers_words(
    sim: KubeSim, core: client.CoreV1Api, ns: str
) -> None:
    token = await service_account(sim, core, ns)
    async with as_token(sim, token) as api:
        with pytest.raises(ApiException) as refused:
            await client.CustomObjectsApi(api).list_cluster_custom_object(*KV, "virtualmachines")
        assert refused.value.status == 403
        assert (
            f'virtualmachines.kubevirt.io is forbidden: User "system:serviceaccount:{ns}:robot" cannot list '
            'resource "virtualmachines" in API group "kubevirt.io" at the cluster scope'
        ) == json.loads(refused.value.body)["message"]
        assert (await client.VersionApi(api).get_code()).git_version
        assert await status_of(client.ApisApi(api).get_api_versions()) == 200
    ctx = ssl.create_default_context(cadata=sim.ca_pem.decode())
    async with (
        aiohttp.ClientSession(headers={"Authorization": f"Bearer {token}"}) as http,
        http.get(f"{sim.url}/kubesim/clock", ssl=ctx) as admin,
    ):
        assert admin.status == 403


async def test_cluster_role_binding_grants_exactly_its_rules_and_revoking_is_immediate(
    sim: KubeSim, core: client.CoreV1Api, custom: client.CustomObjectsApi, ns: str
) -> None:
    token = await service_account(sim, core, ns)
    await custom.create_namespaced_custom_object(*KV, ns, "virtualmachines", vm_body("vm-a", "Halted"))
    role = f"vm-reader-{ns}"
    rules = [{"apiGroups": ["kubevirt.io"], "resources": ["virtualmachines"], "verbs": ["get", "list"]}]
    await bind_cluster_role(custom.api_client, role, rules, ns)
    async with as_token(sim, token) as api:
        as_robot = client.CustomObjectsApi(api)
        listed = await as_robot.list_cluster_custom_object(*KV, "virtualmachines")
        assert "vm-a" in [item["metadata"]["name"] for item in listed["items"]]
        assert await status_of(as_robot.get_namespaced_custom_object(*KV, ns, "virtualmachines", "vm-a")) == 200
        assert await status_of(as_robot.delete_namespaced_custom_object(*KV, ns, "virtualmachines", "vm-a")) == 403
        assert await status_of(as_robot.list_cluster_custom_object(*KV, "virtualmachineinstances")) == 403
        await custom.delete_cluster_custom_object(RBAC, "v1", "clusterrolebindings", role)
        assert await status_of(as_robot.list_cluster_custom_object(*KV, "virtualmachines")) == 403


async def test_a_role_binding_grants_only_inside_its_namespace(
    sim: KubeSim, core: client.CoreV1Api, custom: client.CustomObjectsApi, ns: str
) -> None:
    token = await service_account(sim, core, ns)
    other = f"{ns}-other"
    await core.create_namespace({"metadata": {"name": other}})
    rules = [{"apiGroups": ["kubevirt.io"], "resources": ["virtualmachines"], "verbs": ["list", "create"]}]
    await bind_cluster_role(custom.api_client, f"vm-editor-{ns}", rules, ns, namespace=ns)
    async with as_token(sim, token) as api:
        as_robot = client.CustomObjectsApi(api)
        assert await status_of(as_robot.list_namespaced_custom_object(*KV, ns, "virtualmachines")) == 200
        assert (
            await status_of(as_robot.create_namespaced_custom_object(*KV, ns, "virtualmachines", vm_body("mine")))
            == 200
        )
        assert await status_of(as_robot.list_namespaced_custom_object(*KV, other, "virtualmachines")) == 403
        assert await status_of(as_robot.list_cluster_custom_object(*KV, "virtualmachines")) == 403


async def test_resource_names_and_subresources_are_matched_like_kubernetes(
    sim: KubeSim, core: client.CoreV1Api, custom: client.CustomObjectsApi, ns: str
) -> None:
    token = await service_account(sim, core, ns)
    for name in ("vm-a", "vm-b"):
        await custom.create_namespaced_custom_object(*KV, ns, "virtualmachines", vm_body(name))
    rules = [
        {"apiGroups": ["kubevirt.io"], "resources": ["virtualmachines"], "verbs": ["get"], "resourceNames": ["vm-a"]},
        {"apiGroups": ["subresources.kubevirt.io"], "resources": ["virtualmachines/restart"], "verbs": ["update"]},
        {"apiGroups": ["kubevirt.io"], "resources": ["*/status"], "verbs": ["get"]},
    ]
    await bind_cluster_role(custom.api_client, f"narrow-{ns}", rules, ns)
    async with as_token(sim, token) as api:
        as_robot = client.CustomObjectsApi(api)
        assert await status_of(as_robot.get_namespaced_custom_object(*KV, ns, "virtualmachines", "vm-a")) == 200
        assert await status_of(as_robot.get_namespaced_custom_object(*KV, ns, "virtualmachines", "vm-b")) == 403
        assert await status_of(as_robot.list_namespaced_custom_object(*KV, ns, "virtualmachines")) == 403
        assert await status_of(as_robot.get_namespaced_custom_object_status(*KV, ns, "virtualmachines", "vm-b")) == 200

        async def put(subresource: str) -> int:
            path = f"/apis/subresources.kubevirt.io/v1/namespaces/{ns}/virtualmachines/vm-b/{subresource}"
            call = api.call_api(path, "PUT", body={}, response_types_map={}, auth_settings=["BearerToken"])
            return await status_of(call)

        assert await put("restart") == 200
        assert await put("stop") == 403


async def test_a_token_dies_with_its_service_account_and_kubectl_create_token_works(
    sim: KubeSim,
    core: client.CoreV1Api,
    ns: str,
    kubectl: Callable[..., Awaitable[Any]],
) -> None:
    await core.create_namespaced_service_account(ns, {"metadata": {"name": "robot"}})
    minted = await kubectl("create", "token", "robot", "-n", ns)
    assert minted.returncode == 0, minted.stderr
    token = minted.stdout.strip()
    denied = await kubectl("get", "vms", "-A", "--token", token)
    assert denied.returncode != 0 and f"system:serviceaccount:{ns}:robot" in denied.stderr
    await core.delete_namespaced_service_account("robot", ns)
    async with as_token(sim, token) as api:
        assert await status_of(client.CustomObjectsApi(api).list_cluster_custom_object(*KV, "virtualmachines")) == 401
