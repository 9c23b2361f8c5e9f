"""Who is calling, and may they: bearer-token authentication and RBAC authorization as the apiserver does them.

Two kinds of identity. The token in the kubeconfig kubesim writes is the
cluster admin (like ``system:masters``: everything is allowed, the admin API
included). Service-account tokens are minted through the TokenRequest API
(``kubectl create token NAME``) or ``KubeSim.token_for``; such a caller is
``system:serviceaccount:NS:NAME`` in the groups ``system:serviceaccounts``,
``system:serviceaccounts:NS`` and ``system:authenticated``, and may do only
what the ClusterRoles and Roles bound to it allow. Rules are matched with
Kubernetes' semantics (verbs, apiGroups, resources with ``resource/sub`` and
``*/sub``, resourceNames; a RoleBinding grants only inside its namespace) and
read from the live RBAC objects on every request, so editing a role takes
effect at once, which is what lets a test prove that every rule of a role is
needed. A token dies with its ServiceAccount (bound-token semantics).

Discovery and ``/version`` stay open to any authenticated caller, as the
default ``system:discovery`` and ``system:public-info-viewer`` bindings make
them. Not modelled: aggregated ClusterRoles, escalation checks, impersonation.
"""

from __future__ import annotations

import secrets
from collections import deque
from dataclasses import dataclass
from typing import Any

from .errors import ApiError, not_found
from .resources import RBAC_GROUP, Resource, lookup
from .store import Store

Obj = dict[str, Any]
SERVICE_ACCOUNTS = lookup("", "v1", "serviceaccounts")
CLUSTER_ROLES = lookup(RBAC_GROUP, "v1", "clusterroles")
CLUSTER_ROLE_BINDINGS = lookup(RBAC_GROUP, "v1", "clusterrolebindings")
ROLES = lookup(RBAC_GROUP, "v1", "roles")
ROLE_BINDINGS = lookup(RBAC_GROUP, "v1", "rolebindings")


@dataclass(frozen=True)
class User:
    name: str
    groups: tuple[str, ...]
    admin: bool = False


@dataclass(frozen=True)
class Attributes:
    """One resource request as RBAC sees it."""

    verb: str
    group: str
    resource: str
    subresource: str = ""
    namespace: str = ""
    name: str = ""

    @property
    def combined(self) -> str:
        return f"{self.resource}/{self.subresource}" if self.subresource else self.resource


ADMIN_NAME = "kubesim-admin"


def _resource(found: Resource | None) -> Resource:
    assert found is not None, "the RBAC kinds are in the resource table"
    return found


class Rbac:
    def __init__(self, store: Store, admin_token: str) -> None:
        self._store = store
        self._admin_token = admin_token
        # token -> (namespace, name, uid of the ServiceAccount it was minted for)
        self._tokens: dict[str, tuple[str, str, str]] = {}
        # The newest refusals, newest last: what a test prints when something was forbidden.
        self.denials: deque[str] = deque(maxlen=200)
        # Every distinct request a service account was allowed: what a least-privilege check compares against.
        self.granted: set[Attributes] = set()

    def authenticate(self, authorization: str | None) -> User | None:
        token = (authorization or "").removeprefix("Bearer ")
        if not token or token == authorization:
            return None
        if secrets.compare_digest(token, self._admin_token):
            return User(ADMIN_NAME, ("system:masters", "system:authenticated"), admin=True)
        bound = self._tokens.get(token)
        if bound is None:
            return None
        namespace, name, uid = bound
        account = self._store.find(_resource(SERVICE_ACCOUNTS), namespace, name)
        if account is None or account["metadata"].get("uid") != uid:
            return None
        return User(
            f"system:serviceaccount:{namespace}:{name}",
            ("system:serviceaccounts", f"system:serviceaccounts:{namespace}", "system:authenticated"),
        )

    def mint(self, namespace: str, name: str) -> str:
        """A token for an existing ServiceAccount (what TokenRequest answers)."""
        account = self._store.find(_resource(SERVICE_ACCOUNTS), namespace, name)
        if account is None:
            raise not_found("serviceaccounts", "", name)
        token = secrets.token_urlsafe(32)
        self._tokens[token] = (namespace, name, account["metadata"]["uid"])
        return token

    def authorize(self, user: User, request: Attributes) -> None:
        """Return if a bound rule allows the request; otherwise the apiserver's 403, word for word."""
        if user.admin:
            return
        if allows(self._rules(user, request.namespace), request):
            self.granted.add(request)
            return
        what = f"{request.resource}.{request.group}" if request.group else request.resource
        if request.name:
            what += f' "{request.name}"'
        scope = f'in the namespace "{request.namespace}"' if request.namespace else "at the cluster scope"
        message = (
            f'{what} is forbidden: User "{user.name}" cannot {request.verb} resource "{request.combined}" '
            f'in API group "{request.group}" {scope}'
        )
        self.denials.append(message)
        raise ApiError(403, message, details={"name": request.name, "group": request.group, "kind": request.resource})

    def _rules(self, user: User, namespace: str) -> list[Obj]:
        rules: list[Obj] = []
        for binding in self._store.items(_resource(CLUSTER_ROLE_BINDINGS)):
            if _binds(binding, user, ""):
                rules += self._role_rules(binding.get("roleRef") or {}, "")
        if namespace:
            for binding in self._store.items(_resource(ROLE_BINDINGS), namespace):
                if _binds(binding, user, namespace):
                    rules += self._role_rules(binding.get("roleRef") or {}, namespace)
        return rules

    def _role_rules(self, ref: Obj, namespace: str) -> list[Obj]:
        if ref.get("kind") == "ClusterRole":
            role = self._store.find(_resource(CLUSTER_ROLES), "", str(ref.get("name", "")))
        elif ref.get("kind") == "Role" and namespace:
            role = self._store.find(_resource(ROLES), namespace, str(ref.get("name", "")))
        else:
            role = None
        return list((role or {}).get("rules") or [])


def _binds(binding: Obj, user: User, namespace: str) -> bool:
    for subject in binding.get("subjects") or []:
        kind, name = subject.get("kind"), subject.get("name")
        if kind == "ServiceAccount":
            if user.name == f"system:serviceaccount:{subject.get('namespace') or namespace}:{name}":
                return True
        elif (kind == "User" and name == user.name) or (kind == "Group" and name in user.groups):
            return True
    return False


def allows(rules: list[Obj], request: Attributes) -> bool:
    """Whether any of `rules` (a Role's or ClusterRole's) permits the request."""
    return any(_allows(rule, request) for rule in rules)


def _allows(rule: Obj, request: Attributes) -> bool:
    verbs = rule.get("verbs") or []
    groups = rule.get("apiGroups") or []
    resources = rule.get("resources") or []
    names = rule.get("resourceNames") or []
    return (
        ("*" in verbs or request.verb in verbs)
        and ("*" in groups or request.group in groups)
        and any(
            entry in ("*", request.combined) or (request.subresource and entry == f"*/{request.subresource}")
            for entry in resources
        )
        and (not names or request.name in names)
    )
