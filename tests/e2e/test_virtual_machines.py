"""VirtualMachine API end to end, every case over both gRPC and REST (the `api` fixture)."""

from __future__ import annotations

import asyncio

import pytest
from google.protobuf import field_mask_pb2, json_format
from harrow.v1 import virtual_machine_pb2 as vm_pb

from tests.e2e.builders import PARENT, create_request, new_request_id, spec, vm_name
from tests.e2e.clients import ApiError

VM = "VirtualMachineService"
State = vm_pb.VirtualMachine.State
Action = vm_pb.VirtualMachineStatus.Action


async def get(api, name: str) -> vm_pb.VirtualMachine:
    return await api.call(VM, "GetVirtualMachine", vm_pb.GetVirtualMachineRequest(name=name))


async def list_all(api, parent: str = PARENT, **kwargs: object) -> list[vm_pb.VirtualMachine]:
    response = await api.call(VM, "ListVirtualMachines", vm_pb.ListVirtualMachinesRequest(parent=parent, **kwargs))
    return list(response.virtual_machines)


async def error_of(call) -> ApiError:
    with pytest.raises(ApiError) as raised:
        await call
    return raised.value


async def test_create_records_intent_and_echoes_the_spec_exactly(api) -> None:
    request = create_request("web-1")
    operation = await api.call(VM, "CreateVirtualMachine", request)
    assert operation.name.startswith("operations/") and not operation.done

    vm = await get(api, vm_name("web-1"))
    assert vm.spec == request.virtual_machine.spec
    assert json_format.MessageToJson(vm.spec) == json_format.MessageToJson(request.virtual_machine.spec)
    assert vm.labels == {"team": "web"}
    assert (vm.generation, vm.observed_generation, vm.reconciling) == (1, 0, True)
    assert vm.state == State.STOPPED
    assert list(vm.status.allowed_actions) == [Action.START]
    assert vm.etag.startswith('"') and len(vm.uid) == 36


async def test_duplicate_create_is_already_exists(api) -> None:
    await api.call(VM, "CreateVirtualMachine", create_request("web-1"))
    error = await error_of(api.call(VM, "CreateVirtualMachine", create_request("web-1")))
    assert error.code == "ALREADY_EXISTS"
    assert error.reason == "VIRTUAL_MACHINE_EXISTS"
    if api.transport == "rest":
        assert error.http_status == 409


async def test_retried_create_with_the_same_request_id_creates_one_vm(api) -> None:
    request = create_request("web-1", request_id=new_request_id())
    first = await api.call(VM, "CreateVirtualMachine", request)
    again = await api.call(VM, "CreateVirtualMachine", request)
    assert again.name == first.name
    assert [vm.name for vm in await list_all(api)] == [vm_name("web-1")]


async def test_concurrent_duplicates_of_one_request_id_have_one_effect(api) -> None:
    request = create_request("web-1", request_id=new_request_id())
    operations = await asyncio.gather(*[api.call(VM, "CreateVirtualMachine", request) for _ in range(8)])
    assert len({operation.name for operation in operations}) == 1
    assert len(await list_all(api)) == 1


async def test_request_id_reused_for_another_request_is_refused(api) -> None:
    request_id = new_request_id()
    await api.call(VM, "CreateVirtualMachine", create_request("web-1", request_id=request_id))
    error = await error_of(api.call(VM, "CreateVirtualMachine", create_request("web-2", request_id=request_id)))
    assert error.code == "INVALID_ARGUMENT" and "request_id" in error.violations
    assert len(await list_all(api)) == 1


async def test_validate_only_creates_nothing(api) -> None:
    operation = await api.call(VM, "CreateVirtualMachine", create_request("web-1", validate_only=True))
    assert operation.done
    assert await list_all(api) == []


