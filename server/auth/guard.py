"""One wrapper around every servicer method: authenticate, authorize, audit, for gRPC and REST alike.

Both transports are handed the guarded servicers, so there is no path to a
servicer that skips this. The order is fixed: who is calling (UNAUTHENTICATED),
then whether they may act on the scope the request names (PERMISSION_DENIED),
and only then the service, which is the first to look at whether the
resource exists. A denial therefore says nothing about existence. The one
exception needs a lookup before deciding: an operation's scope is its
target's, and an operation that does not exist has the installation's scope,
so outsiders are denied whether or not it exists.

Between authentication and authorization the caller's request rate is charged
(RESOURCE_EXHAUSTED with a retry delay when over it), and a Watch holds one of
its principal's stream slots while open (server.auth.limits: per principal,
per replica, only when authenticating). An admitted request carrying a NUL
character in any string is refused here too (server.auth.text_fields), for
both transports at once.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import uuid
from collections.abc import AsyncIterator, Callable, Mapping
from typing import Any

from google.protobuf import descriptor_pool
from google.protobuf.message import Message
from sqlalchemy import select

from server.auth import audit, context
from server.auth.credentials import CallContext, authenticate
from server.auth.limits import Limits
from server.auth.policy import ANY_NAMESPACE, INSTALLATION, Scope, scope_of
from server.auth.rules import RULES, Rule
from server.auth.text_fields import nul_violations
from server.config import LimitsConfig, limits_from_environment
from server.domain.errors import HarrowError, InvalidArgument, PermissionDenied
from storage.db import Database
from storage.models import OperationRow

log = logging.getLogger(__name__)

_OPERATION_PREFIX = "operations/"


class Guard:
    def __init__(self, db: Database, *, authenticate_calls: bool, limits: LimitsConfig | Limits | None = None):
        """`limits` None reads the HARROW_RATE_LIMIT_* / HARROW_MAX_WATCHES_PER_PRINCIPAL environment."""
        self._db = db
        self._authenticate = authenticate_calls
        if not authenticate_calls:
            self.limits = Limits.none()
        elif isinstance(limits, Limits):
            self.limits = limits
        else:
            config = limits if limits is not None else limits_from_environment()
            self.limits = Limits.of(config.rate_limit_qps, config.rate_limit_burst, config.max_watches_per_principal)

    async def admit(self, method: str, request: Message, call_context: CallContext) -> context.Call:
        """The call's record once the caller may make it; raises UNAUTHENTICATED or PERMISSION_DENIED."""
        caller = await authenticate(self._db, call_context) if self._authenticate else context.ANONYMOUS
        self.limits.rate.charge(caller.principal)
        rule = RULES.get(method)
        resource = rule.resource(request) if rule is not None else ""
        call = context.Call(
            caller=caller,
            method=method,
            resource=rule.audited_resource(request) if rule is not None else "",
            request_id=str(getattr(request, "request_id", "")),
            peer=_peer(call_context),
            mutating=rule is None or rule.mutating,
        )
        if self._authenticate and not await self._allowed(rule, call, resource):
            await audit.record_outcome(self._db, call, "PERMISSION_DENIED", "PERMISSION_DENIED")
            target = resource or "this installation"
            raise PermissionDenied(f"{caller.principal} may not call {method.split('/')[-1]} on {target}")
        if violations := nul_violations(request):
            refusal = InvalidArgument.of(violations)
            if call.mutating:
                await audit.record_outcome(self._db, call, refusal.code, refusal.reason)
            raise refusal
        context.begin(call)
        return call

    async def _allowed(self, rule: Rule | None, call: context.Call, resource: str) -> bool:
        if rule is None:
            log.error("%s is not in the authorization table; denied", call.method)
            return False
        if rule.open:
            return True
        scope = await self._scope(rule, resource)
        return call.caller.allows(rule.permission, scope)

    async def _scope(self, rule: Rule, resource: str) -> Scope:
        if rule.scope_field is None:
            return INSTALLATION
        if resource.startswith(_OPERATION_PREFIX):
            return await self._operation_scope(resource.removeprefix(_OPERATION_PREFIX))
        scope = scope_of(resource)
        if rule.cluster_members and scope.cluster is not None:
            return Scope(scope.cluster, ANY_NAMESPACE)
        return scope

    async def _operation_scope(self, operation: str) -> Scope:
        try:
            operation_id = uuid.UUID(operation)
        except ValueError:
            return INSTALLATION
        async with self._db.transaction() as session:
            target = await session.scalar(select(OperationRow.target).where(OperationRow.id == operation_id))
        return INSTALLATION if target is None else scope_of(target)

    async def finish(self, call: context.Call, error: Exception | None) -> None:
        """Audit the outcome of a mutation unless its own transaction already did."""
        if not call.mutating:
            return
        if error is not None:
            code = error.code if isinstance(error, HarrowError) else "INTERNAL"
            reason = error.reason if isinstance(error, HarrowError) else "INTERNAL"
            await audit.record_outcome(self._db, call, code, reason)
        elif not call.audited:
            await audit.record_outcome(self._db, call, "OK")


def _peer(call_context: CallContext) -> str:
    peer = getattr(call_context, "peer", None)
    return str(peer()) if callable(peer) else ""


def guard_servicers(servicers: Mapping[str, object], guard: Guard) -> dict[str, object]:
    """Each servicer as an object of the same gRPC base whose implemented RPCs pass through `guard` first."""
    return {name: _guarded(name, servicer, guard) for name, servicer in servicers.items()}


def _guarded(service_name: str, servicer: object, guard: Guard) -> object:
    service = descriptor_pool.Default().FindServiceByName(service_name)
    base = next((c for c in type(servicer).__mro__ if c.__module__.endswith("_pb2_grpc")), object)
    methods: dict[str, Callable[..., Any]] = {}
    for method in service.methods:
        implementation = getattr(type(servicer), method.name, None)
        full = f"{service_name}/{method.name}"
        if inspect.isasyncgenfunction(implementation):
            methods[method.name] = _stream(full, servicer, implementation, guard)
        elif inspect.iscoroutinefunction(implementation):
            methods[method.name] = _unary(full, servicer, implementation, guard)
    return type(f"Guarded{type(servicer).__name__}", (base,), methods)()


def _unary(method: str, servicer: object, implementation: Callable[..., Any], guard: Guard) -> Callable[..., Any]:
    async def unary(self: object, request: Message, call_context: CallContext) -> Any:
        call = await guard.admit(method, request, call_context)
        try:
            response = await implementation(servicer, request, call_context)
        except Exception as error:
            await guard.finish(call, error)
            raise
        await guard.finish(call, None)
        return response

    return unary


def _stream(method: str, servicer: object, implementation: Callable[..., Any], guard: Guard) -> Callable[..., Any]:
    async def stream(self: object, request: Message, call_context: CallContext) -> AsyncIterator[Any]:
        call = await guard.admit(method, request, call_context)
        admitted = getattr(call_context, "admitted", None)  # REST holds a stream's headers until this
        if isinstance(admitted, asyncio.Event):
            admitted.set()
        # Held until the stream ends however it ends (finished, failed, cancelled by the client).
        with guard.limits.streams.slot(call.caller.principal):
            async for item in implementation(servicer, request, call_context):
                yield item

    return stream
