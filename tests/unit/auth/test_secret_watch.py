"""The suite-wide watch for secrets in logs (tests/conftest.py) finds one wherever it hides in a line."""

from __future__ import annotations

import logging

from server.auth.credentials import new_secret
from tests.conftest import _SecretWatch


def _watch_with(secret: str | bytes, message: str, *args: object) -> list[str]:
    watch = _SecretWatch()
    watch.remember(secret, "a test secret")
    logger = logging.getLogger("tests.secret_watch")
    logger.addHandler(watch)
    logger.propagate = False
    try:
        logger.warning(message, *args)
    finally:
        logger.removeHandler(watch)
    return watch.leaks()


def test_a_token_inside_a_longer_line_is_found_and_not_quoted() -> None:
    secret = new_secret()
    leaks = _watch_with(secret, "authorization: Bearer %s;x=1", secret)
    assert leaks == ["a secret (a test secret) in log tests.secret_watch:WARNING"]
    assert secret not in leaks[0]


def test_a_key_is_found_as_hex_or_base64_and_other_text_is_not_a_leak() -> None:
    key = bytes(range(32))
    assert _watch_with(key, "key=%s", key.hex())
    assert _watch_with(key, "HARROW_SECRET_KEY=AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=")
    assert not _watch_with(key, "sealed with a key of %d bytes", len(key))


def test_kubeconfig_credentials_are_remembered_from_the_document() -> None:
    watch = _SecretWatch()
    watch.remember_kubeconfig("users: [{name: u, user: {token: kc-0123456789abcdef0123}}]", "a kubeconfig")
    assert "kc-0123456789abcdef0123" in watch.secrets


def test_a_secret_from_a_subprocess_is_found_in_a_subprocess_output() -> None:
    """What tests that run `harrow-server` feed the watch: the CLI's token, and the server's output."""
    watch = _SecretWatch()
    token = new_secret()
    watch.remember(token, "a token from harrow-server token create")
    watch.output("stderr of harrow-server serve", b"INFO harrow.access GET /v1/clusters 200\n")
    assert watch.leaks() == []
    watch.output("stdout of harrow-server serve", f'{{"message": "Bearer {token}"}}'.encode())
    assert watch.leaks() == ["a secret (a token from harrow-server token create) in stdout of harrow-server serve"]
