"""IAM groups end to end: create, get with members (paged), rename and move, delete and its conflicts,
membership (add, remove, list groups for a user, the 10-groups-per-user quota)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.e2e.iam_support import ARN, POLICY, READ_ONLY, collect, expect, pages, rejected, status_of

pytestmark = pytest.mark.e2e


def test_create_and_get_group(iam: Any) -> None:
    group = iam.create_group(GroupName="devs", Path="/eng/")["Group"]
    assert group["GroupId"].startswith("AGPA") and len(group["GroupId"]) == 21
    assert group["Arn"] == f"{ARN}:group/eng/devs"
    got = iam.get_group(GroupName="DEVS")
    assert got["Group"] == group
    assert got["Users"] == [] and got["IsTruncated"] is False


def test_duplicate_group_is_rejected_whatever_the_case(iam: Any) -> None:
    iam.create_group(GroupName="ops")
    response = rejected(iam, "EntityAlreadyExists", iam.create_group, GroupName="OPS")
    assert response["Error"]["Message"] == "Group with name OPS already exists."


def test_missing_group(iam: Any) -> None:
    response = rejected(iam, "NoSuchEntity", iam.get_group, GroupName="nope")
    assert response["Error"]["Message"] == "The group with name nope cannot be found."
    assert status_of(response) == 404
    rejected(iam, "NoSuchEntity", iam.delete_group, GroupName="nope")
    rejected(iam, "NoSuchEntity", iam.update_group, GroupName="nope", NewGroupName="x")


def test_group_name_validation(iam: Any) -> None:
    rejected(iam, "ValidationError", iam.create_group, GroupName="has space")
    rejected(iam, "ValidationError", iam.create_group, GroupName="g" * 129)
    rejected(iam, "ValidationError", iam.create_group, GroupName="ok", Path="/missing-trailing-slash")
    assert iam.create_group(GroupName="g" * 128)["Group"]["GroupName"] == "g" * 128


def test_membership(iam: Any) -> None:
    iam.create_group(GroupName="g1")
    iam.create_group(GroupName="g2")
    for u in ("ann", "ben"):
        iam.create_user(UserName=u)
    iam.add_user_to_group(GroupName="g1", UserName="ann")
    iam.add_user_to_group(GroupName="g1", UserName="ben")
    iam.add_user_to_group(GroupName="g2", UserName="ANN")  # names resolve without case
    iam.add_user_to_group(GroupName="g1", UserName="ann")  # adding twice is a no-op
    assert [u["UserName"] for u in iam.get_group(GroupName="g1")["Users"]] == ["ann", "ben"]
    assert [g["GroupName"] for g in iam.list_groups_for_user(UserName="ann")["Groups"]] == ["g1", "g2"]
    iam.remove_user_from_group(GroupName="g1", UserName="ann")
    assert [u["UserName"] for u in iam.get_group(GroupName="g1")["Users"]] == ["ben"]
    assert [g["GroupName"] for g in iam.list_groups_for_user(UserName="ann")["Groups"]] == ["g2"]


def test_membership_errors_change_nothing(iam: Any) -> None:
    iam.create_group(GroupName="g")
    iam.create_user(UserName="u")
    response = rejected(iam, "NoSuchEntity", iam.add_user_to_group, GroupName="g", UserName="ghost")
    assert response["Error"]["Message"] == "The user with name ghost cannot be found."
    rejected(iam, "NoSuchEntity", iam.add_user_to_group, GroupName="ghost", UserName="u")
    rejected(iam, "NoSuchEntity", iam.remove_user_from_group, GroupName="ghost", UserName="u")
    rejected(iam, "NoSuchEntity", iam.list_groups_for_user, UserName="ghost")


def test_a_user_belongs_to_at_most_ten_groups(iam: Any) -> None:
    iam.create_user(UserName="joiner")
    for i in range(11):
        iam.create_group(GroupName=f"g{i:02d}")
    for i in range(10):
        iam.add_user_to_group(GroupName=f"g{i:02d}", UserName="joiner")
    response = rejected(iam, "LimitExceeded", iam.add_user_to_group, GroupName="g10", UserName="joiner")
    assert response["Error"]["Message"] == "Cannot exceed quota for GroupsPerUser: 10"
    # Re-adding to a group the user is already in is not a new membership.
    iam.add_user_to_group(GroupName="g00", UserName="joiner")
    assert len(iam.list_groups_for_user(UserName="joiner")["Groups"]) == 10


def test_rename_and_move_group_keeps_members_and_policies(iam: Any) -> None:
    gid = iam.create_group(GroupName="before")["Group"]["GroupId"]
    iam.create_user(UserName="m")
    iam.add_user_to_group(GroupName="before", UserName="m")
    iam.put_group_policy(GroupName="before", PolicyName="p", PolicyDocument=POLICY)
    iam.attach_group_policy(GroupName="before", PolicyArn=READ_ONLY)
    iam.update_group(GroupName="before", NewGroupName="after", NewPath="/moved/")
    rejected(iam, "NoSuchEntity", iam.get_group, GroupName="before")
    got = iam.get_group(GroupName="after")
    assert got["Group"]["GroupId"] == gid and got["Group"]["Arn"] == f"{ARN}:group/moved/after"
    assert [u["UserName"] for u in got["Users"]] == ["m"]
    assert iam.list_group_policies(GroupName="after")["PolicyNames"] == ["p"]
    assert [p["PolicyName"] for p in iam.list_attached_group_policies(GroupName="after")["AttachedPolicies"]] == [
        "ReadOnlyAccess"]
    assert [g["GroupName"] for g in iam.list_groups_for_user(UserName="m")["Groups"]] == ["after"]


def test_rename_group_onto_existing_name_is_rejected(iam: Any) -> None:
    iam.create_group(GroupName="a")
    iam.create_group(GroupName="b")
    rejected(iam, "EntityAlreadyExists", iam.update_group, GroupName="a", NewGroupName="B")
    iam.update_group(GroupName="a", NewGroupName="A")
    assert [g["GroupName"] for g in iam.list_groups()["Groups"]] == ["A", "b"]


def test_delete_group_conflicts(iam: Any) -> None:
    iam.create_group(GroupName="full")
    iam.create_user(UserName="u")
    iam.add_user_to_group(GroupName="full", UserName="u")
    iam.put_group_policy(GroupName="full", PolicyName="p", PolicyDocument=POLICY)
    iam.attach_group_policy(GroupName="full", PolicyArn=READ_ONLY)
    steps = [
        ("users", lambda: iam.remove_user_from_group(GroupName="full", UserName="u")),
        ("policies", lambda: iam.delete_group_policy(GroupName="full", PolicyName="p")),
        ("detach", lambda: iam.detach_group_policy(GroupName="full", PolicyArn=READ_ONLY)),
    ]
    for word, remove in steps:
        response = rejected(iam, "DeleteConflict", iam.delete_group, GroupName="full")
        assert word in response["Error"]["Message"]
        remove()
    iam.delete_group(GroupName="full")
    assert iam.list_groups()["Groups"] == []
    assert iam.list_groups_for_user(UserName="u")["Groups"] == []


def test_list_groups_path_prefix_and_paging(iam: Any) -> None:
    for i in range(9):
        iam.create_group(GroupName=f"grp{i}", Path="/a/" if i % 2 else "/b/")
    assert [g["GroupName"] for g in collect(iam.list_groups, "Groups", PathPrefix="/a/", MaxItems=2)] == [
        "grp1", "grp3", "grp5", "grp7"]
    all_pages = pages(iam.list_groups, "Groups", MaxItems=4)
    assert [g["GroupName"] for p in all_pages for g in p] == [f"grp{i}" for i in range(9)]
    assert len(all_pages) >= 3


def test_get_group_pages_its_members(iam: Any) -> None:
    iam.create_group(GroupName="big")
    names = [f"member{i:02d}" for i in range(12)]
    for n in names:
        iam.create_user(UserName=n)
        iam.add_user_to_group(GroupName="big", UserName=n)
    got = pages(iam.get_group, "Users", GroupName="big", MaxItems=5)
    assert [u["UserName"] for p in got for u in p] == names


def test_list_groups_for_user_pages(iam: Any) -> None:
    iam.create_user(UserName="u")
    for i in range(7):
        iam.create_group(GroupName=f"g{i}")
        iam.add_user_to_group(GroupName=f"g{i}", UserName="u")
    got = collect(iam.list_groups_for_user, "Groups", UserName="u", MaxItems=3)
    assert [g["GroupName"] for g in got] == [f"g{i}" for i in range(7)]


def test_deleting_a_user_is_blocked_by_membership_not_the_group(iam: Any) -> None:
    iam.create_group(GroupName="g")
    iam.create_user(UserName="u")
    iam.add_user_to_group(GroupName="g", UserName="u")
    expect("DeleteConflict", iam.delete_user, UserName="u")
    iam.remove_user_from_group(GroupName="g", UserName="u")
    iam.delete_user(UserName="u")
    iam.delete_group(GroupName="g")
