"""Input validation as AWS's front end reports it: ValidationError naming every problem, in AWS's sentence form,
for names, paths, lengths, enums and missing members; nothing is changed by a rejected request."""

from __future__ import annotations

from typing import Any

import pytest

from tests.e2e.iam_support import POLICY, TRUST, rejected, send, signed, status_of, unvalidated
from tests.support.servers import Endpoint

pytestmark = pytest.mark.e2e

NAME_PATTERN = r"[\w+=,.@-]+"
PATH_PATTERN = r"(\u002F)|(\u002F[\u0021-\u007E]+\u002F)"


def test_one_bad_name_message(iam: Any) -> None:
    response = rejected(iam, "ValidationError", iam.create_user, UserName="bad name!")
    assert response["Error"]["Message"] == (
        "1 validation error detected: Value at 'userName' failed to satisfy constraint: "
        f"Member must satisfy regular expression pattern: {NAME_PATTERN}")
    assert status_of(response) == 400
    assert response["Error"]["Type"] == "Sender"


def test_every_problem_is_reported(iam: Any) -> None:
    response = rejected(iam, "ValidationError", iam.create_user, UserName="bad name", Path="nope")
    message = response["Error"]["Message"]
    assert message.startswith("2 validation errors detected: ")
    assert f"Value at 'userName' failed to satisfy constraint: Member must satisfy regular " \
           f"expression pattern: {NAME_PATTERN}" in message
    assert f"Value at 'path' failed to satisfy constraint: Member must satisfy regular expression " \
           f"pattern: {PATH_PATTERN}" in message


def test_length_message(iam: Any) -> None:
    response = rejected(iam, "ValidationError", iam.create_user, UserName="u" * 65)
    assert response["Error"]["Message"] == (
        "1 validation error detected: Value at 'userName' failed to satisfy constraint: "
        "Member must have length less than or equal to 64")


@pytest.mark.parametrize(("operation", "params", "member"), [
    ("create_user", {"UserName": "a/b"}, "userName"),
    ("create_user", {"UserName": "ok", "Path": "/no-trailing"}, "path"),
    ("create_user", {"UserName": "ok", "Path": "/" + "a" * 511 + "/"}, "path"),
    ("create_group", {"GroupName": "a b"}, "groupName"),
    ("create_group", {"GroupName": "ok", "Path": "relative/"}, "path"),
    ("create_role", {"RoleName": "tab\tname", "AssumeRolePolicyDocument": TRUST}, "roleName"),
    ("create_role", {"RoleName": "ok", "Path": "/a//b/x y/", "AssumeRolePolicyDocument": TRUST}, "path"),
    ("create_policy", {"PolicyName": "semi;colon", "PolicyDocument": POLICY}, "policyName"),
    ("create_policy", {"PolicyName": "ok", "PolicyDocument": POLICY, "Path": "/sp ace/"}, "path"),
    ("create_policy", {"PolicyName": "ok", "PolicyDocument": POLICY, "Description": "d" * 1001}, "description"),
    ("create_instance_profile", {"InstanceProfileName": "x" * 129}, "instanceProfileName"),
    ("put_user_policy", {"UserName": "u", "PolicyName": "p q", "PolicyDocument": POLICY}, "policyName"),
    ("list_users", {"PathPrefix": "users"}, "pathPrefix"),
    ("list_roles", {"MaxItems": 1001}, "maxItems"),
    ("list_policies", {"Scope": "Everything"}, "scope"),
    ("list_policies", {"PolicyUsageFilter": "Sometimes"}, "policyUsageFilter"),
    ("update_access_key", {"AccessKeyId": "AKIAAAAAAAAAAAAAAAAA", "Status": "Disabled"}, "status"),
    ("create_account_alias", {"AccountAlias": "Has_Upper"}, "accountAlias"),
    ("create_policy", {"PolicyName": "ctl", "PolicyDocument": "{\u0001}"}, "policyDocument"),
])
def test_member_constraints(iam: Any, operation: str, params: dict[str, Any], member: str) -> None:
    iam.create_user(UserName="u")
    response = rejected(iam, "ValidationError", getattr(iam, operation), **params)
    message = response["Error"]["Message"]
    assert message.startswith("1 validation error detected: Value "), message
    assert f" at '{member}' failed to satisfy constraint: Member must " in message, message


def test_names_at_the_limits_are_accepted(iam: Any) -> None:
    iam.create_user(UserName="u" * 64, Path="/" + "p" * 510 + "/")
    iam.create_user(UserName="+=,.@_-")
    iam.create_group(GroupName="g" * 128)
    iam.create_policy(PolicyName="p" * 128, PolicyDocument=POLICY)
    iam.create_instance_profile(InstanceProfileName="i" * 128)
    assert {u["UserName"] for u in iam.list_users()["Users"]} == {"u" * 64, "+=,.@_-"}


def test_missing_and_empty_members(gh: Endpoint, iam: Any) -> None:
    loose = unvalidated(gh)
    response = rejected(iam, "ValidationError", loose.create_user)
    assert response["Error"]["Message"] == (
        "1 validation error detected: Value null at 'userName' failed to satisfy constraint: "
        "Member must not be null")
    response = rejected(iam, "ValidationError", loose.create_role, RoleName="r")
    assert "'assumeRolePolicyDocument'" in response["Error"]["Message"]
    response = rejected(iam, "ValidationError", loose.create_user, UserName="")
    assert "Member must have length greater than or equal to 1" in response["Error"]["Message"]


def test_missing_member_on_the_raw_wire(gh: Endpoint, iam: Any) -> None:
    before = iam.list_users()["Users"]
    status, body = send(signed(gh.url, "Action=CreateUser&Version=2010-05-08"))
    assert status == 400 and "<Code>ValidationError</Code>" in body
    assert "Value null at &apos;userName&apos;" in body or "Value null at 'userName'" in body
    assert iam.list_users()["Users"] == before

