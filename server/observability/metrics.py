"""Prometheus metrics of one Harrow process: API calls on both transports, and the state of its work.

Calls are counted where they enter: a wrapper around each gRPC method and an
aiohttp middleware, both labelled with the same `method` ("harrow.v1.Service/Method")
so one query covers both transports; `code` is the transport's own (a gRPC
status name, an HTTP status). Work is sampled when Prometheus scrapes, from
the database (queue depth, failing objects, the oldest intent not yet shown by
its cluster, finished Operations) and from this process (claims, the DB pool,
the reconciler's own counters, which `reconcile/metrics.py` renders and are
folded in as they are). Database-wide numbers are the same on every replica:
aggregate them with max(), not sum().

Each Harrow has its own registry, so several can share a process (tests).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from contextvars import Token
from datetime import datetime
from typing import TYPE_CHECKING, Any

import grpc
from aiohttp import web
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import Metric
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.registry import Collector
from sqlalchemy import text

from server.api.rest.transcoder import RPC_METHOD
from server.logging_config import RequestScope, begin_request, current_request, end_request
from server.services.common import now

if TYPE_CHECKING:
    from server.reconcile.engine import Reconciler
    from storage.db import Database

log = logging.getLogger("harrow.access")

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)
# Intent → observed takes seconds to minutes (image imports, boots), not milliseconds.
OPERATION_BUCKETS = (0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1800.0)
SAMPLE_TIMEOUT_SECONDS = 2.0
# Finished Operations folded into the histogram per scrape, at most (a long unscraped gap is not replayed whole).
OPERATIONS_PER_SCRAPE = 10_000
# Paths that are not API calls (probes, scrapes) and are neither counted nor access-logged.
OPERATIONAL_PATHS = frozenset({"/metrics", "/healthz", "/readyz"})
STREAM_CONTENT_TYPE = "application/x-ndjson"


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        labels = ("transport", "method", "code")
        self.requests = Counter(
            "harrow_requests", "API calls finished, by transport, method and code.", labels, registry=self.registry
        )
        self.latency = Histogram(
            "harrow_request_duration_seconds",
            "Time to answer an API call (streams: how long they stayed open).",
            labels,
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.streams = Gauge(
            "harrow_watch_streams_open", "Watch streams open now, by transport.", ("transport",), registry=self.registry
        )
        self.operations = Histogram(
            "harrow_operation_duration_seconds",
            "Time from an intent (an Operation's start) to the cluster showing it (the Operation done), "
            "by resource type, verb and outcome.",
            ("resource_type", "verb", "outcome"),
            buckets=OPERATION_BUCKETS,
            registry=self.registry,
        )
        # Each (transport, method, code)'s counter and histogram, found once: `labels()` locks and looks up.
        self._calls: dict[tuple[str, str, str], tuple[Counter, Histogram]] = {}

    def observe_call(self, transport: str, method: str, code: str, seconds: float) -> None:
        key = (transport, method, code)
        children = self._calls.get(key)
        if children is None:
            children = self._calls[key] = (self.requests.labels(*key), self.latency.labels(*key))
        children[0].inc()
        children[1].observe(seconds)
        log.info(
            "%s %s %s %.1fms",
            transport,
            method,
            code,
            seconds * 1000,
            extra={"transport": transport, "method": method, "code": code, "duration_ms": round(seconds * 1000, 1)},
        )

    def exposition(self) -> bytes:
        return generate_latest(self.registry)


# --- gRPC ---------------------------------------------------------------------------------------


def _begin(context: grpc.aio.ServicerContext[Any, Any]) -> Token[RequestScope | None]:
    """`begin_request` with the call's x-request-id and traceparent metadata."""
    found: dict[str, str] = {}
    for name, value in context.invocation_metadata() or ():
        if name in _SCOPE_KEYS and name not in found:
            found[name] = value if isinstance(value, str) else value.decode(errors="replace")
    return begin_request(found.get("x-request-id"), found.get("traceparent"))


_SCOPE_KEYS = frozenset({"x-request-id", "traceparent"})


def _code(context: grpc.aio.ServicerContext[Any, Any], failed: bool) -> str:
    code = context.code()
    if isinstance(code, grpc.StatusCode):
        return str(code.name)
    return "UNKNOWN" if failed else "OK"


UnaryBehaviour = Callable[[Any, grpc.aio.ServicerContext[Any, Any]], Awaitable[Any]]
StreamBehaviour = Callable[[Any, grpc.aio.ServicerContext[Any, Any]], AsyncIterator[Any]]


