"""Encoded authorization failure messages: the details of a denial (who, what, which statements, which context),
sealed so that only a principal allowed `sts:DecodeAuthorizationMessage` can read them.

Every AccessDenied that the policy engine decides carries one, in an extra member of the error
(`EncodedAuthorizationMessage`, beside Code and Message; SDKs pass unknown error members through). The message
is compressed JSON in AWS's decoded shape, sealed with AES-256-GCM under a key derived from the master key.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import zlib
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from gatehouse.policy import Decision, DecisionKind, RequestContext

_AAD = "gatehouse authorization message for account {}"


class InvalidEncodedMessage(ValueError):
    """Not a message this server encoded, or altered."""


class AuthorizationMessages:
    def __init__(self, master_key: bytes) -> None:
        key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None,
                   info=b"gatehouse authorization messages v1").derive(master_key)
        self._aead = AESGCM(key)

    def __repr__(self) -> str:
        return "AuthorizationMessages(<sealed>)"

    def encode(self, decision: Decision, ctx: RequestContext) -> str:
        document = {
            "allowed": decision.allowed,
            "explicitDeny": decision.kind is DecisionKind.EXPLICIT_DENY,
            "matchedStatements": {"items": [
                {"statementId": m.sid or "", "effect": m.effect, "policy": m.policy, "policyType": m.policy_type.value,
                 "statementIndex": m.index} for m in decision.matched]},
            "failures": {"items": [{"policyType": decision.denied_by.value}] if decision.denied_by else []},
            "context": {
                "principal": {"id": ctx.get("aws:userid") or "", "arn": ctx.principal.arn},
                "action": ctx.action,
                "resource": ctx.resource,
                "conditions": {"items": [
                    {"key": key, "values": {"items": [{"value": v} for v in (value if isinstance(value, tuple)
                                                                              else (value,))]}}
                    for key, value in sorted(ctx.keys.items())]},
            },
        }
        payload = zlib.compress(json.dumps(document, separators=(",", ":")).encode(), 9)
        nonce = os.urandom(12)
        sealed = self._aead.encrypt(nonce, payload, _AAD.format(ctx.principal.account or "").encode())
        return base64.urlsafe_b64encode(nonce + sealed).decode().rstrip("=")

    def decode(self, encoded: str, account_id: str) -> dict[str, Any]:
        """The message, if it was encoded for a denial in `account_id` (a message opens only in its account)."""
        try:
            raw = base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4))
            payload = self._aead.decrypt(raw[:12], raw[12:], _AAD.format(account_id).encode())
            data: dict[str, Any] = json.loads(zlib.decompress(payload))
        except (binascii.Error, ValueError, InvalidTag, zlib.error):
            raise InvalidEncodedMessage() from None
        return data
