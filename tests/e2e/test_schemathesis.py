"""Schemathesis against the live server, driven by the server's own /openapi.json.

It generates requests from the document (valid and invalid: odd path
segments, wrong types, unknown fields) and checks every answer: no 5xx, the
status is one the operation documents, and the body matches the documented
schema. Bounded (a fixed seed, 10 examples per operation per phase) so it
takes about 20 s. Watch routes are left out: they are endless NDJSON streams,
which a request/response fuzzer cannot read to the end; test_watch_and_operations.py
covers them.
"""

from __future__ import annotations

import asyncio
import re
import shutil
import sys
from pathlib import Path

SCHEMATHESIS = shutil.which("schemathesis", path=str(Path(sys.executable).parent)) or "schemathesis"
BOUNDS = ("--seed", "20260301", "--no-shrink", "--request-timeout", "10")


async def schemathesis(base: str, checks: str, *, examples: int, phases: str = "coverage,fuzzing,stateful") -> str:
    process = await asyncio.create_subprocess_exec(
        SCHEMATHESIS,
        "run",
        f"{base}/openapi.json",
        "--checks",
        checks,
        "--exclude-path-regex",
        ":watch$",
        "--warnings",
        "off",
        "--max-examples",
        str(examples),
        "--phases",
        phases,
        *BOUNDS,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    out, _ = await asyncio.wait_for(process.communicate(), 120)
    report = out.decode()
    assert process.returncode == 0, report
    return report


async def test_no_server_errors_and_every_response_matches_the_document(harrow) -> None:
    report = await schemathesis(
        harrow.endpoints.rest, "not_a_server_error,response_schema_conformance,status_code_conformance", examples=10
    )
    assert re.search(r"\d+ generated, \d+ passed", report), report


async def test_every_response_has_the_documented_content_type(harrow) -> None:
    await schemathesis(harrow.endpoints.rest, "content_type_conformance", examples=5, phases="fuzzing")