class GrpcInterceptor:
    """Counts, times and logs every Harrow RPC (health and reflection are infrastructure, not API calls).

    It wraps each RPC method once, when the server registers it, rather than being a
    grpc.aio.ServerInterceptor: an interceptor runs per call and builds a new method
    handler for each one, which cost a Get more CPU than the counting itself."""

    def __init__(self, metrics: Metrics):
        self._metrics = metrics

    def unary(self, method: str, behaviour: UnaryBehaviour) -> UnaryBehaviour:
        """`behaviour` (the RPC "harrow.v1.Service/Method") observed."""
        metrics = self._metrics

        async def unary(request: Any, context: grpc.aio.ServicerContext[Any, Any]) -> Any:
            token = _begin(context)
            started, failed = time.perf_counter(), True
            try:
                response = await behaviour(request, context)
                failed = False
                return response
            finally:
                metrics.observe_call("grpc", method, _code(context, failed), time.perf_counter() - started)
                end_request(token)

        return unary

    def stream(self, method: str, behaviour: StreamBehaviour) -> StreamBehaviour:
        metrics = self._metrics

        async def stream(request: Any, context: grpc.aio.ServicerContext[Any, Any]) -> AsyncIterator[Any]:
            token = _begin(context)
            started, failed = time.perf_counter(), True
            metrics.streams.labels("grpc").inc()
            try:
                async for item in behaviour(request, context):
                    yield item
                failed = False
            finally:
                metrics.streams.labels("grpc").dec()
                metrics.observe_call("grpc", method, _code(context, failed), time.perf_counter() - started)
                end_request(token)

        return stream


# --- REST ---------------------------------------------------------------------------------------

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
_STREAMING = web.RequestKey("streaming", bool)
_REQUEST_ID = web.RequestKey("request_id", str)


