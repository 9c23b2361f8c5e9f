"""harrow_migration_policy: a KubeVirt MigrationPolicy; unset settings come from the cluster's migration config.

The settings are proto `optional` fields, so `allow_post_copy = false` is stored and echoed as
false, distinct from unset (which follows the cluster), exactly as KubeVirt distinguishes them.
"""

from __future__ import annotations

from typing import Any, ClassVar

from tf.iface import State
from tf.schema import Block, Schema
from tf.types import Bool, Map, Number, String
from tf.utils import Diagnostics

from terraform_provider_harrow.resource import WAIT_FOR_CLUSTER, HarrowResource, identity_attributes
from terraform_provider_harrow.schema import SingleBlock, computed, optional

SPEC = Block(
    attributes=[
        optional("description", String(), "Free text."),
        optional("allow_auto_converge", Bool(), "Throttle the guest's CPU so pre-copy converges."),
        optional("bandwidth_per_migration", String(), 'Per second, a quantity ("1Gi"); "0": unlimited.'),
        optional("completion_timeout_per_gib", Number(), "Seconds per GiB before the completion timeout acts."),
        optional("allow_post_copy", Bool(), "Switch to post-copy when the completion timeout is reached."),
        optional("allow_workload_disruption", Bool(), "Follows allow_post_copy when unset and that is set."),
    ],
    block_types=[
        SingleBlock(
            "selectors",
            Block(
                attributes=[
                    optional("namespace_selector", Map(String()), "Labels the VM's namespace must carry."),
                    optional("virtual_machine_instance_selector", Map(String()), "Labels the VM must carry."),
                ]
            ),
        )
    ],
)


class MigrationPolicy(HarrowResource):
    spec = SPEC
    presence = frozenset(attribute.name for attribute in SPEC.attributes if attribute.name != "description")
    _schema: ClassVar[Schema] = Schema(
        version=1,
        attributes=[
            computed("id", String(), "The Harrow resource name, clusters/{c}/migrationPolicies/{policy}."),
            *identity_attributes("policy (also the cluster object's name, which KubeVirt breaks ties by)"),
            optional("labels", Map(String()), "Labels of the policy."),
            optional("annotations", Map(String()), "Annotations of the policy."),
            *SPEC.attributes,
            WAIT_FOR_CLUSTER,
            computed("uid", String(), "Harrow's UID of the policy."),
            computed("etag", String(), "The etag Terraform sends back with every change."),
            computed("state", String(), "ACTIVE, or DELETING."),
        ],
        block_types=[*SPEC.block_types, HarrowResource.timeouts.block()],
    )

    @classmethod
    def get_name(cls) -> str:
        return "migration_policy"

    @classmethod
    def get_schema(cls) -> Schema:
        return cls._schema

    def validate(self, diags: Diagnostics, type_name: str, config: dict[str, Any]) -> None:
        super().validate(diags, type_name, config)
        self.validate_timeouts(diags, config)

    def name_of(self, state: State) -> str:
        return f"clusters/{state['cluster']}/migrationPolicies/{state['name']}"

    def parse_name(self, name: str) -> None:
        parts = name.split("/")
        if len(parts) != 4 or parts[0] != "clusters" or parts[2] != "migrationPolicies":
            raise ValueError(f"{name!r} is not clusters/{{cluster}}/migrationPolicies/{{policy}}")

    def send_create(self, state: State, request_id: str) -> dict[str, Any]:
        return self.api.post(
            f"clusters/{state['cluster']}/migrationPolicies",
            self.body_of(state),
            migrationPolicyId=state["name"],
            requestId=request_id,
        )

    def state_of(self, resource: dict[str, Any], prior: State | None) -> State:
        _, cluster, _, policy_id = resource["name"].split("/")
        return {"cluster": cluster, "name": policy_id, **self.common_state(resource, prior)}
