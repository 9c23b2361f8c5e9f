"""The labels of a cluster's namespaces, as the cluster shows them, kept on the cluster's row (issue 6).

KubeVirt matches a MigrationPolicy's `namespaceSelector` against the labels of
the VMI's namespace (`pkg/virt-controller/watch/migration/migrationpolicy.go`),
so Harrow's explain (`:resolveMigrationPolicy`) and a policy's governed VMs
must match against the same labels, not guess them. Each cluster connection
lists and watches every namespace (one more informer, through the cluster's
rate-limited client); on a change this writes `{namespace: labels}` into the
cluster row's status under `namespace_labels`, where the API reads it. So a
`kubectl label namespace` shows in Harrow's answers within a batch interval,
and a restart or another replica loses nothing. Writes are batched per cluster
and skipped in the database when nothing changed, so the relist after a
reconnect costs one statement that updates no row.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable
from typing import Any

from sqlalchemy import literal, update
from sqlalchemy.dialects.postgresql import JSONB

from server.reconcile.connection import ClusterConnection, Watched
from storage.db import Database
from storage.models import ClusterRow

log = logging.getLogger(__name__)

# Not awaited: a cluster whose credentials may not list namespaces is still managed; Harrow then knows only
# each namespace's `kubernetes.io/metadata.name` label, as before it has listed them.
NAMESPACES = Watched("", "v1", "namespaces", labelled=False, awaited=False)
# The key of the cluster row's status that holds {namespace: {label: value}}.
STATUS_KEY = "namespace_labels"
# Namespace events are folded together this long: a relist of 1,000 namespaces is one write.
BATCH_SECONDS = 0.1


def labels_by_namespace(namespaces: Iterable[dict[str, Any]]) -> dict[str, dict[str, str]]:
    out: dict[str, dict[str, str]] = {}
    for namespace in namespaces:
        metadata = namespace.get("metadata") or {}
        out[str(metadata["name"])] = {str(k): str(v) for k, v in (metadata.get("labels") or {}).items()}
    return out


class NamespaceLabels:
    """Writes a cluster's namespace labels after its namespace informer reports a change."""

    def __init__(self, db: Database, connection_of: Callable[[str], ClusterConnection | None]):
        self._db = db
        self._connection_of = connection_of
        self._dirty: set[str] = set()
        self._wake = asyncio.Event()

    def changed(self, cluster: str) -> None:
        """A namespace of `cluster` appeared, changed or went away (or the cluster was just connected)."""
        self._dirty.add(cluster)
        self._wake.set()

    async def run(self) -> None:
        while True:
            await self._wake.wait()
            await asyncio.sleep(BATCH_SECONDS)
            self._wake.clear()
            dirty, self._dirty = self._dirty, set()
            for cluster in sorted(dirty):
                connection = self._connection_of(cluster)
                informer = connection.informers.get(NAMESPACES.plural) if connection is not None else None
                # Not connected (yet): the engine calls `changed` again once the connection is in place.
                if informer is None or not informer.synced.is_set():
                    continue
                try:
                    await self.write(cluster, labels_by_namespace(informer.cache.values()))
                except Exception as error:
                    log.warning("writing namespace labels of cluster %s failed: %s", cluster, type(error).__name__)
                    self.changed(cluster)

    async def write(self, cluster: str, labels: dict[str, dict[str, str]]) -> None:
        value = literal(labels, JSONB)
        statement = (
            update(ClusterRow)
            .where(
                ClusterRow.name == f"clusters/{cluster}",
                ClusterRow.purged.is_(False),
                ClusterRow.status[STATUS_KEY].is_distinct_from(value),
            )
            .values(status=ClusterRow.status.op("||")(literal({STATUS_KEY: labels}, JSONB)))
        )
        async with self._db.transaction() as session:
            await session.execute(statement)
