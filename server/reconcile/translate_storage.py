"""A storage profile row ↔ the cluster objects that carry it: pure functions, no I/O.

Where an override lives (storage_profiles.py): on a Harvester class, the
`cdi.harvesterhci.io/*` StorageClass annotations for clone strategy, snapshot
class, claim property sets and filesystem overhead, and the StorageProfile
spec for the one field Harvester leaves alone (dataImportCronSourceFormat);
elsewhere the StorageProfile spec, and CDI.spec.config.filesystemOverhead
for the per-class overhead. Harrow owns those places for the classes it has
rows for: a row starts from what the cluster already has (`adopt`), so
taking over a cluster never wipes an administrator's overrides, and from
then on a difference is drift, put back by the worker.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from server.domain import storage_profiles, storage_sizing
from server.services.storage_profiles import (
    CLONE_NAMES,
    FORMAT_NAMES,
    sets_from_cdi,
    spec_to_cdi,
)

Obj = dict[str, Any]
SC = ("storage.k8s.io", "v1", "storageclasses")
SP = ("cdi.kubevirt.io", "v1beta1", "storageprofiles")
CDI = ("cdi.kubevirt.io", "v1beta1", "cdis")
DEFAULT_CLASS_ANNOTATION = "storageclass.kubernetes.io/is-default-class"
SP_FIELDS = ("claimPropertySets", "cloneStrategy", "dataImportCronSourceFormat", "snapshotClass")


@dataclass(frozen=True)
class ClusterView:
    """What the worker read from one cluster's caches for one class."""

    harvester: bool
    cdi_version: str
    storage_class: Obj
    profile: Obj | None
    cdi: Obj | None
    # Names of every StorageClass on the cluster, and the default one ("" if none).
    classes: tuple[str, ...] = ()
    default_class: str = ""

    @property
    def name(self) -> str:
        return str(self.storage_class["metadata"]["name"])

    @property
    def provisioner(self) -> str:
        return str(self.storage_class.get("provisioner", ""))

    @property
    def parameters(self) -> dict[str, str]:
        return dict(self.storage_class.get("parameters") or {})

    @property
    def annotations(self) -> dict[str, str]:
        return dict(self.storage_class["metadata"].get("annotations") or {})

    @property
    def harvester_owned(self) -> bool:
        return self.harvester and storage_profiles.harvester_owns(self.provisioner, self.parameters)

    @property
    def overhead_config(self) -> Obj:
        found: Obj = (((self.cdi or {}).get("spec") or {}).get("config") or {}).get("filesystemOverhead") or {}
        return found


def _spec_of_profile(profile: Obj | None) -> Obj:
    spec = (profile or {}).get("spec") or {}
    return {key: spec[key] for key in SP_FIELDS if spec.get(key)}


def cluster_overrides(view: ClusterView) -> Obj:
    """The overrides the cluster carries now, in CDI's words (plus `filesystemOverhead`)."""
    if view.harvester_owned:
        found = storage_profiles.spec_from_annotations(view.annotations)
        source_format = _spec_of_profile(view.profile).get("dataImportCronSourceFormat")
        if source_format:
            found["dataImportCronSourceFormat"] = source_format
        overhead = view.annotations.get(storage_profiles.ANN_OVERHEAD)
    else:
        found = _spec_of_profile(view.profile)
        overhead = (view.overhead_config.get("storageClass") or {}).get(view.name)
    if overhead:
        found["filesystemOverhead"] = str(overhead)
    return found


def adopt(view: ClusterView) -> Obj:
    """A new row's spec (proto JSON, original names): the overrides the cluster already has."""
    cdi = cluster_overrides(view)
    spec: Obj = {}
    if cdi.get("claimPropertySets"):
        spec["claim_property_sets"] = sets_from_cdi(cdi["claimPropertySets"])
    if cdi.get("cloneStrategy") in CLONE_NAMES:
        spec["clone_strategy"] = CLONE_NAMES[cdi["cloneStrategy"]]
    if cdi.get("dataImportCronSourceFormat") in FORMAT_NAMES:
        spec["data_import_cron_source_format"] = FORMAT_NAMES[cdi["dataImportCronSourceFormat"]]
    if cdi.get("snapshotClass"):
        spec["snapshot_class"] = cdi["snapshotClass"]
    if cdi.get("filesystemOverhead"):
        spec["filesystem_overhead"] = cdi["filesystemOverhead"]
    return spec


def differences(row_spec: Obj, view: ClusterView) -> list[str]:
    """Which overrides the cluster does not carry as the row says (empty: it shows the row's spec)."""
    wanted, actual = spec_to_cdi(row_spec), cluster_overrides(view)
    return [key for key in (*SP_FIELDS, "filesystemOverhead") if wanted.get(key) != actual.get(key)]


def profile_applied(row_spec: Obj, view: ClusterView) -> bool:
    """Whether CDI's StorageProfile itself shows the spec (on Harvester: after Harvester synced the annotations)."""
    if view.profile is None:
        return False
    wanted = {k: v for k, v in spec_to_cdi(row_spec).items() if k in SP_FIELDS}
    return _spec_of_profile(view.profile) == wanted


# --- what to write ------------------------------------------------------------------------------


