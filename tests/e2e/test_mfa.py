"""Virtual MFA devices end to end: a seed and a scannable QR code once, enabling with two consecutive codes,
listing by assignment, tags, resync, deactivate and delete; codes that are never accepted twice, across STS and
sign-in; and AWS's documented "deny everything unless signed in with MFA, except managing your own device"
policy, which allows only with a fresh code; and wrong codes at STS counting toward the sign-in lockout.

No test waits for a time step to pass: right after enabling with the codes of steps s-1 and s, the code of step
s+1 is fresh and inside the server's window (one step of clock skew either side)."""

from __future__ import annotations

import json
import struct
import time
import urllib.error
import urllib.request
from typing import Any

import pyotp
import pytest

from tests.e2e.iam_support import expect, rejected
from tests.support import ACCOUNT
from tests.support.servers import Endpoint, running

pytestmark = pytest.mark.e2e

PASSWORD = "Correct-Horse-Battery-9"
MFA_REQUIRED = json.dumps({"Version": "2012-10-17", "Statement": [
    {"Sid": "AllowReads", "Effect": "Allow", "Action": ["iam:Get*", "iam:List*"], "Resource": "*"},
    {"Sid": "BlockMostAccessUnlessSignedInWithMFA", "Effect": "Deny",
     "NotAction": ["iam:CreateVirtualMFADevice", "iam:EnableMFADevice", "iam:GetUser", "iam:ListMFADevices",
                   "iam:ListVirtualMFADevices", "iam:ResyncMFADevice", "sts:GetSessionToken"],
     "Resource": "*", "Condition": {"BoolIfExists": {"aws:MultiFactorAuthPresent": "false"}}}]})


def seed_of(device: dict[str, Any]) -> str:
    seed = device["Base32StringSeed"]
    return seed.decode() if isinstance(seed, bytes) else seed


