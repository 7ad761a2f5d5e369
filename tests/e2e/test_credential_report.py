"""The credential report through boto3 and the aws CLI: ReportNotPresent before the first, STARTED then COMPLETE,
AWS's exact columns, and rows that match the users, keys, passwords and MFA devices the test made."""

from __future__ import annotations

import base64
import csv
import io
import json
import time
from typing import Any

import pyotp
import pytest
from botocore.exceptions import ClientError

from tests.support import ACCOUNT
from tests.support.servers import Endpoint

COLUMNS = ["user", "arn", "user_creation_time", "password_enabled", "password_last_used", "password_last_changed",
           "password_next_rotation", "mfa_active", "access_key_1_active", "access_key_1_last_rotated",
           "access_key_1_last_used_date", "access_key_1_last_used_region", "access_key_1_last_used_service",
           "access_key_2_active", "access_key_2_last_rotated", "access_key_2_last_used_date",
           "access_key_2_last_used_region", "access_key_2_last_used_service", "cert_1_active",
           "cert_1_last_rotated", "cert_2_active", "cert_2_last_rotated"]


def test_credential_report_matches_the_account(gh: Endpoint, iam: Any) -> None:
    with pytest.raises(ClientError) as e:
        iam.get_credential_report()
    assert e.value.response["Error"]["Code"] == "ReportNotPresent"
    for name in ("plain", "keyed", "walker", "guarded"):
        iam.create_user(UserName=name)
    key = iam.create_access_key(UserName="keyed")["AccessKey"]
    time.sleep(1.1)  # key 1 is the older key: times are kept to the second
    iam.update_access_key(UserName="keyed", AccessKeyId=iam.create_access_key(UserName="keyed")["AccessKey"][
        "AccessKeyId"], Status="Inactive")
    gh.client("sts", key["AccessKeyId"], key["SecretAccessKey"]).get_caller_identity()
    iam.create_login_profile(UserName="walker", Password="Report-Passw0rd-Good!")
    device = iam.create_virtual_mfa_device(VirtualMFADeviceName="guarded")["VirtualMFADevice"]
    totp, now = pyotp.TOTP(device["Base32StringSeed"].decode()), time.time()
    iam.enable_mfa_device(UserName="guarded", SerialNumber=device["SerialNumber"],
                          AuthenticationCode1=totp.at(now - 30), AuthenticationCode2=totp.at(now))

    assert iam.generate_credential_report()["State"] == "STARTED"
    assert iam.generate_credential_report()["State"] == "COMPLETE"
    r = gh.aws("iam", "get-credential-report")
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert out["ReportFormat"] == "text/csv" and out["GeneratedTime"]
    rows = list(csv.reader(io.StringIO(base64.b64decode(out["Content"]).decode())))
    assert rows[0] == COLUMNS
    by = {row[0]: dict(zip(COLUMNS, row, strict=True)) for row in rows[1:]}
    assert [row[0] for row in rows[1:]] == ["<root_account>", "guarded", "keyed", "plain", "walker"]
    root = by["<root_account>"]
    assert root["arn"] == f"arn:aws:iam::{ACCOUNT}:root" and root["password_enabled"] == "not_supported"
    assert root["access_key_1_active"] == "true"  # development mode's root key
    plain = by["plain"]
    assert plain["arn"] == f"arn:aws:iam::{ACCOUNT}:user/plain"
    assert [plain[c] for c in ("password_enabled", "password_last_used", "mfa_active", "access_key_1_active",
                               "access_key_1_last_rotated", "cert_1_active")] == ["false", "N/A", "false", "false",
                                                                                  "N/A", "false"]
    keyed = by["keyed"]
    assert keyed["access_key_1_active"] == "true" and keyed["access_key_1_last_used_service"] == "sts"
    assert keyed["access_key_1_last_used_region"] == "us-east-1" and keyed["access_key_1_last_used_date"] != "N/A"
    assert keyed["access_key_2_active"] == "false" and keyed["access_key_2_last_rotated"] != "N/A"
    walker = by["walker"]
    assert walker["password_enabled"] == "true" and walker["password_last_used"] == "no_information"
    assert walker["password_last_changed"].endswith("+00:00") and walker["password_next_rotation"] == "N/A"
    assert by["guarded"]["mfa_active"] == "true"


def test_only_callers_allowed_may_generate_or_read(gh: Endpoint, iam: Any) -> None:
    iam.create_user(UserName="nosy")
    k = iam.create_access_key(UserName="nosy")["AccessKey"]
    nosy = gh.client("iam", k["AccessKeyId"], k["SecretAccessKey"])
    for call in (nosy.generate_credential_report, nosy.get_credential_report):
        with pytest.raises(ClientError) as e:
            call()
        assert e.value.response["Error"]["Code"] == "AccessDenied"
