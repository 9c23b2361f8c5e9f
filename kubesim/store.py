"""The object store: one cluster-wide resourceVersion, a bounded event history, watchers.

Everything runs on the event loop's single thread and every operation is
synchronous, so a write and the events it emits are atomic without locks —
the same guarantee etcd's revision gives the real apiserver. The event
history is a bounded deque: a watch or a ``continue`` token whose revision has
fallen out of it gets 410 Gone, exactly the condition a reconciler must
survive against a real cluster after etcd compaction.

A stored object is never changed in place: every write stores a new tree.
So events, watch streams and the controllers' ``peek``/``items`` can share
the stored objects without copying; only what leaves for a caller that may
change it (API responses, ``get``/``find``, ``mutate``'s working copy) is
copied.

Garbage collection, foreground/orphan deletion and namespace termination run
as a pass scheduled right after a delete, so the DELETE response returns
before dependents disappear, as with the real garbage collector.
"""

from __future__ import annotations

import asyncio
import base64
import json
import re
import uuid
from collections import deque
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass, field
from typing import Any

from . import errors
from .clock import Clock
from .errors import ApiError
from .resources import BY_KEY, Resource
from .schema import load, validate
from .selectors import Predicate
from .tree import clone

Obj = dict[str, Any]

_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
FOREGROUND = "foregroundDeletion"
ORPHAN = "orphan"


@dataclass
class Event:
    rv: int
    type: str
    resource: Resource
    obj: Obj
    old: Obj | None = None


@dataclass(eq=False)
class Watcher:
    resource: Resource
    namespace: str | None
    predicate: Predicate
    queue: asyncio.Queue[Event | None] = field(default_factory=asyncio.Queue)
    abrupt: bool = False
    """Set with the ``None`` that ends the stream: reset the connection instead of ending it cleanly."""

    def offer(self, event: Event) -> None:
        """Queue the event as this watcher sees it (selector transitions become ADDED/DELETED)."""
        if event.resource is not self.resource:
            return
        ns = event.obj.get("metadata", {}).get("namespace")
        if self.namespace is not None and ns != self.namespace:
            return
        now = self.predicate(event.obj)
        before = event.old is not None and self.predicate(event.old)
        if event.type == "MODIFIED" and now != before:
            self.queue.put_nowait(Event(event.rv, "ADDED" if now else "DELETED", event.resource, event.obj))
        elif now or (event.type == "DELETED" and before):
            self.queue.put_nowait(event)


def _meta(obj: Obj) -> Obj:
    meta: Obj = obj.setdefault("metadata", {})
    return meta


def _default(res: Resource, obj: Obj) -> None:
    """The apiserver's defaulting for the built-in kinds clients rely on: a Secret's type and stringData."""
    if res.kind == "Secret":
        obj.setdefault("type", "Opaque")
        for key, value in (obj.pop("stringData", None) or {}).items():
            obj.setdefault("data", {})[key] = base64.b64encode(str(value).encode()).decode()


def _body(obj: Obj, status_sub: bool) -> Obj:
    """The part of an object whose change moves ``generation``."""
    drop = {"metadata", "status"} if status_sub else {"metadata"}
    return {k: v for k, v in obj.items() if k not in drop}


