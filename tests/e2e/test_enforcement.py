"""Policies enforced on every IAM call by a non-root principal, end to end through boto3 and the aws CLI."""

from __future__ import annotations

import json

import pytest
from botocore.exceptions import ClientError

from tests.support import ACCOUNT

pytestmark = pytest.mark.e2e

ADMIN = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]})


def doc(*statements: dict) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def user_with(iam, name: str, *arns: str, inline: str | None = None, boundary: str | None = None,
              tags: list | None = None) -> tuple[str, str]:
    kwargs: dict = {}
    if boundary:
        kwargs["PermissionsBoundary"] = boundary
    if tags:
        kwargs["Tags"] = tags
    iam.create_user(UserName=name, **kwargs)
    for arn in arns:
        iam.attach_user_policy(UserName=name, PolicyArn=arn)
    if inline:
        iam.put_user_policy(UserName=name, PolicyName="inline", PolicyDocument=inline)
    key = iam.create_access_key(UserName=name)["AccessKey"]
    return key["AccessKeyId"], key["SecretAccessKey"]


def error(fn, *args, **kwargs) -> dict:
    with pytest.raises(ClientError) as info:
        fn(*args, **kwargs)
    return info.value.response["Error"] | {"Status": info.value.response["ResponseMetadata"]["HTTPStatusCode"]}


def test_new_user_without_policies_is_denied_everything_but_caller_identity(gh):
    iam = gh.client("iam")
    key = user_with(iam, "nobody")
    assert gh.client("sts", *key).get_caller_identity()["Arn"] == f"arn:aws:iam::{ACCOUNT}:user/nobody"
    err = error(gh.client("iam", *key).list_users)
    assert err["Code"] == "AccessDenied" and err["Status"] == 403
    assert err["Message"] == (f"User: arn:aws:iam::{ACCOUNT}:user/nobody is not authorized to perform: iam:ListUsers "
                              f"on resource: arn:aws:iam::{ACCOUNT}:user/ because no identity-based policy allows "
                              "the iam:ListUsers action")


def test_read_only_user_lists_but_cannot_create_and_nothing_changes(gh):
    iam = gh.client("iam")
    mine = gh.client("iam", *user_with(iam, "reader", "arn:aws:iam::aws:policy/IAMReadOnlyAccess"))
    assert "reader" in [u["UserName"] for u in mine.list_users()["Users"]]
    mine.get_user(UserName="reader")
    err = error(mine.create_user, UserName="x")
    assert err["Message"] == (f"User: arn:aws:iam::{ACCOUNT}:user/reader is not authorized to perform: "
                              f"iam:CreateUser on resource: arn:aws:iam::{ACCOUNT}:user/x because no identity-based "
                              "policy allows the iam:CreateUser action")
    assert error(iam.get_user, UserName="x")["Code"] == "NoSuchEntity"


def test_denied_caller_learns_nothing_about_existence(gh):
    iam = gh.client("iam")
    mine = gh.client("iam", *user_with(iam, "snoop"))
    assert error(mine.get_user, UserName="ghost")["Code"] == "AccessDenied"
    assert error(mine.get_role, RoleName="ghost")["Code"] == "AccessDenied"


def test_group_policies_apply_to_members(gh):
    iam = gh.client("iam")
    key = user_with(iam, "member")
    mine = gh.client("iam", *key)
    assert error(mine.list_roles)["Code"] == "AccessDenied"
    iam.create_group(GroupName="listers")
    iam.put_group_policy(GroupName="listers", PolicyName="list",
                         PolicyDocument=doc({"Effect": "Allow", "Action": "iam:ListRoles", "Resource": "*"}))
    iam.add_user_to_group(GroupName="listers", UserName="member")
    mine.list_roles()  # the change is visible at once: caches are keyed by the account's revision
    iam.remove_user_from_group(GroupName="listers", UserName="member")
    assert error(mine.list_roles)["Code"] == "AccessDenied"


