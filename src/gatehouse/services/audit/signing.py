"""Signed digests, in the spirit of CloudTrail's log file integrity validation.

A digest states every chain's head (sequence and hash) at a moment, the hash of the digest before it, and the
public key; it is signed with an Ed25519 key kept outside the database (a 0600 file next to master.key, or the
file `--audit-key` names). Someone who can edit the database can rewrite a chain consistently, but not re-sign the
digests that already covered it.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
import os
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from gatehouse.storage.audit import GENESIS, ChainHead, StoredDigest

DIGEST_VERSION = "1"


class AuditKeyError(Exception):
    """The audit signing key file is missing, unreadable or not an Ed25519 key."""


def load_or_create_key(path: Path) -> Ed25519PrivateKey:
    """The signing key in `path`, made (exclusively, 0600) if there is none: two processes starting at once keep
    the first one's key."""
    if not path.exists():
        key = Ed25519PrivateKey.generate()
        pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            return load_key(path)
        with os.fdopen(fd, "wb") as f:
            f.write(pem)
        return key
    return load_key(path)


def load_key(path: Path) -> Ed25519PrivateKey:
    try:
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except FileNotFoundError:
        raise AuditKeyError(f"audit key file {path} does not exist") from None
    except (ValueError, TypeError) as e:
        raise AuditKeyError(f"audit key file {path} is not a PEM private key: {e}") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise AuditKeyError(f"audit key file {path} does not hold an Ed25519 key")
    return key


def public_text(key: Ed25519PublicKey) -> str:
    return base64.b64encode(key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)).decode()


def digest_hash(digest: StoredDigest) -> str:
    """What the next digest names as its predecessor: the body and the signature."""
    return hashlib.sha256(f"{digest.body}\n{digest.signature}".encode()).hexdigest()


class DigestSigner:
    def __init__(self, key: Ed25519PrivateKey, clock: Any) -> None:
        self._key = key
        self._clock = clock
        self.public = key.public_key()

    def now(self) -> dt.datetime:
        return self._clock()  # type: ignore[no-any-return]

    def __call__(self, seq: int, previous: StoredDigest | None, heads: list[ChainHead]) -> tuple[str, str]:
        body = json.dumps({
            "digestVersion": DIGEST_VERSION, "seq": seq,
            "digestTime": self._clock().astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "previousDigestHash": digest_hash(previous) if previous else GENESIS,
            "publicKey": public_text(self.public),
            "chains": {h.chain: {"seq": h.seq, "hash": h.hash, "firstSeq": h.first_seq, "startHash": h.start_hash}
                       for h in heads},
        }, sort_keys=True, separators=(",", ":"))
        return body, base64.b64encode(self._key.sign(body.encode())).decode()


def signature_valid(public: Ed25519PublicKey, digest: StoredDigest) -> bool:
    try:
        public.verify(base64.b64decode(digest.signature, validate=True), digest.body.encode())
    except (InvalidSignature, ValueError):
        return False
    return True
