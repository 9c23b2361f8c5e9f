"""Optional API groups and kinds: a cluster without an add-on does not serve them at all.

The resource table (``resources.py``) is shared by every simulated cluster, so
a kind only some clusters have (HCO's HyperConverged, behind
``KubeSimConfig.hco``) is hidden here, per cluster, in front of the handlers:
discovery leaves the group out and every request under it gets the 404 a real
apiserver gives for a CRD that is not installed. A client that asks discovery
whether the group is served (as Harrow's reconciler does) then sees what it
would see on a real cluster without the add-on. Harvester's kinds share the
``harvesterhci.io`` group with the settings every simulated cluster serves, so
they are hidden one by one (``OPTIONAL_RESOURCES``).
"""

from __future__ import annotations

from aiohttp import web
from aiohttp.typedefs import Middleware

from . import discovery
from .api import Handler, dump
from .config import KubeSimConfig
from .errors import ApiError

# API group -> the KubeSimConfig switch that serves it.
OPTIONAL_GROUPS = {"hco.kubevirt.io": "hco"}
# (API group, plural) -> the KubeSimConfig switch that serves it.
OPTIONAL_RESOURCES = {
    ("harvesterhci.io", "virtualmachinebackups"): "harvester",
    ("harvesterhci.io", "virtualmachineimages"): "harvester",
}
NOT_FOUND = "the server could not find the requested resource"


def hidden_groups(config: KubeSimConfig) -> frozenset[str]:
    return frozenset(group for group, switch in OPTIONAL_GROUPS.items() if not getattr(config, switch))


def hidden_resources(config: KubeSimConfig) -> frozenset[tuple[str, str]]:
    return frozenset(key for key, switch in OPTIONAL_RESOURCES.items() if not getattr(config, switch))


def install(app: web.Application, config: KubeSimConfig) -> None:
    """Add the middleware hiding what `config` does not serve (innermost, so requests are authenticated)."""
    hidden, hidden_kinds = hidden_groups(config), hidden_resources(config)
    if hidden or hidden_kinds:
        app.middlewares.append(_middleware(hidden, hidden_kinds))


def _middleware(hidden: frozenset[str], hidden_kinds: frozenset[tuple[str, str]]) -> Middleware:
    @web.middleware
    async def hide(request: web.Request, handler: Handler) -> web.StreamResponse:
        parts = [part for part in request.path.split("/") if part]
        if parts == ["apis"]:
            listing = discovery.groups()
            listing["groups"] = [group for group in listing["groups"] if group["name"] not in hidden]
            return web.Response(body=dump(listing), content_type="application/json")
        if parts == ["openapi", "v3"]:
            index = discovery.openapi_v3_index()
            index["paths"] = {path: ref for path, ref in index["paths"].items() if _group(path) not in hidden}
            return web.Response(body=dump(index), content_type="application/json")
        if _group("/".join(parts[2:] if parts[:2] == ["openapi", "v3"] else parts)) in hidden:
            raise ApiError(404, NOT_FOUND)
        if parts[:1] == ["apis"] and len(parts) == 3:
            kinds = discovery.resources(parts[1], parts[2])
            if kinds is not None and any(group == parts[1] for group, _ in hidden_kinds):
                kinds["resources"] = [r for r in kinds["resources"] if _kind(parts[1], r) not in hidden_kinds]
                return web.Response(body=dump(kinds), content_type="application/json")
        if parts[:1] == ["apis"] and len(parts) > 3 and _plural(parts) in hidden_kinds:
            raise ApiError(404, NOT_FOUND)
        return await handler(request)

    return hide


def _group(path: str) -> str:
    """The API group of `apis/{group}/...` (also the form of OpenAPI index keys); "" for anything else."""
    parts = path.split("/")
    return parts[1] if parts[0] == "apis" and len(parts) > 1 else ""


def _kind(group: str, entry: dict[str, object]) -> tuple[str, str]:
    """The (group, plural) of an APIResourceList entry; a subresource ("x/status") belongs to its kind."""
    return group, str(entry["name"]).split("/")[0]


def _plural(parts: list[str]) -> tuple[str, str]:
    """The (group, plural) of `apis/{group}/{version}/[namespaces/{ns}/]{plural}/...`."""
    rest = parts[3:]
    if rest[:1] == ["namespaces"] and len(rest) > 2:
        rest = rest[2:]
    return parts[1], rest[0]