def test_boundary_limits_an_admin(gh):
    iam = gh.client("iam")
    boundary = iam.create_policy(PolicyName="only-list", PolicyDocument=doc(
        {"Effect": "Allow", "Action": "iam:List*", "Resource": "*"}))["Policy"]["Arn"]
    mine = gh.client("iam", *user_with(iam, "bounded", inline=ADMIN, boundary=boundary))
    mine.list_roles()
    err = error(mine.create_group, GroupName="g")
    assert err["Message"].endswith("because no permissions boundary allows the iam:CreateGroup action"), err
    iam.delete_user_permissions_boundary(UserName="bounded")
    mine.create_group(GroupName="g")


def test_explicit_deny_wins_and_names_the_policy(gh):
    iam = gh.client("iam")
    deny = iam.create_policy(PolicyName="no-delete", PolicyDocument=doc(
        {"Effect": "Deny", "Action": "iam:DeleteUser", "Resource": "*"}))["Policy"]["Arn"]
    mine = gh.client("iam", *user_with(iam, "strong", deny, inline=ADMIN))
    iam.create_user(UserName="victim")
    err = error(mine.delete_user, UserName="victim")
    assert "with an explicit deny in an identity-based policy" in err["Message"], err
    assert iam.get_user(UserName="victim")


def test_mfa_deny_blocks_long_term_keys(gh):
    iam = gh.client("iam")
    policy = doc({"Effect": "Allow", "Action": "*", "Resource": "*"},
                 {"Effect": "Deny", "Action": "iam:DeleteUser", "Resource": "*",
                  "Condition": {"BoolIfExists": {"aws:MultiFactorAuthPresent": "false"}}})
    mine = gh.client("iam", *user_with(iam, "nomfa", inline=policy))
    iam.create_user(UserName="victim")
    assert error(mine.delete_user, UserName="victim")["Code"] == "AccessDenied"
    mine.get_user(UserName="victim")


def test_policy_variables_and_principal_tags(gh):
    iam = gh.client("iam")
    own = doc({"Effect": "Allow", "Action": ["iam:GetUser", "iam:ListAccessKeys"],
               "Resource": "arn:aws:iam::*:user/${aws:username}"},
              {"Effect": "Allow", "Action": "iam:ListRoles", "Resource": "*",
               "Condition": {"StringEquals": {"aws:PrincipalTag/team": "blue"}}})
    blue = gh.client("iam", *user_with(iam, "blue", inline=own, tags=[{"Key": "team", "Value": "blue"}]))
    red = gh.client("iam", *user_with(iam, "red", inline=own, tags=[{"Key": "team", "Value": "red"}]))
    blue.get_user(UserName="blue")
    blue.list_access_keys(UserName="blue")
    assert error(blue.get_user, UserName="red")["Code"] == "AccessDenied"
    blue.list_roles()
    assert error(red.list_roles)["Code"] == "AccessDenied"


