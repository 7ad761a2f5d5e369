"""IAM roles end to end: trust policies (validated), MaxSessionDuration bounds, descriptions, UpdateRole,
UpdateRoleDescription, UpdateAssumeRolePolicy, permissions boundaries, delete conflicts, listing."""

from __future__ import annotations

import json
import urllib.parse
from typing import Any

import pytest

from tests.e2e.iam_support import (
    ADMIN,
    ARN,
    POLICY,
    READ_ONLY,
    TRUST,
    TRUST_ACCOUNT,
    collect,
    doc,
    expect,
    rejected,
    send,
    signed,
    sized_policy,
    unvalidated,
)
from tests.support.servers import Endpoint

pytestmark = pytest.mark.e2e


def test_create_role_returns_aws_shape(iam: Any) -> None:
    role = iam.create_role(RoleName="app", AssumeRolePolicyDocument=TRUST, Path="/svc/", Description="the app",
                           MaxSessionDuration=7200)["Role"]
    assert role["RoleId"].startswith("AROA") and len(role["RoleId"]) == 21
    assert role["Arn"] == f"{ARN}:role/svc/app"
    assert role["AssumeRolePolicyDocument"] == json.loads(TRUST)  # botocore decodes the URL-encoded JSON
    # AWS's CreateRole answer leaves the Description out, even when one was given (LocalStack's AWS-validated
    # test_iam_roles.snapshot.json, "create-role-with-boundary"); GetRole has it.
    assert "Description" not in role and role["MaxSessionDuration"] == 7200
    got = iam.get_role(RoleName="APP")["Role"]
    assert got["Description"] == "the app" and got["MaxSessionDuration"] == 7200
    assert got["RoleName"] == "app" and got["RoleId"] == role["RoleId"]
    assert got["AssumeRolePolicyDocument"] == json.loads(TRUST)
    assert got["RoleLastUsed"] == {}


def test_trust_policy_document_is_kept_verbatim(gh: Endpoint, iam: Any) -> None:
    text = '{\n  "Version": "2012-10-17",\n  "Statement": [{"Effect": "Allow", "Principal": {"Service": ' \
           '"lambda.amazonaws.com"}, "Action": "sts:AssumeRole", "Sid": "Lambda"}]}'
    iam.create_role(RoleName="verbatim", AssumeRolePolicyDocument=text)
    assert iam.get_role(RoleName="verbatim")["Role"]["AssumeRolePolicyDocument"] == json.loads(text)
    # On the wire the document is the stored text, white space and all, URL-encoded (RFC 3986).
    status, body = send(signed(gh.url, "Action=GetRole&Version=2010-05-08&RoleName=verbatim"))
    assert status == 200
    assert f"<AssumeRolePolicyDocument>{urllib.parse.quote(text, safe='')}</AssumeRolePolicyDocument>" in body


def test_defaults(iam: Any) -> None:
    role = iam.create_role(RoleName="plain", AssumeRolePolicyDocument=TRUST_ACCOUNT)["Role"]
    # No MaxSessionDuration in AWS's CreateRole answer when none was given (LocalStack's AWS-validated
    # test_iam_roles.snapshot.json, "create-role-response"); GetRole shows the 3600 default.
    assert role["Path"] == "/" and "MaxSessionDuration" not in role
    assert "Description" not in role and "PermissionsBoundary" not in role and "Tags" not in role
    assert iam.get_role(RoleName="plain")["Role"]["MaxSessionDuration"] == 3600


@pytest.mark.parametrize("document", [
    "not json",
    "{}",
    doc({"Effect": "Allow", "Action": "sts:AssumeRole"}),  # no principal
    doc({"Effect": "Maybe", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}),
    json.dumps({"Version": "2008-10-17x", "Statement": [{"Effect": "Allow", "Principal": "*",
                                                           "Action": "sts:AssumeRole"}]}),
])
def test_malformed_trust_policy_is_rejected(iam: Any, document: str) -> None:
    rejected(iam, "MalformedPolicyDocument", iam.create_role, RoleName="bad", AssumeRolePolicyDocument=document)


