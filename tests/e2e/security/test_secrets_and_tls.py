"""Secrets stay secret (hashes, ciphertext, no logs), TLS is required, and client certificates name principals."""

from __future__ import annotations

import asyncio
import logging

import aiohttp
import asyncpg
import grpc
import pytest
from google.protobuf import json_format
from harrow.v1 import cluster_pb2
from harrow.v1 import security_pb2 as sec_pb

from server import cli
from server.auth.secret_box import SEALED_PREFIX, SecretBox
from tests.e2e.clients import ApiError
from tests.e2e.security.conftest import Pki, Secured, Start
from tests.e2e.security.world import KUBECONFIG, KUBECONFIG_TOKEN, add_principal, build, new_token

CI_SUBJECT = "CN=ci,O=example"


async def _dump(database_url: str) -> str:
    """Every row of every table Harrow owns, as text: where a leaked secret would show."""
    connection = await asyncpg.connect(database_url)
    try:
        tables = await connection.fetch("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
        rows = [await connection.fetch(f'SELECT * FROM "{t["tablename"]}"') for t in tables]
    finally:
        await connection.close()
    return "\n".join(repr(dict(row)) for table in rows for row in table)


async def test_tokens_and_kubeconfigs_are_never_stored_returned_or_logged_in_the_clear(
    secure: Secured, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    world = await build(secure)
    async with secure.api("rest", secure.admin_token) as admin:
        created = await admin.call(
            "ClusterService",
            "CreateCluster",
            cluster_pb2.CreateClusterRequest(cluster_id="edge", cluster=cluster_pb2.Cluster(kubeconfig=KUBECONFIG)),
        )
        tokens = await admin.call("SecurityService", "ListTokens", sec_pb.ListTokensRequest(parent="principals/-"))
    returned = json_format.MessageToJson(created) + json_format.MessageToJson(tokens)
    dump = await _dump(secure.database_url)
    secrets = [*world.tokens.values(), KUBECONFIG_TOKEN]
    for secret in secrets:
        assert secret not in dump and secret not in returned and secret not in caplog.text
    connection = await asyncpg.connect(secure.database_url)
    try:
        stored = await connection.fetchval("SELECT kubeconfig FROM clusters WHERE name = 'clusters/edge'")
        hashes = await connection.fetchval("SELECT count(*) FROM api_tokens WHERE length(secret_hash) = 32")
    finally:
        await connection.close()
    assert stored.startswith(SEALED_PREFIX) and KUBECONFIG.encode() not in stored
    assert SecretBox(secure.secret_key).open(stored, "clusters/edge") == KUBECONFIG.encode()
    assert hashes == len(tokens.tokens) == 8  # five roles, bootstrap admin, an expiring and a revoked one


async def test_the_token_cli_creates_and_revokes(secure: Secured, monkeypatch, capsys) -> None:
    monkeypatch.setenv("HARROW_DATABASE_URL", secure.database_url)
    create = ["token", "create", "--principal", "robot", "--role", "viewer", "--cluster", "local"]
    assert await asyncio.to_thread(cli.main, create) == 0  # the CLI runs its own event loop
    name, secret = capsys.readouterr().out.split()
    async with secure.api("grpc", secret) as robot:
        identity = await robot.call("SecurityService", "GetCallerIdentity", sec_pb.GetCallerIdentityRequest())
        assert identity.name == "principals/robot" and identity.role_bindings[0].cluster == "local"
    assert await asyncio.to_thread(cli.main, ["token", "revoke", name]) == 0
    async with secure.api("grpc", secret) as robot:
        with pytest.raises(ApiError) as refused:
            await robot.call("SecurityService", "GetCallerIdentity", sec_pb.GetCallerIdentityRequest())
    assert refused.value.code == "UNAUTHENTICATED"


def test_serve_refuses_plaintext_unless_told_insecure(monkeypatch, capsys) -> None:
    monkeypatch.setenv("HARROW_DATABASE_URL", "postgresql://nobody@127.0.0.1:1/none")
    assert cli.main(["serve"]) == 2
    assert "--insecure" in capsys.readouterr().err


def test_serve_refuses_tls_without_a_secret_key_unless_told_insecure(pki: Pki, monkeypatch, capsys) -> None:
    """TLS alone is not enough: without a key, registered kubeconfigs would be stored in the clear."""
    monkeypatch.setenv("HARROW_DATABASE_URL", "postgresql://nobody@127.0.0.1:1/none")
    monkeypatch.delenv("HARROW_SECRET_KEY", raising=False)
    monkeypatch.delenv("HARROW_SECRET_KEY_FILE", raising=False)
    tls = ["--tls-cert", str(pki.server.cert_file), "--tls-key", str(pki.server.key_file)]
    assert cli.main(["serve", *tls]) == 2
    refusal = capsys.readouterr().err
    assert "HARROW_SECRET_KEY" in refusal and "--insecure" in refusal


async def test_plaintext_clients_cannot_talk_to_a_tls_server(secure: Secured) -> None:
    async with grpc.aio.insecure_channel(secure.endpoints.grpc) as channel:
        with pytest.raises(grpc.aio.AioRpcError):
            await channel.unary_unary("/harrow.v1.SecurityService/GetCallerIdentity")(b"", timeout=2)
    plain = secure.endpoints.rest.replace("https://", "http://")
    async with aiohttp.ClientSession() as session:
        with pytest.raises(aiohttp.ClientError):
            async with session.get(f"{plain}/v1/callerIdentity") as response:
                await response.read()


@pytest.mark.parametrize("transport", ["grpc", "rest"])
async def test_a_client_certificate_authenticates_as_its_principal(start_secure: Start, transport: str) -> None:
    secure = await start_secure(client_ca=True)
    admin_certificate = secure.pki.client  # the CA's "ci" certificate; TLS needs one for every connection
    async with secure.api(transport, secure.admin_token, admin_certificate) as admin:
        await add_principal(admin, "ci", sec_pb.OPERATOR, "local", "", subjects=(CI_SUBJECT,))
        token = (await new_token(admin, "ci")).secret
    async with secure.api(transport, None, secure.pki.client) as ci:
        identity = await ci.call("SecurityService", "GetCallerIdentity", sec_pb.GetCallerIdentityRequest())
    assert identity.name == "principals/ci" and list(identity.certificate_subjects) == [CI_SUBJECT]
    async with secure.api(transport, token, secure.pki.stranger) as stranger:
        with pytest.raises((ApiError, aiohttp.ClientError)):  # the handshake fails: an untrusted CA
            await stranger.call("SecurityService", "GetCallerIdentity", sec_pb.GetCallerIdentityRequest())
