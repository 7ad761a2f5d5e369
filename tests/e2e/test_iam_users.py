"""IAM users end to end: create (path, tags, boundary), get (incl. the caller's own and the root), rename and
move, delete and its conflicts, list with PathPrefix and Marker/MaxItems paging."""

from __future__ import annotations

import re
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.e2e.iam_support import (
    ARN,
    POLICY,
    READ_ONLY,
    collect,
    expect,
    pages,
    rejected,
    status_of,
    unvalidated,
)
from tests.support import ACCOUNT
from tests.support.servers import Endpoint

pytestmark = pytest.mark.e2e

UNIQUE_ID = re.compile(r"[A-Z2-7]{21}")


def test_create_user_returns_aws_shape(iam: Any) -> None:
    user = iam.create_user(UserName="alice")["User"]
    assert user["UserName"] == "alice"
    assert user["Path"] == "/"
    assert user["Arn"] == f"{ARN}:user/alice"
    assert user["UserId"].startswith("AIDA") and UNIQUE_ID.fullmatch(user["UserId"])
    assert user["CreateDate"].tzinfo is not None and user["CreateDate"].microsecond == 0
    assert "Tags" not in user and "PermissionsBoundary" not in user


def test_create_user_with_path_tags_and_boundary(iam: Any) -> None:
    user = iam.create_user(UserName="bob", Path="/eng/backend/", PermissionsBoundary=READ_ONLY,
                           Tags=[{"Key": "team", "Value": "blue"}, {"Key": "Cost-Center", "Value": ""}])["User"]
    assert user["Arn"] == f"{ARN}:user/eng/backend/bob"
    assert user["Tags"] == [{"Key": "team", "Value": "blue"}, {"Key": "Cost-Center", "Value": ""}]
    assert user["PermissionsBoundary"] == {"PermissionsBoundaryType": "Policy", "PermissionsBoundaryArn": READ_ONLY}
    got = iam.get_user(UserName="bob")["User"]
    assert got["Path"] == "/eng/backend/" and got["UserId"] == user["UserId"]
    assert got["Tags"] == user["Tags"] and got["PermissionsBoundary"] == user["PermissionsBoundary"]


def test_user_ids_are_unique(iam: Any) -> None:
    ids = {iam.create_user(UserName=f"u{i}")["User"]["UserId"] for i in range(20)}
    assert len(ids) == 20


def test_get_user_without_name_as_root_describes_the_root(iam: Any) -> None:
    root = iam.get_user()["User"]
    assert root["Arn"] == f"arn:aws:iam::{ACCOUNT}:root"
    assert root["UserId"] == ACCOUNT
    assert "CreateDate" in root


def test_get_user_names_are_case_insensitive_and_keep_their_case(iam: Any) -> None:
    iam.create_user(UserName="CamelCase")
    assert iam.get_user(UserName="camelcase")["User"]["UserName"] == "CamelCase"
    assert iam.get_user(UserName="CAMELCASE")["User"]["UserName"] == "CamelCase"


def test_get_missing_user_is_no_such_entity_with_aws_wording(iam: Any) -> None:
    response = expect("NoSuchEntity", iam.get_user, UserName="ghost")
    assert response["Error"]["Message"] == "The user with name ghost cannot be found."
    assert status_of(response) == 404


def test_duplicate_user_is_rejected_whatever_the_case(iam: Any) -> None:
    iam.create_user(UserName="dup")
    for name in ("dup", "DUP", "Dup"):
        response = rejected(iam, "EntityAlreadyExists", iam.create_user, UserName=name)
        assert response["Error"]["Message"] == f"User with name {name} already exists."
        assert status_of(response) == 409


def test_create_user_with_missing_boundary_changes_nothing(iam: Any) -> None:
    missing = f"{ARN}:policy/nope"
    response = rejected(iam, "NoSuchEntity", iam.create_user, UserName="b", PermissionsBoundary=missing)
    assert missing in response["Error"]["Message"]
    rejected(iam, "InvalidInput", iam.create_user, UserName="b", PermissionsBoundary="arn:aws:s3:::bucket/key-x")


# --- update ----------------------------------------------------------------------------------------------


