"""MigrationConfig: write a cluster's migration configuration where that cluster reads it, as a KindWorker.

Three owners exist (semantics.md §2.3, DESIGN §3), tried in this order:

- Harvester ≥ 1.7: the `kubevirt-migration` setting; Harvester's controller
  replaces the KubeVirt CR's whole `migrations` block with its value, so a
  direct edit there would be reverted. The value is complete (the version's
  defaults filled in, translate_migration.py); keys Harrow does not model
  (`disableTLS`, …) keep what the setting had.
- An HCO-managed cluster: HyperConverged `spec.liveMigrationConfig`, since
  HCO reverts direct KubeVirt edits. Written complete as well (HCO's CRD
  defaults the fields, so a removed one would come back). HCO releases
  (through v1.18) have no allowWorkloadDisruption (its main branch adds it,
  commit 50e000343): KubeVirt then derives it from allowPostCopy, and the
  condition says so when it was set. HCO is recognised by discovery (the
  cluster serves hco.kubevirt.io), not by listing HyperConvergeds: a list
  refused for lack of RBAC must not read as "no HCO", or Harrow would write
  the KubeVirt CR and HCO would put it back forever. A refused list is
  Waiting, with the permission to grant.
- Otherwise the KubeVirt CR's `spec.configuration.migrations`: Harrow owns the
  nine keys it models (a key the user did not set is removed, so KubeVirt's
  version default applies) and leaves every other key alone.

None of these objects is Harrow's, so none is labelled or watched: each pass
reads the owner, writes what differs, and looks again every CHECK_SECONDS to
put back an out-of-band change (counted as drift). An Operation finishes in
the pass that wrote or found the configuration in place.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, cast

from google.protobuf.message import Message
from kubernetes_asyncio import client
from kubernetes_asyncio.client.exceptions import ApiException
from sqlalchemy.ext.asyncio import AsyncSession

from server.config import ReconcileConfig
from server.reconcile.connection import ClusterConnection
from server.reconcile.metrics import Metrics
from server.reconcile.observe import set_condition
from server.reconcile.translate_migration import (
    HARVESTER_MIGRATION_SETTING,
    MODELED_KEYS,
    translate_harvester_migration_setting,
    translate_kubevirt_migrations,
)
from server.reconcile.worker import CONFLICT_RETRIES, KindWorker, Outcome, Waiting
from server.services.migrations import CONFIG_KIND, config_to_proto
from storage.db import Database
from storage.models import MigrationConfigRow, OperationRow

Obj = dict[str, Any]
CHECK_SECONDS = 15.0
SETTINGS = ("harvesterhci.io", "v1beta1", "settings")
HCO = ("hco.kubevirt.io", "v1beta1", "hyperconvergeds")
KUBEVIRT = ("kubevirt.io", "v1", "kubevirts")
MODELED = MODELED_KEYS
HCO_UNSUPPORTED = ("allowWorkloadDisruption",)


@dataclass
class ConfigOutcome(Outcome):
    # Where the configuration lives on this cluster, in words, and what could not be written there.
    target: str = ""
    notes: list[str] = field(default_factory=list)


def merged_block(current: Obj, wanted: Obj) -> Obj:
    """`current` with Harrow's keys replaced by `wanted` (a modeled key absent from `wanted` is dropped)."""
    return {**{key: value for key, value in current.items() if key not in MODELED}, **wanted}


