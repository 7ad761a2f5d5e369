"""OIDC federation end to end: IAM OpenID Connect providers, and AssumeRoleWithWebIdentity against a real HTTPS
issuer on loopback whose certificate comes from a test CA that the server trusts through SSL_CERT_FILE."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError
from joserfc.jwk import RSAKey

from tests.e2e.iam_support import doc, expect
from tests.support import ACCOUNT
from tests.support.oidc_issuer import CLIENT_ID, SUBJECT, OidcIssuer
from tests.support.pki import LoopbackCa
from tests.support.servers import Endpoint, running

pytestmark = pytest.mark.e2e

READ_ONLY = "arn:aws:iam::aws:policy/ReadOnlyAccess"


@pytest.fixture(scope="module")
def ca(tmp_path_factory: pytest.TempPathFactory) -> LoopbackCa:
    return LoopbackCa(str(tmp_path_factory.mktemp("oidc-ca")))


@pytest.fixture(scope="module")
def issuer(ca: LoopbackCa) -> Iterator[OidcIssuer]:
    made = OidcIssuer(ca)
    yield made
    made.close()


@pytest.fixture(scope="module")
def trusting(ca: LoopbackCa) -> Iterator[Endpoint]:
    """A development server that trusts the test CA (and nothing else) for outbound HTTPS, and may fetch from
    loopback, where the test issuers live (identity-provider fetches reach only public addresses by default)."""
    with running("--dev", "--fetch-allow-private", "127.0.0.0/8", env=ca.trust_env) as ep:
        yield ep


@pytest.fixture
def server(trusting: Endpoint) -> Endpoint:
    trusting.reset()
    return trusting


def provider(server: Endpoint, issuer: OidcIssuer, *client_ids: str) -> str:
    return server.client("iam").create_open_id_connect_provider(
        Url=issuer.url, ClientIDList=list(client_ids or (CLIENT_ID,)))["OpenIDConnectProviderArn"]


def role(server: Endpoint, name: str, provider_arn: str, condition: dict[str, Any] | None = None,
         actions: tuple[str, ...] = ("sts:AssumeRoleWithWebIdentity",), **kw: Any) -> str:
    statement: dict[str, Any] = {"Effect": "Allow", "Principal": {"Federated": provider_arn}, "Action": list(actions)}
    if condition:
        statement["Condition"] = condition
    return server.client("iam").create_role(RoleName=name, AssumeRolePolicyDocument=doc(statement), **kw)["Role"]["Arn"]


def assume(server: Endpoint, role_arn: str, token: str, name: str = "ci-run", **kw: Any) -> dict[str, Any]:
    result: dict[str, Any] = server.client("sts").assume_role_with_web_identity(
        RoleArn=role_arn, RoleSessionName=name, WebIdentityToken=token, **kw)
    return result


def error_of(server: Endpoint, role_arn: str, token: str, **kw: Any) -> tuple[str, str]:
    with pytest.raises(ClientError) as info:
        assume(server, role_arn, token, **kw)
    return info.value.response["Error"]["Code"], info.value.response["Error"]["Message"]


# --- providers in IAM ------------------------------------------------------------------------------------------


def test_provider_lifecycle(server: Endpoint, issuer: OidcIssuer) -> None:
    iam = server.client("iam")
    made = iam.create_open_id_connect_provider(Url=issuer.url, ClientIDList=["a", "b", "a"],
                                               ThumbprintList=["A" * 40], Tags=[{"Key": "team", "Value": "ci"}])
    arn = made["OpenIDConnectProviderArn"]
    assert arn == f"arn:aws:iam::{ACCOUNT}:oidc-provider/{issuer.host}"
    assert made["Tags"] == [{"Key": "team", "Value": "ci"}]
    got = iam.get_open_id_connect_provider(OpenIDConnectProviderArn=arn)
    assert (got["Url"], got["ClientIDList"], got["ThumbprintList"]) == (issuer.host, ["a", "b"], ["a" * 40])
    assert got["Tags"] == [{"Key": "team", "Value": "ci"}] and got["CreateDate"]
    assert iam.list_open_id_connect_providers()["OpenIDConnectProviderList"] == [{"Arn": arn}]
    iam.add_client_id_to_open_id_connect_provider(OpenIDConnectProviderArn=arn, ClientID="c")
    iam.add_client_id_to_open_id_connect_provider(OpenIDConnectProviderArn=arn, ClientID="c")
    iam.remove_client_id_from_open_id_connect_provider(OpenIDConnectProviderArn=arn, ClientID="a")
    iam.remove_client_id_from_open_id_connect_provider(OpenIDConnectProviderArn=arn, ClientID="never-there")
    iam.update_open_id_connect_provider_thumbprint(OpenIDConnectProviderArn=arn, ThumbprintList=["b" * 40,
                                                                                                  "c" * 40])
    got = iam.get_open_id_connect_provider(OpenIDConnectProviderArn=arn)
    assert (got["ClientIDList"], got["ThumbprintList"]) == (["b", "c"], ["b" * 40, "c" * 40])
    iam.tag_open_id_connect_provider(OpenIDConnectProviderArn=arn, Tags=[{"Key": "env", "Value": "prod"}])
    # OIDC providers' tag keys are case sensitive (IAM User Guide, "Rules for tagging in IAM and AWS STS"): TEAM
    # is not team.
    iam.untag_open_id_connect_provider(OpenIDConnectProviderArn=arn, TagKeys=["TEAM"])
    assert len(iam.list_open_id_connect_provider_tags(OpenIDConnectProviderArn=arn)["Tags"]) == 2
    iam.untag_open_id_connect_provider(OpenIDConnectProviderArn=arn, TagKeys=["team"])
    assert iam.list_open_id_connect_provider_tags(OpenIDConnectProviderArn=arn)["Tags"] == [
        {"Key": "env", "Value": "prod"}]
    assert iam.get_account_summary()["SummaryMap"]["Providers"] == 1
    iam.delete_open_id_connect_provider(OpenIDConnectProviderArn=arn)
    # Not idempotent (AWS's answer recorded in LocalStack's AWS-validated test_iam_oidc.snapshot.json).
    err = expect("NoSuchEntity", iam.delete_open_id_connect_provider, OpenIDConnectProviderArn=arn)
    assert err["Error"]["Message"] == f"OpenId connect Provider {arn} cannot be found."
    err = expect("NoSuchEntity", iam.get_open_id_connect_provider, OpenIDConnectProviderArn=arn)
    assert err["Error"]["Message"] == f"OpenIDConnect Provider not found for arn {arn}"
    assert iam.list_open_id_connect_providers()["OpenIDConnectProviderList"] == []


def test_provider_errors(server: Endpoint, issuer: OidcIssuer) -> None:
    iam = server.client("iam")
    arn = provider(server, issuer)
    # The URL is kept as given (an `iss` must equal it): a trailing slash makes another provider.
    twin = iam.create_open_id_connect_provider(Url=issuer.url + "/", ClientIDList=[CLIENT_ID])
    assert twin["OpenIDConnectProviderArn"] == arn + "/"
    iam.delete_open_id_connect_provider(OpenIDConnectProviderArn=arn + "/")
    err = expect("EntityAlreadyExists", iam.create_open_id_connect_provider, Url=issuer.url)
    assert err["Error"]["Message"] == f"Provider with url https://{issuer.host} already exists."
    for url in ("http://127.0.0.1:8080", "https://host/path?query=1", "https://user@host", "ftp://host"):
        expect("InvalidInput", iam.create_open_id_connect_provider, Url=url)
    expect("InvalidInput", iam.create_open_id_connect_provider, Url="https://many.invalid",
           ThumbprintList=[c * 40 for c in "abcdef"])
    expect("InvalidInput", iam.get_open_id_connect_provider, OpenIDConnectProviderArn="arn:aws:iam::x:nothing")
    expect("NoSuchEntity", iam.add_client_id_to_open_id_connect_provider,
           OpenIDConnectProviderArn=arn + "/other", ClientID="x")
    iam.create_user(UserName="nobody")
    key = iam.create_access_key(UserName="nobody")["AccessKey"]
    other = server.client("iam", key["AccessKeyId"], key["SecretAccessKey"])
    expect("AccessDenied", other.get_open_id_connect_provider, OpenIDConnectProviderArn=arn)
    expect("AccessDenied", other.create_open_id_connect_provider, Url="https://new.invalid")


# --- AssumeRoleWithWebIdentity ---------------------------------------------------------------------------------


def test_a_good_token_gives_a_working_session(server: Endpoint, issuer: OidcIssuer) -> None:
    arn = role(server, "ci", provider(server, issuer), {"StringEquals": {f"{issuer.host}:aud": CLIENT_ID,
                                                                          f"{issuer.host}:sub": SUBJECT}})
    server.client("iam").attach_role_policy(RoleName="ci", PolicyArn=READ_ONLY)
    out = assume(server, arn, issuer.token())
    assert out["AssumedRoleUser"]["Arn"] == f"arn:aws:sts::{ACCOUNT}:assumed-role/ci/ci-run"
    assert out["AssumedRoleUser"]["AssumedRoleId"].endswith(":ci-run")
    assert (out["SubjectFromWebIdentityToken"], out["Audience"]) == (SUBJECT, CLIENT_ID)
    assert out["Provider"] == f"arn:aws:iam::{ACCOUNT}:oidc-provider/{issuer.host}"
    assert "PackedPolicySize" not in out
    creds = out["Credentials"]
    assert creds["AccessKeyId"].startswith("ASIA")
    who = server.client("sts", creds["AccessKeyId"], creds["SecretAccessKey"], token=creds["SessionToken"])
    assert who.get_caller_identity()["Arn"] == out["AssumedRoleUser"]["Arn"]
    reader = server.client("iam", creds["AccessKeyId"], creds["SecretAccessKey"], token=creds["SessionToken"])
    reader.list_roles()
    expect("AccessDenied", reader.create_user, UserName="made-by-ci")
    last = server.client("iam").get_role(RoleName="ci")["Role"]["RoleLastUsed"]
    assert last.get("LastUsedDate"), last


def test_the_aws_cli_assumes_with_a_token(server: Endpoint, issuer: OidcIssuer) -> None:
    arn = role(server, "cli", provider(server, issuer))
    r = server.aws("sts", "assume-role-with-web-identity", "--role-arn", arn, "--role-session-name", "cli-run",
                   "--web-identity-token", issuer.token())
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["AssumedRoleUser"]["Arn"].endswith(":assumed-role/cli/cli-run")


def test_trust_conditions_on_sub_and_aud_decide(server: Endpoint, issuer: OidcIssuer) -> None:
    prov = provider(server, issuer, CLIENT_ID, "second-client")
    only_main = role(server, "main-only", prov, {"StringEquals": {f"{issuer.host}:sub": SUBJECT}})
    only_second = role(server, "second-only", prov, {"StringEquals": {f"{issuer.host}:aud": "second-client"}})
    untrusting = server.client("iam").create_role(RoleName="untrusting", AssumeRolePolicyDocument=doc(
        {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"}, "Action": "sts:AssumeRole"}),
    )["Role"]["Arn"]
    assume(server, only_main, issuer.token())
    code, message = error_of(server, only_main, issuer.token(sub="repo:evil/fork:ref:refs/heads/main"))
    assert (code, message) == ("AccessDenied", "Not authorized to perform sts:AssumeRoleWithWebIdentity")
    assert error_of(server, only_second, issuer.token())[0] == "AccessDenied"
    assert assume(server, only_second, issuer.token(aud="second-client"))["Audience"] == "second-client"
    assert error_of(server, untrusting, issuer.token())[0] == "AccessDenied"
    assert error_of(server, f"arn:aws:iam::{ACCOUNT}:role/missing", issuer.token())[0] == "AccessDenied"


def test_bad_tokens_are_rejected_and_nothing_is_written(server: Endpoint, issuer: OidcIssuer) -> None:
    arn = role(server, "strict", provider(server, issuer))
    forger = RSAKey.generate_key(2048, parameters={"kid": issuer.key.kid, "alg": "RS256", "use": "sig"})
    now = int(time.time())
    head, body, _ = issuer.token().split(".")
    none_header = "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0"  # {"alg":"none","typ":"JWT"}
    cases = {
        "wrong audience": (issuer.token(aud="someone-else"), "InvalidIdentityToken"),
        "bad signature": (issuer.token(key=forger), "InvalidIdentityToken"),
        "expired": (issuer.token(iat=now - 1200, nbf=now - 1200, exp=now - 600), "ExpiredTokenException"),
        "unknown issuer": (issuer.token(iss="https://127.0.0.2:1"), "InvalidIdentityToken"),
        "alg none": (f"{none_header}.{body}.", "InvalidIdentityToken"),
        "signature stripped": (f"{head}.{body}.", "InvalidIdentityToken"),
        "not a JWT": ("this-is-not-a-token", "InvalidIdentityToken"),
        "not valid yet": (issuer.token(nbf=now + 3600), "InvalidIdentityToken"),
    }
    wrong = {}
    for what, (token, want) in cases.items():
        code, _ = error_of(server, arn, token)
        if code != want:
            wrong[what] = code
    assert not wrong
    code, message = error_of(server, arn, issuer.token(iss="https://127.0.0.2:1"))
    assert message == "No OpenIDConnect provider found in your account for https://127.0.0.2:1"
    assert error_of(server, arn, issuer.token(aud="x"))[1] == "Incorrect token audience"
    assert server.client("iam").get_role(RoleName="strict")["Role"]["RoleLastUsed"] == {}


def test_plain_http_and_untrusted_issuers_are_refused(server: Endpoint, tmp_path: Path) -> None:
    plain = OidcIssuer(None)
    untrusted = OidcIssuer(LoopbackCa(str(tmp_path)))  # a CA the server does not trust
    try:
        iam = server.client("iam")
        expect("InvalidInput", iam.create_open_id_connect_provider, Url=plain.url, ClientIDList=[CLIENT_ID])
        https_twin = iam.create_open_id_connect_provider(Url="https://" + plain.host,
                                                         ClientIDList=[CLIENT_ID])["OpenIDConnectProviderArn"]
        arn = role(server, "plain", https_twin)
        assert error_of(server, arn, plain.token())[0] == "InvalidIdentityToken"  # iss is http://
        assert plain.requests == [], "nothing is ever fetched over plain HTTP"
        prov = iam.create_open_id_connect_provider(Url=untrusted.url,
                                                   ClientIDList=[CLIENT_ID])["OpenIDConnectProviderArn"]
        arn = role(server, "untrusted", prov)
        assert error_of(server, arn, untrusted.token())[0] == "IDPCommunicationError"
        assert untrusted.requests == [], "the TLS handshake fails before any request"
    finally:
        plain.close()
        untrusted.close()


def test_keys_are_cached_and_refetched_when_the_issuer_rotates(server: Endpoint, ca: LoopbackCa) -> None:
    rotating = OidcIssuer(ca, path="/tenant/a")
    try:
        prov = provider(server, rotating)
        assert prov.endswith(f":oidc-provider/{rotating.host}") and rotating.host.endswith("/tenant/a")
        arn = role(server, "rotating", prov)
        assume(server, arn, rotating.token())
        assume(server, arn, rotating.token())
        assert len(rotating.requests) == 2, rotating.requests  # discovery and JWKS, then the cache
        rotating.rotate()
        time.sleep(1.1)  # the floor between refetches for unknown key ids
        assume(server, arn, rotating.token())  # signed with the new (EC) key: one refetch
        assert len(rotating.requests) == 4, rotating.requests
    finally:
        rotating.close()


def test_session_shape_duration_policy_and_tags(server: Endpoint, issuer: OidcIssuer) -> None:
    prov = provider(server, issuer)
    arn = role(server, "shaped", prov, MaxSessionDuration=3600)
    expect("ValidationError", assume, server, arn, issuer.token(), DurationSeconds=7200)
    out = assume(server, arn, issuer.token(), DurationSeconds=900,
                 Policy=doc({"Effect": "Allow", "Action": "iam:GetUser", "Resource": "*"}))
    assert isinstance(out["PackedPolicySize"], int)
    left = (out["Credentials"]["Expiration"].timestamp() - time.time())
    assert 800 < left <= 910, left
    tags = {"https://aws.amazon.com/tags": {"principal_tags": {"team": ["blue"]}, "transitive_tag_keys": ["team"]}}
    assert error_of(server, arn, issuer.token(**tags))[0] == "AccessDenied"  # the trust policy lacks TagSession
    tagging = role(server, "tagging", prov, actions=("sts:AssumeRoleWithWebIdentity", "sts:TagSession"))
    server.client("iam").put_role_policy(RoleName="tagging", PolicyName="blue", PolicyDocument=doc(
        {"Effect": "Allow", "Action": "iam:ListUsers", "Resource": "*",
         "Condition": {"StringEquals": {"aws:PrincipalTag/team": "blue"}}}))
    creds = assume(server, tagging, issuer.token(**tags))["Credentials"]
    server.client("iam", creds["AccessKeyId"], creds["SecretAccessKey"], token=creds["SessionToken"]).list_users()


def test_unsigned_calls_name_only_these_operations(server: Endpoint) -> None:
    """The call is unsigned; an unsigned call to another operation is still refused."""
    body = urllib.parse.urlencode({"Action": "GetCallerIdentity", "Version": "2011-06-15"}).encode()
    req = urllib.request.Request(server.url + "/", data=body, method="POST")
    with pytest.raises(urllib.error.HTTPError) as info:
        urllib.request.urlopen(req, timeout=10)
    assert b"MissingAuthenticationToken" in info.value.read()
