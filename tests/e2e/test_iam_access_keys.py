"""Access keys end to end: create (at most two), list, deactivate and reactivate, delete, last-used data, and
what a new user's key may do before any policy allows it (sign in, be denied everything in IAM)."""

from __future__ import annotations

import datetime as dt
import json
import re
from typing import Any

import pytest

from tests.e2e.iam_support import ARN, POLICY, READ_ONLY, expect, rejected, status_of
from tests.support.servers import Endpoint

pytestmark = pytest.mark.e2e

KEY_ID = re.compile(r"AKIA[A-Z2-7]{16}")


def _user_key(iam: Any, user: str = "u") -> dict[str, Any]:
    iam.create_user(UserName=user)
    return iam.create_access_key(UserName=user)["AccessKey"]


def test_create_access_key_shape(iam: Any) -> None:
    iam.create_user(UserName="u")
    key = iam.create_access_key(UserName="u")["AccessKey"]
    assert KEY_ID.fullmatch(key["AccessKeyId"])
    assert len(key["SecretAccessKey"]) == 40 and key["Status"] == "Active" and key["UserName"] == "u"
    assert key["CreateDate"].tzinfo is not None
    [listed] = iam.list_access_keys(UserName="u")["AccessKeyMetadata"]
    assert listed == {"UserName": "u", "AccessKeyId": key["AccessKeyId"], "Status": "Active",
                      "CreateDate": key["CreateDate"]}


def test_at_most_two_keys_per_user(iam: Any) -> None:
    iam.create_user(UserName="u")
    first = iam.create_access_key(UserName="u")["AccessKey"]["AccessKeyId"]
    second = iam.create_access_key(UserName="u")["AccessKey"]["AccessKeyId"]
    assert first != second
    response = rejected(iam, "LimitExceeded", iam.create_access_key, UserName="u")
    assert response["Error"]["Message"] == "Cannot exceed quota for AccessKeysPerUser: 2"
    assert status_of(response) == 409
    # An inactive key still counts.
    iam.update_access_key(UserName="u", AccessKeyId=first, Status="Inactive")
    rejected(iam, "LimitExceeded", iam.create_access_key, UserName="u")
    iam.delete_access_key(UserName="u", AccessKeyId=first)
    iam.create_access_key(UserName="u")
    assert len(iam.list_access_keys(UserName="u")["AccessKeyMetadata"]) == 2


def test_root_keys(iam: Any) -> None:
    root = iam.list_access_keys()["AccessKeyMetadata"]
    assert [k["AccessKeyId"] for k in root] == ["test"]
    extra = iam.create_access_key()["AccessKey"]
    assert "UserName" not in extra
    rejected(iam, "LimitExceeded", iam.create_access_key)
    assert {k["AccessKeyId"] for k in iam.list_access_keys()["AccessKeyMetadata"]} == {"test", extra["AccessKeyId"]}
    iam.delete_access_key(AccessKeyId=extra["AccessKeyId"])
    assert iam.get_account_summary()["SummaryMap"]["AccountAccessKeysPresent"] == 1


def test_key_errors_change_nothing(iam: Any) -> None:
    key = _user_key(iam, "owner")["AccessKeyId"]
    iam.create_user(UserName="other")
    rejected(iam, "NoSuchEntity", iam.create_access_key, UserName="ghost")
    rejected(iam, "NoSuchEntity", iam.list_access_keys, UserName="ghost")
    response = rejected(iam, "NoSuchEntity", iam.delete_access_key, UserName="other", AccessKeyId=key)
    assert response["Error"]["Message"] == f"The Access Key with id {key} cannot be found."
    rejected(iam, "NoSuchEntity", iam.update_access_key, UserName="other", AccessKeyId=key, Status="Inactive")
    rejected(iam, "NoSuchEntity", iam.delete_access_key, UserName="owner", AccessKeyId="AKIAAAAAAAAAAAAAAAAA")
    rejected(iam, "ValidationError", iam.update_access_key, UserName="owner", AccessKeyId=key, Status="Paused")