def test_rename_and_move_user_keeps_id_keys_groups_and_policies(iam: Any) -> None:
    uid = iam.create_user(UserName="old", Path="/a/")["User"]["UserId"]
    key = iam.create_access_key(UserName="old")["AccessKey"]["AccessKeyId"]
    iam.create_group(GroupName="g")
    iam.add_user_to_group(GroupName="g", UserName="old")
    iam.put_user_policy(UserName="old", PolicyName="inline", PolicyDocument=POLICY)
    iam.attach_user_policy(UserName="old", PolicyArn=READ_ONLY)
    iam.tag_user(UserName="old", Tags=[{"Key": "k", "Value": "v"}])

    iam.update_user(UserName="old", NewUserName="new", NewPath="/b/c/")

    expect("NoSuchEntity", iam.get_user, UserName="old")
    user = iam.get_user(UserName="new")["User"]
    assert (user["UserId"], user["Path"], user["Arn"]) == (uid, "/b/c/", f"{ARN}:user/b/c/new")
    assert user["Tags"] == [{"Key": "k", "Value": "v"}]
    assert [k["AccessKeyId"] for k in iam.list_access_keys(UserName="new")["AccessKeyMetadata"]] == [key]
    assert [u["UserName"] for u in iam.get_group(GroupName="g")["Users"]] == ["new"]
    assert iam.list_user_policies(UserName="new")["PolicyNames"] == ["inline"]
    assert [p["PolicyArn"] for p in iam.list_attached_user_policies(UserName="new")["AttachedPolicies"]] == [
        READ_ONLY]


def test_update_user_path_only_and_name_only(iam: Any) -> None:
    iam.create_user(UserName="p", Path="/x/")
    iam.update_user(UserName="p", NewPath="/y/")
    assert iam.get_user(UserName="p")["User"]["Path"] == "/y/"
    iam.update_user(UserName="p", NewUserName="q")
    assert iam.get_user(UserName="q")["User"]["Path"] == "/y/"


def test_rename_changing_only_case(iam: Any) -> None:
    iam.create_user(UserName="casey")
    iam.update_user(UserName="casey", NewUserName="Casey")
    assert iam.get_user(UserName="casey")["User"]["UserName"] == "Casey"
    assert [u["UserName"] for u in iam.list_users()["Users"]] == ["Casey"]


def test_rename_onto_existing_user_is_rejected(iam: Any) -> None:
    iam.create_user(UserName="one")
    iam.create_user(UserName="two")
    response = rejected(iam, "EntityAlreadyExists", iam.update_user, UserName="one", NewUserName="TWO")
    assert response["Error"]["Message"] == "User with name TWO already exists."
    rejected(iam, "NoSuchEntity", iam.update_user, UserName="ghost", NewUserName="three")


def test_update_user_validates_new_name_and_path(iam: Any) -> None:
    iam.create_user(UserName="v")
    rejected(iam, "ValidationError", iam.update_user, UserName="v", NewUserName="bad name")
    rejected(iam, "ValidationError", iam.update_user, UserName="v", NewPath="no-slashes")


# --- delete ----------------------------------------------------------------------------------------------


def test_delete_user(iam: Any) -> None:
    iam.create_user(UserName="gone", Tags=[{"Key": "a", "Value": "b"}])
    iam.delete_user(UserName="gone")
    expect("NoSuchEntity", iam.get_user, UserName="gone")
    assert iam.list_users()["Users"] == []
    # A new user of the same name starts clean (no tags carried over).
    assert "Tags" not in iam.create_user(UserName="gone")["User"]
    assert iam.list_user_tags(UserName="gone")["Tags"] == []


def test_delete_missing_user(iam: Any) -> None:
    response = rejected(iam, "NoSuchEntity", iam.delete_user, UserName="ghost")
    assert response["Error"]["Message"] == "The user with name ghost cannot be found."


def test_delete_user_conflicts_until_everything_is_removed(iam: Any) -> None:
    iam.create_user(UserName="busy")
    key = iam.create_access_key(UserName="busy")["AccessKey"]["AccessKeyId"]
    iam.put_user_policy(UserName="busy", PolicyName="p", PolicyDocument=POLICY)
    iam.attach_user_policy(UserName="busy", PolicyArn=READ_ONLY)
    iam.create_group(GroupName="crew")
    iam.add_user_to_group(GroupName="crew", UserName="busy")

    steps = [
        ("access keys", lambda: iam.delete_access_key(UserName="busy", AccessKeyId=key)),
        ("policies", lambda: iam.delete_user_policy(UserName="busy", PolicyName="p")),
        ("detach", lambda: iam.detach_user_policy(UserName="busy", PolicyArn=READ_ONLY)),
        ("group", lambda: iam.remove_user_from_group(GroupName="crew", UserName="busy")),
    ]
    for word, remove in steps:
        response = rejected(iam, "DeleteConflict", iam.delete_user, UserName="busy")
        assert status_of(response) == 409
        assert word in response["Error"]["Message"], (word, response["Error"]["Message"])
        remove()
    iam.delete_user(UserName="busy")
    assert iam.get_group(GroupName="crew")["Users"] == []


