"""SAML federation end to end: IAM SAML providers, and AssumeRoleWithSAML with responses from a test IdP signed
with signxml, including the attacks (unsigned, forged, altered, expired, misaddressed, replayed, wrapped)."""

from __future__ import annotations

import base64
import hashlib
import json
from typing import Any

import pytest
from botocore.exceptions import ClientError
from lxml import etree

from tests.e2e.iam_support import doc, expect
from tests.support import ACCOUNT
from tests.support.saml_idp import ATTR, AWS_SAML, SamlIdp
from tests.support.servers import Endpoint, persistent_args, running

pytestmark = pytest.mark.e2e

REJECTED = ("InvalidIdentityToken", "IDPRejectedClaim", "AccessDenied", "ExpiredTokenException")


@pytest.fixture(scope="module")
def idp() -> SamlIdp:
    return SamlIdp()


def provider(iam: Any, idp: SamlIdp, name: str = "TestIdP") -> str:
    return str(iam.create_saml_provider(Name=name, SAMLMetadataDocument=idp.metadata())["SAMLProviderArn"])


def role(iam: Any, name: str, provider_arn: str, condition: dict[str, Any] | None = None,
         actions: tuple[str, ...] = ("sts:AssumeRoleWithSAML",)) -> str:
    statement: dict[str, Any] = {"Effect": "Allow", "Principal": {"Federated": provider_arn}, "Action": list(actions)}
    if condition:
        statement["Condition"] = condition
    return str(iam.create_role(RoleName=name, AssumeRolePolicyDocument=doc(statement))["Role"]["Arn"])


def assume(sts: Any, role_arn: str, provider_arn: str, assertion: str, **kw: Any) -> dict[str, Any]:
    out: dict[str, Any] = sts.assume_role_with_saml(RoleArn=role_arn, PrincipalArn=provider_arn,
                                                    SAMLAssertion=assertion, **kw)
    return out


def code_of(sts: Any, role_arn: str, provider_arn: str, assertion: str) -> str:
    with pytest.raises(ClientError) as info:
        assume(sts, role_arn, provider_arn, assertion)
    return str(info.value.response["Error"]["Code"])


# --- providers in IAM ------------------------------------------------------------------------------------------


def test_provider_lifecycle(iam: Any, idp: SamlIdp) -> None:
    made = iam.create_saml_provider(Name="Corp", SAMLMetadataDocument=idp.metadata(),
                                    Tags=[{"Key": "team", "Value": "it"}])
    arn = made["SAMLProviderArn"]
    assert arn == f"arn:aws:iam::{ACCOUNT}:saml-provider/Corp" and made["Tags"] == [{"Key": "team", "Value": "it"}]
    got = iam.get_saml_provider(SAMLProviderArn=arn)
    assert got["SAMLMetadataDocument"] == idp.metadata()
    assert got["SAMLProviderUUID"].startswith("SAML") and got["Tags"] == [{"Key": "team", "Value": "it"}]
    assert got["ValidUntil"].year == got["CreateDate"].year + 100
    listed = iam.list_saml_providers()["SAMLProviderList"]
    assert [p["Arn"] for p in listed] == [arn] and listed[0]["ValidUntil"] == got["ValidUntil"]
    newer = SamlIdp("https://idp2.tests.invalid/metadata").metadata(valid_until="2040-01-01T00:00:00Z")
    assert iam.update_saml_provider(SAMLProviderArn=arn, SAMLMetadataDocument=newer)["SAMLProviderArn"] == arn
    got = iam.get_saml_provider(SAMLProviderArn=arn)
    assert got["SAMLMetadataDocument"] == newer and got["ValidUntil"].year == 2040
    iam.tag_saml_provider(SAMLProviderArn=arn, Tags=[{"Key": "env", "Value": "prod"}])
    iam.untag_saml_provider(SAMLProviderArn=arn, TagKeys=["team"])
    assert iam.list_saml_provider_tags(SAMLProviderArn=arn)["Tags"] == [{"Key": "env", "Value": "prod"}]
    iam.delete_saml_provider(SAMLProviderArn=arn)
    err = expect("NoSuchEntity", iam.get_saml_provider, SAMLProviderArn=arn)
    assert err["Error"]["Message"] == f"Manifest not found for arn {arn}"
    expect("NoSuchEntity", iam.delete_saml_provider, SAMLProviderArn=arn)


