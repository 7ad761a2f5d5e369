"""`gatehouse login`: password (and MFA) sign-in from the command line, giving working temporary credentials."""

from __future__ import annotations

import json
import subprocess
import sys
import time

import pyotp
import pytest

from tests.support import ACCOUNT

pytestmark = pytest.mark.e2e
PASSWORD = "Correct-Horse-Battery-9"


def login(url: str, *args: str, password: str = PASSWORD) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "gatehouse", "login", "--endpoint-url", url, "--password-stdin",
                           "--output", "json", *args], input=password + "\n", capture_output=True, text=True,
                          timeout=60)


def test_login_prints_working_credentials(gh):
    iam = gh.client("iam")
    iam.create_user(UserName="cli-user")
    iam.create_login_profile(UserName="cli-user", Password=PASSWORD)
    out = login(gh.url, "--account", ACCOUNT, "--username", "cli-user")
    assert out.returncode == 0, out.stderr
    creds = json.loads(out.stdout)
    assert creds["AccessKeyId"].startswith("ASIA") and creds["Arn"] == f"arn:aws:iam::{ACCOUNT}:user/cli-user"
    sts = gh.client("sts", creds["AccessKeyId"], creds["SecretAccessKey"], token=creds["SessionToken"])
    assert sts.get_caller_identity()["Arn"] == creds["Arn"]
    wrong = login(gh.url, "--account", ACCOUNT, "--username", "cli-user", password="Wrong-Password-1")
    assert wrong.returncode == 1 and "InvalidCredentials" in wrong.stderr
    assert PASSWORD not in out.stdout + out.stderr


def test_login_with_mfa_gives_mfa_credentials(gh):
    iam = gh.client("iam")
    iam.create_user(UserName="mfa-cli")
    iam.create_login_profile(UserName="mfa-cli", Password=PASSWORD)
    iam.put_user_policy(UserName="mfa-cli", PolicyName="read", PolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "iam:ListUsers", "Resource": "*",
                                                "Condition": {"Bool": {"aws:MultiFactorAuthPresent": "true"}}}]}))
    device = iam.create_virtual_mfa_device(VirtualMFADeviceName="mfa-cli-phone")["VirtualMFADevice"]
    totp = pyotp.TOTP(device["Base32StringSeed"].decode())
    now = time.time()
    iam.enable_mfa_device(UserName="mfa-cli", SerialNumber=device["SerialNumber"],
                          AuthenticationCode1=totp.at(now - 30), AuthenticationCode2=totp.at(now))
    refused = login(gh.url, "--account", ACCOUNT, "--username", "mfa-cli")
    assert refused.returncode == 1 and "MfaRequired" in refused.stderr
    out = login(gh.url, "--account", ACCOUNT, "--username", "mfa-cli", "--mfa-code", totp.at(now + 30))
    assert out.returncode == 0, out.stderr
    creds = json.loads(out.stdout)
    session_iam = gh.client("iam", creds["AccessKeyId"], creds["SecretAccessKey"], token=creds["SessionToken"])
    assert "mfa-cli" in [u["UserName"] for u in session_iam.list_users()["Users"]]


def test_login_through_a_required_password_change(gh):
    """With --password-stdin the current password is the first line and the new one the second; the old one stops
    working, and a run without a second line says what is needed instead of hanging."""
    iam = gh.client("iam")
    iam.create_user(UserName="new-hire")
    iam.create_login_profile(UserName="new-hire", Password=PASSWORD, PasswordResetRequired=True)
    args = ("--account", ACCOUNT, "--username", "new-hire")
    without = login(gh.url, *args)
    assert without.returncode == 1 and "second line" in without.stderr
    changed = "Changed-Horse-Battery-7"
    out = login(gh.url, *args, password=f"{PASSWORD}\n{changed}")
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["AccessKeyId"].startswith("ASIA")
    assert iam.get_login_profile(UserName="new-hire")["LoginProfile"]["PasswordResetRequired"] is False
    assert login(gh.url, *args, password=changed).returncode == 0
    assert login(gh.url, *args).returncode == 1
    assert changed not in out.stdout + out.stderr
