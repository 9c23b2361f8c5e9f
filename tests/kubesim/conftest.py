"""One kubesim per test session, reached over real TLS sockets by real clients."""

from __future__ import annotations

import asyncio
import ssl
import subprocess
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from kubernetes_asyncio import client, config

from kubesim import KubeSim, KubeSimConfig

SCALE = 400.0


@pytest.fixture(scope="session")
async def sim(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[KubeSim]:
    kubesim = KubeSim(KubeSimConfig(clock_scale=SCALE, bookmark_interval=40.0))
    await kubesim.start()
    kubesim.write_kubeconfig(tmp_path_factory.mktemp("kube") / "config")
    yield kubesim
    await kubesim.stop()


@pytest.fixture(scope="session")
def kubeconfig(sim: KubeSim, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return sim.write_kubeconfig(tmp_path_factory.mktemp("kubectl") / "config")


@pytest.fixture(scope="session")
async def api(kubeconfig: Path) -> AsyncIterator[client.ApiClient]:
    cfg = client.Configuration()
    await config.load_kube_config(config_file=str(kubeconfig), client_configuration=cfg)
    async with client.ApiClient(cfg) as api_client:
        yield api_client


@pytest.fixture
def custom(api: client.ApiClient) -> client.CustomObjectsApi:
    return client.CustomObjectsApi(api)


@pytest.fixture
def core(api: client.ApiClient) -> client.CoreV1Api:
    return client.CoreV1Api(api)


@pytest.fixture
def kubectl(kubeconfig: Path) -> Callable[..., Awaitable[subprocess.CompletedProcess[str]]]:
    async def run(*args: str, stdin: str | None = None, limit: float = 20) -> subprocess.CompletedProcess[str]:
        return await asyncio.to_thread(
            subprocess.run,
            ["kubectl", "--kubeconfig", str(kubeconfig), *args],
            input=stdin,
            capture_output=True,
            text=True,
            timeout=limit,
        )

    return run


@asynccontextmanager
async def private_cluster(cfg: KubeSimConfig, workdir: Path) -> AsyncIterator[tuple[KubeSim, client.ApiClient]]:
    """A cluster of its own, for tests that drain or fail nodes or need other versions."""
    kubesim = KubeSim(cfg)
    await kubesim.start()
    try:
        conf = client.Configuration()
        await config.load_kube_config(
            config_file=str(kubesim.write_kubeconfig(workdir / "config")), client_configuration=conf
        )
        async with client.ApiClient(conf) as api_client:
            yield kubesim, api_client
    finally:
        await kubesim.stop()


async def admin(kubesim: KubeSim, path: str, body: dict[str, Any] | None = None, method: str = "POST") -> Any:
    """Call kubesim's ``/kubesim/`` admin API."""
    ctx = ssl.create_default_context(cadata=kubesim.ca_pem.decode())
    async with (
        aiohttp.ClientSession(headers={"Authorization": f"Bearer {kubesim.token}"}) as http,
        http.request(method, f"{kubesim.url}/kubesim/{path}", json=body or {}, ssl=ctx) as resp,
    ):
        return await resp.json()


async def eventually(check: Callable[[], Awaitable[Any]], within: float = 5.0) -> Any:
    """Poll ``check`` until it returns a truthy value (real time; cluster time runs SCALEx faster)."""
    deadline = asyncio.get_running_loop().time() + within
    while True:
        value = await check()
        if value:
            return value
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"condition not met in {within}s; last value {value!r}")
        await asyncio.sleep(0.02)


def vm_body(name: str, run_strategy: str = "Always", **spec: Any) -> dict[str, Any]:
    template_spec: dict[str, Any] = {
        "domain": {
            "devices": {"interfaces": [{"name": "default", "masquerade": {}}]},
            "resources": {"requests": {"memory": "1Gi", "cpu": "1"}},
        },
        "networks": [{"name": "default", "pod": {}}],
    }
    template_spec.update(spec)
    return {
        "apiVersion": "kubevirt.io/v1",
        "kind": "VirtualMachine",
        "metadata": {"name": name},
        "spec": {
            "runStrategy": run_strategy,
            "template": {"metadata": {"labels": {"app": name}}, "spec": template_spec},
        },
    }
