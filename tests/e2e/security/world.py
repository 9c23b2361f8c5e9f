"""The principals, tokens and resources the security tests act on, created through the admin API."""

from __future__ import annotations

import asyncio
import secrets
from dataclasses import dataclass, field

from google.protobuf import duration_pb2
from harrow.v1 import ip_pool_pb2 as ip_pb
from harrow.v1 import security_pb2 as sec_pb

from tests.e2e.builders import create_request
from tests.e2e.security.conftest import Secured

TEAM = "clusters/local/namespaces/team"
OTHER = "clusters/local/namespaces/other"
SECURITY = "SecurityService"
ROLES = {
    # principal: (role, cluster, namespace)
    "viewer": (sec_pb.VIEWER, "local", "team"),
    "operator": (sec_pb.OPERATOR, "local", "team"),
    "netops": (sec_pb.OPERATOR, "local", ""),
    "cadmin": (sec_pb.ADMIN, "local", ""),
    "outsider": (sec_pb.VIEWER, "elsewhere", ""),
}
# A kubeconfig whose credential must never be seen again once registered.
KUBECONFIG_TOKEN = "kc-" + secrets.token_hex(16)
KUBECONFIG = f"""apiVersion: v1
kind: Config
clusters: [{{name: edge, cluster: {{server: "https://10.9.9.9:6443"}}}}]
users: [{{name: edge, user: {{token: {KUBECONFIG_TOKEN}}}}}]
contexts: [{{name: edge, context: {{cluster: edge, user: edge}}}}]
current-context: edge
"""


@dataclass
class World:
    tokens: dict[str, str] = field(default_factory=dict)
    other_operation: str = ""


async def add_principal(
    admin: object, principal_id: str, role: int, cluster: str, namespace: str, subjects: tuple[str, ...] = ()
) -> None:
    principal = sec_pb.Principal(
        role_bindings=[sec_pb.RoleBinding(role=role, cluster=cluster, namespace=namespace)],
        certificate_subjects=list(subjects),
    )
    request = sec_pb.CreatePrincipalRequest(principal_id=principal_id, principal=principal)
    await admin.call(SECURITY, "CreatePrincipal", request)  # type: ignore[attr-defined]


async def new_token(admin: object, principal_id: str, ttl_seconds: int = 0) -> sec_pb.CreateTokenResponse:
    request = sec_pb.CreateTokenRequest(parent=f"principals/{principal_id}")
    if ttl_seconds:
        request.ttl.CopyFrom(duration_pb2.Duration(seconds=ttl_seconds))
    response: sec_pb.CreateTokenResponse = await admin.call(SECURITY, "CreateToken", request)  # type: ignore[attr-defined]
    return response


async def build(secure: Secured, *, expire: bool = False) -> World:
    """Principals for every role, their tokens (plus a revoked one, and with `expire` an expired one),
    two VMs and a pool."""
    world = World()
    async with secure.api("grpc", secure.admin_token) as admin:
        for principal_id, (role, cluster, namespace) in ROLES.items():
            await add_principal(admin, principal_id, role, cluster, namespace)
            world.tokens[principal_id] = (await new_token(admin, principal_id)).secret
        world.tokens["admin"] = secure.admin_token
        expiring = await new_token(admin, "operator", ttl_seconds=1)
        revoked = await new_token(admin, "cadmin")
        await admin.call(SECURITY, "RevokeToken", sec_pb.RevokeTokenRequest(name=revoked.token.name))
        world.tokens["revoked"] = revoked.secret
        world.tokens["expired"] = expiring.secret
        await admin.call("VirtualMachineService", "CreateVirtualMachine", create_request("web", parent=TEAM))
        created = await admin.call("VirtualMachineService", "CreateVirtualMachine", create_request("db", parent=OTHER))
        world.other_operation = created.name
        pool = ip_pb.IpPool(spec=ip_pb.IpPoolSpec(ranges=[ip_pb.IpRange(subnet="10.0.0.0/24")]))
        await admin.call(
            "IpPoolService",
            "CreateIpPool",
            ip_pb.CreateIpPoolRequest(parent="clusters/local", ip_pool_id="lan", ip_pool=pool),
        )
    if expire:
        await asyncio.sleep(1.1)
    return world
