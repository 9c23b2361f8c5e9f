"""Principals, their role bindings and API tokens, and the audit log: the admin side of issue 10.

Token secrets leave this module once, in CreateToken's response; what is kept
is their hash (server.auth.credentials). Every write adds its audit record to
its own transaction. Principals are few and change rarely, so writes are
plain transactions without request_id replay.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from google.protobuf import empty_pb2
from harrow.v1 import security_pb2 as pb
from sqlalchemy import ColumnElement, delete, select, tuple_
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from server.auth import audit, context
from server.auth.credentials import add_token
from server.auth.policy import ALL_CLUSTERS
from server.domain import page_token
from server.domain.errors import AlreadyExists, FieldViolation, InvalidArgument, NotFound
from server.domain.filtering import FieldKind, check_fields, parse_filter
from server.domain.labels import dns1123_label_violation
from server.domain.names import check_id
from server.services import common
from storage.db import Database
from storage.filters import Column, to_sql
from storage.models import ApiTokenRow, AuditRecordRow, PrincipalCertificateRow, PrincipalRow

_WRITABLE = ("display_name", "role_bindings", "certificate_subjects")
MAX_SUBJECT_LENGTH = 1024
MAX_BINDINGS = 100
AUDIT_FILTER_FIELDS = {
    "principal": FieldKind.string(),
    "method": FieldKind.string(),
    "resource": FieldKind.string(),
    "request_id": FieldKind.string(),
    "code": FieldKind.string(),
    "reason": FieldKind.string(),
    "time": FieldKind.timestamp(),
}
_AUDIT_COLUMNS = {name: Column(getattr(AuditRecordRow, name)) for name in AUDIT_FILTER_FIELDS}


def _principal_id(name: str, field: str = "name", *, wildcard: bool = False) -> str:
    parts = name.split("/")
    if len(parts) != 2 or parts[0] != "principals":
        raise InvalidArgument.for_field(field, f'"{name[:200]}" does not match principals/{{principal}}')
    if not (wildcard and parts[1] == "-"):
        check_id(parts[1], field)
    return parts[1]


def _token_id(name: str) -> tuple[str, uuid.UUID]:
    parts = name.split("/")
    if len(parts) != 4 or parts[0] != "principals" or parts[2] != "tokens":
        raise InvalidArgument.for_field(
            "name", f'"{name[:200]}" does not match principals/{{principal}}/tokens/{{token}}'
        )
    try:
        return parts[1], uuid.UUID(parts[3])
    except ValueError:
        raise InvalidArgument.for_field("name", f'"{parts[3][:80]}" is not a token ID') from None


def _check_bindings(bindings: list[pb.RoleBinding], field: str) -> None:
    violations: list[FieldViolation] = []
    if len(bindings) > MAX_BINDINGS:
        violations.append(FieldViolation(field, f"at most {MAX_BINDINGS} bindings"))
    for index, binding in enumerate(bindings):
        at = f"{field}[{index}]"
        if binding.role == pb.ROLE_UNSPECIFIED:
            violations.append(FieldViolation(f"{at}.role", "required: VIEWER, OPERATOR or ADMIN"))
        if binding.cluster != ALL_CLUSTERS and (problem := dns1123_label_violation(binding.cluster, f"{at}.cluster")):
            violations.append(FieldViolation(problem.field, f'a cluster ID or "*": {problem.description}'))
        if binding.namespace and (problem := dns1123_label_violation(binding.namespace, f"{at}.namespace")):
            violations.append(problem)
    if violations:
        raise InvalidArgument.of(violations)


def _check_subjects(subjects: list[str], field: str) -> None:
    for index, subject in enumerate(subjects):
        if not subject or len(subject) > MAX_SUBJECT_LENGTH or "=" not in subject:
            raise InvalidArgument.for_field(
                f"{field}[{index}]", f"an RFC 4514 subject such as CN=ci,O=example (at most {MAX_SUBJECT_LENGTH})"
            )


def _bindings_json(bindings: Any) -> list[dict[str, str]]:
    return [{"role": pb.Role.Name(b.role), "cluster": b.cluster, "namespace": b.namespace} for b in bindings]


def principal_to_proto(row: PrincipalRow, subjects: list[str]) -> pb.Principal:
    principal = pb.Principal(
        name=row.name,
        uid=str(row.uid),
        display_name=row.display_name,
        role_bindings=[
            pb.RoleBinding(role=pb.Role.Value(b["role"]), cluster=b["cluster"], namespace=b.get("namespace", ""))
            for b in row.role_bindings
        ],
        certificate_subjects=sorted(subjects),
        etag=row.etag,
    )
    principal.create_time.FromDatetime(row.create_time)
    principal.update_time.FromDatetime(row.update_time)
    return principal


def token_to_proto(row: ApiTokenRow, principal: str, at: datetime) -> pb.Token:
    token = pb.Token(name=f"{principal}/tokens/{row.uid}", display_name=row.display_name)
    token.create_time.FromDatetime(row.create_time)
    if row.expire_time is not None:
        token.expire_time.FromDatetime(row.expire_time)
    if row.revoke_time is not None:
        token.revoke_time.FromDatetime(row.revoke_time)
    if row.revoke_time is not None:
        token.state = pb.Token.REVOKED
    elif row.expire_time is not None and row.expire_time <= at:
        token.state = pb.Token.EXPIRED
    else:
        token.state = pb.Token.ACTIVE
    return token


def audit_to_proto(row: AuditRecordRow) -> pb.AuditRecord:
    record = pb.AuditRecord(
        sequence=row.sequence,
        principal=row.principal,
        method=row.method,
        resource=row.resource,
        request_id=row.request_id,
        code=row.code,
        reason=row.reason,
        peer=row.peer,
    )
    record.time.FromDatetime(row.time)
    return record


async def _subjects(session: AsyncSession, principal_uid: uuid.UUID) -> list[str]:
    query = select(PrincipalCertificateRow.subject).where(PrincipalCertificateRow.principal_uid == principal_uid)
    return list((await session.execute(query)).scalars().all())


async def _set_subjects(session: AsyncSession, row: PrincipalRow, subjects: list[str]) -> None:
    await session.execute(delete(PrincipalCertificateRow).where(PrincipalCertificateRow.principal_uid == row.uid))
    session.add_all(PrincipalCertificateRow(subject=s, principal_uid=row.uid) for s in set(subjects))
    try:
        await session.flush()
    except IntegrityError:
        raise AlreadyExists(
            "a certificate subject already belongs to another principal", reason="CERTIFICATE_SUBJECT_TAKEN"
        ) from None


async def _principal(session: AsyncSession, name: str, *, lock: bool = False) -> PrincipalRow:
    query = select(PrincipalRow).where(PrincipalRow.name == name)
    row = (await session.execute(query.with_for_update() if lock else query)).scalar_one_or_none()
    if row is None:
        raise NotFound(f"principal {name} does not exist", reason="PRINCIPAL_NOT_FOUND", metadata={"resource": name})
    return row


def new_principal(principal_id: str, display_name: str, bindings: list[dict[str, str]], at: datetime) -> PrincipalRow:
    uid = uuid.uuid4()
    return PrincipalRow(
        uid=uid,
        name=f"principals/{principal_id}",
        display_name=display_name,
        role_bindings=bindings,
        generation=1,
        etag=common.make_etag(uid, 1),
        create_time=at,
        update_time=at,
    )


class SecurityService:
    def __init__(self, db: Database):
        self._db = db

    async def caller_identity(self) -> pb.Principal:
        caller = context.caller()
        async with self._db.transaction() as session:
            row = (await session.execute(select(PrincipalRow).where(PrincipalRow.name == caller.principal))).scalar()
            if row is not None:
                return principal_to_proto(row, await _subjects(session, row.uid))
        # Authentication is off: the caller is no stored principal.
        return pb.Principal(
            name=f"principals/{caller.principal}",
            role_bindings=[
                pb.RoleBinding(role=int(b.role), cluster=b.cluster, namespace=b.namespace) for b in caller.bindings
            ],
        )

    async def get_principal(self, request: pb.GetPrincipalRequest) -> pb.Principal:
        name = f"principals/{_principal_id(request.name)}"
        async with self._db.transaction() as session:
            row = await _principal(session, name)
            return principal_to_proto(row, await _subjects(session, row.uid))

    async def list_principals(self, request: pb.ListPrincipalsRequest) -> pb.ListPrincipalsResponse:
        size = page_token.page_size(request.page_size)
        digest = page_token.query_digest("principals")
        after = page_token.decode(request.page_token, digest)
        query = select(PrincipalRow).order_by(PrincipalRow.name).limit(size + 1)
        if after is not None:
            query = query.where(PrincipalRow.name > str(after[0]))
        async with self._db.transaction() as session:
            rows = (await session.execute(query)).scalars().all()
            principals = [principal_to_proto(row, await _subjects(session, row.uid)) for row in rows[:size]]
        response = pb.ListPrincipalsResponse(principals=principals)
        if len(rows) > size:
            response.next_page_token = page_token.encode([rows[size - 1].name], digest)
        return response

    async def create_principal(self, request: pb.CreatePrincipalRequest) -> pb.Principal:
        check_id(request.principal_id, "principal_id")
        _check_bindings(list(request.principal.role_bindings), "principal.role_bindings")
        _check_subjects(list(request.principal.certificate_subjects), "principal.certificate_subjects")
        at = common.now()
        row = new_principal(
            request.principal_id, request.principal.display_name, _bindings_json(request.principal.role_bindings), at
        )
        async with self._db.transaction() as session:
            await audit.record(session)
            session.add(row)
            try:
                await session.flush()
            except IntegrityError:
                raise AlreadyExists(
                    f"principal {row.name} already exists", reason="PRINCIPAL_EXISTS", metadata={"resource": row.name}
                ) from None
            await _set_subjects(session, row, list(request.principal.certificate_subjects))
            return principal_to_proto(row, list(request.principal.certificate_subjects))

    async def update_principal(self, request: pb.UpdatePrincipalRequest) -> pb.Principal:
        name = f"principals/{_principal_id(request.principal.name, 'principal.name')}"
        paths = list(request.update_mask.paths) or [
            f.name for f, _ in request.principal.ListFields() if f.name in _WRITABLE
        ]
        for path in paths:
            if path not in _WRITABLE:
                raise InvalidArgument.for_field(
                    "update_mask", f'"{path}" cannot be updated; writable: {", ".join(_WRITABLE)}'
                )
        if "role_bindings" in paths:
            _check_bindings(list(request.principal.role_bindings), "principal.role_bindings")
        if "certificate_subjects" in paths:
            _check_subjects(list(request.principal.certificate_subjects), "principal.certificate_subjects")
        async with self._db.transaction() as session:
            await audit.record(session)
            row = await _principal(session, name, lock=True)
            common.check_etag(request.principal.etag, row.etag, name, "principal.etag")
            if "display_name" in paths:
                row.display_name = request.principal.display_name
            if "role_bindings" in paths:
                row.role_bindings = _bindings_json(request.principal.role_bindings)
            if "certificate_subjects" in paths:
                await _set_subjects(session, row, list(request.principal.certificate_subjects))
            row.generation += 1
            row.etag = common.make_etag(row.uid, row.generation)
            row.update_time = common.now()
            return principal_to_proto(row, await _subjects(session, row.uid))

    async def delete_principal(self, request: pb.DeletePrincipalRequest) -> empty_pb2.Empty:
        name = f"principals/{_principal_id(request.name)}"
        async with self._db.transaction() as session:
            await audit.record(session)
            row = await _principal(session, name, lock=True)
            common.check_etag(request.etag, row.etag, name)
            await session.delete(row)
        return empty_pb2.Empty()

    async def create_token(self, request: pb.CreateTokenRequest) -> pb.CreateTokenResponse:
        name = f"principals/{_principal_id(request.parent, 'parent')}"
        at = common.now()
        expire_time = _expire_time(request, at)
        async with self._db.transaction() as session:
            await audit.record(session)
            principal = await _principal(session, name)
            row, secret = await add_token(session, principal, request.token.display_name, expire_time)
            return pb.CreateTokenResponse(token=token_to_proto(row, name, at), secret=secret)

    async def list_tokens(self, request: pb.ListTokensRequest) -> pb.ListTokensResponse:
        principal_id = _principal_id(request.parent, "parent", wildcard=True)
        size = page_token.page_size(request.page_size)
        digest = page_token.query_digest(request.parent)
        after = page_token.decode(request.page_token, digest)
        query = select(ApiTokenRow, PrincipalRow.name).join(PrincipalRow, PrincipalRow.uid == ApiTokenRow.principal_uid)
        if principal_id != "-":
            query = query.where(PrincipalRow.name == f"principals/{principal_id}")
        if after is not None:
            key = (datetime.fromisoformat(after[0]), uuid.UUID(after[1]))
            query = query.where(tuple_(ApiTokenRow.create_time, ApiTokenRow.uid) < tuple_(*key))
        query = query.order_by(ApiTokenRow.create_time.desc(), ApiTokenRow.uid.desc()).limit(size + 1)
        at = common.now()
        async with self._db.transaction() as session:
            rows = (await session.execute(query)).all()
        response = pb.ListTokensResponse(tokens=[token_to_proto(row, principal, at) for row, principal in rows[:size]])
        if len(rows) > size:
            last = rows[size - 1][0]
            response.next_page_token = page_token.encode([last.create_time.isoformat(), str(last.uid)], digest)
        return response

    async def revoke_token(self, request: pb.RevokeTokenRequest) -> pb.Token:
        principal_id, token_id = _token_id(request.name)
        principal = f"principals/{principal_id}"
        at = common.now()
        async with self._db.transaction() as session:
            await audit.record(session)
            query = (
                select(ApiTokenRow)
                .join(PrincipalRow, PrincipalRow.uid == ApiTokenRow.principal_uid)
                .where(ApiTokenRow.uid == token_id, PrincipalRow.name == principal)
                .with_for_update(of=ApiTokenRow)
            )
            row = (await session.execute(query)).scalar_one_or_none()
            if row is None:
                raise NotFound(
                    f"token {request.name} does not exist",
                    reason="TOKEN_NOT_FOUND",
                    metadata={"resource": request.name},
                )
            if row.revoke_time is None:
                row.revoke_time = at
            return token_to_proto(row, principal, at)

    async def list_audit_records(self, request: pb.ListAuditRecordsRequest) -> pb.ListAuditRecordsResponse:
        size = page_token.page_size(request.page_size)
        digest = page_token.query_digest(request.filter)
        after = page_token.decode(request.page_token, digest)
        where: list[ColumnElement[bool]] = []
        expr = parse_filter(request.filter)
        if expr is not None:
            check_fields(expr, AUDIT_FILTER_FIELDS)
            where.append(to_sql(expr, _AUDIT_COLUMNS))
        if after is not None:
            where.append(AuditRecordRow.sequence < int(after[0]))
        query = select(AuditRecordRow).where(*where).order_by(AuditRecordRow.sequence.desc()).limit(size + 1)
        async with self._db.transaction() as session:
            rows = (await session.execute(query)).scalars().all()
        response = pb.ListAuditRecordsResponse(audit_records=[audit_to_proto(row) for row in rows[:size]])
        if len(rows) > size:
            response.next_page_token = page_token.encode([rows[size - 1].sequence], digest)
        return response


def _expire_time(request: pb.CreateTokenRequest, at: datetime) -> datetime | None:
    if request.HasField("ttl") and request.token.HasField("expire_time"):
        raise InvalidArgument.for_field("ttl", "set either ttl or token.expire_time, not both")
    expire_time: datetime
    if request.HasField("ttl"):
        expire_time = at + request.ttl.ToTimedelta()
    elif request.token.HasField("expire_time"):
        expire_time = request.token.expire_time.ToDatetime(tzinfo=UTC)
    else:
        return None
    if expire_time <= at:
        raise InvalidArgument.for_field(
            "ttl" if request.HasField("ttl") else "token.expire_time", "must be in the future"
        )
    return expire_time
