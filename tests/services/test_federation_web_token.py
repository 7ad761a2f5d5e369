"""OIDC web identity token validation (`federation.web_token`) against an in-memory issuer: what is accepted, and
each way a token is refused, with AWS's error codes."""

from __future__ import annotations

import base64
import datetime as dt
import json
import time
from typing import Any

import pytest
from joserfc import jwt
from joserfc.jwk import ECKey, OctKey, RSAKey

from gatehouse.errors import AwsError
from gatehouse.model import OidcProvider
from gatehouse.services.federation.https_fetch import FetchError
from gatehouse.services.federation.issuer_keys import IssuerKeys
from gatehouse.services.federation.web_token import issuer_url_key, read_unverified, verify

ISSUER = "https://issuer.tests.invalid/path"
CLIENT = "client-1"
PROVIDER = OidcProvider(account_id="123456789012", provider_id="AOIPTEST", url="issuer.tests.invalid/path",
                        created=dt.datetime(2024, 1, 1, tzinfo=dt.UTC), client_ids=("other", CLIENT))


class FakeFetcher:
    """Serves one issuer's discovery document and JWKS from memory, counting fetches."""

    def __init__(self, *keys: RSAKey | ECKey) -> None:
        self.keys = list(keys)
        self.fetches: list[str] = []
        self.down = False

    def get_json(self, url: str) -> dict[str, Any]:
        self.fetches.append(url)
        if self.down:
            raise FetchError("down")
        if url == ISSUER + "/.well-known/openid-configuration":
            return {"issuer": ISSUER, "jwks_uri": ISSUER + "/jwks"}
        if url == ISSUER + "/jwks":
            return {"keys": [k.as_dict(private=False) for k in self.keys]}
        raise FetchError(f"no {url}")


def rsa(kid: str = "k1") -> RSAKey:
    return RSAKey.generate_key(2048, parameters={"kid": kid, "alg": "RS256", "use": "sig"})


def token(key: Any, alg: str = "RS256", header: dict[str, Any] | None = None, **claims: Any) -> str:
    """A token signed by `key`; a claim given as None is left out."""
    now = int(time.time())
    body = {"iss": ISSUER, "aud": CLIENT, "sub": "subject-1", "iat": now, "exp": now + 300, **claims}
    body = {k: v for k, v in body.items() if v is not None}
    return jwt.encode({"alg": alg, "kid": key.kid, **(header or {})}, body, key, algorithms=[alg])


def check(tok: str, fetcher: FakeFetcher, *, now: int | None = None, keys: IssuerKeys | None = None) -> Any:
    return verify(tok, read_unverified(tok), PROVIDER, keys or IssuerKeys(fetcher),  # type: ignore[arg-type]
                  now or int(time.time()))


def code_of(tok: str, fetcher: FakeFetcher, **kw: Any) -> str:
    with pytest.raises(AwsError) as info:
        check(tok, fetcher, **kw)
    return info.value.code


@pytest.fixture
def key() -> RSAKey:
    return rsa()


def test_a_good_token_is_accepted(key: RSAKey) -> None:
    verified = check(token(key), FakeFetcher(key))
    assert (verified.subject, verified.audience, verified.issuer) == ("subject-1", CLIENT, ISSUER)


def test_an_audience_list_matches_any_client_id(key: RSAKey) -> None:
    assert check(token(key, aud=["x", CLIENT]), FakeFetcher(key)).audience == CLIENT


def test_ec_keys_and_tokens_without_kid(key: RSAKey) -> None:
    ec = ECKey.generate_key("P-256", parameters={"kid": "e1", "alg": "ES256"})
    assert check(token(ec, "ES256"), FakeFetcher(key, ec)).subject == "subject-1"
    no_kid = jwt.encode({"alg": "RS256"}, {"iss": ISSUER, "aud": CLIENT, "sub": "s", "exp": int(time.time()) + 60},
                        key)
    assert check(no_kid, FakeFetcher(ec, key)).subject == "s"


@pytest.mark.parametrize(("what", "claims", "code"), [
    ("wrong audience", {"aud": "someone-else"}, "InvalidIdentityToken"),
    ("no audience", {"aud": None}, "InvalidIdentityToken"),
    ("expired", {"exp": int(time.time()) - 600}, "ExpiredTokenException"),
    ("no expiry", {"exp": None}, "InvalidIdentityToken"),
    # A day ahead: these values are taken when the tests are collected, and a whole suite can outlast ten minutes.
    ("not valid yet", {"nbf": int(time.time()) + 86_400}, "InvalidIdentityToken"),
    ("issued in the future", {"iat": int(time.time()) + 86_400}, "InvalidIdentityToken"),
    ("no subject", {"sub": None}, "InvalidIdentityToken"),
    ("another issuer in the signed claims", {"iss": "https://evil.invalid"}, "InvalidIdentityToken"),
    # The claim must be the provider's URL as registered: AWS documents no normalisation.
    ("a trailing slash", {"iss": ISSUER + "/"}, "InvalidIdentityToken"),
    ("the host in another case", {"iss": "https://Issuer.Tests.Invalid/path"}, "InvalidIdentityToken"),
    ("the default port spelled out", {"iss": "https://issuer.tests.invalid:443/path"}, "InvalidIdentityToken"),
    ("plain HTTP", {"iss": "http://issuer.tests.invalid/path"}, "InvalidIdentityToken"),
])
def test_claims_are_checked(key: RSAKey, what: str, claims: dict[str, Any], code: str) -> None:
    assert code_of(token(key, **claims), FakeFetcher(key)) == code, what


