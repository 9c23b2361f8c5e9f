"""The README's examples, run as written against a live Harrow, in the order a reader meets them."""

from __future__ import annotations

import asyncio
import os
import re
import sys
from pathlib import Path

import pytest

from tests.sdk.conftest import Server

README = Path(__file__).parents[2] / "clients" / "python" / "README.md"


def examples() -> list[str]:
    return re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.DOTALL)


def test_readme_has_the_examples_it_promises() -> None:
    assert len(examples()) == 4


async def test_every_example_runs_and_prints_what_it_says(server: Server) -> None:
    environment = {**os.environ, "HARROW_ENDPOINT": server.grpc}
    outputs = []
    for number, code in enumerate(examples(), start=1):
        # A separate interpreter: each example must stand on its own, as pasted into a file.
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-c",
            code.replace('harrow.SyncClient("localhost:50051")', "harrow.SyncClient()"),
            env=environment,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        try:
            out, err = await asyncio.wait_for(process.communicate(), 60)
        except TimeoutError:
            process.kill()
            raise AssertionError(f"example {number} did not finish in 60 s") from None
        assert process.returncode == 0, f"example {number} failed:\n{err.decode()}"
        outputs.append(out.decode())

    connect, create, update, watch = outputs
    assert connect.strip() == "['clusters/local']"
    assert create.split() == ["clusters/local/namespaces/default/virtualMachines/web-1", "STOPPED", "RUNNING"]
    assert "clusters/local/namespaces/default/virtualMachines/web-1 8Gi" in update
    assert "changed meanwhile: ETAG_MISMATCH" in update and "VIRTUAL_MACHINE_NOT_FOUND" in update
    assert "virtual_machine.spec.memory -" in update
    assert watch.startswith("listed 1 at revision") and "up to date at revision" in watch


@pytest.fixture(autouse=True)
def _no_ambient_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("HARROW_TOKEN", raising=False)
