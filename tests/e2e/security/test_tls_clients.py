"""TLS and mutual TLS the way users connect: the Python SDK, the grpcurl binary, curl over https.

Every command here is the one the README's Security section shows, with the
address and files filled in. A client that does not trust the server's CA,
or (with a client CA configured) brings no certificate, gets nowhere; a
certificate from the trusted CA names its principal, and one whose subject
no principal claims is UNAUTHENTICATED.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import socket
import ssl
import sys
import warnings
from pathlib import Path

import harrow
import pytest
from harrow.v1 import security_pb2 as sec_pb

from tests.e2e.security.conftest import Secured, Start
from tests.e2e.security.pki import subject
from tests.e2e.security.world import add_principal

GRPCURL = shutil.which("grpcurl", path=str(Path(sys.executable).parent)) or "grpcurl"
IDENTITY = "harrow.v1.SecurityService/GetCallerIdentity"
CI_SUBJECT = "CN=ci,O=example"
ONCE = harrow.RetryConfig(max_attempts=1)


async def run(*argv: str) -> tuple[int, str, str]:
    process = await asyncio.create_subprocess_exec(
        *argv, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, stdin=asyncio.subprocess.DEVNULL
    )
    try:
        out, err = await asyncio.wait_for(process.communicate(), 30)
    except TimeoutError:
        process.kill()  # a client stuck on a handshake must not outlive the test
        await process.wait()
        raise
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


# How a server ends a handshake it will not have: OpenSSL (REST) sends a protocol_version alert, gRPC's
# BoringSSL hangs up after reading the hello. A client that could not offer the version itself would fail
# before sending anything, with another reason (NO_CIPHERS_AVAILABLE at the default security level).
SERVER_REFUSED = ("TLSV1_ALERT_PROTOCOL_VERSION", "UNEXPECTED_EOF_WHILE_READING")


def handshake(address: str, ca: Path, newest: ssl.TLSVersion) -> str | None:
    """The TLS version negotiated by a client offering every version up to `newest`.

    Not curl: curl on OpenSSL 3 will not offer TLS 1.1 at all, so a refusal would come from the client and
    prove nothing. This client offers TLS 1.0 and 1.1 with their ciphers (security level 0), so only the
    server can refuse; against a server that allows TLS 1.0 it negotiates TLSv1.1.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # the point is to offer the deprecated versions
        context = ssl.create_default_context(cafile=str(ca))
        context.minimum_version = ssl.TLSVersion.MINIMUM_SUPPORTED
        context.maximum_version = newest
    context.set_ciphers("DEFAULT:@SECLEVEL=0")
    context.set_alpn_protocols(["h2", "http/1.1"])
    host, port = address.rsplit(":", 1)
    with socket.create_connection((host, int(port)), timeout=10) as raw:
        with context.wrap_socket(raw, server_hostname=host) as connection:
            return connection.version()


def sdk(secure: Secured, token: str | None, *, ca: bool = True, client: bool = False) -> harrow.Client:
    pki = secure.pki
    tls = harrow.TlsConfig(
        root_certificates=pki.ca.cert_pem if ca else None,
        private_key=pki.client.key_pem if client else None,
        certificate_chain=pki.client.cert_pem if client else None,
    )
    return harrow.Client(secure.endpoints.grpc, token=token or "", tls=tls, retry=ONCE, timeout=10)


