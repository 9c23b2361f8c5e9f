"""harrow_ip_pool: a pool Harrow allocates from, mirrored into the cluster as a Harvester IPPool.

Usage counts (total, available, used) live on the harrow_ip_pool data source, not here: they move
with every allocation, and a resource that changed on every refresh would only add noise to plans.
"""

from __future__ import annotations

from typing import Any, ClassVar

from tf.iface import State
from tf.schema import Block, Schema
from tf.types import Bool, Map, Number, String
from tf.utils import Diagnostics

from terraform_provider_harrow.resource import WAIT_FOR_CLUSTER, HarrowResource, identity_attributes
from terraform_provider_harrow.schema import ListBlock, SingleBlock, computed, optional, required

RANGE = Block(
    attributes=[
        required("subnet", String(), 'CIDR, IPv4 or IPv6 ("10.0.0.0/24", "fd00::/64").'),
        optional("range_start", String(), "First address handed out (network+1 when unset)."),
        optional("range_end", String(), "Last address handed out (broadcast-1 when unset)."),
        optional("gateway", String(), "Never handed out (network+1 when unset)."),
    ]
)

SELECTOR = Block(
    attributes=[
        optional("priority", Number(), "Higher wins among matching pools; non-zero priorities are unique."),
        optional("network", String(), 'NetworkAttachmentDefinition "namespace/name"; unset: management network.'),
    ],
    block_types=[
        ListBlock(
            "scope",
            Block(
                attributes=[
                    optional("project", String(), '"*" matches any.'),
                    optional("namespace", String(), '"*" matches any.'),
                    optional("guest_cluster", String(), '"*" matches any.'),
                ]
            ),
        )
    ],
)

SPEC = Block(
    attributes=[optional("description", String(), "Free text.")],
    block_types=[ListBlock("range", RANGE, min_items=1), SingleBlock("selector", SELECTOR)],
)


class IpPool(HarrowResource):
    spec = SPEC
    _schema: ClassVar[Schema] = Schema(
        version=1,
        attributes=[
            computed("id", String(), "The Harrow resource name, clusters/{c}/ipPools/{pool}."),
            *identity_attributes("pool"),
            optional("labels", Map(String()), "Labels of the pool."),
            optional("annotations", Map(String()), "Annotations of the pool."),
            *SPEC.attributes,
            WAIT_FOR_CLUSTER,
            optional(
                "force_destroy",
                Bool(),
                "Destroy the pool even while addresses are allocated from it, releasing them (recorded in the "
                "ledger as FORCE_RELEASE). Default false: such a destroy is refused.",
            ),
            computed("uid", String(), "Harrow's UID of the pool."),
            computed("etag", String(), "The etag Terraform sends back with every change."),
            computed("state", String(), "ACTIVE, or DELETING."),
        ],
        block_types=[*SPEC.block_types, HarrowResource.timeouts.block()],
    )

    @classmethod
    def get_name(cls) -> str:
        return "ip_pool"

    @classmethod
    def get_schema(cls) -> Schema:
        return cls._schema

    def validate(self, diags: Diagnostics, type_name: str, config: dict[str, Any]) -> None:
        super().validate(diags, type_name, config)
        self.validate_timeouts(diags, config)

    def name_of(self, state: State) -> str:
        return f"clusters/{state['cluster']}/ipPools/{state['name']}"

    def parse_name(self, name: str) -> None:
        parts = name.split("/")
        if len(parts) != 4 or parts[0] != "clusters" or parts[2] != "ipPools":
            raise ValueError(f"{name!r} is not clusters/{{cluster}}/ipPools/{{pool}}")

    def send_create(self, state: State, request_id: str) -> dict[str, Any]:
        return self.api.post(
            f"clusters/{state['cluster']}/ipPools", self.body_of(state), ipPoolId=state["name"], requestId=request_id
        )

    def send_delete(self, state: State, request_id: str) -> dict[str, Any]:
        force = "true" if state.get("force_destroy") else "false"
        return self.api.delete(self.name_of(state), etag=state["etag"] or "", force=force, requestId=request_id)

    def state_of(self, resource: dict[str, Any], prior: State | None) -> State:
        _, cluster, _, pool_id = resource["name"].split("/")
        return {"cluster": cluster, "name": pool_id, **self.common_state(resource, prior)}