def enabled_device(iam: Any, user: str, name: str) -> tuple[str, pyotp.TOTP, int]:
    """Create and enable a device for `user`; return (serial, totp, the step of the second enabling code)."""
    device = iam.create_virtual_mfa_device(VirtualMFADeviceName=name)["VirtualMFADevice"]
    totp = pyotp.TOTP(seed_of(device))
    step = int(time.time() // 30)
    iam.enable_mfa_device(UserName=user, SerialNumber=device["SerialNumber"],
                          AuthenticationCode1=totp.at((step - 1) * 30), AuthenticationCode2=totp.at(step * 30))
    return device["SerialNumber"], totp, step


def signin(gh: Endpoint, **fields: str) -> tuple[int, dict[str, Any], str]:
    req = urllib.request.Request(gh.url + "/signin", data=json.dumps(fields).encode(), method="POST",
                                 headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, json.loads(r.read()), r.headers.get("Set-Cookie", "")
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read()), ""


def test_create_returns_seed_and_qr_code_once(iam: Any) -> None:
    device = iam.create_virtual_mfa_device(VirtualMFADeviceName="phone", Path="/team/",
                                           Tags=[{"Key": "owner", "Value": "erin"}])["VirtualMFADevice"]
    assert device["SerialNumber"] == f"arn:aws:iam::{ACCOUNT}:mfa/team/phone"
    seed = seed_of(device)
    assert len(seed) == 64 and pyotp.TOTP(seed).now().isdigit()
    png = device["QRCodePNG"]
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    assert struct.unpack(">II", png[16:24])[0] >= 100
    assert device["Tags"] == [{"Key": "owner", "Value": "erin"}]
    listed = iam.list_virtual_mfa_devices()["VirtualMFADevices"]
    # ListVirtualMFADevices "does not return tags" (AWS API reference, ListVirtualMFADevices); ListMFADeviceTags does.
    assert listed == [{"SerialNumber": device["SerialNumber"]}]
    assert iam.list_mfa_device_tags(SerialNumber=device["SerialNumber"])["Tags"] == [{"Key": "owner", "Value": "erin"}]
    response = expect("EntityAlreadyExists", iam.create_virtual_mfa_device, VirtualMFADeviceName="phone",
                      Path="/team/")
    # AWS's wording (LocalStack's AWS-validated test_iam_mfa.snapshot.json, "create-duplicate-error").
    assert response["Error"]["Message"] == "MFA device already exists."


def test_enable_list_deactivate_delete(iam: Any) -> None:
    iam.create_user(UserName="erin")
    serial, _, _ = enabled_device(iam, "erin", "erin-phone")
    spare = iam.create_virtual_mfa_device(VirtualMFADeviceName="spare")["VirtualMFADevice"]["SerialNumber"]
    devices = iam.list_mfa_devices(UserName="erin")["MFADevices"]
    assert [(d["UserName"], d["SerialNumber"]) for d in devices] == [("erin", serial)]
    assigned = iam.list_virtual_mfa_devices(AssignmentStatus="Assigned")["VirtualMFADevices"]
    assert [(d["SerialNumber"], d["User"]["UserName"]) for d in assigned] == [(serial, "erin")]
    assert "Base32StringSeed" not in assigned[0] and "QRCodePNG" not in assigned[0]
    unassigned = iam.list_virtual_mfa_devices(AssignmentStatus="Unassigned")["VirtualMFADevices"]
    assert [d["SerialNumber"] for d in unassigned] == [spare]
    assert len(iam.list_virtual_mfa_devices(AssignmentStatus="Any")["VirtualMFADevices"]) == 2
    got = iam.get_mfa_device(SerialNumber=serial, UserName="erin")
    assert got["SerialNumber"] == serial and got["UserName"] == "erin"
    summary = iam.get_account_summary()["SummaryMap"]
    assert (summary["MFADevices"], summary["MFADevicesInUse"]) == (2, 1)
    expect("DeleteConflict", iam.delete_virtual_mfa_device, SerialNumber=serial)
    response = expect("DeleteConflict", iam.delete_user, UserName="erin")
    assert response["Error"]["Message"] == "Cannot delete entity, must delete MFA device first."
    expect("NoSuchEntity", iam.deactivate_mfa_device, UserName="erin", SerialNumber=spare)
    iam.deactivate_mfa_device(UserName="erin", SerialNumber=serial)
    assert iam.list_mfa_devices(UserName="erin")["MFADevices"] == []
    iam.delete_virtual_mfa_device(SerialNumber=serial)
    expect("NoSuchEntity", iam.delete_virtual_mfa_device, SerialNumber=serial)
    assert [d["SerialNumber"] for d in iam.list_virtual_mfa_devices()["VirtualMFADevices"]] == [spare]
    iam.delete_user(UserName="erin")


def test_enabling_refuses_bad_codes_and_changes_nothing(iam: Any) -> None:
    iam.create_user(UserName="frank")
    device = iam.create_virtual_mfa_device(VirtualMFADeviceName="frank-phone")["VirtualMFADevice"]
    totp, now = pyotp.TOTP(seed_of(device)), time.time()
    wrong = f"{(int(totp.at(now)) + 1) % 1_000_000:06d}"
    for c1, c2 in ((wrong, totp.at(now)), (totp.at(now - 90), totp.at(now)), (totp.at(now), totp.at(now)),
                   (totp.at(now), totp.at(now - 30)), (totp.at(now - 600), totp.at(now - 570))):
        response = rejected(iam, "InvalidAuthenticationCode", iam.enable_mfa_device, UserName="frank",
                            SerialNumber=device["SerialNumber"], AuthenticationCode1=c1, AuthenticationCode2=c2)
        assert response["Error"]["Message"] == "Authentication code for device is not valid."
    expect("NoSuchEntity", iam.enable_mfa_device, UserName="frank", SerialNumber=f"arn:aws:iam::{ACCOUNT}:mfa/none",
           AuthenticationCode1="123456", AuthenticationCode2="654321")
    iam.create_user(UserName="grace")
    enabled_device(iam, "grace", "grace-phone")
    serial = iam.list_mfa_devices(UserName="grace")["MFADevices"][0]["SerialNumber"]
    expect("EntityAlreadyExists", iam.enable_mfa_device, UserName="frank", SerialNumber=serial,
           AuthenticationCode1="123456", AuthenticationCode2="654321")


def test_resync_takes_consecutive_codes_and_spends_them(iam: Any) -> None:
    iam.create_user(UserName="hank")
    serial, totp, step = enabled_device(iam, "hank", "hank-phone")
    # codes the enabling already spent are refused, even as a resync
    expect("InvalidAuthenticationCode", iam.resync_mfa_device, UserName="hank", SerialNumber=serial,
           AuthenticationCode1=totp.at((step - 1) * 30), AuthenticationCode2=totp.at(step * 30))
    # a device running ten minutes fast is brought back
    ahead = step + 20
    iam.resync_mfa_device(UserName="hank", SerialNumber=serial, AuthenticationCode1=totp.at((ahead - 1) * 30),
                          AuthenticationCode2=totp.at(ahead * 30))


def test_mfa_device_tags(iam: Any) -> None:
    serial = iam.create_virtual_mfa_device(VirtualMFADeviceName="tagged")["VirtualMFADevice"]["SerialNumber"]
    iam.tag_mfa_device(SerialNumber=serial, Tags=[{"Key": "a", "Value": "1"}, {"Key": "b", "Value": "2"}])
    iam.untag_mfa_device(SerialNumber=serial, TagKeys=["a"])
    assert iam.list_mfa_device_tags(SerialNumber=serial)["Tags"] == [{"Key": "b", "Value": "2"}]
    expect("NoSuchEntity", iam.list_mfa_device_tags, SerialNumber=f"arn:aws:iam::{ACCOUNT}:mfa/none")


def test_mfa_required_policy_allows_only_with_a_fresh_code(gh: Endpoint, iam: Any) -> None:
    iam.create_user(UserName="dana")
    iam.put_user_policy(UserName="dana", PolicyName="mfa-required", PolicyDocument=MFA_REQUIRED)
    key = iam.create_access_key(UserName="dana")["AccessKey"]
    serial, totp, step = enabled_device(iam, "dana", "dana-phone")
    plain = gh.client("iam", key["AccessKeyId"], key["SecretAccessKey"])
    expect("AccessDenied", plain.list_users)
    plain.list_mfa_devices(UserName="dana")  # managing one's own device stays allowed
    sts = gh.client("sts", key["AccessKeyId"], key["SecretAccessKey"])
    expect("AccessDenied", sts.get_session_token, SerialNumber=serial, TokenCode=totp.at(step * 30))  # enabling's
    fresh = totp.at((step + 1) * 30)
    wrong = f"{(int(fresh) + 1) % 1_000_000:06d}"
    expect("AccessDenied", sts.get_session_token, SerialNumber=serial, TokenCode=wrong)
    session = sts.get_session_token(SerialNumber=serial, TokenCode=fresh)["Credentials"]
    mfa_iam = gh.client("iam", session["AccessKeyId"], session["SecretAccessKey"], token=session["SessionToken"])
    mfa_iam.list_users()
    expect("AccessDenied", sts.get_session_token, SerialNumber=serial, TokenCode=fresh)  # replayed
    no_mfa = sts.get_session_token()["Credentials"]  # a session without MFA: the policy still denies
    no_mfa_iam = gh.client("iam", no_mfa["AccessKeyId"], no_mfa["SecretAccessKey"], token=no_mfa["SessionToken"])
    expect("InvalidClientTokenId", no_mfa_iam.list_users)  # AWS: such sessions cannot call IAM at all


def test_signin_with_password_and_totp_shares_spent_codes_with_sts(gh: Endpoint, iam: Any) -> None:
    iam.create_user(UserName="ivy")
    iam.create_login_profile(UserName="ivy", Password=PASSWORD)
    iam.put_user_policy(UserName="ivy", PolicyName="mfa-required", PolicyDocument=MFA_REQUIRED)
    key = iam.create_access_key(UserName="ivy")["AccessKey"]
    serial, totp, step = enabled_device(iam, "ivy", "ivy-phone")
    status, body, _ = signin(gh, account=ACCOUNT, username="ivy", password=PASSWORD)
    assert (status, body["code"]) == (401, "MfaRequired")
    status, body, _ = signin(gh, account=ACCOUNT, username="ivy", password=PASSWORD, mfa_code=totp.at(step * 30))
    assert (status, body["code"]) == (401, "InvalidMfaCode")  # spent by the enabling
    fresh = totp.at((step + 1) * 30)
    status, body, cookie = signin(gh, account=ACCOUNT, username="ivy", password=PASSWORD, mfa_code=fresh)
    assert status == 200 and body["mfa"] is True and body["arn"] == f"arn:aws:iam::{ACCOUNT}:user/ivy"
    value = cookie.split(";")[0]
    req = urllib.request.Request(gh.url + "/signin/session", headers={"Cookie": value})
    with urllib.request.urlopen(req, timeout=10) as r:
        current = json.loads(r.read())
    assert current["mfa"] is True and current["mfa_time"] is not None
    sts = gh.client("sts", key["AccessKeyId"], key["SecretAccessKey"])
    expect("AccessDenied", sts.get_session_token, SerialNumber=serial, TokenCode=fresh)  # spent by the sign-in
    status, body, _ = signin(gh, account=ACCOUNT, username="ivy", password=PASSWORD, mfa_code=fresh)
    assert (status, body["code"]) == (401, "InvalidMfaCode")


def test_sts_assume_role_with_mfa(gh: Endpoint, iam: Any) -> None:
    iam.create_user(UserName="judy")
    iam.put_user_policy(UserName="judy", PolicyName="assume", PolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": "*"}]}))
    iam.create_role(RoleName="guarded", AssumeRolePolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
                                                "Action": "sts:AssumeRole",
                                                "Condition": {"Bool": {"aws:MultiFactorAuthPresent": "true"}}}]}))
    key = iam.create_access_key(UserName="judy")["AccessKey"]
    serial, totp, step = enabled_device(iam, "judy", "judy-phone")
    sts = gh.client("sts", key["AccessKeyId"], key["SecretAccessKey"])
    role = f"arn:aws:iam::{ACCOUNT}:role/guarded"
    expect("AccessDenied", sts.assume_role, RoleArn=role, RoleSessionName="judy-session")
    sts.assume_role(RoleArn=role, RoleSessionName="judy-session", SerialNumber=serial,
                    TokenCode=totp.at((step + 1) * 30))
    expect("AccessDenied", sts.assume_role, RoleArn=role, RoleSessionName="judy-session", SerialNumber=serial,
           TokenCode=totp.at((step + 1) * 30))