def test_provider_errors(iam: Any, idp: SamlIdp) -> None:
    provider(iam, idp, "Corp")
    expect("EntityAlreadyExists", iam.create_saml_provider, Name="CORP", SAMLMetadataDocument=idp.metadata())
    err = expect("InvalidInput", iam.create_saml_provider, Name="Bad",
                 SAMLMetadataDocument="<a>" + "x" * 1000 + "</a>")
    assert err["Error"]["Message"] == "Could not parse metadata."
    entity = ('<!DOCTYPE m [<!ENTITY x SYSTEM "file:///etc/passwd">]>' + idp.metadata().split("?>", 1)[1]
              ).replace('entityID="', 'entityID="&x;')
    expect("InvalidInput", iam.create_saml_provider, Name="Xxe", SAMLMetadataDocument=entity)
    expect("InvalidInput", iam.get_saml_provider, SAMLProviderArn="arn:aws:iam::123:nothing-here")
    assert [p["Arn"].rsplit("/", 1)[1] for p in iam.list_saml_providers()["SAMLProviderList"]] == ["Corp"]


# --- AssumeRoleWithSAML -----------------------------------------------------------------------------------------


def test_a_signed_assertion_gives_a_working_session(iam: Any, sts: Any, gh: Endpoint, idp: SamlIdp) -> None:
    prov = provider(iam, idp)
    arn = role(iam, "saml-reader", prov, {"StringEquals": {"SAML:aud": AWS_SAML, "SAML:sub": "alice@example.com",
                                                          "SAML:iss": idp.entity_id}})
    iam.attach_role_policy(RoleName="saml-reader", PolicyArn="arn:aws:iam::aws:policy/ReadOnlyAccess")
    out = assume(sts, arn, prov, idp.good(arn, prov, "alice@example.com"))
    assert out["AssumedRoleUser"]["Arn"] == f"arn:aws:sts::{ACCOUNT}:assumed-role/saml-reader/alice@example.com"
    assert (out["Subject"], out["SubjectType"], out["Issuer"], out["Audience"]) == (
        "alice@example.com", "persistent", idp.entity_id, AWS_SAML)
    expected = base64.b64encode(hashlib.sha1(f"{idp.entity_id}{ACCOUNT}/TestIdP".encode()).digest()).decode()
    assert out["NameQualifier"] == expected
    creds = out["Credentials"]
    session = gh.client("iam", creds["AccessKeyId"], creds["SecretAccessKey"], token=creds["SessionToken"])
    session.list_roles()
    expect("AccessDenied", session.create_user, UserName="made-by-saml")
    who = gh.client("sts", creds["AccessKeyId"], creds["SecretAccessKey"], token=creds["SessionToken"])
    assert who.get_caller_identity()["Arn"] == out["AssumedRoleUser"]["Arn"]
    # Either signature suffices: the assertion's alone, or the response's alone.
    assume(sts, arn, prov, idp.assertion_only(arn, prov, "alice@example.com"))
    assume(sts, arn, prov, idp.response_only(arn, prov, "alice@example.com"))


def test_the_aws_cli_assumes_with_an_assertion(iam: Any, gh: Endpoint, idp: SamlIdp) -> None:
    prov = provider(iam, idp)
    arn = role(iam, "saml-cli", prov)
    r = gh.aws("sts", "assume-role-with-saml", "--role-arn", arn, "--principal-arn", prov, "--saml-assertion",
               idp.good(arn, prov, "cli-user"))
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["AssumedRoleUser"]["Arn"].endswith(":assumed-role/saml-cli/cli-user")