class MigrationConfigWorker(KindWorker[MigrationConfigRow]):
    kind = CONFIG_KIND.name
    watched = ()

    def __init__(self, db: Database, settings: ReconcileConfig, owner: str, metrics: Metrics):
        super().__init__(db, settings, owner, metrics, MigrationConfigRow)

    def to_proto(self, row: MigrationConfigRow) -> Message:
        message: Message = config_to_proto(row)
        return message

    def parent_of(self, row: MigrationConfigRow) -> str:
        return f"clusters/{row.cluster}"

    def next_look(self, row: MigrationConfigRow, outcome: Outcome) -> float:
        return min(CHECK_SECONDS, self._settings.resync_seconds)

    # --- the claimed path -----------------------------------------------------------------------

    async def apply(
        self, connection: ClusterConnection, row: MigrationConfigRow, operations: list[OperationRow]
    ) -> Outcome:
        custom = client.CustomObjectsApi(connection.api)
        settled = row.applied_generation >= row.generation
        if connection.probe.flavor == "HARVESTER":
            setting = await _get(custom, SETTINGS, HARVESTER_MIGRATION_SETTING)
            if setting is not None:
                return await self._setting(custom, connection, row, setting, settled)
        if await _served(custom, HCO):
            hco = await _first(custom, HCO)
            if hco is not None:
                return await self._hco(custom, row, hco, settled, connection.probe.versions.get("kubevirt", ""))
        kubevirt = await _first(custom, KUBEVIRT)
        if kubevirt is None:
            raise Waiting(f"cluster {row.cluster} has no KubeVirt CR to configure")
        return await self._kubevirt(custom, row, kubevirt, settled)

    async def _setting(
        self,
        custom: client.CustomObjectsApi,
        connection: ClusterConnection,
        row: MigrationConfigRow,
        setting: Obj,
        settled: bool,
    ) -> ConfigOutcome:
        version = connection.probe.versions.get("kubevirt", "")
        outcome = ConfigOutcome(target=f"Harvester setting {HARVESTER_MIGRATION_SETTING}")
        if row.spec.get("network"):
            outcome.notes.append("network is owned by Harvester's vm-migration-network setting and was not written")
        for _ in range(CONFLICT_RETRIES):
            current = _json(setting.get("value") or setting.get("default"))
            wanted = merged_block(current, json.loads(translate_harvester_migration_setting(row.spec, version)))
            if _json(setting.get("value")) == wanted:
                return outcome
            if settled and setting.get("value"):
                outcome.drift = [f"setting {HARVESTER_MIGRATION_SETTING}.value"]
            body = {**setting, "value": json.dumps(wanted, sort_keys=True)}
            try:
                await custom.replace_cluster_custom_object(*SETTINGS, HARVESTER_MIGRATION_SETTING, body)
                return outcome
            except ApiException as error:
                if error.status != 409:
                    raise
                setting = await custom.get_cluster_custom_object(*SETTINGS, HARVESTER_MIGRATION_SETTING)
        raise Waiting(f"the {HARVESTER_MIGRATION_SETTING} setting kept changing during {CONFLICT_RETRIES} updates")

    async def _hco(
        self, custom: client.CustomObjectsApi, row: MigrationConfigRow, hco: Obj, settled: bool, version: str
    ) -> ConfigOutcome:
        metadata = hco["metadata"]
        outcome = ConfigOutcome(target=f"HyperConverged {metadata.get('namespace', '')}/{metadata['name']}")
        # HCO's CRD defaults these fields, so a removed one would come back: write them all, defaults filled in.
        wanted = json.loads(translate_harvester_migration_setting(row.spec, version))
        wanted.update(translate_kubevirt_migrations({"network": row.spec.get("network")}))
        for key in HCO_UNSUPPORTED:
            wanted.pop(key, None)
            if row.spec.get("allow_workload_disruption") is not None:
                outcome.notes.append(f"HCO has no {key}: KubeVirt derives it from allowPostCopy")
        current = (hco.get("spec") or {}).get("liveMigrationConfig") or {}
        await self._patch(custom, HCO, hco, ("spec", "liveMigrationConfig"), current, wanted, settled, outcome)
        return outcome

    async def _kubevirt(
        self, custom: client.CustomObjectsApi, row: MigrationConfigRow, kubevirt: Obj, settled: bool
    ) -> ConfigOutcome:
        metadata = kubevirt["metadata"]
        outcome = ConfigOutcome(target=f"KubeVirt {metadata.get('namespace', '')}/{metadata['name']}")
        current = ((kubevirt.get("spec") or {}).get("configuration") or {}).get("migrations") or {}
        wanted = translate_kubevirt_migrations(row.spec)
        path = ("spec", "configuration", "migrations")
        await self._patch(custom, KUBEVIRT, kubevirt, path, current, wanted, settled, outcome)
        return outcome

    @staticmethod
    async def _patch(
        custom: client.CustomObjectsApi,
        what: tuple[str, str, str],
        obj: Obj,
        path: tuple[str, ...],
        current: Obj,
        wanted: Obj,
        settled: bool,
        outcome: ConfigOutcome,
    ) -> None:
        """A JSON merge patch of Harrow's keys: set what differs, null what Harrow owns but the user unset."""
        changes: Obj = {key: value for key, value in wanted.items() if current.get(key) != value}
        changes.update({key: None for key in current if key in MODELED and key not in wanted})
        if not changes:
            return
        if settled:
            outcome.drift = [f"{'.'.join(path)}.{key}" for key in sorted(changes)]
        body: Obj = changes
        for part in reversed(path):
            body = {part: body}
        metadata = obj["metadata"]
        api: Any = cast(Any, custom).api_client  # the connection's rate-limited client
        try:
            await api.call_api(
                _path(what, metadata.get("namespace", ""), metadata["name"]),
                "PATCH",
                body=body,
                header_params={"Content-Type": "application/merge-patch+json"},
                response_types_map={},
                auth_settings=["BearerToken"],
            )
        except ApiException as error:
            if error.status != 403:
                raise
            raise Waiting(_refused("patch", what)) from None

    async def delete(self, connection: ClusterConnection, row: MigrationConfigRow) -> Outcome:
        return Outcome(purge=True)

    async def applied(self, session: AsyncSession, row: MigrationConfigRow, outcome: Outcome, at: datetime) -> bool:
        if not isinstance(outcome, ConfigOutcome):
            return False
        before = (row.conditions, row.observed_generation)
        message = f"written to {outcome.target}" + "".join(f"; {note}" for note in outcome.notes)
        applied = {"type": "Applied", "status": "TRUE", "reason": "Written", "message": message}
        row.conditions = set_condition(row.conditions, applied, at)
        row.observed_generation = row.generation
        return before != (row.conditions, row.observed_generation)

    # --- the observing path ---------------------------------------------------------------------

    def observe_into(
        self,
        session: AsyncSession,
        row: MigrationConfigRow,
        operations: list[OperationRow],
        connection: ClusterConnection | None,
        at: datetime,
    ) -> bool:
        self.settle_operations(row, operations, at, "migration configuration")
        return False

    def needs_worker(self, row: MigrationConfigRow, connection: ClusterConnection) -> bool:
        return False


