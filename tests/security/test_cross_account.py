"""Two accounts in one store: the other account's root, holding every permission in its own account, can neither
read nor change this account's entities, whether it names them by ARN or by an id (access key, certificate, SSH
key, service credential, MFA serial)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519

from gatehouse.app import Application
from gatehouse.services.bootstrap import create_account
from tests.security.support import ACCOUNT, ALLOW_ALL, Keys, call, new_app, ok
from tests.support.pki import certificate, new_key, pem
from tests.support.saml_idp import SamlIdp

OTHER = "210987654321"
_REQUEST_ID = re.compile(rb"<RequestId>[^<]*</RequestId>")


@dataclass
class Pair:
    app: Application
    other: Keys
    ids: dict[str, str]


@pytest.fixture(scope="module")
def pair() -> Iterator[Pair]:
    app = new_app()
    made = create_account(app.store, app.box, app.clock, OTHER)
    assert made.access_key_id and made.secret_access_key
    other = Keys(made.access_key_id, made.secret_access_key)
    ok(app, "iam", "CreateUser", {"UserName": "alice"})
    key = ok(app, "iam", "CreateAccessKey", {"UserName": "alice"}).text("AccessKeyId")
    policy = ok(app, "iam", "CreatePolicy", {"PolicyName": "mine", "PolicyDocument": ALLOW_ALL}).text("Arn")
    ok(app, "iam", "CreateRole", {"RoleName": "private", "AssumeRolePolicyDocument": json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
                                                "Action": "sts:AssumeRole"}]})})
    oidc = ok(app, "iam", "CreateOpenIDConnectProvider", {
        "Url": "https://idp.example.com", "ClientIDList.member.1": "c",
        "ThumbprintList.member.1": "a" * 40}).text("OpenIDConnectProviderArn")
    saml = ok(app, "iam", "CreateSAMLProvider", {"Name": "sp", "SAMLMetadataDocument": SamlIdp().metadata()}).text(
        "SAMLProviderArn")
    signing = ok(app, "iam", "UploadSigningCertificate", {
        "UserName": "alice", "CertificateBody": pem(certificate("alice", new_key())).decode()}).text("CertificateId")
    ssh = ok(app, "iam", "UploadSSHPublicKey", {"UserName": "alice", "SSHPublicKeyBody": ed25519.Ed25519PrivateKey
                                                .generate().public_key().public_bytes(
                                                    serialization.Encoding.OpenSSH,
                                                    serialization.PublicFormat.OpenSSH).decode()}).text(
        "SSHPublicKeyId")
    service = ok(app, "iam", "CreateServiceSpecificCredential", {
        "UserName": "alice", "ServiceName": "codecommit.amazonaws.com"}).text("ServiceSpecificCredentialId")
    serial = ok(app, "iam", "CreateVirtualMFADevice", {"VirtualMFADeviceName": "dev"}).text("SerialNumber")
    # The other account has a user of the same name, so name-based look-ups there find its own.
    ok(app, "iam", "CreateUser", {"UserName": "alice"}, other)
    yield Pair(app, other, {"key": key, "policy": policy, "oidc": oidc, "saml": saml, "signing": signing,
                            "ssh": ssh, "service": service, "serial": serial})
    app.close()


def _snapshot(pair: Pair) -> list[bytes]:
    reads = [("GetAccountAuthorizationDetails", {}), ("ListOpenIDConnectProviders", {}), ("ListSAMLProviders", {}),
             ("ListVirtualMFADevices", {}), ("ListAccessKeys", {"UserName": "alice"}),
             ("ListSigningCertificates", {"UserName": "alice"}), ("ListSSHPublicKeys", {"UserName": "alice"}),
             ("ListServiceSpecificCredentials", {"UserName": "alice"}), ("ListPolicyVersions", {
                 "PolicyArn": pair.ids["policy"]}), ("GetOpenIDConnectProvider", {
                 "OpenIDConnectProviderArn": pair.ids["oidc"]}), ("GetSAMLProvider", {
                 "SAMLProviderArn": pair.ids["saml"]})]
    return [_REQUEST_ID.sub(b"", call(pair.app, "iam", action, params).body) for action, params in reads]


def test_other_root_cannot_reach_this_account(pair: Pair) -> None:
    ids = pair.ids
    before = _snapshot(pair)
    attempts = [
        ("GetPolicy", {"PolicyArn": ids["policy"]}),
        ("ListPolicyVersions", {"PolicyArn": ids["policy"]}),
        ("ListEntitiesForPolicy", {"PolicyArn": ids["policy"]}),
        ("CreatePolicyVersion", {"PolicyArn": ids["policy"], "PolicyDocument": ALLOW_ALL, "SetAsDefault": "true"}),
        ("DeletePolicy", {"PolicyArn": ids["policy"]}),
        ("TagPolicy", {"PolicyArn": ids["policy"], "Tags.member.1.Key": "k", "Tags.member.1.Value": "v"}),
        ("AttachUserPolicy", {"UserName": "alice", "PolicyArn": ids["policy"]}),
        ("PutUserPermissionsBoundary", {"UserName": "alice", "PermissionsBoundary": ids["policy"]}),
        ("GetOpenIDConnectProvider", {"OpenIDConnectProviderArn": ids["oidc"]}),
        ("AddClientIDToOpenIDConnectProvider", {"OpenIDConnectProviderArn": ids["oidc"], "ClientID": "evil"}),
        ("DeleteOpenIDConnectProvider", {"OpenIDConnectProviderArn": ids["oidc"]}),
        ("GetSAMLProvider", {"SAMLProviderArn": ids["saml"]}),
        ("UpdateSAMLProvider", {"SAMLProviderArn": ids["saml"], "SAMLMetadataDocument": SamlIdp().metadata()}),
        ("DeleteSAMLProvider", {"SAMLProviderArn": ids["saml"]}),
        ("UpdateAccessKey", {"UserName": "alice", "AccessKeyId": ids["key"], "Status": "Inactive"}),
        ("DeleteAccessKey", {"UserName": "alice", "AccessKeyId": ids["key"]}),
        ("UpdateAccessKey", {"AccessKeyId": ids["key"], "Status": "Inactive"}),
        ("UpdateSigningCertificate", {"UserName": "alice", "CertificateId": ids["signing"], "Status": "Inactive"}),
        ("DeleteSigningCertificate", {"CertificateId": ids["signing"]}),
        ("GetSSHPublicKey", {"UserName": "alice", "SSHPublicKeyId": ids["ssh"], "Encoding": "SSH"}),
        ("DeleteSSHPublicKey", {"UserName": "alice", "SSHPublicKeyId": ids["ssh"]}),
        ("ResetServiceSpecificCredential", {"UserName": "alice", "ServiceSpecificCredentialId": ids["service"]}),
        ("DeleteServiceSpecificCredential", {"UserName": "alice", "ServiceSpecificCredentialId": ids["service"]}),
        ("DeleteVirtualMFADevice", {"SerialNumber": ids["serial"]}),
        ("TagMFADevice", {"SerialNumber": ids["serial"], "Tags.member.1.Key": "k", "Tags.member.1.Value": "v"}),
        ("EnableMFADevice", {"UserName": "alice", "SerialNumber": ids["serial"], "AuthenticationCode1": "123456",
                             "AuthenticationCode2": "234567"}),
        ("SimulatePrincipalPolicy", {"PolicySourceArn": f"arn:aws:iam::{ACCOUNT}:user/alice",
                                     "ActionNames.member.1": "iam:CreateUser"}),
        ("GetContextKeysForPrincipalPolicy", {"PolicySourceArn": f"arn:aws:iam::{ACCOUNT}:user/alice"}),
    ]
    for action, params in attempts:
        answer = call(pair.app, "iam", action, params, pair.other)
        if action == "DeleteOpenIDConnectProvider" and answer.status == 200:
            continue  # an idempotent delete of a provider the caller's account does not have (checked below)
        assert answer.status in (400, 403, 404), (action, answer.body[:300])
        assert answer.code in ("NoSuchEntity", "AccessDenied", "InvalidInput", "ValidationError"), (action, answer.code)
    assert _snapshot(pair) == before


def test_other_account_cannot_assume_a_role_its_trust_policy_does_not_name(pair: Pair) -> None:
    ok(pair.app, "iam", "PutUserPolicy", {"UserName": "alice", "PolicyName": "all", "PolicyDocument": ALLOW_ALL},
       pair.other)
    made = ok(pair.app, "iam", "CreateAccessKey", {"UserName": "alice"}, pair.other)
    keys = Keys(made.text("AccessKeyId"), made.text("SecretAccessKey"))
    answer = call(pair.app, "sts", "AssumeRole", {"RoleArn": f"arn:aws:iam::{ACCOUNT}:role/private",
                                                  "RoleSessionName": "intruder"}, keys)
    assert (answer.status, answer.code) == (403, "AccessDenied")
    answer = call(pair.app, "sts", "AssumeRole", {"RoleArn": f"arn:aws:iam::{OTHER}:role/private",
                                                  "RoleSessionName": "intruder",
                                                  "PolicyArns.member.1.arn": pair.ids["policy"]}, keys)
    assert answer.status in (400, 403)


def test_session_policy_arns_of_another_account_are_refused(pair: Pair) -> None:
    made = ok(pair.app, "iam", "CreateAccessKey", {"UserName": "alice"}, pair.other)
    keys = Keys(made.text("AccessKeyId"), made.text("SecretAccessKey"))
    answer = call(pair.app, "sts", "GetFederationToken", {"Name": "fed", "PolicyArns.member.1.arn": pair.ids["policy"]},
                  keys)
    assert answer.status in (400, 403), answer.body[:300]
