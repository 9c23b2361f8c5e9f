"""The real terraform binary, offline, against a whole Harrow (reconciler, PostgreSQL, kubesim) over real sockets.

Terraform finds the provider through a dev_overrides CLI config of our own (no registry, no
`terraform init`); the machine's TF_CLI_CONFIG_FILE is never used. The provider's venv is built
by clients/terraform/install.sh (what `make terraform-provider` runs); only when that cannot be
built are these tests skipped, saying why.

Harrow runs inside the test's event loop, so terraform is run as an asyncio subprocess: a
blocking call would stop Harrow from answering its own provider.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import string
import subprocess
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from tests.e2e.reconcile.conftest import eventually, harrow, kube, namespace, sim, start_harrow

__all__ = ["eventually", "harrow", "kube", "namespace", "sim", "start_harrow"]

ROOT = Path(__file__).resolve().parents[2]
PROVIDER_DIR = ROOT / "clients" / "terraform"
BIN = PROVIDER_DIR / ".venv" / "bin"


@dataclass(frozen=True)
class Result:
    code: int
    out: str
    err: str


class Terraform:
    """One working directory, one configuration, the terraform CLI run as a user would."""

    def __init__(self, workdir: Path, env: dict[str, str]) -> None:
        self.workdir = workdir
        self.env = env
        self.last_plan = ""

    def write(self, template: str, **values: str) -> None:
        """main.tf from `template`; `$name` placeholders are filled, HCL's own `${…}` is left alone."""
        (self.workdir / "main.tf").write_text(string.Template(template).safe_substitute(values))

    async def run(self, *args: str, expect: int | tuple[int, ...] = 0) -> Result:
        process = await asyncio.create_subprocess_exec(
            str(BIN / "terraform"),
            *args,
            "-no-color",
            cwd=self.workdir,
            env=self.env,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        try:
            out, err = await process.communicate()
        except BaseException:
            # Cancelled (a test that failed while terraform ran in a task): terraform must not outlive the test.
            # SIGTERM first, as Ctrl-C, so that terraform stops its provider too; SIGKILL if it does not stop.
            process.terminate()
            try:
                await asyncio.wait_for(process.wait(), 10)
            except TimeoutError:
                process.kill()
                await process.wait()
            raise
        result = Result(process.returncode or 0, out.decode(), err.decode())
        expected = (expect,) if isinstance(expect, int) else expect
        assert result.code in expected, f"terraform {' '.join(args)} exited {result.code}:\n{result.out}{result.err}"
        return result

    async def apply(self, *args: str) -> Result:
        return await self.run("apply", "-auto-approve", "-input=false", *args)

    async def apply_failing(self) -> Result:
        return await self.run("apply", "-auto-approve", "-input=false", expect=1)

    async def plan_is_empty(self) -> bool:
        """`plan -detailed-exitcode`: 0 is no changes, 2 is changes (the plan is kept in `last_plan`)."""
        result = await self.run("plan", "-detailed-exitcode", "-input=false", expect=(0, 2))
        self.last_plan = result.out
        return result.code == 0

    async def outputs(self) -> dict[str, Any]:
        """The outputs the last apply stored, read from the local state as `terraform output -json` does
        (without starting terraform, a second or more of every test's wall time)."""
        state = json.loads((self.workdir / "terraform.tfstate").read_text())
        return {name: output["value"] for name, output in state.get("outputs", {}).items()}


def _provider_built() -> str | None:
    """Builds the provider venv if needed; the reason it cannot be built, or None."""
    try:
        subprocess.run([str(PROVIDER_DIR / "install.sh")], check=True, capture_output=True, timeout=600)
    except (OSError, subprocess.SubprocessError) as error:
        output = getattr(error, "stderr", b"") or b""
        return f"the terraform provider venv cannot be built ({error}): {output.decode()[-2000:]}"
    if not (BIN / "terraform").exists() or not (BIN / "terraform-provider-harrow").exists():
        return "clients/terraform/install.sh ran but left no terraform or terraform-provider-harrow in .venv/bin"
    return None


@pytest.fixture(scope="session")
def provider_bin() -> Path:
    reason = _provider_built()
    if reason is not None:
        pytest.skip(reason)
    return BIN


@pytest.fixture
def terraform_env(provider_bin: Path, tmp_path: Path) -> dict[str, str]:
    cli_config = tmp_path / "terraform.rc"
    overrides = f'dev_overrides {{\n    "harrow.io/harrow/harrow" = "{provider_bin}"\n  }}'
    cli_config.write_text(f"provider_installation {{\n  {overrides}\n  direct {{}}\n}}\n")
    env = {key: value for key, value in os.environ.items() if not key.startswith(("TF_", "HARROW_"))}
    env.update(TF_CLI_CONFIG_FILE=str(cli_config), TF_IN_AUTOMATION="1", CHECKPOINT_DISABLE="1")
    return env


@pytest.fixture
def terraform(terraform_env: dict[str, str], harrow: Any, tmp_path: Path) -> Terraform:
    """terraform in a fresh directory, its provider pointed (through HARROW_ENDPOINT) at the test's Harrow."""
    workdir = tmp_path / "config"
    workdir.mkdir()
    return Terraform(workdir, {**terraform_env, "HARROW_ENDPOINT": harrow.endpoints.rest})


@pytest.fixture
async def rest(harrow: Any) -> AsyncIterator[Rest]:
    async with aiohttp.ClientSession() as session:
        yield Rest(session, harrow.endpoints.rest)


class Rest:
    """Harrow's REST API as the test itself uses it: to look, and to change things behind Terraform's back."""

    def __init__(self, session: aiohttp.ClientSession, base: str) -> None:
        self._session = session
        self._base = base
        # The request ids of the test's own changes, so that Operations tell them from the provider's.
        self.request_ids: set[str] = set()

    def _request_id(self) -> str:
        request_id = str(uuid.uuid4())
        self.request_ids.add(request_id)
        return request_id

    async def get(self, name: str) -> tuple[int, dict[str, Any]]:
        async with self._session.get(f"{self._base}/v1/{name}") as response:
            return response.status, await response.json()

    async def patch(self, name: str, body: dict[str, Any], mask: str) -> dict[str, Any]:
        params = {"updateMask": mask, "requestId": self._request_id()}
        async with self._session.patch(f"{self._base}/v1/{name}", params=params, json=body) as answer:
            assert answer.status == 200, await answer.text()
            return dict(await answer.json())

    async def delete(self, name: str) -> dict[str, Any]:
        async with self._session.delete(f"{self._base}/v1/{name}", params={"requestId": self._request_id()}) as answer:
            assert answer.status == 200, await answer.text()
            return dict(await answer.json())

    async def refused_creates(self) -> float:
        """How many CreateVirtualMachine calls Harrow answered 409 (ALREADY_EXISTS), from its /metrics."""
        async with self._session.get(f"{self._base}/metrics") as answer:
            text = await answer.text()
        labels = 'code="409",method="harrow.v1.VirtualMachineService/CreateVirtualMachine",transport="rest"'
        found = re.search(r"^harrow_requests_total\{" + re.escape(labels) + r"\} (\S+)$", text, re.MULTILINE)
        return float(found.group(1)) if found else 0.0

    async def operations(self, target: str) -> list[dict[str, Any]]:
        """Every Operation on `target`, newest first."""
        params = {"filter": f'target = "{target}"', "pageSize": "100"}
        async with self._session.get(f"{self._base}/v1/operations", params=params) as answer:
            assert answer.status == 200, await answer.text()
            return list((await answer.json()).get("operations", []))

    async def wait(self, operation: dict[str, Any]) -> None:
        async with self._session.post(f"{self._base}/v1/{operation['name']}:wait", json={"timeout": "30s"}) as answer:
            assert (await answer.json()).get("done"), "the operation did not finish"
