"""Data sources: read-only views for wiring configurations together (a cluster's versions, a pool's usage,
a StorageClass's capabilities)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tf.iface import Config, DataSource, ReadDataContext, State
from tf.schema import Attribute, Schema
from tf.types import Bool, List, Map, Number, String

from terraform_provider_harrow.api import ApiError
from terraform_provider_harrow.mapping import from_json
from terraform_provider_harrow.resources.ip_pool import RANGE, SELECTOR
from terraform_provider_harrow.resources.storage_profile import CAPABILITIES, CLAIM_SET, capabilities, claim_sets
from terraform_provider_harrow.schema import Object, computed, required

if TYPE_CHECKING:
    from terraform_provider_harrow.provider import HarrowProvider

_CLUSTER = Attribute(
    "cluster", String(), description='The Harrow cluster ID (default "local").', optional=True, computed=True
)


class _HarrowDataSource(DataSource):
    def __init__(self, provider: HarrowProvider) -> None:
        self._provider = provider

    def _get(self, ctx: ReadDataContext, name: str) -> dict[str, Any] | None:
        try:
            return self._provider.api().get(name)
        except ApiError as error:
            ctx.diagnostics.add_error(f"Cannot read {name}", error.describe())
            return None


class Cluster(_HarrowDataSource):
    """harrow_cluster: what Harrow knows of a cluster: its flavour, the versions it reports, whether it is reachable."""

    @classmethod
    def get_name(cls) -> str:
        return "cluster"

    @classmethod
    def get_schema(cls) -> Schema:
        return Schema(
            attributes=[
                required("name", String(), 'The cluster ID ("local").'),
                computed("id", String(), "The Harrow resource name, clusters/{cluster}."),
                computed("display_name", String(), "Display name."),
                computed("flavor", String(), "HARVESTER or KUBEVIRT."),
                computed("state", String(), "READY or UNREACHABLE."),
                computed("versions", Map(String()), "Versions the cluster reports (kubernetes, kubevirt, cdi, …)."),
                computed("labels", Map(String()), "Labels."),
            ]
        )

    def read(self, ctx: ReadDataContext, config: Config) -> State | None:
        cluster = self._get(ctx, f"clusters/{config['name']}")
        if cluster is None:
            return None
        return {
            "name": config["name"],
            "id": cluster["name"],
            "display_name": cluster.get("displayName", ""),
            "flavor": cluster.get("flavor", "FLAVOR_UNSPECIFIED"),
            "state": cluster.get("state", "STATE_UNSPECIFIED"),
            "versions": cluster.get("versions", {}),
            "labels": cluster.get("labels", {}),
        }


def _object_of(block: Any) -> Object:
    fields = {attribute.name: attribute.type for attribute in block.attributes}
    for nested in block.block_types:
        fields[nested.type_name] = List(_object_of(nested.block))
    return Object(**fields)


class IpPool(_HarrowDataSource):
    """harrow_ip_pool: a pool's ranges, selector and live usage, e.g. to size allocations or find a gateway."""

    @classmethod
    def get_name(cls) -> str:
        return "ip_pool"

    @classmethod
    def get_schema(cls) -> Schema:
        return Schema(
            attributes=[
                _CLUSTER,
                required("name", String(), "The pool ID."),
                computed("id", String(), "The Harrow resource name, clusters/{c}/ipPools/{pool}."),
                computed("description", String(), "Free text."),
                computed("labels", Map(String()), "Labels."),
                computed("ranges", List(_object_of(RANGE)), "The ranges, as written."),
                computed("selector", _object_of(SELECTOR), "The selector, as written (null when none)."),
                computed("total", String(), "Addresses the ranges can hand out (a decimal string: IPv6 is large)."),
                computed("available", String(), "total - used."),
                computed("used", Number(), "Live allocations."),
                computed("last_allocated", String(), "The most recently allocated address."),
            ]
        )

    def read(self, ctx: ReadDataContext, config: Config) -> State | None:
        cluster = config.get("cluster") or "local"
        pool = self._get(ctx, f"clusters/{cluster}/ipPools/{config['name']}")
        if pool is None:
            return None
        spec, status = pool.get("spec", {}), pool.get("status", {})
        selector = spec.get("selector")
        return {
            "cluster": cluster,
            "name": config["name"],
            "id": pool["name"],
            "description": spec.get("description", ""),
            "labels": pool.get("labels", {}),
            "ranges": [from_json(RANGE, item, None) for item in spec.get("ranges", [])],
            "selector": None if selector is None else from_json(SELECTOR, selector, None),
            "total": status.get("total", "0"),
            "available": status.get("available", "0"),
            "used": int(status.get("used", 0)),
            "last_allocated": status.get("lastAllocated", ""),
        }