@pytest.mark.parametrize(
    ("overrides", "field", "words"),
    [
        ({"memory": "4GB"}, "virtual_machine.spec.memory", 'unknown suffix "GB"'),
        ({"memory": "-1Gi"}, "virtual_machine.spec.memory", "negative"),
        ({"cpu": vm_pb.CpuTopology(cores=0)}, "virtual_machine.spec.cpu.cores", "at least 1"),
        (
            {
                "disks": [
                    vm_pb.Disk(name="a", existing_claim=vm_pb.ExistingClaim(claim_name="c1")),
                    vm_pb.Disk(name="a", existing_claim=vm_pb.ExistingClaim(claim_name="c2")),
                ]
            },
            "virtual_machine.spec.disks[1].name",
            "already used",
        ),
        (
            {
                "disks": [
                    vm_pb.Disk(name="a", boot_order=1, existing_claim=vm_pb.ExistingClaim(claim_name="c1")),
                    vm_pb.Disk(name="b", boot_order=1, existing_claim=vm_pb.ExistingClaim(claim_name="c2")),
                ]
            },
            "virtual_machine.spec.disks[1].boot_order",
            "already used by virtual_machine.spec.disks[0]",
        ),
        (
            {
                "interfaces": [
                    vm_pb.NetworkInterface(name="n", network="pod"),
                    vm_pb.NetworkInterface(name="n", network="pod"),
                ]
            },
            "virtual_machine.spec.interfaces[1].name",
            "already used",
        ),
        ({"run_strategy": 0}, "virtual_machine.spec.run_strategy", "required"),
    ],
)
async def test_bad_spec_names_the_field_and_changes_nothing(api, overrides, field, words) -> None:
    error = await error_of(api.call(VM, "CreateVirtualMachine", create_request("web-1", **overrides)))
    assert error.code == "INVALID_ARGUMENT"
    assert field in error.violations, error.violations
    assert words in error.violations[field]
    assert await list_all(api) == []


@pytest.mark.parametrize(
    ("parent", "vm_id", "field"),
    [
        ("clusters/local/namespace/default", "web-1", "parent"),
        ("clusters/local/namespaces/Default", "web-1", "parent"),
        (PARENT, "Web_1", "virtual_machine_id"),
        (PARENT, "a" * 64, "virtual_machine_id"),
    ],
)
async def test_malformed_names_are_invalid_argument(api, parent, vm_id, field) -> None:
    error = await error_of(api.call(VM, "CreateVirtualMachine", create_request(vm_id, parent=parent)))
    if api.transport == "rest" and "/namespace/" in parent:
        # Over REST a name with the wrong collections matches no route at all.
        assert (error.code, error.http_status) == ("NOT_FOUND", 404) and "namespace/default" in error.message
        return
    assert error.code == "INVALID_ARGUMENT"
    assert field in error.violations


async def test_unknown_cluster_is_not_found(api) -> None:
    request = create_request("web-1", parent="clusters/nowhere/namespaces/default")
    error = await error_of(api.call(VM, "CreateVirtualMachine", request))
    assert (error.code, error.reason) == ("NOT_FOUND", "CLUSTER_NOT_FOUND")


async def test_update_with_mask_changes_only_that_field_and_moves_etag(api) -> None:
    await api.call(VM, "CreateVirtualMachine", create_request("web-1"))
    before = await get(api, vm_name("web-1"))
    patch = vm_pb.VirtualMachine(name=before.name, etag=before.etag, spec=vm_pb.VirtualMachineSpec(memory="8Gi"))
    await api.call(
        VM,
        "UpdateVirtualMachine",
        vm_pb.UpdateVirtualMachineRequest(
            virtual_machine=patch, update_mask=field_mask_pb2.FieldMask(paths=["spec.memory"])
        ),
    )
    after = await get(api, vm_name("web-1"))
    assert after.spec.memory == "8Gi"
    assert after.spec.disks == before.spec.disks
    assert after.generation == 2 and after.etag != before.etag

    stale = vm_pb.VirtualMachine(name=before.name, etag=before.etag, spec=vm_pb.VirtualMachineSpec(memory="2Gi"))
    error = await error_of(
        api.call(
            VM,
            "UpdateVirtualMachine",
            vm_pb.UpdateVirtualMachineRequest(
                virtual_machine=stale, update_mask=field_mask_pb2.FieldMask(paths=["spec.memory"])
            ),
        )
    )
    assert (error.code, error.reason) == ("ABORTED", "ETAG_MISMATCH")
    if api.transport == "rest":
        assert error.http_status == 409
    assert (await get(api, vm_name("web-1"))).spec.memory == "8Gi"


async def test_update_star_replaces_and_no_mask_means_populated_fields(api) -> None:
    await api.call(VM, "CreateVirtualMachine", create_request("web-1"))
    replacement = vm_pb.VirtualMachine(name=vm_name("web-1"), spec=spec(disks=[], memory="1Gi"))
    await api.call(
        VM,
        "UpdateVirtualMachine",
        vm_pb.UpdateVirtualMachineRequest(
            virtual_machine=replacement, update_mask=field_mask_pb2.FieldMask(paths=["*"])
        ),
    )
    vm = await get(api, vm_name("web-1"))
    assert list(vm.spec.disks) == [] and vm.labels == {}

    await api.call(
        VM,
        "UpdateVirtualMachine",
        vm_pb.UpdateVirtualMachineRequest(
            virtual_machine=vm_pb.VirtualMachine(name=vm_name("web-1"), labels={"tier": "gold"})
        ),
    )
    vm = await get(api, vm_name("web-1"))
    assert vm.labels == {"tier": "gold"} and vm.spec.memory == "1Gi"


