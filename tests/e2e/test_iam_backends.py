"""A representative IAM workout against persistent servers on both storage backends (an SQLite file and a
PostgreSQL schema): every entity kind, their error paths, paging, limits, and concurrent requests.

The servers live for the module and are never reset, so each test works under names and paths of its own."""

from __future__ import annotations

import datetime as dt
import threading
import urllib.error
import urllib.request
from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.e2e.iam_support import (
    ADMIN,
    ARN,
    POLICY,
    POLICY_2,
    READ_ONLY,
    TRUST,
    collect,
    error_code,
    expect,
    rejected,
    send,
    signed,
    sized_policy,
)
from tests.support.servers import Endpoint

pytestmark = [pytest.mark.e2e, pytest.mark.postgres, pytest.mark.xdist_group("iam-backends")]


@pytest.fixture
def iam(backend: Endpoint) -> Any:
    return backend.client("iam")


def test_bootstrapped_root(backend: Endpoint, iam: Any) -> None:
    assert backend.client("sts").get_caller_identity()["Arn"] == f"{ARN}:root"
    assert [k["AccessKeyId"] for k in iam.list_access_keys()["AccessKeyMetadata"]] == [backend.key]


def test_users(iam: Any) -> None:
    names = [f"bu{i:02d}" for i in range(9)]
    for n in reversed(names):
        iam.create_user(UserName=n, Path="/backend-users/", Tags=[{"Key": "n", "Value": n}])
    listed = collect(iam.list_users, "Users", PathPrefix="/backend-users/", MaxItems=4)
    assert [u["UserName"] for u in listed] == names
    assert collect(iam.list_users, "Users", PathPrefix="/BACKEND-USERS/") == []
    rejected(iam, "EntityAlreadyExists", iam.create_user, UserName="BU00")
    iam.update_user(UserName="bu00", NewUserName="bu00-renamed", NewPath="/backend-renamed/")
    user = iam.get_user(UserName="BU00-RENAMED")["User"]
    assert user["Arn"] == f"{ARN}:user/backend-renamed/bu00-renamed"
    assert user["Tags"] == [{"Key": "n", "Value": "bu00"}]
    iam.create_access_key(UserName="bu01")
    rejected(iam, "DeleteConflict", iam.delete_user, UserName="bu01")
    iam.delete_user(UserName="bu02")
    rejected(iam, "NoSuchEntity", iam.get_user, UserName="bu02")
    rejected(iam, "ValidationError", iam.create_user, UserName="bad name")


def test_groups(iam: Any) -> None:
    iam.create_group(GroupName="bg", Path="/backend-groups/")
    for i in range(4):
        iam.create_user(UserName=f"bgm{i}")
        iam.add_user_to_group(GroupName="bg", UserName=f"bgm{i}")
    assert [u["UserName"] for u in collect(iam.get_group, "Users", GroupName="bg", MaxItems=3)] == [
        f"bgm{i}" for i in range(4)]
    rejected(iam, "DeleteConflict", iam.delete_group, GroupName="bg")
    rejected(iam, "NoSuchEntity", iam.add_user_to_group, GroupName="bg", UserName="nobody-at-all")
    for i in range(4):
        iam.remove_user_from_group(GroupName="bg", UserName=f"bgm{i}")
    iam.delete_group(GroupName="bg")


def test_roles_and_instance_profiles(iam: Any) -> None:
    iam.create_role(RoleName="br", AssumeRolePolicyDocument=TRUST, Path="/backend-roles/", Description="d",
                    MaxSessionDuration=7200, PermissionsBoundary=READ_ONLY)
    rejected(iam, "MalformedPolicyDocument", iam.create_role, RoleName="br2", AssumeRolePolicyDocument="{}")
    iam.update_role(RoleName="br", Description="e", MaxSessionDuration=10800)
    iam.update_assume_role_policy(RoleName="br", PolicyDocument=TRUST)
    role = iam.get_role(RoleName="br")["Role"]
    assert (role["Description"], role["MaxSessionDuration"]) == ("e", 10800)
    assert role["PermissionsBoundary"]["PermissionsBoundaryArn"] == READ_ONLY
    iam.create_instance_profile(InstanceProfileName="bip")
    iam.add_role_to_instance_profile(InstanceProfileName="bip", RoleName="br")
    rejected(iam, "LimitExceeded", iam.add_role_to_instance_profile, InstanceProfileName="bip", RoleName="br")
    rejected(iam, "DeleteConflict", iam.delete_role, RoleName="br")
    rejected(iam, "DeleteConflict", iam.delete_instance_profile, InstanceProfileName="bip")
    iam.remove_role_from_instance_profile(InstanceProfileName="bip", RoleName="br")
    iam.delete_instance_profile(InstanceProfileName="bip")
    iam.delete_role(RoleName="br")