class StorageClass(_HarrowDataSource):
    """harrow_storage_class: a StorageClass as Harrow observes it, with what its volumes can do, e.g. to pick a
    class whose disks can live-migrate before writing a VM."""

    @classmethod
    def get_name(cls) -> str:
        return "storage_class"

    @classmethod
    def get_schema(cls) -> Schema:
        return Schema(
            attributes=[
                _CLUSTER,
                required("name", String(), 'The StorageClass\'s name ("harvester-longhorn").'),
                computed("id", String(), "The Harrow resource name, clusters/{c}/storageClasses/{class}."),
                computed("provisioner", String(), "The CSI driver that provisions its volumes."),
                computed("parameters", Map(String()), "The StorageClass parameters."),
                computed("default_class", Bool(), "It is the cluster's default StorageClass."),
                computed("reclaim_policy", String(), "Delete or Retain."),
                computed("volume_binding_mode", String(), "Immediate or WaitForFirstConsumer."),
                computed("allow_volume_expansion", Bool(), "Its volumes can grow."),
                computed("profile", String(), "Its storage profile's name, clusters/{c}/storageProfiles/{class}."),
                computed("profile_state", String(), "READY, UNRECOGNIZED (volumes must name access modes) or PENDING."),
                computed("claim_property_sets", List(CLAIM_SET), "The access and volume modes CDI uses, first first."),
                computed("claim_property_sets_source", String(), "SPEC (overrides), CDI_DEFAULTS or NONE."),
                computed(
                    "read_write_many", Bool(), "Some set offers ReadWriteMany (KubeVirt live migration needs it)."
                ),
                computed("clone_strategy", String(), "How CDI clones its volumes."),
                computed("filesystem_overhead", String(), 'Fraction of Filesystem-mode volumes kept free ("0.06").'),
                computed("capabilities", CAPABILITIES, "What its CSI driver can do (Harrow's capability table)."),
            ]
        )

    def read(self, ctx: ReadDataContext, config: Config) -> State | None:
        cluster = config.get("cluster") or "local"
        found = self._get(ctx, f"clusters/{cluster}/storageClasses/{config['name']}")
        if found is None:
            return None
        profile = found.get("profile", {})
        status = profile.get("status", {})
        return {
            "cluster": cluster,
            "name": config["name"],
            "id": found["name"],
            "provisioner": found.get("provisioner", ""),
            "parameters": found.get("parameters", {}),
            "default_class": bool(found.get("defaultClass", False)),
            "reclaim_policy": found.get("reclaimPolicy", ""),
            "volume_binding_mode": found.get("volumeBindingMode", ""),
            "allow_volume_expansion": bool(found.get("allowVolumeExpansion", False)),
            "profile": profile.get("name", ""),
            "profile_state": profile.get("state", "STATE_UNSPECIFIED"),
            "claim_property_sets": claim_sets(status.get("claimPropertySets")),
            "claim_property_sets_source": status.get(
                "claimPropertySetsSource", "CLAIM_PROPERTY_SETS_SOURCE_UNSPECIFIED"
            ),
            "read_write_many": bool(status.get("readWriteMany", False)),
            "clone_strategy": status.get("cloneStrategy", "CLONE_STRATEGY_UNSPECIFIED"),
            "filesystem_overhead": status.get("filesystemOverhead", {}).get("effective", ""),
            "capabilities": capabilities(found.get("capabilities")),
        }


DATA_SOURCES = [Cluster, IpPool, StorageClass]
