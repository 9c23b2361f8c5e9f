"""StorageProfile: one row per StorageClass of each cluster, with overrides written where the cluster wants them.

Unlike the other kinds, these rows start on the cluster: the worker watches
every StorageClass, CDI StorageProfile and the CDI CR (not only Harrow's
labelled objects) and folds the whole cluster at once on any change there, so
a new class gets its row, a deleted one loses it (DELETED on Watch), and
every row's status follows CDI. There are a few classes per cluster, so one
pass over all of them costs less than keeping per-class bookkeeping.

A row's spec (the user's overrides) is applied on the claimed path like any
kind's intent (translate_storage.py says where it goes); the Update's
Operation finishes once CDI's StorageProfile shows it, which on Harvester
means after Harvester copied the StorageClass annotations into it. Someone
editing those places out of band is drift, put back and counted.
"""

from __future__ import annotations

import copy
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from google.protobuf.message import Message
from kubernetes_asyncio import client
from kubernetes_asyncio.client.exceptions import ApiException
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from server.config import ReconcileConfig
from server.reconcile import translate_storage as ts
from server.reconcile.connection import ClusterConnection, Watched
from server.reconcile.metrics import Metrics
from server.reconcile.observe import set_condition
from server.reconcile.worker import CONFLICT_RETRIES, KindWorker, Outcome, Waiting
from server.services import common
from server.services import storage_profiles as service
from storage.db import Database
from storage.models import OperationRow, StorageProfileRow
from storage.repos import work

Obj = dict[str, Any]
# Informer events of any storage object mark the whole cluster: one key per cluster, derived from its name.
_CLUSTER_KEYS = uuid.UUID("5f0d7a4e-2b8c-4c1e-9a57-7d0c3f2e9b11")


def cluster_key(cluster: str) -> uuid.UUID:
    return uuid.uuid5(_CLUSTER_KEYS, cluster)


