"""STS basics end to end: GetCallerIdentity for the root and for users (in every partition), through
header-signed and presigned requests, and the errors of the STS endpoint."""

from __future__ import annotations

import urllib.error
import urllib.request
from typing import Any

import pytest

from tests.e2e.iam_support import error_code, expect, send, signed, status_of
from tests.support import ACCOUNT
from tests.support.servers import Endpoint

pytestmark = pytest.mark.e2e


def test_root_identity(sts: Any) -> None:
    ident = sts.get_caller_identity()
    assert (ident["Account"], ident["Arn"], ident["UserId"]) == (ACCOUNT, f"arn:aws:iam::{ACCOUNT}:root", ACCOUNT)


def test_user_identity_follows_renames(gh: Endpoint, iam: Any) -> None:
    user = iam.create_user(UserName="before", Path="/p/")["User"]
    key = iam.create_access_key(UserName="before")["AccessKey"]
    sts = gh.client("sts", key["AccessKeyId"], key["SecretAccessKey"])
    ident = sts.get_caller_identity()
    assert (ident["UserId"], ident["Arn"]) == (user["UserId"], f"arn:aws:iam::{ACCOUNT}:user/p/before")
    iam.update_user(UserName="before", NewUserName="after", NewPath="/q/")
    ident = sts.get_caller_identity()
    assert (ident["UserId"], ident["Arn"]) == (user["UserId"], f"arn:aws:iam::{ACCOUNT}:user/q/after")


@pytest.mark.parametrize("region", ["eu-west-3", "ap-northeast-1"])
def test_identity_from_any_region_of_the_partition(gh: Endpoint, region: str) -> None:
    ident = gh.client("sts", region=region).get_caller_identity()
    assert ident["Arn"] == f"arn:aws:iam::{ACCOUNT}:root"


@pytest.mark.parametrize("region", ["cn-north-1", "us-gov-east-1"])
def test_identity_from_another_partitions_region_is_refused(gh: Endpoint, region: str) -> None:
    expect("SignatureDoesNotMatch", gh.client("sts", region=region).get_caller_identity)


def test_presigned_get_caller_identity(gh: Endpoint, sts: Any) -> None:
    url = sts.generate_presigned_url("get_caller_identity", ExpiresIn=60)
    with urllib.request.urlopen(url, timeout=10) as r:
        body = r.read().decode()
    assert f"<Arn>arn:aws:iam::{ACCOUNT}:root</Arn>" in body and "<Account>" in body


def test_presigned_url_with_a_tampered_signature(gh: Endpoint, sts: Any) -> None:
    url = sts.generate_presigned_url("get_caller_identity", ExpiresIn=60)
    head, sig = url.rsplit("X-Amz-Signature=", 1)
    bad = head + "X-Amz-Signature=" + ("0" if sig[0] != "0" else "1") + sig[1:]
    with pytest.raises(urllib.error.HTTPError) as info:
        urllib.request.urlopen(bad, timeout=10)
    assert info.value.code == 403 and error_code(info.value.read().decode()) == "SignatureDoesNotMatch"


def test_sts_rejects_bad_credentials(gh: Endpoint) -> None:
    response = expect("SignatureDoesNotMatch", gh.client("sts", secret="nope").get_caller_identity)
    assert status_of(response) == 403
    response = expect("InvalidClientTokenId", gh.client("sts", key="AKIANOSUCHKEY0000000").get_caller_identity)
    assert status_of(response) == 403


def test_iam_actions_are_not_sts_actions(gh: Endpoint) -> None:
    status, text = send(signed(gh.url, "Action=ListUsers&Version=2011-06-15", service="sts"))
    assert (status, error_code(text)) == (400, "InvalidAction")
    assert 'xmlns="https://sts.amazonaws.com/doc/2011-06-15/"' in text
    status, text = send(signed(gh.url, "Action=GetCallerIdentity&Version=2010-05-08", service="iam"))
    assert (status, error_code(text)) == (400, "InvalidAction")


def test_get_caller_identity_needs_no_permission(gh: Endpoint, iam: Any) -> None:
    iam.create_user(UserName="u")
    iam.put_user_policy(UserName="u", PolicyName="deny-all", PolicyDocument=(
        '{"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Action": "*", "Resource": "*"}]}'))
    key = iam.create_access_key(UserName="u")["AccessKey"]
    ident = gh.client("sts", key["AccessKeyId"], key["SecretAccessKey"]).get_caller_identity()
    assert ident["Arn"] == f"arn:aws:iam::{ACCOUNT}:user/u"
