"""harrow_storage_profile: overrides of CDI's choices for one StorageClass; the profile itself is the cluster's.

CDI keeps one StorageProfile per StorageClass and Harrow observes them, so this resource never makes
or removes a profile: create takes the existing profile's overrides over (exactly what is written,
everything unwritten unset), update changes them, destroy puts back the overrides the profile had
when Terraform took it over (none, usually; on Harvester the lvm and longhorn-v2 classes come with
overrides its StorageClass mutator wrote, which Harrow adopts) and leaves the profile. What the
cluster makes of the overrides (the claim property sets CDI uses, the clone strategy, the filesystem
overhead in force) is in the `effective_*` attributes, never written back into the user's.
"""

from __future__ import annotations

import json
from typing import Any, ClassVar

from tf.iface import CreateContext, State
from tf.schema import Attribute, Block, Schema
from tf.types import Bool, List, Map, String
from tf.utils import Diagnostics

from terraform_provider_harrow.api import ApiError, new_request_id
from terraform_provider_harrow.resource import WAIT_FOR_CLUSTER, HarrowResource
from terraform_provider_harrow.schema import ListBlock, Object, computed, optional
from terraform_provider_harrow.values import enum_problems

ACCESS_MODES = ("READ_WRITE_ONCE", "READ_ONLY_MANY", "READ_WRITE_MANY", "READ_WRITE_ONCE_POD")
VOLUME_MODES = ("FILESYSTEM", "BLOCK")
CLONE_STRATEGIES = ("COPY", "SNAPSHOT", "CSI_CLONE")
SOURCE_FORMATS = ("PVC", "VOLUME_SNAPSHOT")
# The capability table's actions (StorageCapability), each a bool in `capabilities`.
ACTIONS = (
    "vm_image",
    "root_disk",
    "data_disk",
    "export_to_image",
    "template",
    "live_migration",
    "snapshot",
    "backup",
)

CLAIM_SET = Object(access_modes=List(String()), volume_mode=String())
CAPABILITIES = Object(
    driver=String(),
    display_name=String(),
    **{action: Bool() for action in ACTIONS},
    notes=Map(String()),
)

SPEC = Block(
    attributes=[
        optional("clone_strategy", String(), f"One of {', '.join(CLONE_STRATEGIES)}; CDI's choice when unset."),
        optional(
            "data_import_cron_source_format",
            String(),
            f"What golden images are kept as: {' or '.join(SOURCE_FORMATS)}; CDI's choice when unset.",
        ),
        optional("snapshot_class", String(), "The VolumeSnapshotClass CDI uses for this class."),
        optional(
            "filesystem_overhead",
            String(),
            'Fraction of a Filesystem-mode volume kept free, "0" to "1" with at most three decimals ("0.2"); '
            "the cluster's global value when unset.",
        ),
    ],
    block_types=[
        ListBlock(
            "claim_property_set",
            Block(
                attributes=[
                    optional("access_modes", List(String()), f"1 to 4 of {', '.join(ACCESS_MODES)}."),
                    optional("volume_mode", String(), f"{' or '.join(VOLUME_MODES)}."),
                ]
            ),
        )
    ],
)


