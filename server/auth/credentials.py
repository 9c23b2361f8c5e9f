"""Turning what a caller presents into a principal: a bearer token, or a verified client certificate.

Tokens are `harrow_` + 32 random bytes (base64url); the prefix lets secret
scanners spot leaked ones. Only their SHA-256 is stored: a 256-bit random
secret needs no slow hash, and a lookup by hash keeps the secret itself out
of every query and log. Every failure is the same UNAUTHENTICATED, whether
the token is unknown, expired or revoked, so an attacker learns nothing
about which secrets exist.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, Protocol

from cryptography import x509
from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from server.auth.policy import Caller, bindings_from_json
from server.domain.errors import Unauthenticated
from storage.db import Database
from storage.models import ApiTokenRow, PrincipalCertificateRow, PrincipalRow

TOKEN_PREFIX = "harrow_"
_BEARER = "bearer "
MAX_TOKEN_LENGTH = 256


class CallContext(Protocol):
    """The part of a call context (grpc.aio or REST) authentication reads."""

    def invocation_metadata(self) -> Sequence[tuple[str, str | bytes]] | None: ...

    def auth_context(self) -> dict[str, Any]: ...


def new_secret() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def secret_hash(secret: str) -> bytes:
    return hashlib.sha256(secret.encode()).digest()


def unauthenticated() -> Unauthenticated:
    return Unauthenticated(
        "missing, invalid, expired or revoked credentials: send `authorization: Bearer <token>`",
        reason="UNAUTHENTICATED",
    )


def bearer_token(context: CallContext) -> str | None:
    for key, value in context.invocation_metadata() or ():
        if key == "authorization" and isinstance(value, str):
            if not value.lower().startswith(_BEARER) or len(value) > MAX_TOKEN_LENGTH:
                raise unauthenticated()
            return value[len(_BEARER) :].strip()
    return None


def certificate_subject(context: CallContext) -> str | None:
    """The RFC 4514 subject of the verified client certificate, if the connection presented one."""
    pems = context.auth_context().get("x509_pem_cert") or []
    if not pems:
        return None
    certificate = x509.load_pem_x509_certificate(pems[0])
    return certificate.subject.rfc4514_string()


async def caller_for_token(db: Database, secret: str) -> Caller | None:
    at = datetime.now(UTC)
    query = (
        select(PrincipalRow)
        .join(ApiTokenRow, ApiTokenRow.principal_uid == PrincipalRow.uid)
        .where(
            ApiTokenRow.secret_hash == secret_hash(secret),
            ApiTokenRow.revoke_time.is_(None),
            or_(ApiTokenRow.expire_time.is_(None), ApiTokenRow.expire_time > at),
        )
    )
    async with db.transaction() as session:
        row = (await session.execute(query)).scalar_one_or_none()
    return None if row is None else to_caller(row)


async def caller_for_subject(db: Database, subject: str) -> Caller | None:
    query = (
        select(PrincipalRow)
        .join(PrincipalCertificateRow, PrincipalCertificateRow.principal_uid == PrincipalRow.uid)
        .where(PrincipalCertificateRow.subject == subject)
    )
    async with db.transaction() as session:
        row = (await session.execute(query)).scalar_one_or_none()
    return None if row is None else to_caller(row)


def to_caller(row: PrincipalRow) -> Caller:
    return Caller(row.name, bindings_from_json(row.role_bindings))


async def authenticate(db: Database, context: CallContext) -> Caller:
    """A bearer token wins over a client certificate; with neither, or neither known, UNAUTHENTICATED."""
    token = bearer_token(context)
    if token is not None:
        caller = await caller_for_token(db, token)
    else:
        subject = certificate_subject(context)
        caller = await caller_for_subject(db, subject) if subject is not None else None
    if caller is None:
        raise unauthenticated()
    return caller


async def add_token(
    session: AsyncSession, principal: PrincipalRow, display_name: str, expire_time: datetime | None
) -> tuple[ApiTokenRow, str]:
    """A new token row and its secret, which the caller shows once and forgets."""
    secret = new_secret()
    row = ApiTokenRow(
        uid=uuid.uuid4(),
        principal_uid=principal.uid,
        display_name=display_name,
        secret_hash=secret_hash(secret),
        create_time=datetime.now(UTC),
        expire_time=expire_time,
        revoke_time=None,
    )
    session.add(row)
    return row, secret
