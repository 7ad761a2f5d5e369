"""Partitions end to end: the signing region picks the partition of every ARN Gatehouse renders (aws, aws-cn,
aws-us-gov, aws-iso, aws-iso-b); the entities themselves are the same."""

from __future__ import annotations

import pytest

from tests.e2e.iam_support import POLICY, TRUST, expect
from tests.support import ACCOUNT
from tests.support.servers import Endpoint

pytestmark = pytest.mark.e2e

PARTITIONS = [("us-east-1", "aws"), ("eu-central-1", "aws"), ("cn-north-1", "aws-cn"),
              ("cn-northwest-1", "aws-cn"), ("us-gov-west-1", "aws-us-gov"), ("us-iso-east-1", "aws-iso"),
              ("us-isob-east-1", "aws-iso-b")]


@pytest.mark.parametrize(("region", "partition"), PARTITIONS)
def test_arns_follow_the_signing_region(gh: Endpoint, region: str, partition: str) -> None:
    iam = gh.client("iam", region=region)
    user = iam.create_user(UserName="u", Path="/p/")["User"]
    assert user["Arn"] == f"arn:{partition}:iam::{ACCOUNT}:user/p/u"
    assert iam.get_user()["User"]["Arn"] == f"arn:{partition}:iam::{ACCOUNT}:root"
    role = iam.create_role(RoleName="r", AssumeRolePolicyDocument=TRUST)["Role"]
    assert role["Arn"] == f"arn:{partition}:iam::{ACCOUNT}:role/r"
    policy = iam.create_policy(PolicyName="pol", PolicyDocument=POLICY)["Policy"]
    assert policy["Arn"] == f"arn:{partition}:iam::{ACCOUNT}:policy/pol"
    assert gh.client("sts", region=region).get_caller_identity()["Arn"] == f"arn:{partition}:iam::{ACCOUNT}:root"


def test_the_same_entities_seen_from_two_partitions(gh: Endpoint) -> None:
    gh.reset()
    cn = gh.client("iam", region="cn-north-1")
    us = gh.client("iam", region="us-east-1")
    cn.create_user(UserName="shared")
    cn.attach_user_policy(UserName="shared", PolicyArn="arn:aws-cn:iam::aws:policy/ReadOnlyAccess")
    assert us.get_user(UserName="shared")["User"]["Arn"] == f"arn:aws:iam::{ACCOUNT}:user/shared"
    assert [p["PolicyArn"] for p in us.list_attached_user_policies(UserName="shared")["AttachedPolicies"]] == [
        "arn:aws:iam::aws:policy/ReadOnlyAccess"]
    assert [p["PolicyArn"] for p in cn.list_attached_user_policies(UserName="shared")["AttachedPolicies"]] == [
        "arn:aws-cn:iam::aws:policy/ReadOnlyAccess"]
    # A boundary set in one partition counts in the other.
    cn.put_user_permissions_boundary(UserName="shared",
                                     PermissionsBoundary="arn:aws-cn:iam::aws:policy/ReadOnlyAccess")
    assert us.get_policy(PolicyArn="arn:aws:iam::aws:policy/ReadOnlyAccess")["Policy"][
        "PermissionsBoundaryUsageCount"] == 1


def test_aws_managed_policies_in_the_china_partition(gh: Endpoint) -> None:
    gh.reset()
    cn = gh.client("iam", region="cn-north-1")
    policy = cn.get_policy(PolicyArn="arn:aws-cn:iam::aws:policy/AdministratorAccess")["Policy"]
    assert policy["Arn"] == "arn:aws-cn:iam::aws:policy/AdministratorAccess"
    listed = cn.list_policies(Scope="AWS")["Policies"]
    assert all(p["Arn"].startswith("arn:aws-cn:iam::aws:policy/") for p in listed)
    details = cn.get_account_authorization_details()
    assert details["Policies"] == []


def test_customer_policy_arn_in_another_partition_is_accepted(gh: Endpoint) -> None:
    gh.reset()
    us = gh.client("iam")
    us.create_user(UserName="u")
    us.create_policy(PolicyName="mine", PolicyDocument=POLICY)
    cn = gh.client("iam", region="cn-north-1")
    assert cn.get_policy(PolicyArn=f"arn:aws-cn:iam::{ACCOUNT}:policy/mine")["Policy"]["PolicyName"] == "mine"
    expect("NoSuchEntity", cn.get_policy, PolicyArn=f"arn:aws-cn:iam::{ACCOUNT}:policy/other")