async def test_update_refuses_output_only_paths_and_bad_merges(api) -> None:
    await api.call(VM, "CreateVirtualMachine", create_request("web-1"))
    error = await error_of(
        api.call(
            VM,
            "UpdateVirtualMachine",
            vm_pb.UpdateVirtualMachineRequest(
                virtual_machine=vm_pb.VirtualMachine(name=vm_name("web-1")),
                update_mask=field_mask_pb2.FieldMask(paths=["state"]),
            ),
        )
    )
    assert error.code == "INVALID_ARGUMENT" and "output only" in error.violations["update_mask"]

    error = await error_of(
        api.call(
            VM,
            "UpdateVirtualMachine",
            vm_pb.UpdateVirtualMachineRequest(
                virtual_machine=vm_pb.VirtualMachine(
                    name=vm_name("web-1"), spec=vm_pb.VirtualMachineSpec(memory="lots")
                ),
                update_mask=field_mask_pb2.FieldMask(paths=["spec.memory"]),
            ),
        )
    )
    assert "virtual_machine.spec.memory" in error.violations
    assert (await get(api, vm_name("web-1"))).generation == 1


async def test_update_allow_missing_creates(api) -> None:
    vm = vm_pb.VirtualMachine(name=vm_name("web-9"), spec=spec())
    error = await error_of(api.call(VM, "UpdateVirtualMachine", vm_pb.UpdateVirtualMachineRequest(virtual_machine=vm)))
    assert error.code == "NOT_FOUND"
    await api.call(
        VM, "UpdateVirtualMachine", vm_pb.UpdateVirtualMachineRequest(virtual_machine=vm, allow_missing=True)
    )
    assert (await get(api, vm_name("web-9"))).spec == spec()


async def test_delete_checks_etag_then_marks_the_vm_terminating(api) -> None:
    await api.call(VM, "CreateVirtualMachine", create_request("web-1"))
    vm = await get(api, vm_name("web-1"))
    error = await error_of(
        api.call(VM, "DeleteVirtualMachine", vm_pb.DeleteVirtualMachineRequest(name=vm.name, etag='"not-the-etag"'))
    )
    assert error.code == "ABORTED"
    operation = await api.call(
        VM, "DeleteVirtualMachine", vm_pb.DeleteVirtualMachineRequest(name=vm.name, etag=vm.etag)
    )
    assert operation.name.startswith("operations/")
    deleting = await get(api, vm.name)
    assert deleting.state == State.TERMINATING and deleting.HasField("delete_time")
    assert list(deleting.status.allowed_actions) == []

    missing = vm_name("ghost")
    error = await error_of(api.call(VM, "DeleteVirtualMachine", vm_pb.DeleteVirtualMachineRequest(name=missing)))
    assert error.code == "NOT_FOUND"
    operation = await api.call(
        VM,
        "DeleteVirtualMachine",
        vm_pb.DeleteVirtualMachineRequest(name=missing, allow_missing=True, etag='"whatever"'),
    )
    assert operation.done


async def test_lifecycle_actions_are_state_checked_and_recorded(api) -> None:
    await api.call(VM, "CreateVirtualMachine", create_request("web-1"))
    name = vm_name("web-1")
    error = await error_of(api.call(VM, "PauseVirtualMachine", vm_pb.PauseVirtualMachineRequest(name=name)))
    assert (error.code, error.reason) == ("FAILED_PRECONDITION", "ACTION_NOT_ALLOWED")
    assert "STOPPED" in error.message and "START" in error.message
    assert error.metadata["state"] == "STOPPED"

    operation = await api.call(VM, "StartVirtualMachine", vm_pb.StartVirtualMachineRequest(name=name))
    assert not operation.done
    vm = await get(api, name)
    assert vm.spec.run_strategy == vm_pb.VirtualMachineSpec.ALWAYS and vm.generation == 2


async def test_list_pages_filters_and_orders(api) -> None:
    for index in range(12):
        labels = {"team": "db" if index % 3 == 0 else "web"}
        await api.call(VM, "CreateVirtualMachine", create_request(f"vm-{index:02d}", labels=labels))
    seen: list[str] = []
    token = ""
    while True:
        page = await api.call(
            VM, "ListVirtualMachines", vm_pb.ListVirtualMachinesRequest(parent=PARENT, page_size=5, page_token=token)
        )
        seen += [vm.name for vm in page.virtual_machines]
        token = page.next_page_token
        if not token:
            break
    assert seen == sorted(vm_name(f"vm-{i:02d}") for i in range(12))

    db = await list_all(api, filter='labels.team = "db" AND state = STOPPED')
    assert [vm.name for vm in db] == [vm_name(f"vm-{i:02d}") for i in (0, 3, 6, 9)]
    newest_first = await list_all(api, order_by="create_time desc", page_size=2)
    assert [vm.name for vm in newest_first] == [vm_name("vm-11"), vm_name("vm-10")]
    everywhere = await list_all(api, parent="clusters/local/namespaces/-", filter="labels:team")
    assert len(everywhere) == 12