def rest_middleware(metrics: Metrics) -> Any:
    """Counts, times and logs every REST call under the RPC it was routed to (`unrouted` when none)."""

    @web.middleware
    async def observe(request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.path in OPERATIONAL_PATHS:
            return await handler(request)
        token = begin_request(request.headers.get("X-Request-Id"), request.headers.get("traceparent"))
        scope = current_request()
        if scope is not None:
            request[_REQUEST_ID] = scope.request_id
        started, status = time.perf_counter(), 500
        try:
            response = await handler(request)
            status = response.status
            return response
        except web.HTTPException as error:
            status = error.status
            raise
        finally:
            if request.get(_STREAMING):
                metrics.streams.labels("rest").dec()
            method = request.get(RPC_METHOD, "unrouted")
            metrics.observe_call("rest", method, str(status), time.perf_counter() - started)
            end_request(token)

    return observe


def rest_signals(metrics: Metrics) -> Callable[[web.Request, web.StreamResponse], Awaitable[None]]:
    """An on_response_prepare hook: the request id goes back to the caller, and NDJSON streams count as open."""

    async def prepared(request: web.Request, response: web.StreamResponse) -> None:
        if _REQUEST_ID in request:
            response.headers["X-Request-Id"] = request[_REQUEST_ID]
        if response.content_type == STREAM_CONTENT_TYPE and not request.get(_STREAMING):
            request[_STREAMING] = True
            metrics.streams.labels("rest").inc()

    return prepared


# --- sampled at scrape time ---------------------------------------------------------------------


class StateCollector(Collector):
    """The database's and the reconciler's view, refreshed by `refresh()` just before each scrape."""

    def __init__(self, metrics: Metrics, db: Database, reconciler: Reconciler | None):
        self._metrics = metrics
        self._db = db
        self._reconciler = reconciler
        self._families: list[Metric] = []
        self._operations_seen_until: datetime = now()
        self._lock = asyncio.Lock()
        metrics.registry.register(self)

    def collect(self) -> Iterable[Metric]:
        return list(self._families)

    async def refresh(self) -> None:
        async with self._lock:
            families: list[Metric] = [self._pool()]
            database_up = 1.0
            try:
                families += await asyncio.wait_for(self._from_database(), SAMPLE_TIMEOUT_SECONDS)
            except Exception as error:
                log.warning("metrics: the database could not be sampled (%s)", type(error).__name__)
                database_up = 0.0
            families.append(
                _gauge("harrow_database_up", "Whether the last scrape could read the database.", database_up)
            )
            if self._reconciler is not None:
                families += _parsed(self._reconciler.metrics.render())
            self._families = families

    def _pool(self) -> Metric:
        pool: Any = self._db.engine.pool
        family = Metric("harrow_db_pool_connections", "Database connections of this process's pool.", "gauge")
        family.add_sample("harrow_db_pool_connections", {"state": "in_use"}, float(pool.checkedout()))
        family.add_sample("harrow_db_pool_connections", {"state": "idle"}, float(pool.checkedin()))
        return family

    async def _from_database(self) -> list[Metric]:
        queue = Metric("harrow_reconcile_queue_depth", "Objects due for reconciling and not claimed.", "gauge")
        claimed = Metric("harrow_reconcile_claimed", "Objects this replica holds a work lease on.", "gauge")
        failing = Metric(
            "harrow_reconcile_errors",
            "Objects whose last reconcile failed, by kind and the Reconciled condition's reason.",
            "gauge",
        )
        oldest = Metric(
            "harrow_reconcile_oldest_pending_seconds",
            "Age of the oldest intent its cluster does not show yet (0 when none).",
            "gauge",
        )
        clusters = Metric("harrow_cluster_ready", "Whether a cluster is READY (reachable, watches synced).", "gauge")
        at = now()
        async with self._db.read() as session:
            for row in await session.execute(text(_CLUSTERS)):
                clusters.add_sample("harrow_cluster_ready", {"cluster": row.cluster}, float(row.state == "READY"))
            workers = self._reconciler.workers if self._reconciler is not None else {}
            owner = self._reconciler.owner if self._reconciler is not None else ""
            for kind, worker in sorted(workers.items()):
                table = worker.table.__tablename__
                row = (await session.execute(text(_QUEUE.format(table=table)), {"now": at, "owner": owner})).one()
                queue.add_sample("harrow_reconcile_queue_depth", {"kind": kind}, float(row.due))
                claimed.add_sample("harrow_reconcile_claimed", {"kind": kind}, float(row.mine))
                oldest.add_sample("harrow_reconcile_oldest_pending_seconds", {"kind": kind}, float(row.oldest or 0))
                for reason_row in await session.execute(text(_FAILING.format(table=table))):
                    labels = {"kind": kind, "reason": reason_row.reason}
                    failing.add_sample("harrow_reconcile_errors", labels, float(reason_row.objects))
            await self._fold_operations(session)
        return [queue, claimed, failing, oldest, clusters]

    async def _fold_operations(self, session: Any) -> None:
        rows = await session.execute(
            text(_FINISHED), {"since": self._operations_seen_until, "limit": OPERATIONS_PER_SCRAPE}
        )
        for row in rows:
            outcome = "failed" if row.failed else "ok"
            resource_type = row.target.split("/")[-2] if row.target.count("/") >= 1 else "unknown"
            self._metrics.operations.labels(resource_type, row.verb, outcome).observe(max(row.seconds, 0.0))
            self._operations_seen_until = max(self._operations_seen_until, row.end_time)


_CLUSTERS = "SELECT cluster, state FROM clusters WHERE NOT purged ORDER BY cluster"
_QUEUE = """
SELECT
  count(*) FILTER (
    WHERE (lease_expires_at IS NULL OR lease_expires_at < CAST(:now AS timestamptz))
      AND (next_attempt_at <= CAST(:now AS timestamptz) OR (attempts = 0 AND generation > applied_generation))
  ) AS due,
  count(*) FILTER (WHERE claimed_by = :owner AND lease_expires_at >= CAST(:now AS timestamptz)) AS mine,
  extract(epoch FROM CAST(:now AS timestamptz) - min(update_time) FILTER (WHERE observed_generation < generation))
    AS oldest
FROM {table} WHERE NOT purged
"""
_FAILING = """
SELECT coalesce(condition->>'reason', 'Unknown') AS reason, count(*) AS objects
FROM {table} LEFT JOIN LATERAL (
  SELECT c AS condition FROM jsonb_array_elements(conditions) AS c WHERE c->>'type' = 'Reconciled'
) reconciled ON true
WHERE NOT purged AND attempts > 0
GROUP BY 1
"""
_FINISHED = """
SELECT target, verb, error IS NOT NULL AS failed, end_time, extract(epoch FROM end_time - create_time) AS seconds
FROM operations WHERE done AND end_time > CAST(:since AS timestamptz) ORDER BY end_time LIMIT :limit
"""


def _gauge(name: str, documentation: str, value: float) -> Metric:
    family = Metric(name, documentation, "gauge")
    family.add_sample(name, {}, value)
    return family


def _parsed(exposition: str) -> list[Metric]:
    """The reconciler's own text exposition, as metric families of this registry."""
    return list(text_string_to_metric_families(exposition))


def metrics_endpoint(metrics: Metrics, collector: StateCollector) -> Callable[[web.Request], Awaitable[web.Response]]:
    async def handle(request: web.Request) -> web.Response:
        await collector.refresh()
        return web.Response(body=metrics.exposition(), headers={"Content-Type": CONTENT_TYPE})

    return handle
