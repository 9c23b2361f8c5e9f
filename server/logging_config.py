"""Logs: one JSON object per line under `serve` (for log pipelines), plain lines under `up` (for people).

A JSON line carries what an operator filters by: the request id (the caller's
`x-request-id`, else one made here), the principal and the resource of the
call once the auth layer has admitted it, the method, and the trace and span
ids of a W3C `traceparent` when the caller sent one, so a line can be joined
to its trace. Request bodies and headers are never logged; anything shaped
like a credential that still reaches a message (a bearer token, a password in
a URL, `token=…`) is masked, because a log pipeline is not a secret store.
"""

from __future__ import annotations

import json
import logging
import re
import sys
import uuid
from contextvars import ContextVar, Token
from dataclasses import dataclass
from datetime import UTC, datetime

from server.auth import context as auth_context

HUMAN_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
_SECRETS = (
    (re.compile(r"(?i)\b(bearer\s+)[\w.~+/=-]+"), r"\1***"),
    (re.compile(r"(\b[a-z][a-z0-9+.-]*://[^:/@\s]+:)[^@\s]+@"), r"\1***@"),
    (re.compile(r"(?i)\b((?:token|password|secret|key)=)[^\s&,;]+"), r"\1***"),
)
_TRACEPARENT = re.compile(r"^[0-9a-f]{2}-([0-9a-f]{32})-([0-9a-f]{16})-[0-9a-f]{2}$")
# Fields a caller may pass with `extra=` that end up as keys of the JSON line.
_EXTRA_FIELDS = ("transport", "method", "code", "duration_ms")


@dataclass(frozen=True)
class RequestScope:
    request_id: str
    trace_id: str = ""
    span_id: str = ""


_REQUEST: ContextVar[RequestScope | None] = ContextVar("harrow_request", default=None)


def begin_request(request_id: str | None, traceparent: str | None) -> Token[RequestScope | None]:
    """Scope the current task's log lines to one API call; pass the token to `end_request`."""
    trace_id, span_id = "", ""
    matched = _TRACEPARENT.match(traceparent.strip().lower()) if traceparent else None
    if matched is not None:
        trace_id, span_id = matched.groups()
    usable = request_id if request_id and len(request_id) <= 128 and request_id.isprintable() else None
    return _REQUEST.set(RequestScope(usable or uuid.uuid4().hex, trace_id, span_id))


def end_request(token: Token[RequestScope | None]) -> None:
    _REQUEST.reset(token)


def current_request() -> RequestScope | None:
    return _REQUEST.get()


def redact(text: str) -> str:
    # Each pattern needs one of these to match; most lines (every access line) have none of them.
    if "=" not in text and "://" not in text and "bearer" not in text.lower():
        return text
    for pattern, replacement in _SECRETS:
        text = pattern.sub(replacement, text)
    return text


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": redact(record.getMessage()),
        }
        scope = _REQUEST.get()
        if scope is not None:
            entry["request_id"] = scope.request_id
            if scope.trace_id:
                entry["trace_id"], entry["span_id"] = scope.trace_id, scope.span_id
        call = auth_context.current()
        if call is not None:
            entry["principal"] = call.caller.principal
            if call.resource:
                entry["resource"] = call.resource
        for name in _EXTRA_FIELDS:
            if name in record.__dict__:
                entry[name] = record.__dict__[name]
        if record.exc_info:
            entry["error"] = redact(self.formatException(record.exc_info))
        return json.dumps(entry, default=str)


class _RedactingFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(record))


def configure(*, json_lines: bool, level: int = logging.INFO) -> None:
    """Route every logger to stdout (where container runtimes collect it) in the chosen shape."""
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(JsonFormatter() if json_lines else _RedactingFormatter(HUMAN_FORMAT))
    # Neither shape prints where a call was made from, or which thread or process made it: collecting
    # that (a stack walk per record) was a tenth of the access log's cost (the logging HOWTO's
    # "Optimization" section names these switches).
    logging._srcfile = None
    logging.logThreads = logging.logProcesses = logging.logMultiprocessing = False
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
