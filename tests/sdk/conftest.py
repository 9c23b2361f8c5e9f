"""A whole Harrow per test that can be stopped and started again on the same ports and database.

SDK behaviour that matters most (retries, watch resumption) shows when the
server goes away and comes back, so the fixture owns the app's lifecycle
instead of reusing the e2e one.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from pathlib import Path

import harrow
import pytest
from harrow.v1 import virtual_machine_pb2 as vm_pb

from kubesim import KubeSim, KubeSimConfig
from server.app import Endpoints, Harrow
from server.config import AuthConfig, ListenConfig, ReconcileConfig, Settings, WatchConfig

PARENT = "clusters/local/namespaces/default"
FAST_RETRY = harrow.RetryConfig(initial_backoff=0.05, max_backoff=0.5, max_attempts=40)


@dataclass
class Server:
    settings: Settings
    kubeconfig: str
    app: Harrow | None = None
    endpoints: Endpoints | None = None

    @property
    def grpc(self) -> str:
        assert self.endpoints is not None
        return self.endpoints.grpc

    @property
    def rest(self) -> str:
        assert self.endpoints is not None
        return self.endpoints.rest

    async def start(self) -> None:
        self.app = Harrow(self.settings, local_kubeconfig=self.kubeconfig)
        self.endpoints = await self.app.start()
        # Later starts reuse the ports, so clients reconnect to the same address.
        grpc_port = int(self.endpoints.grpc.rsplit(":", 1)[1])
        rest_port = int(self.endpoints.rest.rsplit(":", 1)[1])
        listen = replace(self.settings.listen, grpc_port=grpc_port, rest_port=rest_port)
        self.settings = replace(self.settings, listen=listen)

    async def stop(self) -> None:
        if self.app is not None:
            await self.app.stop(grace_seconds=0)
            self.app = None


@pytest.fixture(scope="session")
async def cluster(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[str]:
    """The simulated cluster behind `clusters/local`, fast enough that operations finish in a second or two."""
    sim = KubeSim(KubeSimConfig(clock_scale=400))
    await sim.start()
    path: Path = sim.write_kubeconfig(tmp_path_factory.mktemp("kube") / "config")
    try:
        yield await asyncio.to_thread(path.read_text)
    finally:
        await sim.stop()


@pytest.fixture
async def server(database_url: str, cluster: str) -> AsyncIterator[Server]:
    settings = Settings(
        listen=ListenConfig(host="127.0.0.1", grpc_port=0, rest_port=0),
        watch=WatchConfig(bookmark_seconds=0.5),
        database_url=database_url,
        database_pool_size=5,
        reconcile=ReconcileConfig(poll_seconds=0.2),
        auth=AuthConfig(authenticate=False),
    )
    running = Server(settings, cluster)
    await running.start()
    try:
        yield running
    finally:
        await running.stop()


@pytest.fixture
async def client(server: Server) -> AsyncIterator[harrow.Client]:
    async with harrow.Client(server.grpc, retry=FAST_RETRY) as connected:
        yield connected


def vm_name(vm_id: str) -> str:
    return f"{PARENT}/virtualMachines/{vm_id}"


def machine(memory: str = "2Gi", *, labels: dict[str, str] | None = None) -> vm_pb.VirtualMachine:
    """A VM as a user writes it: halted, one image disk, the pod network."""
    return vm_pb.VirtualMachine(
        labels=labels or {"team": "web"},
        spec=vm_pb.VirtualMachineSpec(
            cpu=vm_pb.CpuTopology(cores=2),
            memory=memory,
            run_strategy=vm_pb.VirtualMachineSpec.HALTED,
            disks=[
                vm_pb.Disk(
                    name="root",
                    boot_order=1,
                    image=vm_pb.ImageSource(url="https://images.example.com/noble.qcow2", size="20Gi"),
                )
            ],
            interfaces=[vm_pb.NetworkInterface(name="default", network="pod")],
        ),
    )
