"""Passwords end to end: the account password policy (every field, AWS's defaults and bounds), login profiles,
ChangePassword with the policy and the reuse rule, and AWS's PasswordPolicyViolation wording."""

from __future__ import annotations

from typing import Any

import pytest

from tests.e2e.iam_support import expect, rejected, unvalidated
from tests.support import ACCOUNT
from tests.support.servers import Endpoint

pytestmark = pytest.mark.e2e

STRONG, STRONG2 = "Correct-Horse-Battery-9", "Tr0ub4dor&3-Quartz-Lemon"
STRICT = dict(MinimumPasswordLength=12, RequireSymbols=True, RequireNumbers=True, RequireUppercaseCharacters=True,
              RequireLowercaseCharacters=True, AllowUsersToChangePassword=True, MaxPasswordAge=90,
              PasswordReusePrevention=3, HardExpiry=False)


def user_client(gh: Endpoint, iam: Any, name: str) -> Any:
    key = iam.create_access_key(UserName=name)["AccessKey"]
    return gh.client("iam", key["AccessKeyId"], key["SecretAccessKey"])


def test_policy_round_trip_defaults_and_delete(iam: Any) -> None:
    expect("NoSuchEntity", iam.get_account_password_policy)
    iam.update_account_password_policy(**STRICT)
    got = iam.get_account_password_policy()["PasswordPolicy"]
    assert got == {**STRICT, "ExpirePasswords": True}
    iam.update_account_password_policy(RequireSymbols=True)  # what a request leaves out takes AWS's default
    assert iam.get_account_password_policy()["PasswordPolicy"] == {
        "MinimumPasswordLength": 6, "RequireSymbols": True, "RequireNumbers": False,
        "RequireUppercaseCharacters": False, "RequireLowercaseCharacters": False,
        "AllowUsersToChangePassword": False, "ExpirePasswords": False}
    iam.delete_account_password_policy()
    response = expect("NoSuchEntity", iam.get_account_password_policy)
    assert response["Error"]["Message"] == f"The Password Policy with domain name {ACCOUNT} cannot be found."
    expect("NoSuchEntity", iam.delete_account_password_policy)


@pytest.mark.parametrize(("field", "value"), [("MinimumPasswordLength", 5), ("MinimumPasswordLength", 129),
                                              ("MaxPasswordAge", 1096), ("PasswordReusePrevention", 25)])
def test_policy_bounds(gh: Endpoint, iam: Any, field: str, value: int) -> None:
    iam.update_account_password_policy(**STRICT)
    raw = unvalidated(gh)  # botocore itself refuses values below a minimum
    rejected(iam, "ValidationError", raw.update_account_password_policy, **{field: value})
    assert iam.get_account_password_policy()["PasswordPolicy"]["MinimumPasswordLength"] == 12


@pytest.mark.parametrize(("password", "message"), [
    ("Sh0rt!x", "Password should have a minimum length of 12"),
    ("ALL-UPPER-CASE-42", "Password should have at least one lowercase letter"),
    ("all-lower-case-42", "Password should have at least one uppercase letter"),
    ("No-Digits-Here-At-All", "Password should have at least one number"),
    ("NoSymbols1234567", "Password should have at least one symbol"),
])
def test_violations_use_aws_wording_and_change_nothing(iam: Any, password: str, message: str) -> None:
    iam.update_account_password_policy(**STRICT)
    iam.create_user(UserName="weak")
    response = rejected(iam, "PasswordPolicyViolation", iam.create_login_profile, UserName="weak", Password=password)
    assert response["Error"]["Message"] == message
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 400


def test_without_a_policy_aws_default_rules_apply(iam: Any) -> None:
    iam.create_user(UserName="dflt")
    response = expect("PasswordPolicyViolation", iam.create_login_profile, UserName="dflt", Password="abcdefgh1")
    assert "three of the following character types" in response["Error"]["Message"]
    iam.create_login_profile(UserName="dflt", Password="abcdefG1")


