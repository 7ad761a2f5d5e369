"""Outbound web identity federation end to end: enabling the account's issuer, GetWebIdentityToken, and tokens that
verify against the discovery document and JWKS the server publishes, including by another Gatehouse that trusts
this one as an OIDC provider (through an HTTPS front on loopback)."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest
from joserfc import jwt
from joserfc.jwk import KeySet

from tests.e2e.iam_support import doc, expect
from tests.support import ACCOUNT
from tests.support.pki import LoopbackCa
from tests.support.servers import Endpoint, running
from tests.support.tls_proxy import TlsProxy

pytestmark = pytest.mark.e2e

AUDIENCE = "https://ext.invalid"
NAMESPACE = "https://sts.amazonaws.com/"


def fetch(url: str) -> dict[str, Any]:
    with urllib.request.urlopen(url, timeout=10) as r:
        document: dict[str, Any] = json.loads(r.read())
        return document


def user(gh: Endpoint, name: str, *statements: dict[str, Any], tags: list[dict[str, str]] | None = None) -> Any:
    iam = gh.client("iam")
    iam.create_user(UserName=name, Tags=tags or [])
    if statements:
        iam.put_user_policy(UserName=name, PolicyName="p", PolicyDocument=doc(*statements))
    key = iam.create_access_key(UserName=name)["AccessKey"]
    return gh.client("sts", key["AccessKeyId"], key["SecretAccessKey"])


def allow(action: str | list[str], **extra: Any) -> dict[str, Any]:
    return {"Effect": "Allow", "Action": action, "Resource": "*", **extra}


def verified(token: str, issuer: str, alg: str = "RS256") -> dict[str, Any]:
    """The token's claims, verified the way a relying party would: discovery document, then JWKS."""
    discovery = fetch(issuer + "/.well-known/openid-configuration")
    assert discovery["issuer"] == issuer
    keys = KeySet.import_key_set(fetch(discovery["jwks_uri"]))
    claims: dict[str, Any] = jwt.decode(token, keys, algorithms=[alg]).claims
    return claims


def test_the_feature_is_off_until_enabled(gh: Endpoint, iam: Any) -> None:
    sts = user(gh, "vendor", allow("sts:GetWebIdentityToken"))
    expect("OutboundWebIdentityFederationDisabledException", sts.get_web_identity_token, Audience=[AUDIENCE],
           SigningAlgorithm="RS256")
    expect("FeatureDisabled", iam.get_outbound_web_identity_federation_info)
    expect("FeatureDisabled", iam.disable_outbound_web_identity_federation)
    issuer = iam.enable_outbound_web_identity_federation()["IssuerIdentifier"]
    assert issuer == f"{gh.url}/accounts/{ACCOUNT}"
    expect("FeatureEnabled", iam.enable_outbound_web_identity_federation)
    info = iam.get_outbound_web_identity_federation_info()
    assert (info["IssuerIdentifier"], info["JwtVendingEnabled"]) == (issuer, True)


@pytest.mark.parametrize("alg", ["RS256", "ES384"])
def test_tokens_verify_against_the_served_jwks(gh: Endpoint, iam: Any, alg: str) -> None:
    issuer = iam.enable_outbound_web_identity_federation()["IssuerIdentifier"]
    sts = user(gh, "jwt-user", allow("sts:GetWebIdentityToken"), tags=[{"Key": "team", "Value": "blue"}])
    out = sts.get_web_identity_token(Audience=[AUDIENCE], SigningAlgorithm=alg,
                                     Tags=[{"Key": "job", "Value": "nightly"}])
    claims = verified(out["WebIdentityToken"], issuer, alg)
    arn = f"arn:aws:iam::{ACCOUNT}:user/jwt-user"
    assert (claims["iss"], claims["sub"], claims["aud"]) == (issuer, arn, AUDIENCE)
    assert claims["exp"] - claims["iat"] == 300 and claims["exp"] > time.time() and claims["jti"]
    assert abs(out["Expiration"].timestamp() - claims["exp"]) < 1
    assert claims[NAMESPACE] == {"aws_account": ACCOUNT, "source_region": "us-east-1", "principal_id": arn,
                                 "principal_tags": {"team": "blue"}, "request_tags": {"job": "nightly"}}
    two = sts.get_web_identity_token(Audience=[AUDIENCE, "https://b.invalid"], SigningAlgorithm=alg,
                                     DurationSeconds=60)["WebIdentityToken"]
    claims = verified(two, issuer, alg)
    assert claims["aud"] == [AUDIENCE, "https://b.invalid"] and claims["exp"] - claims["iat"] == 60


