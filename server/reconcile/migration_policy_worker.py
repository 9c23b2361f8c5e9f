"""MigrationPolicy: keep each policy's migrations.kubevirt.io MigrationPolicy on its cluster, as a KindWorker.

The cluster object is named by the policy's ID (KubeVirt breaks ties by name,
translate_migration.py) and carries Harrow's labels and the generation it
shows. Apply creates or replaces it when its spec, labels or annotations
differ from translate(); an edit made outside Harrow to an object already at
the row's generation is drift, put back and counted. Create and Update
Operations finish once the cluster object shows the generation; Delete once
it is gone, which also purges the row. A cluster that does not serve the CRD
(KubeVirt older than v0.49) gets `Applied=False` and the Operations fail.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from google.protobuf.message import Message
from google.rpc import code_pb2
from kubernetes_asyncio import client
from kubernetes_asyncio.client.exceptions import ApiException
from sqlalchemy.ext.asyncio import AsyncSession

from server.config import ReconcileConfig
from server.reconcile.connection import ClusterConnection, Watched
from server.reconcile.metrics import Metrics
from server.reconcile.observe import set_condition
from server.reconcile.translate import GENERATION_ANNOTATION, differences, stamped_generation
from server.reconcile.translate_migration import translate_migration_policy
from server.reconcile.worker import CONFLICT_RETRIES, KindWorker, Outcome, Waiting, fail_operation, mirror_needs_worker
from server.services.migrations import POLICY_KIND, policy_to_proto
from storage.db import Database
from storage.models import MigrationPolicyRow, OperationRow

Obj = dict[str, Any]
GROUP, VERSION, PLURAL = "migrations.kubevirt.io", "v1alpha1", "migrationpolicies"


def desired(row: MigrationPolicyRow) -> Obj:
    body = translate_migration_policy(row.name.rsplit("/", 1)[1], str(row.uid), row.spec)
    body["metadata"]["annotations"] = {GENERATION_ANNOTATION: str(row.generation)}
    return body


def owned(body: Obj) -> Obj:
    metadata = body["metadata"]
    return {"metadata": {"labels": metadata["labels"], "annotations": metadata["annotations"]}, "spec": body["spec"]}


def edited(want: Obj, actual: Obj) -> list[str]:
    """What differs in the parts Harrow owns; the selectors and every set field are compared whole."""
    found = differences(owned(want), actual)
    have = actual.get("spec") or {}
    found += [f"spec.{key}" for key in have if key not in want["spec"]]
    selectors = have.get("selectors") or {}
    for key, wanted in want["spec"]["selectors"].items():
        if (selectors.get(key) or {}) != wanted and f"spec.selectors.{key}" not in found:
            found.append(f"spec.selectors.{key}")
    return found


def _shows(row: MigrationPolicyRow, actual: Obj | None) -> bool:
    annotations = ((actual or {}).get("metadata") or {}).get("annotations") or {}
    return annotations.get(GENERATION_ANNOTATION) == str(row.generation)


class MigrationPolicyWorker(KindWorker[MigrationPolicyRow]):
    kind = POLICY_KIND.name
    watched = (Watched(GROUP, VERSION, PLURAL, optional=True),)

    def __init__(self, db: Database, settings: ReconcileConfig, owner: str, metrics: Metrics):
        super().__init__(db, settings, owner, metrics, MigrationPolicyRow)

    def to_proto(self, row: MigrationPolicyRow) -> Message:
        message: Message = policy_to_proto(row)
        return message

    def parent_of(self, row: MigrationPolicyRow) -> str:
        return f"clusters/{row.cluster}"

    def gone_message(self) -> str:
        return "the migration policy was deleted before this finished"

    async def apply(
        self, connection: ClusterConnection, row: MigrationPolicyRow, operations: list[OperationRow]
    ) -> Outcome:
        if not connection.serves(PLURAL):
            return Outcome()
        custom = client.CustomObjectsApi(connection.api)
        want = desired(row)
        name = want["metadata"]["name"]
        outcome = Outcome()
        actual = connection.get(PLURAL, "", name)
        if actual is None:
            if row.applied_generation >= row.generation:
                outcome.drift = ["deleted"]
            try:
                await custom.create_cluster_custom_object(GROUP, VERSION, PLURAL, want)
                return outcome
            except ApiException as error:
                if error.status != 409:
                    raise
                actual = await custom.get_cluster_custom_object(GROUP, VERSION, PLURAL, name)
        assert actual is not None
        if (actual.get("metadata") or {}).get("deletionTimestamp"):
            raise Waiting("the MigrationPolicy is being deleted by someone else; it is recreated once gone")
        if _shows(row, actual):
            outcome.drift = outcome.drift or edited(want, actual)
        for _ in range(CONFLICT_RETRIES):
            if not edited(want, actual):
                return outcome
            metadata = dict(actual["metadata"])
            metadata["labels"] = {**(metadata.get("labels") or {}), **want["metadata"]["labels"]}
            metadata["annotations"] = {**(metadata.get("annotations") or {}), **want["metadata"]["annotations"]}
            body = {**actual, "metadata": metadata, "spec": want["spec"]}
            try:
                await custom.replace_cluster_custom_object(GROUP, VERSION, PLURAL, name, body)
                return outcome
            except ApiException as error:
                if error.status != 409:
                    raise
                actual = await custom.get_cluster_custom_object(GROUP, VERSION, PLURAL, name)
        raise Waiting(f"the MigrationPolicy kept changing during {CONFLICT_RETRIES} updates")

    async def delete(self, connection: ClusterConnection, row: MigrationPolicyRow) -> Outcome:
        if not connection.serves(PLURAL):
            return Outcome(purge=True)
        name = row.name.rsplit("/", 1)[1]
        actual = connection.get(PLURAL, "", name)
        if actual is None:
            return Outcome(purge=True)
        if not (actual.get("metadata") or {}).get("deletionTimestamp"):
            try:
                await client.CustomObjectsApi(connection.api).delete_cluster_custom_object(GROUP, VERSION, PLURAL, name)
            except ApiException as error:
                if error.status != 404:
                    raise
        return Outcome(waiting=True)

    def observe_into(
        self,
        session: AsyncSession,
        row: MigrationPolicyRow,
        operations: list[OperationRow],
        connection: ClusterConnection | None,
        at: datetime,
    ) -> bool:
        if connection is None or row.delete_time is not None:
            return False
        before = (row.conditions, row.observed_generation)
        if not connection.serves(PLURAL):
            condition = {
                "type": "Applied",
                "status": "FALSE",
                "reason": "NoMigrationPolicyResource",
                "message": f"cluster {row.cluster} does not serve {GROUP}/{VERSION} {PLURAL}",
            }
            row.conditions = set_condition(row.conditions, condition, at)
            for operation in operations:
                message = f"cluster {row.cluster} has no MigrationPolicy resource (KubeVirt older than v0.49?)"
                fail_operation(operation, at, code_pb2.FAILED_PRECONDITION, message)
            return before != (row.conditions, row.observed_generation)
        actual = connection.get(PLURAL, "", row.name.rsplit("/", 1)[1])
        shown = stamped_generation(actual, row.observed_generation)
        condition = {"type": "Applied", "status": "TRUE" if actual else "FALSE", "reason": "MigrationPolicy"}
        if actual is None:
            condition["reason"] = "Missing"
        row.conditions = set_condition(row.conditions, condition, at)
        row.observed_generation = max(row.observed_generation, min(shown, row.generation))
        self.settle_operations(row, operations, at, "MigrationPolicy")
        return before != (row.conditions, row.observed_generation)

    def needs_worker(self, row: MigrationPolicyRow, connection: ClusterConnection) -> bool:
        return mirror_needs_worker(
            row,
            connection.get(PLURAL, "", row.name.rsplit("/", 1)[1]),
            served=connection.serves(PLURAL),
            edited=lambda actual: _shows(row, actual) and bool(edited(desired(row), actual)),
        )