def _path(what: tuple[str, str, str], namespace: str, name: str) -> str:
    group, version, plural = what
    scope = f"namespaces/{namespace}/" if namespace else ""
    return f"/apis/{group}/{version}/{scope}{plural}/{name}"


def _json(raw: object) -> Obj:
    if isinstance(raw, dict):
        return raw
    try:
        value = json.loads(str(raw or "{}"))
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


async def _get(custom: client.CustomObjectsApi, what: tuple[str, str, str], name: str) -> Obj | None:
    try:
        found: Obj = await custom.get_cluster_custom_object(*what, name)
    except ApiException as error:
        if error.status == 404:
            return None
        raise
    return found


async def _served(custom: client.CustomObjectsApi, what: tuple[str, str, str]) -> bool:
    """Whether discovery lists the kind (404 when its group is not installed); discovery is open to every user."""
    group, version, plural = what
    try:
        resources = await custom.get_api_resources(group, version)
    except ApiException as error:
        if error.status == 404:
            return False
        raise
    return any(resource.name == plural for resource in resources.resources)


async def _first(custom: client.CustomObjectsApi, what: tuple[str, str, str]) -> Obj | None:
    """The first object of a kind, None when there is none; a refused list names the permission Harrow lacks."""
    try:
        listing = await custom.list_cluster_custom_object(*what)
    except ApiException as error:
        if error.status == 404:
            return None
        if error.status == 403:
            raise Waiting(_refused("list", what)) from None
        raise
    items: list[Obj] = listing.get("items") or []
    return items[0] if items else None


def _refused(verb: str, what: tuple[str, str, str]) -> str:
    """A refusal that says what to grant: the operator fixes RBAC, Harrow retries on its own."""
    group, _, plural = what
    return (
        f"Harrow may not {verb} {plural}.{group} (HTTP 403), where this cluster's migration configuration "
        f"lives: grant its ClusterRole list and patch on {plural} in API group {group} (deploy/k8s/rbac.yaml)"
    )
