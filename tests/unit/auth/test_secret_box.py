"""Kubeconfigs at rest: sealed to their resource name, and unreadable without the key."""

from __future__ import annotations

import os

import pytest

from server.auth.secret_box import SEALED_PREFIX, SecretBox, SecretKeyError

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