def test_managed_policies(iam: Any) -> None:
    arn = iam.create_policy(PolicyName="bp", PolicyDocument=POLICY, Path="/backend-policies/")["Policy"]["Arn"]
    for _ in range(4):
        iam.create_policy_version(PolicyArn=arn, PolicyDocument=POLICY_2)
    rejected(iam, "LimitExceeded", iam.create_policy_version, PolicyArn=arn, PolicyDocument=POLICY)
    rejected(iam, "LimitExceeded", iam.create_policy, PolicyName="bp-big", PolicyDocument=sized_policy(6145))
    iam.set_default_policy_version(PolicyArn=arn, VersionId="v4")
    rejected(iam, "DeleteConflict", iam.delete_policy_version, PolicyArn=arn, VersionId="v4")
    assert [v["VersionId"] for v in iam.list_policy_versions(PolicyArn=arn)["Versions"]
            if v["IsDefaultVersion"]] == ["v4"]
    iam.create_user(UserName="bpu")
    iam.attach_user_policy(UserName="bpu", PolicyArn=arn)
    iam.attach_user_policy(UserName="bpu", PolicyArn=ADMIN)
    listed = collect(iam.list_policies, "Policies", OnlyAttached=True, PathPrefix="/backend-policies/")
    assert [p["PolicyName"] for p in listed] == ["bp"] and listed[0]["AttachmentCount"] == 1
    assert [u["UserName"] for u in iam.list_entities_for_policy(PolicyArn=arn)["PolicyUsers"]] == ["bpu"]
    rejected(iam, "DeleteConflict", iam.delete_policy, PolicyArn=arn)
    iam.detach_user_policy(UserName="bpu", PolicyArn=arn)
    for v in ("v1", "v2", "v3", "v5"):
        iam.delete_policy_version(PolicyArn=arn, VersionId=v)
    iam.delete_policy(PolicyArn=arn)
    rejected(iam, "NoSuchEntity", iam.get_policy, PolicyArn=arn)


def test_inline_policies_and_attachment_quota(iam: Any) -> None:
    iam.create_user(UserName="bi")
    iam.put_user_policy(UserName="bi", PolicyName="a", PolicyDocument=sized_policy(2000))
    response = rejected(iam, "LimitExceeded", iam.put_user_policy, UserName="bi", PolicyName="b",
                        PolicyDocument=sized_policy(120))
    assert response["Error"]["Message"] == "Maximum policy size of 2048 bytes exceeded for user bi"
    arns = [iam.create_policy(PolicyName=f"bq{i}", PolicyDocument=POLICY)["Policy"]["Arn"] for i in range(11)]
    for arn in arns[:10]:
        iam.attach_user_policy(UserName="bi", PolicyArn=arn)
    rejected(iam, "LimitExceeded", iam.attach_user_policy, UserName="bi", PolicyArn=arns[10])


def test_access_keys(backend: Endpoint, iam: Any) -> None:
    iam.create_user(UserName="bk")
    key = iam.create_access_key(UserName="bk")["AccessKey"]
    iam.create_access_key(UserName="bk")
    rejected(iam, "LimitExceeded", iam.create_access_key, UserName="bk")
    sts = backend.client("sts", key["AccessKeyId"], key["SecretAccessKey"])
    assert sts.get_caller_identity()["Arn"] == f"{ARN}:user/bk"
    used = iam.get_access_key_last_used(AccessKeyId=key["AccessKeyId"])["AccessKeyLastUsed"]
    assert used["ServiceName"] == "sts" and "LastUsedDate" in used
    expect("AccessDenied", backend.client("iam", key["AccessKeyId"], key["SecretAccessKey"]).list_users)
    iam.update_access_key(UserName="bk", AccessKeyId=key["AccessKeyId"], Status="Inactive")
    expect("InvalidClientTokenId", sts.get_caller_identity)
    iam.delete_access_key(UserName="bk", AccessKeyId=key["AccessKeyId"])
    expect("InvalidClientTokenId", sts.get_caller_identity)


def test_tags(iam: Any) -> None:
    iam.create_role(RoleName="bt", AssumeRolePolicyDocument=TRUST,
                    Tags=[{"Key": f"k{i}", "Value": str(i)} for i in range(49)])
    iam.tag_role(RoleName="bt", Tags=[{"Key": "K0", "Value": "new"}, {"Key": "last", "Value": "x"}])
    tags = {t["Key"].lower(): t["Value"] for t in collect(iam.list_role_tags, "Tags", RoleName="bt", MaxItems=7)}
    assert len(tags) == 50 and tags["k0"] == "new"
    rejected(iam, "LimitExceeded", iam.tag_role, RoleName="bt", Tags=[{"Key": "more", "Value": "x"}])
    rejected(iam, "InvalidInput", iam.tag_role, RoleName="bt",
             Tags=[{"Key": "d", "Value": "1"}, {"Key": "D", "Value": "2"}])
    iam.untag_role(RoleName="bt", TagKeys=[f"K{i}" for i in range(49)])
    assert iam.list_role_tags(RoleName="bt")["Tags"] == [{"Key": "last", "Value": "x"}]


