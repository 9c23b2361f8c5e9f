"""`harrow-server` started the way deploy/k8s/deployment.yaml starts it: its args, env, Secrets, ports and probes.

The Deployment's Secrets become files and values on this machine (a TLS
certificate made for the test, a secret key, the test database's URL), its
ports are swapped for free ones after checking that the probes, the container
ports and the env agree, and the process runs as its own `serve`. Then the
probes answer as the kubelet would see them, `/metrics` carries the names and
labels the README's alerts use, and every line on stdout is JSON that ties a
call to its request id, trace, principal and method, with no secret in sight.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import secrets
import signal
import socket
import ssl
import subprocess
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import grpc
import pytest
import yaml
from harrow.v1 import cluster_pb2, cluster_pb2_grpc
from prometheus_client.parser import text_string_to_metric_families

from kubesim.tls import generate
from tests.conftest import remember_secret, watch_output

DEPLOYMENT = Path(__file__).parents[2] / "deploy" / "k8s" / "deployment.yaml"
HARROW_SERVER = Path(sys.executable).with_name("harrow-server")
TRACE_ID, SPAN_ID = "4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7"


def container() -> dict[str, Any]:
    return yaml.safe_load(DEPLOYMENT.read_text())["spec"]["template"]["spec"]["containers"][0]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Served:
    process: asyncio.subprocess.Process
    rest: str
    grpc: str
    ca_pem: bytes
    token: str
    secret_key: str  # the key file's content, as the Secret mounts it

    async def stop(self) -> tuple[str, str]:
        """SIGTERM, as the kubelet sends it; the server drains and exits on its own."""
        self.process.send_signal(signal.SIGTERM)
        stdout, stderr = await asyncio.wait_for(self.process.communicate(), 20)
        return stdout.decode(), stderr.decode()


def environment(spec: dict[str, Any], files: Path, database_url: str, ports: dict[str, int]) -> dict[str, str]:
    """The container's env on this machine: Secret refs resolved, mount paths moved under `files`."""
    mounts = {mount["mountPath"]: files / mount["name"] for mount in spec["volumeMounts"]}
    env = {"PATH": os.environ["PATH"], "HOME": str(files), "HARROW_HOST": "127.0.0.1"}
    for entry in spec["env"]:
        name = entry["name"]
        if "valueFrom" in entry:
            ref = entry["valueFrom"]["secretKeyRef"]
            assert (ref["name"], ref["key"]) == ("harrow-db-app", "uri"), "the README tells users to create this"
            env[name] = database_url
            continue
        value = str(entry["value"])
        for mount_path, local in mounts.items():
            if value.startswith(mount_path + "/"):
                value = str(local / value.removeprefix(mount_path + "/"))
                break
        env[name] = value
    assert int(env["HARROW_GRPC_PORT"]) == ports_by_name(spec)["grpc"]
    assert int(env["HARROW_REST_PORT"]) == ports_by_name(spec)["rest"]
    env["HARROW_GRPC_PORT"], env["HARROW_REST_PORT"] = str(ports["grpc"]), str(ports["rest"])
    return env


def ports_by_name(spec: dict[str, Any]) -> dict[str, int]:
    return {port["name"]: int(port["containerPort"]) for port in spec["ports"]}


