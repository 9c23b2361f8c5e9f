"""Harrow's informer under an RBAC role that may list but not watch: the refusal is named, not a crash."""

from __future__ import annotations

import asyncio

from kubernetes_asyncio import client

from kubesim import KubeSim
from server.reconcile.informer import Informer
from server.reconcile.kube import connect
from tests.kubesim.test_rbac import bind_cluster_role, service_account


async def test_a_forbidden_watch_reports_the_clusters_403(
    sim: KubeSim, core: client.CoreV1Api, api: client.ApiClient
) -> None:
    ns = "informer-refusals"
    await core.create_namespace({"metadata": {"name": ns}})
    token = await service_account(sim, core, ns)
    rules = [{"apiGroups": ["kubevirt.io"], "resources": ["virtualmachines"], "verbs": ["list"]}]
    await bind_cluster_role(api, f"list-only-{ns}", rules, ns)
    kube = await connect(str.encode(_kubeconfig(sim, token)), qps=50, burst=50)
    informer = Informer(
        kube,
        group="kubevirt.io",
        version="v1",
        plural="virtualmachines",
        label_selector="",
        on_event=lambda _kind, _obj: None,
        watch_seconds=5,
        retry_seconds=0.05,
    )
    running = asyncio.create_task(informer.run())
    try:
        await asyncio.wait_for(informer.synced.wait(), 5)
        for _ in range(100):
            if informer.error:
                break
            await asyncio.sleep(0.05)
    finally:
        running.cancel()
        await asyncio.gather(running, return_exceptions=True)
        await kube.close()
    assert informer.error == "HTTP 403 Forbidden"


def _kubeconfig(sim: KubeSim, token: str) -> str:
    import yaml

    return yaml.safe_dump(sim.kubeconfig(token=token))
