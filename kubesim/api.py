"""The Kubernetes REST surface over the store, as one aiohttp application.

Paths are parsed by hand from two catch-all routes (``/api/...`` and
``/apis/...``) because the same URL shape means different things depending on
the resource table (``/api/v1/namespaces/x/status`` is a namespace status,
``/api/v1/namespaces/x/pods`` a collection). Every failure leaves through one
middleware as a ``metav1.Status``; watches stream newline-delimited JSON
events exactly as the real server does, including the in-band 410 ERROR
event a client gets for a compacted resourceVersion.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import yaml
from aiohttp import web
from multidict import CIMultiDict

from . import discovery, errors, protobuf
from .errors import ApiError
from .faults import Faults
from .patch import json_patch, merge_patch
from .rbac import Attributes, Rbac, User
from .resources import Resource, lookup
from .selectors import field_selector, label_selector
from .store import Event, Store, Watcher
from .tables import Printer, wants_table

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
SubresourceHandler = Callable[[str, str, dict[str, Any]], Awaitable[None]]
VerbHandler = Callable[[web.Request, "Target"], Awaitable[web.StreamResponse]]

PUBLIC = ("/version", "/version/", "/healthz", "/livez", "/readyz")
USER = web.RequestKey("user", User)


@dataclass
class Target:
    """A parsed resource URL."""

    group: str
    version: str
    res: Resource | None
    plural: str
    namespace: str
    name: str
    sub: str | None


WATCH_BATCH = 64
"""At most this many watch events per write, so one slow burst does not build an unbounded buffer."""


def dump(obj: Any) -> bytes:
    return json.dumps(obj, separators=(",", ":")).encode()


def _json(obj: Any, status: int = 200, warnings: list[str] | None = None) -> web.Response:
    headers: CIMultiDict[str] = CIMultiDict()
    for w in warnings or []:
        headers.add("Warning", f"299 - {json.dumps(w)}")
    return web.Response(body=dump(obj), status=status, content_type="application/json", headers=headers)


def status_success(res: Resource, name: str, uid: str) -> dict[str, Any]:
    return {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Success",
        "details": {"name": name, "group": res.group, "kind": res.plural, "uid": uid},
    }


class Api:
    def __init__(
        self,
        store: Store,
        rbac: Rbac,
        faults: Faults,
        kubernetes_version: str,
        bookmark_seconds: float,
        printer: Printer,
    ) -> None:
        self.store = store
        self.printer = printer
        self.rbac = rbac
        self.faults = faults
        self.kubernetes_version = kubernetes_version
        self.bookmark_seconds = bookmark_seconds
        self.subresources: dict[tuple[str, str], SubresourceHandler] = {}
        self.open_watches: set[web.StreamResponse] = set()
        self._verbs: dict[str, VerbHandler] = {
            "get": self._get,
            "list": self._list,
            "watch": self._watch,
            "create": self._create,
            "update": self._update,
            "patch": self._patch,
            "delete": self._delete,
            "deletecollection": self._deletecollection,
        }

    # ---- application -------------------------------------------------------------------------------------

    def app(self, extra: Callable[[web.Application], None] | None = None) -> web.Application:
        app = web.Application(middlewares=[self._errors, self._auth], client_max_size=32 * 1024 * 1024)
        app.router.add_get("/version", self._version)
        app.router.add_get("/version/", self._version)
        for probe in ("/healthz", "/livez", "/readyz"):
            app.router.add_get(probe, self._ok)
        app.router.add_get("/api", self._core)
        app.router.add_get("/apis", self._grouped)
        app.router.add_get("/openapi/v3", self._openapi)
        app.router.add_get("/openapi/v3/{tail:.*}", self._openapi)
        app.router.add_route("*", "/api/{tail:.*}", self._core)
        app.router.add_route("*", "/apis/{tail:.*}", self._grouped)
        if extra:
            extra(app)
        return app

    @web.middleware
    async def _errors(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        try:
            return await handler(request)
        except ApiError as exc:
            resp = _json(exc.status(), exc.code)
            resp.headers.update(exc.headers)
            return resp

    @web.middleware
    async def _auth(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.path in PUBLIC:
            return await handler(request)
        user = self.rbac.authenticate(request.headers.get("Authorization"))
        if user is None:
            raise ApiError(401, "Unauthorized")
        if request.path.startswith("/kubesim/") and not user.admin:
            raise ApiError(403, f'User "{user.name}" cannot use the kubesim admin API')
        request[USER] = user
        return await handler(request)

    async def _version(self, request: web.Request) -> web.Response:
        return _json(discovery.version(self.kubernetes_version))

    async def _ok(self, request: web.Request) -> web.Response:
        return web.Response(text="ok")

    async def _openapi(self, request: web.Request) -> web.Response:
        segs = [s for s in request.match_info.get("tail", "").split("/") if s]
        if not segs:
            return _json(discovery.openapi_v3_index())
        doc = (
            discovery.openapi_v3("", "v1")
            if segs == ["api", "v1"]
            else (discovery.openapi_v3(segs[1], segs[2]) if len(segs) == 3 and segs[0] == "apis" else None)
        )
        if doc is None:
            raise ApiError(404, "the server could not find the requested resource")
        return _json(doc)

    # ---- routing -----------------------------------------------------------------------------------------

    async def _core(self, request: web.Request) -> web.StreamResponse:
        segs = [s for s in request.match_info.get("tail", "").split("/") if s]
        if not segs:
            return _json(discovery.core_versions())
        return await self._route(request, "", segs[0], segs[1:])

    async def _grouped(self, request: web.Request) -> web.StreamResponse:
        segs = [s for s in request.match_info.get("tail", "").split("/") if s]
        if not segs:
            return _json(discovery.groups())
        if len(segs) == 1:
            doc = discovery.group(segs[0])
            if doc is None:
                raise ApiError(404, "the server could not find the requested resource")
            return _json(doc)
        if len(segs) < 2:
            raise ApiError(404, "the server could not find the requested resource")
        return await self._route(request, segs[0], segs[1], segs[2:])

    async def _route(self, request: web.Request, group: str, ver: str, segs: list[str]) -> web.StreamResponse:
        if not segs:
            doc = discovery.resources(group, ver)
            if doc is None:
                raise ApiError(404, "the server could not find the requested resource")
            return _json(doc)
        target = self._parse(group, ver, segs)
        if group == "subresources.kubevirt.io":
            return await self._kubevirt_subresource(request, target)
        if (group, target.plural, target.sub, request.method) == ("", "serviceaccounts", "token", "POST"):
            return await self._token_request(request, target)
        if target.res is None:
            raise ApiError(404, "the server could not find the requested resource")
        verb = self._verb(request, target)
        self._authorize(request, verb, target)
        delay = self.faults.latency(verb, target.plural)
        if delay:
            await asyncio.sleep(delay)
        self.faults.check(verb, target.plural)
        return await self._verbs[verb](request, target)

    def _parse(self, group: str, ver: str, segs: list[str]) -> Target:
        ns = ""
        if segs[0] == "namespaces" and len(segs) >= 3:
            candidate = lookup(group, ver, segs[2])
            if group == "subresources.kubevirt.io" or (candidate is not None and candidate.namespaced):
                ns, segs = segs[1], segs[2:]
        plural = segs[0]
        res = lookup(group, ver, plural)
        name = segs[1] if len(segs) > 1 else ""
        sub = segs[2] if len(segs) > 2 else None
        if res is not None and (len(segs) > 3 or (sub and not (sub == "status" and res.status_subresource))):
            res = None
        if res is not None and res.namespaced and not ns and name:
            res = None
        return Target(group, ver, res, plural, ns, name, sub)

    def _authorize(self, request: web.Request, verb: str, t: Target) -> None:
        attributes = Attributes(verb, t.group, t.plural, t.sub or "", t.namespace, t.name)
        self.rbac.authorize(request[USER], attributes)

    async def _token_request(self, request: web.Request, t: Target) -> web.Response:
        """TokenRequest (``kubectl create token NAME``): a bearer token for a service account.

        The request's spec (audiences, expiry; kubectl sends it as protobuf) is not read: kubesim's tokens
        live as long as their ServiceAccount.
        """
        self._authorize(request, "create", t)
        token = self.rbac.mint(t.namespace, t.name)
        review = {
            "kind": "TokenRequest",
            "apiVersion": "authentication.k8s.io/v1",
            "metadata": {"name": t.name, "namespace": t.namespace},
            "spec": {},
            "status": {"token": token, "expirationTimestamp": "2099-01-01T00:00:00Z"},
        }
        return _json(review, 201)

    @staticmethod
    def _verb(request: web.Request, t: Target) -> str:
        method = request.method
        if method == "GET":
            if request.query.get("watch", "").lower() in ("true", "1"):
                return "watch"
            return "get" if t.name else "list"
        if method == "POST" and not t.name:
            return "create"
        if method == "PUT" and t.name:
            return "update"
        if method == "PATCH" and t.name:
            return "patch"
        if method == "DELETE":
            return "delete" if t.name else "deletecollection"
        raise ApiError(405, f"the server does not allow this method on the requested resource ({method})")

    # ---- bodies ------------------------------------------------------------------------------------------

    @staticmethod
    async def _body(request: web.Request) -> Any:
        raw = await request.read()
        if not raw:
            return None
        if request.content_type == "application/vnd.kubernetes.protobuf":
            return protobuf.decode(raw, request.content_type)
        try:
            if "yaml" in request.content_type:
                return yaml.safe_load(raw)
            return json.loads(raw)
        except (ValueError, yaml.YAMLError) as exc:
            raise ApiError(400, f"the object provided is unrecognized or malformed: {exc}") from exc

    @staticmethod
    def _check_kind(body: Any, t: Target) -> dict[str, Any]:
        assert t.res is not None
        if not isinstance(body, dict):
            raise ApiError(400, "the body of the request was in an unknown format")
        api_version = body.get("apiVersion")
        if api_version and api_version != t.res.group_version:
            raise ApiError(
                400,
                f"the API version in the data ({api_version}) does not match the expected API "
                f"version ({t.res.group_version})",
            )
        if body.get("kind") and body["kind"] != t.res.kind:
            raise ApiError(
                400, f"the kind in the data ({body['kind']}) does not match the expected kind ({t.res.kind})"
            )
        ns = (body.get("metadata") or {}).get("namespace")
        if t.res.namespaced and ns and ns != t.namespace:
            raise ApiError(400, "the namespace of the provided object does not match the namespace sent on the request")
        return body

    @staticmethod
    def _validation(request: web.Request) -> str:
        mode = request.query.get("fieldValidation", "Warn")
        if mode not in ("Ignore", "Warn", "Strict"):
            raise ApiError(400, f"fieldValidation parameter unsupported: {mode}")
        return mode

    @staticmethod
    def _dry(request: web.Request) -> bool:
        return request.query.get("dryRun") == "All"

    # ---- verbs -------------------------------------------------------------------------------------------

    def _as_table(self, request: web.Request, res: Resource, items: list[dict[str, Any]], meta: dict[str, Any]) -> Any:
        """A Table when the client asked for one (``kubectl get``), else None."""
        version = wants_table(request.headers.get("Accept", ""))
        if version is None:
            return None
        include = request.query.get("includeObject", "Metadata")
        return self.printer.table(res, items, meta, version, include)

    async def _get(self, request: web.Request, t: Target) -> web.Response:
        assert t.res is not None
        obj = self.store.get(t.res, t.namespace, t.name)
        table = self._as_table(request, t.res, [obj], {"resourceVersion": obj["metadata"]["resourceVersion"]})
        return _json(obj if table is None else table)

    def _predicate(self, request: web.Request, t: Target) -> Any:
        labels = label_selector(request.query.get("labelSelector"))
        allowed = {"metadata.name", "metadata.namespace"}
        if t.res is not None and t.res.plural in ("pods", "events"):
            allowed |= {
                "spec.nodeName",
                "status.phase",
                "involvedObject.name",
                "involvedObject.kind",
                "involvedObject.namespace",
                "involvedObject.uid",
            }
        fields = field_selector(request.query.get("fieldSelector"), allowed)
        return lambda obj: labels(obj) and fields(obj)

    async def _list(self, request: web.Request, t: Target) -> web.Response:
        assert t.res is not None
        limit = int(request.query.get("limit", "0") or 0)
        items, rv, token = self.store.page(
            t.res, t.namespace or None, self._predicate(request, t), limit, request.query.get("continue")
        )
        meta: dict[str, Any] = {"resourceVersion": rv}
        if token:
            meta["continue"] = token
        table = self._as_table(request, t.res, items, meta)
        if table is not None:
            return _json(table)
        return _json({"kind": f"{t.res.kind}List", "apiVersion": t.res.group_version, "metadata": meta, "items": items})

    async def _create(self, request: web.Request, t: Target) -> web.Response:
        assert t.res is not None
        body = self._check_kind(await self._body(request), t)
        if t.sub is not None:
            raise ApiError(405, "create is not allowed on a subresource")
        obj, warnings = self.store.create(t.res, t.namespace, body, self._dry(request), self._validation(request))
        return _json(obj, 201, warnings)

    async def _update(self, request: web.Request, t: Target) -> web.Response:
        assert t.res is not None
        body = self._check_kind(await self._body(request), t)
        obj, warnings = self.store.update(
            t.res, t.namespace, t.name, body, t.sub, self._dry(request), self._validation(request)
        )
        return _json(obj, 200, warnings)

    async def _patch(self, request: web.Request, t: Target) -> web.Response:
        assert t.res is not None
        ctype = request.content_type
        patch = await self._body(request)
        current = self.store.find(t.res, t.namespace, t.name)
        if current is None:
            if ctype == "application/apply-patch+yaml":
                obj, warnings = self.store.create(
                    t.res,
                    t.namespace,
                    self._check_kind(patch, t),
                    self._dry(request),
                    self._validation(request),
                )
                return _json(obj, 201, warnings)
            raise errors.not_found(t.res.plural, t.res.group, t.name)
        if ctype == "application/json-patch+json":
            new = json_patch(current, patch)
        elif ctype in (
            "application/merge-patch+json",
            "application/strategic-merge-patch+json",
            "application/apply-patch+yaml",
        ):
            if not isinstance(patch, dict):
                raise ApiError(400, "merge patch body must be a JSON object")
            new = merge_patch(current, patch)
        else:
            raise ApiError(
                415,
                f"the body of the request was in an unknown format - accepted media types "
                f"include: application/json-patch+json, application/merge-patch+json, "
                f"application/apply-patch+yaml (got {ctype})",
            )
        if not isinstance(new, dict):
            raise ApiError(422, "patch result is not an object")
        meta = new.setdefault("metadata", {})
        patched_rv = (
            ((patch or {}).get("metadata") or {}).get("resourceVersion")
            if isinstance(patch, dict)
            else meta.get("resourceVersion")
        )
        meta["resourceVersion"] = patched_rv or current["metadata"]["resourceVersion"]
        obj, warnings = self.store.update(
            t.res,
            t.namespace,
            t.name,
            self._check_kind(new, t),
            t.sub,
            self._dry(request),
            self._validation(request),
        )
        return _json(obj, 200, warnings)

    async def _delete_options(self, request: web.Request) -> dict[str, Any]:
        body = await self._body(request) if request.can_read_body else None
        opts: dict[str, Any] = dict(body) if isinstance(body, dict) else {}
        if "propagationPolicy" in request.query:
            opts["propagationPolicy"] = request.query["propagationPolicy"]
        if request.query.get("orphanDependents") == "true" or opts.get("orphanDependents") is True:
            opts.setdefault("propagationPolicy", "Orphan")
        return opts

    async def _delete(self, request: web.Request, t: Target) -> web.Response:
        assert t.res is not None
        opts = await self._delete_options(request)
        pre = opts.get("preconditions") or {}
        obj, gone = self.store.delete(
            t.res,
            t.namespace,
            t.name,
            opts.get("propagationPolicy"),
            pre.get("uid"),
            pre.get("resourceVersion"),
            self._dry(request) or "All" in (opts.get("dryRun") or []),
        )
        if gone:
            return _json(status_success(t.res, t.name, obj["metadata"]["uid"]))
        return _json(obj)

    async def _deletecollection(self, request: web.Request, t: Target) -> web.Response:
        assert t.res is not None
        opts = await self._delete_options(request)
        items, _, _ = self.store.page(t.res, t.namespace or None, self._predicate(request, t))
        for obj in items:
            meta = obj["metadata"]
            if self.store.find(t.res, meta.get("namespace", ""), meta["name"]) is not None:
                self.store.delete(t.res, meta.get("namespace", ""), meta["name"], opts.get("propagationPolicy"))
        return _json({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success"})

    # ---- watch -------------------------------------------------------------------------------------------

    async def _watch(self, request: web.Request, t: Target) -> web.StreamResponse:
        assert t.res is not None
        pred = self._predicate(request, t)
        if t.name:
            name, base = t.name, pred
            pred = lambda obj: obj["metadata"]["name"] == name and base(obj)  # noqa: E731
        watcher = Watcher(t.res, t.namespace or None, pred)
        rv = request.query.get("resourceVersion", "")
        expired: ApiError | None = None
        if rv in ("", "0"):
            for obj in self.store.items(t.res, t.namespace or None):
                if pred(obj):
                    watcher.queue.put_nowait(Event(int(obj["metadata"]["resourceVersion"]), "ADDED", t.res, obj))
        else:
            try:
                for event in self.store.since(int(rv)):
                    watcher.offer(event)
            except ApiError as exc:
                expired = exc
            except ValueError as exc:
                raise ApiError(400, f"invalid resource version: {rv}") from exc
        resp = web.StreamResponse(headers={"Content-Type": "application/json"})
        resp.enable_chunked_encoding()
        await resp.prepare(request)
        if expired is not None:
            await resp.write(dump({"type": "ERROR", "object": expired.status()}) + b"\n")
            return resp
        self.store.watchers.add(watcher)
        self.open_watches.add(resp)
        try:
            await self._stream(request, resp, watcher, t.res)
        except (ConnectionResetError, asyncio.CancelledError):
            pass
        finally:
            self.store.watchers.discard(watcher)
            self.open_watches.discard(resp)
        return resp

    async def _stream(self, request: web.Request, resp: web.StreamResponse, watcher: Watcher, res: Resource) -> None:
        loop = asyncio.get_running_loop()
        timeout = request.query.get("timeoutSeconds")
        deadline = loop.time() + float(timeout) if timeout else None
        bookmarks = request.query.get("allowWatchBookmarks", "").lower() == "true"
        while True:
            wait = self.bookmark_seconds if bookmarks else None
            if deadline is not None:
                left = deadline - loop.time()
                if left <= 0:
                    return
                wait = min(wait, left) if wait is not None else left
            event: Event | None
            if not watcher.queue.empty():
                # wait_for costs a task per call: only pay it when there is something to wait for.
                event = watcher.queue.get_nowait()
            else:
                try:
                    event = await asyncio.wait_for(watcher.queue.get(), wait)
                except TimeoutError:
                    if bookmarks and watcher.queue.empty():
                        mark = {
                            "kind": res.kind,
                            "apiVersion": res.group_version,
                            "metadata": {"resourceVersion": str(self.store.rv)},
                        }
                        await resp.write(dump({"type": "BOOKMARK", "object": mark}) + b"\n")
                    continue
            # Events already queued go out in one write: the same lines, far fewer chunks and TLS records
            # when a burst of writes has queued many (clients read lines, not chunks).
            lines: list[bytes] = []
            while event is not None:
                obj = self._as_table(request, res, [event.obj], {"resourceVersion": str(event.rv)}) or event.obj
                lines.append(dump({"type": event.type, "object": obj}) + b"\n")
                if watcher.queue.empty() or len(lines) >= WATCH_BATCH:
                    break
                event = watcher.queue.get_nowait()
            if lines:
                await resp.write(b"".join(lines))
            if event is None:
                if watcher.abrupt and request.transport is not None:
                    request.transport.close()
                return

    def drop_watches(self, abrupt: bool = False) -> int:
        """End every open watch: cleanly, as the apiserver does at its request timeout, or by a connection reset."""
        watchers = list(self.store.watchers)
        for watcher in watchers:
            watcher.abrupt = abrupt
            watcher.queue.put_nowait(None)
        return len(watchers)

    # ---- kubevirt subresources ---------------------------------------------------------------------------

    async def _kubevirt_subresource(self, request: web.Request, t: Target) -> web.Response:
        if request.method != "PUT" or not t.name or not t.sub:
            raise ApiError(404, "the server could not find the requested resource")
        handler = self.subresources.get((t.plural, t.sub))
        if handler is None:
            raise ApiError(404, "the server could not find the requested resource")
        self._authorize(request, "update", t)
        self.faults.check("update", f"{t.plural}/{t.sub}")
        body = await self._body(request) if request.can_read_body else None
        await handler(t.namespace, t.name, body if isinstance(body, dict) else {})
        return web.Response(status=202)
