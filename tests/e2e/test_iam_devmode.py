"""Development mode end to end: pinned account and root key, reset (and moto's reset path) back to the
bootstrapped state, nothing kept across a restart."""

from __future__ import annotations

import datetime as dt
import json
import urllib.error
import urllib.request
from typing import Any

import pytest

from tests.e2e.iam_support import POLICY, TRUST, expect, send, signed, snapshot
from tests.support import ACCOUNT
from tests.support.servers import Endpoint, running

pytestmark = pytest.mark.e2e


def _fill(iam: Any) -> None:
    iam.create_user(UserName="u", Tags=[{"Key": "a", "Value": "b"}])
    iam.create_access_key(UserName="u")
    iam.create_access_key()
    iam.create_group(GroupName="g")
    iam.add_user_to_group(GroupName="g", UserName="u")
    arn = iam.create_policy(PolicyName="p", PolicyDocument=POLICY)["Policy"]["Arn"]
    iam.attach_user_policy(UserName="u", PolicyArn=arn)
    iam.create_role(RoleName="r", AssumeRolePolicyDocument=TRUST)
    iam.create_instance_profile(InstanceProfileName="ip")
    iam.create_account_alias(AccountAlias="dev-alias")
    iam.set_security_token_service_preferences(GlobalEndpointTokenVersion="v2Token")
    iam.create_service_linked_role(AWSServiceName="ecs.amazonaws.com")


@pytest.mark.parametrize("path", ["/_gatehouse/reset", "/moto-api/reset"])
def test_reset_returns_to_the_bootstrapped_state(gh: Endpoint, iam: Any, path: str) -> None:
    fresh = snapshot(iam)
    _fill(iam)
    assert snapshot(iam) != fresh
    with urllib.request.urlopen(urllib.request.Request(gh.url + path, method="POST"), timeout=30) as r:
        assert r.status == 200 and json.loads(r.read())["reset"] is True
    assert snapshot(iam) == fresh
    expect("NoSuchEntity", iam.get_user, UserName="u")
    assert gh.client("sts").get_caller_identity()["Account"] == ACCOUNT


def test_keys_made_before_a_reset_stop_working(gh: Endpoint, iam: Any) -> None:
    iam.create_user(UserName="u")
    key = iam.create_access_key(UserName="u")["AccessKey"]
    gh.reset()
    expect("InvalidClientTokenId", gh.client("sts", key["AccessKeyId"], key["SecretAccessKey"]).get_caller_identity)


def test_pinned_account_and_root_key(gh: Endpoint, iam: Any) -> None:
    assert gh.client("sts").get_caller_identity()["Arn"] == f"arn:aws:iam::{ACCOUNT}:root"
    assert [k["AccessKeyId"] for k in iam.list_access_keys()["AccessKeyMetadata"]] == ["test"]


def test_a_dev_server_keeps_nothing_across_restarts() -> None:
    with running("--dev") as ep:
        ep.client("iam").create_user(UserName="ephemeral")
    with running("--dev") as ep:
        expect("NoSuchEntity", ep.client("iam").get_user, UserName="ephemeral")
        assert ep.client("iam").list_users()["Users"] == []


def test_reset_only_answers_post(gh: Endpoint) -> None:
    with pytest.raises(urllib.error.HTTPError) as info:
        urllib.request.urlopen(gh.url + "/_gatehouse/reset", timeout=10)
    assert info.value.code in (404, 405)


