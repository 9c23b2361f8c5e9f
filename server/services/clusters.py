"""Clusters: where Harrow reconciles to. The API writes how to reach a cluster; the reconciler fills in the rest.

The kubeconfig is input-only: stored sealed (AES-GCM with the configured key,
server.auth.secret_box), never returned, never logged, and refused with a
message that never quotes it. Registering a
cluster finishes in one transaction, so the methods answer directly (DESIGN
§4); whether the cluster could be reached shows in `state` and the
`Reachable` condition moments later.
"""

from __future__ import annotations

import uuid
from typing import Any

from google.protobuf import empty_pb2, field_mask_pb2
from harrow.v1 import cluster_pb2
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from server.auth import audit
from server.auth.secret_box import SecretBox, is_sealed
from server.domain import page_token
from server.domain.errors import AlreadyExists, FailedPrecondition, InvalidArgument, NotFound
from server.domain.names import check_id, parse_cluster_name
from server.reconcile.kube import parse_kubeconfig
from server.services import common, intent
from storage.db import Database
from storage.models import ClusterRow, VirtualMachineRow
from storage.repos import resources

_Cluster = cluster_pb2.Cluster
KIND = "Cluster"
_WRITABLE = ("display_name", "labels", "annotations", "flavor", "kubeconfig")
MAX_KUBECONFIG_BYTES = 256 * 1024


def to_proto(row: ClusterRow) -> cluster_pb2.Cluster:
    cluster = _Cluster(
        display_name=row.spec.get("display_name", ""),
        state=_Cluster.State.Value(row.state),
        flavor=_Cluster.Flavor.Value(row.flavor),
        versions=row.versions,
    )
    common.fill_resource_fields(cluster, row)
    return cluster


CLUSTER_KIND = intent.Kind[ClusterRow](name=KIND, to_proto=to_proto, parent_of=lambda row: "")


def _check_kubeconfig(text: str, field: str) -> None:
    if len(text.encode()) > MAX_KUBECONFIG_BYTES:
        raise InvalidArgument.for_field(field, f"larger than {MAX_KUBECONFIG_BYTES} bytes")
    try:
        parse_kubeconfig(text)
    except ValueError as error:
        raise InvalidArgument.for_field(field, str(error)) from None


def _spec(cluster: cluster_pb2.Cluster) -> dict[str, Any]:
    return {"display_name": cluster.display_name, "flavor": _Cluster.Flavor.Name(cluster.flavor)}


def _not_found(name: str) -> NotFound:
    return NotFound(f"cluster {name} does not exist", reason="CLUSTER_NOT_FOUND", metadata={"resource": name})