def test_bad_assertions_are_rejected(iam: Any, sts: Any, idp: SamlIdp) -> None:
    prov = provider(iam, idp)
    arn = role(iam, "saml-strict", prov, {"StringEquals": {"SAML:aud": AWS_SAML}})
    replayed = idp.good(arn, prov, "replay@example.com")
    assume(sts, arn, prov, replayed)
    tampered = base64.b64decode(idp.good(arn, prov, "mallory@example.com")).replace(b"mallory@", b"admin@@")
    legit = idp.sign(idp.assertion(arn, prov, "legit-wrapped"))
    signed_response = etree.fromstring(base64.b64decode(idp.good(arn, prov, "legit-wrapped2")))
    cases = {
        "unsigned": idp.response(idp.assertion(arn, prov, "u", placeholder=False), sign=False),
        "signed by another key": idp.response(idp.sign(idp.assertion(arn, prov, "f"), forged=True), forged=True),
        "altered after signing": base64.b64encode(tampered).decode(),
        "expired": idp.good(arn, prov, "late", lifetime=-600),
        "wrong audience": idp.good(arn, prov, "aud", audience="https://elsewhere.invalid/saml", recipient=AWS_SAML),
        "wrong recipient": idp.good(arn, prov, "rcpt", recipient="https://elsewhere.invalid/acs"),
        "replayed": replayed,
        "wrapping (evil assertion before the signed one)": idp.response(
            idp.assertion(arn, prov, "evil-wrapped", placeholder=False), legit, sign=False),
        "wrapping (signed response hidden in Extensions)": idp.response(
            idp.assertion(arn, prov, "evil-wrapped", placeholder=False), sign=False, extensions=signed_response),
        "another issuer": idp.good(arn, prov, "iss", issuer="https://other.invalid"),
        "another role": idp.good(f"arn:aws:iam::{ACCOUNT}:role/other", prov, "r"),
        "no session name": idp.good(arn, prov, "x", attributes={f"{ATTR}RoleSessionName": []}),
        "bad session name": idp.good(arn, prov, "has space"),
    }
    wrong = {}
    for what, assertion in cases.items():
        code = code_of(sts, arn, prov, assertion)
        if code not in REJECTED:
            wrong[what] = code
    assert not wrong
    assert code_of(sts, arn, prov, cases["expired"]) == "ExpiredTokenException"
    assert code_of(sts, arn, prov, cases["another role"]) == "AccessDenied"
    missing = f"arn:aws:iam::{ACCOUNT}:saml-provider/Missing"
    assert code_of(sts, arn, missing, idp.good(arn, missing, "m")) == "InvalidIdentityToken"


def test_trust_conditions_on_subject_decide(iam: Any, sts: Any, idp: SamlIdp) -> None:
    prov = provider(iam, idp)
    arn = role(iam, "saml-alice", prov, {"StringEquals": {"SAML:sub": "alice", "SAML:sub_type": "persistent"}})
    assume(sts, arn, prov, idp.good(arn, prov, "alice"))
    assert code_of(sts, arn, prov, idp.good(arn, prov, "bob")) == "AccessDenied"
    transient = "urn:oasis:names:tc:SAML:2.0:nameid-format:transient"
    assert code_of(sts, arn, prov, idp.good(arn, prov, "alice", name_format=transient)) == "AccessDenied"


def test_session_tags_from_attributes_need_tag_session(iam: Any, sts: Any, gh: Endpoint, idp: SamlIdp) -> None:
    prov = provider(iam, idp)
    tags = {f"{ATTR}PrincipalTag:team": ["blue"]}
    plain = role(iam, "saml-untaggable", prov)
    assert code_of(sts, plain, prov, idp.good(plain, prov, "tagged", attributes=tags)) == "AccessDenied"
    arn = role(iam, "saml-tagged", prov, actions=("sts:AssumeRoleWithSAML", "sts:TagSession"))
    iam.put_role_policy(RoleName="saml-tagged", PolicyName="blue", PolicyDocument=doc(
        {"Effect": "Allow", "Action": "iam:ListUsers", "Resource": "*",
         "Condition": {"StringEquals": {"aws:PrincipalTag/team": "blue"}}}))
    out = assume(sts, arn, prov, idp.good(arn, prov, "tagged", attributes=tags))
    assert isinstance(out["PackedPolicySize"], int)
    creds = out["Credentials"]
    gh.client("iam", creds["AccessKeyId"], creds["SecretAccessKey"], token=creds["SessionToken"]).list_users()
    red = assume(sts, arn, prov, idp.good(arn, prov, "tagged", attributes={f"{ATTR}PrincipalTag:team": ["red"]}))
    creds = red["Credentials"]
    expect("AccessDenied", gh.client("iam", creds["AccessKeyId"], creds["SecretAccessKey"],
                                     token=creds["SessionToken"]).list_users)


def test_a_replay_is_refused_by_another_replica(pg_schema_factory: Any, idp: SamlIdp) -> None:
    """Assertion ids are remembered in the database, so every replica refuses a replay."""
    args, extra = persistent_args(db_url=pg_schema_factory())
    env = {"GATEHOUSE_MASTER_KEY": extra["GATEHOUSE_MASTER_KEY"]}
    with running(*args, env=env) as first, running(*args, env=env) as second:
        first.key = second.key = extra["key"]
        first.secret = second.secret = extra["secret"]
        iam = first.client("iam")
        prov = provider(iam, idp)
        arn = role(iam, "saml-replicas", prov)
        assertion = idp.good(arn, prov, "once")
        assume(first.client("sts"), arn, prov, assertion)
        assert code_of(second.client("sts"), arn, prov, assertion) == "InvalidIdentityToken"
        assert code_of(first.client("sts"), arn, prov, assertion) == "InvalidIdentityToken"
        assume(second.client("sts"), arn, prov, idp.good(arn, prov, "twice"))
