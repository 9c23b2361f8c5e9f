"""harrow_virtual_machine: a VM whose create returns only once the cluster shows it running (or stopped).

The blocks mirror `VirtualMachineSpec` one to one, so what a user writes is what Harrow stores
and echoes. Harrow's Create Operation is done when the cluster shows the run strategy's state
(RUNNING for ALWAYS), so after apply `ip_addresses` and `node` are filled and usable downstream.
"""

from __future__ import annotations

from typing import Any, ClassVar

from tf.iface import PlanContext, State
from tf.schema import Attribute, Block, Schema
from tf.types import List, Map, Number, String
from tf.utils import Diagnostics

from terraform_provider_harrow.mapping import JsonString
from terraform_provider_harrow.resource import (
    WAIT_FOR_CLUSTER,
    HarrowResource,
    Timeouts,
    has_unknown,
    identity_attributes,
)
from terraform_provider_harrow.schema import ListBlock, SingleBlock, computed, optional, required
from terraform_provider_harrow.values import enum_problems

RUN_STRATEGIES = ("ALWAYS", "HALTED", "MANUAL", "RERUN_ON_FAILURE")
EVICTION_STRATEGIES = ("NONE", "LIVE_MIGRATE", "LIVE_MIGRATE_IF_POSSIBLE", "EXTERNAL")
BUSES = ("VIRTIO", "SATA", "SCSI", "USB")
MODELS = ("VIRTIO", "E1000", "E1000E", "RTL8139")
ACCESS_MODES = ("READ_WRITE_ONCE", "READ_ONLY_MANY", "READ_WRITE_MANY", "READ_WRITE_ONCE_POD")
VOLUME_MODES = ("FILESYSTEM", "BLOCK")

_DISK = Block(
    attributes=[
        required("name", String(), "Unique among the VM's disks; a DNS-1123 label."),
        optional("bus", String(), f"One of {', '.join(BUSES)} (virtio when unset)."),
        optional("boot_order", Number(), "1 boots first; unset or 0: not bootable."),
    ],
    block_types=[
        SingleBlock(
            "image",
            Block(
                attributes=[
                    required("url", String(), "http(s):// disk image or docker:// container disk."),
                    required("size", String(), 'Volume size, a Kubernetes quantity ("20Gi").'),
                    optional("storage_class", String(), "The cluster's default StorageClass when unset."),
                ]
            ),
        ),
        SingleBlock(
            "new_volume",
            Block(
                attributes=[
                    required("size", String(), 'A Kubernetes quantity ("20Gi").'),
                    optional("storage_class", String(), "The cluster's default StorageClass when unset."),
                    optional("access_modes", List(String()), f"Of {', '.join(ACCESS_MODES)}."),
                    optional("volume_mode", String(), "FILESYSTEM or BLOCK; the StorageProfile's choice when unset."),
                ]
            ),
        ),
        SingleBlock(
            "existing_claim",
            Block(attributes=[required("claim_name", String(), "A PVC in the VM's namespace.")]),
        ),
    ],
)

_INTERFACE = Block(
    attributes=[
        required("name", String(), "Unique among the VM's interfaces; a DNS-1123 label."),
        required("network", String(), '"pod", or a NetworkAttachmentDefinition "namespace/name".'),
        optional("model", String(), f"One of {', '.join(MODELS)} (virtio when unset)."),
        optional("mac_address", String(), "Assigned by the cluster when unset."),
        optional("boot_order", Number(), "1 boots first; unset or 0: no network boot."),
        optional("ip_pool", String(), "An IP pool name (clusters/{c}/ipPools/{p}) to take a static address from."),
    ]
)

_PLACEMENT = Block(
    attributes=[
        optional("node_selector", Map(String()), "Node labels the VM must run on."),
        optional("affinity", JsonString(), "A Kubernetes Affinity object, as jsonencode({...})."),
    ],
    block_types=[
        ListBlock(
            "toleration",
            Block(
                attributes=[
                    optional("key", String(), "Taint key."),
                    optional("operator", String(), '"Exists" or "Equal" (the default).'),
                    optional("value", String(), "Taint value."),
                    optional("effect", String(), "NoSchedule, PreferNoSchedule, NoExecute, or unset for all."),
                    optional("toleration_seconds", Number(), "Only with effect NoExecute."),
                ]
            ),
        )
    ],
)

# Everything under `spec`, in VirtualMachineSpec's order.
SPEC = Block(
    attributes=[
        optional("description", String(), "Free text."),
        required("memory", String(), 'Guest memory, a Kubernetes quantity ("4Gi"), stored as written.'),
        required("run_strategy", String(), f"One of {', '.join(RUN_STRATEGIES)}."),
        optional("eviction_strategy", String(), f"One of {', '.join(EVICTION_STRATEGIES)}; the cluster's when unset."),
        optional("reserved_memory", String(), "Memory kept back for the VM's own overhead, a Kubernetes quantity."),
    ],
    block_types=[
        SingleBlock(
            "cpu",
            Block(
                attributes=[
                    required("cores", Number(), "Cores per socket."),
                    optional("sockets", Number(), "Defaults to 1."),
                    optional("threads", Number(), "Defaults to 1."),
                ]
            ),
        ),
        ListBlock("disk", _DISK),
        ListBlock("interface", _INTERFACE),
        SingleBlock(
            "cloud_init",
            Block(
                attributes=[
                    optional("user_data", String(), "cloud-init user data."),
                    optional("network_data", String(), "cloud-init network config (empty with pooled interfaces)."),
                ]
            ),
        ),
        SingleBlock("placement", _PLACEMENT),
    ],
)

