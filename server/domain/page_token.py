"""Opaque page tokens for keyset pagination (AIP-158).

A token carries the sort key of the last row returned, so the next page
starts strictly after it: rows inserted or deleted meanwhile can neither
repeat nor hide a row that existed throughout. It also carries a digest of
the query (parent, filter, order) so changing them mid-pagination is refused.
"""

from __future__ import annotations

import base64
import hashlib
import json
from typing import Any

from server.domain.errors import InvalidArgument

DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 1000
_VERSION = 1


def page_size(requested: int, field: str = "page_size") -> int:
    """AIP-158: negative is an error, 0 means the default, oversized is lowered to the maximum."""
    if requested < 0:
        raise InvalidArgument.for_field(field, f"must not be negative (got {requested})")
    if requested == 0:
        return DEFAULT_PAGE_SIZE
    return min(requested, MAX_PAGE_SIZE)


def query_digest(*parts: str) -> str:
    return hashlib.sha256("\x00".join(parts).encode()).hexdigest()[:16]


def encode(last_key: list[Any], digest: str) -> str:
    payload = json.dumps({"v": _VERSION, "k": last_key, "q": digest}, separators=(",", ":"))
    return base64.urlsafe_b64encode(payload.encode()).decode().rstrip("=")


def decode(token: str, digest: str, field: str = "page_token") -> list[Any] | None:
    """The last key of the previous page, or None for the first page."""
    if not token:
        return None
    try:
        payload = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
        version, key, token_digest = payload["v"], payload["k"], payload["q"]
    except (ValueError, KeyError, TypeError) as error:
        raise InvalidArgument.for_field(field, "not a page token this service issued") from error
    if version != _VERSION or not isinstance(key, list):
        raise InvalidArgument.for_field(field, "not a page token this service issued")
    if token_digest != digest:
        raise InvalidArgument.for_field(
            field, "the parent, filter or order_by differ from the request that returned this token"
        )
    return key