class StorageProfile(HarrowResource):
    spec = SPEC
    volatile = (
        "etag",
        "state",
        "effective_claim_property_sets",
        "claim_property_sets_source",
        "effective_clone_strategy",
        "effective_data_import_cron_source_format",
        "effective_snapshot_class",
        "effective_filesystem_overhead",
        "filesystem_overhead_source",
        "read_write_many",
    )
    _schema: ClassVar[Schema] = Schema(
        version=1,
        attributes=[
            computed("id", String(), "The Harrow resource name, clusters/{c}/storageProfiles/{storage class}."),
            Attribute(
                "cluster",
                String(),
                description='The Harrow cluster ID (default "local").',
                optional=True,
                computed=True,
                default="local",
                requires_replace=True,
            ),
            Attribute(
                "storage_class",
                String(),
                description="The StorageClass whose profile this is; it must exist on the cluster.",
                required=True,
                requires_replace=True,
            ),
            optional("labels", Map(String()), "Labels of the profile (in Harrow)."),
            optional("annotations", Map(String()), "Annotations of the profile (in Harrow)."),
            *SPEC.attributes,
            WAIT_FOR_CLUSTER,
            computed("uid", String(), "Harrow's UID of the profile."),
            computed("etag", String(), "The etag Terraform sends back with every change."),
            computed("state", String(), "READY, UNRECOGNIZED (volumes must name access modes) or PENDING."),
            computed("provisioner", String(), "The StorageClass's provisioner."),
            computed("provisioner_key", String(), "CDI's key into its capability table."),
            computed(
                "effective_claim_property_sets",
                List(CLAIM_SET),
                "The claim property sets CDI uses, first one first.",
            ),
            computed("claim_property_sets_source", String(), "SPEC, CDI_DEFAULTS or NONE."),
            computed("effective_clone_strategy", String(), "The clone strategy in force."),
            computed("effective_data_import_cron_source_format", String(), "The source format in force."),
            computed("effective_snapshot_class", String(), "The VolumeSnapshotClass in force."),
            computed("effective_filesystem_overhead", String(), 'The filesystem overhead in force ("0.06").'),
            computed("filesystem_overhead_source", String(), '"spec", "storage class", "global" or "cdi default".'),
            computed("read_write_many", Bool(), "Some set offers ReadWriteMany (KubeVirt live migration needs it)."),
            computed("capabilities", CAPABILITIES, "What the class's CSI driver can do (Harrow's capability table)."),
            computed(
                "prior_overrides",
                String(),
                "The overrides the profile had when Terraform took it over (JSON); destroy puts them back. "
                '"{}" after an import: destroy then clears the overrides.',
            ),
        ],
        block_types=[*SPEC.block_types, HarrowResource.timeouts.block()],
    )

    @classmethod
    def get_name(cls) -> str:
        return "storage_profile"

    @classmethod
    def get_schema(cls) -> Schema:
        return cls._schema

    def validate(self, diags: Diagnostics, type_name: str, config: dict[str, Any]) -> None:
        super().validate(diags, type_name, config)
        self.validate_timeouts(diags, config)
        checks: list[tuple[str, Any, tuple[str, ...]]] = [
            ("clone_strategy", config.get("clone_strategy"), CLONE_STRATEGIES),
            ("data_import_cron_source_format", config.get("data_import_cron_source_format"), SOURCE_FORMATS),
        ]
        sets = config.get("claim_property_set")
        for claim_set in sets if isinstance(sets, list) else []:
            if not isinstance(claim_set, dict):
                continue
            checks.append(("claim_property_set.volume_mode", claim_set.get("volume_mode"), VOLUME_MODES))
            modes = claim_set.get("access_modes")
            for mode in modes if isinstance(modes, list) else []:
                checks.append(("claim_property_set.access_modes", mode, ACCESS_MODES))
        for path, value, allowed in checks:
            problem = enum_problems(value, allowed)
            if problem:
                diags.add_error(f"Invalid {path}", problem, path=[path.split(".")[0]])

    def name_of(self, state: State) -> str:
        return f"clusters/{state['cluster']}/storageProfiles/{state['storage_class']}"

    def parse_name(self, name: str) -> None:
        parts = name.split("/")
        if len(parts) != 4 or parts[0] != "clusters" or parts[2] != "storageProfiles":
            raise ValueError(f"{name!r} is not clusters/{{cluster}}/storageProfiles/{{storage class}}")

    def create(self, ctx: CreateContext, planned: State) -> State | None:
        """Takes the existing profile over: its overrides become exactly the configuration's."""
        name = self.name_of(planned)
        try:
            current = self.api.get(name)
        except ApiError as error:
            detail = error.describe()
            if error.status == "NOT_FOUND":
                detail = self._missing_class(planned)
            ctx.diagnostics.add_error(f"Cannot take over {name}", detail)
            return None
        planned = {**planned, "prior_overrides": json.dumps(current.get("spec") or {}, sort_keys=True)}
        body = {**self.body_of(planned), "etag": current.get("etag", "")}
        try:
            operation = self.api.patch(name, body, updateMask="*", requestId=new_request_id())
        except ApiError as error:
            ctx.diagnostics.add_error(f"Harrow refused the overrides of {name}", error.describe())
            return None
        return self._settle(ctx.diagnostics, operation, planned, "create")

    def _missing_class(self, planned: State) -> str:
        cluster = planned["cluster"]
        try:
            listing = self.api.get(f"clusters/{cluster}/storageClasses")
            known = ", ".join(sc["name"].rsplit("/", 1)[-1] for sc in listing.get("storageClasses", []))
        except ApiError as error:
            known = f"(cannot list them: {error.message})"
        return (
            f'The StorageClass "{planned["storage_class"]}" does not exist on cluster "{cluster}" (or Harrow has '
            "not observed it yet). A storage profile belongs to its StorageClass: Terraform sets its overrides "
            f"but cannot create it. StorageClasses of the cluster: {known or 'none'}."
        )

    def send_delete(self, state: State, request_id: str) -> dict[str, Any]:
        body = {"etag": state["etag"] or "", "spec": json.loads(state.get("prior_overrides") or "{}")}
        return self.api.patch(self.name_of(state), body, updateMask="*", requestId=request_id)

    def state_of(self, resource: dict[str, Any], prior: State | None) -> State:
        _, cluster, _, storage_class = resource["name"].split("/")
        status = resource.get("status", {})
        overhead = status.get("filesystemOverhead", {})
        return {
            "cluster": cluster,
            "storage_class": storage_class,
            **self.common_state(resource, prior),
            "provisioner": status.get("provisioner", ""),
            "provisioner_key": status.get("provisionerKey", ""),
            "effective_claim_property_sets": claim_sets(status.get("claimPropertySets")),
            "claim_property_sets_source": status.get(
                "claimPropertySetsSource", "CLAIM_PROPERTY_SETS_SOURCE_UNSPECIFIED"
            ),
            "effective_clone_strategy": status.get("cloneStrategy", "CLONE_STRATEGY_UNSPECIFIED"),
            "effective_data_import_cron_source_format": status.get(
                "dataImportCronSourceFormat", "DATA_IMPORT_CRON_SOURCE_FORMAT_UNSPECIFIED"
            ),
            "effective_snapshot_class": status.get("snapshotClass", ""),
            "effective_filesystem_overhead": overhead.get("effective", ""),
            "filesystem_overhead_source": overhead.get("source", ""),
            "read_write_many": bool(status.get("readWriteMany", False)),
            "capabilities": capabilities(status.get("capabilities")),
            "prior_overrides": (prior or {}).get("prior_overrides") or "{}",
        }


def claim_sets(sets: list[dict[str, Any]] | None) -> list[dict[str, Any]]:
    """Effective claim property sets as CLAIM_SET objects."""
    return [
        {"access_modes": list(s.get("accessModes", [])), "volume_mode": s.get("volumeMode", "VOLUME_MODE_UNSPECIFIED")}
        for s in sets or []
    ]


def capabilities(row: dict[str, Any] | None) -> dict[str, Any]:
    """A capability-table row as a CAPABILITIES object: one bool per action, and the notes that qualify them."""
    row = row or {}
    cells = {action: row.get(_camel(action)) or {} for action in ACTIONS}
    return {
        "driver": row.get("driver", ""),
        "display_name": row.get("displayName", ""),
        **{action: bool(cell.get("supported", False)) for action, cell in cells.items()},
        "notes": {action: cell["note"] for action, cell in cells.items() if cell.get("note")},
    }


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)
