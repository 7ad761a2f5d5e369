"""Session tokens for temporary credentials: everything a session is, sealed so it cannot be read, forged or
altered.

A token carries the session's claims (who, until when, which session policies, tags, source identity, MFA state)
and its secret access key, compressed and encrypted with AES-256-GCM under a key derived (HKDF) from the master key.
The associated data is the session's access key id, so a token presented with another key id does not open. No
session is stored: any replica with the master key can verify one, and nothing needs cleaning up when it expires.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
import os
import zlib
from dataclasses import asdict, dataclass, field
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from gatehouse.model import SessionKind

_VERSION = b"\x01"
_PREFIX = "GHST"


class InvalidSessionToken(ValueError):
    """The token is not one of ours, was altered, or belongs to another access key."""


@dataclass(frozen=True, slots=True)
class SessionClaims:
    """What a temporary credential is."""

    kind: SessionKind
    account_id: str
    access_key_id: str
    secret_access_key: str = field(repr=False)
    issued: int  # epoch seconds
    expires: int
    principal_id: str | None = None  # role id, or the IAM user's id (None: the account root)
    role_name: str | None = None
    session_name: str | None = None  # RoleSessionName, or the federated user's name
    policies: tuple[str, ...] = ()  # inline session policy documents
    policy_arns: tuple[str, ...] = ()
    tags: tuple[tuple[str, str], ...] = ()
    transitive_tag_keys: tuple[str, ...] = ()
    source_identity: str | None = None
    mfa: bool = False
    mfa_time: int | None = None
    chained: bool = False
    federated_provider: str | None = None
    workload: str | None = None  # a registered workload's internal id: refused once the workload is revoked
    console: bool = False  # issued by console sign-in (not GetSessionToken): only these open the web console

    @property
    def issued_at(self) -> dt.datetime:
        return dt.datetime.fromtimestamp(self.issued, dt.UTC)

    @property
    def expires_at(self) -> dt.datetime:
        return dt.datetime.fromtimestamp(self.expires, dt.UTC)


class SessionTokens:
    def __init__(self, master_key: bytes) -> None:
        key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None,
                   info=b"gatehouse session tokens v1").derive(master_key)
        self._aead = AESGCM(key)

    def __repr__(self) -> str:
        return "SessionTokens(<sealed>)"

    def seal(self, claims: SessionClaims) -> str:
        payload = zlib.compress(json.dumps(asdict(claims), separators=(",", ":")).encode(), 9)
        nonce = os.urandom(12)
        sealed = _VERSION + nonce + self._aead.encrypt(nonce, payload, claims.access_key_id.encode())
        return _PREFIX + base64.b64encode(sealed).decode()

    def open(self, access_key_id: str, token: str) -> SessionClaims:
        if not token.startswith(_PREFIX):
            raise InvalidSessionToken()
        try:
            raw = base64.b64decode(token[len(_PREFIX):], validate=True)
        except (binascii.Error, ValueError):
            raise InvalidSessionToken() from None
        if len(raw) < 29 or raw[:1] != _VERSION:
            raise InvalidSessionToken()
        try:
            payload = self._aead.decrypt(raw[1:13], raw[13:], access_key_id.encode())
            data: dict[str, Any] = json.loads(zlib.decompress(payload))
        except (InvalidTag, zlib.error, ValueError):
            raise InvalidSessionToken() from None
        for name in ("policies", "policy_arns", "transitive_tag_keys"):
            data[name] = tuple(data.get(name) or ())
        data["tags"] = tuple((k, v) for k, v in data.get("tags") or ())
        try:
            data["kind"] = SessionKind(str(data.get("kind")))
        except ValueError:
            raise InvalidSessionToken() from None
        claims = SessionClaims(**data)
        if claims.access_key_id != access_key_id:
            raise InvalidSessionToken()
        return claims

    @staticmethod
    def packed_size(claims: SessionClaims, limit: int = 2048) -> int:
        """AWS's PackedPolicySize: how full the packed session policies and tags are, in percent of the limit."""
        packed = zlib.compress(json.dumps([claims.policies, claims.policy_arns, claims.tags,
                                           claims.transitive_tag_keys], separators=(",", ":")).encode(), 9)
        return (len(packed) * 100 + limit - 1) // limit