def test_login_profile_lifecycle(iam: Any) -> None:
    iam.create_user(UserName="life")
    expect("NoSuchEntity", iam.get_login_profile, UserName="life")
    created = iam.create_login_profile(UserName="life", Password=STRONG, PasswordResetRequired=True)["LoginProfile"]
    assert (created["UserName"], created["PasswordResetRequired"]) == ("life", True)
    got = iam.get_login_profile(UserName="life")["LoginProfile"]
    assert got["CreateDate"] == created["CreateDate"] and got["PasswordResetRequired"] is True
    response = expect("EntityAlreadyExists", iam.create_login_profile, UserName="life", Password=STRONG)
    assert response["Error"]["Message"] == "Login Profile for user life already exists."
    iam.update_login_profile(UserName="life", PasswordResetRequired=False)
    assert iam.get_login_profile(UserName="life")["LoginProfile"]["PasswordResetRequired"] is False
    rejected(iam, "PasswordPolicyViolation", iam.update_login_profile, UserName="life", Password="weak")
    response = expect("DeleteConflict", iam.delete_user, UserName="life")
    assert response["Error"]["Message"] == "Cannot delete entity, must delete login profile first."
    iam.delete_login_profile(UserName="life")
    response = expect("NoSuchEntity", iam.get_login_profile, UserName="life")
    assert response["Error"]["Message"] == "Login Profile for User life cannot be found."
    expect("NoSuchEntity", iam.delete_login_profile, UserName="life")
    expect("NoSuchEntity", iam.create_login_profile, UserName="ghost", Password=STRONG)
    iam.delete_user(UserName="life")


def test_change_password_follows_policy_and_reuse_rule(gh: Endpoint, iam: Any) -> None:
    iam.update_account_password_policy(**STRICT)
    iam.create_user(UserName="changer")
    iam.create_login_profile(UserName="changer", Password=STRONG)
    me = user_client(gh, iam, "changer")  # no policy at all: AllowUsersToChangePassword is the permission
    expect("AccessDenied", me.change_password, OldPassword="Not-The-Password-1", NewPassword="Another-Good-One-7")
    response = expect("PasswordPolicyViolation", me.change_password, OldPassword=STRONG, NewPassword="weak")
    assert response["Error"]["Message"] == "Password should have a minimum length of 12"
    me.change_password(OldPassword=STRONG, NewPassword=STRONG2)
    response = expect("PasswordPolicyViolation", me.change_password, OldPassword=STRONG2, NewPassword=STRONG)
    assert response["Error"]["Message"] == "Password should not be one of your previous 3 passwords"
    third, fourth = "Third-Password-333", "Fourth-Password-444"
    me.change_password(OldPassword=STRONG2, NewPassword=third)
    me.change_password(OldPassword=third, NewPassword=fourth)
    me.change_password(OldPassword=fourth, NewPassword=STRONG)  # the first one is now 4 passwords back


def test_change_password_needs_permission_unless_the_policy_allows(gh: Endpoint, iam: Any) -> None:
    iam.update_account_password_policy(**{**STRICT, "AllowUsersToChangePassword": False})
    iam.create_user(UserName="asker")
    iam.create_login_profile(UserName="asker", Password=STRONG)
    me = user_client(gh, iam, "asker")
    expect("AccessDenied", me.change_password, OldPassword=STRONG, NewPassword=STRONG2)
    iam.attach_user_policy(UserName="asker", PolicyArn="arn:aws:iam::aws:policy/IAMUserChangePassword")
    me.change_password(OldPassword=STRONG, NewPassword=STRONG2)


def test_change_password_is_for_iam_users_with_a_password(gh: Endpoint, iam: Any) -> None:
    expect("InvalidUserType", iam.change_password, OldPassword=STRONG, NewPassword=STRONG2)  # the root
    iam.create_user(UserName="nopass")
    iam.attach_user_policy(UserName="nopass", PolicyArn="arn:aws:iam::aws:policy/IAMUserChangePassword")
    me = user_client(gh, iam, "nopass")
    expect("NoSuchEntity", me.change_password, OldPassword=STRONG, NewPassword=STRONG2)


def test_users_read_their_own_profile_with_their_keys(gh: Endpoint, iam: Any) -> None:
    iam.create_user(UserName="self")
    iam.put_user_policy(UserName="self", PolicyName="own", PolicyDocument=(
        '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iam:*LoginProfile",'
        '"Resource":"arn:aws:iam::*:user/${aws:username}"}]}'))
    me = user_client(gh, iam, "self")
    me.create_login_profile(Password=STRONG)  # UserName defaults to the caller's own user
    assert me.get_login_profile()["LoginProfile"]["UserName"] == "self"
    iam.create_user(UserName="other")
    expect("AccessDenied", me.create_login_profile, UserName="other", Password=STRONG)
