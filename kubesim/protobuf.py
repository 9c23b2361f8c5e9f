"""Decoding the protobuf request bodies kubectl sends for a few built-in kinds.

kubectl's typed clients (``kubectl create namespace``, ``kubectl create
secret generic``) always encode built-in kinds as
``application/vnd.kubernetes.protobuf``; no discovery field or response
header makes client-go 1.32 fall back to JSON, so the server has to read
them. Their replies may stay JSON, which kubectl also accepts. Only the
kinds kubesim serves and kubectl's ``create`` subcommands build are decoded,
field numbers from ``k8s.io/api/core/v1/generated.proto`` and
``apimachinery/pkg/apis/meta/v1/generated.proto``; anything else is refused
with 415 as before.
"""

from __future__ import annotations

import base64
from typing import Any

from .errors import ApiError

MAGIC = b"k8s\x00"
TOP_LEVEL = ("Namespace", "Secret")

# message -> field number -> (JSON name, kind); kinds: str, bytes, int, bool, map, bmap, strs, msg:X, msgs:X
MESSAGES: dict[str, dict[int, tuple[str, str]]] = {
    "Unknown": {1: ("typeMeta", "msg:TypeMeta"), 2: ("raw", "raw")},
    "TypeMeta": {1: ("apiVersion", "str"), 2: ("kind", "str")},
    "ObjectMeta": {
        1: ("name", "str"),
        2: ("generateName", "str"),
        3: ("namespace", "str"),
        5: ("uid", "str"),
        6: ("resourceVersion", "str"),
        11: ("labels", "map"),
        12: ("annotations", "map"),
        13: ("ownerReferences", "msgs:OwnerReference"),
        14: ("finalizers", "strs"),
    },
    "OwnerReference": {
        1: ("kind", "str"),
        3: ("name", "str"),
        4: ("uid", "str"),
        5: ("apiVersion", "str"),
        6: ("controller", "bool"),
        7: ("blockOwnerDeletion", "bool"),
    },
    "Namespace": {1: ("metadata", "msg:ObjectMeta"), 2: ("spec", "msg:NamespaceSpec")},
    "NamespaceSpec": {1: ("finalizers", "strs")},
    "Secret": {
        1: ("metadata", "msg:ObjectMeta"),
        2: ("data", "bmap"),
        3: ("type", "str"),
        4: ("stringData", "map"),
        5: ("immutable", "bool"),
    },
}


def _varint(buf: bytes, pos: int) -> tuple[int, int]:
    value, shift = 0, 0
    while True:
        if pos >= len(buf):
            raise ValueError("truncated varint")
        byte = buf[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return value, pos
        shift += 7


def _fields(buf: bytes) -> list[tuple[int, int | bytes]]:
    out: list[tuple[int, int | bytes]] = []
    pos = 0
    while pos < len(buf):
        tag, pos = _varint(buf, pos)
        number, wire = tag >> 3, tag & 7
        if wire == 0:
            value, pos = _varint(buf, pos)
            out.append((number, value))
        elif wire == 2:
            size, pos = _varint(buf, pos)
            out.append((number, buf[pos : pos + size]))
            pos += size
        elif wire in (1, 5):
            pos += 8 if wire == 1 else 4
        else:
            raise ValueError(f"unsupported wire type {wire}")
    return out


def _message(buf: bytes, name: str) -> dict[str, Any]:
    spec = MESSAGES[name]
    out: dict[str, Any] = {}
    for number, value in _fields(buf):
        if number not in spec:
            continue
        key, kind = spec[number]
        if kind in ("map", "bmap") and isinstance(value, bytes):
            entry = dict(_fields(value))
            map_key, map_value = entry.get(1, b""), entry.get(2, b"")
            text = map_value if isinstance(map_value, bytes) else b""
            item = base64.b64encode(text).decode() if kind == "bmap" else text.decode()
            out.setdefault(key, {})[map_key.decode() if isinstance(map_key, bytes) else ""] = item
        elif kind == "strs" and isinstance(value, bytes):
            out.setdefault(key, []).append(value.decode())
        elif kind.startswith("msgs:") and isinstance(value, bytes):
            out.setdefault(key, []).append(_message(value, kind[5:]))
        elif kind.startswith("msg:") and isinstance(value, bytes):
            out[key] = _message(value, kind[4:])
        elif kind == "str" and isinstance(value, bytes) and value:  # empty means unset, as JSON's omitempty
            out[key] = value.decode()
        elif kind == "raw":
            out[key] = value
        elif kind == "bool":
            out[key] = bool(value)
    return out


def decode(body: bytes, content_type: str) -> dict[str, Any]:
    """The JSON form of a protobuf-encoded built-in object, or 415 for kinds kubesim cannot read."""
    refused = ApiError(
        415,
        f"the body of the request was in an unknown format - accepted media types include: "
        f"application/json, application/yaml, application/vnd.kubernetes.protobuf (got {content_type})",
    )
    if not body.startswith(MAGIC):
        raise refused
    try:
        envelope = _message(body[len(MAGIC) :], "Unknown")
        meta = envelope.get("typeMeta") or {}
        kind = meta.get("kind", "")
        if kind not in TOP_LEVEL:
            raise refused
        obj = _message(envelope.get("raw", b""), kind)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ApiError(400, f"the object provided is unrecognized or malformed: {exc}") from exc
    return {"apiVersion": meta.get("apiVersion", "v1"), "kind": kind, **obj}