_TIMEOUTS = Timeouts(create="15m", update="15m", delete="10m")


class VirtualMachine(HarrowResource):
    spec = SPEC
    timeouts = _TIMEOUTS
    volatile = ("etag", "state", "node", "ip_addresses", "interface_addresses")
    _schema: ClassVar[Schema] = Schema(
        version=1,
        attributes=[
            computed("id", String(), "The Harrow resource name, clusters/{c}/namespaces/{ns}/virtualMachines/{vm}."),
            *identity_attributes("VM"),
            Attribute(
                "namespace",
                String(),
                description='The namespace (default "default").',
                optional=True,
                computed=True,
                default="default",
                requires_replace=True,
            ),
            optional("labels", Map(String()), "Labels of the Harrow VM (copied onto the cluster object)."),
            optional("annotations", Map(String()), "Annotations of the Harrow VM."),
            *SPEC.attributes,
            WAIT_FOR_CLUSTER,
            computed("uid", String(), "Harrow's UID of the VM."),
            computed("etag", String(), "The etag Terraform sends back with every change."),
            computed("state", String(), "What the cluster shows: RUNNING, STOPPED, …"),
            computed("node", String(), "The node the VM runs on."),
            computed("ip_addresses", List(String()), "The guest's addresses the cluster reports."),
            computed("interface_addresses", Map(String()), "Pooled interfaces' static addresses, by interface name."),
        ],
        block_types=[*SPEC.block_types, _TIMEOUTS.block()],
    )

    @classmethod
    def get_name(cls) -> str:
        return "virtual_machine"

    @classmethod
    def get_schema(cls) -> Schema:
        return cls._schema

    def validate(self, diags: Diagnostics, type_name: str, config: dict[str, Any]) -> None:
        super().validate(diags, type_name, config)
        self.validate_timeouts(diags, config)
        checks: list[tuple[str, Any, tuple[str, ...]]] = [
            ("run_strategy", config.get("run_strategy"), RUN_STRATEGIES),
            ("eviction_strategy", config.get("eviction_strategy"), EVICTION_STRATEGIES),
        ]
        for disk in _known_items(config.get("disk")):
            checks.append(("disk.bus", disk.get("bus"), BUSES))
            volume = disk.get("new_volume")
            if isinstance(volume, dict):
                checks.append(("disk.new_volume.volume_mode", volume.get("volume_mode"), VOLUME_MODES))
                modes = volume.get("access_modes")
                for mode in modes if isinstance(modes, list) else []:
                    checks.append(("disk.new_volume.access_modes", mode, ACCESS_MODES))
        for interface in _known_items(config.get("interface")):
            checks.append(("interface.model", interface.get("model"), MODELS))
        for path, value, allowed in checks:
            problem = enum_problems(value, allowed)
            if problem:
                diags.add_error(f"Invalid {path}", problem, path=[path.split(".")[0]])

    def plan(self, ctx: PlanContext, current: State | None, planned: State) -> State:
        # What Harrow refuses is known before anything is applied: a new volume under an existing disk, above all.
        if current is not None and self.changes_harrow(current, planned) and not has_unknown(self.body_of(planned)):
            self.check_update(ctx.diagnostics, current, planned)
        return super().plan(ctx, current, planned)

    def name_of(self, state: State) -> str:
        return f"clusters/{state['cluster']}/namespaces/{state['namespace']}/virtualMachines/{state['name']}"

    def parse_name(self, name: str) -> None:
        parts = name.split("/")
        if len(parts) != 6 or parts[0] != "clusters" or parts[2] != "namespaces" or parts[4] != "virtualMachines":
            raise ValueError(f"{name!r} is not clusters/{{cluster}}/namespaces/{{namespace}}/virtualMachines/{{vm}}")

    def send_create(self, state: State, request_id: str) -> dict[str, Any]:
        parent = f"clusters/{state['cluster']}/namespaces/{state['namespace']}"
        return self.api.post(
            f"{parent}/virtualMachines", self.body_of(state), virtualMachineId=state["name"], requestId=request_id
        )

    def state_of(self, resource: dict[str, Any], prior: State | None) -> State:
        _, cluster, _, namespace, _, vm_id = resource["name"].split("/")
        status = resource.get("status", {})
        return {
            "cluster": cluster,
            "namespace": namespace,
            "name": vm_id,
            **self.common_state(resource, prior),
            "node": status.get("node", ""),
            "ip_addresses": list(status.get("ipAddresses", [])),
            "interface_addresses": {nic["name"]: nic.get("address", "") for nic in status.get("interfaces", [])},
        }


def _known_items(blocks: Any) -> list[dict[str, Any]]:
    """The blocks of a list block whose content is known at validation time (not computed from other resources)."""
    return [block for block in blocks if isinstance(block, dict)] if isinstance(blocks, list) else []