class Store:
    def __init__(self, clock: Clock, history: int, schema_dir: str, versions: dict[str, str]) -> None:
        self.clock = clock
        self.rv = 1000
        self.compacted = 0
        self.history: deque[Event] = deque(maxlen=history)
        self.objects: dict[str, dict[tuple[str, str], Obj]] = {key: {} for key in BY_KEY}
        self.uids: dict[str, tuple[Resource, str, str]] = {}
        self.watchers: set[Watcher] = set()
        self.listeners: list[Callable[[Event], None]] = []
        self._schema_dir = schema_dir
        self.versions = versions
        self._gc_scheduled = False
        self.admitters: dict[str, Callable[[str, Obj], None]] = {}
        # Sorted keys per resource, rebuilt on the next read after a key is added or removed.
        self._order: dict[str, list[tuple[str, str]]] = {}

    # ---- reads -------------------------------------------------------------------------------------------

    def get(self, res: Resource, ns: str, name: str) -> Obj:
        obj = self.objects[res.key].get((ns, name))
        if obj is None:
            raise errors.not_found(res.plural, res.group, name)
        return clone(obj)

    def find(self, res: Resource, ns: str, name: str) -> Obj | None:
        obj = self.objects[res.key].get((ns, name))
        return clone(obj) if obj is not None else None

    def peek(self, res: Resource, ns: str, name: str) -> Obj | None:
        """The live object, or None (callers must not mutate it: it is the stored one)."""
        return self.objects[res.key].get((ns, name))

    def items(self, res: Resource, ns: str | None = None) -> list[Obj]:
        """Live objects, sorted by namespace/name (callers must not mutate them)."""
        bucket = self.objects[res.key]
        order = self._order.get(res.key)
        if order is None:
            order = self._order[res.key] = sorted(bucket)
        if ns is None:
            return [bucket[k] for k in order]
        return [bucket[k] for k in order if k[0] == ns]

    def page(
        self, res: Resource, ns: str | None, pred: Predicate, limit: int = 0, token: str | None = None
    ) -> tuple[list[Obj], str, str | None]:
        start = ""
        list_rv = self.rv
        if token:
            try:
                decoded = json.loads(base64.urlsafe_b64decode(token.encode()))
                list_rv, start = int(decoded["rv"]), str(decoded["start"])
            except (ValueError, KeyError, TypeError) as exc:
                raise ApiError(400, f"continue key is not valid: {exc}") from exc
            if list_rv <= self.compacted:
                raise errors.gone(
                    "The provided continue parameter is too old to display a consistent list result. You can "
                    "start a new list without the continue parameter, or use the continue token in this "
                    "response to retrieve the remainder of the results. Continuing with the provided token "
                    "results in an inconsistent list - objects that were created, modified, or deleted "
                    "between the time the first chunk was returned and now may show up in the list."
                )
        out: list[Obj] = []
        next_token = None
        for obj in self.items(res, ns):
            meta = obj["metadata"]
            key = f"{meta.get('namespace', '')}/{meta['name']}"
            if key <= start or not pred(obj):
                continue
            if limit and len(out) >= limit:
                last = out[-1]["metadata"]
                cont = {"rv": list_rv, "start": f"{last.get('namespace', '')}/{last['name']}"}
                next_token = base64.urlsafe_b64encode(json.dumps(cont).encode()).decode()
                break
            out.append(clone(obj))
        return out, str(list_rv), next_token

    def dependents(self, uid: str) -> list[tuple[Resource, Obj]]:
        return [
            (BY_KEY[key], obj)
            for key, bucket in self.objects.items()
            for obj in bucket.values()
            if any(r.get("uid") == uid for r in obj["metadata"].get("ownerReferences") or [])
        ]

    # ---- events ------------------------------------------------------------------------------------------

    def _emit(self, etype: str, res: Resource, obj: Obj, old: Obj | None) -> None:
        if len(self.history) == self.history.maxlen:
            self.compacted = self.history[0].rv
        event = Event(self.rv, etype, res, obj, old)
        self.history.append(event)
        for watcher in list(self.watchers):
            watcher.offer(event)
        for listener in self.listeners:
            listener(event)

    def since(self, rv: int) -> Iterable[Event]:
        if rv < self.compacted:
            raise errors.gone(f"too old resource version: {rv} ({self.compacted + 1})")
        return [e for e in self.history if e.rv > rv]

    # ---- validation --------------------------------------------------------------------------------------

    def _check(
        self, res: Resource, obj: Obj, validation: str = "Warn", previous: Obj | None = None
    ) -> tuple[Obj, list[str]]:
        name = obj["metadata"].get("name", "")
        causes: list[dict[str, str]] = []
        pattern, what = (_LABEL, "RFC 1123 label") if res.plural == "namespaces" else (_SUBDOMAIN, "RFC 1123 subdomain")
        if not pattern.match(name) or len(name) > 253:
            regex = pattern.pattern.strip("^$")
            example = "'my-name',  or '123-abc'" if what.endswith("label") else "'example.com'"
            causes.append(
                {
                    "reason": "FieldValueInvalid",
                    "field": "metadata.name",
                    "message": f'Invalid value: "{name}": a lowercase {what} must consist of lower case '
                    "alphanumeric characters, '-' or '.', and must start and end with an "
                    f"alphanumeric character (e.g. {example}, regex used for validation is "
                    f"'{regex}')",
                }
            )
        warnings: list[str] = []
        if res.schema:
            family = res.schema.split(":", 1)[0]
            schema = load(self._schema_dir, res.schema, self.versions.get(family, ""))
            obj, outcome = validate(obj, schema, previous)
            causes.extend(outcome.causes)
            warnings = [f'unknown field "{p}"' for p in outcome.pruned]
        if causes:
            raise errors.invalid(res.kind, res.group, name, causes)
        if validation == "Strict" and warnings:
            raise ApiError(400, "strict decoding error: " + ", ".join(warnings))
        return obj, [] if validation == "Ignore" else warnings

    def _namespace_ok(self, res: Resource, ns: str, name: str) -> None:
        if not res.namespaced:
            return
        owner = self.objects["/namespaces"].get(("", ns))
        if owner is None:
            raise errors.not_found("namespaces", "", ns)
        if owner["metadata"].get("deletionTimestamp"):
            raise ApiError(
                403,
                f'{errors.qualified(res.plural, res.group)} "{name}" is forbidden: unable to '
                f"create new content in namespace {ns} because it is being terminated",
                details={"name": name, "group": res.group, "kind": res.plural},
            )

    # ---- writes ------------------------------------------------------------------------------------------

    def create(
        self, res: Resource, ns: str, body: Obj, dry_run: bool = False, validation: str = "Warn"
    ) -> tuple[Obj, list[str]]:
        obj = clone(body)
        meta = _meta(obj)
        admit = self.admitters.get(res.key)
        if admit is not None:
            admit(ns, obj)
        if not meta.get("name") and meta.get("generateName"):
            meta["name"] = meta["generateName"] + uuid.uuid4().hex[:5]
        if not meta.get("name"):
            raise errors.invalid(
                res.kind,
                res.group,
                "",
                [
                    {
                        "reason": "FieldValueRequired",
                        "field": "metadata.name",
                        "message": "Required value: name or generateName is required",
                    }
                ],
            )
        name = meta["name"]
        obj["apiVersion"], obj["kind"] = res.group_version, res.kind
        if res.namespaced:
            meta["namespace"] = ns
        else:
            meta.pop("namespace", None)
        if res.status_subresource and res.group:
            obj.pop("status", None)
        _default(res, obj)
        obj, warnings = self._check(res, obj, validation)
        meta = obj["metadata"]
        self._namespace_ok(res, ns, name)
        if (ns, name) in self.objects[res.key]:
            raise errors.already_exists(res.plural, res.group, name)
        for stale in ("deletionTimestamp", "deletionGracePeriodSeconds", "resourceVersion"):
            meta.pop(stale, None)
        meta["uid"] = str(uuid.uuid4())
        meta["creationTimestamp"] = self.clock.stamp()
        if res.generation:
            meta["generation"] = 1
        if res.plural == "namespaces":
            obj["spec"] = {"finalizers": ["kubernetes"]}
            obj["status"] = {"phase": "Active"}
            meta.setdefault("labels", {})["kubernetes.io/metadata.name"] = name
        if dry_run:
            return obj, warnings
        self.rv += 1
        meta["resourceVersion"] = str(self.rv)
        self.objects[res.key][(ns, name)] = obj
        self._order.pop(res.key, None)
        self.uids[meta["uid"]] = (res, ns, name)
        self._emit("ADDED", res, obj, None)
        return clone(obj), warnings

    def update(
        self,
        res: Resource,
        ns: str,
        name: str,
        body: Obj,
        subresource: str | None = None,
        dry_run: bool = False,
        validation: str = "Warn",
    ) -> tuple[Obj, list[str]]:
        obj, warnings = self._update(res, ns, name, clone(body), subresource, dry_run, validation)
        return clone(obj), warnings

    def _update(
        self,
        res: Resource,
        ns: str,
        name: str,
        obj: Obj,
        subresource: str | None = None,
        dry_run: bool = False,
        validation: str = "Warn",
    ) -> tuple[Obj, list[str]]:
        """``update`` on a body the caller hands over (it may end up stored); returns the stored object."""
        current = self.objects[res.key].get((ns, name))
        if current is None:
            raise errors.not_found(res.plural, res.group, name)
        meta = _meta(obj)
        if meta.get("name", name) != name:
            raise ApiError(400, f"the name of the object ({meta['name']}) does not match the name on the URL ({name})")
        want_rv = meta.get("resourceVersion")
        if want_rv and want_rv != current["metadata"]["resourceVersion"]:
            raise errors.conflict(res.plural, res.group, name)
        if subresource == "status":
            # Everything but status comes from the stored object; only metadata is written below, so the
            # other fields are shared with it rather than copied (stored objects are never changed).
            obj = {**current, "metadata": clone(current["metadata"]), "status": obj.get("status")}
            if obj["status"] is None:
                obj.pop("status")
        else:
            if res.status_subresource and "status" in current:
                obj["status"] = clone(current["status"])
            elif res.status_subresource:
                obj.pop("status", None)
            keep = current["metadata"]
            for fixed in (
                "uid",
                "creationTimestamp",
                "deletionTimestamp",
                "deletionGracePeriodSeconds",
                "generation",
                "namespace",
            ):
                if fixed in keep:
                    meta[fixed] = keep[fixed]
                else:
                    meta.pop(fixed, None)
            meta["name"] = name
        obj["apiVersion"], obj["kind"] = res.group_version, res.kind
        if res.plural == "namespaces" and subresource is None:
            obj["status"] = clone(current.get("status", {}))
            obj["spec"] = clone(current.get("spec", {}))
        _default(res, obj)
        obj, warnings = self._check(res, obj, validation, current)
        meta = obj["metadata"]
        meta["resourceVersion"] = current["metadata"]["resourceVersion"]
        if res.generation and _body(obj, res.status_subresource) != _body(current, res.status_subresource):
            meta["generation"] = int(current["metadata"].get("generation", 1)) + 1
        if obj == current or dry_run:
            return obj, warnings
        self.rv += 1
        meta["resourceVersion"] = str(self.rv)
        self.objects[res.key][(ns, name)] = obj
        if meta.get("deletionTimestamp") and not meta.get("finalizers") and not self._ns_pending(res, obj):
            self._remove(res, ns, name)
            return obj, warnings
        self._emit("MODIFIED", res, obj, current)
        if meta.get("deletionTimestamp"):
            self._schedule_gc()
        return obj, warnings

    def mutate(
        self,
        res: Resource,
        ns: str,
        name: str,
        change: Callable[[Obj], None],
        subresource: str | None = None,
        touches: Collection[str] | None = None,
    ) -> Obj | None:
        """Read-modify-write for simulated controllers: the stored result (not to be changed), ``None`` when gone.

        ``touches`` names the top-level fields ``change`` may modify in place: only those (and metadata,
        which the write itself fills in) are copied for it; the others are the stored object's own and
        ``change`` must leave them alone (it may still replace them). ``None`` copies the whole object.
        """
        current = self.objects[res.key].get((ns, name))
        if current is None:
            return None
        if touches is None:
            obj = clone(current)
        else:
            obj = {
                key: clone(value) if key in touches or key == "metadata" else value for key, value in current.items()
            }
        change(obj)
        if obj == current:
            return obj
        return self._update(res, ns, name, obj, subresource)[0]

    def _ns_pending(self, res: Resource, obj: Obj) -> bool:
        return res.plural == "namespaces" and bool(obj.get("spec", {}).get("finalizers"))

    def delete(
        self,
        res: Resource,
        ns: str,
        name: str,
        propagation: str | None = None,
        precondition_uid: str | None = None,
        precondition_rv: str | None = None,
        dry_run: bool = False,
    ) -> tuple[Obj, bool]:
        """Delete or start deleting; returns the object and whether it is gone already."""
        current = self.objects[res.key].get((ns, name))
        if current is None:
            raise errors.not_found(res.plural, res.group, name)
        meta = current["metadata"]
        if precondition_uid and precondition_uid != meta["uid"]:
            raise ApiError(
                409,
                f"Precondition failed: UID in precondition: {precondition_uid}, UID in object meta: {meta['uid']}",
                details={"name": name, "group": res.group, "kind": res.plural},
            )
        if precondition_rv and precondition_rv != meta["resourceVersion"]:
            raise errors.conflict(res.plural, res.group, name)
        if dry_run:
            return clone(current), False
        finalizers = list(meta.get("finalizers") or [])
        if propagation == "Foreground" and self.dependents(meta["uid"]) and FOREGROUND not in finalizers:
            finalizers.append(FOREGROUND)
        if propagation == "Orphan" and ORPHAN not in finalizers:
            finalizers.append(ORPHAN)
        if not finalizers and not self._ns_pending(res, current):
            return clone(self._remove(res, ns, name)), True
        if meta.get("deletionTimestamp") and finalizers == meta.get("finalizers"):
            return clone(current), False
        obj = clone(current)
        obj["metadata"]["finalizers"] = finalizers
        obj["metadata"].setdefault("deletionTimestamp", self.clock.stamp())
        obj["metadata"].setdefault("deletionGracePeriodSeconds", 0)
        if res.plural == "namespaces":
            obj["status"] = {"phase": "Terminating"}
        self.rv += 1
        obj["metadata"]["resourceVersion"] = str(self.rv)
        self.objects[res.key][(ns, name)] = obj
        self._emit("MODIFIED", res, obj, current)
        self._schedule_gc()
        return clone(obj), False

    def _remove(self, res: Resource, ns: str, name: str) -> Obj:
        obj = self.objects[res.key].pop((ns, name))
        self._order.pop(res.key, None)
        self.uids.pop(obj["metadata"]["uid"], None)
        self.rv += 1
        obj = clone(obj)
        obj["metadata"]["resourceVersion"] = str(self.rv)
        self._emit("DELETED", res, obj, obj)
        self._schedule_gc()
        return obj

    # ---- garbage collection ------------------------------------------------------------------------------

    def _schedule_gc(self) -> None:
        if not self._gc_scheduled:
            self._gc_scheduled = True
            asyncio.get_running_loop().call_soon(self._collect)

    def _drop_finalizer(self, res: Resource, obj: Obj, finalizer: str) -> None:
        meta = obj["metadata"]

        def change(o: Obj) -> None:
            o["metadata"]["finalizers"] = [f for f in o["metadata"].get("finalizers", []) if f != finalizer]

        self.mutate(res, meta.get("namespace", ""), meta["name"], change)

    def _collect(self) -> None:
        self._gc_scheduled = False
        for key, bucket in self.objects.items():
            res = BY_KEY[key]
            for key_ in list(bucket):
                live = bucket.get(key_)
                if live is None:
                    continue
                obj, meta, ns = live, live["metadata"], key_[0]
                refs = meta.get("ownerReferences") or []
                if refs and not any(r.get("uid") in self.uids for r in refs) and not meta.get("deletionTimestamp"):
                    self.delete(res, ns, meta["name"], "Background")
                    continue
                if not meta.get("deletionTimestamp"):
                    continue
                finalizers = meta.get("finalizers") or []
                if ORPHAN in finalizers:
                    self._orphan(meta["uid"])
                    self._drop_finalizer(res, obj, ORPHAN)
                elif FOREGROUND in finalizers:
                    self._foreground(res, obj)
                if res.plural == "namespaces":
                    self._terminate_namespace(obj)

    def _orphan(self, uid: str) -> None:
        for dep_res, dep in self.dependents(uid):

            def change(o: Obj) -> None:
                refs = [r for r in o["metadata"].get("ownerReferences", []) if r.get("uid") != uid]
                if refs:
                    o["metadata"]["ownerReferences"] = refs
                else:
                    o["metadata"].pop("ownerReferences", None)

            self.mutate(dep_res, dep["metadata"].get("namespace", ""), dep["metadata"]["name"], change)

    def _foreground(self, res: Resource, obj: Obj) -> None:
        uid = obj["metadata"]["uid"]
        blocking = False
        for dep_res, dep in self.dependents(uid):
            dmeta = dep["metadata"]
            if any(r.get("uid") == uid and r.get("blockOwnerDeletion") for r in dmeta["ownerReferences"]):
                blocking = True
            if not dmeta.get("deletionTimestamp"):
                self.delete(dep_res, dmeta.get("namespace", ""), dmeta["name"], "Foreground")
        if not blocking:
            self._drop_finalizer(res, obj, FOREGROUND)

    def _terminate_namespace(self, ns_obj: Obj) -> None:
        ns = ns_obj["metadata"]["name"]
        remaining = False
        for key in self.objects:
            res = BY_KEY[key]
            if not res.namespaced:
                continue
            for obj in self.items(res, ns):
                remaining = True
                if not obj["metadata"].get("deletionTimestamp"):
                    self.delete(res, ns, obj["metadata"]["name"], "Background")
        if not remaining and (ns_obj.get("spec") or {}).get("finalizers"):
            current = self.objects["/namespaces"].get(("", ns))
            if current is None:
                return
            obj = clone(current)
            obj["spec"]["finalizers"] = []
            self.rv += 1
            obj["metadata"]["resourceVersion"] = str(self.rv)
            self.objects["/namespaces"][("", ns)] = obj
            if not obj["metadata"].get("finalizers"):
                self._remove(BY_KEY["/namespaces"], "", ns)
            else:
                self._emit("MODIFIED", BY_KEY["/namespaces"], obj, current)
