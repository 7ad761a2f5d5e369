"""Response shapes as AWS documents them in the botocore model: which members each Get and List returns."""

from __future__ import annotations

import json
import urllib.parse
from typing import Any

import pytest

from tests.e2e.iam_support import expect
from tests.e2e.test_mfa import PASSWORD, signin
from tests.fidelity.test_pagination import _certificate
from tests.support import ACCOUNT
from tests.support.saml_idp import SamlIdp
from tests.support.servers import Endpoint

pytestmark = pytest.mark.e2e

ARN = f"arn:aws:iam::{ACCOUNT}"
POLICY = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]})
TRUST = json.dumps({"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}]})
TAGS = [{"Key": "team", "Value": "blue"}]


def raw_bodies(client: Any) -> list[str]:
    seen: list[str] = []
    client.meta.events.register("after-call", lambda http_response, **_: seen.append(http_response.text))
    return seen


def test_list_policies_has_no_description_get_policy_has(iam: Any) -> None:
    """Policy.Description: "This element is included in the response to the GetPolicy operation. It is not included
    in the response to the ListPolicies operation." (botocore model, Policy shape). No Tags in the listing either."""
    created = iam.create_policy(PolicyName="p", PolicyDocument=POLICY, Description="reads", Tags=TAGS)["Policy"]
    assert created["Tags"] == TAGS and "Description" not in created  # CreatePolicy's answer has none
    assert iam.get_policy(PolicyArn=created["Arn"])["Policy"]["Description"] == "reads"
    listed = iam.list_policies(Scope="Local")["Policies"]
    assert len(listed) == 1 and "Description" not in listed[0] and "Tags" not in listed[0]
    assert listed[0]["PermissionsBoundaryUsageCount"] == 0 and listed[0]["IsAttachable"] is True
    detail = iam.get_account_authorization_details(Filter=["LocalManagedPolicy"])["Policies"][0]
    assert detail["Description"] == "reads"


def test_list_virtual_mfa_devices_returns_no_tags(iam: Any) -> None:
    """"this operation does not return tags ... To view tag information for a virtual MFA device, see
    ListMFADeviceTags" (ListVirtualMFADevices in the botocore model)."""
    serial = iam.create_virtual_mfa_device(VirtualMFADeviceName="phone", Tags=TAGS)["VirtualMFADevice"]["SerialNumber"]
    assert iam.list_virtual_mfa_devices()["VirtualMFADevices"] == [{"SerialNumber": serial}]
    assert iam.list_mfa_device_tags(SerialNumber=serial)["Tags"] == TAGS


def test_role_get_and_list_members(iam: Any) -> None:
    """GetRole has RoleLastUsed and MaxSessionDuration; ListRoles "does not return PermissionsBoundary, RoleLastUsed,
    Tags" (botocore model, ListRoles) but does return Description and MaxSessionDuration; policy documents are
    URL-encoded (RFC 3986) on the wire."""
    boundary = "arn:aws:iam::aws:policy/ReadOnlyAccess"
    seen = raw_bodies(iam)
    iam.create_role(RoleName="r", AssumeRolePolicyDocument=TRUST, Description="app", MaxSessionDuration=7200,
                    PermissionsBoundary=boundary, Tags=TAGS)
    role = iam.get_role(RoleName="r")["Role"]
    assert role["MaxSessionDuration"] == 7200 and role["Description"] == "app"
    assert role["RoleLastUsed"] == {} and role["Tags"] == TAGS
    assert role["PermissionsBoundary"] == {"PermissionsBoundaryType": "Policy", "PermissionsBoundaryArn": boundary}
    assert f"<AssumeRolePolicyDocument>{urllib.parse.quote(TRUST, safe='')}</AssumeRolePolicyDocument>" in seen[-1]
    listed = iam.list_roles()["Roles"][0]
    assert listed["Description"] == "app" and listed["MaxSessionDuration"] == 7200
    assert not {"PermissionsBoundary", "RoleLastUsed", "Tags"} & set(listed)


def test_user_get_and_list_members(gh: Endpoint, iam: Any) -> None:
    """ListUsers "does not return PermissionsBoundary, Tags"; GetUser does. PasswordLastUsed appears once the
    password has been used to sign in, in both."""
    boundary = "arn:aws:iam::aws:policy/ReadOnlyAccess"
    iam.create_user(UserName="u", PermissionsBoundary=boundary, Tags=TAGS)
    user = iam.get_user(UserName="u")["User"]
    assert user["Tags"] == TAGS and user["PermissionsBoundary"]["PermissionsBoundaryArn"] == boundary
    assert "PasswordLastUsed" not in user
    listed = iam.list_users()["Users"][0]
    assert not {"PermissionsBoundary", "Tags", "PasswordLastUsed"} & set(listed)
    iam.create_login_profile(UserName="u", Password=PASSWORD)
    status, _, _ = signin(gh, account=ACCOUNT, username="u", password=PASSWORD)
    assert status == 200
    assert "PasswordLastUsed" in iam.get_user(UserName="u")["User"]
    assert "PasswordLastUsed" in iam.list_users()["Users"][0]


def test_policy_versions(iam: Any) -> None:
    """PolicyVersion.Document "is not returned in the response to the CreatePolicyVersion or ListPolicyVersions
    operations"; GetPolicyVersion has it. UpdateDate follows the newest version."""
    arn = iam.create_policy(PolicyName="p", PolicyDocument=POLICY)["Policy"]["Arn"]
    created = iam.create_policy_version(PolicyArn=arn, PolicyDocument=POLICY, SetAsDefault=True)["PolicyVersion"]
    assert "Document" not in created and created["IsDefaultVersion"] is True
    versions = iam.list_policy_versions(PolicyArn=arn)["Versions"]
    assert [(v["VersionId"], v["IsDefaultVersion"]) for v in versions] == [("v2", True), ("v1", False)]
    assert all("Document" not in v for v in versions)
    assert iam.get_policy_version(PolicyArn=arn, VersionId="v1")["PolicyVersion"]["Document"] == json.loads(POLICY)


def test_create_role_and_update_role_description_shapes(iam: Any) -> None:
    """AWS's CreateRole answer has neither Description, nor RoleLastUsed, nor (when none was given)
    MaxSessionDuration; UpdateRoleDescription's has the description but no MaxSessionDuration or RoleLastUsed
    (LocalStack's AWS-validated test_iam_roles.snapshot.json: "create-role-response", "create-role-with-boundary",
    "update-role-description-response")."""
    created = iam.create_role(RoleName="r", AssumeRolePolicyDocument=TRUST, Description="first")["Role"]
    assert set(created) == {"Path", "RoleName", "RoleId", "Arn", "CreateDate", "AssumeRolePolicyDocument"}
    updated = iam.update_role_description(RoleName="r", Description="second")["Role"]
    assert updated["Description"] == "second"
    assert not {"MaxSessionDuration", "RoleLastUsed"} & set(updated)
    got = iam.get_role(RoleName="r")["Role"]
    assert got["Description"] == "second" and got["MaxSessionDuration"] == 3600 and got["RoleLastUsed"] == {}


def test_instance_profile_shapes(iam: Any) -> None:
    """GetInstanceProfile answers Tags even when empty, CreateInstanceProfile does not; the roles inside a profile
    carry no MaxSessionDuration (LocalStack's AWS-validated test_iam_instance_profiles.snapshot.json and
    test_iam_account_authorization_details.snapshot.json)."""
    created = iam.create_instance_profile(InstanceProfileName="ip")["InstanceProfile"]
    assert "Tags" not in created and created["Roles"] == []
    iam.create_role(RoleName="r", AssumeRolePolicyDocument=TRUST)
    iam.add_role_to_instance_profile(InstanceProfileName="ip", RoleName="r")
    got = iam.get_instance_profile(InstanceProfileName="ip")["InstanceProfile"]
    assert got["Tags"] == []
    assert set(got["Roles"][0]) == {"Path", "RoleName", "RoleId", "Arn", "CreateDate", "AssumeRolePolicyDocument"}
    listed = iam.list_instance_profiles()["InstanceProfiles"][0]
    assert "Tags" not in listed and "MaxSessionDuration" not in listed["Roles"][0]
    detail = iam.get_account_authorization_details(Filter=["Role"])["RoleDetailList"][0]
    assert "MaxSessionDuration" not in detail["InstanceProfileList"][0]["Roles"][0]


def test_gets_that_always_answer_tags(iam: Any) -> None:
    """GetPolicy (customer and AWS managed), GetOpenIDConnectProvider, GetSAMLProvider and GetServerCertificate
    answer `Tags: []` when there are none; CreatePolicy does not (LocalStack's AWS-validated test_iam_policies,
    test_iam_managed_policies, test_iam_oidc, test_iam_saml_providers and test_iam_server_certificates snapshots).
    GetUser and GetRole leave an empty Tags out."""
    created = iam.create_policy(PolicyName="p", PolicyDocument=POLICY)["Policy"]
    assert "Tags" not in created
    assert iam.get_policy(PolicyArn=created["Arn"])["Policy"]["Tags"] == []
    assert iam.get_policy(PolicyArn="arn:aws:iam::aws:policy/ReadOnlyAccess")["Policy"]["Tags"] == []
    oidc = iam.create_open_id_connect_provider(Url="https://oidc.example.com", ClientIDList=["app"],
                                               ThumbprintList=["a" * 40])["OpenIDConnectProviderArn"]
    assert iam.get_open_id_connect_provider(OpenIDConnectProviderArn=oidc)["Tags"] == []
    saml = iam.create_saml_provider(Name="idp", SAMLMetadataDocument=SamlIdp().metadata())["SAMLProviderArn"]
    assert iam.get_saml_provider(SAMLProviderArn=saml)["Tags"] == []
    body, key = _certificate("web.example.com")
    iam.upload_server_certificate(ServerCertificateName="web", CertificateBody=body, PrivateKey=key)
    assert iam.get_server_certificate(ServerCertificateName="web")["ServerCertificate"]["Tags"] == []
    iam.create_user(UserName="u")
    iam.create_role(RoleName="r", AssumeRolePolicyDocument=TRUST)
    assert "Tags" not in iam.get_user(UserName="u")["User"] and "Tags" not in iam.get_role(RoleName="r")["Role"]


def test_account_summary_quotas_and_keys(iam: Any) -> None:
    """AWS's SummaryMap for a fresh account: these keys and quota values, AccountPasswordPresent included
    (LocalStack's AWS-validated test_iam_account_summary.snapshot.json, "transformed-summary")."""
    summary = iam.get_account_summary()["SummaryMap"]
    quotas = {"AccessKeysPerUserQuota": 2, "AssumeRolePolicySizeQuota": 2048, "AttachedPoliciesPerGroupQuota": 10,
              "AttachedPoliciesPerRoleQuota": 10, "AttachedPoliciesPerUserQuota": 10, "GroupPolicySizeQuota": 5120,
              "GroupsPerUserQuota": 10, "GroupsQuota": 300, "InstanceProfilesQuota": 1000, "PoliciesQuota": 1500,
              "PolicySizeQuota": 6144, "PolicyVersionsInUseQuota": 10000, "RolePolicySizeQuota": 10240,
              "RolesQuota": 1000, "ServerCertificatesQuota": 20, "SigningCertificatesPerUserQuota": 2,
              "UserPolicySizeQuota": 2048, "UsersQuota": 5000, "VersionsPerPolicyQuota": 5,
              "GlobalEndpointTokenVersion": 1}
    assert {k: summary.get(k) for k in quotas} == quotas
    counters = {"AccountAccessKeysPresent", "AccountMFAEnabled", "AccountPasswordPresent",
                "AccountSigningCertificatesPresent", "Groups", "InstanceProfiles", "MFADevices", "MFADevicesInUse",
                "Policies", "PolicyVersionsInUse", "Providers", "Roles", "ServerCertificates", "Users"}
    assert set(summary) == set(quotas) | counters
    assert summary["AccountPasswordPresent"] == 0


def test_password_policy_not_found_wordings(iam: Any) -> None:
    """GetAccountPasswordPolicy: "The Password Policy with domain name <account> cannot be found."; the delete says
    "The account policy with name PasswordPolicy cannot be found." (LocalStack's AWS-validated
    test_iam_account_password_policy.snapshot.json)."""
    response = expect("NoSuchEntity", iam.get_account_password_policy)
    assert response["Error"]["Message"] == f"The Password Policy with domain name {ACCOUNT} cannot be found."
    response = expect("NoSuchEntity", iam.delete_account_password_policy)
    assert response["Error"]["Message"] == "The account policy with name PasswordPolicy cannot be found."
