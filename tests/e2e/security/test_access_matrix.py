"""Every role against a representative RPC of every family, own namespace and another, over both transports.

One table: each row is a call and the exact outcome per caller. Callers with
bad credentials (none, garbage, expired, revoked) must get UNAUTHENTICATED on
every row. Rows come in pairs that prove denials leak nothing: asking for a
VM that exists in another namespace and for one that does not answer the
same PERMISSION_DENIED.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from google.longrunning import operations_pb2
from google.protobuf import field_mask_pb2
from harrow.v1 import cluster_pb2
from harrow.v1 import ip_pool_pb2 as ip_pb
from harrow.v1 import migration_pb2 as mig_pb
from harrow.v1 import security_pb2 as sec_pb
from harrow.v1 import virtual_machine_pb2 as vm_pb

from tests.e2e.builders import create_request
from tests.e2e.clients import ApiError
from tests.e2e.security.conftest import Start
from tests.e2e.security.world import KUBECONFIG, OTHER, TEAM, World, build

CALLERS = ("viewer", "operator", "netops", "cadmin", "admin", "outsider")
BAD_CREDENTIALS = ("none", "garbage", "expired", "revoked")
OK, DENIED, MISSING, ABORTED = "OK", "PERMISSION_DENIED", "NOT_FOUND", "ABORTED"
VM, IP, MIG, CL, OPS, SEC = (
    "VirtualMachineService",
    "IpPoolService",
    "MigrationService",
    "ClusterService",
    "OperationService",
    "SecurityService",
)


@dataclass(frozen=True)
class Case:
    title: str
    service: str
    method: str
    request: Callable[[World], object]
    # Outcome for viewer, operator, netops, cadmin, admin, outsider.
    outcomes: tuple[str, str, str, str, str, str]


def everyone(outcome: str) -> tuple[str, str, str, str, str, str]:
    return (outcome,) * 6


def only_admin(outcome: str = OK) -> tuple[str, str, str, str, str, str]:
    return (DENIED, DENIED, DENIED, DENIED, outcome, DENIED)


GHOST_OPERATION = f"operations/{uuid.uuid4()}"
CASES = [
    Case("get VM, own namespace", VM, "GetVirtualMachine",
         lambda w: vm_pb.GetVirtualMachineRequest(name=f"{TEAM}/virtualMachines/web"),
         (OK, OK, OK, OK, OK, DENIED)),
    Case("get VM, other namespace", VM, "GetVirtualMachine",
         lambda w: vm_pb.GetVirtualMachineRequest(name=f"{OTHER}/virtualMachines/db"),
         (DENIED, DENIED, OK, OK, OK, DENIED)),
    Case("get missing VM, own namespace", VM, "GetVirtualMachine",
         lambda w: vm_pb.GetVirtualMachineRequest(name=f"{TEAM}/virtualMachines/ghost"),
         (MISSING, MISSING, MISSING, MISSING, MISSING, DENIED)),
    Case("get missing VM, other namespace (same answer as an existing one)", VM, "GetVirtualMachine",
         lambda w: vm_pb.GetVirtualMachineRequest(name=f"{OTHER}/virtualMachines/ghost"),
         (DENIED, DENIED, MISSING, MISSING, MISSING, DENIED)),
    Case("list VMs in every namespace", VM, "ListVirtualMachines",
         lambda w: vm_pb.ListVirtualMachinesRequest(parent="clusters/local/namespaces/-"),
         (OK, OK, OK, OK, OK, DENIED)),
    Case("list VMs, other namespace", VM, "ListVirtualMachines",
         lambda w: vm_pb.ListVirtualMachinesRequest(parent=OTHER),
         (DENIED, DENIED, OK, OK, OK, DENIED)),
    Case("create VM, own namespace", VM, "CreateVirtualMachine",
         lambda w: create_request("new", parent=TEAM, validate_only=True),
         (DENIED, OK, OK, OK, OK, DENIED)),
    Case("update VM, other namespace", VM, "UpdateVirtualMachine",
         lambda w: vm_pb.UpdateVirtualMachineRequest(
             virtual_machine=vm_pb.VirtualMachine(name=f"{OTHER}/virtualMachines/db", labels={"a": "b"}),
             update_mask=field_mask_pb2.FieldMask(paths=["labels"]), validate_only=True),
         (DENIED, DENIED, OK, OK, OK, DENIED)),
    Case("start VM with a stale etag, own namespace", VM, "StartVirtualMachine",
         lambda w: vm_pb.StartVirtualMachineRequest(name=f"{TEAM}/virtualMachines/web", etag='"stale"'),
         (DENIED, ABORTED, ABORTED, ABORTED, ABORTED, DENIED)),
    Case("delete missing VM, other namespace", VM, "DeleteVirtualMachine",
         lambda w: vm_pb.DeleteVirtualMachineRequest(name=f"{OTHER}/virtualMachines/ghost"),
         (DENIED, DENIED, MISSING, MISSING, MISSING, DENIED)),
    Case("migrate missing VM, own namespace", MIG, "MigrateVirtualMachine",
         lambda w: mig_pb.MigrateVirtualMachineRequest(name=f"{TEAM}/virtualMachines/ghost"),
         (DENIED, MISSING, MISSING, MISSING, MISSING, DENIED)),
    Case("get IP pool (cluster-level)", IP, "GetIpPool",
         lambda w: ip_pb.GetIpPoolRequest(name="clusters/local/ipPools/lan"),
         (DENIED, DENIED, OK, OK, OK, DENIED)),
    Case("allocate an address", IP, "AllocateIpAddress",
         lambda w: ip_pb.AllocateIpAddressRequest(pool="clusters/local/ipPools/lan", owner="team/lb"),
         (DENIED, DENIED, OK, OK, OK, DENIED)),
    Case("create IP pool", IP, "CreateIpPool",
         lambda w: ip_pb.CreateIpPoolRequest(
             parent="clusters/local", ip_pool_id="wan", validate_only=True,
             ip_pool=ip_pb.IpPool(spec=ip_pb.IpPoolSpec(ranges=[ip_pb.IpRange(subnet="10.1.0.0/24")]))),
         (DENIED, DENIED, DENIED, OK, OK, DENIED)),
    Case("delete missing migration policy", MIG, "DeleteMigrationPolicy",
         lambda w: mig_pb.DeleteMigrationPolicyRequest(name="clusters/local/migrationPolicies/ghost"),
         (DENIED, DENIED, DENIED, MISSING, MISSING, DENIED)),
    Case("get cluster", CL, "GetCluster",
         lambda w: cluster_pb2.GetClusterRequest(name="clusters/local"),
         (OK, OK, OK, OK, OK, DENIED)),
    Case("list clusters (filtered)", CL, "ListClusters", lambda w: cluster_pb2.ListClustersRequest(), everyone(OK)),
    Case("register cluster", CL, "CreateCluster",
         lambda w: cluster_pb2.CreateClusterRequest(
             cluster_id="edge", validate_only=True, cluster=cluster_pb2.Cluster(kubeconfig=KUBECONFIG)),
         only_admin()),
    Case("get operation, other namespace", OPS, "GetOperation",
         lambda w: operations_pb2.GetOperationRequest(name=w.other_operation),
         (DENIED, DENIED, OK, OK, OK, DENIED)),
    Case("get missing operation", OPS, "GetOperation",
         lambda w: operations_pb2.GetOperationRequest(name=GHOST_OPERATION), only_admin(MISSING)),
    Case("list operations (filtered)", OPS, "ListOperations",
         lambda w: operations_pb2.ListOperationsRequest(), everyone(OK)),
    Case("who am I", SEC, "GetCallerIdentity", lambda w: sec_pb.GetCallerIdentityRequest(), everyone(OK)),
    Case("list principals", SEC, "ListPrincipals", lambda w: sec_pb.ListPrincipalsRequest(), only_admin()),
    Case("create token", SEC, "CreateToken",
         lambda w: sec_pb.CreateTokenRequest(parent="principals/ghost"), only_admin(MISSING)),
    Case("list audit records", SEC, "ListAuditRecords", lambda w: sec_pb.ListAuditRecordsRequest(), only_admin()),
]  # fmt: skip


async def _outcome(api: object, case: Case, world: World) -> str:
    try:
        await api.call(case.service, case.method, case.request(world))  # type: ignore[attr-defined]
    except ApiError as error:
        return error.code
    return OK


@pytest.mark.parametrize("transport", ["grpc", "rest"])
async def test_every_caller_gets_exactly_the_expected_outcome(start_secure: Start, transport: str) -> None:
    secure = await start_secure()
    world = await build(secure, expire=True)
    tokens = {**world.tokens, "none": None, "garbage": "harrow_" + "x" * 43}
    wrong: list[str] = []
    checked = 0
    for caller in (*CALLERS, *BAD_CREDENTIALS):
        async with secure.api(transport, tokens[caller]) as api:
            for case in CASES:
                expected = case.outcomes[CALLERS.index(caller)] if caller in CALLERS else "UNAUTHENTICATED"
                got = await _outcome(api, case, world)
                checked += 1
                if got != expected:
                    wrong.append(f"{caller:9} {case.title}: expected {expected}, got {got}")
    assert not wrong, "\n".join(wrong)
    assert checked == len(CASES) * (len(CALLERS) + len(BAD_CREDENTIALS))
