"""Requests the e2e tests send, built the way a user would write them."""

from __future__ import annotations

import uuid

from harrow.v1 import virtual_machine_pb2 as vm_pb

PARENT = "clusters/local/namespaces/default"


def vm_name(vm_id: str, parent: str = PARENT) -> str:
    return f"{parent}/virtualMachines/{vm_id}"


def spec(**overrides: object) -> vm_pb.VirtualMachineSpec:
    base = vm_pb.VirtualMachineSpec(
        description="web server",
        cpu=vm_pb.CpuTopology(cores=2),
        memory="4Gi",
        run_strategy=vm_pb.VirtualMachineSpec.HALTED,
        disks=[
            vm_pb.Disk(
                name="root",
                boot_order=1,
                image=vm_pb.ImageSource(url="https://images.example.com/ubuntu-24.04.qcow2", size="20Gi"),
            ),
            vm_pb.Disk(name="data", new_volume=vm_pb.NewVolume(size="100Gi", access_modes=[vm_pb.READ_WRITE_MANY])),
        ],
        interfaces=[vm_pb.NetworkInterface(name="default", network="pod")],
        cloud_init=vm_pb.CloudInit(user_data="#cloud-config\npackages: [nginx]\n"),
    )
    for key, value in overrides.items():
        if isinstance(value, list):
            del getattr(base, key)[:]
            getattr(base, key).extend(value)
        elif hasattr(value, "DESCRIPTOR"):
            getattr(base, key).CopyFrom(value)
        else:
            setattr(base, key, value)
    return base


def create_request(
    vm_id: str = "web-1",
    *,
    labels: dict[str, str] | None = None,
    request_id: str = "",
    parent: str = PARENT,
    validate_only: bool = False,
    **spec_overrides: object,
) -> vm_pb.CreateVirtualMachineRequest:
    return vm_pb.CreateVirtualMachineRequest(
        parent=parent,
        virtual_machine_id=vm_id,
        virtual_machine=vm_pb.VirtualMachine(labels=labels or {"team": "web"}, spec=spec(**spec_overrides)),
        request_id=request_id,
        validate_only=validate_only,
    )


def new_request_id() -> str:
    return str(uuid.uuid4())
