"""SSH public keys as IAM takes them (UploadSSHPublicKey): the OpenSSH one-line form (`ssh-rsa AAAA... comment`,
`ssh-ed25519 AAAA...`) or a PEM public key. Parsed with `cryptography`, so a key that does not load is refused.

The fingerprint is the MD5 digest of the key blob, as colon-separated hex (what `ssh-keygen -l -E md5` prints and
IAM shows). Pure: no storage.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import hashlib
from dataclasses import dataclass

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa

from gatehouse.errors import InvalidPublicKey, UnrecognizedPublicKeyEncoding

SUPPORTED = ("ssh-rsa", "ssh-ed25519")
MIN_RSA_BITS = 2048
_OTHER_SSH_TYPES = ("ssh-dss", "ecdsa-sha2-", "sk-", "ssh-ed448")
_INVALID = "The public key is malformed or otherwise invalid."
_UNRECOGNIZED = "The public key encoding format is unsupported or unrecognized; use ssh-rsa or ssh-ed25519."


@dataclass(frozen=True, slots=True)
class SshKey:
    kind: str
    blob: bytes

    @property
    def openssh(self) -> str:
        return f"{self.kind} {base64.b64encode(self.blob).decode('ascii')}"

    @property
    def fingerprint(self) -> str:
        digest = hashlib.md5(self.blob, usedforsecurity=False).hexdigest()
        return ":".join(digest[i:i + 2] for i in range(0, len(digest), 2))

    @property
    def pem(self) -> str:
        key = serialization.load_ssh_public_key(self.openssh.encode("ascii"))
        return key.public_bytes(serialization.Encoding.PEM,
                                serialization.PublicFormat.SubjectPublicKeyInfo).decode("ascii")


def parse_ssh_public_key(text: str) -> SshKey:
    text = text.strip()
    if text.startswith("-----BEGIN"):
        return _from_pem(text)
    parts = text.split()
    if len(parts) < 2:
        raise InvalidPublicKey(_INVALID)
    kind, encoded = parts[0], parts[1]
    if kind not in SUPPORTED:
        if kind.startswith(_OTHER_SSH_TYPES):
            raise UnrecognizedPublicKeyEncoding(_UNRECOGNIZED)
        raise InvalidPublicKey(_INVALID)
    try:
        blob = base64.b64decode(encoded, validate=True)
        key = serialization.load_ssh_public_key(f"{kind} {encoded}".encode("ascii"))
    except (binascii.Error, ValueError, UnicodeEncodeError):
        raise InvalidPublicKey(_INVALID) from None
    _check_strength(key)
    return SshKey(kind, blob)


# The DER of DSA's algorithm identifier (OID 1.2.840.10040.4.1). A DSA key is refused before it is loaded: loading
# one makes `cryptography` warn that DSA is deprecated (and a later release will not load it at all).
_DSA_OID = bytes.fromhex("06072a8648ce380401")


def _from_pem(text: str) -> SshKey:
    body = "".join(line for line in text.splitlines() if line and not line.startswith("-----"))
    with contextlib.suppress(binascii.Error, ValueError):
        if _DSA_OID in base64.b64decode(body)[:32]:
            raise UnrecognizedPublicKeyEncoding(_UNRECOGNIZED)
    try:
        key = serialization.load_pem_public_key(text.encode("latin-1"))
    except (ValueError, UnicodeEncodeError):
        raise InvalidPublicKey(_INVALID) from None
    if not isinstance(key, rsa.RSAPublicKey | ed25519.Ed25519PublicKey):
        raise UnrecognizedPublicKeyEncoding(_UNRECOGNIZED)
    _check_strength(key)
    kind, encoded = key.public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH).split()[:2]
    return SshKey(kind.decode("ascii"), base64.b64decode(encoded))


def _check_strength(key: object) -> None:
    if isinstance(key, rsa.RSAPublicKey) and key.key_size < MIN_RSA_BITS:
        raise InvalidPublicKey(f"The RSA public key must be at least {MIN_RSA_BITS} bits long.")
