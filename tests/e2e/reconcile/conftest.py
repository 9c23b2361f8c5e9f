"""Harrow with its reconciler against one kubesim per session, over real sockets (TLS to kubesim, gRPC to Harrow).

Every test gets a fresh database and its own Kubernetes namespace, so tests
sharing the simulated cluster never see each other's VMs.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack
from dataclasses import dataclass, replace
from typing import Any

import grpc
import pytest
import yaml
from google.longrunning import operations_pb2
from harrow.v1 import virtual_machine_pb2 as vm_pb
from kubernetes_asyncio import client, config

from kubesim import KubeSim, KubeSimConfig, NodeSpec
from server.app import Endpoints, Harrow
from server.config import AuthConfig, ListenConfig, ReconcileConfig, Settings, WatchConfig
from tests.e2e.clients import GrpcApi

SCALE = 400.0
_namespaces = itertools.count()


@contextlib.asynccontextmanager
async def running_sim(settings: KubeSimConfig) -> AsyncIterator[KubeSim]:
    """A started kubesim, stopped on the way out."""
    kubesim = KubeSim(settings)
    await kubesim.start()
    try:
        yield kubesim
    finally:
        await kubesim.stop()


@contextlib.asynccontextmanager
async def kube_client(sim: KubeSim) -> AsyncIterator[client.ApiClient]:
    """A kubectl-like client of our own, for out-of-band changes and for looking at the cluster."""
    configuration = client.Configuration()
    await config.load_kube_config_from_dict(sim.kubeconfig(), client_configuration=configuration)
    async with client.ApiClient(configuration) as api:
        yield api


def own_cluster(request: pytest.FixtureRequest, scale: float) -> KubeSimConfig:
    """The settings of a test's own cluster, for modules whose tests change cluster-wide state. The test may ask
    (indirect parameter of `sim`) for another flavour (a KubeSimConfig, run at `scale`) or another clock scale."""
    wanted = getattr(request, "param", scale)
    if isinstance(wanted, KubeSimConfig):
        return replace(wanted, clock_scale=scale, bookmark_interval=40.0)
    return KubeSimConfig(clock_scale=float(wanted), bookmark_interval=40.0)


@pytest.fixture(scope="session")
async def sim() -> AsyncIterator[KubeSim]:
    # The session's tests leave their VMs running (each in its own namespace), some by the hundred: nodes big
    # enough for all of them, so whether a VM can be placed never depends on which tests ran before it.
    roomy = tuple(NodeSpec(cpu="512", memory="2Ti", pods=2000) for _ in range(3))
    async with running_sim(KubeSimConfig(clock_scale=SCALE, bookmark_interval=40.0, nodes=roomy)) as kubesim:
        yield kubesim


@pytest.fixture(scope="session")
async def kube(sim: KubeSim) -> AsyncIterator[client.ApiClient]:
    async with kube_client(sim) as api:
        yield api


@pytest.fixture
async def namespace(kube: client.ApiClient) -> str:
    name = f"rc-{next(_namespaces)}"
    await client.CoreV1Api(kube).create_namespace({"metadata": {"name": name}})
    return name


def fast_settings(database_url: str, *, database_pool_size: int = 10, **reconcile: Any) -> Settings:
    """A test Harrow: loopback ports, no auth, a reconciler that polls, retries and gives up quickly."""
    return Settings(
        listen=ListenConfig(host="127.0.0.1", grpc_port=0, rest_port=0),
        watch=WatchConfig(bookmark_seconds=0.5),
        database_url=database_url,
        database_pool_size=database_pool_size,
        reconcile=replace(
            ReconcileConfig(
                poll_seconds=0.2,
                lease_seconds=10.0,
                resync_seconds=30.0,
                backoff_base_seconds=0.1,
                backoff_max_seconds=1.0,
                operation_deadline_seconds=30.0,
            ),
            **reconcile,
        ),
        auth=AuthConfig(authenticate=False),
    )


@dataclass
class Instance:
    app: Harrow
    endpoints: Endpoints
    api: GrpcApi


Start = Callable[..., Awaitable[Instance]]


@pytest.fixture
async def start_harrow(database_url: str, sim: KubeSim) -> AsyncIterator[Start]:
    """Starts Harrow instances on the test's database, all pointed at the session's kubesim."""
    async with AsyncExitStack() as stack:

        async def start(**reconcile: Any) -> Instance:
            settings = fast_settings(database_url, **reconcile)
            app = Harrow(settings, local_kubeconfig=yaml.safe_dump(sim.kubeconfig()))
            endpoints = await app.start()
            stack.push_async_callback(app.stop, 0)
            channel = await stack.enter_async_context(grpc.aio.insecure_channel(endpoints.grpc))
            return Instance(app, endpoints, GrpcApi(channel))

        yield start


@pytest.fixture
async def harrow(start_harrow: Start) -> Instance:
    return await start_harrow()


async def eventually(check: Callable[[], Awaitable[Any]], within: float = 10.0, every: float = 0.05) -> Any:
    deadline = asyncio.get_running_loop().time() + within
    while True:
        value = await check()
        if value:
            return value
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"not true within {within}s; last value {value!r}")
        await asyncio.sleep(every)


async def operation_done(api: GrpcApi, operation: operations_pb2.Operation, within: float = 20.0) -> Any:
    """The Operation once it is done (with its response or error), polled through Harrow's API."""

    async def check() -> operations_pb2.Operation | None:
        current = await api.call(
            "OperationService", "GetOperation", operations_pb2.GetOperationRequest(name=operation.name)
        )
        return current if current.done else None

    return await eventually(check, within)


async def done(harrow: Instance, operation: operations_pb2.Operation, within: float = 20.0) -> Any:
    return await operation_done(harrow.api, operation, within)


async def kubevirt_migrations(kube: client.ApiClient) -> dict[str, Any]:
    """The KubeVirt CR's spec.configuration.migrations as a cluster admin reads it ({} where unset)."""
    listing = await client.CustomObjectsApi(kube).list_cluster_custom_object("kubevirt.io", "v1", "kubevirts")
    spec = listing["items"][0].get("spec") or {}
    migrations: dict[str, Any] = (spec.get("configuration") or {}).get("migrations") or {}
    return migrations


def small_vm(run_strategy: int = vm_pb.VirtualMachineSpec.ALWAYS) -> vm_pb.VirtualMachine:
    return vm_pb.VirtualMachine(
        labels={"team": "web"},
        spec=vm_pb.VirtualMachineSpec(
            cpu=vm_pb.CpuTopology(cores=1),
            memory="1Gi",
            run_strategy=run_strategy,
            disks=[
                vm_pb.Disk(
                    name="root",
                    boot_order=1,
                    image=vm_pb.ImageSource(url="docker://quay.io/containerdisks/fedora:41", size="2Gi"),
                )
            ],
            interfaces=[vm_pb.NetworkInterface(name="default", network="pod")],
            cloud_init=vm_pb.CloudInit(user_data="#cloud-config\n"),
        ),
    )
