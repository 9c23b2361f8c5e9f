"""Schemathesis against the live server, driven by the server's own /openapi.json.

It generates requests from the document (valid and invalid: odd path
segments, wrong types, unknown fields) and checks every answer: no 5xx, the
status is one the operation documents, and the body matches the documented
schema and content type. Bounded (a fixed seed, 5
examples per operation in the fuzzing and stateful phases; the coverage phase's
boundary cases do not depend on that number). The two tests split the phases,
not the checks, so xdist can run them side by side and no request is sent twice.
Watch routes are left out: they are endless NDJSON streams, which a
request/response fuzzer cannot read to the end; test_watch_and_operations.py
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


CHECKS = "not_a_server_error,response_schema_conformance,status_code_conformance,content_type_conformance"


async def test_boundary_cases_of_every_operation_get_no_server_error_and_documented_answers(harrow) -> None:
    """The coverage phase: each field's boundaries and wrong types, missing and unexpected parts, other methods."""
    report = await schemathesis(harrow.endpoints.rest, CHECKS, examples=5, phases="coverage")
    assert re.search(r"\d+ generated, \d+ passed", report), report


async def test_random_and_chained_requests_get_no_server_error_and_documented_answers(harrow) -> None:
    """The fuzzing and stateful phases: generated requests, then sequences that follow the document's links."""
    report = await schemathesis(harrow.endpoints.rest, CHECKS, examples=5, phases="fuzzing,stateful")
    assert re.search(r"\d+ generated, \d+ passed", report), report