def test_trust_policy_size_limit(iam: Any) -> None:
    """The trust policy counts against AssumeRolePolicySizeQuota (2,048 characters other than white space)."""
    def trust_of(size: int) -> str:
        base = doc({"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole",
                    "Sid": "S"})
        pad = size - len("".join(base.split()))
        return base.replace('"Sid": "S"', '"Sid": "S' + "x" * pad + '"')
    assert len("".join(trust_of(2048).split())) == 2048
    iam.create_role(RoleName="fits", AssumeRolePolicyDocument=trust_of(2048))
    rejected(iam, "LimitExceeded", iam.create_role, RoleName="big", AssumeRolePolicyDocument=trust_of(2049))
    rejected(iam, "LimitExceeded", iam.update_assume_role_policy, RoleName="fits", PolicyDocument=trust_of(2049))


def test_max_session_duration_bounds(gh: Endpoint, iam: Any) -> None:
    loose = unvalidated(gh)
    for bad in (3599, 43201, 0):
        response = rejected(iam, "ValidationError", loose.create_role, RoleName="r", AssumeRolePolicyDocument=TRUST,
                            MaxSessionDuration=bad)
        assert "maxSessionDuration" in response["Error"]["Message"]
    assert iam.create_role(RoleName="lo", AssumeRolePolicyDocument=TRUST,
                           MaxSessionDuration=3600)["Role"]["MaxSessionDuration"] == 3600
    assert iam.create_role(RoleName="hi", AssumeRolePolicyDocument=TRUST,
                           MaxSessionDuration=43200)["Role"]["MaxSessionDuration"] == 43200
    response = rejected(iam, "ValidationError", loose.update_role, RoleName="lo", MaxSessionDuration=50000)
    assert response["Error"]["Message"] == (
        "1 validation error detected: Value at 'maxSessionDuration' failed to satisfy constraint: "
        "Member must have value less than or equal to 43200")


def test_duplicate_role(iam: Any) -> None:
    iam.create_role(RoleName="dup", AssumeRolePolicyDocument=TRUST)
    response = rejected(iam, "EntityAlreadyExists", iam.create_role, RoleName="DUP", AssumeRolePolicyDocument=TRUST)
    assert response["Error"]["Message"] == "Role with name DUP already exists."


def test_missing_role(iam: Any) -> None:
    response = rejected(iam, "NoSuchEntity", iam.get_role, RoleName="ghost")
    assert response["Error"]["Message"] == "The role with name ghost cannot be found."
    rejected(iam, "NoSuchEntity", iam.delete_role, RoleName="ghost")
    rejected(iam, "NoSuchEntity", iam.update_role, RoleName="ghost", Description="x")
    rejected(iam, "NoSuchEntity", iam.update_role_description, RoleName="ghost", Description="x")
    rejected(iam, "NoSuchEntity", iam.update_assume_role_policy, RoleName="ghost", PolicyDocument=TRUST)


def test_update_role(iam: Any) -> None:
    iam.create_role(RoleName="r", AssumeRolePolicyDocument=TRUST, Description="first", MaxSessionDuration=7200)
    iam.update_role(RoleName="r", Description="second")
    role = iam.get_role(RoleName="r")["Role"]
    assert (role["Description"], role["MaxSessionDuration"]) == ("second", 7200)
    iam.update_role(RoleName="r", MaxSessionDuration=10800)
    role = iam.get_role(RoleName="r")["Role"]
    assert (role["Description"], role["MaxSessionDuration"]) == ("second", 10800)


def test_update_role_description_returns_the_role(iam: Any) -> None:
    iam.create_role(RoleName="r", AssumeRolePolicyDocument=TRUST, Tags=[{"Key": "a", "Value": "b"}])
    role = iam.update_role_description(RoleName="r", Description="described")["Role"]
    assert role["RoleName"] == "r" and role["Description"] == "described"
    assert role["Tags"] == [{"Key": "a", "Value": "b"}]
    assert iam.get_role(RoleName="r")["Role"]["Description"] == "described"


