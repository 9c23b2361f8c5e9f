"""Operating Harrow: Prometheus metrics and Kubernetes probes on the REST port.

`Observability` is what `server/app.py` wires in: a gRPC interceptor, a REST
middleware and response hook, and the `/metrics`, `/healthz`, `/readyz` routes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiohttp import web

from server.observability import health
from server.observability.metrics import (
    GrpcInterceptor,
    Metrics,
    StateCollector,
    metrics_endpoint,
    rest_middleware,
    rest_signals,
)

if TYPE_CHECKING:
    from server.reconcile.engine import Reconciler
    from storage.db import Database

__all__ = ["Observability"]


class Observability:
    def __init__(self, db: Database, reconciler: Reconciler | None):
        self.metrics = Metrics()
        self._collector = StateCollector(self.metrics, db, reconciler)
        self.grpc_interceptor = GrpcInterceptor(self.metrics)
        self.rest_middleware = rest_middleware(self.metrics)
        self.rest_routes = [
            web.get("/metrics", metrics_endpoint(self.metrics, self._collector)),
            web.get("/healthz", health.healthz),
            web.get("/readyz", health.readyz(db, reconciler, health.expected_revisions())),
        ]
        self._on_prepare = rest_signals(self.metrics)

    def attach(self, app: web.Application) -> web.Application:
        """Hook the REST app's response preparation (request ids, open streams); returns the app."""
        app.on_response_prepare.append(self._on_prepare)
        return app
