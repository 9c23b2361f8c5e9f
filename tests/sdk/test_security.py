"""Every SecurityService RPC through the SDK, against a Harrow with TLS and tokens required.

The server is the security e2e tests' one (a throwaway CA, the bootstrap
admin's token); clients connect as users do, with `tls=TlsConfig(…)` and
`token=`.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import harrow
import pytest
from harrow.v1 import security_pb2 as pb

from tests.e2e.security import conftest as security
from tests.e2e.security.conftest import Secured
from tests.sdk.conftest import FAST_RETRY

pki = security.pki
start_secure = security.start_secure
secure = security.secure

ADMIN = "principals/admin"
CI = "principals/ci"


def tls(server: Secured) -> harrow.TlsConfig:
    return harrow.TlsConfig(root_certificates=server.pki.ca.cert_pem)


@pytest.fixture
async def admin(secure: Secured) -> AsyncIterator[harrow.Client]:
    async with harrow.Client(secure.endpoints.grpc, token=secure.admin_token, tls=tls(secure), retry=FAST_RETRY) as c:
        yield c


def as_user(server: Secured, token: str | None) -> harrow.Client:
    retry = harrow.RetryConfig(max_attempts=1)
    return harrow.Client(server.endpoints.grpc, token=token or "", tls=tls(server), retry=retry)


def viewer(cluster: str = "local") -> pb.Principal:
    return pb.Principal(display_name="CI", role_bindings=[pb.RoleBinding(role=pb.VIEWER, cluster=cluster)])


async def test_caller_identity_and_principal_crud(admin: harrow.Client) -> None:
    me = await admin.get_caller_identity()
    assert me.name == ADMIN
    assert [(b.role, b.cluster) for b in me.role_bindings] == [(pb.ADMIN, "*")]

    created = await admin.create_principal(principal_id="ci", principal=viewer())
    assert (created.name, created.display_name, created.etag) == (CI, "CI", created.etag) and created.uid
    assert [(b.role, b.cluster, b.namespace) for b in created.role_bindings] == [(pb.VIEWER, "local", "")]
    assert (await admin.get_principal(name=CI)).create_time == created.create_time
    assert [p.name async for p in admin.list_principals(page_size=1)] == [ADMIN, CI]

    change = pb.Principal(name=CI, etag=created.etag, display_name="CI robot")
    updated = await admin.update_principal(principal=change, update_mask=["display_name"])
    assert updated.display_name == "CI robot" and updated.etag != created.etag
    assert [b.role for b in updated.role_bindings] == [pb.VIEWER]  # outside the mask: kept
    with pytest.raises(harrow.EtagMismatch):
        await admin.update_principal(principal=change, update_mask=["display_name"])
    with pytest.raises(harrow.InvalidArgument) as unwritable:
        await admin.update_principal(principal=pb.Principal(name=CI, uid="x"), update_mask=["uid"])
    assert [v.field for v in unwritable.value.field_violations] == ["update_mask"]

    with pytest.raises(harrow.AlreadyExists) as exists:
        await admin.create_principal(principal_id="ci", principal=viewer())
    assert (exists.value.reason, exists.value.metadata["resource"]) == ("PRINCIPAL_EXISTS", CI)
    with pytest.raises(harrow.InvalidArgument) as bad_id:
        await admin.create_principal(principal_id="Not_A_Label", principal=viewer())
    assert "principal_id" in {v.field for v in bad_id.value.field_violations}

    with pytest.raises(harrow.EtagMismatch):
        await admin.delete_principal(name=CI, etag=created.etag)
    await admin.delete_principal(name=CI, etag=updated.etag)
    with pytest.raises(harrow.NotFound) as missing:
        await admin.get_principal(name=CI)
    assert (missing.value.reason, missing.value.metadata["resource"]) == ("PRINCIPAL_NOT_FOUND", CI)
    with pytest.raises(harrow.NotFound):
        await admin.delete_principal(name=CI)


async def test_tokens_authenticate_until_revoked(admin: harrow.Client, secure: Secured) -> None:
    await admin.create_principal(principal_id="ci", principal=viewer())
    issued = await admin.create_token(parent=CI, token=pb.Token(display_name="pipeline"), ttl=3600)
    token = issued.token
    assert token.name.startswith(CI + "/tokens/") and issued.secret
    assert (token.display_name, token.state) == ("pipeline", pb.Token.ACTIVE)
    assert token.expire_time.ToSeconds() - token.create_time.ToSeconds() == pytest.approx(3600, abs=2)

    async with as_user(secure, issued.secret) as ci:
        assert (await ci.get_caller_identity()).name == CI
        assert [c.name async for c in ci.list_clusters()] == ["clusters/local"]  # reads: a viewer may
        with pytest.raises(harrow.PermissionDenied):
            await ci.get_principal(name=ADMIN)  # security needs admin on every cluster
        with pytest.raises(harrow.PermissionDenied):
            await ci.create_token(parent=CI)

    listed = [t async for t in admin.list_tokens(parent=CI)]
    assert [(t.name, t.state) for t in listed] == [(token.name, pb.Token.ACTIVE)]
    everyone = [t.name async for t in admin.list_tokens(parent="principals/-", page_size=1)]
    assert everyone[0] == token.name and len(everyone) == 2  # newest first, then the bootstrap token

    revoked = await admin.revoke_token(name=token.name)
    assert revoked.state == pb.Token.REVOKED and revoked.HasField("revoke_time")
    again = await admin.revoke_token(name=token.name)
    assert again.revoke_time == revoked.revoke_time  # revoking twice changes nothing
    async with as_user(secure, issued.secret) as ci:
        with pytest.raises(harrow.Unauthenticated):
            await ci.get_caller_identity()
    async with as_user(secure, None) as anonymous:
        with pytest.raises(harrow.Unauthenticated):
            await anonymous.get_caller_identity()

    with pytest.raises(harrow.NotFound) as missing:
        await admin.revoke_token(name=f"{CI}/tokens/00000000-0000-0000-0000-000000000000")
    assert missing.value.reason == "TOKEN_NOT_FOUND"
    both = pb.Token(expire_time={"seconds": 4_000_000_000})
    with pytest.raises(harrow.InvalidArgument) as invalid:
        await admin.create_token(parent=CI, token=both, ttl=60)
    assert [v.field for v in invalid.value.field_violations] == ["ttl"]

    # Deleting a principal takes its tokens with it.
    fresh = await admin.create_token(parent=CI)
    await admin.delete_principal(name=CI)
    async with as_user(secure, fresh.secret) as gone:
        with pytest.raises(harrow.Unauthenticated):
            await gone.get_caller_identity()


async def test_audit_records_every_mutation_newest_first(admin: harrow.Client, secure: Secured) -> None:
    await admin.create_principal(principal_id="ci", principal=viewer())
    issued = await admin.create_token(parent=CI)
    async with as_user(secure, issued.secret) as ci:
        with pytest.raises(harrow.PermissionDenied):
            await ci.create_principal(principal_id="sneaky", principal=viewer())

    records = [r async for r in admin.list_audit_records(page_size=2)]
    assert [r.sequence for r in records] == sorted((r.sequence for r in records), reverse=True)
    methods = [(r.principal, r.method.rpartition("/")[2], r.code) for r in records]
    assert methods[:3] == [
        (CI, "CreatePrincipal", "PERMISSION_DENIED"),
        (ADMIN, "CreateToken", "OK"),
        (ADMIN, "CreatePrincipal", "OK"),
    ]
    assert records[1].resource == CI and records[1].peer  # CreateToken names its parent

    denied = [r async for r in admin.list_audit_records(filter=f'principal = "{CI}" AND code != "OK"')]
    assert [(r.method, r.reason) for r in denied] == [
        ("harrow.v1.SecurityService/CreatePrincipal", "PERMISSION_DENIED")
    ]
    with pytest.raises(harrow.InvalidArgument):
        await admin.list_audit_records(filter="secret = 1").pages().__anext__()


async def test_sync_client_over_tls_with_a_token(secure: Secured) -> None:
    def script() -> tuple[str, list[str]]:
        with harrow.SyncClient(secure.endpoints.grpc, token=secure.admin_token, tls=tls(secure)) as client:
            client.create_principal(principal_id="ci", principal=viewer())
            return client.get_caller_identity().name, [p.name for p in client.list_principals()]

    assert await asyncio.to_thread(script) == (ADMIN, [ADMIN, CI])
