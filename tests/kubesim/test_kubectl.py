"""kubectl 1.32 against kubesim: apply, get -o yaml, patch, wait, --watch, delete, errors."""

from __future__ import annotations

import asyncio
import os
import subprocess
from pathlib import Path

import yaml

VM = """
apiVersion: kubevirt.io/v1
kind: VirtualMachine
metadata:
  name: kctl
  namespace: default
spec:
  runStrategy: Always
  template:
    spec:
      domain:
        devices:
          interfaces: [{name: default, masquerade: {}}]
        resources: {requests: {memory: 512Mi}}
      networks: [{name: default, pod: {}}]
"""


def secret(name: str, ns: str) -> str:
    return f"apiVersion: v1\nkind: Secret\nmetadata: {{name: {name}, namespace: {ns}}}\nstringData: {{a: b}}\n"


async def test_apply_get_wait_patch_delete(kubectl) -> None:  # type: ignore[no-untyped-def]
    applied = await kubectl("apply", "-f", "-", stdin=VM)
    assert applied.returncode == 0, applied.stderr
    assert "virtualmachine.kubevirt.io/kctl created" in applied.stdout
    waited = await kubectl("wait", "vm/kctl", "--for=condition=Ready", "--timeout=10s")
    assert waited.returncode == 0, waited.stderr
    got = await kubectl("get", "vmi", "kctl", "-o", "yaml")
    vmi = yaml.safe_load(got.stdout)
    assert vmi["status"]["phase"] == "Running"

    again = await kubectl("apply", "-f", "-", stdin=VM.replace("512Mi", "768Mi"))
    assert "configured" in again.stdout, again.stderr
    vm = yaml.safe_load((await kubectl("get", "vm", "kctl", "-o", "yaml")).stdout)
    assert vm["metadata"]["generation"] == 2

    patched = await kubectl("patch", "vm", "kctl", "--type=merge", "-p", '{"metadata":{"labels":{"a":"b"}}}')
    assert patched.returncode == 0, patched.stderr
    jp = await kubectl(
        "patch",
        "vm",
        "kctl",
        "--type=json",
        "-p",
        '[{"op":"add","path":"/metadata/annotations","value":{"x":"y"}}]',
    )
    assert jp.returncode == 0, jp.stderr
    listed = await kubectl("get", "vms", "-l", "a=b", "-o", "name")
    assert listed.stdout.strip() == "virtualmachine.kubevirt.io/kctl"

    deleted = await kubectl("delete", "vm", "kctl", "--wait=true", "--timeout=10s")
    assert deleted.returncode == 0, deleted.stderr
    gone = await kubectl("wait", "vmi/kctl", "--for=delete", "--timeout=10s")
    assert gone.returncode == 0, gone.stderr


async def test_schema_errors_and_conflicts_reach_kubectl(kubectl) -> None:  # type: ignore[no-untyped-def]
    bad = VM.replace("name: kctl", "name: kbad").replace("runStrategy: Always", "running: maybe")
    out = await kubectl("apply", "-f", "-", stdin=bad)
    assert out.returncode != 0
    assert 'The VirtualMachine "kbad" is invalid: spec.running: Invalid value: "string"' in out.stderr
    unknown = await kubectl(
        "apply",
        "-f",
        "-",
        stdin=VM.replace("name: kctl", "name: kunk").replace("runStrategy: Always", "runStrategy: Always\n  bogus: 1"),
    )
    assert unknown.returncode != 0 and 'unknown field "spec.bogus"' in unknown.stderr
    await kubectl("apply", "-f", "-", stdin=secret("rvs", "default"))
    current = yaml.safe_load((await kubectl("get", "secret", "rvs", "-o", "yaml")).stdout)
    current["metadata"]["resourceVersion"] = "1"
    replaced = await kubectl("replace", "-f", "-", stdin=yaml.safe_dump(current))
    assert replaced.returncode != 0 and "the object has been modified" in replaced.stderr


async def test_watch_sees_changes(kubeconfig: Path, kubectl) -> None:  # type: ignore[no-untyped-def]
    await kubectl("apply", "-f", "-", stdin="apiVersion: v1\nkind: Namespace\nmetadata: {name: kw}\n")
    proc = await asyncio.create_subprocess_exec(
        "kubectl",
        "--kubeconfig",
        str(kubeconfig),
        "-n",
        "kw",
        "get",
        "secrets",
        "--watch",
        "-o",
        "name",
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=os.environ.copy(),
    )
    try:
        await asyncio.sleep(0.5)
        await kubectl("apply", "-f", "-", stdin=secret("w1", "kw"))
        assert proc.stdout is not None
        line = await asyncio.wait_for(proc.stdout.readline(), 10)
        assert line.decode().strip() == "secret/w1"
    finally:
        proc.terminate()
        await proc.wait()