def test_delete_user_with_boundary_and_tags_is_allowed(iam: Any) -> None:
    iam.create_user(UserName="b", PermissionsBoundary=READ_ONLY, Tags=[{"Key": "a", "Value": "b"}])
    iam.delete_user(UserName="b")
    assert iam.get_policy(PolicyArn=READ_ONLY)["Policy"]["PermissionsBoundaryUsageCount"] == 0


# --- list ------------------------------------------------------------------------------------------------


def test_list_users_empty(iam: Any) -> None:
    page = iam.list_users()
    assert page["Users"] == [] and page["IsTruncated"] is False and "Marker" not in page


def test_list_users_shape_has_no_tags(iam: Any) -> None:
    iam.create_user(UserName="t", Tags=[{"Key": "a", "Value": "b"}], PermissionsBoundary=READ_ONLY)
    [user] = iam.list_users()["Users"]
    assert set(user) == {"Path", "UserName", "UserId", "Arn", "CreateDate"}


def test_list_users_by_path_prefix(iam: Any) -> None:
    for name, path in [("a", "/"), ("b", "/team/"), ("c", "/team/sub/"), ("d", "/teams/"), ("e", "/TEAM/"),
                       ("f", "/te_m/"), ("g", "/te%m/")]:
        iam.create_user(UserName=name, Path=path)

    def names(prefix: str) -> list[str]:
        return [u["UserName"] for u in collect(iam.list_users, "Users", PathPrefix=prefix)]

    assert names("/") == list("abcdefg")
    assert names("/team/") == ["b", "c"]
    assert names("/team") == ["b", "c", "d"]
    assert names("/TEAM/") == ["e"]  # paths are case-sensitive
    assert names("/te_m/") == ["f"]  # no LIKE wildcards
    assert names("/te%m/") == ["g"]
    assert names("/nobody/") == []


def test_list_users_paging_with_max_items(iam: Any) -> None:
    names = [f"user{i:02d}" for i in range(25)]
    for n in reversed(names):
        iam.create_user(UserName=n)
    got = pages(iam.list_users, "Users", MaxItems=7)
    assert all(len(p) <= 7 for p in got)
    assert [u["UserName"] for p in got for u in p] == names
    first = iam.list_users(MaxItems=7)
    assert first["IsTruncated"] is True and first["Marker"]


def test_list_users_marker_survives_deleting_the_last_seen_user(iam: Any) -> None:
    for i in range(6):
        iam.create_user(UserName=f"m{i}")
    first = iam.list_users(MaxItems=3)
    seen = [u["UserName"] for u in first["Users"]]
    iam.delete_user(UserName=seen[-1])
    rest = collect(iam.list_users, "Users", Marker=first["Marker"], MaxItems=3)
    assert seen + [u["UserName"] for u in rest] == [f"m{i}" for i in range(6)]


def test_list_users_max_items_bounds(gh: Endpoint, iam: Any) -> None:
    loose = unvalidated(gh)
    rejected(iam, "ValidationError", loose.list_users, MaxItems=0)
    rejected(iam, "ValidationError", iam.list_users, MaxItems=1001)
    assert iam.list_users(MaxItems=1000)["IsTruncated"] is False


def test_list_users_with_a_marker_not_issued_by_the_server(iam: Any) -> None:
    iam.create_user(UserName="x")
    # AWS: ValidationError "Invalid Marker." (LocalStack's AWS-validated test_iam_mfa.snapshot.json).
    response = expect("ValidationError", iam.list_users, Marker="not-a-marker")
    assert response["Error"]["Message"] == "Invalid Marker."
    assert status_of(response) == 400


def test_list_users_rejects_bad_path_prefix(iam: Any) -> None:
    rejected(iam, "ValidationError", iam.list_users, PathPrefix="no-leading-slash")


_NAME = st.text(alphabet="abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+=,.@_-", min_size=1,
                max_size=12)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(names=st.lists(_NAME, min_size=0, max_size=14, unique_by=str.lower), max_items=st.integers(1, 6))
def test_paging_through_any_max_items_yields_every_user_once_in_order(gh: Endpoint, names: list[str],
                                                                      max_items: int) -> None:
    gh.reset()
    iam = gh.client("iam")
    for n in names:
        iam.create_user(UserName=n)
    paged = [u["UserName"] for u in collect(iam.list_users, "Users", MaxItems=max_items)]
    assert paged == [u["UserName"] for u in iam.list_users(MaxItems=1000)["Users"]]
    assert sorted(paged) == sorted(names) and len(set(paged)) == len(names)
    assert paged == sorted(names, key=str.lower)