def test_account_level(iam: Any) -> None:
    iam.create_account_alias(AccountAlias="backend-alias")
    assert iam.list_account_aliases()["AccountAliases"] == ["backend-alias"]
    iam.set_security_token_service_preferences(GlobalEndpointTokenVersion="v2Token")
    assert iam.get_account_summary()["SummaryMap"]["GlobalEndpointTokenVersion"] == 2
    iam.set_security_token_service_preferences(GlobalEndpointTokenVersion="v1Token")
    iam.delete_account_alias(AccountAlias="backend-alias")
    assert iam.list_account_aliases()["AccountAliases"] == []
    details = collect(iam.get_account_authorization_details, "UserDetailList", Filter=["User"], MaxItems=5)
    assert {u["UserName"] for u in details} == {u["UserName"] for u in collect(iam.list_users, "Users")}


def test_service_linked_role(iam: Any) -> None:
    name = iam.create_service_linked_role(AWSServiceName="autoscaling.amazonaws.com")["Role"]["RoleName"]
    assert name == "AWSServiceRoleForAutoScaling"
    rejected(iam, "UnmodifiableEntity", iam.delete_role, RoleName=name)
    task = iam.delete_service_linked_role(RoleName=name)["DeletionTaskId"]
    assert iam.get_service_linked_role_deletion_status(DeletionTaskId=task)["Status"] == "SUCCEEDED"


def test_signatures_are_checked(backend: Endpoint, iam: Any) -> None:
    expect("SignatureDoesNotMatch", backend.client("iam", secret="wrong").list_users)
    expect("InvalidClientTokenId", backend.client("iam", key="AKIANOSUCHKEY0000000").list_users)
    body = "Action=CreateUser&Version=2010-05-08&UserName=backend-mallory"
    req = signed(backend.url, body, key=backend.key, secret=backend.secret)
    assert error_code(send(req, body.replace("mallory", "mallorz"))[1]) == "SignatureDoesNotMatch"
    old = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=20)
    status, text = send(signed(backend.url, body, key=backend.key, secret=backend.secret, when=old))
    assert status in (400, 403) and "expired" in text.lower()
    rejected(iam, "NoSuchEntity", iam.get_user, UserName="backend-mallory")
    rejected(iam, "NoSuchEntity", iam.get_user, UserName="backend-mallorz")


def test_no_reset_outside_dev_mode(backend: Endpoint) -> None:
    for path in ("/_gatehouse/reset", "/moto-api/reset"):
        with pytest.raises(urllib.error.HTTPError) as info:
            urllib.request.urlopen(urllib.request.Request(backend.url + path, method="POST"), timeout=10)
        assert info.value.code == 404


def _race(n: int, action: Callable[[int], Any]) -> list[str]:
    barrier = threading.Barrier(n)
    out: list[str] = []
    lock = threading.Lock()

    def run(i: int) -> None:
        barrier.wait(30)
        try:
            action(i)
            result = "ok"
        except ClientError as e:
            result = e.response["Error"]["Code"]
        with lock:
            out.append(result)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    return out


def test_concurrent_creates_of_one_name(backend: Endpoint, iam: Any) -> None:
    clients = [backend.client("iam") for _ in range(8)]
    outcomes = _race(8, lambda i: clients[i].create_user(UserName="racer" if i % 2 else "RACER"))
    assert outcomes.count("ok") == 1, outcomes
    assert sorted(set(outcomes)) == ["EntityAlreadyExists", "ok"], outcomes
    assert iam.get_user(UserName="racer")["User"]["UserName"] in ("racer", "RACER")
    outcomes = _race(8, lambda i: clients[i].create_policy(PolicyName="race-policy", PolicyDocument=POLICY))
    assert outcomes.count("ok") == 1 and outcomes.count("EntityAlreadyExists") == 7, outcomes


def test_concurrent_creates_of_different_names(backend: Endpoint, iam: Any) -> None:
    clients = [backend.client("iam") for _ in range(8)]
    outcomes = _race(8, lambda i: clients[i].create_group(GroupName=f"parallel{i}", Path="/parallel/"))
    assert outcomes == ["ok"] * 8
    assert len(collect(iam.list_groups, "Groups", PathPrefix="/parallel/")) == 8


def test_concurrent_key_creation_respects_the_quota(backend: Endpoint, iam: Any) -> None:
    iam.create_user(UserName="keyrace")
    clients = [backend.client("iam") for _ in range(6)]
    outcomes = _race(6, lambda i: clients[i].create_access_key(UserName="keyrace"))
    assert outcomes.count("ok") == 2 and outcomes.count("LimitExceeded") == 4, outcomes
    assert len(iam.list_access_keys(UserName="keyrace")["AccessKeyMetadata"]) == 2
