"""REST for every RPC, derived from the contract's google.api.http rules.

There is no handler per method: one aiohttp catch-all hands each request to
a dispatcher that tries the compiled templates registered for its HTTP
method, so routing, 404 and 405 follow the contract alone and share the
error body of every other failure. Descriptors come from the default pool,
where the generated modules that the servicers subclass registered them.
"""

from __future__ import annotations

import importlib
import json
import pkgutil
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass

from aiohttp import web
from aiohttp.typedefs import Middleware
from google.protobuf import descriptor_pool, message_factory
from google.protobuf.descriptor import ServiceDescriptor

from server.api.rest.endpoints import DocumentEndpoint, Endpoint, rpc_endpoint
from server.api.rest.http_rules import HttpBinding, http_bindings
from server.api.rest.openapi import openapi_document
from server.api.rest.path_template import PathTemplate
from server.api.rest.request_mapping import RequestBinding
from server.api.rest.responses import MethodNotAllowed, UnknownPath, error_response

DEFAULT_MAX_BODY_BYTES = 4 * 1024 * 1024
OPENAPI_PATH = "/openapi.json"
# Importing the contract registers its services in the default pool: a servicer's
# *_pb2_grpc module does not import its *_pb2 when the RPCs use only foreign messages.
CONTRACT_MODULES = tuple(
    importlib.import_module(f"harrow.v1.{module.name}")
    for module in pkgutil.iter_modules(importlib.import_module("harrow.v1").__path__)
    if module.name.endswith("_pb2")
)


# The RPC a request was routed to ("harrow.v1.Service/Method"), for middlewares that label by method.
RPC_METHOD = web.RequestKey("rpc_method", str)


@dataclass(frozen=True)
class Route:
    http_method: str
    template: PathTemplate
    endpoint: Endpoint
    rpc: str


class Dispatcher:
    def __init__(self, routes: Sequence[Route]) -> None:
        self._routes = tuple(routes)
        self._by_method: dict[str, tuple[Route, ...]] = {}
        for route in self._routes:
            self._by_method[route.http_method] = (*self._by_method.get(route.http_method, ()), route)

    async def handle(self, request: web.Request) -> web.StreamResponse:
        raw_path = request.rel_url.raw_path
        for route in self._by_method.get(request.method, ()):
            values = route.template.match(raw_path)
            if values is not None:
                request[RPC_METHOD] = route.rpc
                return await route.endpoint(request, values)
        allowed = sorted({r.http_method for r in self._routes if r.template.regex.fullmatch(raw_path)})
        if allowed:
            error: Exception = MethodNotAllowed(f"{request.method} is not allowed on {request.path}")
            return error_response(error, "routing", headers={"Allow": ", ".join(allowed)})
        return error_response(UnknownPath(f"no API method at {request.path}"), "routing")


def build_rest_app(
    servicers: Mapping[str, object],
    *,
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
    middlewares: Sequence[Middleware] = (),
    extra_routes: Sequence[web.RouteDef] = (),
) -> web.Application:
    """An app serving every RPC of `servicers` (full service name → servicer) plus GET /openapi.json.

    `middlewares` wrap everything (outermost first); `extra_routes` (operational endpoints such as
    /metrics) take precedence over the API's catch-all.
    """
    bindings = http_bindings(_service_descriptors(servicers))
    routes = [_route(binding, servicers, max_body_bytes) for binding in bindings]
    document = json.dumps(openapi_document(bindings)).encode()
    routes.append(Route("GET", PathTemplate.parse(OPENAPI_PATH), DocumentEndpoint(document), "openapi"))
    app = web.Application(client_max_size=max_body_bytes, middlewares=[*middlewares, _unrouted_as_json])
    app.add_routes(extra_routes)
    app.router.add_route("*", "/{path:.*}", Dispatcher(routes).handle)
    return app


@web.middleware
async def _unrouted_as_json(
    request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
) -> web.StreamResponse:
    """Paths aiohttp's router itself refuses (e.g. a segment holding a newline) get the API's error body too."""
    try:
        return await handler(request)
    except web.HTTPNotFound:
        return error_response(UnknownPath(f"no API method at {request.path!r}"), "routing")


def _service_descriptors(servicers: Mapping[str, object]) -> list[ServiceDescriptor]:
    pool = descriptor_pool.Default()
    services = []
    for name in servicers:
        try:
            services.append(pool.FindServiceByName(name))
        except KeyError:
            raise ValueError(f"unknown service {name!r}: is its generated module imported?") from None
    return services


def _route(binding: HttpBinding, servicers: Mapping[str, object], max_body_bytes: int) -> Route:
    method = binding.method
    request_mapping = RequestBinding(
        message_factory.GetMessageClass(method.input_type), binding.path_fields, binding.body
    )
    endpoint = rpc_endpoint(
        binding.full_method,
        request_mapping,
        max_body_bytes,
        servicers[method.containing_service.full_name],
        method.name,
        method.server_streaming,
    )
    return Route(binding.http_method, binding.template, endpoint, binding.full_method.lstrip("/"))
