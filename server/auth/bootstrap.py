"""Tokens made outside the API: the first admin under `up`, and `harrow-server token create|revoke`.

These run against the database directly, for the moment before any admin
token exists (or after the last one was lost). They leave audit records like
API calls do, under the principal `harrow-server` and a `cli/…` method.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select, text

from server.auth import audit, context
from server.auth.credentials import add_token
from server.auth.policy import ALL_CLUSTERS, Binding, Role, unrestricted
from server.domain.names import check_id
from server.services.security import new_principal
from storage.db import Database
from storage.models import ApiTokenRow, PrincipalRow

BOOTSTRAP_PRINCIPAL = "admin"


def _as_cli(method: str, resource: str) -> None:
    context.begin(context.Call(unrestricted("harrow-server"), f"cli/{method}", resource, "", "local", mutating=True))


async def bootstrap_admin(db: Database) -> str | None:
    """On a database without principals, principals/admin (admin on every cluster) and its token's secret."""
    async with db.transaction() as session:
        # Two replicas starting together must not both bootstrap.
        await session.execute(text("LOCK TABLE principals IN SHARE ROW EXCLUSIVE MODE"))
        if await session.scalar(select(func.count()).select_from(PrincipalRow)):
            return None
        _as_cli("bootstrap", f"principals/{BOOTSTRAP_PRINCIPAL}")
        await audit.record(session)
        binding = {"role": Role.ADMIN.name, "cluster": ALL_CLUSTERS, "namespace": ""}
        principal = new_principal(BOOTSTRAP_PRINCIPAL, "bootstrap admin", [binding], datetime.now(UTC))
        session.add(principal)
        await session.flush()
        _, secret = await add_token(session, principal, "bootstrap", None)
    return secret


async def create_token(
    db: Database, principal_id: str, binding: Binding | None, ttl: timedelta | None
) -> tuple[str, str]:
    """A token for `principal_id` (created if missing, `binding` added if new); its name and secret."""
    check_id(principal_id, "--principal")
    name = f"principals/{principal_id}"
    _as_cli("token create", name)
    async with db.transaction() as session:
        await audit.record(session)
        at = datetime.now(UTC)
        query = select(PrincipalRow).where(PrincipalRow.name == name).with_for_update()
        principal = (await session.execute(query)).scalar_one_or_none()
        if principal is None:
            principal = new_principal(principal_id, "", [], at)
            session.add(principal)
            await session.flush()
        if binding is not None:
            entry = {"role": binding.role.name, "cluster": binding.cluster, "namespace": binding.namespace}
            if entry not in principal.role_bindings:
                principal.role_bindings = [*principal.role_bindings, entry]
        row, secret = await add_token(session, principal, "harrow-server token create", at + ttl if ttl else None)
    return f"{name}/tokens/{row.uid}", secret


async def revoke_token(db: Database, name: str) -> bool:
    """Revoke the token called `name`; False when there is no such token."""
    parts = name.split("/")
    try:
        if len(parts) != 4 or parts[0] != "principals" or parts[2] != "tokens":
            return False
        token_id = uuid.UUID(parts[3])
    except ValueError:
        return False
    _as_cli("token revoke", name)
    async with db.transaction() as session:
        query = (
            select(ApiTokenRow)
            .join(PrincipalRow, PrincipalRow.uid == ApiTokenRow.principal_uid)
            .where(PrincipalRow.name == f"principals/{parts[1]}", ApiTokenRow.uid == token_id)
            .with_for_update(of=ApiTokenRow)
        )
        row = (await session.execute(query)).scalar_one_or_none()
        if row is None:
            return False
        await audit.record(session)
        if row.revoke_time is None:
            row.revoke_time = datetime.now(UTC)
    return True
