"""The current call's caller, for the code the call runs through.

The guard sets it before a servicer runs; servicers read it to pass the
caller's visibility to List and Watch, and `audit.record` reads it inside the
mutation's transaction. Each RPC runs in its own task on both transports, so
the value never outlives its call.
"""

from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass

from server.auth.policy import Caller, scope_of, unrestricted


@dataclass
class Call:
    caller: Caller
    method: str
    resource: str
    request_id: str
    peer: str
    mutating: bool
    # Set once the audit record was added to the mutation's own transaction.
    audited: bool = False


ANONYMOUS = unrestricted("anonymous")
_CURRENT: ContextVar[Call | None] = ContextVar("harrow_call", default=None)


def begin(call: Call) -> None:
    _CURRENT.set(call)


def current() -> Call | None:
    return _CURRENT.get()


def caller() -> Caller:
    """Who is calling; outside a guarded call (tools, tests of services) there is no one to restrict."""
    call = _CURRENT.get()
    return ANONYMOUS if call is None else call.caller


def visible_namespaces(parent: str) -> frozenset[str] | None:
    """Namespaces of the parent's cluster the caller may see (None: all), for VM lists and watches."""
    cluster = scope_of(parent).cluster
    return caller().namespaces(cluster) if cluster is not None else None