async def test_server_tls_with_the_sdk_grpcurl_and_curl(secure: Secured) -> None:
    async with sdk(secure, secure.admin_token) as client:
        assert (await client.get_caller_identity()).name == "principals/admin"
    async with sdk(secure, secure.admin_token, ca=False) as untrusting:  # the system trust store: no
        with pytest.raises(harrow.HarrowError) as refused:
            await untrusting.get_caller_identity()
    assert refused.value.code == "UNAVAILABLE"
    async with sdk(secure, None) as anonymous:
        with pytest.raises(harrow.HarrowError) as unauthenticated:
            await anonymous.get_caller_identity()
    assert unauthenticated.value.code == "UNAUTHENTICATED"

    ca, address, bearer = (
        str(secure.pki.ca.cert_file),
        secure.endpoints.grpc,
        f"authorization: Bearer {secure.admin_token}",
    )
    code, out, err = await run(GRPCURL, "-cacert", ca, "-H", bearer, address, IDENTITY)
    assert code == 0, err
    assert json.loads(out)["name"] == "principals/admin"
    code, out, err = await run(GRPCURL, "-cacert", ca, address, "list")  # reflection needs no token
    assert code == 0 and "harrow.v1.SecurityService" in out.split()
    code, _, err = await run(GRPCURL, "-H", bearer, address, IDENTITY)  # without -cacert: untrusted
    assert code != 0 and "certificate" in err
    code, _, err = await run(GRPCURL, "-plaintext", "-H", bearer, address, IDENTITY)
    assert code != 0

    url = f"{secure.endpoints.rest}/v1/callerIdentity"
    code, out, err = await run("curl", "-sS", "--cacert", ca, "-H", f"Authorization: Bearer {secure.admin_token}", url)
    assert code == 0, err
    assert json.loads(out)["name"] == "principals/admin"
    code, out, _ = await run("curl", "-sS", "-w", "%{http_code}", "-o", "/dev/null", "--cacert", ca, url)
    assert (code, out) == (0, "401")
    code, _, err = await run("curl", "-sS", url)  # no CA given: the certificate is not trusted
    assert code != 0 and "certificate" in err

    # TLS 1.2 is the floor on both listeners: the server itself refuses an older client.
    rest_address = secure.endpoints.rest.removeprefix("https://")
    for address in (secure.endpoints.grpc, rest_address):
        assert await asyncio.to_thread(handshake, address, secure.pki.ca.cert_file, ssl.TLSVersion.TLSv1_2) == "TLSv1.2"
        with pytest.raises(ssl.SSLError) as old:
            await asyncio.to_thread(handshake, address, secure.pki.ca.cert_file, ssl.TLSVersion.TLSv1_1)
        assert old.value.reason in SERVER_REFUSED, (address, old.value)


async def test_mutual_tls_names_the_principal_with_the_sdk_grpcurl_and_curl(start_secure: Start) -> None:
    secure = await start_secure(client_ca=True)
    pki = secure.pki
    async with sdk(secure, secure.admin_token, client=True) as admin:  # a token wins over the certificate
        assert (await admin.get_caller_identity()).name == "principals/admin"
        await add_principal(_SdkAdmin(admin), "ci", sec_pb.OPERATOR, "local", "", subjects=(CI_SUBJECT,))

    async with sdk(secure, None, client=True) as ci:  # the certificate alone
        identity = await ci.get_caller_identity()
    assert identity.name == "principals/ci" and list(identity.certificate_subjects) == [CI_SUBJECT]
    async with sdk(secure, secure.admin_token) as without_certificate:
        with pytest.raises(harrow.HarrowError) as refused:
            await without_certificate.get_caller_identity()
    assert refused.value.code == "UNAVAILABLE"  # the handshake fails: a client certificate is required

    nobody = pki.ca.issue("nobody", subject("nobody", "example"), server=False)
    tls = harrow.TlsConfig(pki.ca.cert_pem, nobody.key_pem, nobody.cert_pem)
    async with harrow.Client(secure.endpoints.grpc, tls=tls, retry=ONCE, timeout=10) as unknown:
        with pytest.raises(harrow.HarrowError) as unclaimed:
            await unknown.get_caller_identity()
    assert unclaimed.value.code == "UNAUTHENTICATED"  # trusted, but no principal claims CN=nobody

    ca, cert, key, address = (
        str(pki.ca.cert_file),
        str(pki.client.cert_file),
        str(pki.client.key_file),
        secure.endpoints.grpc,
    )
    code, out, err = await run(GRPCURL, "-cacert", ca, "-cert", cert, "-key", key, address, IDENTITY)
    assert code == 0, err
    assert json.loads(out)["name"] == "principals/ci"
    code, _, err = await run(GRPCURL, "-cacert", ca, address, IDENTITY)
    assert code != 0 and "Failed to dial" in err

    url = f"{secure.endpoints.rest}/v1/callerIdentity"
    code, out, err = await run("curl", "-sS", "--cacert", ca, "--cert", cert, "--key", key, url)
    assert code == 0, err
    assert json.loads(out)["name"] == "principals/ci"
    code, _, _ = await run("curl", "-sS", "--cacert", ca, url)
    assert code != 0


class _SdkAdmin:
    """The world helpers' `call(service, method, request)` over an SDK client."""

    def __init__(self, client: harrow.Client):
        self._client = client

    async def call(self, service: str, method: str, request: sec_pb.CreatePrincipalRequest) -> object:
        assert (service, method) == ("SecurityService", "CreatePrincipal")
        return await self._client.create_principal(principal_id=request.principal_id, principal=request.principal)
