"""harrow_migration_config: the cluster's migration configuration, a singleton that always exists in Harrow.

Creating it takes the configuration over (every setting as written, unset ones back to the
version's default); destroying it gives it back (every setting unset). `effective` shows each
value in force, defaults included, so a user sees what an unset setting means on this cluster.
"""

from __future__ import annotations

from typing import Any, ClassVar

from tf.iface import State
from tf.schema import Attribute, Block, Schema
from tf.types import Bool, Map, Number, String
from tf.utils import Diagnostics

from terraform_provider_harrow.mapping import json_name
from terraform_provider_harrow.resource import WAIT_FOR_CLUSTER, HarrowResource
from terraform_provider_harrow.schema import computed, optional

SPEC = Block(
    attributes=[
        optional("parallel_migrations_per_cluster", Number(), "Concurrent migrations in the cluster."),
        optional("parallel_outbound_migrations_per_node", Number(), "Concurrent outbound migrations per node."),
        optional("bandwidth_per_migration", String(), 'Per second, a quantity ("64Mi"); "0": unlimited.'),
        optional("completion_timeout_per_gib", Number(), "Seconds per GiB before the completion timeout acts."),
        optional("progress_timeout", Number(), "Seconds without progress before a migration is aborted."),
        optional("allow_auto_converge", Bool(), "Throttle the guest's CPU so pre-copy converges."),
        optional("allow_post_copy", Bool(), "Switch to post-copy when the completion timeout is reached."),
        optional("allow_workload_disruption", Bool(), "Follows allow_post_copy when unset."),
        optional("network", String(), "Multus network for migrations; the pod network when unset."),
    ]
)


class MigrationConfig(HarrowResource):
    spec = SPEC
    presence = frozenset(attribute.name for attribute in SPEC.attributes)
    volatile = ("etag", "state", "effective")
    _schema: ClassVar[Schema] = Schema(
        version=1,
        attributes=[
            computed("id", String(), "The Harrow resource name, clusters/{c}/migrationConfig."),
            Attribute(
                "cluster",
                String(),
                description='The Harrow cluster ID (default "local"); one configuration per cluster.',
                optional=True,
                computed=True,
                default="local",
                requires_replace=True,
            ),
            optional("labels", Map(String()), "Labels of the configuration."),
            optional("annotations", Map(String()), "Annotations of the configuration."),
            *SPEC.attributes,
            WAIT_FOR_CLUSTER,
            computed("uid", String(), "Harrow's UID of the configuration."),
            computed("etag", String(), "The etag Terraform sends back with every change."),
            computed("state", String(), "ACTIVE."),
            computed("effective", Map(String()), "Every setting in force, set or defaulted, by attribute name."),
            computed("kubevirt_version", String(), "The KubeVirt version the defaults are those of."),
        ],
        block_types=[HarrowResource.timeouts.block()],
    )

    @classmethod
    def get_name(cls) -> str:
        return "migration_config"

    @classmethod
    def get_schema(cls) -> Schema:
        return cls._schema

    def validate(self, diags: Diagnostics, type_name: str, config: dict[str, Any]) -> None:
        super().validate(diags, type_name, config)
        self.validate_timeouts(diags, config)

    def name_of(self, state: State) -> str:
        return f"clusters/{state['cluster']}/migrationConfig"

    def parse_name(self, name: str) -> None:
        parts = name.split("/")
        if len(parts) != 3 or parts[0] != "clusters" or parts[2] != "migrationConfig":
            raise ValueError(f"{name!r} is not clusters/{{cluster}}/migrationConfig")

    def send_create(self, state: State, request_id: str) -> dict[str, Any]:
        current = self.api.get(self.name_of(state))
        body = {**self.body_of(state), "etag": current.get("etag", "")}
        return self.api.patch(self.name_of(state), body, updateMask="*", requestId=request_id)

    def send_delete(self, state: State, request_id: str) -> dict[str, Any]:
        body: dict[str, Any] = {"etag": state["etag"] or "", "spec": {}}
        return self.api.patch(self.name_of(state), body, updateMask="*", requestId=request_id)

    def state_of(self, resource: dict[str, Any], prior: State | None) -> State:
        effective = resource.get("status", {}).get("effective", {})
        return {
            "cluster": resource["name"].split("/")[1],
            **self.common_state(resource, prior),
            "effective": {
                attribute.name: _text(effective[json_name(attribute.name)])
                for attribute in SPEC.attributes
                if json_name(attribute.name) in effective
            },
            "kubevirt_version": resource.get("status", {}).get("kubevirtVersion", ""),
        }


def _text(value: Any) -> str:
    return str(value).lower() if isinstance(value, bool) else str(value)
