"""deploy/: the plain manifests and the Helm chart are valid Kubernetes, agree with each other, and are locked down.

Built-in kinds are validated against the Kubernetes OpenAPI schemas
(kubernetes-validate, strict: unknown fields fail) for the oldest and newest
versions the chart claims. The chart is rendered by Helm's own engine
(helm-python-sdk binds Helm's Go SDK), never by a stand-in. The two custom
resources (ServiceMonitor, CloudNativePG Cluster) have no schema offline, so
what Harrow relies on in them is checked instead: that they point at the
Service, port and Secret the Deployment uses.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import helm_python
import kubernetes_validate
import pytest
import yaml

DEPLOY = Path(__file__).parents[2] / "deploy"
CHART = DEPLOY / "helm" / "harrow"
KUBERNETES_VERSIONS = ("1.30", "1.37")
CUSTOM_KINDS = {"ServiceMonitor", "Cluster"}

Doc = dict[str, Any]


def plain() -> list[Doc]:
    paths = sorted(path for path in (DEPLOY / "k8s").glob("*.yaml") if path.name != "kustomization.yaml")
    return [doc for path in paths for doc in yaml.safe_load_all(path.read_text()) if doc]


def test_kustomize_applies_everything_but_the_optional_parts_and_the_migration() -> None:
    listed = set(yaml.safe_load((DEPLOY / "k8s" / "kustomization.yaml").read_text())["resources"])
    on_their_own = {"servicemonitor.yaml", "postgres-cnpg.yaml", "migrate-job.yaml", "kustomization.yaml"}
    assert listed == {path.name for path in (DEPLOY / "k8s").glob("*.yaml")} - on_their_own


def rendered(values: dict[str, Any] | None = None) -> list[Doc]:
    with helm_python.Chart.load(CHART) as chart:
        manifests = chart.render(values or {}, name="harrow", namespace="harrow", is_install=True)
    return [doc for text in manifests.values() for doc in yaml.safe_load_all(text) if isinstance(doc, dict)]


CHART_VALUES = {
    "defaults": {},
    "monitored, strict spreading, tuned": {
        "serviceMonitor": {"enabled": True},
        "podAntiAffinity": "required",
        "extraEnv": [{"name": "HARROW_RECONCILE_WORKERS", "value": "32"}],
        "imagePullSecrets": [{"name": "registry"}],
        "nodeSelector": {"kubernetes.io/os": "linux"},
    },
}


def by_kind(docs: list[Doc], kind: str) -> Doc:
    return next(doc for doc in docs if doc["kind"] == kind)


def pod_templates(docs: list[Doc]) -> Iterator[tuple[str, Doc]]:
    for doc in docs:
        if doc["kind"] in ("Deployment", "Job"):
            yield f"{doc['kind']}/{doc['metadata']['name']}", doc["spec"]["template"]["spec"]


def test_the_chart_lints_clean_under_helm() -> None:
    report = helm_python.lint(CHART, strict=True, namespace="harrow", kube_version="v1.30.0")
    assert report["errors"] == []
    assert [m for m in report["messages"] if m["severity"] >= 2] == []


@pytest.mark.parametrize("version", KUBERNETES_VERSIONS)
@pytest.mark.parametrize("source", ["plain", *CHART_VALUES])
def test_every_built_in_object_validates_against_the_kubernetes_schema(source: str, version: str) -> None:
    docs = plain() if source == "plain" else rendered(CHART_VALUES[source])
    built_in = [doc for doc in docs if doc["kind"] not in CUSTOM_KINDS]
    assert {"Deployment", "Service", "ServiceAccount", "ClusterRole", "ClusterRoleBinding", "PodDisruptionBudget"} <= {
        doc["kind"] for doc in built_in
    }
    for doc in built_in:
        kubernetes_validate.validate(doc, version, strict=True)


@pytest.mark.parametrize("source", ["plain", *CHART_VALUES])
def test_pods_meet_the_restricted_pod_security_standard(source: str) -> None:
    docs = plain() if source == "plain" else rendered(CHART_VALUES[source])
    templates = dict(pod_templates(docs))
    assert templates
    for where, pod in templates.items():
        assert pod["securityContext"]["runAsNonRoot"] is True, where
        assert pod["securityContext"]["runAsUser"] != 0, where
        assert pod["securityContext"]["seccompProfile"]["type"] == "RuntimeDefault", where
        assert not {"hostNetwork", "hostPID", "hostIPC"} & set(pod), where
        assert all("hostPath" not in volume for volume in pod.get("volumes", [])), where
        for container in pod["containers"]:
            context = container["securityContext"]
            assert context["allowPrivilegeEscalation"] is False, where
            assert context["capabilities"]["drop"] == ["ALL"] and "add" not in context["capabilities"], where
            assert context["readOnlyRootFilesystem"] is True, where
            assert container["resources"]["requests"]["cpu"] and container["resources"]["requests"]["memory"], where


@pytest.mark.parametrize("source", ["plain", *CHART_VALUES])
def test_the_deployment_is_highly_available_and_probed(source: str) -> None:
    docs = plain() if source == "plain" else rendered(CHART_VALUES[source])
    deployment = by_kind(docs, "Deployment")
    pod = deployment["spec"]["template"]["spec"]
    labels = deployment["spec"]["template"]["metadata"]["labels"]
    assert deployment["spec"]["replicas"] == 2
    assert deployment["spec"]["strategy"]["rollingUpdate"]["maxUnavailable"] == 0
    anti = pod["affinity"]["podAntiAffinity"]
    terms = anti.get("requiredDuringSchedulingIgnoredDuringExecution") or [
        term["podAffinityTerm"] for term in anti["preferredDuringSchedulingIgnoredDuringExecution"]
    ]
    assert terms[0]["topologyKey"] == "kubernetes.io/hostname"
    assert terms[0]["labelSelector"]["matchLabels"].items() <= labels.items()
    pdb = by_kind(docs, "PodDisruptionBudget")
    assert pdb["spec"]["minAvailable"] == 1 and pdb["spec"]["selector"]["matchLabels"].items() <= labels.items()
    service = by_kind(docs, "Service")
    assert service["spec"]["selector"].items() <= labels.items()
    container = pod["containers"][0]
    named_ports = {port["name"] for port in container["ports"]}
    assert {port["targetPort"] for port in service["spec"]["ports"]} == named_ports == {"grpc", "rest"}
    for probe, path in (("startupProbe", "/healthz"), ("livenessProbe", "/healthz"), ("readinessProbe", "/readyz")):
        assert container[probe]["httpGet"] == {"path": path, "port": "rest", "scheme": "HTTPS"}
    env = {entry["name"]: entry for entry in container["env"]}
    assert env["HARROW_DATABASE_URL"]["valueFrom"]["secretKeyRef"] == {"name": "harrow-db-app", "key": "uri"}
    mounts = {mount["mountPath"]: mount["name"] for mount in container["volumeMounts"]}
    secrets = {volume["name"]: volume["secret"]["secretName"] for volume in pod["volumes"] if "secret" in volume}
    for variable, secret in (
        ("HARROW_TLS_CERT_FILE", "harrow-tls"),
        ("HARROW_TLS_KEY_FILE", "harrow-tls"),
        ("HARROW_SECRET_KEY_FILE", "harrow-secret-key"),
    ):
        directory = str(Path(env[variable]["value"]).parent)
        assert secrets[mounts[directory]] == secret, variable
    assert pod["serviceAccountName"] == by_kind(docs, "ServiceAccount")["metadata"]["name"]


def test_the_chart_and_the_plain_manifests_say_the_same_thing() -> None:
    chart, manifests = rendered(), plain()
    assert by_kind(chart, "ClusterRole")["rules"] == by_kind(manifests, "ClusterRole")["rules"]
    chart_pod = by_kind(chart, "Deployment")["spec"]["template"]["spec"]
    plain_pod = by_kind(manifests, "Deployment")["spec"]["template"]["spec"]
    for key in ("securityContext", "volumes", "terminationGracePeriodSeconds", "automountServiceAccountToken"):
        assert chart_pod[key] == plain_pod[key], key
    chart_container, plain_container = chart_pod["containers"][0], plain_pod["containers"][0]
    for key in ("args", "ports", "startupProbe", "livenessProbe", "readinessProbe", "lifecycle", "resources"):
        assert chart_container[key] == plain_container[key], key
    assert chart_container["securityContext"] == plain_container["securityContext"]
    assert chart_container["volumeMounts"] == plain_container["volumeMounts"]
    plain_env = {entry["name"]: entry for entry in plain_container["env"]}
    chart_env = {entry["name"]: entry for entry in chart_container["env"]}
    assert all(chart_env[name] == entry for name, entry in plain_env.items())
    chart_job = by_kind(chart, "Job")
    assert chart_job["metadata"]["annotations"]["helm.sh/hook"] == "pre-install,pre-upgrade"
    assert chart_job["spec"]["template"]["spec"]["containers"][0]["args"] == ["migrate"]
    assert by_kind(manifests, "Job")["spec"]["template"]["spec"]["containers"][0]["args"] == ["migrate"]


def test_the_cluster_role_has_no_wildcards() -> None:
    for rule in by_kind(plain(), "ClusterRole")["rules"]:
        for key in ("apiGroups", "resources", "verbs", "resourceNames"):
            assert "*" not in rule.get(key, []), rule


def test_the_custom_resources_point_at_what_the_deployment_uses() -> None:
    docs = plain()
    monitor = by_kind(docs, "ServiceMonitor")
    service = by_kind(docs, "Service")
    assert monitor["apiVersion"] == "monitoring.coreos.com/v1"
    assert monitor["spec"]["selector"]["matchLabels"].items() <= service["metadata"]["labels"].items()
    endpoint = monitor["spec"]["endpoints"][0]
    assert endpoint["port"] in {port["name"] for port in service["spec"]["ports"]}
    assert (endpoint["path"], endpoint["scheme"]) == ("/metrics", "https")
    assert (
        endpoint["tlsConfig"]["serverName"] == f"{service['metadata']['name']}.{service['metadata']['namespace']}.svc"
    )
    database = by_kind(docs, "Cluster")
    assert database["apiVersion"] == "postgresql.cnpg.io/v1"
    assert database["spec"]["instances"] >= 3 and database["spec"]["bootstrap"]["initdb"]["database"] == "harrow"
    # CloudNativePG writes the app user's URL into <cluster>-app, key "uri": the Secret the Deployment reads.
    env = by_kind(docs, "Deployment")["spec"]["template"]["spec"]["containers"][0]["env"]
    url = next(entry for entry in env if entry["name"] == "HARROW_DATABASE_URL")["valueFrom"]["secretKeyRef"]
    assert url == {"name": f"{database['metadata']['name']}-app", "key": "uri"}
    assert {doc["metadata"].get("namespace") for doc in docs if doc["kind"] != "Namespace"} <= {"harrow", None}


def dockerfile_stages() -> list[list[tuple[str, str]]]:
    stages: list[list[tuple[str, str]]] = []
    text = re.sub(r"\\\n", " ", (DEPLOY / "Dockerfile").read_text())
    for line in text.splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        instruction, _, argument = line.strip().partition(" ")
        if instruction.upper() == "FROM":
            stages.append([])
        if stages:
            stages[-1].append((instruction.upper(), argument.strip()))
    return stages


def test_the_dockerfile_builds_a_slim_non_root_image_that_matches_the_manifests() -> None:
    stages = dockerfile_stages()
    assert len(stages) >= 2, "multi-stage: build tools stay out of the final image"
    final = dict(stages[-1])
    pod = by_kind(plain(), "Deployment")["spec"]["template"]["spec"]
    user, _, group = final["USER"].partition(":")
    assert int(user) == pod["securityContext"]["runAsUser"] and int(group) == pod["securityContext"]["runAsGroup"]
    container = pod["containers"][0]
    assert sorted(int(port) for port in final["EXPOSE"].split()) == sorted(
        p["containerPort"] for p in container["ports"]
    )
    assert (
        yaml.safe_load(final["ENTRYPOINT"]) == ["harrow-server"] and yaml.safe_load(final["CMD"]) == container["args"]
    )
    copied = [
        argument.split()[:-1]
        for stage in stages
        for instruction, argument in stage
        if instruction == "COPY" and not argument.startswith("--from")
    ]
    sources = [path for paths in copied for path in paths]
    assert all((DEPLOY.parent / source).exists() for source in sources), sources
    install = next(
        argument for instruction, argument in stages[0] if instruction == "RUN" and "pip install" in argument
    )
    assert "--constraint requirements.lock" in install