def test_resource_tag_conditions(gh):
    iam = gh.client("iam")
    iam.create_role(RoleName="prod-role", AssumeRolePolicyDocument=doc(
        {"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}),
        Tags=[{"Key": "env", "Value": "prod"}])
    iam.create_role(RoleName="dev-role", AssumeRolePolicyDocument=doc(
        {"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}),
        Tags=[{"Key": "env", "Value": "dev"}])
    mine = gh.client("iam", *user_with(iam, "devops", inline=doc(
        {"Effect": "Allow", "Action": "iam:GetRole", "Resource": "*",
         "Condition": {"StringEquals": {"iam:ResourceTag/env": "dev"}}})))
    mine.get_role(RoleName="dev-role")
    assert error(mine.get_role, RoleName="prod-role")["Code"] == "AccessDenied"


def test_request_tags_and_tag_keys_conditions(gh):
    iam = gh.client("iam")
    mine = gh.client("iam", *user_with(iam, "tagger", inline=doc(
        {"Effect": "Allow", "Action": "iam:CreateUser", "Resource": "*",
         "Condition": {"StringEquals": {"aws:RequestTag/team": "blue"},
                       "ForAllValues:StringEquals": {"aws:TagKeys": ["team"]}}})))
    mine.create_user(UserName="tagged", Tags=[{"Key": "team", "Value": "blue"}])
    assert error(mine.create_user, UserName="untagged")["Code"] == "AccessDenied"
    assert error(mine.create_user, UserName="extra", Tags=[{"Key": "team", "Value": "blue"},
                                                           {"Key": "cost", "Value": "1"}])["Code"] == "AccessDenied"


def test_permissions_boundary_condition_on_create_user(gh):
    iam = gh.client("iam")
    boundary = iam.create_policy(PolicyName="b", PolicyDocument=doc(
        {"Effect": "Allow", "Action": "iam:List*", "Resource": "*"}))["Policy"]["Arn"]
    mine = gh.client("iam", *user_with(iam, "delegate", inline=doc(
        {"Effect": "Allow", "Action": "iam:CreateUser", "Resource": "*",
         "Condition": {"StringEquals": {"iam:PermissionsBoundary": boundary}}})))
    mine.create_user(UserName="bounded-child", PermissionsBoundary=boundary)
    assert error(mine.create_user, UserName="free-child")["Code"] == "AccessDenied"


def test_pass_role_is_checked_when_adding_a_role_to_an_instance_profile(gh):
    iam = gh.client("iam")
    iam.create_role(RoleName="svc", AssumeRolePolicyDocument=doc(
        {"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}))
    base = {"Effect": "Allow", "Action": ["iam:CreateInstanceProfile", "iam:AddRoleToInstanceProfile"],
            "Resource": "*"}
    mine = gh.client("iam", *user_with(iam, "nopass", inline=doc(base)))
    mine.create_instance_profile(InstanceProfileName="ip")
    assert error(mine.add_role_to_instance_profile, InstanceProfileName="ip", RoleName="svc")["Code"] == \
        "AccessDenied"
    assert iam.get_instance_profile(InstanceProfileName="ip")["InstanceProfile"]["Roles"] == []
    iam.put_user_policy(UserName="nopass", PolicyName="inline", PolicyDocument=doc(base, {
        "Effect": "Allow", "Action": "iam:PassRole", "Resource": "*",
        "Condition": {"StringEquals": {"iam:PassedToService": "ec2.amazonaws.com"}}}))
    mine.add_role_to_instance_profile(InstanceProfileName="ip", RoleName="svc")


def test_policy_arn_condition_on_attach(gh):
    iam = gh.client("iam")
    iam.create_user(UserName="target")
    mine = gh.client("iam", *user_with(iam, "attacher", inline=doc(
        {"Effect": "Allow", "Action": "iam:AttachUserPolicy", "Resource": "*",
         "Condition": {"ArnEquals": {"iam:PolicyARN": "arn:aws:iam::aws:policy/IAMReadOnlyAccess"}}})))
    mine.attach_user_policy(UserName="target", PolicyArn="arn:aws:iam::aws:policy/IAMReadOnlyAccess")
    assert error(mine.attach_user_policy, UserName="target",
                 PolicyArn="arn:aws:iam::aws:policy/AdministratorAccess")["Code"] == "AccessDenied"


def test_source_ip_condition(gh):
    iam = gh.client("iam")
    here = gh.client("iam", *user_with(iam, "local", inline=doc(
        {"Effect": "Allow", "Action": "iam:ListUsers", "Resource": "*",
         "Condition": {"IpAddress": {"aws:SourceIp": "127.0.0.0/8"}}})))
    elsewhere = gh.client("iam", *user_with(iam, "remote", inline=doc(
        {"Effect": "Allow", "Action": "iam:ListUsers", "Resource": "*",
         "Condition": {"IpAddress": {"aws:SourceIp": "203.0.113.0/24"}}})))
    here.list_users()
    assert error(elsewhere.list_users)["Code"] == "AccessDenied"


def test_simulate_custom_policy_shapes(gh):
    iam = gh.client("iam")
    pol = doc({"Sid": "Read", "Effect": "Allow", "Action": "s3:Get*", "Resource": "arn:aws:s3:::bkt/*"},
              {"Sid": "NoSecrets", "Effect": "Deny", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::bkt/secret/*"},
              {"Effect": "Allow", "Action": "s3:ListBucket", "Resource": "*",
               "Condition": {"StringEquals": {"s3:prefix": "home/"}}})
    res = iam.simulate_custom_policy(PolicyInputList=[pol], ActionNames=["s3:GetObject", "s3:PutObject"],
                                     ResourceArns=["arn:aws:s3:::bkt/a", "arn:aws:s3:::bkt/secret/x"])
    got = {(r["EvalActionName"], r["EvalResourceName"]): r for r in res["EvaluationResults"]}
    allowed = got[("s3:GetObject", "arn:aws:s3:::bkt/a")]
    assert allowed["EvalDecision"] == "allowed"
    assert allowed["MatchedStatements"][0]["SourcePolicyId"] == "PolicyInputList.1"
    assert allowed["MatchedStatements"][0]["StartPosition"]["Line"] >= 1
    assert got[("s3:GetObject", "arn:aws:s3:::bkt/secret/x")]["EvalDecision"] == "explicitDeny"
    assert got[("s3:PutObject", "arn:aws:s3:::bkt/a")]["EvalDecision"] == "implicitDeny"
    listing = iam.simulate_custom_policy(PolicyInputList=[pol], ActionNames=["s3:ListBucket"])
    assert listing["EvaluationResults"][0]["MissingContextValues"] == ["s3:prefix"]
    keys = iam.get_context_keys_for_custom_policy(PolicyInputList=[pol])["ContextKeyNames"]
    assert keys == ["s3:prefix"]
    cli = gh.aws("iam", "simulate-custom-policy", "--policy-input-list", pol, "--action-names", "s3:GetObject",
                 "--resource-arns", "arn:aws:s3:::bkt/a")
    assert cli.returncode == 0, cli.stderr
    assert json.loads(cli.stdout)["EvaluationResults"][0]["EvalDecision"] == "allowed"


def test_simulate_principal_policy_uses_stored_policies_and_boundary(gh):
    iam = gh.client("iam")
    boundary = iam.create_policy(PolicyName="sb", PolicyDocument=doc(
        {"Effect": "Allow", "Action": ["iam:ListUsers", "iam:GetUser"], "Resource": "*"}))["Policy"]["Arn"]
    user_with(iam, "sim", "arn:aws:iam::aws:policy/IAMReadOnlyAccess", boundary=boundary)
    arn = iam.get_user(UserName="sim")["User"]["Arn"]
    res = iam.simulate_principal_policy(PolicySourceArn=arn, ActionNames=["iam:ListUsers", "iam:ListRoles",
                                                                          "iam:CreateUser"])
    got = {r["EvalActionName"]: r for r in res["EvaluationResults"]}
    assert got["iam:ListUsers"]["EvalDecision"] == "allowed"
    assert got["iam:ListRoles"]["EvalDecision"] == "implicitDeny"
    assert got["iam:ListRoles"]["PermissionsBoundaryDecisionDetail"]["AllowedByPermissionsBoundary"] is False
    assert got["iam:CreateUser"]["EvalDecision"] == "implicitDeny"
    assert got["iam:ListUsers"]["MatchedStatements"][0]["SourcePolicyType"] in ("aws-managed", "user-managed")


def test_simulate_needs_permission(gh):
    iam = gh.client("iam")
    mine = gh.client("iam", *user_with(iam, "nosim"))
    assert error(mine.simulate_custom_policy, PolicyInputList=[ADMIN], ActionNames=["s3:GetObject"])["Code"] == \
        "AccessDenied"


def test_no_enforce_dev_mode_allows_any_signed_caller(tmp_path):
    from tests.support.servers import running

    with running("--dev", "--no-enforce") as ep:
        iam = ep.client("iam")
        key = user_with(iam, "free")
        ep.client("iam", *key).create_user(UserName="made-by-free")
        assert error(ep.client("iam", key[0], "wrong-secret").list_users)["Code"] == "SignatureDoesNotMatch"
