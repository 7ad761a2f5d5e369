"""Partitions end to end: an account's partition is chosen when the account is made (`--partition`), and every ARN
Gatehouse renders or authorizes for it is in that partition, whatever region a client signs for. A signature scoped
to a region of another partition is refused, as AWS refuses a credential scoped to a region it does not serve."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.e2e.iam_support import POLICY, TRUST, expect
from tests.support import ACCOUNT
from tests.support.servers import Endpoint, running

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def china() -> Iterator[Endpoint]:
    """A development server whose account is in the aws-cn partition."""
    with running("--dev", "--partition", "aws-cn") as ep:
        yield ep


@pytest.mark.parametrize("region", ["us-east-1", "eu-central-1", "ap-southeast-2"])
def test_any_region_of_the_accounts_partition_signs(gh: Endpoint, region: str) -> None:
    iam = gh.client("iam", region=region)
    assert iam.create_user(UserName="u", Path="/p/")["User"]["Arn"] == f"arn:aws:iam::{ACCOUNT}:user/p/u"
    assert gh.client("sts", region=region).get_caller_identity()["Arn"] == f"arn:aws:iam::{ACCOUNT}:root"


@pytest.mark.parametrize("region", ["cn-north-1", "us-gov-west-1", "us-iso-east-1", "us-isob-east-1"])
def test_a_region_of_another_partition_is_refused(gh: Endpoint, region: str) -> None:
    """The signing region never moves the caller's ARNs (and the resource ARNs built for it) into another partition,
    where the account's Deny statements would no longer match."""
    error = expect("SignatureDoesNotMatch", gh.client("iam", region=region).create_user, UserName="moved")
    assert error["Error"]["Message"] == f"Credential should be scoped to a valid region, not '{region}'. "
    expect("SignatureDoesNotMatch", gh.client("sts", region=region).get_caller_identity)
    expect("NoSuchEntity", gh.client("iam").get_user, UserName="moved")


def test_an_account_in_the_china_partition(china: Endpoint) -> None:
    china.reset()
    for region in ("cn-north-1", "cn-northwest-1"):
        iam = china.client("iam", region=region)
        assert iam.get_user()["User"]["Arn"] == f"arn:aws-cn:iam::{ACCOUNT}:root"
        sts = china.client("sts", region=region)
        assert sts.get_caller_identity()["Arn"] == f"arn:aws-cn:iam::{ACCOUNT}:root"
    iam = china.client("iam", region="cn-north-1")
    assert iam.create_user(UserName="u")["User"]["Arn"] == f"arn:aws-cn:iam::{ACCOUNT}:user/u"
    assert iam.create_role(RoleName="r", AssumeRolePolicyDocument=TRUST)["Role"]["Arn"] == \
        f"arn:aws-cn:iam::{ACCOUNT}:role/r"
    assert iam.create_policy(PolicyName="pol", PolicyDocument=POLICY)["Policy"]["Arn"] == \
        f"arn:aws-cn:iam::{ACCOUNT}:policy/pol"
    admin = iam.get_policy(PolicyArn="arn:aws-cn:iam::aws:policy/AdministratorAccess")["Policy"]
    assert admin["Arn"] == "arn:aws-cn:iam::aws:policy/AdministratorAccess"
    iam.attach_user_policy(UserName="u", PolicyArn="arn:aws-cn:iam::aws:policy/AdministratorAccess")
    assert [p["PolicyArn"] for p in iam.list_attached_user_policies(UserName="u")["AttachedPolicies"]] == [
        "arn:aws-cn:iam::aws:policy/AdministratorAccess"]
    expect("SignatureDoesNotMatch", china.client("iam", region="us-east-1").get_user)


def test_a_deny_holds_in_every_signing_region(china: Endpoint) -> None:
    """The attack of the security issue: a user allowed iam:* with a Deny on one user tries every partition's
    regions; the only ones accepted are the account's, where the Deny's ARN matches."""
    china.reset()
    root = china.client("iam", region="cn-north-1")
    root.create_user(UserName="admin")
    root.create_user(UserName="dev")
    root.put_user_policy(UserName="dev", PolicyName="p", PolicyDocument=(
        '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iam:*","Resource":"*"},'
        f'{{"Effect":"Deny","Action":"*","Resource":"arn:aws-cn:iam::{ACCOUNT}:user/admin"}}]}}'))
    key = root.create_access_key(UserName="dev")["AccessKey"]
    for region in ("cn-north-1", "us-east-1", "us-gov-west-1", "us-iso-east-1", "us-isob-east-1"):
        dev = china.client("iam", key["AccessKeyId"], key["SecretAccessKey"], region=region)
        with pytest.raises(Exception, match=r"AccessDenied|SignatureDoesNotMatch"):
            dev.create_access_key(UserName="admin")
    assert root.list_access_keys(UserName="admin")["AccessKeyMetadata"] == []