def _table(out: str) -> list[list[str]]:
    return [line.split() for line in out.strip().splitlines()]


async def test_get_prints_the_server_side_columns(kubectl) -> None:  # type: ignore[no-untyped-def]
    applied = await kubectl("apply", "-f", "-", stdin=VM.replace("name: kctl", "name: table"))
    assert applied.returncode == 0, applied.stderr
    waited = await kubectl("wait", "vm/table", "--for=condition=Ready", "--timeout=10s")
    assert waited.returncode == 0, waited.stderr

    vm = _table((await kubectl("get", "vm", "table")).stdout)
    assert vm[0] == ["NAME", "AGE", "STATUS", "READY"]
    assert vm[1][0] == "table" and vm[1][2:] == ["Running", "True"]
    vmi = _table((await kubectl("get", "vmi", "table", "-o", "wide")).stdout)
    assert vmi[0] == ["NAME", "AGE", "PHASE", "IP", "NODENAME", "READY", "LIVE-MIGRATABLE", "PAUSED"]
    assert vmi[1][2] == "Running" and vmi[1][4].startswith("node-") and vmi[1][5:7] == ["True", "True"]
    nodes = _table((await kubectl("get", "nodes")).stdout)
    assert nodes[0] == ["NAME", "STATUS", "ROLES", "AGE", "VERSION"]
    assert nodes[1][1] == "Ready" and nodes[1][4] == "v1.32.0"
    classes = (await kubectl("get", "storageclass")).stdout
    assert "harvester-longhorn (default)   driver.longhorn.io" in classes
    blank = (
        "apiVersion: cdi.kubevirt.io/v1beta1\nkind: DataVolume\nmetadata: {name: tdv, namespace: default}\n"
        "spec: {source: {blank: {}}, storage: {resources: {requests: {storage: 1Gi}}}}\n"
    )
    assert (await kubectl("apply", "-f", "-", stdin=blank)).returncode == 0
    dv = _table((await kubectl("get", "dv", "-A")).stdout)
    assert dv[0] == ["NAMESPACE", "NAME", "PHASE", "PROGRESS", "RESTARTS", "AGE"]
    ns = _table((await kubectl("get", "namespace", "default")).stdout)
    assert ns == [["NAME", "STATUS", "AGE"], ["default", "Active", ns[1][2]]]


async def test_watch_prints_table_rows(kubeconfig: Path, kubectl) -> None:  # type: ignore[no-untyped-def]
    proc = await asyncio.create_subprocess_exec(
        "kubectl",
        "--kubeconfig",
        str(kubeconfig),
        "get",
        "vm",
        "--watch",
        "--watch-only",
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=os.environ.copy(),
    )
    try:
        await asyncio.sleep(0.5)
        await kubectl("apply", "-f", "-", stdin=VM.replace("name: kctl", "name: watched"))
        assert proc.stdout is not None
        header = (await asyncio.wait_for(proc.stdout.readline(), 10)).decode().split()
        row = (await asyncio.wait_for(proc.stdout.readline(), 10)).decode().split()
        assert header == ["NAME", "AGE", "STATUS", "READY"] and row[0] == "watched"
    finally:
        proc.terminate()
        await proc.wait()


async def test_create_subcommands_send_protobuf_and_work(kubectl) -> None:  # type: ignore[no-untyped-def]
    made = await kubectl("create", "namespace", "pb")
    assert made.returncode == 0 and "namespace/pb created" in made.stdout, made.stderr
    secret = await kubectl("create", "secret", "generic", "s1", "-n", "pb", "--from-literal=user=admin")
    assert secret.returncode == 0, secret.stderr
    got = yaml.safe_load((await kubectl("get", "secret", "s1", "-n", "pb", "-o", "yaml")).stdout)
    assert got["data"] == {"user": "YWRtaW4="} and got["type"] == "Opaque"
    bad = await kubectl("create", "namespace", "Bad_Name")
    assert bad.returncode != 0 and 'The Namespace "Bad_Name" is invalid: metadata.name' in bad.stderr


async def test_string_data_is_folded_into_data(kubectl) -> None:  # type: ignore[no-untyped-def]
    assert (await kubectl("apply", "-f", "-", stdin=secret("folded", "default"))).returncode == 0
    got = yaml.safe_load((await kubectl("get", "secret", "folded", "-o", "yaml")).stdout)
    assert got["data"] == {"a": "Yg=="} and "stringData" not in got