@pytest.fixture
async def served(database_url: str, tmp_path: Path) -> AsyncIterator[Served]:
    spec = container()
    certificates = generate("127.0.0.1")
    (tmp_path / "tls").mkdir()
    (tmp_path / "tls" / "tls.crt").write_bytes(certificates.cert_pem + certificates.ca_pem)
    (tmp_path / "tls" / "tls.key").write_bytes(certificates.key_pem)
    (tmp_path / "secret-key").mkdir()
    key = secrets.token_bytes(32)
    (tmp_path / "secret-key" / "key").write_text(base64.b64encode(key).decode())
    remember_secret(key, "the deployed server's secret key file")
    (tmp_path / "tmp").mkdir()
    ports = {"grpc": free_port(), "rest": free_port()}
    env = environment(spec, tmp_path, database_url, ports)
    minted = await asyncio.to_thread(
        subprocess.run,
        [str(HARROW_SERVER), "token", "create", "--principal", "ops", "--role", "admin"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert minted.returncode == 0, minted.stderr
    token = minted.stdout.strip().splitlines()[-1]
    remember_secret(token, "the token harrow-server token create printed")
    watch_output("stderr of harrow-server token create", minted.stderr)  # its stdout is the token, by design
    process = await asyncio.create_subprocess_exec(
        str(HARROW_SERVER), *spec["args"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    rest, grpc_address = f"https://127.0.0.1:{ports['rest']}", f"127.0.0.1:{ports['grpc']}"
    try:
        yield Served(process, rest, grpc_address, certificates.ca_pem, token, base64.b64encode(key).decode())
    finally:
        if process.returncode is None:
            process.kill()
            for name, output in zip(("stdout", "stderr"), await process.communicate(), strict=True):
                watch_output(f"{name} of harrow-server serve (killed)", output)


async def probe(session: aiohttp.ClientSession, url: str) -> tuple[int, Any]:
    """What the kubelet sees: an HTTPS GET that does not verify the certificate."""
    async with session.get(url, ssl=False) as response:
        return response.status, await response.json()


async def wait_for_startup(session: aiohttp.ClientSession, served: Served, path: str) -> None:
    for _ in range(300):
        assert served.process.returncode is None, await served.process.communicate()
        try:
            if (await probe(session, served.rest + path))[0] == 200:
                return
        except aiohttp.ClientError:
            pass
        await asyncio.sleep(0.1)
    raise AssertionError("the startup probe never passed")


def scrape(text: str) -> dict[str, list[tuple[str, dict[str, str], float]]]:
    return {
        family.name: [(sample.name, dict(sample.labels), sample.value) for sample in family.samples]
        for family in text_string_to_metric_families(text)
    }


async def test_probes_metrics_and_json_logs_of_the_deployed_server(served: Served) -> None:
    spec = container()
    async with aiohttp.ClientSession() as session:
        await wait_for_startup(session, served, spec["startupProbe"]["httpGet"]["path"])
        status, alive = await probe(session, served.rest + spec["livenessProbe"]["httpGet"]["path"])
        assert (status, alive) == (200, {"status": "ok"})
        for _ in range(100):  # the kubelet asks again every periodSeconds; the reconciler reports clusters soon
            status, ready = await probe(session, served.rest + spec["readinessProbe"]["httpGet"]["path"])
            if "local" in ready["clusters"]:
                break
            await asyncio.sleep(0.1)
        assert status == 200, ready
        assert ready["checks"] == {"database": "ok", "migrations": "ok"}
        assert ready["clusters"]["local"] == {"state": "UNREACHABLE", "watch": "not connected"}

        tls = ssl.create_default_context(cadata=served.ca_pem.decode())
        headers = {
            "Authorization": f"Bearer {served.token}",
            "X-Request-Id": "req-from-test",
            "traceparent": f"00-{TRACE_ID}-{SPAN_ID}-01",
        }
        async with session.get(f"{served.rest}/v1/clusters", headers=headers, ssl=tls) as listed:
            assert listed.status == 200 and listed.headers["X-Request-Id"] == "req-from-test"
        async with session.get(f"{served.rest}/v1/clusters", ssl=tls) as anonymous:
            assert anonymous.status == 401
        credentials = grpc.ssl_channel_credentials(root_certificates=served.ca_pem)
        async with grpc.aio.secure_channel(served.grpc, credentials) as channel:
            stub = cluster_pb2_grpc.ClusterServiceStub(channel)
            await stub.GetCluster(
                cluster_pb2.GetClusterRequest(name="clusters/local"),
                metadata=(("authorization", f"Bearer {served.token}"),),
            )
        watch_url = f"{served.rest}/v1/clusters/local/namespaces/-/virtualMachines:watch"
        async with session.get(watch_url, headers=headers, ssl=tls) as watching:
            assert watching.status == 200
            async with session.get(f"{served.rest}/metrics", ssl=False) as scraped:
                assert scraped.status == 200
                metrics = scrape(await scraped.text())

    assert (
        "harrow_requests_total",
        {"transport": "rest", "method": "harrow.v1.ClusterService/ListClusters", "code": "200"},
        1.0,
    ) in metrics["harrow_requests"]
    assert (
        "harrow_requests_total",
        {"transport": "rest", "method": "harrow.v1.ClusterService/ListClusters", "code": "401"},
        1.0,
    ) in metrics["harrow_requests"]
    assert (
        "harrow_requests_total",
        {"transport": "grpc", "method": "harrow.v1.ClusterService/GetCluster", "code": "OK"},
        1.0,
    ) in metrics["harrow_requests"]
    buckets = [labels for name, labels, _ in metrics["harrow_request_duration_seconds"] if name.endswith("_bucket")]
    assert {"transport": "grpc", "method": "harrow.v1.ClusterService/GetCluster", "code": "OK", "le": "+Inf"} in buckets
    assert ("harrow_watch_streams_open", {"transport": "rest"}, 1.0) in metrics["harrow_watch_streams_open"]
    for kind in ("VirtualMachine", "IpPool"):
        assert ("harrow_reconcile_queue_depth", {"kind": kind}, 0.0) in metrics["harrow_reconcile_queue_depth"]
        assert ("harrow_reconcile_claimed", {"kind": kind}, 0.0) in metrics["harrow_reconcile_claimed"]
        assert ("harrow_reconcile_oldest_pending_seconds", {"kind": kind}, 0.0) in metrics[
            "harrow_reconcile_oldest_pending_seconds"
        ]
    assert ("harrow_cluster_ready", {"cluster": "local"}, 0.0) in metrics["harrow_cluster_ready"]
    assert ("harrow_database_up", {}, 1.0) in metrics["harrow_database_up"]
    assert {labels["state"] for _, labels, _ in metrics["harrow_db_pool_connections"]} == {"in_use", "idle"}
    for family in ("harrow_reconcile_errors", "harrow_operation_duration_seconds", "harrow_drift_corrections"):
        assert family in metrics
    assert {"harrow_ip_pool_size_addresses", "harrow_ip_pool_used_addresses"} <= set(metrics)

    stdout, stderr = await served.stop()
    watch_output("stdout of harrow-server serve as deployed", stdout)
    watch_output("stderr of harrow-server serve as deployed", stderr)
    assert served.process.returncode == 0, stderr
    lines = [json.loads(line) for line in stdout.splitlines() if line.strip()]
    assert any("Harrow is serving" in line["message"] for line in lines)
    access = [line for line in lines if line.get("request_id") == "req-from-test" and line.get("code") == "200"]
    assert access, lines
    assert access[0]["trace_id"] == TRACE_ID and access[0]["span_id"] == SPAN_ID
    assert access[0]["principal"] == "principals/ops" and access[0]["method"] == "harrow.v1.ClusterService/ListClusters"
    fetched = next(line for line in lines if line.get("method") == "harrow.v1.ClusterService/GetCluster")
    assert (fetched["transport"], fetched["code"], fetched["resource"]) == ("grpc", "OK", "clusters/local")
    assert all({"time", "level", "logger", "message"} <= set(line) for line in lines)
    assert served.token not in stdout + stderr
    assert served.secret_key not in stdout + stderr