def test_expiry_allows_a_little_clock_skew_and_says_when(key: RSAKey) -> None:
    now = int(time.time())
    check(token(key, exp=now - 30), FakeFetcher(key), now=now)
    with pytest.raises(AwsError) as info:
        check(token(key, exp=now - 120), FakeFetcher(key), now=now)
    assert info.value.message == (f"Token expired: current date/time {now} must be before the expiration "
                                  f"date/time {now - 120}")


def test_a_signature_by_another_key_with_the_same_kid_is_refused(key: RSAKey) -> None:
    assert code_of(token(rsa("k1")), FakeFetcher(key)) == "InvalidIdentityToken"


def test_altered_claims_are_refused(key: RSAKey) -> None:
    head, _, sig = token(key).split(".")
    body = base64.urlsafe_b64encode(json.dumps({"iss": ISSUER, "aud": CLIENT, "sub": "admin",
                                                "exp": int(time.time()) + 60}).encode()).rstrip(b"=").decode()
    assert code_of(f"{head}.{body}.{sig}", FakeFetcher(key)) == "InvalidIdentityToken"


def _b64(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def test_alg_none_is_refused(key: RSAKey) -> None:
    unsigned = f"{_b64({'alg': 'none', 'kid': 'k1'})}.{_b64({'iss': ISSUER, 'aud': CLIENT, 'sub': 's'})}."
    assert code_of(unsigned, FakeFetcher(key)) == "InvalidIdentityToken"


def test_an_hmac_token_keyed_with_the_public_key_is_refused(key: RSAKey) -> None:
    """The classic algorithm confusion: HS256 with the issuer's public key as the shared secret."""
    secret = OctKey.import_key(json.dumps(key.as_dict(private=False)).encode(), parameters={"kid": "k1"})
    forged = jwt.encode({"alg": "HS256", "kid": "k1"}, {"iss": ISSUER, "aud": CLIENT, "sub": "s",
                                                        "exp": int(time.time()) + 60}, secret)
    assert code_of(forged, FakeFetcher(key)) == "InvalidIdentityToken"


@pytest.mark.parametrize("garbage", ["not-a-jwt", "a.b.c", "e30.e30", "...."])
def test_malformed_tokens_are_refused(garbage: str) -> None:
    with pytest.raises(AwsError) as info:
        read_unverified(garbage)
    assert info.value.code == "InvalidIdentityToken"


def test_an_unknown_kid_refetches_once_then_fails(key: RSAKey) -> None:
    fetcher = FakeFetcher(key)
    keys = IssuerKeys(fetcher, refresh_floor=0)  # type: ignore[arg-type]
    check(token(key), fetcher, keys=keys)
    assert len(fetcher.fetches) == 2  # discovery + JWKS
    check(token(key), fetcher, keys=keys)
    assert len(fetcher.fetches) == 2, "cached"
    rotated = rsa("k2")
    fetcher.keys.append(rotated)
    check(token(rotated), fetcher, keys=keys)
    assert len(fetcher.fetches) == 4, "one refetch for the new kid"
    with pytest.raises(AwsError) as info:
        check(token(rsa("k3")), fetcher, keys=keys)
    assert info.value.code == "InvalidIdentityToken"
    assert len(fetcher.fetches) == 6


def test_unknown_kids_do_not_hammer_the_issuer(key: RSAKey) -> None:
    fetcher = FakeFetcher(key)
    keys = IssuerKeys(fetcher, refresh_floor=60)  # type: ignore[arg-type]
    check(token(key), fetcher, keys=keys)
    for n in range(5):
        with pytest.raises(AwsError):
            check(token(rsa(f"made-up-{n}")), fetcher, keys=keys)
    assert len(fetcher.fetches) == 2


def test_keys_expire_from_the_cache(key: RSAKey) -> None:
    fetcher, clock = FakeFetcher(key), [0.0]
    keys = IssuerKeys(fetcher, ttl=100, clock=lambda: clock[0])  # type: ignore[arg-type]
    check(token(key), fetcher, keys=keys)
    clock[0] = 99
    check(token(key), fetcher, keys=keys)
    assert len(fetcher.fetches) == 2
    clock[0] = 101
    check(token(key), fetcher, keys=keys)
    assert len(fetcher.fetches) == 4


def test_an_unreachable_issuer_is_a_communication_error(key: RSAKey) -> None:
    fetcher = FakeFetcher(key)
    fetcher.down = True
    assert code_of(token(key), fetcher) == "IDPCommunicationError"


@pytest.mark.parametrize(("issuer", "key"), [
    ("https://Token.Example.com", "Token.Example.com"),
    ("https://token.example.com/", "token.example.com/"),
    ("https://token.example.com:443/id/ABC", "token.example.com:443/id/ABC"),
    ("https://127.0.0.1:8443", "127.0.0.1:8443"),
    ("https://host/Case/Path/", "host/Case/Path/"),
])
def test_issuer_url_key(issuer: str, key: str) -> None:
    assert issuer_url_key(issuer) == key
