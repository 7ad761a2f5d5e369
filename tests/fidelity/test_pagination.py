"""Every paginator boto3 defines for IAM, driven over a populated account with small page sizes.

AWS's contract (the `MaxItems`/`Marker`/`IsTruncated` members of every IAM listing): at most MaxItems items per page,
`IsTruncated` true exactly when more remain, `Marker` present exactly then; the pages together are the unpaged
listing, each item once. boto3's paginators (and the aws CLI's auto-pagination, `--page-size`) rely on it."""

from __future__ import annotations

import datetime as dt
import json
import time
from typing import Any

import botocore.session
import pyotp
import pytest
from botocore import xform_name
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from cryptography.x509.oid import NameOID

from gatehouse.app import build
from gatehouse.settings import Settings
from tests.support import ACCOUNT
from tests.support.saml_idp import SamlIdp
from tests.support.servers import Endpoint

pytestmark = pytest.mark.e2e

ARN = f"arn:aws:iam::{ACCOUNT}"
POLICY = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]})
TRUST = json.dumps({"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}]})
N = 3  # of each listed thing, where the quota allows (two access keys and signing certificates per user)
TAGS = [{"Key": f"k{i}", "Value": "v"} for i in range(N)]

# Required inputs of the paginated operations; the others list the whole account.
ARGS: dict[str, dict[str, Any]] = {
    "GetGroup": {"GroupName": "g0"},
    "ListAccessKeys": {"UserName": "u0"},
    "ListAttachedGroupPolicies": {"GroupName": "g0"},
    "ListAttachedRolePolicies": {"RoleName": "r0"},
    "ListAttachedUserPolicies": {"UserName": "u0"},
    "ListEntitiesForPolicy": {"PolicyArn": f"{ARN}:policy/p0"},
    "ListGroupPolicies": {"GroupName": "g0"},
    "ListGroupsForUser": {"UserName": "u0"},
    "ListInstanceProfileTags": {"InstanceProfileName": "ip0"},
    "ListInstanceProfilesForRole": {"RoleName": "r0"},
    "ListMFADeviceTags": {"SerialNumber": f"{ARN}:mfa/mfa0"},
    "ListMFADevices": {"UserName": "u0"},
    "ListOpenIDConnectProviderTags": {"OpenIDConnectProviderArn": f"{ARN}:oidc-provider/oidc0.example.com"},
    # The account's own policies: AWS's 1,582 do not fit one page (tests/services/test_aws_managed_policies_service.py
    # pages through them).
    "ListPolicies": {"Scope": "Local"},
    "ListPolicyTags": {"PolicyArn": f"{ARN}:policy/p0"},
    "ListPolicyVersions": {"PolicyArn": f"{ARN}:policy/p0"},
    "ListRolePolicies": {"RoleName": "r0"},
    "ListRoleTags": {"RoleName": "r0"},
    "ListSAMLProviderTags": {"SAMLProviderArn": f"{ARN}:saml-provider/saml0"},
    "ListSSHPublicKeys": {"UserName": "u0"},
    "ListServerCertificateTags": {"ServerCertificateName": "sc0"},
    "ListSigningCertificates": {"UserName": "u0"},
    "ListUserPolicies": {"UserName": "u0"},
    "ListUserTags": {"UserName": "u0"},
    "SimulateCustomPolicy": {"PolicyInputList": [POLICY], "ActionNames": ["s3:GetObject", "s3:PutObject", "iam:X"]},
    "SimulatePrincipalPolicy": {"PolicySourceArn": f"{ARN}:user/u0",
                                "ActionNames": ["s3:GetObject", "s3:PutObject", "iam:X"]},
}


def served_operations(service: str) -> set[str]:
    app = build(Settings(dev=True))
    try:
        assert app.asgi is not None
        return set(app.asgi.endpoint.router.operations(service))
    finally:
        app.close()


def _certificate(cn: str) -> tuple[str, str]:
    key = ec.generate_private_key(ec.SECP256R1())
    now = dt.datetime.now(dt.UTC)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + dt.timedelta(days=2)).sign(key, hashes.SHA256()))
    private = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
    return cert.public_bytes(serialization.Encoding.PEM).decode(), private.decode()


