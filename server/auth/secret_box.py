"""Encryption at rest for secrets Harrow must be able to read back (cluster kubeconfigs).

AES-256-GCM with a random 96-bit nonce per value; the resource name is the
associated data, so a ciphertext copied onto another cluster's row does not
open. Sealed values carry a prefix: rows written before a key was configured
(plain YAML never starts with it) still open, and `Harrow.start` re-seals them.
The key comes from HARROW_SECRET_KEY (base64 of 32 bytes) or the file named by
HARROW_SECRET_KEY_FILE; `harrow-server up` generates one under its data directory.
"""

from __future__ import annotations

import base64
import binascii
import os
import secrets as random
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

SEALED_PREFIX = b"harrow-aes256gcm-v1:"
KEY_BYTES = 32
_NONCE_BYTES = 12


class SecretKeyError(ValueError):
    """A stored secret cannot be opened: no key, or not the key it was sealed with. Never quotes the secret."""


class SecretBox:
    def __init__(self, key: bytes | None = None):
        if key is not None and len(key) != KEY_BYTES:
            raise SecretKeyError(f"the secret key must be {KEY_BYTES} bytes")
        self._aead = AESGCM(key) if key is not None else None

    @property
    def encrypts(self) -> bool:
        return self._aead is not None

    def seal(self, plaintext: str, name: str) -> bytes:
        """Ciphertext bound to `name`; without a key (development only) the plaintext itself."""
        if self._aead is None:
            return plaintext.encode()
        nonce = random.token_bytes(_NONCE_BYTES)
        return SEALED_PREFIX + nonce + self._aead.encrypt(nonce, plaintext.encode(), name.encode())

    def open(self, stored: bytes | None, name: str) -> bytes | None:
        if stored is None or not is_sealed(stored):
            return stored
        if self._aead is None:
            raise SecretKeyError(f"the kubeconfig of {name} is encrypted and no secret key is configured")
        body = stored[len(SEALED_PREFIX) :]
        try:
            return self._aead.decrypt(body[:_NONCE_BYTES], body[_NONCE_BYTES:], name.encode())
        except InvalidTag:
            raise SecretKeyError(f"the kubeconfig of {name} does not open with the configured secret key") from None


def is_sealed(stored: bytes) -> bool:
    return stored.startswith(SEALED_PREFIX)


def decode_key(text: str, source: str) -> bytes:
    try:
        key = base64.b64decode(text.strip(), validate=True)
    except (binascii.Error, ValueError):
        key = b""
    if len(key) != KEY_BYTES:
        raise SystemExit(f"{source} must hold base64 of {KEY_BYTES} random bytes (e.g. `openssl rand -base64 32`)")
    return key


def key_from_environment() -> bytes | None:
    if text := os.environ.get("HARROW_SECRET_KEY"):
        return decode_key(text, "HARROW_SECRET_KEY")
    if path := os.environ.get("HARROW_SECRET_KEY_FILE"):
        return decode_key(Path(path).read_text(), f"HARROW_SECRET_KEY_FILE ({path})")
    return None


def generated_key(path: Path) -> bytes:
    """The key in `path`, written (mode 0600) with a fresh random key the first time."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w") as file:
            file.write(base64.b64encode(random.token_bytes(KEY_BYTES)).decode() + "\n")
    return decode_key(path.read_text(), str(path))