def test_inactive_key_is_an_invalid_client_token(gh: Endpoint, iam: Any) -> None:
    key = _user_key(iam)
    sts = gh.client("sts", key["AccessKeyId"], key["SecretAccessKey"])
    assert sts.get_caller_identity()["Arn"] == f"{ARN}:user/u"
    iam.update_access_key(UserName="u", AccessKeyId=key["AccessKeyId"], Status="Inactive")
    assert iam.list_access_keys(UserName="u")["AccessKeyMetadata"][0]["Status"] == "Inactive"
    response = expect("InvalidClientTokenId", sts.get_caller_identity)
    assert response["Error"]["Message"] == "The security token included in the request is invalid."
    assert status_of(response) == 403
    expect("InvalidClientTokenId", gh.client("iam", key["AccessKeyId"], key["SecretAccessKey"]).list_users)
    iam.update_access_key(UserName="u", AccessKeyId=key["AccessKeyId"], Status="Active")
    assert sts.get_caller_identity()["UserId"] == iam.get_user(UserName="u")["User"]["UserId"]


def test_deleted_key_is_an_invalid_client_token(gh: Endpoint, iam: Any) -> None:
    key = _user_key(iam)
    sts = gh.client("sts", key["AccessKeyId"], key["SecretAccessKey"])
    sts.get_caller_identity()
    iam.delete_access_key(UserName="u", AccessKeyId=key["AccessKeyId"])
    expect("InvalidClientTokenId", sts.get_caller_identity)
    assert iam.list_access_keys(UserName="u")["AccessKeyMetadata"] == []


def test_inactive_root_key_is_an_invalid_client_token(gh: Endpoint, iam: Any) -> None:
    spare = iam.create_access_key()["AccessKey"]
    other = gh.client("iam", spare["AccessKeyId"], spare["SecretAccessKey"])
    assert other.list_users()["Users"] == []
    iam.update_access_key(AccessKeyId=spare["AccessKeyId"], Status="Inactive")
    expect("InvalidClientTokenId", other.list_users)
    iam.update_access_key(AccessKeyId=spare["AccessKeyId"], Status="Active")
    assert other.get_user()["User"]["Arn"] == f"{ARN}:root"


def test_access_key_last_used(gh: Endpoint, iam: Any) -> None:
    key = _user_key(iam)
    before = iam.get_access_key_last_used(AccessKeyId=key["AccessKeyId"])
    assert before["UserName"] == "u"
    assert before["AccessKeyLastUsed"] == {"ServiceName": "N/A", "Region": "N/A"}
    start = dt.datetime.now(dt.UTC).replace(microsecond=0) - dt.timedelta(seconds=2)
    gh.client("sts", key["AccessKeyId"], key["SecretAccessKey"]).get_caller_identity()
    used = iam.get_access_key_last_used(AccessKeyId=key["AccessKeyId"])["AccessKeyLastUsed"]
    assert used["ServiceName"] == "sts" and used["Region"] == "us-east-1"
    assert start <= used["LastUsedDate"] <= dt.datetime.now(dt.UTC) + dt.timedelta(seconds=2)
    gh.client("sts", key["AccessKeyId"], key["SecretAccessKey"], region="eu-west-1").get_caller_identity()
    used = iam.get_access_key_last_used(AccessKeyId=key["AccessKeyId"])["AccessKeyLastUsed"]
    assert (used["ServiceName"], used["Region"]) == ("sts", "eu-west-1")


def test_root_key_last_used_is_recorded(gh: Endpoint, iam: Any) -> None:
    spare = iam.create_access_key()["AccessKey"]
    gh.client("iam", spare["AccessKeyId"], spare["SecretAccessKey"], region="ap-south-1").list_users()
    used = iam.get_access_key_last_used(AccessKeyId=spare["AccessKeyId"])["AccessKeyLastUsed"]
    assert used["ServiceName"] == "iam" and used["Region"] == "ap-south-1" and "LastUsedDate" in used


def test_access_key_last_used_of_unknown_key(iam: Any) -> None:
    # AWS answers AccessDenied, not NoSuchEntity (LocalStack's AWS-validated test_iam_users.snapshot.json).
    response = rejected(iam, "AccessDenied", iam.get_access_key_last_used, AccessKeyId="AKIAAAAAAAAAAAAAAAAA")
    assert response["Error"]["Message"] == (f"User: {ARN}:root is not authorized to perform "
                                            "iam:GetAccessKeyLastUsed on resource: access key AKIAAAAAAAAAAAAAAAAA")


