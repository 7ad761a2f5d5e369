"""Customer managed policies end to end: versions (at most five, SetAsDefault, default-version rules), deletion
rules, the 6,144-character quota, ListPolicies filters, ListEntitiesForPolicy filters, and AWS managed
policies (read, list, attach, never change)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from gatehouse.services.iam.aws_managed import AwsManagedPolicies
from tests.e2e.iam_support import (
    ADMIN,
    ARN,
    AWS_MANAGED,
    POLICY,
    POLICY_2,
    READ_ONLY,
    TRUST,
    collect,
    doc,
    expect,
    rejected,
    sized_policy,
    status_of,
)

pytestmark = pytest.mark.e2e
CATALOGUE = AwsManagedPolicies()


def _policy(iam: Any, name: str = "p", **kw: Any) -> str:
    return iam.create_policy(PolicyName=name, PolicyDocument=kw.pop("PolicyDocument", POLICY), **kw)["Policy"]["Arn"]


def test_create_policy_returns_aws_shape(iam: Any) -> None:
    policy = iam.create_policy(PolicyName="readers", PolicyDocument=POLICY, Path="/team/", Description="reads",
                               Tags=[{"Key": "k", "Value": "v"}])["Policy"]
    assert policy["Arn"] == f"{ARN}:policy/team/readers"
    assert policy["PolicyId"].startswith("ANPA") and len(policy["PolicyId"]) == 21
    assert (policy["DefaultVersionId"], policy["AttachmentCount"], policy["PermissionsBoundaryUsageCount"]) == (
        "v1", 0, 0)
    assert policy["IsAttachable"] is True and "Description" not in policy  # only GetPolicy returns it
    assert policy["Tags"] == [{"Key": "k", "Value": "v"}]
    got = iam.get_policy(PolicyArn=policy["Arn"])["Policy"]
    assert got["PolicyName"] == "readers" and got["Description"] == "reads"
    version = iam.get_policy_version(PolicyArn=policy["Arn"], VersionId="v1")["PolicyVersion"]
    assert version["Document"] == json.loads(POLICY) and version["IsDefaultVersion"] is True


def test_policy_arn_must_match_path_and_account(iam: Any) -> None:
    _policy(iam, "p", Path="/team/")
    for arn in (f"{ARN}:policy/p", f"{ARN}:policy/other/p", "arn:aws:iam::210987654321:policy/team/p"):
        response = rejected(iam, "NoSuchEntity", iam.get_policy, PolicyArn=arn)
        assert response["Error"]["Message"] == f"Policy {arn} was not found."
    response = rejected(iam, "InvalidInput", iam.get_policy, PolicyArn="arn:aws:s3:::some-bucket-name")
    assert response["Error"]["Message"] == "ARN arn:aws:s3:::some-bucket-name is not valid."


def test_duplicate_policy_name(iam: Any) -> None:
    _policy(iam, "same", Path="/a/")
    response = rejected(iam, "EntityAlreadyExists", iam.create_policy, PolicyName="SAME", PolicyDocument=POLICY,
                        Path="/b/")
    assert status_of(response) == 409


@pytest.mark.parametrize("document", [
    "not json",
    "{}",
    '{"Statement": [{"Effect": "Maybe", "Action": "s3:*", "Resource": "*"}]}',
    doc({"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*", "Principal": "*"}),
    doc({"Effect": "Allow", "Action": "s3:GetObject"}),
])
def test_malformed_documents_are_rejected_everywhere(iam: Any, document: str) -> None:
    arn = _policy(iam)
    rejected(iam, "MalformedPolicyDocument", iam.create_policy, PolicyName="bad", PolicyDocument=document)
    rejected(iam, "MalformedPolicyDocument", iam.create_policy_version, PolicyArn=arn, PolicyDocument=document)


def test_managed_policy_size_quota(iam: Any) -> None:
    """6,144 characters, white space not counted."""
    arn = _policy(iam, "fits", PolicyDocument=sized_policy(6144, indent=8))
    response = rejected(iam, "LimitExceeded", iam.create_policy, PolicyName="big", PolicyDocument=sized_policy(6145))
    assert response["Error"]["Message"] == "Cannot exceed quota for PolicySize: 6144"
    assert status_of(response) == 409
    rejected(iam, "LimitExceeded", iam.create_policy_version, PolicyArn=arn, PolicyDocument=sized_policy(6145))
    iam.create_policy_version(PolicyArn=arn, PolicyDocument=sized_policy(6144))


# --- versions --------------------------------------------------------------------------------------------


def test_versions_up_to_five(iam: Any) -> None:
    arn = _policy(iam)
    for n in range(2, 6):
        version = iam.create_policy_version(PolicyArn=arn, PolicyDocument=POLICY_2)["PolicyVersion"]
        assert version["VersionId"] == f"v{n}" and version["IsDefaultVersion"] is False
    response = rejected(iam, "LimitExceeded", iam.create_policy_version, PolicyArn=arn, PolicyDocument=POLICY)
    assert "5 versions" in response["Error"]["Message"]
    versions = iam.list_policy_versions(PolicyArn=arn)["Versions"]
    assert [v["VersionId"] for v in versions] == ["v5", "v4", "v3", "v2", "v1"]
    assert [v["IsDefaultVersion"] for v in versions] == [False, False, False, False, True]
    assert iam.get_policy(PolicyArn=arn)["Policy"]["DefaultVersionId"] == "v1"


def test_version_ids_are_never_reused(iam: Any) -> None:
    arn = _policy(iam)
    iam.create_policy_version(PolicyArn=arn, PolicyDocument=POLICY_2)
    iam.delete_policy_version(PolicyArn=arn, VersionId="v2")
    assert iam.create_policy_version(PolicyArn=arn, PolicyDocument=POLICY_2)["PolicyVersion"]["VersionId"] == "v3"


def test_set_as_default_on_create(iam: Any) -> None:
    arn = _policy(iam)
    version = iam.create_policy_version(PolicyArn=arn, PolicyDocument=POLICY_2, SetAsDefault=True)["PolicyVersion"]
    assert version["IsDefaultVersion"] is True
    assert iam.get_policy(PolicyArn=arn)["Policy"]["DefaultVersionId"] == "v2"
    v1 = iam.get_policy_version(PolicyArn=arn, VersionId="v1")["PolicyVersion"]
    assert v1["IsDefaultVersion"] is False and v1["Document"] == json.loads(POLICY)


def test_set_default_policy_version(iam: Any) -> None:
    arn = _policy(iam)
    iam.create_policy_version(PolicyArn=arn, PolicyDocument=POLICY_2)
    iam.set_default_policy_version(PolicyArn=arn, VersionId="v2")
    assert iam.get_policy(PolicyArn=arn)["Policy"]["DefaultVersionId"] == "v2"
    defaults = [v["VersionId"] for v in iam.list_policy_versions(PolicyArn=arn)["Versions"] if v["IsDefaultVersion"]]
    assert defaults == ["v2"]
    # the default can now not be deleted, the old one can
    rejected(iam, "DeleteConflict", iam.delete_policy_version, PolicyArn=arn, VersionId="v2")
    iam.delete_policy_version(PolicyArn=arn, VersionId="v1")
    assert [v["VersionId"] for v in iam.list_policy_versions(PolicyArn=arn)["Versions"]] == ["v2"]


def test_version_errors(iam: Any) -> None:
    arn = _policy(iam)
    response = rejected(iam, "DeleteConflict", iam.delete_policy_version, PolicyArn=arn, VersionId="v1")
    assert response["Error"]["Message"] == "Cannot delete the default version of a policy."
    rejected(iam, "NoSuchEntity", iam.delete_policy_version, PolicyArn=arn, VersionId="v9")
    rejected(iam, "NoSuchEntity", iam.set_default_policy_version, PolicyArn=arn, VersionId="v9")
    rejected(iam, "NoSuchEntity", iam.get_policy_version, PolicyArn=arn, VersionId="v2")
    rejected(iam, "ValidationError", iam.get_policy_version, PolicyArn=arn, VersionId="version-one")
    rejected(iam, "NoSuchEntity", iam.create_policy_version, PolicyArn=f"{ARN}:policy/ghost", PolicyDocument=POLICY)
    rejected(iam, "NoSuchEntity", iam.list_policy_versions, PolicyArn=f"{ARN}:policy/ghost")


# --- delete ----------------------------------------------------------------------------------------------


def test_delete_policy(iam: Any) -> None:
    arn = _policy(iam, Tags=[{"Key": "a", "Value": "b"}])
    iam.delete_policy(PolicyArn=arn)
    rejected(iam, "NoSuchEntity", iam.get_policy, PolicyArn=arn)
    rejected(iam, "NoSuchEntity", iam.delete_policy, PolicyArn=arn)
    arn = _policy(iam)
    assert iam.list_policy_tags(PolicyArn=arn)["Tags"] == []


def test_delete_policy_conflicts_while_attached_or_versioned(iam: Any) -> None:
    arn = _policy(iam)
    iam.create_user(UserName="u")
    iam.attach_user_policy(UserName="u", PolicyArn=arn)
    response = rejected(iam, "DeleteConflict", iam.delete_policy, PolicyArn=arn)
    assert response["Error"]["Message"] == "Cannot delete a policy attached to entities."
    iam.detach_user_policy(UserName="u", PolicyArn=arn)
    iam.create_policy_version(PolicyArn=arn, PolicyDocument=POLICY_2, SetAsDefault=True)
    response = rejected(iam, "DeleteConflict", iam.delete_policy, PolicyArn=arn)
    assert "more than one version" in response["Error"]["Message"]
    iam.delete_policy_version(PolicyArn=arn, VersionId="v1")
    iam.delete_policy(PolicyArn=arn)
    assert collect(iam.list_policies, "Policies", Scope="Local") == []


def test_delete_policy_conflicts_while_used_as_a_permissions_boundary(iam: Any) -> None:
    arn = _policy(iam, "boundary")
    iam.create_user(UserName="bounded", PermissionsBoundary=arn)
    iam.create_role(RoleName="bounded", AssumeRolePolicyDocument=TRUST, PermissionsBoundary=arn)
    response = rejected(iam, "DeleteConflict", iam.delete_policy, PolicyArn=arn)
    assert response["Error"]["Message"] == "Cannot delete a policy attached to entities."
    iam.delete_user_permissions_boundary(UserName="bounded")
    rejected(iam, "DeleteConflict", iam.delete_policy, PolicyArn=arn)
    iam.delete_role_permissions_boundary(RoleName="bounded")
    iam.delete_policy(PolicyArn=arn)


# --- AWS managed policies ----------------------------------------------------------------------------------


def test_aws_managed_policies_are_readable(iam: Any) -> None:
    for name in AWS_MANAGED:
        arn = f"arn:aws:iam::aws:policy/{name}"
        expected = CATALOGUE.get("/", name)
        assert expected is not None
        policy = iam.get_policy(PolicyArn=arn)["Policy"]
        assert policy["PolicyName"] == name and policy["Arn"] == arn and policy["PolicyId"] == expected.policy_id
        assert policy["DefaultVersionId"] == expected.default_version_id and policy["IsAttachable"] is True
        version = iam.get_policy_version(PolicyArn=arn, VersionId=expected.default_version_id)["PolicyVersion"]
        assert version["IsDefaultVersion"] and version["Document"]["Version"] == "2012-10-17"
        assert version["Document"] == json.loads(CATALOGUE.default_version(expected).document)
        assert [v["VersionId"] for v in iam.list_policy_versions(PolicyArn=arn)["Versions"]] == [
            expected.default_version_id]
    admin = iam.get_policy_version(PolicyArn=ADMIN, VersionId="v1")["PolicyVersion"]["Document"]
    assert admin["Statement"] == [{"Effect": "Allow", "Action": "*", "Resource": "*"}]
    lam = iam.get_policy(PolicyArn="arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole")["Policy"]
    assert lam["Path"] == "/service-role/"


def test_aws_managed_policy_ids_are_stable(iam: Any) -> None:
    first = iam.get_policy(PolicyArn=ADMIN)["Policy"]["PolicyId"]
    assert iam.get_policy(PolicyArn=ADMIN)["Policy"]["PolicyId"] == first
    assert iam.get_policy(PolicyArn=READ_ONLY)["Policy"]["PolicyId"] != first


def test_aws_managed_policies_cannot_be_changed(iam: Any) -> None:
    rejected(iam, "NoSuchEntity", iam.get_policy, PolicyArn="arn:aws:iam::aws:policy/NoSuchPolicy")
    rejected(iam, "NoSuchEntity", iam.get_policy_version, PolicyArn=ADMIN, VersionId="v2")
    for call, params in [
        (iam.delete_policy, {}),
        (iam.create_policy_version, {"PolicyDocument": POLICY}),
        (iam.delete_policy_version, {"VersionId": "v1"}),
        (iam.set_default_policy_version, {"VersionId": "v1"}),
        (iam.tag_policy, {"Tags": [{"Key": "a", "Value": "b"}]}),
        (iam.untag_policy, {"TagKeys": ["a"]}),
    ]:
        response = rejected(iam, "InvalidInput", call, PolicyArn=ADMIN, **params)
        assert status_of(response) == 400
    assert iam.list_policy_tags(PolicyArn=ADMIN)["Tags"] == []


def test_a_customer_policy_may_share_an_aws_managed_name(iam: Any) -> None:
    arn = _policy(iam, "ReadOnlyAccess")
    assert arn == f"{ARN}:policy/ReadOnlyAccess"
    iam.create_user(UserName="u")
    iam.attach_user_policy(UserName="u", PolicyArn=arn)
    iam.attach_user_policy(UserName="u", PolicyArn=READ_ONLY)
    attached = iam.list_attached_user_policies(UserName="u")["AttachedPolicies"]
    assert sorted(p["PolicyArn"] for p in attached) == sorted([arn, READ_ONLY])
    assert iam.get_policy(PolicyArn=arn)["Policy"]["AttachmentCount"] == 1
    assert iam.get_policy(PolicyArn=READ_ONLY)["Policy"]["AttachmentCount"] == 1


# --- ListPolicies ------------------------------------------------------------------------------------------


def test_list_policies_scopes(iam: Any) -> None:
    local = [_policy(iam, f"local{i}") for i in range(3)]
    aws = [p["PolicyName"] for p in collect(iam.list_policies, "Policies", Scope="AWS", MaxItems=1000)]
    assert aws == [p.name for p in CATALOGUE.all()] and set(AWS_MANAGED) <= set(aws)
    assert [p["Arn"] for p in collect(iam.list_policies, "Policies", Scope="Local")] == local
    everything = collect(iam.list_policies, "Policies", MaxItems=400)
    assert len(everything) == len(CATALOGUE) + 3
    assert [p["PolicyName"].lower() for p in everything] == sorted(p["PolicyName"].lower() for p in everything)
    assert collect(iam.list_policies, "Policies", Scope="All") == everything
    rejected(iam, "ValidationError", iam.list_policies, Scope="Mine")


def test_list_policies_only_attached_and_usage_filter(iam: Any) -> None:
    attached = _policy(iam, "attached")
    boundary = _policy(iam, "boundary")
    _policy(iam, "unused")
    iam.create_user(UserName="u", PermissionsBoundary=boundary)
    iam.attach_user_policy(UserName="u", PolicyArn=attached)
    iam.create_group(GroupName="g")
    iam.attach_group_policy(GroupName="g", PolicyArn=ADMIN)

    def names(**kw: Any) -> list[str]:
        return [p["PolicyName"] for p in collect(iam.list_policies, "Policies", **kw)]

    assert names(OnlyAttached=True) == ["AdministratorAccess", "attached", "boundary"]
    assert names(OnlyAttached=True, Scope="Local") == ["attached", "boundary"]
    assert names(OnlyAttached=True, Scope="AWS") == ["AdministratorAccess"]
    assert names(OnlyAttached=True, PolicyUsageFilter="PermissionsPolicy") == ["AdministratorAccess", "attached"]
    assert names(OnlyAttached=True, PolicyUsageFilter="PermissionsBoundary") == ["boundary"]
    listed = {p["PolicyName"]: p for p in collect(iam.list_policies, "Policies", Scope="Local")}
    assert listed["attached"]["AttachmentCount"] == 1 and listed["boundary"]["PermissionsBoundaryUsageCount"] == 1
    assert listed["unused"]["AttachmentCount"] == 0
    assert "Tags" not in listed["attached"]


def test_list_policies_path_prefix(iam: Any) -> None:
    _policy(iam, "a", Path="/x/")
    _policy(iam, "b", Path="/x/y/")
    _policy(iam, "c", Path="/X/")
    assert [p["PolicyName"] for p in collect(iam.list_policies, "Policies", PathPrefix="/x/")] == ["a", "b"]
    assert [p["PolicyName"] for p in collect(iam.list_policies, "Policies", PathPrefix="/x/y/", Scope="Local")] == [
        "b"]
    assert collect(iam.list_policies, "Policies", PathPrefix="/nothing/") == []


# --- ListEntitiesForPolicy ---------------------------------------------------------------------------------


def test_list_entities_for_policy_with_filters(iam: Any) -> None:
    arn = _policy(iam)
    iam.create_user(UserName="u1", Path="/a/")
    iam.create_user(UserName="u2", Path="/b/", PermissionsBoundary=arn)
    iam.create_group(GroupName="g1", Path="/a/")
    iam.create_role(RoleName="r1", AssumeRolePolicyDocument=TRUST, Path="/a/")
    iam.create_role(RoleName="r2", AssumeRolePolicyDocument=TRUST, PermissionsBoundary=arn)
    iam.attach_user_policy(UserName="u1", PolicyArn=arn)
    iam.attach_group_policy(GroupName="g1", PolicyArn=arn)
    iam.attach_role_policy(RoleName="r1", PolicyArn=arn)

    def entities(**kw: Any) -> tuple[list[str], list[str], list[str]]:
        out = iam.list_entities_for_policy(PolicyArn=arn, **kw)
        return ([u["UserName"] for u in out["PolicyUsers"]], [g["GroupName"] for g in out["PolicyGroups"]],
                [r["RoleName"] for r in out["PolicyRoles"]])

    assert entities() == (["u1", "u2"], ["g1"], ["r1", "r2"])
    assert entities(EntityFilter="User") == (["u1", "u2"], [], [])
    assert entities(EntityFilter="Group") == ([], ["g1"], [])
    assert entities(EntityFilter="Role") == ([], [], ["r1", "r2"])
    assert entities(PathPrefix="/a/") == (["u1"], ["g1"], ["r1"])
    assert entities(PolicyUsageFilter="PermissionsPolicy") == (["u1"], ["g1"], ["r1"])
    assert entities(PolicyUsageFilter="PermissionsBoundary") == (["u2"], [], ["r2"])
    out = iam.list_entities_for_policy(PolicyArn=arn)
    assert out["PolicyUsers"][0] == {"UserName": "u1", "UserId": iam.get_user(UserName="u1")["User"]["UserId"]}
    rejected(iam, "ValidationError", iam.list_entities_for_policy, PolicyArn=arn, EntityFilter="Robot")
    rejected(iam, "NoSuchEntity", iam.list_entities_for_policy, PolicyArn=f"{ARN}:policy/ghost")


def test_list_entities_for_policy_pages(iam: Any) -> None:
    arn = _policy(iam)
    for i in range(5):
        iam.create_user(UserName=f"u{i}")
        iam.attach_user_policy(UserName=f"u{i}", PolicyArn=arn)
        iam.create_role(RoleName=f"r{i}", AssumeRolePolicyDocument=TRUST)
        iam.attach_role_policy(RoleName=f"r{i}", PolicyArn=arn)
    users: list[str] = []
    roles: list[str] = []
    marker = None
    for _ in range(20):
        page = iam.list_entities_for_policy(PolicyArn=arn, MaxItems=3, **({"Marker": marker} if marker else {}))
        assert len(page["PolicyUsers"]) + len(page["PolicyRoles"]) + len(page["PolicyGroups"]) <= 3
        users += [u["UserName"] for u in page["PolicyUsers"]]
        roles += [r["RoleName"] for r in page["PolicyRoles"]]
        if not page["IsTruncated"]:
            break
        marker = page["Marker"]
    assert users == [f"u{i}" for i in range(5)] and roles == [f"r{i}" for i in range(5)]


def test_list_entities_for_aws_managed_policy(iam: Any) -> None:
    iam.create_user(UserName="admin")
    iam.attach_user_policy(UserName="admin", PolicyArn=ADMIN)
    out = iam.list_entities_for_policy(PolicyArn=ADMIN)
    assert [u["UserName"] for u in out["PolicyUsers"]] == ["admin"]
    assert iam.list_entities_for_policy(PolicyArn=READ_ONLY)["PolicyUsers"] == []


# --- tags --------------------------------------------------------------------------------------------------


def test_policy_tags(iam: Any) -> None:
    arn = _policy(iam, Tags=[{"Key": "a", "Value": "1"}])
    # Customer managed policies keep a and A apart, and ListPolicyTags answers in key order (LocalStack's
    # AWS-validated test_iam_policies.snapshot.json, TestPolicyTags).
    iam.tag_policy(PolicyArn=arn, Tags=[{"Key": "b", "Value": "2"}, {"Key": "A", "Value": "3"}])
    assert iam.list_policy_tags(PolicyArn=arn)["Tags"] == [
        {"Key": "A", "Value": "3"}, {"Key": "a", "Value": "1"}, {"Key": "b", "Value": "2"}]
    iam.untag_policy(PolicyArn=arn, TagKeys=["a"])
    assert iam.list_policy_tags(PolicyArn=arn)["Tags"] == [{"Key": "A", "Value": "3"}, {"Key": "b", "Value": "2"}]
    assert {t["Key"]: t["Value"] for t in iam.get_policy(PolicyArn=arn)["Policy"]["Tags"]} == {"A": "3", "b": "2"}
    rejected(iam, "NoSuchEntity", iam.tag_policy, PolicyArn=f"{ARN}:policy/ghost", Tags=[{"Key": "a", "Value": ""}])


def test_update_date_moves_with_the_default_version(iam: Any) -> None:
    arn = _policy(iam)
    before = iam.get_policy(PolicyArn=arn)["Policy"]
    assert before["UpdateDate"] == before["CreateDate"]
    iam.create_policy_version(PolicyArn=arn, PolicyDocument=POLICY_2, SetAsDefault=True)
    after = iam.get_policy(PolicyArn=arn)["Policy"]
    assert after["UpdateDate"] >= before["UpdateDate"] and after["CreateDate"] == before["CreateDate"]
    expect("NoSuchEntity", iam.get_policy_version, PolicyArn=arn, VersionId="v3")