class StorageWorker(KindWorker[StorageProfileRow]):
    kind = service.KIND
    watched = (
        Watched(*ts.SC, optional=True, labelled=False),
        Watched(*ts.SP, optional=True, labelled=False),
        Watched(*ts.CDI, optional=True, labelled=False),
    )

    def __init__(self, db: Database, settings: ReconcileConfig, owner: str, metrics: Metrics):
        super().__init__(db, settings, owner, metrics, StorageProfileRow)

    def to_proto(self, row: StorageProfileRow) -> Message:
        message: Message = service.to_proto(row)
        return message

    def parent_of(self, row: StorageProfileRow) -> str:
        return f"clusters/{row.cluster}"

    def gone_message(self) -> str:
        return "the StorageClass was deleted before this finished"

    def dirty_key(self, cluster: str, obj: Obj) -> uuid.UUID | None:
        return cluster_key(cluster)

    async def all_keys(self, session: AsyncSession, cluster: str) -> list[uuid.UUID]:
        return [cluster_key(cluster)]

    # --- reading the caches ---------------------------------------------------------------------

    @staticmethod
    def _classes(connection: ClusterConnection) -> dict[str, Obj]:
        informer = connection.informers.get(ts.SC[2])
        return {name: obj for (_, name), obj in informer.cache.items()} if informer is not None else {}

    def _view(
        self, connection: ClusterConnection, name: str, classes: dict[str, Obj] | None = None
    ) -> ts.ClusterView | None:
        classes = classes if classes is not None else self._classes(connection)
        sc = classes.get(name)
        if sc is None:
            return None
        cdis = connection.informers.get(ts.CDI[2])
        cdi = next(iter(cdis.cache.values()), None) if cdis is not None else None
        version = str(
            ((cdi or {}).get("status") or {}).get("observedVersion") or connection.probe.versions.get("cdi", "")
        )
        default = next(
            (
                n
                for n, obj in sorted(classes.items())
                if (obj["metadata"].get("annotations") or {}).get(ts.DEFAULT_CLASS_ANNOTATION) == "true"
            ),
            "",
        )
        return ts.ClusterView(
            harvester=connection.facts.harvester,
            cdi_version=version,
            storage_class=sc,
            profile=connection.get(ts.SP[2], "", name),
            cdi=cdi,
            classes=tuple(sorted(classes)),
            default_class=default,
        )

    # --- the observing path: the whole cluster at once -----------------------------------------

    async def observe(self, uids: list[uuid.UUID], connection: ClusterConnection) -> None:
        if not connection.serves(ts.SC[2]):
            return
        classes = self._classes(connection)
        async with self._db.transaction() as session:
            query = (
                select(StorageProfileRow)
                .where(StorageProfileRow.cluster == connection.cluster, StorageProfileRow.purged.is_(False))
                .order_by(StorageProfileRow.uid)
                .with_for_update()
            )
            rows = list((await session.execute(query)).scalars().all())
            pending = await work.pending_operations_of(session, [row.uid for row in rows])
            at = common.now()
            changed: list[StorageProfileRow] = []
            for row in rows:
                if row.storage_class not in classes:
                    await self._purge(session, row, pending.get(row.uid, []), at)
                    continue
                if self.observe_into(session, row, pending.get(row.uid, []), connection, at):
                    changed.append(row)
                if self.needs_worker(row, connection):
                    work.poke(row, at)
            known = {row.storage_class for row in rows}
            for name in sorted(set(classes) - known):
                row = self._new_row(connection, name, at)
                self.observe_into(session, row, [], connection, at)
                session.add(row)
                await session.flush()
                await self.record(session, row, "ADDED", at)
            for row in changed:
                await self.record(session, row, "MODIFIED", at)

    def _new_row(self, connection: ClusterConnection, name: str, at: datetime) -> StorageProfileRow:
        """A row for a class seen for the first time, whose spec is the overrides the cluster already carries."""
        view = self._view(connection, name)
        assert view is not None
        uid = uuid.uuid4()
        return StorageProfileRow(
            name=f"clusters/{connection.cluster}/storageProfiles/{name}",
            cluster=connection.cluster,
            storage_class=name,
            spec=ts.adopt(view),
            observed={},
            state="PENDING",
            labels={},
            annotations={},
            applied_generation=1,
            attempts=0,
            next_attempt_at=at + timedelta(seconds=self._settings.resync_seconds),
            **common.first_generation(uid, at),
        )

    def observe_into(
        self,
        session: AsyncSession,
        row: StorageProfileRow,
        operations: list[OperationRow],
        connection: ClusterConnection | None,
        at: datetime,
    ) -> bool:
        view = self._view(connection, row.storage_class) if connection is not None else None
        if view is None:
            return False
        before = (row.state, row.status, row.observed, row.conditions, row.observed_generation)
        seen = ts.observe(row.spec, view)
        row.state, row.status, row.observed = seen.state, seen.status, seen.observed
        if seen.recognized is not None:
            recognized = {
                "type": "Recognized",
                "status": str(seen.recognized.get("status", "Unknown")).upper(),
                "reason": str(seen.recognized.get("reason", "")),
                "message": str(seen.recognized.get("message", "")),
            }
            row.conditions = set_condition(row.conditions, recognized, at)
        if self._shows(row, view, connection):
            row.observed_generation = max(row.observed_generation, row.generation)
        self.settle_operations(row, operations, at, "StorageProfile")
        return before != (row.state, row.status, row.observed, row.conditions, row.observed_generation)

    @staticmethod
    def _shows(row: StorageProfileRow, view: ts.ClusterView, connection: ClusterConnection | None) -> bool:
        if ts.differences(row.spec, view):
            return False
        cdi_installed = connection is not None and connection.serves(ts.SP[2])
        return not cdi_installed or ts.profile_applied(row.spec, view)

    def needs_worker(self, row: StorageProfileRow, connection: ClusterConnection) -> bool:
        if row.applied_generation < row.generation:
            return False
        view = self._view(connection, row.storage_class)
        return view is not None and bool(ts.differences(row.spec, view))

    # --- the claimed path -----------------------------------------------------------------------

    async def apply(
        self, connection: ClusterConnection, row: StorageProfileRow, operations: list[OperationRow]
    ) -> Outcome:
        view = self._view(connection, row.storage_class)
        if view is None:
            return Outcome()
        differences = ts.differences(row.spec, view)
        if not differences:
            return Outcome()  # the cache shows the cluster carries the spec: a resync costs no API call
        outcome = Outcome(drift=differences if row.applied_generation >= row.generation else [])
        custom = client.CustomObjectsApi(connection.api)
        name = row.storage_class
        if view.harvester_owned:
            await _update(custom, ts.SC, name, lambda obj: _with_annotations(obj, row.spec))
        elif service.spec_to_cdi(row.spec).get("filesystemOverhead") or (
            view.overhead_config.get("storageClass") or {}
        ).get(name):
            cdi_name = str(((view.cdi or {}).get("metadata") or {}).get("name", ""))
            if not cdi_name:
                raise Waiting(f"cluster {row.cluster} has no CDI resource to hold the filesystem overhead")
            await _update(custom, ts.CDI, cdi_name, lambda obj: _with_overhead(obj, row.spec, view))
        if view.profile is not None:
            await _update(custom, ts.SP, name, lambda obj: _with_profile_spec(obj, row.spec, view))
        elif not view.harvester_owned and service.spec_to_cdi(row.spec):
            raise Waiting(f"CDI has no StorageProfile {name} yet (is CDI installed?)")
        return outcome

    async def delete(self, connection: ClusterConnection, row: StorageProfileRow) -> Outcome:
        """Rows are never deleted through the API; one whose class is gone is purged by `observe`."""
        return Outcome(purge=True)


def _with_annotations(obj: Obj, row_spec: Obj) -> Obj:
    current = dict(obj["metadata"].get("annotations") or {})
    obj["metadata"]["annotations"] = ts.storage_class_annotations(row_spec, current)
    return obj


def _with_profile_spec(obj: Obj, row_spec: Obj, view: ts.ClusterView) -> Obj:
    obj["spec"] = ts.profile_spec(row_spec, view, dict(obj.get("spec") or {}))
    return obj


def _with_overhead(obj: Obj, row_spec: Obj, view: ts.ClusterView) -> Obj:
    spec = obj.setdefault("spec", {})
    config = spec.setdefault("config", {})
    overhead = ts.cdi_overhead_config(row_spec, view, dict(config.get("filesystemOverhead") or {}))
    if overhead:
        config["filesystemOverhead"] = overhead
    else:
        config.pop("filesystemOverhead", None)
    return obj


async def _update(
    custom: client.CustomObjectsApi, what: tuple[str, str, str], name: str, change: Callable[[Obj], Obj]
) -> bool:
    """Read, change, write with the read's resourceVersion; re-read on a conflict. False when nothing changed."""
    group, version, plural = what
    for _ in range(CONFLICT_RETRIES):
        actual: Obj = await custom.get_cluster_custom_object(group, version, plural, name)
        wanted = change(copy.deepcopy(actual))
        if wanted == actual:
            return False
        try:
            await custom.replace_cluster_custom_object(group, version, plural, name, wanted)
            return True
        except ApiException as error:
            if error.status != 409:
                raise
    raise Waiting(f"{plural}/{name} kept changing during {CONFLICT_RETRIES} updates")