def test_descriptions_with_markup_round_trip(iam: Any) -> None:
    text = """<b>&amp; "quoted" 'single'</b> ¡ÿ"""
    iam.create_role(RoleName="r", AssumeRolePolicyDocument=TRUST, Description=text)
    assert iam.get_role(RoleName="r")["Role"]["Description"] == text
    arn = iam.create_policy(PolicyName="p", PolicyDocument=POLICY, Description="any text 😀 <&>")["Policy"][
        "Arn"]
    assert iam.get_policy(PolicyArn=arn)["Policy"]["Description"] == "any text 😀 <&>"


def test_description_validation(iam: Any) -> None:
    iam.create_role(RoleName="r", AssumeRolePolicyDocument=TRUST)
    rejected(iam, "ValidationError", iam.create_role, RoleName="r2", AssumeRolePolicyDocument=TRUST,
             Description="x" * 1001)
    rejected(iam, "ValidationError", iam.update_role, RoleName="r", Description="x" * 1001)
    rejected(iam, "ValidationError", iam.update_role_description, RoleName="r", Description="emoji \U0001F600")
    iam.update_role(RoleName="r", Description="x" * 1000)


def test_update_assume_role_policy(iam: Any) -> None:
    iam.create_role(RoleName="r", AssumeRolePolicyDocument=TRUST)
    iam.update_assume_role_policy(RoleName="r", PolicyDocument=TRUST_ACCOUNT)
    assert iam.get_role(RoleName="r")["Role"]["AssumeRolePolicyDocument"] == json.loads(TRUST_ACCOUNT)
    rejected(iam, "MalformedPolicyDocument", iam.update_assume_role_policy, RoleName="r", PolicyDocument="[]")
    rejected(iam, "MalformedPolicyDocument", iam.update_assume_role_policy, RoleName="r", PolicyDocument=POLICY)


def test_permissions_boundary(iam: Any) -> None:
    local = iam.create_policy(PolicyName="bound", PolicyDocument=POLICY)["Policy"]["Arn"]
    role = iam.create_role(RoleName="r", AssumeRolePolicyDocument=TRUST, PermissionsBoundary=local)["Role"]
    assert role["PermissionsBoundary"] == {"PermissionsBoundaryType": "Policy", "PermissionsBoundaryArn": local}
    assert iam.get_policy(PolicyArn=local)["Policy"]["PermissionsBoundaryUsageCount"] == 1
    iam.put_role_permissions_boundary(RoleName="r", PermissionsBoundary=ADMIN)
    assert iam.get_role(RoleName="r")["Role"]["PermissionsBoundary"]["PermissionsBoundaryArn"] == ADMIN
    assert iam.get_policy(PolicyArn=local)["Policy"]["PermissionsBoundaryUsageCount"] == 0
    assert iam.get_policy(PolicyArn=ADMIN)["Policy"]["PermissionsBoundaryUsageCount"] == 1
    iam.delete_role_permissions_boundary(RoleName="r")
    assert "PermissionsBoundary" not in iam.get_role(RoleName="r")["Role"]
    assert iam.get_policy(PolicyArn=ADMIN)["Policy"]["PermissionsBoundaryUsageCount"] == 0


def test_permissions_boundary_errors(iam: Any) -> None:
    iam.create_role(RoleName="r", AssumeRolePolicyDocument=TRUST)
    missing = f"{ARN}:policy/absent"
    response = rejected(iam, "NoSuchEntity", iam.put_role_permissions_boundary, RoleName="r",
                        PermissionsBoundary=missing)
    assert missing in response["Error"]["Message"]
    rejected(iam, "NoSuchEntity", iam.put_role_permissions_boundary, RoleName="ghost", PermissionsBoundary=READ_ONLY)
    rejected(iam, "NoSuchEntity", iam.create_role, RoleName="r2", AssumeRolePolicyDocument=TRUST,
             PermissionsBoundary="arn:aws:iam::aws:policy/NoSuchManagedPolicy")


