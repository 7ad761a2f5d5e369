"""Secrets at rest: AES-256-GCM under a master key kept outside the database.

The associated data binds each ciphertext to the record it belongs to (for an access key, its id), so a sealed
secret copied onto another row does not open.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

_VERSION = b"\x01"
_KEY_CHECK_LABEL = b"gatehouse master key check v1"


class MasterKeyError(ValueError):
    """The master key is missing or malformed."""


class SealedSecretError(ValueError):
    """A sealed value does not open under this master key."""


def parse_master_key(encoded: str) -> bytes:
    try:
        key = base64.b64decode(encoded.strip(), validate=True)
    except (binascii.Error, ValueError) as e:
        raise MasterKeyError("the master key must be base64") from e
    if len(key) != 32:
        raise MasterKeyError(f"the master key must be 32 bytes, base64-encoded (got {len(key)} bytes)")
    return key


def new_master_key() -> str:
    return base64.b64encode(os.urandom(32)).decode()


class SecretBox:
    def __init__(self, master_key: bytes) -> None:
        if len(master_key) != 32:
            raise MasterKeyError("the master key must be 32 bytes")
        self._aead = AESGCM(master_key)
        self._check = hmac.new(master_key, _KEY_CHECK_LABEL, hashlib.sha256).hexdigest()

    def __repr__(self) -> str:
        return "SecretBox(<sealed>)"

    def check_value(self) -> str:
        """An HMAC of a fixed label under the master key, kept in the store: every command and replica compares it
        before using the key, so a wrong key is refused at once instead of sealing secrets nothing can open. It
        reveals nothing about the key (a one-way function of it)."""
        return self._check

    def seal(self, plaintext: str, bound_to: str) -> bytes:
        nonce = os.urandom(12)
        return _VERSION + nonce + self._aead.encrypt(nonce, plaintext.encode(), bound_to.encode())

    def open(self, sealed: bytes, bound_to: str) -> str:
        if len(sealed) < 29 or sealed[:1] != _VERSION:
            raise SealedSecretError("unknown sealed-secret format")
        try:
            return self._aead.decrypt(sealed[1:13], sealed[13:], bound_to.encode()).decode()
        except InvalidTag as e:
            raise SealedSecretError("sealed secret does not open under this master key") from e
