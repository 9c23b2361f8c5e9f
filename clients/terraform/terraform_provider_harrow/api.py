"""Harrow's REST API as the provider needs it: JSON in and out, typed errors, retries that never act twice.

The provider talks REST, not the gRPC SDK: `tf` pins protobuf below 6, and the SDK's generated
stubs need protobuf 7, so the two cannot share a process. REST is the same contract (transcoded
from the same proto rules), so nothing is lost but the generated types.

Every mutation carries a `request_id` (a UUID chosen once per Terraform action), so a retry after a
lost answer returns the first answer instead of acting twice; reads and mutations are retried on
UNAVAILABLE / RESOURCE_EXHAUSTED and on refused connections. Operations are awaited through
`:wait`, which holds the request open server-side instead of polling.
"""

from __future__ import annotations

import json
import random
import ssl
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from dataclasses import dataclass
from typing import Any

_RETRIED_STATUSES = frozenset({429, 503})
_ATTEMPTS = 6
# One `:wait` call is held open server-side at most this long; well inside the HTTP timeout below.
_WAIT_SLICE_SECONDS = 20.0
_REQUEST_TIMEOUT_SECONDS = 45.0

# google.rpc.Code numbers → names, for errors inside an Operation (those carry the number only).
_CODE_NAMES = {
    1: "CANCELLED",
    2: "UNKNOWN",
    3: "INVALID_ARGUMENT",
    4: "DEADLINE_EXCEEDED",
    5: "NOT_FOUND",
    6: "ALREADY_EXISTS",
    7: "PERMISSION_DENIED",
    8: "RESOURCE_EXHAUSTED",
    9: "FAILED_PRECONDITION",
    10: "ABORTED",
    11: "OUT_OF_RANGE",
    12: "UNIMPLEMENTED",
    13: "INTERNAL",
    14: "UNAVAILABLE",
    16: "UNAUTHENTICATED",
}


class ApiError(Exception):
    """A `google.rpc.Status` from Harrow: `status` is the code's name, `reason` the ErrorInfo reason."""

    def __init__(self, status: str, message: str, reason: str = "", violations: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.reason = reason
        self.violations = violations

    @classmethod
    def from_status(cls, error: dict[str, Any]) -> ApiError:
        code = error.get("status") or _CODE_NAMES.get(int(error.get("code", 2)), "UNKNOWN")
        reason = ""
        violations: list[str] = []
        for detail in error.get("details", []):
            kind = str(detail.get("@type", ""))
            if kind.endswith("google.rpc.ErrorInfo"):
                reason = str(detail.get("reason", ""))
            elif kind.endswith("google.rpc.BadRequest"):
                for violation in detail.get("fieldViolations", []):
                    violations.append(f"{violation.get('field', '')}: {violation.get('description', '')}")
        return cls(str(code), str(error.get("message", "")), reason, tuple(violations))

    def describe(self) -> str:
        lines = [f"{self.status}: {self.message}"]
        if self.reason and self.reason != self.status:
            lines.append(f"reason: {self.reason}")
        # A lone violation is the message already; several are listed one a line.
        lines.extend(violation for violation in self.violations if violation != self.message)
        return "\n".join(lines)


class OperationTimeout(Exception):
    """The Operation was not done when the Terraform timeout ran out; the intent stays recorded in Harrow."""

    def __init__(self, operation: str, message: str) -> None:
        super().__init__(f"{operation} was not done in time; last progress: {message or 'none reported'}")


@dataclass(frozen=True)
class Connection:
    """Where Harrow's REST API is and how to authenticate; fixed when Terraform configures the provider."""

    endpoint: str
    token: str | None = None
    ca_file: str | None = None


def new_request_id() -> str:
    return str(uuid.uuid4())


class Api:
    """One method per HTTP verb; paths are Harrow resource names (`clusters/local/ipPools/lan`)."""

    def __init__(self, connection: Connection) -> None:
        self._base = connection.endpoint.rstrip("/")
        self._headers = {"Content-Type": "application/json", "Accept": "application/json"}
        if connection.token:
            self._headers["Authorization"] = f"Bearer {connection.token}"
        self._ssl = ssl.create_default_context(cafile=connection.ca_file) if connection.ca_file else None

    def get(self, name: str) -> dict[str, Any]:
        return self._call("GET", name, {}, None)

    def post(self, path: str, body: dict[str, Any], **query: str) -> dict[str, Any]:
        return self._call("POST", path, query, body)

    def patch(self, name: str, body: dict[str, Any], **query: str) -> dict[str, Any]:
        return self._call("PATCH", name, query, body)

    def delete(self, name: str, **query: str) -> dict[str, Any]:
        return self._call("DELETE", name, query, None)

    def wait(self, operation: dict[str, Any], timeout_seconds: float) -> dict[str, Any]:
        """Blocks until the Operation is done and returns its response; a failed Operation raises its error."""
        deadline = time.monotonic() + timeout_seconds
        while not operation.get("done"):
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                message = operation.get("metadata", {}).get("statusMessage", "")
                raise OperationTimeout(str(operation.get("name")), str(message))
            slice_seconds = max(1, int(min(remaining, _WAIT_SLICE_SECONDS)))
            operation = self.post(f"{operation['name']}:wait", {"timeout": f"{slice_seconds}s"})
        if "error" in operation:
            raise ApiError.from_status(operation["error"])
        response: dict[str, Any] = operation.get("response", {})
        return response

    def _call(self, method: str, path: str, query: dict[str, str], body: dict[str, Any] | None) -> dict[str, Any]:
        url = f"{self._base}/v1/{urllib.parse.quote(path, safe='/:-')}"
        if query:
            url += "?" + urllib.parse.urlencode(query)
        data = json.dumps(body).encode() if body is not None else None
        for attempt in range(_ATTEMPTS):
            request = urllib.request.Request(url, data=data, method=method, headers=self._headers)
            try:
                with urllib.request.urlopen(request, timeout=_REQUEST_TIMEOUT_SECONDS, context=self._ssl) as answer:
                    text = answer.read()
                    return json.loads(text) if text else {}
            except urllib.error.HTTPError as failure:
                error = _error_of(failure)
                if failure.code not in _RETRIED_STATUSES or attempt == _ATTEMPTS - 1:
                    raise error from None
            except OSError as failure:  # refused, reset, timed out: retried, and the request_id makes it act once
                if attempt == _ATTEMPTS - 1:
                    raise ApiError("UNAVAILABLE", f"cannot reach Harrow at {self._base}: {failure}") from None
            time.sleep(min(8.0, 0.25 * 2**attempt) * random.uniform(0.5, 1.0))
        raise AssertionError("unreachable: the last attempt returns or raises")


def _error_of(failure: urllib.error.HTTPError) -> ApiError:
    try:
        document = json.loads(failure.read())
        return ApiError.from_status(document["error"])
    except (ValueError, KeyError, TypeError):
        return ApiError(f"HTTP_{failure.code}", str(failure.reason))
