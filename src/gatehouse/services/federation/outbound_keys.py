"""The signing keys of an account's outbound token issuer (joserfc): made when the feature is enabled, one per
algorithm GetWebIdentityToken offers (RS256, ES384); kept sealed under the master key; published as a JWKS of
public keys only.

A key's id is its RFC 7638 thumbprint. Opened private keys are cached by id (opening one means decrypting it and
parsing a PEM, which costs more than signing).
"""

from __future__ import annotations

import datetime as dt
import json
import threading
from collections import OrderedDict
from typing import Any

from joserfc import jwt
from joserfc.jwk import ECKey, RSAKey

from gatehouse.model import OutboundIssuer, SigningKey
from gatehouse.services.secretbox import SecretBox

ALGORITHMS = ("RS256", "ES384")
_CACHE_SIZE = 1024


def signing_key_binding(account_id: str, kid: str) -> str:
    """What an outbound signing key is sealed under (see SecretBox): its account and key id."""
    return f"outbound-signing-key:{account_id}:{kid}"


def generate_keys(box: SecretBox, account_id: str, now: dt.datetime) -> tuple[SigningKey, ...]:
    keys: list[SigningKey] = []
    for alg in ALGORITHMS:
        key: RSAKey | ECKey = (RSAKey.generate_key(2048, parameters={"alg": alg, "use": "sig"}) if alg == "RS256"
                               else ECKey.generate_key("P-384", parameters={"alg": alg, "use": "sig"}))
        kid = key.thumbprint()
        public = {**key.as_dict(private=False), "kid": kid, "alg": alg, "use": "sig"}
        sealed = box.seal(key.as_pem(private=True).decode(), signing_key_binding(account_id, kid))
        keys.append(SigningKey(kid=kid, alg=alg, public_jwk=json.dumps(public, sort_keys=True),
                               sealed_private=sealed, created=now))
    return tuple(keys)


def jwks(issuer: OutboundIssuer) -> dict[str, Any]:
    return {"keys": [json.loads(k.public_jwk) for k in issuer.keys]}


class TokenSigner:
    def __init__(self, box: SecretBox) -> None:
        self.box = box
        self._opened: OrderedDict[str, RSAKey | ECKey] = OrderedDict()
        self._lock = threading.Lock()

    def sign(self, issuer: OutboundIssuer, alg: str, claims: dict[str, Any]) -> str:
        key = next((k for k in issuer.keys if k.alg == alg), None)
        if key is None:
            raise LookupError(f"the issuer of account {issuer.account_id} has no {alg} key")
        private = self._open(issuer.account_id, key)
        return jwt.encode({"alg": alg, "kid": key.kid, "typ": "JWT"}, claims, private, algorithms=[alg])

    def _open(self, account_id: str, key: SigningKey) -> RSAKey | ECKey:
        with self._lock:
            found = self._opened.get(key.kid)
            if found is not None:
                self._opened.move_to_end(key.kid)
                return found
        pem = self.box.open(key.sealed_private, signing_key_binding(account_id, key.kid))
        params: dict[str, Any] = {"kid": key.kid, "alg": key.alg, "use": "sig"}
        opened: RSAKey | ECKey = (RSAKey.import_key(pem, parameters=params) if key.alg == "RS256"  # type: ignore[arg-type]
                                  else ECKey.import_key(pem, parameters=params))  # type: ignore[arg-type]
        with self._lock:
            self._opened[key.kid] = opened
            while len(self._opened) > _CACHE_SIZE:
                self._opened.popitem(last=False)
        return opened
