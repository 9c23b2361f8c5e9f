"""Watch streams and the Operations service, over both transports."""

from __future__ import annotations

import asyncio

import asyncpg
import pytest
from google.longrunning import operations_pb2
from google.protobuf import duration_pb2, field_mask_pb2
from harrow.v1 import cluster_pb2, common_pb2
from harrow.v1 import virtual_machine_pb2 as vm_pb

from storage.db import Database
from storage.repos import changes
from tests.e2e.builders import PARENT, create_request, vm_name
from tests.e2e.clients import ApiError

VM = "VirtualMachineService"
OPS = "OperationService"


async def next_event(stream, type_: int) -> vm_pb.WatchVirtualMachinesResponse:
    async def find() -> vm_pb.WatchVirtualMachinesResponse:
        async for event in stream:
            if event.type == type_:
                return event
        raise AssertionError("stream ended")

    return await asyncio.wait_for(find(), 10)


async def test_watch_from_a_list_revision_sees_every_later_change(api) -> None:
    await api.call(VM, "CreateVirtualMachine", create_request("before", labels={"team": "db"}))
    listed = await api.call(VM, "ListVirtualMachines", vm_pb.ListVirtualMachinesRequest(parent=PARENT))
    assert [vm.name for vm in listed.virtual_machines] == [vm_name("before")]

    request = vm_pb.WatchVirtualMachinesRequest(
        parent=PARENT, filter='labels.team = "db"', since_revision=listed.revision
    )
    stream = api.stream(VM, "WatchVirtualMachines", request).__aiter__()
    await api.call(VM, "CreateVirtualMachine", create_request("other", labels={"team": "web"}))
    await api.call(VM, "CreateVirtualMachine", create_request("after", labels={"team": "db"}))
    added = await next_event(stream, common_pb2.ADDED)
    assert added.virtual_machine.name == vm_name("after")  # "other" did not match the filter
    assert added.revision > listed.revision

    patch = vm_pb.VirtualMachine(name=vm_name("after"), spec=vm_pb.VirtualMachineSpec(memory="8Gi"))
    await api.call(
        VM,
        "UpdateVirtualMachine",
        vm_pb.UpdateVirtualMachineRequest(
            virtual_machine=patch, update_mask=field_mask_pb2.FieldMask(paths=["spec.memory"])
        ),
    )
    modified = await next_event(stream, common_pb2.MODIFIED)
    assert modified.virtual_machine.spec.memory == "8Gi" and modified.revision > added.revision

    bookmark = await next_event(stream, common_pb2.BOOKMARK)
    assert bookmark.revision >= modified.revision
    await stream.aclose()


async def test_watch_refuses_revisions_outside_the_history(api, harrow) -> None:
    for index in range(3):
        await api.call(VM, "CreateVirtualMachine", create_request(f"vm-{index}"))
    db = Database(harrow.database_url)
    try:
        async with db.transaction() as session:
            compacted = await changes.compact(session, keep=1)
    finally:
        await db.close()
    assert compacted >= 2

    for since, reason in ((1, "REVISION_COMPACTED"), (10_000, "REVISION_IN_FUTURE")):
        request = vm_pb.WatchVirtualMachinesRequest(parent=PARENT, since_revision=since)
        with pytest.raises(ApiError) as raised:
            async for _ in api.stream(VM, "WatchVirtualMachines", request):
                break
        assert (raised.value.code, raised.value.reason) == ("OUT_OF_RANGE", reason)


async def test_operations_can_be_read_waited_on_listed_and_cancelled(api) -> None:
    created = await api.call(VM, "CreateVirtualMachine", create_request("web-1"))
    fetched = await api.call(OPS, "GetOperation", operations_pb2.GetOperationRequest(name=created.name))
    assert fetched.name == created.name and not fetched.done

    metadata = common_pb2.OperationMetadata()
    fetched.metadata.Unpack(metadata)
    assert (metadata.target, metadata.verb, metadata.target_generation) == (vm_name("web-1"), "create", 1)

    waited = await api.call(
        OPS,
        "WaitOperation",
        operations_pb2.WaitOperationRequest(name=created.name, timeout=duration_pb2.Duration(nanos=200_000_000)),
    )
    assert not waited.done  # no cluster has shown it yet

    listed = await api.call(
        OPS, "ListOperations", operations_pb2.ListOperationsRequest(filter=f'target = "{vm_name("web-1")}"')
    )
    assert [operation.name for operation in listed.operations] == [created.name]

    await api.call(OPS, "CancelOperation", operations_pb2.CancelOperationRequest(name=created.name))
    cancelled = await api.call(OPS, "GetOperation", operations_pb2.GetOperationRequest(name=created.name))
    assert cancelled.done and cancelled.error.code == 1  # CANCELLED

    with pytest.raises(ApiError) as raised:
        await api.call(
            OPS,
            "GetOperation",
            operations_pb2.GetOperationRequest(name="operations/00000000-0000-0000-0000-000000000000"),
        )
    assert raised.value.code == "NOT_FOUND"
    with pytest.raises(ApiError) as raised:
        await api.call(OPS, "GetOperation", operations_pb2.GetOperationRequest(name="operations/not-a-uuid"))
    assert raised.value.code == "INVALID_ARGUMENT"


async def test_the_local_cluster_exists_by_default(api) -> None:
    clusters = await api.call("ClusterService", "ListClusters", cluster_pb2.ListClustersRequest())
    assert "clusters/local" in [cluster.name for cluster in clusters.clusters]
    with pytest.raises(ApiError) as raised:
        await api.call("ClusterService", "GetCluster", cluster_pb2.GetClusterRequest(name="clusters/elsewhere"))
    assert raised.value.code == "NOT_FOUND"


async def test_every_write_wakes_listeners_with_its_kind(api, harrow) -> None:
    """Watchers and other replicas wake on NOTIFY, not on a poll: a create (whose change rides on the VM's
    own INSERT) and an update both notify, naming the kind."""
    heard: asyncio.Queue[str] = asyncio.Queue()
    listener = await asyncpg.connect(harrow.database_url)
    try:
        await listener.add_listener(changes.NOTIFY_CHANNEL, lambda *args: heard.put_nowait(args[-1]))
        await api.call("VirtualMachineService", "CreateVirtualMachine", create_request("noisy"))
        assert await asyncio.wait_for(heard.get(), 5) == "VirtualMachine"
        get = vm_pb.GetVirtualMachineRequest(name=vm_name("noisy"))
        vm = await api.call("VirtualMachineService", "GetVirtualMachine", get)
        vm.labels["tier"] = "web"
        labels = field_mask_pb2.FieldMask(paths=["labels"])
        update = vm_pb.UpdateVirtualMachineRequest(virtual_machine=vm, update_mask=labels)
        await api.call("VirtualMachineService", "UpdateVirtualMachine", update)
        assert await asyncio.wait_for(heard.get(), 5) == "VirtualMachine"
    finally:
        await listener.close()
