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