async def test_list_rejects_bad_tokens_filters_and_changed_queries(api) -> None:
    for index in range(3):
        await api.call(VM, "CreateVirtualMachine", create_request(f"vm-{index}"))
    error = await error_of(list_all(api, page_token="garbage"))
    assert error.code == "INVALID_ARGUMENT" and "page_token" in error.violations
    error = await error_of(list_all(api, filter="state = RUNNING AND"))
    assert error.code == "INVALID_ARGUMENT" and "position" in error.violations["filter"]
    error = await error_of(list_all(api, filter="colour = red"))
    assert 'unknown field "colour"' in error.violations["filter"]
    page = await api.call(VM, "ListVirtualMachines", vm_pb.ListVirtualMachinesRequest(parent=PARENT, page_size=1))
    error = await error_of(list_all(api, page_token=page.next_page_token, filter="state = STOPPED"))
    assert "page_token" in error.violations
    error = await error_of(list_all(api, page_size=-1))
    assert "page_size" in error.violations


async def test_update_refuses_a_new_volume_under_an_existing_disk_and_changes_nothing(api) -> None:
    """An existing disk's DataVolume is never updated on the cluster, so changing its source must fail loudly."""
    await api.call(VM, "CreateVirtualMachine", create_request("web-1"))
    before = await get(api, vm_name("web-1"))

    async def update(disks: list[vm_pb.Disk]) -> None:
        vm = vm_pb.VirtualMachine(name=before.name, spec=vm_pb.VirtualMachineSpec(disks=disks))
        mask = field_mask_pb2.FieldMask(paths=["spec.disks"])
        await api.call(
            VM, "UpdateVirtualMachine", vm_pb.UpdateVirtualMachineRequest(virtual_machine=vm, update_mask=mask)
        )

    root, data = (vm_pb.Disk(), vm_pb.Disk())
    root.CopyFrom(before.spec.disks[0])
    data.CopyFrom(before.spec.disks[1])
    root.image.storage_class = "longhorn-rwo"
    root.image.url = "https://images.example.com/ubuntu-26.04.qcow2"
    data.new_volume.size = "200Gi"
    data.new_volume.volume_mode = vm_pb.BLOCK
    data.new_volume.access_modes[:] = [vm_pb.READ_WRITE_ONCE]
    error = await error_of(update([root, data]))
    assert error.code == "INVALID_ARGUMENT"
    assert set(error.violations) == {
        "virtual_machine.spec.disks[0].image.storage_class",
        "virtual_machine.spec.disks[0].image.url",
        "virtual_machine.spec.disks[1].new_volume.size",
        "virtual_machine.spec.disks[1].new_volume.volume_mode",
        "virtual_machine.spec.disks[1].new_volume.access_modes",
    }
    assert (
        '("READ_WRITE_MANY" → "READ_WRITE_ONCE")'
        in error.violations["virtual_machine.spec.disks[1].new_volume.access_modes"]
    )
    assert 'unset → "longhorn-rwo"' in error.violations["virtual_machine.spec.disks[0].image.storage_class"]
    assert "replace the disk" in error.violations["virtual_machine.spec.disks[1].new_volume.size"]

    claim = vm_pb.Disk(name="data", existing_claim=vm_pb.ExistingClaim(claim_name="shared"))
    error = await error_of(update([before.spec.disks[0], claim]))
    assert "new_volume and cannot move to existing_claim" in error.violations["virtual_machine.spec.disks[1]"]
    after = await get(api, vm_name("web-1"))
    assert (after.spec, after.generation, after.etag) == (before.spec, before.generation, before.etag)

    # What the VM object itself carries stays editable, and whole disks come and go.
    root.CopyFrom(before.spec.disks[0])
    root.bus, root.image.size = vm_pb.Disk.SCSI, "20480Mi"
    logs = vm_pb.Disk(name="logs", new_volume=vm_pb.NewVolume(size="5Gi", storage_class="longhorn-rwo"))
    await update([root, logs])
    after = await get(api, vm_name("web-1"))
    assert [disk.name for disk in after.spec.disks] == ["root", "logs"] and after.spec.disks[0].bus == vm_pb.Disk.SCSI