def test_the_jwks_holds_public_keys_only(gh: Endpoint, iam: Any) -> None:
    issuer = iam.enable_outbound_web_identity_federation()["IssuerIdentifier"]
    discovery = fetch(issuer + "/.well-known/openid-configuration")
    assert discovery["id_token_signing_alg_values_supported"] == ["ES384", "RS256"]
    keys = fetch(discovery["jwks_uri"])["keys"]
    assert sorted(k["alg"] for k in keys) == ["ES384", "RS256"]
    assert all(not {"d", "p", "q"} & set(k) for k in keys)
    with pytest.raises(urllib.error.HTTPError) as info:
        fetch(f"{gh.url}/accounts/999999999999/.well-known/jwks.json")
    assert info.value.code == 404


def test_permission_and_condition_keys_decide(gh: Endpoint, iam: Any) -> None:
    iam.enable_outbound_web_identity_federation()
    denied = user(gh, "no-permission")
    expect("AccessDenied", denied.get_web_identity_token, Audience=[AUDIENCE], SigningAlgorithm="RS256")
    limited = user(gh, "limited", allow("sts:GetWebIdentityToken", Condition={
        "ForAllValues:StringEquals": {"sts:IdentityTokenAudience": AUDIENCE},
        "NumericLessThanEquals": {"sts:DurationSeconds": "300"}}))
    limited.get_web_identity_token(Audience=[AUDIENCE], SigningAlgorithm="RS256")
    expect("AccessDenied", limited.get_web_identity_token, Audience=[AUDIENCE, "https://x.invalid"],
           SigningAlgorithm="RS256")
    expect("AccessDenied", limited.get_web_identity_token, Audience=[AUDIENCE], SigningAlgorithm="RS256",
           DurationSeconds=900)
    expect("ValidationError", limited.get_web_identity_token, Audience=[AUDIENCE], SigningAlgorithm="HS256")