def populate(iam: Any) -> None:
    for i in range(N):
        iam.create_user(UserName=f"u{i}", Tags=TAGS)
        iam.create_group(GroupName=f"g{i}")
        iam.create_role(RoleName=f"r{i}", AssumeRolePolicyDocument=TRUST, Tags=TAGS)
        iam.create_policy(PolicyName=f"p{i}", PolicyDocument=POLICY, Tags=TAGS)
        iam.create_instance_profile(InstanceProfileName=f"ip{i}", Tags=TAGS)
        iam.add_role_to_instance_profile(InstanceProfileName=f"ip{i}", RoleName=f"r{i}")
        iam.add_user_to_group(GroupName=f"g{i}", UserName="u0")
        iam.add_user_to_group(GroupName="g0", UserName=f"u{i}")
        for kind in ("User", "Group", "Role"):
            owner = {f"{kind}Name": f"{kind[0].lower()}0"}
            getattr(iam, f"put_{kind.lower()}_policy")(**owner, PolicyName=f"inline{i}", PolicyDocument=POLICY)
            getattr(iam, f"attach_{kind.lower()}_policy")(**owner, PolicyArn=f"{ARN}:policy/p{i}")
        iam.attach_user_policy(UserName=f"u{i}", PolicyArn=f"{ARN}:policy/p0")
        body, private = _certificate(f"server{i}.example.com")
        iam.upload_server_certificate(ServerCertificateName=f"sc{i}", CertificateBody=body, PrivateKey=private,
                                      Tags=TAGS)
        iam.upload_ssh_public_key(UserName="u0", SSHPublicKeyBody=ed25519.Ed25519PrivateKey.generate().public_key()
                                  .public_bytes(serialization.Encoding.OpenSSH,
                                                serialization.PublicFormat.OpenSSH).decode())
        iam.create_virtual_mfa_device(VirtualMFADeviceName=f"mfa{i}", Tags=TAGS)
        iam.create_saml_provider(Name=f"saml{i}", SAMLMetadataDocument=SamlIdp(f"https://idp{i}.example/").metadata(),
                                 Tags=TAGS)
        iam.create_open_id_connect_provider(Url=f"https://oidc{i}.example.com", ClientIDList=["app"],
                                            ThumbprintList=["a" * 40], Tags=TAGS)
        iam.create_policy_version(PolicyArn=f"{ARN}:policy/p0", PolicyDocument=POLICY)
    for _ in range(2):
        iam.create_access_key(UserName="u0")
        iam.upload_signing_certificate(UserName="u0", CertificateBody=_certificate("signing.example.com")[0])
    # Two MFA devices enabled for u0 (ListMFADevices), each with two consecutive codes of its own seed.
    for i in range(2):
        device = iam.create_virtual_mfa_device(VirtualMFADeviceName=f"u0-mfa{i}")["VirtualMFADevice"]
        seed = device["Base32StringSeed"]
        totp = pyotp.TOTP(seed.decode() if isinstance(seed, bytes) else seed)
        step = int(time.time() // 30)
        iam.enable_mfa_device(UserName="u0", SerialNumber=device["SerialNumber"],
                              AuthenticationCode1=totp.at((step - 1) * 30), AuthenticationCode2=totp.at(step * 30))
    iam.create_account_alias(AccountAlias="paged-account")


def _keys(config: dict[str, Any]) -> list[str]:
    result = config["result_key"]
    return result if isinstance(result, list) else [result]


def _identity(item: Any) -> str:
    return json.dumps(item, sort_keys=True, default=str)


def test_every_iam_paginator_pages_with_small_page_sizes(gh: Endpoint, iam: Any) -> None:
    populate(iam)
    model = botocore.session.get_session().get_paginator_model("iam")._paginator_config
    assert set(ARGS) <= set(model), "an operation above is no longer paginated by boto3"
    # Paginators of operations a newer botocore added that Gatehouse does not serve (yet) answer InvalidAction.
    model = {name: config for name, config in model.items() if name in served_operations("iam")}
    raw: list[dict[str, Any]] = []
    iam.meta.events.register("after-call.iam", lambda parsed, **_: raw.append(parsed))
    for operation, config in sorted(model.items()):
        method = xform_name(operation)
        params = ARGS.get(operation, {})
        keys = _keys(config)
        full = getattr(iam, method)(**params)
        assert full["IsTruncated"] is False and "Marker" not in full, operation
        everything = sorted(_identity(item) for key in keys for item in full.get(key, []))
        assert everything, f"{operation}: nothing listed; the account is not populated for it"
        for size in (1, 2, len(everything)):
            raw.clear()
            pages = list(iam.get_paginator(method).paginate(**params, PaginationConfig={"PageSize": size}))
            assert len(raw) == len(pages)
            for i, page in enumerate(raw):
                count = sum(len(page.get(key, [])) for key in keys)
                last = i == len(raw) - 1
                assert count <= size, f"{operation}: {count} items on a page of {size}"
                assert page["IsTruncated"] is (not last), f"{operation} page {i}: IsTruncated={page['IsTruncated']}"
                assert ("Marker" in page) is (not last), f"{operation} page {i}: Marker iff IsTruncated"
            got = sorted(_identity(item) for page in pages for key in keys for item in page.get(key, []))
            assert got == everything, f"{operation} with pages of {size}: items lost or repeated"
        if "non_aggregate_keys" in config:
            assert all(page["Group"]["GroupName"] == "g0" for page in raw), operation


def test_small_listings_honour_max_items(iam: Any) -> None:
    """The listings bounded by quotas (two keys, five versions, ...) page too; they used to ignore MaxItems.
    ListServiceSpecificCredentials has no boto3 paginator but the same Marker/MaxItems members."""
    iam.create_user(UserName="u")
    for _ in range(2):
        iam.create_service_specific_credential(UserName="u", ServiceName="codecommit.amazonaws.com")
    first = iam.list_service_specific_credentials(UserName="u", MaxItems=1)
    assert len(first["ServiceSpecificCredentials"]) == 1 and first["IsTruncated"] is True
    second = iam.list_service_specific_credentials(UserName="u", MaxItems=1, Marker=first["Marker"])
    assert len(second["ServiceSpecificCredentials"]) == 1 and second["IsTruncated"] is False
    assert "Marker" not in second
    assert (first["ServiceSpecificCredentials"][0]["ServiceSpecificCredentialId"]
            != second["ServiceSpecificCredentials"][0]["ServiceSpecificCredentialId"])


def test_the_aws_cli_auto_paginates_with_a_page_size(gh: Endpoint, iam: Any) -> None:
    iam.create_policy(PolicyName="p", PolicyDocument=POLICY)
    for _ in range(3):
        iam.create_policy_version(PolicyArn=f"{ARN}:policy/p", PolicyDocument=POLICY)
    out = gh.aws("iam", "list-policy-versions", "--policy-arn", f"{ARN}:policy/p", "--page-size", "1")
    assert out.returncode == 0, out.stderr
    assert [v["VersionId"] for v in json.loads(out.stdout)["Versions"]] == ["v4", "v3", "v2", "v1"]
