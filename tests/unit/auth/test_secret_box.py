"""Kubeconfigs at rest: sealed to their resource name, and unreadable without the key."""

from __future__ import annotations

import base64
import os
import re
from pathlib import Path

import pytest

from server.auth.secret_box import SEALED_PREFIX, SecretBox, SecretKeyError, key_from_environment
from server.config import from_environment

KUBECONFIG = "apiVersion: v1\nusers: [{name: u, user: {token: s3cret}}]\n"


def test_sealed_values_open_only_with_their_key_and_name() -> None:
    box = SecretBox(os.urandom(32))
    sealed = box.seal(KUBECONFIG, "clusters/edge")
    assert sealed.startswith(SEALED_PREFIX) and b"s3cret" not in sealed
    assert box.seal(KUBECONFIG, "clusters/edge") != sealed  # a fresh nonce every time
    assert box.open(sealed, "clusters/edge") == KUBECONFIG.encode()
    with pytest.raises(SecretKeyError, match="does not open"):
        box.open(sealed, "clusters/other")
    with pytest.raises(SecretKeyError, match="does not open"):
        SecretBox(os.urandom(32)).open(sealed, "clusters/edge")
    with pytest.raises(SecretKeyError, match="no secret key"):
        SecretBox().open(sealed, "clusters/edge")


def test_values_stored_before_a_key_was_configured_still_open() -> None:
    assert SecretBox(os.urandom(32)).open(KUBECONFIG.encode(), "clusters/edge") == KUBECONFIG.encode()
    assert SecretBox().seal(KUBECONFIG, "clusters/edge") == KUBECONFIG.encode()


def test_keys_must_be_256_bits() -> None:
    with pytest.raises(SecretKeyError):
        SecretBox(b"short")


def test_the_key_comes_from_harrow_secret_key_or_the_file_it_names(monkeypatch, tmp_path: Path) -> None:
    key = os.urandom(32)
    monkeypatch.delenv("HARROW_SECRET_KEY_FILE", raising=False)
    monkeypatch.setenv("HARROW_SECRET_KEY", base64.b64encode(key).decode() + "\n")  # as `openssl rand` prints it
    assert key_from_environment() == key
    assert from_environment().auth.secret_key == key  # what `serve` and `up` run with
    file = tmp_path / "key"
    file.write_text(base64.b64encode(key).decode())
    monkeypatch.setenv("HARROW_SECRET_KEY_FILE", str(file))
    other = os.urandom(32)
    monkeypatch.setenv("HARROW_SECRET_KEY", base64.b64encode(other).decode())
    assert key_from_environment() == other  # the variable wins over the file
    monkeypatch.delenv("HARROW_SECRET_KEY")
    assert key_from_environment() == key
    monkeypatch.delenv("HARROW_SECRET_KEY_FILE")
    assert key_from_environment() is None and from_environment().auth.secret_key is None


@pytest.mark.parametrize(
    "text",
    [
        "not base64 at all!",
        base64.b64encode(os.urandom(16)).decode(),  # AES-128's key: too short
        base64.b64encode(os.urandom(33)).decode(),
        os.urandom(32).hex(),  # hex is not base64 of 32 bytes
    ],
    # Fixed ids: the values are random, and xdist workers must collect the same test names.
    ids=["not-base64", "16-bytes", "33-bytes", "hex"],
)
def test_a_malformed_key_is_refused_saying_what_is_expected_and_never_quoting_it(monkeypatch, text: str) -> None:
    monkeypatch.delenv("HARROW_SECRET_KEY_FILE", raising=False)
    monkeypatch.setenv("HARROW_SECRET_KEY", text)
    with pytest.raises(SystemExit) as refused:
        from_environment()
    message = str(refused.value)
    assert message == "HARROW_SECRET_KEY must hold base64 of 32 random bytes (e.g. `openssl rand -base64 32`)"
    assert text not in message


def test_a_malformed_key_file_is_refused_naming_the_file(monkeypatch, tmp_path: Path) -> None:
    file = tmp_path / "secret.key"
    file.write_text("changeme")
    monkeypatch.delenv("HARROW_SECRET_KEY", raising=False)
    monkeypatch.setenv("HARROW_SECRET_KEY_FILE", str(file))
    with pytest.raises(
        SystemExit, match=re.escape(f"HARROW_SECRET_KEY_FILE ({file}) must hold base64 of 32 random bytes")
    ):
        key_from_environment()