def test_a_role_session_token_names_the_role_and_cannot_outlive_it(gh: Endpoint, iam: Any) -> None:
    issuer = iam.enable_outbound_web_identity_federation()["IssuerIdentifier"]
    iam.create_role(RoleName="vending", AssumeRolePolicyDocument=doc(
        {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"}, "Action": "sts:AssumeRole"}))
    iam.put_role_policy(RoleName="vending", PolicyName="p", PolicyDocument=doc(allow("sts:GetWebIdentityToken")))
    sts = user(gh, "assumer", allow("sts:AssumeRole"))
    creds = sts.assume_role(RoleArn=f"arn:aws:iam::{ACCOUNT}:role/vending", RoleSessionName="vendor",
                            DurationSeconds=900)["Credentials"]
    session = gh.client("sts", creds["AccessKeyId"], creds["SecretAccessKey"], token=creds["SessionToken"])
    token = session.get_web_identity_token(Audience=[AUDIENCE], SigningAlgorithm="RS256")["WebIdentityToken"]
    assert verified(token, issuer)["sub"] == f"arn:aws:iam::{ACCOUNT}:role/vending"
    expect("SessionDurationEscalationException", session.get_web_identity_token, Audience=[AUDIENCE],
           SigningAlgorithm="RS256", DurationSeconds=3600)


def test_disabling_stops_vending_and_publication(gh: Endpoint, iam: Any) -> None:
    issuer = iam.enable_outbound_web_identity_federation()["IssuerIdentifier"]
    kids = sorted(k["kid"] for k in fetch(issuer + "/.well-known/jwks.json")["keys"])
    sts = user(gh, "vendor2", allow("sts:GetWebIdentityToken"))
    iam.disable_outbound_web_identity_federation()
    assert iam.get_outbound_web_identity_federation_info()["JwtVendingEnabled"] is False
    expect("OutboundWebIdentityFederationDisabledException", sts.get_web_identity_token, Audience=[AUDIENCE],
           SigningAlgorithm="RS256")
    with pytest.raises(urllib.error.HTTPError):
        fetch(issuer + "/.well-known/jwks.json")
    assert iam.enable_outbound_web_identity_federation()["IssuerIdentifier"] == issuer
    assert sorted(k["kid"] for k in fetch(issuer + "/.well-known/jwks.json")["keys"]) == kids


# --- one Gatehouse trusting another -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def ca(tmp_path_factory: pytest.TempPathFactory) -> LoopbackCa:
    return LoopbackCa(str(tmp_path_factory.mktemp("outbound-ca")))


@pytest.fixture(scope="module")
def pair(ca: LoopbackCa) -> Iterator[tuple[Endpoint, Endpoint, TlsProxy]]:
    """Gatehouse A (the issuer, behind an HTTPS front at its public URL) and Gatehouse B (trusting the front's CA)."""
    front = TlsProxy(ca, "")
    try:
        with running("--dev", "--public-url", front.url) as a, \
                running("--dev", "--fetch-allow-private", "127.0.0.1/32", env=ca.trust_env) as b:  # A's front
            front.upstream = a.url
            yield a, b, front
    finally:
        front.close()


def test_gatehouse_trusts_another_gatehouse_as_an_oidc_provider(pair: tuple[Endpoint, Endpoint, TlsProxy]) -> None:
    a, b, front = pair
    issuer = a.client("iam").enable_outbound_web_identity_federation()["IssuerIdentifier"]
    assert issuer == f"{front.url}/accounts/{ACCOUNT}"
    host_path = issuer.split("://", 1)[1]
    provider = b.client("iam").create_open_id_connect_provider(Url=issuer, ClientIDList=["gatehouse-b"])[
        "OpenIDConnectProviderArn"]
    alice_arn = f"arn:aws:iam::{ACCOUNT}:user/alice"
    role = b.client("iam").create_role(RoleName="from-a", AssumeRolePolicyDocument=doc(
        {"Effect": "Allow", "Principal": {"Federated": provider}, "Action": "sts:AssumeRoleWithWebIdentity",
         "Condition": {"StringEquals": {f"{host_path}:sub": alice_arn, f"{host_path}:aud": "gatehouse-b"}}}),
    )["Role"]["Arn"]
    alice, bob = (user(a, name, allow("sts:GetWebIdentityToken")) for name in ("alice", "bob"))
    for alg in ("RS256", "ES384"):
        token = alice.get_web_identity_token(Audience=["gatehouse-b"], SigningAlgorithm=alg)["WebIdentityToken"]
        out = b.client("sts").assume_role_with_web_identity(RoleArn=role, RoleSessionName="alice-from-a",
                                                           WebIdentityToken=token)
        assert out["SubjectFromWebIdentityToken"] == alice_arn and out["Provider"] == provider
    token = bob.get_web_identity_token(Audience=["gatehouse-b"], SigningAlgorithm="RS256")["WebIdentityToken"]
    expect("AccessDenied", b.client("sts").assume_role_with_web_identity, RoleArn=role,
           RoleSessionName="bob-from-a", WebIdentityToken=token)
    token = alice.get_web_identity_token(Audience=["someone-else"], SigningAlgorithm="RS256")["WebIdentityToken"]
    expect("InvalidIdentityToken", b.client("sts").assume_role_with_web_identity, RoleArn=role,
           RoleSessionName="alice-from-a", WebIdentityToken=token)
    assert any(p.endswith("/.well-known/jwks.json") for p in front.requests), "B fetched A's keys over HTTPS"
