"""The ``/kubesim/`` admin API: what an operator or a chaos test does to a cluster.

It answers the admin token (the one in the kubeconfig kubesim writes; a
service account's token gets 403) and is plain JSON, so ``curl`` is enough:

- ``POST /kubesim/nodes/{node}/{cordon|uncordon|drain|fail|recover}``; drain answers which VMIs it
  ``migrated``, ``deleted`` and ``blocked`` (evictionStrategy, see ``controllers/nodes.py``)
- ``POST /kubesim/faults`` with ``{"verb", "resource", "errorRate", "code", "retryAfterSeconds",
  "latencyMs"}``; ``DELETE /kubesim/faults`` clears them
- ``POST /kubesim/watches/drop`` ends every open watch cleanly (as the apiserver's request
  timeout does); ``?abrupt=true`` resets the connections instead
- ``GET /kubesim/clock`` reports cluster time and scale
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aiohttp import web

from .api import dump
from .errors import ApiError
from .faults import FaultRule

if TYPE_CHECKING:
    from .sim import KubeSim


def _ok(body: Any) -> web.Response:
    return web.Response(body=dump(body), content_type="application/json")


class Admin:
    def __init__(self, sim: KubeSim) -> None:
        self.sim = sim

    def routes(self, app: web.Application) -> None:
        app.router.add_post("/kubesim/nodes/{node}/{action}", self._node)
        app.router.add_post("/kubesim/faults", self._add_fault)
        app.router.add_delete("/kubesim/faults", self._clear_faults)
        app.router.add_get("/kubesim/faults", self._faults)
        app.router.add_post("/kubesim/watches/drop", self._drop)
        app.router.add_get("/kubesim/clock", self._clock)

    async def _node(self, request: web.Request) -> web.Response:
        ops = self.sim.controllers.nodes
        node, action = request.match_info["node"], request.match_info["action"]
        result: Any = {"node": node, "action": action}
        if action == "cordon":
            ops.cordon(node)
        elif action == "uncordon":
            ops.cordon(node, on=False)
        elif action == "drain":
            result.update(ops.drain(node))
        elif action == "fail":
            ops.fail(node)
        elif action == "recover":
            ops.recover(node)
        else:
            raise ApiError(404, f"unknown node action {action}")
        return _ok(result)

    async def _add_fault(self, request: web.Request) -> web.Response:
        body = await request.json()
        rule = FaultRule(
            verb=body.get("verb", "*"),
            resource=body.get("resource", "*"),
            error_rate=float(body.get("errorRate", 0)),
            code=int(body.get("code", 500)),
            retry_after_seconds=int(body.get("retryAfterSeconds", 1)),
            latency_ms=float(body.get("latencyMs", 0)),
        )
        self.sim.faults.add(rule)
        return _ok({"rules": len(self.sim.faults.rules)})

    async def _clear_faults(self, request: web.Request) -> web.Response:
        self.sim.faults.clear()
        return _ok({"rules": 0})

    async def _faults(self, request: web.Request) -> web.Response:
        return _ok({"rules": [vars(r) for r in self.sim.faults.rules]})

    async def _drop(self, request: web.Request) -> web.Response:
        abrupt = request.query.get("abrupt", "").lower() == "true"
        return _ok({"dropped": self.sim.api.drop_watches(abrupt)})

    async def _clock(self, request: web.Request) -> web.Response:
        return _ok(
            {
                "now": self.sim.clock.stamp(),
                "scale": self.sim.clock.scale,
                "elapsedSeconds": self.sim.clock.elapsed(),
            }
        )
