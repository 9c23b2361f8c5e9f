"""Read from a cluster what translate() depends on: its flavour, versions and overcommit settings.

Defaults differ between versions (DESIGN §6), so they are read from the
cluster itself, falling back to a table keyed by the version it reports.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from kubernetes_asyncio import client
from kubernetes_asyncio.client.exceptions import ApiException

from server.reconcile import translate_resources
from server.reconcile.kube import LimitedApiClient
from server.reconcile.translate import ClusterFacts

Obj = dict[str, Any]
HARVESTER = ("harvesterhci.io", "v1beta1", "settings")


@dataclass(frozen=True)
class Probe:
    facts: ClusterFacts
    flavor: str
    versions: dict[str, str]


async def probe(api: LimitedApiClient, configured_flavor: str) -> Probe:
    custom = client.CustomObjectsApi(api)
    version = await client.VersionApi(api).get_code()
    versions = {"kubernetes": str(version.git_version)}
    kubevirt = await _first(custom, "kubevirt.io", "v1", "kubevirts")
    if kubevirt is not None and (kubevirt.get("status") or {}).get("observedKubeVirtVersion"):
        versions["kubevirt"] = str(kubevirt["status"]["observedKubeVirtVersion"])
    cdi = await _first(custom, "cdi.kubevirt.io", "v1beta1", "cdis")
    if cdi is not None and (cdi.get("status") or {}).get("observedVersion"):
        versions["cdi"] = str(cdi["status"]["observedVersion"])
    overcommit_setting = await _setting(custom, "overcommit-config")
    harvester = configured_flavor == "HARVESTER" or (
        configured_flavor == "FLAVOR_UNSPECIFIED" and overcommit_setting is not None
    )
    if harvester:
        server_version = await _setting(custom, "server-version")
        if server_version:
            versions["harvester"] = server_version
        overcommit = _harvester_overcommit(overcommit_setting, versions.get("harvester", ""))
        ratio = await _setting(custom, "additional-guest-memory-overhead-ratio")
        facts = ClusterFacts(harvester=True, overcommit=overcommit, overhead_ratio=ratio or "", versions=versions)
    else:
        developer = (((kubevirt or {}).get("spec") or {}).get("configuration") or {}).get(
            "developerConfiguration"
        ) or {}
        overcommit = translate_resources.kubevirt_overcommit(
            developer.get("cpuAllocationRatio"), developer.get("memoryOvercommit")
        )
        facts = ClusterFacts(harvester=False, overcommit=overcommit, versions=versions)
    return Probe(facts=facts, flavor="HARVESTER" if harvester else "KUBEVIRT", versions=versions)


def _harvester_overcommit(raw: str | None, harvester_version: str) -> translate_resources.Overcommit:
    default = translate_resources.harvester_default(harvester_version)
    try:
        values = json.loads(raw) if raw else {}
    except json.JSONDecodeError:
        values = {}
    return translate_resources.Overcommit(
        cpu=int(values.get("cpu") or default.cpu), memory=int(values.get("memory") or default.memory)
    )


async def _first(custom: client.CustomObjectsApi, group: str, version: str, plural: str) -> Obj | None:
    try:
        listing = await custom.list_cluster_custom_object(group, version, plural)
    except ApiException as error:
        if error.status == 404:
            return None
        raise
    items: list[Obj] = listing.get("items") or []
    return items[0] if items else None


async def _setting(custom: client.CustomObjectsApi, name: str) -> str | None:
    """A Harvester setting's value (or its default); None when the cluster has no such setting."""
    try:
        setting: Obj = await custom.get_cluster_custom_object(*HARVESTER, name)
    except ApiException as error:
        if error.status == 404:
            return None
        raise
    return str(setting.get("value") or setting.get("default") or "")
