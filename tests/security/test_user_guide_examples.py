"""The IAM User Guide's own delegation and ABAC examples work as the guide says: what they allow is allowed and what
they deny is denied. They depend on the keys AWS sets (iam:PermissionsBoundary as the target's current boundary,
iam:ResourceTag of the user or role acted on, aws:RequestTag, aws:TagKeys), so they fail when a key is missing.

Policies as printed in "Permissions boundaries for IAM entities" (delegating responsibility to others), "Controlling
access to and for IAM users and roles using tags", and the ABAC tutorial; only the account id is ours.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from gatehouse.app import Application
from tests.security.support import ACCOUNT, Keys, call, new_app, ok, user_with_key

pytestmark = pytest.mark.xdist_group("user-guide-examples")


def doc(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


X_COMPANY_BOUNDARIES = doc(
    {"Sid": "ServiceBoundaries", "Effect": "Allow", "Action": ["s3:*", "cloudwatch:*", "ec2:*", "dynamodb:*"],
     "Resource": "*"},
    {"Sid": "AllowIAMConsoleForCredentials", "Effect": "Allow",
     "Action": ["iam:ListUsers", "iam:GetAccountPasswordPolicy"], "Resource": "*"},
    {"Sid": "AllowManageOwnPasswordAndAccessKeys", "Effect": "Allow",
     "Action": ["iam:*AccessKey*", "iam:ChangePassword", "iam:GetUser", "iam:*ServiceSpecificCredential*",
                "iam:*SigningCertificate*"], "Resource": ["arn:aws:iam::*:user/${aws:username}"]},
    {"Sid": "DenyS3Logs", "Effect": "Deny", "Action": "s3:*", "Resource": ["arn:aws:s3:::logs", "arn:aws:s3:::logs/*"]},
    {"Sid": "DenyEC2Production", "Effect": "Deny", "Action": "ec2:*",
     "Resource": "arn:aws:ec2:*:*:instance/i-1234567890abcdef0"})
BOUNDARY_ARN = f"arn:aws:iam::{ACCOUNT}:policy/XCompanyBoundaries"
DELEGATED_USER_BOUNDARY = doc(
    {"Sid": "CreateOrChangeOnlyWithBoundary", "Effect": "Allow",
     "Action": ["iam:CreateUser", "iam:DeleteUserPolicy", "iam:AttachUserPolicy", "iam:DetachUserPolicy",
                "iam:PutUserPermissionsBoundary"], "Resource": "*",
     "Condition": {"StringEquals": {"iam:PermissionsBoundary": BOUNDARY_ARN}}},
    {"Sid": "CloudWatchAndOtherIAMTasks", "Effect": "Allow",
     "Action": ["cloudwatch:*", "iam:GetUser", "iam:ListUsers", "iam:DeleteUser", "iam:UpdateUser",
                "iam:CreateAccessKey", "iam:CreateLoginProfile", "iam:GetAccountPasswordPolicy", "iam:GetLoginProfile",
                "iam:*Group*", "iam:CreatePolicy", "iam:DeletePolicy", "iam:DeletePolicyVersion", "iam:GetPolicy",
                "iam:GetPolicyVersion", "iam:GetUserPolicy", "iam:GetRolePolicy", "iam:ListPolicies",
                "iam:ListPolicyVersions", "iam:ListEntitiesForPolicy", "iam:ListUserPolicies",
                "iam:ListAttachedUserPolicies", "iam:ListRolePolicies", "iam:ListAttachedRolePolicies",
                "iam:PutUserPolicy", "iam:SetDefaultPolicyVersion", "iam:SimulatePrincipalPolicy",
                "iam:SimulateCustomPolicy"], "Resource": "*"},
    {"Sid": "NoBoundaryPolicyEdit", "Effect": "Deny",
     "Action": ["iam:CreatePolicyVersion", "iam:DeletePolicy", "iam:DeletePolicyVersion",
                "iam:SetDefaultPolicyVersion"],
     "Resource": [BOUNDARY_ARN, f"arn:aws:iam::{ACCOUNT}:policy/DelegatedUserBoundary"]},
    {"Sid": "NoBoundaryUserDelete", "Effect": "Deny", "Action": "iam:DeleteUserPermissionsBoundary", "Resource": "*"})
DELEGATED_USER_PERMISSIONS = doc(
    {"Sid": "IAM", "Effect": "Allow", "Action": "iam:*", "Resource": "*"},
    {"Sid": "CloudWatchLimited", "Effect": "Allow",
     "Action": ["cloudwatch:GetDashboard", "cloudwatch:GetMetricData", "cloudwatch:ListDashboards",
                "cloudwatch:GetMetricStatistics", "cloudwatch:ListMetrics"], "Resource": "*"},
    {"Sid": "S3BucketContents", "Effect": "Allow", "Action": "s3:ListBucket", "Resource": "arn:aws:s3:::ZhangBucket"})
READ_ONLY = doc({"Effect": "Allow", "Action": "s3:Get*", "Resource": "*"})


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def app(request: pytest.FixtureRequest, pg_schema_factory: Any) -> Iterator[Application]:
    built = new_app(pg_schema_factory() if request.param == "postgres" else None)
    yield built
    built.close()


def code(answer: Any) -> str | None:
    return answer.code if answer.status != 200 else None


def test_delegating_user_administration_with_a_permissions_boundary(app: Application) -> None:
    """María's delegation to Zhang: Zhang creates users only with XCompanyBoundaries, manages the policies of users
    that have it, and can neither remove a boundary nor edit the boundary policies."""
    ok(app, "iam", "CreatePolicy", {"PolicyName": "XCompanyBoundaries", "PolicyDocument": X_COMPANY_BOUNDARIES})
    delegated = ok(app, "iam", "CreatePolicy", {"PolicyName": "DelegatedUserBoundary",
                                                "PolicyDocument": DELEGATED_USER_BOUNDARY}).text("Arn")
    permissions = ok(app, "iam", "CreatePolicy", {"PolicyName": "DelegatedUserPermissions",
                                                  "PolicyDocument": DELEGATED_USER_PERMISSIONS}).text("Arn")
    other = ok(app, "iam", "CreatePolicy", {"PolicyName": "Other", "PolicyDocument": READ_ONLY}).text("Arn")
    ok(app, "iam", "CreateUser", {"UserName": "Zhang", "PermissionsBoundary": delegated})
    ok(app, "iam", "AttachUserPolicy", {"UserName": "Zhang", "PolicyArn": permissions})
    made = ok(app, "iam", "CreateAccessKey", {"UserName": "Zhang"})
    zhang = Keys(made.text("AccessKeyId"), made.text("SecretAccessKey"))
    ok(app, "iam", "CreateUser", {"UserName": "Unbounded"})  # someone Zhang must not manage

    assert code(call(app, "iam", "CreateUser", {"UserName": "Nikhil"}, zhang)) == "AccessDenied"
    ok(app, "iam", "CreateUser", {"UserName": "Nikhil", "PermissionsBoundary": BOUNDARY_ARN}, zhang)
    ok(app, "iam", "AttachUserPolicy", {"UserName": "Nikhil", "PolicyArn": other}, zhang)
    ok(app, "iam", "DetachUserPolicy", {"UserName": "Nikhil", "PolicyArn": other}, zhang)
    ok(app, "iam", "PutUserPolicy", {"UserName": "Nikhil", "PolicyName": "inline", "PolicyDocument": READ_ONLY}, zhang)
    ok(app, "iam", "DeleteUserPolicy", {"UserName": "Nikhil", "PolicyName": "inline"}, zhang)
    ok(app, "iam", "PutUserPermissionsBoundary", {"UserName": "Nikhil", "PermissionsBoundary": BOUNDARY_ARN}, zhang)

    denied = [("DeleteUserPermissionsBoundary", {"UserName": "Nikhil"}),
              ("DeleteUserPermissionsBoundary", {"UserName": "Zhang"}),
              ("PutUserPermissionsBoundary", {"UserName": "Nikhil", "PermissionsBoundary": other}),
              ("AttachUserPolicy", {"UserName": "Unbounded", "PolicyArn": other}),
              ("CreatePolicyVersion", {"PolicyArn": BOUNDARY_ARN, "PolicyDocument": READ_ONLY,
                                       "SetAsDefault": "true"}),
              ("DeletePolicy", {"PolicyArn": delegated})]
    assert {a: code(call(app, "iam", a, p, zhang)) for a, p in denied} == {a: "AccessDenied" for a, _ in denied}
    got = ok(app, "iam", "GetUser", {"UserName": "Nikhil"}).text("PermissionsBoundaryArn")
    assert got == BOUNDARY_ARN


def test_tags_control_access_to_users_and_roles(app: Application) -> None:
    """The guide's tag examples: delete only users tagged status=terminated, edit the tags of employees only, tag with
    department HR or CS only, untag only the `temporary` key, and (the ABAC tutorial) assume only roles whose tags
    match the caller's."""
    ok(app, "iam", "CreateUser", {"UserName": "leaver", "Tags.member.1.Key": "status",
                                  "Tags.member.1.Value": "terminated"})
    ok(app, "iam", "CreateUser", {"UserName": "stayer", "Tags.member.1.Key": "status", "Tags.member.1.Value": "active"})
    ok(app, "iam", "TagUser", {"UserName": "stayer", "Tags.member.1.Key": "jobFunction",
                               "Tags.member.1.Value": "employee"})
    ok(app, "iam", "CreateUser", {"UserName": "contractor", "Tags.member.1.Key": "jobFunction",
                                  "Tags.member.1.Value": "contractor"})
    admin = user_with_key(app, "tag-admin", policy=doc(
        {"Effect": "Allow", "Action": "iam:DeleteUser", "Resource": "*",
         "Condition": {"StringLike": {"iam:ResourceTag/status": "terminated"}}},
        {"Effect": "Allow", "Action": ["iam:ListUserTags", "iam:TagUser", "iam:UntagUser"], "Resource": "*",
         "Condition": {"StringLike": {"iam:ResourceTag/jobFunction": "employee"}}}))
    assert code(call(app, "iam", "DeleteUser", {"UserName": "stayer"}, admin)) == "AccessDenied"
    ok(app, "iam", "DeleteUser", {"UserName": "leaver"}, admin)
    ok(app, "iam", "ListUserTags", {"UserName": "stayer"}, admin)
    ok(app, "iam", "TagUser", {"UserName": "stayer", "Tags.member.1.Key": "x", "Tags.member.1.Value": "y"}, admin)
    assert code(call(app, "iam", "ListUserTags", {"UserName": "contractor"}, admin)) == "AccessDenied"

    tagger = user_with_key(app, "department-tagger", policy=doc(
        {"Effect": "Allow", "Action": "iam:TagUser", "Resource": "*",
         "Condition": {"StringLike": {"aws:RequestTag/department": ["HR", "CS"]}}},
        {"Effect": "Allow", "Action": "iam:UntagUser", "Resource": "*",
         "Condition": {"ForAllValues:StringEquals": {"aws:TagKeys": ["temporary"]}}}))
    ok(app, "iam", "TagUser", {"UserName": "contractor", "Tags.member.1.Key": "department",
                               "Tags.member.1.Value": "HR"}, tagger)
    assert code(call(app, "iam", "TagUser", {"UserName": "contractor", "Tags.member.1.Key": "department",
                                             "Tags.member.1.Value": "Sales"}, tagger)) == "AccessDenied"
    ok(app, "iam", "UntagUser", {"UserName": "contractor", "TagKeys.member.1": "temporary"}, tagger)
    assert code(call(app, "iam", "UntagUser", {"UserName": "contractor", "TagKeys.member.1": "department"},
                     tagger)) == "AccessDenied"

    trust = doc({"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"}, "Action": "sts:AssumeRole"})
    for name, project in (("access-peg-eng", "peg"), ("access-uni-eng", "uni")):
        ok(app, "iam", "CreateRole", {"RoleName": name, "AssumeRolePolicyDocument": trust,
                                      "Tags.member.1.Key": "access-project", "Tags.member.1.Value": project,
                                      "Tags.member.2.Key": "access-team", "Tags.member.2.Value": "eng",
                                      "Tags.member.3.Key": "cost-center", "Tags.member.3.Value": "987654"})
    arnav = user_with_key(app, "access-Arnav-peg-eng", policy=doc(
        {"Sid": "TutorialAssumeRole", "Effect": "Allow", "Action": "sts:AssumeRole",
         "Resource": f"arn:aws:iam::{ACCOUNT}:role/access-*",
         "Condition": {"StringEquals": {"iam:ResourceTag/access-project": "${aws:PrincipalTag/access-project}",
                                        "iam:ResourceTag/access-team": "${aws:PrincipalTag/access-team}",
                                        "iam:ResourceTag/cost-center": "${aws:PrincipalTag/cost-center}"}}}))
    ok(app, "iam", "TagUser", {"UserName": "access-Arnav-peg-eng", "Tags.member.1.Key": "access-project",
                               "Tags.member.1.Value": "peg", "Tags.member.2.Key": "access-team",
                               "Tags.member.2.Value": "eng", "Tags.member.3.Key": "cost-center",
                               "Tags.member.3.Value": "987654"})
    ok(app, "sts", "AssumeRole", {"RoleArn": f"arn:aws:iam::{ACCOUNT}:role/access-peg-eng",
                                  "RoleSessionName": "arnav"}, arnav)
    assert code(call(app, "sts", "AssumeRole", {"RoleArn": f"arn:aws:iam::{ACCOUNT}:role/access-uni-eng",
                                                "RoleSessionName": "arnav"}, arnav)) == "AccessDenied"