def storage_class_annotations(row_spec: Obj, current: dict[str, str]) -> dict[str, str]:
    """The class's annotations with Harrow's managed ones set from the spec and the others kept."""
    kept = {k: v for k, v in current.items() if k not in storage_profiles.MANAGED_ANNOTATIONS}
    return {**kept, **storage_profiles.annotations_for(spec_to_cdi(row_spec))}


def profile_spec(row_spec: Obj, view: ClusterView, current: Obj) -> Obj:
    """StorageProfile.spec to write: every field on plain CDI; only dataImportCronSourceFormat on Harvester."""
    wanted = spec_to_cdi(row_spec)
    owned = ("dataImportCronSourceFormat",) if view.harvester_owned else SP_FIELDS
    out = {k: v for k, v in (current or {}).items() if k not in owned}
    out.update({k: wanted[k] for k in owned if wanted.get(k)})
    return out


def cdi_overhead_config(row_spec: Obj, view: ClusterView, current: Obj) -> Obj:
    """CDI.spec.config.filesystemOverhead with this class's entry set from the spec (or removed)."""
    config: Obj = json.loads(json.dumps(current or {}))
    per_class = dict(config.get("storageClass") or {})
    wanted = spec_to_cdi(row_spec).get("filesystemOverhead")
    if wanted:
        per_class[view.name] = wanted
    else:
        per_class.pop(view.name, None)
    if per_class:
        config["storageClass"] = per_class
    else:
        config.pop("storageClass", None)
    return config


# --- status -------------------------------------------------------------------------------------


def trimmed_class(sc: Obj) -> Obj:
    metadata = sc.get("metadata") or {}
    annotations = dict(metadata.get("annotations") or {})
    return {
        "provisioner": sc.get("provisioner", ""),
        "parameters": dict(sc.get("parameters") or {}),
        "annotations": annotations,
        "default": annotations.get(DEFAULT_CLASS_ANNOTATION) == "true",
        "reclaimPolicy": sc.get("reclaimPolicy", ""),
        "volumeBindingMode": sc.get("volumeBindingMode", ""),
        "allowVolumeExpansion": bool(sc.get("allowVolumeExpansion")),
        "creationTimestamp": metadata.get("creationTimestamp", ""),
    }


@dataclass(frozen=True)
class Observation:
    state: str
    status: Obj
    observed: Obj
    recognized: Obj | None


def observe(row_spec: Obj, view: ClusterView) -> Observation:
    """The row's state, status (proto JSON, original names) and observed objects, from the cluster view."""
    profile_status = (view.profile or {}).get("status") or {}
    cluster_spec = _spec_of_profile(view.profile) if view.profile is not None else spec_to_cdi(row_spec)
    chosen = storage_profiles.effective(
        cluster_spec, view.provisioner, view.parameters, view.annotations, profile_status
    )
    key = storage_profiles.provisioner_key(view.provisioner, view.parameters)
    overrides = cluster_overrides(view)
    overhead = storage_sizing.resolve_overhead(
        view.name,
        view.cdi_version,
        view.overhead_config,
        harvester_annotation=view.annotations.get(storage_profiles.ANN_OVERHEAD, "") if view.harvester_owned else "",
    )
    configured_scratch = str(((view.cdi or {}).get("spec") or {}).get("config", {}).get("scratchSpaceStorageClass", ""))
    status: Obj = {
        "storage_class": view.name,
        "provisioner": view.provisioner,
        "provisioner_key": key,
        "claim_property_sets": sets_from_cdi(chosen.claim_property_sets),
        "claim_property_sets_source": chosen.source,
        "clone_strategy": CLONE_NAMES.get(chosen.clone_strategy, "CLONE_STRATEGY_UNSPECIFIED"),
        "data_import_cron_source_format": FORMAT_NAMES.get(
            chosen.source_format, "DATA_IMPORT_CRON_SOURCE_FORMAT_UNSPECIFIED"
        ),
        "snapshot_class": chosen.snapshot_class,
        "filesystem_overhead": {
            "effective": overhead.effective,
            "global": overhead.global_value,
            "cdi_default": overhead.cdi_default,
            "cdi_version": overhead.cdi_version,
            "source": overhead.source,
        },
        "read_write_many": storage_profiles.offers_rwx(chosen.claim_property_sets),
        "scratch_space_storage_class": storage_sizing.scratch_space_class(
            configured_scratch, view.classes, view.default_class, view.name
        ),
    }
    if view.harvester_owned:
        status["storage_class_annotations"] = {
            k: v for k, v in view.annotations.items() if k in storage_profiles.MANAGED_ANNOTATIONS
        }
    if view.profile is None:
        state = "PENDING"
    elif not chosen.claim_property_sets:
        state = "UNRECOGNIZED"
    else:
        state = "READY"
    recognized = next(
        (c for c in profile_status.get("conditions") or [] if c.get("type") == "Recognized"),
        None,
    )
    observed = {
        "storageClass": trimmed_class(view.storage_class),
        "overrides": overrides,
        "harvesterOwned": view.harvester_owned,
        "cdiVersion": view.cdi_version,
    }
    return Observation(state, status, observed, recognized)
