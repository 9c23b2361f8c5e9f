"""One embedded PostgreSQL per test run; every test that asks gets a fresh, migrated database.

The schema is migrated once into a template database; each test's database
is a CREATE DATABASE … TEMPLATE copy, which takes milliseconds.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import itertools
import logging
import re
import tempfile
import traceback
import warnings
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import asyncpg
import pytest
import yaml

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from storage.embedded import EmbeddedPostgres

from storage.migrate import upgrade

TEMPLATE = "harrow_template"
_numbers = itertools.count()


@pytest.fixture(scope="session")
def postgres() -> Iterator[EmbeddedPostgres]:
    # Not under pytest's tmp_path: pytest prunes old base directories, which would pull the
    # data directory out from under a server while another pytest run starts.
    server = EmbeddedPostgres(Path(tempfile.mkdtemp(prefix="harrow-test-pg-")))
    server.start()
    try:
        _without_durability(server)
        yield server
    finally:
        server.remove()


def _without_durability(server: EmbeddedPostgres) -> None:
    """No flush to disk at commit, checkpoint or CREATE/DROP DATABASE: the data directory dies with the run.

    Nothing a test checks survives an operating-system crash, and every API mutation is a commit. It pays
    where the disk is shared and busy (on the 5-engineer test machine under load 8-10: 50 one-row commits
    0.25 s -> 0.055 s; tests/e2e/test_virtual_machines.py + test_ip_pools.py, alternating runs, 187 s and
    169 s -> 134 s and 101 s); on an idle disk it changes nothing measurable. A PostgreSQL crash still
    loses nothing committed: commits still write the WAL, only the flush to disk is gone.
    """

    async def configure() -> None:
        connection = await asyncpg.connect(server.url())
        try:
            for setting in ("fsync", "full_page_writes"):
                await connection.execute(f"ALTER SYSTEM SET {setting} = off")
            await connection.execute("SELECT pg_reload_conf()")
        finally:
            await connection.close()

    asyncio.run(configure())


@pytest.fixture(scope="session")
def template_database(postgres: EmbeddedPostgres) -> str:
    async def create() -> None:
        connection = await asyncpg.connect(postgres.url())
        try:
            await connection.execute(f"CREATE DATABASE {TEMPLATE}")
        finally:
            await connection.close()

    asyncio.run(create())
    upgrade(postgres.url(TEMPLATE))
    return TEMPLATE


@pytest.fixture
async def database_url(postgres: EmbeddedPostgres, template_database: str) -> AsyncIterator[str]:
    name = f"test_{next(_numbers)}"
    connection = await asyncpg.connect(postgres.url())
    try:
        await connection.execute(f"CREATE DATABASE {name} TEMPLATE {template_database}")
    finally:
        await connection.close()
    yield postgres.url(name)
    connection = await asyncpg.connect(postgres.url())
    try:
        await connection.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    finally:
        await connection.close()


# --- No secret in any log -------------------------------------------------------------------------
#
# Every secret the run creates is recorded where it is made: API token secrets (server.auth.credentials,
# the bootstrap admin's and the CLI's included), kubeconfig credentials when Harrow seals them, the
# sealing keys, kubesim's admin and service-account tokens. Everything logged (every logger; harrow's
# own at DEBUG) and every test's captured stdout/stderr (subprocesses writing to the inherited streams
# included) is kept, and at the end of the session (of each xdist worker) searched for them: one pass
# over runs of base64/hex characters, each looked up in a set. A secret found fails the session's last
# teardown, naming the secret's source and where it was seen, never the secret.
#
# Subprocesses (`harrow-server up|serve|token create`) are out of the recording's reach: tests that run
# them hand their output to `watch_output` and the secrets they learn from them (a CLI-minted token, a
# key file they wrote) to `remember_secret`.

_SECRET_RUN = re.compile(r"[A-Za-z0-9_+/=-]{16,}")
_HARROW_LOGGERS = ("server", "storage", "kubesim")


class _SecretWatch(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.secrets: dict[str, str] = {}  # secret → where it came from
        self.seen: list[tuple[str, str]] = []  # (where, text)
        self.active = False  # only where the session runs tests (not in an xdist controller)

    def remember(self, secret: str | bytes | None, source: str) -> None:
        if isinstance(secret, bytes):
            for form in (secret.hex(), base64.b64encode(secret).decode(), base64.urlsafe_b64encode(secret).decode()):
                self.remember(form.rstrip("="), source)
        elif secret and len(secret) >= 16:
            self.secrets.setdefault(secret, source)

    def remember_kubeconfig(self, text: str, source: str) -> None:
        try:
            document = yaml.safe_load(text)
        except yaml.YAMLError:
            return
        for user in (document or {}).get("users") or [] if isinstance(document, dict) else []:
            credentials = (user or {}).get("user") or {}
            for key in ("token", "client-key-data", "password"):
                value = credentials.get(key)
                self.remember(str(value) if value else None, f"{source} ({key})")

    def output(self, where: str, text: str | bytes | None) -> None:
        if text:
            self.seen.append((where, text.decode(errors="replace") if isinstance(text, bytes) else text))

    def emit(self, record: logging.LogRecord) -> None:
        try:
            text = record.getMessage()
        except Exception:
            text = f"{record.msg} {record.args}"
        if record.exc_info:
            text += "".join(traceback.format_exception(*record.exc_info))
        self.seen.append((f"log {record.name}:{record.levelname}", text))

    def leaks(self) -> list[str]:
        lengths = sorted({len(s) for s in self.secrets})
        found: dict[tuple[str, str], None] = {}
        for where, text in self.seen:
            for run in _SECRET_RUN.findall(text):
                for length in lengths:
                    if length > len(run):
                        break
                    for start in range(len(run) - length + 1):
                        source = self.secrets.get(run[start : start + length])
                        if source is not None:
                            found[(source, where)] = None
        return [f"a secret ({source}) in {where}" for source, where in found]


def _recording(watch: _SecretWatch) -> contextlib.ExitStack:
    """Wrap the few places secrets are born so each is remembered; behaviour is unchanged."""
    from kubesim import rbac, sim
    from server.auth import credentials, secret_box

    stack = contextlib.ExitStack()
    patch = pytest.MonkeyPatch()
    stack.callback(patch.undo)
    new_secret, seal = credentials.new_secret, secret_box.SecretBox.seal
    box_init, sim_init, mint = secret_box.SecretBox.__init__, sim.KubeSim.__init__, rbac.Rbac.mint

    def recorded_secret() -> str:
        secret = new_secret()
        watch.remember(secret, "an API token")
        return secret

    def recorded_seal(self: secret_box.SecretBox, plaintext: str, name: str) -> bytes:
        watch.remember_kubeconfig(plaintext, f"the kubeconfig of {name}")
        return seal(self, plaintext, name)

    def recorded_box(self: secret_box.SecretBox, key: bytes | None = None) -> None:
        watch.remember(key, "a kubeconfig sealing key")
        box_init(self, key)

    def recorded_sim(self: sim.KubeSim, *args: Any, **kwargs: Any) -> None:
        sim_init(self, *args, **kwargs)
        watch.remember(self.token, "kubesim's admin token")

    def recorded_mint(self: rbac.Rbac, namespace: str, name: str) -> str:
        token = mint(self, namespace, name)
        watch.remember(token, f"kubesim's token for {namespace}/{name}")
        return token

    patch.setattr(credentials, "new_secret", recorded_secret)
    patch.setattr(secret_box.SecretBox, "seal", recorded_seal)
    patch.setattr(secret_box.SecretBox, "__init__", recorded_box)
    patch.setattr(sim.KubeSim, "__init__", recorded_sim)
    patch.setattr(rbac.Rbac, "mint", recorded_mint)
    return stack


_WATCH = _SecretWatch()


def watch_output(where: str, text: str | bytes | None) -> None:
    """A subprocess's output (`where`: e.g. "stdout of harrow-server up"), searched at the end of the session."""
    _WATCH.output(where, text)


