"""`pip install clients/python` into a fresh virtualenv gives a working SDK, with nothing from this repo on the path.

Slow by nature (a wheel build, three wheels from the index or the pip cache):
about 15-30 s, most of it pip. It is the only test that proves
the distribution ships every module, the `py.typed` marker and the stubs.
"""

from __future__ import annotations

import asyncio
import os
import re
import sys
from pathlib import Path

import harrow

from tests.sdk.conftest import Server

REPO = Path(__file__).parents[2]
RUNTIME = ("grpcio", "protobuf", "googleapis-common-protos")

SCRIPT = """
import pathlib, sys
import harrow
assert "site-packages" in harrow.__file__, harrow.__file__
package = pathlib.Path(harrow.__file__).parent
assert (package / "py.typed").exists() and list((package / "v1").glob("*.pyi"))
with harrow.SyncClient(sys.argv[1]) as client:
    print(harrow.__version__, [cluster.name for cluster in client.list_clusters()])
"""


def pinned() -> list[str]:
    lock = (REPO / "requirements.lock").read_text()
    return [line for name in RUNTIME for line in re.findall(rf"^{re.escape(name)}==\S+", lock, flags=re.MULTILINE)]


async def run(*command: str | Path, cwd: Path) -> str:
    environment = {key: value for key, value in os.environ.items() if key not in {"PYTHONPATH", "VIRTUAL_ENV"}}
    process = await asyncio.create_subprocess_exec(
        *map(str, command),
        cwd=cwd,
        env=environment,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    out, _ = await process.communicate()
    assert process.returncode == 0, out.decode()
    return out.decode()


async def test_pip_install_in_a_fresh_venv_gives_a_working_sdk(server: Server, tmp_path: Path) -> None:
    assert len(pinned()) == len(RUNTIME)
    venv = tmp_path / "venv"
    # No pip inside the venv (ensurepip took 5-9 s of this test): this interpreter's pip installs into it
    # (`pip --python`), so the venv still holds only the three wheels and the SDK.
    await run(sys.executable, "-m", "venv", "--without-pip", venv, cwd=tmp_path)
    python = venv / "bin" / "python"
    pip = (sys.executable, "-m", "pip", "--python", python, "install", "-q", "--disable-pip-version-check")
    await run(*pip, *pinned(), cwd=tmp_path)
    await run(*pip, "--no-deps", REPO / "clients" / "python", cwd=tmp_path)

    out = await run(python, "-c", SCRIPT, server.grpc, cwd=tmp_path)

    assert out.strip() == f"{harrow.__version__} ['clusters/local']"
