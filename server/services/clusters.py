"""Clusters: read-only here; the reconciler fills in state and versions."""

from __future__ import annotations

from google.protobuf import json_format
from harrow.v1 import cluster_pb2

from server.domain import page_token
from server.domain.errors import NotFound
from server.domain.names import parse_cluster_name
from storage.db import Database
from storage.models import ClusterRow
from storage.repos import resources

_Cluster = cluster_pb2.Cluster


def to_proto(row: ClusterRow) -> cluster_pb2.Cluster:
    cluster = _Cluster(
        name=row.name,
        uid=str(row.uid),
        display_name=row.spec.get("display_name", ""),
        labels=row.labels,
        annotations=row.annotations,
        etag=row.etag,
        generation=row.generation,
        observed_generation=row.observed_generation,
        reconciling=row.observed_generation < row.generation,
        state=_Cluster.State.Value(row.state),
        flavor=_Cluster.Flavor.Value(row.flavor),
        versions=row.versions,
    )
    cluster.create_time.FromDatetime(row.create_time)
    cluster.update_time.FromDatetime(row.update_time)
    for condition in row.conditions:
        json_format.ParseDict(condition, cluster.conditions.add())
    return cluster


class ClusterService:
    def __init__(self, db: Database):
        self._db = db

    async def get(self, request: cluster_pb2.GetClusterRequest) -> cluster_pb2.Cluster:
        name = f"clusters/{parse_cluster_name(request.name)}"
        async with self._db.transaction() as session:
            row = await resources.get_live(session, ClusterRow, name)
        if row is None:
            raise NotFound(f"cluster {name} does not exist", reason="CLUSTER_NOT_FOUND", metadata={"resource": name})
        return to_proto(row)

    async def list(self, request: cluster_pb2.ListClustersRequest) -> cluster_pb2.ListClustersResponse:
        size = page_token.page_size(request.page_size)
        digest = page_token.query_digest("clusters")
        after = page_token.decode(request.page_token, digest)
        async with self._db.transaction() as session:
            rows = await resources.page(
                session, ClusterRow, where=[], order_column="name", descending=False, after=after, limit=size + 1
            )
        response = cluster_pb2.ListClustersResponse(clusters=[to_proto(row) for row in rows[:size]])
        if len(rows) > size:
            response.next_page_token = page_token.encode([rows[size - 1].name], digest)
        return response