def remember_secret(secret: str | bytes | None, source: str) -> None:
    """A secret made outside this process (a token `harrow-server token create` printed, a key file a test
    wrote), so that the end-of-session search looks for it too."""
    _WATCH.remember(secret, source)


def remember_kubeconfig(text: str, source: str) -> None:
    """The credentials in a kubeconfig made outside this process (the one `harrow-server up` writes)."""
    _WATCH.remember_kubeconfig(text, source)


def pytest_runtest_setup(item: pytest.Item) -> None:
    # `harrow-server` configures logging by replacing the root handlers; tests that run it in-process
    # would otherwise end the watch.
    root = logging.getLogger()
    if _WATCH not in root.handlers:
        root.addHandler(_WATCH)


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if not _WATCH.active:
        return
    for where, text in (
        (f"stdout of {report.nodeid}", report.capstdout),
        (f"stderr of {report.nodeid}", report.capstderr),
    ):
        if text:
            _WATCH.seen.append((where, text))


@pytest.fixture(scope="session", autouse=True)
def no_secret_in_logs() -> Iterator[None]:
    for name in _HARROW_LOGGERS:
        logging.getLogger(name).setLevel(logging.DEBUG)
    logging.getLogger().addHandler(_WATCH)
    _WATCH.active = True
    with _recording(_WATCH):
        yield
    logging.getLogger().removeHandler(_WATCH)
    _WATCH.active = False
    leaks = _WATCH.leaks()
    assert not leaks, "secrets were logged:\n" + "\n".join(leaks)
