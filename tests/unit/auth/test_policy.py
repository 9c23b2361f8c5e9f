"""Role bindings → decisions and visibility."""

from __future__ import annotations

import pytest

from server.auth.policy import (
    ANY_NAMESPACE,
    INSTALLATION,
    Binding,
    Caller,
    Permission,
    Role,
    Scope,
    scope_of,
)

TEAM_OPERATOR = Caller("principals/op", (Binding(Role.OPERATOR, "local", "team"),))
CLUSTER_ADMIN = Caller("principals/ca", (Binding(Role.ADMIN, "local"),))
EVERYWHERE_VIEWER = Caller("principals/v", (Binding(Role.VIEWER, "*", "team"),))
ADMIN = Caller("principals/admin", (Binding(Role.ADMIN, "*"),))


@pytest.mark.parametrize(
    ("name", "scope"),
    [
        ("clusters/local/namespaces/team/virtualMachines/web", Scope("local", "team")),
        ("clusters/local/namespaces/-", Scope("local", ANY_NAMESPACE)),
        ("clusters/local/ipPools/lan", Scope("local")),
        ("clusters/local", Scope("local")),
        ("principals/x", INSTALLATION),
        ("", INSTALLATION),
        ("clusters//namespaces/x", INSTALLATION),
    ],
)
def test_scope_of_a_name(name: str, scope: Scope) -> None:
    assert scope_of(name) == scope


@pytest.mark.parametrize(
    ("caller", "permission", "scope", "allowed"),
    [
        (TEAM_OPERATOR, Permission.OPERATE, Scope("local", "team"), True),
        (TEAM_OPERATOR, Permission.ADMIN, Scope("local", "team"), False),
        (TEAM_OPERATOR, Permission.READ, Scope("local", "other"), False),
        (TEAM_OPERATOR, Permission.READ, Scope("local"), False),  # namespace bindings never reach cluster-level
        (TEAM_OPERATOR, Permission.READ, Scope("local", ANY_NAMESPACE), True),
        (TEAM_OPERATOR, Permission.READ, Scope("edge", ANY_NAMESPACE), False),
        (CLUSTER_ADMIN, Permission.ADMIN, Scope("local"), True),
        (CLUSTER_ADMIN, Permission.ADMIN, Scope("edge"), False),
        (CLUSTER_ADMIN, Permission.READ, INSTALLATION, False),
        (EVERYWHERE_VIEWER, Permission.READ, Scope("edge", "team"), True),
        (EVERYWHERE_VIEWER, Permission.READ, INSTALLATION, False),
        (ADMIN, Permission.ADMIN, INSTALLATION, True),
    ],
)
def test_decisions(caller: Caller, permission: Permission, scope: Scope, allowed: bool) -> None:
    assert caller.allows(permission, scope) is allowed


def test_visibility() -> None:
    assert TEAM_OPERATOR.namespaces("local") == {"team"} and TEAM_OPERATOR.namespaces("edge") == frozenset()
    assert CLUSTER_ADMIN.namespaces("local") is None and ADMIN.clusters() is None
    assert TEAM_OPERATOR.clusters() == {"local"}
    assert TEAM_OPERATOR.target_patterns() == ("clusters/local/namespaces/team/%",)
    assert EVERYWHERE_VIEWER.target_patterns() == ("clusters/%/namespaces/team/%",)
    assert CLUSTER_ADMIN.target_patterns() == ("clusters/local/%",) and ADMIN.target_patterns() is None