def test_a_rejected_signature_does_not_count_as_use(gh: Endpoint, iam: Any) -> None:
    key = _user_key(iam)
    expect("SignatureDoesNotMatch", gh.client("sts", key["AccessKeyId"], "wrong-secret").get_caller_identity)
    used = iam.get_access_key_last_used(AccessKeyId=key["AccessKeyId"])["AccessKeyLastUsed"]
    assert "LastUsedDate" not in used


# --- deny by default -------------------------------------------------------------------------------------

_DENIED_CALLS = [
    ("list_users", {}),
    ("get_user", {}),
    ("get_user", {"UserName": "u"}),
    ("create_user", {"UserName": "intruder"}),
    ("delete_user", {"UserName": "victim"}),
    ("create_access_key", {}),
    ("create_access_key", {"UserName": "victim"}),
    ("list_access_keys", {}),
    ("update_access_key", {"AccessKeyId": "AKIAAAAAAAAAAAAAAAAA", "Status": "Inactive"}),
    ("attach_user_policy", {"UserName": "u", "PolicyArn": "arn:aws:iam::aws:policy/AdministratorAccess"}),
    ("put_user_policy", {"UserName": "u", "PolicyName": "escalate", "PolicyDocument": POLICY}),
    ("create_policy", {"PolicyName": "p", "PolicyDocument": POLICY}),
    ("get_policy", {"PolicyArn": READ_ONLY}),
    ("create_role", {"RoleName": "r", "AssumeRolePolicyDocument": POLICY}),
    ("list_roles", {}),
    ("get_account_summary", {}),
    ("get_account_authorization_details", {}),
    ("create_account_alias", {"AccountAlias": "taken-over"}),
    ("set_security_token_service_preferences", {"GlobalEndpointTokenVersion": "v2Token"}),
    ("get_access_key_last_used", {"AccessKeyId": "AKIAAAAAAAAAAAAAAAAA"}),
    ("create_service_linked_role", {"AWSServiceName": "ecs.amazonaws.com"}),
]


@pytest.mark.parametrize(("operation", "params"), _DENIED_CALLS, ids=[f"{op}{i}" for i, (op, _) in
                                                                      enumerate(_DENIED_CALLS)])
def test_a_new_user_is_denied_every_iam_call(gh: Endpoint, iam: Any, operation: str, params: dict[str, Any]) -> None:
    key = _user_key(iam)
    iam.create_user(UserName="victim")
    user_iam = gh.client("iam", key["AccessKeyId"], key["SecretAccessKey"])
    response = rejected(iam, "AccessDenied", getattr(user_iam, operation), **params)
    assert status_of(response) == 403


def test_a_new_user_can_learn_who_it_is(gh: Endpoint, iam: Any) -> None:
    key = _user_key(iam, "me")
    ident = gh.client("sts", key["AccessKeyId"], key["SecretAccessKey"]).get_caller_identity()
    assert ident == {**ident, "Account": "123456789012", "Arn": f"{ARN}:user/me",
                     "UserId": iam.get_user(UserName="me")["User"]["UserId"]}


def test_a_user_allowed_self_service_works_on_itself_without_naming_it(gh: Endpoint, iam: Any) -> None:
    """GetUser and the access-key operations default to the caller's own user when UserName is left out."""
    iam.create_user(UserName="self", Path="/staff/")
    iam.put_user_policy(UserName="self", PolicyName="self-service", PolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": ["iam:GetUser", "iam:*AccessKey*"],
                                                "Resource": f"{ARN}:user/staff/${{aws:username}}"}]}))
    key = iam.create_access_key(UserName="self")["AccessKey"]
    me = gh.client("iam", key["AccessKeyId"], key["SecretAccessKey"])
    assert me.get_user()["User"]["Arn"] == f"{ARN}:user/staff/self"
    second = me.create_access_key()["AccessKey"]
    assert second["UserName"] == "self"
    assert {k["AccessKeyId"] for k in me.list_access_keys()["AccessKeyMetadata"]} == {key["AccessKeyId"],
                                                                                    second["AccessKeyId"]}
    me.update_access_key(AccessKeyId=second["AccessKeyId"], Status="Inactive")
    me.delete_access_key(AccessKeyId=second["AccessKeyId"])
    assert [k["AccessKeyId"] for k in iam.list_access_keys(UserName="self")["AccessKeyMetadata"]] == [
        key["AccessKeyId"]]
    assert iam.list_access_keys()["AccessKeyMetadata"][0]["AccessKeyId"] == "test"  # the root's keys untouched
    expect("AccessDenied", me.list_users)