def test_no_enforce_identifies_callers_but_skips_clock_and_policies() -> None:
    with running("--dev", "--no-enforce") as ep:
        iam = ep.client("iam")
        iam.create_user(UserName="free")
        key = iam.create_access_key(UserName="free")["AccessKey"]
        mine = ep.client("iam", key["AccessKeyId"], key["SecretAccessKey"])
        assert [u["UserName"] for u in mine.list_users()["Users"]] == ["free"]
        ident = ep.client("sts", key["AccessKeyId"], key["SecretAccessKey"]).get_caller_identity()
        assert ident["Arn"] == f"arn:aws:iam::{ACCOUNT}:user/free"
        old = dt.datetime.now(dt.UTC) - dt.timedelta(hours=3)
        status, _ = send(signed(ep.url, "Action=ListUsers&Version=2010-05-08", when=old))
        assert status == 200
        expect("SignatureDoesNotMatch", ep.client("iam", secret="wrong").list_users)
        expect("InvalidClientTokenId", ep.client("iam", key="AKIANOSUCHKEY0000000").list_users)


def test_no_enforce_is_refused_outside_dev_mode(tmp_path: Any) -> None:
    with pytest.raises(RuntimeError, match="exited early"), running("--data", str(tmp_path), "--no-enforce"):
        pass


def _reset_auth(url: str, value: str) -> tuple[int, dict]:
    req = urllib.request.Request(url + "/moto-api/reset-auth", data=value.encode(), method="POST")
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())


def test_motos_auth_switch_lets_a_budget_of_requests_through(gh: Endpoint) -> None:
    """Suites written for moto's server mode set INITIAL_NO_AUTH_ACTION_COUNT with POST /moto-api/reset-auth and
    restore it from the answer; the requests in the budget are served unchecked (an unknown key as the root)."""
    iam = gh.client("iam")
    iam.create_user(UserName="nopolicy")
    key = iam.create_access_key(UserName="nopolicy")["AccessKey"]
    mine = gh.client("iam", key["AccessKeyId"], key["SecretAccessKey"])
    expect("AccessDenied", mine.list_users)
    assert _reset_auth(gh.url, "3") == (200, {"status": "ok", "PREVIOUS_INITIAL_NO_AUTH_ACTION_COUNT": "0"})
    assert "nopolicy" in [u["UserName"] for u in mine.list_users()["Users"]]
    unknown = gh.client("iam", "AKIAUNKNOWNUNKNOWN00", "testing")
    unknown.create_user(UserName="made-unchecked")
    assert gh.client("sts", "AKIAUNKNOWNUNKNOWN00", "testing").get_caller_identity()["Arn"] == \
        f"arn:aws:iam::{ACCOUNT}:root"
    expect("AccessDenied", mine.list_users)  # the budget of three is spent
    expect("InvalidClientTokenId", unknown.list_users)
    assert _reset_auth(gh.url, "0")[1]["PREVIOUS_INITIAL_NO_AUTH_ACTION_COUNT"] == "3"
    assert _reset_auth(gh.url, "inf")[1]["PREVIOUS_INITIAL_NO_AUTH_ACTION_COUNT"] == "0"
    assert "nopolicy" in [u["UserName"] for u in mine.list_users()["Users"]]
    assert _reset_auth(gh.url, "0")[1]["PREVIOUS_INITIAL_NO_AUTH_ACTION_COUNT"] == "inf"
    expect("AccessDenied", mine.list_users)
    assert _reset_auth(gh.url, "many")[0] == 400


def test_no_enforce_reports_an_infinite_budget() -> None:
    with running("--dev", "--no-enforce") as ep:
        assert _reset_auth(ep.url, "0")[1]["PREVIOUS_INITIAL_NO_AUTH_ACTION_COUNT"] == "inf"
        iam = ep.client("iam")
        iam.create_user(UserName="u")
        key = iam.create_access_key(UserName="u")["AccessKey"]
        expect("AccessDenied", ep.client("iam", key["AccessKeyId"], key["SecretAccessKey"]).list_users)


def test_the_auth_switch_does_not_exist_outside_development_mode(tmp_path: Any) -> None:
    with running("--data", str(tmp_path)) as ep, pytest.raises(urllib.error.HTTPError) as info:
        urllib.request.urlopen(urllib.request.Request(ep.url + "/moto-api/reset-auth", data=b"4", method="POST"),
                               timeout=10)
    assert info.value.code in (404, 405)


