"""Discovery documents built from the resource table.

kubectl 1.32 asks for aggregated discovery first and falls back to these
legacy documents when the reply is plain ``application/json``; the
kubernetes-asyncio client only needs them for ``kubectl``-style tooling.
Serving the legacy form alone keeps one source of truth.
"""

from __future__ import annotations

from typing import Any

from .resources import RESOURCES, VERBS, VM_SUBRESOURCES, VMI_SUBRESOURCES, Resource, group_versions


def version(kubernetes_version: str) -> dict[str, Any]:
    major, minor = kubernetes_version.lstrip("v").split(".")[:2]
    return {
        "major": major,
        "minor": minor,
        "gitVersion": kubernetes_version + "-kubesim",
        "gitCommit": "kubesim",
        "gitTreeState": "clean",
        "buildDate": "2025-01-01T00:00:00Z",
        "goVersion": "go1.23",
        "compiler": "gc",
        "platform": "linux/amd64",
    }


def core_versions() -> dict[str, Any]:
    return {
        "kind": "APIVersions",
        "versions": ["v1"],
        "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": ""}],
    }


def _group(name: str, versions: list[str]) -> dict[str, Any]:
    gvs = [{"groupVersion": f"{name}/{v}", "version": v} for v in versions]
    return {"kind": "APIGroup", "apiVersion": "v1", "name": name, "versions": gvs, "preferredVersion": gvs[0]}


def groups() -> dict[str, Any]:
    return {
        "kind": "APIGroupList",
        "apiVersion": "v1",
        "groups": [_group(name, vs) for name, vs in group_versions().items()],
    }


def group(name: str) -> dict[str, Any] | None:
    versions = group_versions().get(name)
    return _group(name, versions) if versions else None


def _entry(r: Resource) -> list[dict[str, Any]]:
    main: dict[str, Any] = {
        "name": r.plural,
        "singularName": r.singular,
        "namespaced": r.namespaced,
        "kind": r.kind,
        "verbs": VERBS,
    }
    if r.short_names:
        main["shortNames"] = list(r.short_names)
    if r.categories:
        main["categories"] = list(r.categories)
    out = [main]
    if r.status_subresource:
        out.append(
            {
                "name": f"{r.plural}/status",
                "singularName": "",
                "namespaced": r.namespaced,
                "kind": r.kind,
                "verbs": ["get", "patch", "update"],
            }
        )
    return out


def resources(group_name: str, ver: str) -> dict[str, Any] | None:
    gv = f"{group_name}/{ver}" if group_name else ver
    if group_name == "subresources.kubevirt.io" and ver == "v1":
        subs = [(f"virtualmachines/{s}", "VirtualMachine") for s in VM_SUBRESOURCES]
        subs += [(f"virtualmachineinstances/{s}", "VirtualMachineInstance") for s in VMI_SUBRESOURCES]
        listed = [{"name": n, "singularName": "", "namespaced": True, "kind": k, "verbs": ["update"]} for n, k in subs]
    else:
        matched = [r for r in RESOURCES if r.group == group_name and r.version == ver]
        if not matched:
            return None
        listed = [e for r in matched for e in _entry(r)]
    return {"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": gv, "resources": listed}


def openapi_v3_index() -> dict[str, Any]:
    """The OpenAPI v3 index; kubectl reads it to learn that field validation is server-side."""
    paths: dict[str, Any] = {"api/v1": {"serverRelativeURL": "/openapi/v3/api/v1"}}
    for name, versions in group_versions().items():
        for ver in versions:
            paths[f"apis/{name}/{ver}"] = {"serverRelativeURL": f"/openapi/v3/apis/{name}/{ver}"}
    return {"paths": paths}


def openapi_v3(group_name: str, ver: str) -> dict[str, Any] | None:
    matched = [r for r in RESOURCES if r.group == group_name and r.version == ver]
    if not matched:
        return None
    params = [
        {"name": p, "in": "query", "schema": {"type": "string", "uniqueItems": True}}
        for p in ("dryRun", "fieldManager", "fieldValidation")
    ]
    paths: dict[str, Any] = {}
    for r in matched:
        prefix = f"/apis/{r.group_version}" if r.group else "/api/v1"
        scope = "/namespaces/{namespace}" if r.namespaced else ""
        gvk = {"group": r.group, "version": r.version, "kind": r.kind}
        op = {"parameters": params, "x-kubernetes-group-version-kind": gvk, "responses": {}}
        paths[f"{prefix}{scope}/{r.plural}"] = {"post": op}
        paths[f"{prefix}{scope}/{r.plural}/{{name}}"] = {"put": op, "patch": op}
    return {
        "openapi": "3.0.0",
        "info": {"title": "Kubernetes", "version": "v1.32.0"},
        "paths": paths,
        "components": {"schemas": {}},
    }
