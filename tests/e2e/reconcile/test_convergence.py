"""Convergence under load, under faults, with company: drift put back, 200 VMs, two replicas, 5% errors."""

from __future__ import annotations

import asyncio
import logging
import time
from collections import defaultdict
from typing import Any

import aiohttp
import pytest
from google.longrunning import operations_pb2
from harrow.v1 import virtual_machine_pb2 as vm_pb
from kubernetes_asyncio import client

from kubesim import FaultRule, KubeSim
from tests.e2e.reconcile.conftest import Instance, Start, eventually, small_vm

VMS = "VirtualMachineService"
KV = ("kubevirt.io", "v1")


async def create_all(harrow: Instance, parent: str, count: int, **spec: int) -> None:
    gate = asyncio.Semaphore(50)

    async def one(index: int) -> None:
        async with gate:
            request = vm_pb.CreateVirtualMachineRequest(
                parent=parent, virtual_machine_id=f"vm-{index}", virtual_machine=small_vm(**spec)
            )
            await harrow.api.call(VMS, "CreateVirtualMachine", request)

    await asyncio.gather(*(one(index) for index in range(count)))


async def count_in_state(harrow: Instance, parent: str, state: str) -> int:
    request = vm_pb.ListVirtualMachinesRequest(parent=parent, filter=f"state = {state}", page_size=1000)
    return len((await harrow.api.call(VMS, "ListVirtualMachines", request)).virtual_machines)


async def test_an_out_of_band_edit_is_put_back_and_counted(
    harrow: Instance, namespace: str, kube: client.ApiClient
) -> None:
    parent = f"clusters/local/namespaces/{namespace}"
    await create_all(harrow, parent, 1)
    await eventually(lambda: count_in_state(harrow, parent, "RUNNING"))
    custom = client.CustomObjectsApi(kube)
    patch = {"spec": {"runStrategy": "Halted", "template": {"spec": {"domain": {"cpu": {"cores": 4}}}}}}
    await custom.patch_namespaced_custom_object(
        *KV, namespace, "virtualmachines", "vm-0", patch, _content_type="application/merge-patch+json"
    )

    async def put_back() -> bool:
        vm = await custom.get_namespaced_custom_object(*KV, namespace, "virtualmachines", "vm-0")
        return vm["spec"]["runStrategy"] == "Always" and vm["spec"]["template"]["spec"]["domain"]["cpu"]["cores"] == 1

    started = time.monotonic()
    await eventually(put_back, within=5)
    assert time.monotonic() - started < 5
    reconciler = harrow.app.reconciler
    assert reconciler is not None

    async def counted() -> bool:
        # Counted with the worker's bookkeeping, a moment after the cluster shows the fix.
        line = 'harrow_drift_corrections_total{cluster="local",kind="VirtualMachine"} 1'
        return line in reconciler.metrics.render()

    await eventually(counted, within=5)

    async def drift_condition() -> Any:
        # The condition commits with the worker's bookkeeping, a moment after the cluster shows the fix.
        vm = await harrow.api.call(
            VMS, "GetVirtualMachine", vm_pb.GetVirtualMachineRequest(name=f"{parent}/virtualMachines/vm-0")
        )
        return next((c for c in vm.conditions if c.type == "DriftCorrected"), None)

    drift = await eventually(drift_condition, within=5)
    assert drift.reason == "OutOfBandChange" and "spec.runStrategy" in drift.message
    await eventually(lambda: count_in_state(harrow, parent, "RUNNING"))


async def test_two_replicas_bring_200_vms_to_running_without_ever_sharing_one(
    start_harrow: Start, namespace: str, kube: client.ApiClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="server.reconcile.vm_worker")
    first, second = await start_harrow(), await start_harrow()
    parent = f"clusters/local/namespaces/{namespace}"
    started = time.monotonic()
    await create_all(first, parent, 200)
    await eventually(lambda: _equals(count_in_state(second, parent, "RUNNING"), 200), within=60, every=0.25)
    elapsed = time.monotonic() - started
    assert first.app.reconciler is not None and second.app.reconciler is not None
    calls = first.app.reconciler.api_calls + second.app.reconciler.api_calls
    print(
        f"\n200 VMs Running in {elapsed:.1f}s with 2 replicas; {calls} Kubernetes API calls ({calls / 200:.2f} per VM)"
    )

    spans: dict[str, list[tuple[float, str, str]]] = defaultdict(list)
    for record in caplog.records:
        words = record.getMessage().split()
        if words[:1] == ["reconcile"] and words[1] in ("start", "end"):
            spans[words[2]].append((record.created, words[1], words[4]))
    owners = set()
    for uid, marks in spans.items():
        holder = None
        for _, kind, owner in sorted(marks):
            owners.add(owner)
            if kind == "start":
                assert holder is None, f"{uid} applied by {owner} while {holder} held it"
                holder = owner
            else:
                assert holder == owner
                holder = None
    # The session's database holds earlier tests' VMs too; the replicas may look at those as well.
    listing = vm_pb.ListVirtualMachinesRequest(parent=parent, page_size=1000)
    ours = {vm.uid for vm in (await second.api.call(VMS, "ListVirtualMachines", listing)).virtual_machines}
    assert len(ours) == 200 and ours <= set(spans) and len(owners) == 2, "both replicas took part"
    listed = await client.CustomObjectsApi(kube).list_namespaced_custom_object(*KV, namespace, "virtualmachines")
    assert len(listed["items"]) == 200


async def test_converges_with_5_percent_errors_and_dropped_watches(
    harrow: Instance, namespace: str, sim: KubeSim
) -> None:
    parent = f"clusters/local/namespaces/{namespace}"
    sim.faults.add(FaultRule(error_rate=0.05, code=500))
    dropping = asyncio.create_task(_drop_watches_every(sim, 0.5))
    try:
        await create_all(harrow, parent, 30)
        await eventually(lambda: _equals(count_in_state(harrow, parent, "RUNNING"), 30), within=30, every=0.25)
        for index in range(10):
            request = vm_pb.StopVirtualMachineRequest(name=f"{parent}/virtualMachines/vm-{index}")
            await harrow.api.call(VMS, "StopVirtualMachine", request)
        await eventually(lambda: _equals(count_in_state(harrow, parent, "STOPPED"), 10), within=30, every=0.25)
        await eventually(lambda: _all_operations_done(harrow), within=30, every=0.25)
    finally:
        dropping.cancel()
        sim.faults.clear()
    assert harrow.app.reconciler is not None
    assert harrow.app.reconciler.api_calls > 0


async def _equals(value: asyncio.Future[int] | object, expected: int) -> bool:
    return await value == expected  # type: ignore[misc]


async def _all_operations_done(harrow: Instance) -> bool:
    listed = await harrow.api.call(
        "OperationService", "ListOperations", operations_pb2.ListOperationsRequest(name="operations", page_size=1000)
    )
    return bool(listed.operations) and all(op.done and not op.HasField("error") for op in listed.operations)


async def _drop_watches_every(sim: KubeSim, seconds: float) -> None:
    async with aiohttp.ClientSession(headers={"Authorization": f"Bearer {sim.token}"}) as http:
        while True:
            await asyncio.sleep(seconds)
            async with http.post(f"{sim.url}/kubesim/watches/drop", ssl=False) as response:
                assert response.status == 200
