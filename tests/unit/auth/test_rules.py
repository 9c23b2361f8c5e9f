"""The authorization table covers the contract exactly: a new RPC is denied until someone maps it."""

from __future__ import annotations

import importlib
import pkgutil

from google.protobuf import descriptor_pool

from server.auth.policy import Permission
from server.auth.rules import RULES


def _contract_rpcs() -> set[str]:
    package = importlib.import_module("harrow.v1")
    rpcs: set[str] = set()
    for module in pkgutil.iter_modules(package.__path__):
        if module.name.endswith("_pb2"):
            file = importlib.import_module(f"harrow.v1.{module.name}").DESCRIPTOR
            for service in descriptor_pool.Default().FindFileByName(file.name).services_by_name.values():
                rpcs.update(f"{service.full_name}/{method.name}" for method in service.methods)
    return rpcs


def test_every_rpc_in_the_contract_is_mapped_and_nothing_else() -> None:
    assert set(RULES) == _contract_rpcs()


def test_every_rule_acts_on_a_named_resource_or_is_open_or_installation_admin() -> None:
    for rule in RULES.values():
        assert rule.scope_field is not None or rule.open or rule.permission is Permission.ADMIN, rule.method


def test_reads_never_mutate_and_lifecycle_verbs_are_operator_actions() -> None:
    assert not RULES["harrow.v1.VirtualMachineService/WatchVirtualMachines"].mutating
    assert RULES["harrow.v1.VirtualMachineService/StartVirtualMachine"].permission is Permission.OPERATE
    assert RULES["harrow.v1.IpPoolService/ReleaseIpAddress"].permission is Permission.OPERATE
    assert RULES["harrow.v1.IpPoolService/UpdateIpPool"].permission is Permission.ADMIN
    assert RULES["harrow.v1.IpPoolService/UpdateIpPool"].scope_field == "ip_pool.name"


def test_a_create_is_audited_under_the_name_it_makes_not_its_parent() -> None:
    from harrow.v1 import security_pb2, virtual_machine_pb2

    principal = RULES["harrow.v1.SecurityService/CreatePrincipal"]
    assert principal.resource(security_pb2.CreatePrincipalRequest(principal_id="ci")) == ""  # scope: installation
    assert principal.audited_resource(security_pb2.CreatePrincipalRequest(principal_id="ci")) == "principals/ci"
    vm = RULES["harrow.v1.VirtualMachineService/CreateVirtualMachine"]
    request = virtual_machine_pb2.CreateVirtualMachineRequest(parent="clusters/c/namespaces/n", virtual_machine_id="w")
    assert vm.resource(request) == "clusters/c/namespaces/n"
    assert vm.audited_resource(request) == "clusters/c/namespaces/n/virtualMachines/w"
    start = RULES["harrow.v1.VirtualMachineService/StartVirtualMachine"]
    name = "clusters/c/namespaces/n/virtualMachines/w"
    assert start.audited_resource(virtual_machine_pb2.StartVirtualMachineRequest(name=name)) == name
