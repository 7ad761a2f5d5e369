"""Outbound issuer keys: made per algorithm, sealed at rest, published public-only, and signing tokens that verify
against the published JWKS (and through the OIDC verifier Gatehouse itself uses)."""

from __future__ import annotations

import datetime as dt
import json
import os
import time
from typing import Any

import pytest
from joserfc import jwt
from joserfc.jwk import KeySet

from gatehouse.model import OidcProvider, OutboundIssuer
from gatehouse.services.federation.issuer_keys import IssuerKeys
from gatehouse.services.federation.outbound_keys import TokenSigner, generate_keys, jwks
from gatehouse.services.federation.web_token import read_unverified, verify
from gatehouse.services.secretbox import SealedSecretError, SecretBox

ISSUER = "https://gatehouse.tests.invalid/accounts/123456789012"


@pytest.fixture(scope="module")
def box() -> SecretBox:
    return SecretBox(os.urandom(32))


@pytest.fixture(scope="module")
def issuer(box: SecretBox) -> OutboundIssuer:
    keys = generate_keys(box, "123456789012", dt.datetime.now(dt.UTC))
    return OutboundIssuer(account_id="123456789012", issuer=ISSUER, enabled=True, keys=keys)


def claims() -> dict[str, Any]:
    now = int(time.time())
    return {"iss": ISSUER, "sub": "arn:aws:iam::123456789012:user/alice", "aud": "https://ext.invalid",
            "iat": now, "exp": now + 300}


def test_one_key_per_algorithm_sealed_and_published_without_private_parts(box: SecretBox,
                                                                          issuer: OutboundIssuer) -> None:
    assert [k.alg for k in issuer.keys] == ["RS256", "ES384"]
    published = jwks(issuer)["keys"]
    assert [k["kid"] for k in published] == [k.kid for k in issuer.keys]
    for key in published:
        assert not {"d", "p", "q", "dp", "dq", "qi"} & set(key), key
        assert key["use"] == "sig"
    for key in issuer.keys:
        assert b"PRIVATE KEY" not in key.sealed_private
        with pytest.raises(SealedSecretError):  # sealed for this account and key only
            box.open(key.sealed_private, f"outbound-signing-key:999999999999:{key.kid}")


@pytest.mark.parametrize("alg", ["RS256", "ES384"])
def test_tokens_verify_against_the_published_keys(box: SecretBox, issuer: OutboundIssuer, alg: str) -> None:
    token = TokenSigner(box).sign(issuer, alg, claims())
    keys = KeySet.import_key_set(json.loads(json.dumps(jwks(issuer))))
    decoded = jwt.decode(token, keys, algorithms=[alg])
    assert decoded.header["alg"] == alg and decoded.claims["sub"].endswith(":user/alice")


class StaticFetcher:
    def __init__(self, issuer: OutboundIssuer) -> None:
        self.issuer = issuer

    def get_json(self, url: str) -> dict[str, Any]:
        if url.endswith("/.well-known/openid-configuration"):
            return {"issuer": ISSUER, "jwks_uri": ISSUER + "/.well-known/jwks.json"}
        return jwks(self.issuer)


@pytest.mark.parametrize("alg", ["RS256", "ES384"])
def test_gatehouse_accepts_its_own_tokens_as_an_oidc_provider(box: SecretBox, issuer: OutboundIssuer,
                                                              alg: str) -> None:
    token = TokenSigner(box).sign(issuer, alg, claims())
    provider = OidcProvider(account_id="210987654321", provider_id="AOIPX", url=ISSUER.split("://", 1)[1],
                            created=dt.datetime.now(dt.UTC), client_ids=("https://ext.invalid",))
    verified = verify(token, read_unverified(token), provider, IssuerKeys(StaticFetcher(issuer)),  # type: ignore[arg-type]
                      int(time.time()))
    assert verified.subject == "arn:aws:iam::123456789012:user/alice"