def test_wrong_sts_codes_lock_the_user_out_and_a_lock_refuses_the_right_code() -> None:
    """A stolen access key must not become an MFA-code oracle: wrong TokenCodes count toward the user's sign-in
    lock, and while it holds the right code gets the wrong-code answer."""
    with running("--dev", "--lockout-threshold", "3", "--lockout-window", "600", "--lockout-duration", "5") as ep:
        iam = ep.client("iam")
        iam.create_user(UserName="kim")
        iam.create_login_profile(UserName="kim", Password=PASSWORD)
        key = iam.create_access_key(UserName="kim")["AccessKey"]
        serial, totp, step = enabled_device(iam, "kim", "kim-phone")
        sts = ep.client("sts", key["AccessKeyId"], key["SecretAccessKey"])
        valid = {totp.at((step + d) * 30) for d in range(-2, 4)}
        wrong = [c for c in (f"{n:06d}" for n in range(100000, 100010)) if c not in valid][:3]
        for code in wrong:
            response = expect("AccessDenied", sts.get_session_token, SerialNumber=serial, TokenCode=code)
            assert response["Error"]["Message"] == "MultiFactorAuthentication failed with invalid MFA one time " \
                                                    "pass code."
        fresh = totp.at((step + 1) * 30)
        response = expect("AccessDenied", sts.get_session_token, SerialNumber=serial, TokenCode=fresh)
        assert response["Error"]["Message"] == "MultiFactorAuthentication failed with invalid MFA one time pass code."
        status, body, _ = signin(ep, account=ACCOUNT, username="kim", password=PASSWORD, mfa_code=fresh)
        assert (status, body["code"]) == (401, "LockedOut")
        time.sleep(5.2)
        assert sts.get_session_token(SerialNumber=serial, TokenCode=fresh)["Credentials"]["AccessKeyId"]