class ClusterService:
    def __init__(self, db: Database, secrets: SecretBox):
        self._db = db
        self._secrets = secrets

    async def get(self, request: cluster_pb2.GetClusterRequest) -> cluster_pb2.Cluster:
        name = f"clusters/{parse_cluster_name(request.name)}"
        async with self._db.transaction() as session:
            row = await resources.get_live(session, ClusterRow, name)
        if row is None:
            raise _not_found(name)
        return to_proto(row)

    async def list(
        self, request: cluster_pb2.ListClustersRequest, *, clusters: frozenset[str] | None = None
    ) -> cluster_pb2.ListClustersResponse:
        """`clusters`, when given, are the only cluster IDs the caller may see."""
        size = page_token.page_size(request.page_size)
        digest = page_token.query_digest("clusters")
        after = page_token.decode(request.page_token, digest)
        where = [] if clusters is None else [ClusterRow.cluster.in_(clusters)]
        async with self._db.transaction() as session:
            rows = await resources.page(
                session, ClusterRow, where=where, order_column="name", descending=False, after=after, limit=size + 1
            )
        response = cluster_pb2.ListClustersResponse(clusters=[to_proto(row) for row in rows[:size]])
        if len(rows) > size:
            response.next_page_token = page_token.encode([rows[size - 1].name], digest)
        return response

    async def create(self, request: cluster_pb2.CreateClusterRequest) -> cluster_pb2.Cluster:
        check_id(request.cluster_id, "cluster_id")
        name = f"clusters/{request.cluster_id}"
        if not request.cluster.kubeconfig:
            raise InvalidArgument.for_field("cluster.kubeconfig", "required: how Harrow reaches the cluster")
        _check_kubeconfig(request.cluster.kubeconfig, "cluster.kubeconfig")
        at = common.now()
        uid = uuid.uuid4()
        flavor = request.cluster.flavor
        row = ClusterRow(
            name=name,
            cluster=request.cluster_id,
            spec=_spec(request.cluster),
            state="UNREACHABLE",
            labels=dict(request.cluster.labels),
            annotations=dict(request.cluster.annotations),
            flavor=_Cluster.Flavor.Name(flavor) if flavor else "KUBEVIRT",
            versions={},
            kubeconfig=self._secrets.seal(request.cluster.kubeconfig, name),
            **common.first_generation(uid, at),
        )
        if request.validate_only:
            return to_proto(row)
        async with self._db.transaction() as session:
            await audit.record(session)
            if await resources.get_live(session, ClusterRow, name) is not None:
                raise _exists(name)
            session.add(row)
            try:
                await session.flush()
            except IntegrityError as error:
                raise _exists(name) from error
            await CLUSTER_KIND.record(session, row, "ADDED", at)
        return to_proto(row)

    async def update(self, request: cluster_pb2.UpdateClusterRequest) -> cluster_pb2.Cluster:
        name = f"clusters/{parse_cluster_name(request.cluster.name, 'cluster.name')}"
        paths = common.update_paths(request.update_mask.paths, request.cluster, _WRITABLE)
        if "kubeconfig" in paths:
            _check_kubeconfig(request.cluster.kubeconfig, "cluster.kubeconfig")
        async with self._db.transaction() as session:
            await audit.record(session)
            row = await resources.get_live(session, ClusterRow, name, lock=True)
            if row is None:
                raise _not_found(name)
            common.check_etag(request.cluster.etag, row.etag, name, "cluster.etag")
            merged = to_proto(row)
            # The flavor the user asked for (UNSPECIFIED: detect it), not the one observed: an update that
            # leaves flavor alone must not pin the cluster to whatever was detected, or assumed, so far.
            merged.flavor = _Cluster.Flavor.Value(row.spec.get("flavor", "FLAVOR_UNSPECIFIED"))
            field_mask_pb2.FieldMask(paths=[p for p in paths if p != "kubeconfig"]).MergeMessage(
                request.cluster, merged, replace_message_field=True, replace_repeated_field=True
            )
            spec, labels, annotations = _spec(merged), dict(merged.labels), dict(merged.annotations)
            if not merged.flavor:
                merged.flavor = _Cluster.Flavor.Value(row.flavor)  # a preview shows what is in effect
            new_kubeconfig = "kubeconfig" in paths and (
                self._secrets.open(row.kubeconfig, name) != request.cluster.kubeconfig.encode()
            )
            if request.validate_only:
                return merged
            if new_kubeconfig or (spec, labels, annotations) != (row.spec, row.labels, row.annotations):
                row.spec, row.labels, row.annotations = spec, labels, annotations
                if new_kubeconfig:
                    row.kubeconfig = self._secrets.seal(request.cluster.kubeconfig, name)
                if spec["flavor"] != "FLAVOR_UNSPECIFIED":
                    row.flavor = spec["flavor"]
                row.generation += 1
                row.etag = common.make_etag(row.uid, row.generation)
                row.update_time = common.now()
                await CLUSTER_KIND.record(session, row, "MODIFIED", row.update_time)
            return to_proto(row)

    async def delete(self, request: cluster_pb2.DeleteClusterRequest) -> empty_pb2.Empty:
        name = f"clusters/{parse_cluster_name(request.name)}"
        async with self._db.transaction() as session:
            await audit.record(session)
            row = await resources.get_live(session, ClusterRow, name, lock=True)
            if row is None:
                if request.allow_missing:
                    return empty_pb2.Empty()
                raise _not_found(name)
            common.check_etag(request.etag, row.etag, name)
            vms = await session.scalar(
                select(func.count())
                .select_from(VirtualMachineRow)
                .where(VirtualMachineRow.cluster == row.cluster, VirtualMachineRow.purged.is_(False))
            )
            if vms:
                raise FailedPrecondition(
                    f"cluster {name} still has {vms} virtual machines; delete them first",
                    reason="CLUSTER_IN_USE",
                    metadata={"resource": name, "virtual_machines": str(vms)},
                )
            if request.validate_only:
                return empty_pb2.Empty()
            at = common.now()
            row.purged = True
            row.delete_time = at
            row.kubeconfig = None
            await CLUSTER_KIND.record(session, row, "DELETED", at)
        return empty_pb2.Empty()


def _exists(name: str) -> AlreadyExists:
    return AlreadyExists(f"cluster {name} already exists", reason="CLUSTER_EXISTS", metadata={"resource": name})


async def point_local(db: Database, kubeconfig: str, secrets: SecretBox) -> None:
    """Point `clusters/local` at a kubeconfig (the embedded cluster under `harrow-server up`)."""
    async with db.transaction() as session:
        row = await resources.get_live(session, ClusterRow, "clusters/local", lock=True)
        if row is None:
            return
        if secrets.open(row.kubeconfig, row.name) == kubeconfig.encode():
            return
        row.kubeconfig = secrets.seal(kubeconfig, row.name)
        row.generation += 1
        row.etag = common.make_etag(row.uid, row.generation)
        row.update_time = common.now()
        await CLUSTER_KIND.record(session, row, "MODIFIED", row.update_time)


async def seal_stored_kubeconfigs(db: Database, secrets: SecretBox) -> int:
    """Encrypt kubeconfigs stored before a key was configured; returns how many were sealed."""
    if not secrets.encrypts:
        return 0
    sealed = 0
    async with db.transaction() as session:
        rows = await session.execute(select(ClusterRow).where(ClusterRow.kubeconfig.is_not(None)).with_for_update())
        for row in rows.scalars():
            if row.kubeconfig is not None and not is_sealed(row.kubeconfig):
                row.kubeconfig = secrets.seal(row.kubeconfig.decode(), row.name)
                sealed += 1
    return sealed