def test_user_permissions_boundary(iam: Any) -> None:
    iam.create_user(UserName="u")
    iam.put_user_permissions_boundary(UserName="u", PermissionsBoundary=READ_ONLY)
    assert iam.get_user(UserName="u")["User"]["PermissionsBoundary"]["PermissionsBoundaryArn"] == READ_ONLY
    rejected(iam, "NoSuchEntity", iam.put_user_permissions_boundary, UserName="u",
             PermissionsBoundary=f"{ARN}:policy/absent")
    iam.delete_user_permissions_boundary(UserName="u")
    assert "PermissionsBoundary" not in iam.get_user(UserName="u")["User"]
    rejected(iam, "NoSuchEntity", iam.delete_user_permissions_boundary, UserName="ghost")


def test_delete_role_conflicts(iam: Any) -> None:
    iam.create_role(RoleName="busy", AssumeRolePolicyDocument=TRUST)
    iam.create_instance_profile(InstanceProfileName="ip")
    iam.add_role_to_instance_profile(InstanceProfileName="ip", RoleName="busy")
    iam.put_role_policy(RoleName="busy", PolicyName="p", PolicyDocument=POLICY)
    iam.attach_role_policy(RoleName="busy", PolicyArn=READ_ONLY)
    steps = [
        ("instance profile", lambda: iam.remove_role_from_instance_profile(InstanceProfileName="ip",
                                                                           RoleName="busy")),
        ("policies", lambda: iam.delete_role_policy(RoleName="busy", PolicyName="p")),
        ("detach", lambda: iam.detach_role_policy(RoleName="busy", PolicyArn=READ_ONLY)),
    ]
    for word, remove in steps:
        response = rejected(iam, "DeleteConflict", iam.delete_role, RoleName="busy")
        assert word in response["Error"]["Message"]
        remove()
    iam.delete_role(RoleName="busy")
    expect("NoSuchEntity", iam.get_role, RoleName="busy")


def test_delete_role_with_tags_and_boundary(iam: Any) -> None:
    iam.create_role(RoleName="r", AssumeRolePolicyDocument=TRUST, PermissionsBoundary=READ_ONLY,
                    Tags=[{"Key": "a", "Value": "b"}])
    iam.delete_role(RoleName="r")
    iam.create_role(RoleName="r", AssumeRolePolicyDocument=TRUST)
    assert iam.list_role_tags(RoleName="r")["Tags"] == []


def test_list_roles(iam: Any) -> None:
    for i in range(8):
        iam.create_role(RoleName=f"role{i}", AssumeRolePolicyDocument=TRUST, Path="/x/" if i < 3 else "/y/",
                        Description=f"d{i}", Tags=[{"Key": "k", "Value": "v"}])
    roles = collect(iam.list_roles, "Roles", MaxItems=3)
    assert [r["RoleName"] for r in roles] == [f"role{i}" for i in range(8)]
    assert roles[0]["Description"] == "d0" and roles[0]["MaxSessionDuration"] == 3600
    assert roles[0]["AssumeRolePolicyDocument"] == json.loads(TRUST)
    assert "Tags" not in roles[0] and "RoleLastUsed" not in roles[0]
    assert [r["RoleName"] for r in collect(iam.list_roles, "Roles", PathPrefix="/x/")] == ["role0", "role1",
                                                                                          "role2"]


def test_role_names_and_paths_are_validated(iam: Any) -> None:
    rejected(iam, "ValidationError", iam.create_role, RoleName="r" * 65, AssumeRolePolicyDocument=TRUST)
    rejected(iam, "ValidationError", iam.create_role, RoleName="bad/name", AssumeRolePolicyDocument=TRUST)
    rejected(iam, "ValidationError", iam.create_role, RoleName="ok", Path="//", AssumeRolePolicyDocument=TRUST)
    assert iam.create_role(RoleName="r" * 64, AssumeRolePolicyDocument=TRUST)["Role"]["RoleName"] == "r" * 64


def test_inline_role_policy_quota_is_10240(iam: Any) -> None:
    iam.create_role(RoleName="r", AssumeRolePolicyDocument=TRUST)
    iam.put_role_policy(RoleName="r", PolicyName="a", PolicyDocument=sized_policy(10240, indent=4))
    response = rejected(iam, "LimitExceeded", iam.put_role_policy, RoleName="r", PolicyName="b",
                        PolicyDocument=sized_policy(120))
    assert response["Error"]["Message"] == "Maximum policy size of 10240 bytes exceeded for role r"
