"""Instance profiles end to end: create (path, tags), get, one role at most, remove, delete conflicts, listings
(by path, for a role, paged) and the role view they embed."""

from __future__ import annotations

from typing import Any

import pytest

from tests.e2e.iam_support import ARN, TRUST, collect, expect, rejected, status_of

pytestmark = pytest.mark.e2e


def test_create_and_get_instance_profile(iam: Any) -> None:
    profile = iam.create_instance_profile(InstanceProfileName="web", Path="/ec2/",
                                          Tags=[{"Key": "tier", "Value": "web"}])["InstanceProfile"]
    assert profile["InstanceProfileId"].startswith("AIPA") and len(profile["InstanceProfileId"]) == 21
    assert profile["Arn"] == f"{ARN}:instance-profile/ec2/web"
    assert profile["Roles"] == [] and profile["Tags"] == [{"Key": "tier", "Value": "web"}]
    got = iam.get_instance_profile(InstanceProfileName="WEB")["InstanceProfile"]
    assert got == profile


def test_duplicate_and_missing_instance_profiles(iam: Any) -> None:
    iam.create_instance_profile(InstanceProfileName="ip")
    response = rejected(iam, "EntityAlreadyExists", iam.create_instance_profile, InstanceProfileName="IP")
    assert status_of(response) == 409
    response = rejected(iam, "NoSuchEntity", iam.get_instance_profile, InstanceProfileName="ghost")
    assert response["Error"]["Message"] == "Instance Profile ghost cannot be found."
    rejected(iam, "NoSuchEntity", iam.delete_instance_profile, InstanceProfileName="ghost")
    rejected(iam, "ValidationError", iam.create_instance_profile, InstanceProfileName="a b")


def test_one_role_per_instance_profile(iam: Any) -> None:
    for r in ("r1", "r2"):
        iam.create_role(RoleName=r, AssumeRolePolicyDocument=TRUST)
    iam.create_instance_profile(InstanceProfileName="ip")
    iam.add_role_to_instance_profile(InstanceProfileName="ip", RoleName="r1")
    response = rejected(iam, "LimitExceeded", iam.add_role_to_instance_profile, InstanceProfileName="ip",
                        RoleName="r2")
    assert response["Error"]["Message"] == "Cannot exceed quota for InstanceSessionsPerInstanceProfile: 1"
    rejected(iam, "LimitExceeded", iam.add_role_to_instance_profile, InstanceProfileName="ip", RoleName="r1")
    [role] = iam.get_instance_profile(InstanceProfileName="ip")["InstanceProfile"]["Roles"]
    assert role["RoleName"] == "r1" and role["Arn"] == f"{ARN}:role/r1"
    assert role["RoleId"] == iam.get_role(RoleName="r1")["Role"]["RoleId"]
    iam.remove_role_from_instance_profile(InstanceProfileName="ip", RoleName="r1")
    iam.add_role_to_instance_profile(InstanceProfileName="ip", RoleName="r2")
    assert [r["RoleName"] for r in iam.get_instance_profile(InstanceProfileName="ip")["InstanceProfile"]["Roles"]
            ] == ["r2"]


def test_a_role_may_be_in_several_profiles(iam: Any) -> None:
    iam.create_role(RoleName="r", AssumeRolePolicyDocument=TRUST)
    for i in range(5):
        iam.create_instance_profile(InstanceProfileName=f"ip{i}")
        iam.add_role_to_instance_profile(InstanceProfileName=f"ip{i}", RoleName="r")
    listed = collect(iam.list_instance_profiles_for_role, "InstanceProfiles", RoleName="r", MaxItems=2)
    assert [p["InstanceProfileName"] for p in listed] == [f"ip{i}" for i in range(5)]
    assert all([r["RoleName"] for r in p["Roles"]] == ["r"] for p in listed)
    details = iam.get_account_authorization_details(Filter=["Role"])["RoleDetailList"]
    assert [p["InstanceProfileName"] for p in details[0]["InstanceProfileList"]] == [f"ip{i}" for i in range(5)]


def test_membership_errors_change_nothing(iam: Any) -> None:
    iam.create_role(RoleName="r", AssumeRolePolicyDocument=TRUST)
    iam.create_role(RoleName="outsider", AssumeRolePolicyDocument=TRUST)
    iam.create_instance_profile(InstanceProfileName="ip")
    iam.add_role_to_instance_profile(InstanceProfileName="ip", RoleName="r")
    rejected(iam, "NoSuchEntity", iam.add_role_to_instance_profile, InstanceProfileName="ghost", RoleName="r")
    rejected(iam, "NoSuchEntity", iam.add_role_to_instance_profile, InstanceProfileName="ip", RoleName="ghost")
    rejected(iam, "NoSuchEntity", iam.remove_role_from_instance_profile, InstanceProfileName="ip",
             RoleName="outsider")
    rejected(iam, "NoSuchEntity", iam.remove_role_from_instance_profile, InstanceProfileName="ghost", RoleName="r")
    rejected(iam, "NoSuchEntity", iam.list_instance_profiles_for_role, RoleName="ghost")


def test_delete_conflicts_both_ways(iam: Any) -> None:
    iam.create_role(RoleName="r", AssumeRolePolicyDocument=TRUST)
    iam.create_instance_profile(InstanceProfileName="ip", Tags=[{"Key": "a", "Value": "b"}])
    iam.add_role_to_instance_profile(InstanceProfileName="ip", RoleName="r")
    response = rejected(iam, "DeleteConflict", iam.delete_instance_profile, InstanceProfileName="ip")
    assert response["Error"]["Message"] == "Cannot delete entity, must remove roles from instance profile first."
    rejected(iam, "DeleteConflict", iam.delete_role, RoleName="r")
    iam.remove_role_from_instance_profile(InstanceProfileName="ip", RoleName="r")
    iam.delete_instance_profile(InstanceProfileName="ip")
    expect("NoSuchEntity", iam.get_instance_profile, InstanceProfileName="ip")
    assert iam.list_instance_profiles_for_role(RoleName="r")["InstanceProfiles"] == []
    iam.create_instance_profile(InstanceProfileName="ip")
    assert iam.list_instance_profile_tags(InstanceProfileName="ip")["Tags"] == []
    iam.delete_role(RoleName="r")


def test_list_instance_profiles(iam: Any) -> None:
    for i in range(7):
        iam.create_instance_profile(InstanceProfileName=f"p{i}", Path="/odd/" if i % 2 else "/even/")
    assert [p["InstanceProfileName"] for p in collect(iam.list_instance_profiles, "InstanceProfiles",
                                                      MaxItems=3)] == [f"p{i}" for i in range(7)]
    assert [p["InstanceProfileName"] for p in collect(iam.list_instance_profiles, "InstanceProfiles",
                                                      PathPrefix="/odd/")] == ["p1", "p3", "p5"]
    assert iam.get_account_summary()["SummaryMap"]["InstanceProfiles"] == 7


def test_instance_profile_shows_the_renamed_role_state(iam: Any) -> None:
    iam.create_role(RoleName="r", AssumeRolePolicyDocument=TRUST, Description="one")
    iam.create_instance_profile(InstanceProfileName="ip")
    iam.add_role_to_instance_profile(InstanceProfileName="ip", RoleName="r")
    iam.update_role(RoleName="r", Description="two")
    [role] = iam.get_instance_profile(InstanceProfileName="ip")["InstanceProfile"]["Roles"]
    assert role["Description"] == "two"
