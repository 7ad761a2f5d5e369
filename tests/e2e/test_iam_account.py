"""Account-wide IAM operations end to end: the account alias, GetAccountSummary, GetAccountAuthorizationDetails
(filters and paging) and SetSecurityTokenServicePreferences."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.e2e.iam_support import (
    ADMIN,
    ARN,
    POLICY,
    POLICY_2,
    READ_ONLY,
    TRUST,
    expect,
    rejected,
    status_of,
    unvalidated,
)
from tests.support.servers import Endpoint

pytestmark = pytest.mark.e2e

# --- alias -----------------------------------------------------------------------------------------------


def test_account_alias_lifecycle(iam: Any) -> None:
    empty = iam.list_account_aliases()
    assert (empty["AccountAliases"], empty["IsTruncated"]) == ([], False)
    iam.create_account_alias(AccountAlias="my-company")
    assert iam.list_account_aliases()["AccountAliases"] == ["my-company"]
    iam.create_account_alias(AccountAlias="my-company")  # the same again: no change
    assert iam.list_account_aliases()["AccountAliases"] == ["my-company"]
    response = rejected(iam, "NoSuchEntity", iam.delete_account_alias, AccountAlias="someone-else")
    assert status_of(response) == 404
    iam.delete_account_alias(AccountAlias="my-company")
    assert iam.list_account_aliases()["AccountAliases"] == []
    rejected(iam, "NoSuchEntity", iam.delete_account_alias, AccountAlias="my-company")


def test_an_account_has_one_alias(iam: Any) -> None:
    iam.create_account_alias(AccountAlias="first-name")
    iam.create_account_alias(AccountAlias="second-name")
    assert iam.list_account_aliases()["AccountAliases"] == ["second-name"]


@pytest.mark.parametrize("alias", ["UPPER", "a", "-leading", "trailing-", "double--dash", "under_score",
                                   "x" * 64])
def test_account_alias_validation(gh: Endpoint, iam: Any, alias: str) -> None:
    response = rejected(iam, "ValidationError", unvalidated(gh).create_account_alias, AccountAlias=alias)
    assert "accountAlias" in response["Error"]["Message"]


def test_account_alias_edges_that_are_valid(iam: Any) -> None:
    for alias in ("abc", "a-b", "0123456789", "x" * 63):
        iam.create_account_alias(AccountAlias=alias)
        assert iam.list_account_aliases()["AccountAliases"] == [alias]


# --- summary ---------------------------------------------------------------------------------------------


def test_account_summary_counts(iam: Any) -> None:
    empty = iam.get_account_summary()["SummaryMap"]
    assert {k: empty[k] for k in ("Users", "Groups", "Roles", "Policies", "InstanceProfiles")} == {
        "Users": 0, "Groups": 0, "Roles": 0, "Policies": 0, "InstanceProfiles": 0}
    assert empty["AccountAccessKeysPresent"] == 1 and empty["AccountMFAEnabled"] == 0
    quotas = {"UsersQuota": 5000, "GroupsPerUserQuota": 10, "AttachedPoliciesPerUserQuota": 10,
              "AttachedPoliciesPerGroupQuota": 10, "AttachedPoliciesPerRoleQuota": 10, "AccessKeysPerUserQuota": 2,
              "UserPolicySizeQuota": 2048, "GroupPolicySizeQuota": 5120, "RolePolicySizeQuota": 10240,
              "PolicySizeQuota": 6144, "AssumeRolePolicySizeQuota": 2048, "VersionsPerPolicyQuota": 5}
    assert {k: empty[k] for k in quotas} == quotas

    for i in range(3):
        iam.create_user(UserName=f"u{i}")
    iam.create_group(GroupName="g")
    iam.create_role(RoleName="r", AssumeRolePolicyDocument=TRUST)
    arn = iam.create_policy(PolicyName="p", PolicyDocument=POLICY)["Policy"]["Arn"]
    iam.create_policy_version(PolicyArn=arn, PolicyDocument=POLICY_2)
    iam.create_instance_profile(InstanceProfileName="ip")
    summary = iam.get_account_summary()["SummaryMap"]
    assert (summary["Users"], summary["Groups"], summary["Roles"], summary["Policies"],
            summary["InstanceProfiles"], summary["PolicyVersionsInUse"]) == (3, 1, 1, 1, 1, 2)
    iam.delete_user(UserName="u0")
    assert iam.get_account_summary()["SummaryMap"]["Users"] == 2


# --- STS preferences -------------------------------------------------------------------------------------


def test_sts_preferences_show_in_the_summary(iam: Any) -> None:
    assert iam.get_account_summary()["SummaryMap"]["GlobalEndpointTokenVersion"] == 1
    iam.set_security_token_service_preferences(GlobalEndpointTokenVersion="v2Token")
    assert iam.get_account_summary()["SummaryMap"]["GlobalEndpointTokenVersion"] == 2
    iam.set_security_token_service_preferences(GlobalEndpointTokenVersion="v1Token")
    assert iam.get_account_summary()["SummaryMap"]["GlobalEndpointTokenVersion"] == 1
    response = rejected(iam, "ValidationError", iam.set_security_token_service_preferences,
                        GlobalEndpointTokenVersion="v3Token")
    assert "globalEndpointTokenVersion" in response["Error"]["Message"]


# --- authorization details -------------------------------------------------------------------------------


def _populate(iam: Any) -> dict[str, str]:
    local = iam.create_policy(PolicyName="local", PolicyDocument=POLICY, Path="/p/")["Policy"]["Arn"]
    iam.create_policy_version(PolicyArn=local, PolicyDocument=POLICY_2, SetAsDefault=True)
    iam.create_policy(PolicyName="unattached", PolicyDocument=POLICY)
    iam.create_user(UserName="alice", Path="/u/", PermissionsBoundary=READ_ONLY, Tags=[{"Key": "t", "Value": "1"}])
    iam.put_user_policy(UserName="alice", PolicyName="inline-u", PolicyDocument=POLICY)
    iam.attach_user_policy(UserName="alice", PolicyArn=local)
    iam.create_group(GroupName="devs")
    iam.add_user_to_group(GroupName="devs", UserName="alice")
    iam.put_group_policy(GroupName="devs", PolicyName="inline-g", PolicyDocument=POLICY)
    iam.attach_group_policy(GroupName="devs", PolicyArn=ADMIN)
    iam.create_role(RoleName="svc", AssumeRolePolicyDocument=TRUST, Tags=[{"Key": "r", "Value": "2"}])
    iam.put_role_policy(RoleName="svc", PolicyName="inline-r", PolicyDocument=POLICY_2)
    iam.create_instance_profile(InstanceProfileName="svc-profile")
    iam.add_role_to_instance_profile(InstanceProfileName="svc-profile", RoleName="svc")
    return {"local": local}


def test_authorization_details_content(iam: Any) -> None:
    arns = _populate(iam)
    out = iam.get_account_authorization_details()
    assert out["IsTruncated"] is False
    [user] = out["UserDetailList"]
    assert (user["UserName"], user["Path"], user["Arn"]) == ("alice", "/u/", f"{ARN}:user/u/alice")
    assert user["GroupList"] == ["devs"]
    assert user["UserPolicyList"] == [{"PolicyName": "inline-u", "PolicyDocument": json.loads(POLICY)}]
    assert user["AttachedManagedPolicies"] == [{"PolicyName": "local", "PolicyArn": arns["local"]}]
    assert user["PermissionsBoundary"]["PermissionsBoundaryArn"] == READ_ONLY
    assert user["Tags"] == [{"Key": "t", "Value": "1"}]
    [group] = out["GroupDetailList"]
    assert group["GroupName"] == "devs"
    assert group["GroupPolicyList"] == [{"PolicyName": "inline-g", "PolicyDocument": json.loads(POLICY)}]
    assert group["AttachedManagedPolicies"] == [{"PolicyName": "AdministratorAccess", "PolicyArn": ADMIN}]
    [role] = out["RoleDetailList"]
    assert role["RoleName"] == "svc" and role["AssumeRolePolicyDocument"] == json.loads(TRUST)
    assert role["RolePolicyList"] == [{"PolicyName": "inline-r", "PolicyDocument": json.loads(POLICY_2)}]
    assert [p["InstanceProfileName"] for p in role["InstanceProfileList"]] == ["svc-profile"]
    assert role["Tags"] == [{"Key": "r", "Value": "2"}]
    policies = {p["PolicyName"]: p for p in out["Policies"]}
    # local policies all; AWS managed ones only when in use (attached or as a boundary)
    assert set(policies) == {"local", "unattached", "AdministratorAccess", "ReadOnlyAccess"}
    local = policies["local"]
    assert local["DefaultVersionId"] == "v2" and local["AttachmentCount"] == 1
    assert [(v["VersionId"], v["IsDefaultVersion"]) for v in local["PolicyVersionList"]] == [("v2", True),
                                                                                            ("v1", False)]
    assert local["PolicyVersionList"][0]["Document"] == json.loads(POLICY_2)
    assert policies["ReadOnlyAccess"]["PermissionsBoundaryUsageCount"] == 1
    assert policies["AdministratorAccess"]["AttachmentCount"] == 1


@pytest.mark.parametrize(("filters", "expected"), [
    (["User"], ({"alice"}, set(), set(), set())),
    (["Group"], (set(), {"devs"}, set(), set())),
    (["Role"], (set(), set(), {"svc"}, set())),
    (["LocalManagedPolicy"], (set(), set(), set(), {"local", "unattached"})),
    (["AWSManagedPolicy"], (set(), set(), set(), {"AdministratorAccess", "ReadOnlyAccess"})),
    (["User", "Role"], ({"alice"}, set(), {"svc"}, set())),
])
def test_authorization_details_filters(iam: Any, filters: list[str], expected: tuple[set[str], ...]) -> None:
    _populate(iam)
    out = iam.get_account_authorization_details(Filter=filters)
    got = ({u["UserName"] for u in out["UserDetailList"]}, {g["GroupName"] for g in out["GroupDetailList"]},
           {r["RoleName"] for r in out["RoleDetailList"]}, {p["PolicyName"] for p in out["Policies"]})
    assert got == expected


def test_authorization_details_filter_validation(iam: Any) -> None:
    rejected(iam, "ValidationError", iam.get_account_authorization_details, Filter=["Robot"])


def test_authorization_details_pages(iam: Any) -> None:
    for i in range(6):
        iam.create_user(UserName=f"u{i}")
        iam.create_role(RoleName=f"r{i}", AssumeRolePolicyDocument=TRUST)
    seen_users: list[str] = []
    seen_roles: list[str] = []
    marker = None
    for _ in range(20):
        page = iam.get_account_authorization_details(MaxItems=4, **({"Marker": marker} if marker else {}))
        assert len(page["UserDetailList"]) + len(page["RoleDetailList"]) <= 4
        seen_users += [u["UserName"] for u in page["UserDetailList"]]
        seen_roles += [r["RoleName"] for r in page["RoleDetailList"]]
        if not page["IsTruncated"]:
            break
        marker = page["Marker"]
    assert seen_users == [f"u{i}" for i in range(6)] and seen_roles == [f"r{i}" for i in range(6)]
    expect("ValidationError", iam.get_account_authorization_details, Marker="bogus-marker")
    # a well-formed marker of another listing is not one of this listing's
    other = iam.list_users(MaxItems=1)["Marker"]
    expect("ValidationError", iam.get_account_authorization_details, Marker=other)
