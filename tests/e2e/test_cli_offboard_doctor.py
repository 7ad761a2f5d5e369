"""`gatehouse user offboard` and `gatehouse doctor` against a real development server, through its API as an
operator runs them: a leaver with every kind of attachment leaves nothing behind but audit events, a dry run
changes nothing, and doctor names each planted problem (and nothing on an account with none it can clear)."""

from __future__ import annotations

import datetime as dt
import json
import os
import time
from typing import Any

import pyotp
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa
from cryptography.x509.oid import NameOID
from typer.testing import CliRunner

from gatehouse.cli import doctor
from gatehouse.cli.main import app
from tests.support import ACCOUNT
from tests.support.servers import Endpoint

runner = CliRunner()
SCOPED = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject",
                                                  "Resource": "arn:aws:s3:::reports/*"}]}


def cli(gh: Endpoint, *args: str, stdin: str | None = None, key: tuple[str, str] | None = None) -> Any:
    key_id, secret = key or (gh.key, gh.secret)
    env = {"AWS_ACCESS_KEY_ID": key_id, "AWS_SECRET_ACCESS_KEY": secret, "AWS_DEFAULT_REGION": "us-east-1",
           "AWS_CONFIG_FILE": os.devnull, "AWS_SHARED_CREDENTIALS_FILE": os.devnull, "AWS_SESSION_TOKEN": None,
           "AWS_PROFILE": None}
    return runner.invoke(app, [*args, "--endpoint-url", gh.url], env=env, input=stdin)


def certificate(cn: str) -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])
    now = dt.datetime.now(dt.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + dt.timedelta(days=30)).sign(key, hashes.SHA256()))
    return cert.public_bytes(serialization.Encoding.PEM).decode()


def plant_leaver(iam: Any, name: str) -> dict[str, Any]:
    """A user with one of everything DeleteUser refuses to leave behind."""
    iam.create_user(UserName=name)
    keys = [iam.create_access_key(UserName=name)["AccessKey"] for _ in range(2)]
    iam.create_login_profile(UserName=name, Password="Leaver-Passw0rd-Strong!")
    device = iam.create_virtual_mfa_device(VirtualMFADeviceName=f"{name}-phone")["VirtualMFADevice"]
    totp, now = pyotp.TOTP(device["Base32StringSeed"].decode()), time.time()
    iam.enable_mfa_device(UserName=name, SerialNumber=device["SerialNumber"], AuthenticationCode1=totp.at(now - 30),
                          AuthenticationCode2=totp.at(now))
    ssh = ed25519.Ed25519PrivateKey.generate().public_key().public_bytes(
        serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH).decode()
    iam.upload_ssh_public_key(UserName=name, SSHPublicKeyBody=ssh)
    iam.create_service_specific_credential(UserName=name, ServiceName="codecommit.amazonaws.com")
    iam.upload_signing_certificate(UserName=name, CertificateBody=certificate(name))
    iam.create_group(GroupName="staff")
    iam.add_user_to_group(GroupName="staff", UserName=name)
    arn = iam.create_policy(PolicyName="reports", PolicyDocument=json.dumps(SCOPED))["Policy"]["Arn"]
    iam.attach_user_policy(UserName=name, PolicyArn=arn)
    iam.put_user_policy(UserName=name, PolicyName="own", PolicyDocument=json.dumps(SCOPED))
    return {"keys": keys, "serial": device["SerialNumber"], "policy": arn}


def traces(iam: Any, name: str) -> dict[str, Any]:
    return {"keys": iam.list_access_keys(UserName=name)["AccessKeyMetadata"],
            "mfa": iam.list_mfa_devices(UserName=name)["MFADevices"],
            "ssh": iam.list_ssh_public_keys(UserName=name)["SSHPublicKeys"],
            "service": iam.list_service_specific_credentials(UserName=name)["ServiceSpecificCredentials"],
            "certs": iam.list_signing_certificates(UserName=name)["Certificates"],
            "groups": iam.list_groups_for_user(UserName=name)["Groups"],
            "attached": iam.list_attached_user_policies(UserName=name)["AttachedPolicies"],
            "inline": iam.list_user_policies(UserName=name)["PolicyNames"]}


def test_dry_run_lists_every_step_and_changes_nothing(gh: Endpoint) -> None:
    iam = gh.client("iam")
    plant_leaver(iam, "leaver")
    before = traces(iam, "leaver")
    r = cli(gh, "user", "offboard", "leaver", "--dry-run", "--output", "json")
    assert r.exit_code == 0, r.output
    ops = [s["Operation"] for s in json.loads(r.stdout)["Steps"]]
    assert ops == ["DeleteLoginProfile", "DeleteAccessKey", "DeleteAccessKey", "DeleteSigningCertificate",
                   "DeleteSSHPublicKey", "DeleteServiceSpecificCredential", "DeactivateMFADevice",
                   "DeleteVirtualMFADevice", "DeleteUserPolicy", "DetachUserPolicy", "RemoveUserFromGroup",
                   "DeleteUser"]
    assert traces(iam, "leaver") == before
    assert iam.get_login_profile(UserName="leaver")["LoginProfile"]["UserName"] == "leaver"
    table = cli(gh, "user", "offboard", "leaver", "--dry-run")
    assert table.exit_code == 0 and "DeleteVirtualMFADevice" in table.stdout and "nothing changed" in table.stdout


def test_offboarding_leaves_nothing_but_audit_events(gh: Endpoint) -> None:
    iam = gh.client("iam")
    planted = plant_leaver(iam, "leaver")
    refused = cli(gh, "user", "offboard", "leaver", stdin="n\n")
    assert refused.exit_code == 1 and iam.get_user(UserName="leaver")
    r = cli(gh, "user", "offboard", "leaver", stdin="y\n")
    assert r.exit_code == 0 and "in one transaction" in r.stdout, r.output
    with pytest.raises(iam.exceptions.NoSuchEntityException):
        iam.get_user(UserName="leaver")
    devices = iam.list_virtual_mfa_devices()["VirtualMFADevices"]
    assert not [d for d in devices if d["SerialNumber"] == planted["serial"]]
    assert iam.get_group(GroupName="staff")["Users"] == []
    assert iam.list_entities_for_policy(PolicyArn=planted["policy"])["PolicyUsers"] == []
    for key in planted["keys"]:
        with pytest.raises(Exception, match="InvalidClientTokenId"):
            gh.client("sts", key["AccessKeyId"], key["SecretAccessKey"]).get_caller_identity()
    iam.create_user(UserName="leaver")  # a newcomer of the same name inherits nothing
    assert not any(traces(iam, "leaver").values())
    with pytest.raises(iam.exceptions.NoSuchEntityException):
        iam.get_login_profile(UserName="leaver")
    trail = gh.client("cloudtrail")
    for name, count in (("DeleteLoginProfile", 1), ("DeleteAccessKey", 2), ("DeleteSigningCertificate", 1),
                        ("DeleteSSHPublicKey", 1), ("DeleteServiceSpecificCredential", 1), ("DeactivateMFADevice", 1),
                        ("DeleteVirtualMFADevice", 1), ("DeleteUserPolicy", 1), ("DetachUserPolicy", 1),
                        ("RemoveUserFromGroup", 1), ("DeleteUser", 1)):
        events = trail.lookup_events(LookupAttributes=[{"AttributeKey": "EventName", "AttributeValue": name}])["Events"]
        records = [json.loads(e["CloudTrailEvent"]) for e in events]
        assert len([x for x in records if not x.get("errorCode")]) == count, name
        if name != "DeleteVirtualMFADevice":  # its only parameter is the serial number
            assert all(x["requestParameters"].get("userName") == "leaver" for x in records), name
    whole = trail.lookup_events(LookupAttributes=[{"AttributeKey": "EventName", "AttributeValue": "OffboardUser"}])
    (record,) = [json.loads(e["CloudTrailEvent"]) for e in whole["Events"]]
    assert record["eventSource"] == "gatehouse.amazonaws.com" and record["requestParameters"] == {"userName": "leaver"}


def operator_without_delete_user(iam: Any) -> tuple[str, str]:
    """An IAM user allowed every IAM action but DeleteUser: offboarding fails at its last step."""
    iam.create_user(UserName="operator")
    iam.put_user_policy(UserName="operator", PolicyName="all-but", PolicyDocument=json.dumps(
        {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "iam:*", "Resource": "*"},
                                                {"Effect": "Deny", "Action": "iam:DeleteUser", "Resource": "*"}]}))
    key = iam.create_access_key(UserName="operator")["AccessKey"]
    return key["AccessKeyId"], key["SecretAccessKey"]


def test_a_failing_step_undoes_every_step_and_records_none(gh: Endpoint) -> None:
    iam = gh.client("iam")
    plant_leaver(iam, "leaver")
    before = traces(iam, "leaver")
    key = operator_without_delete_user(iam)
    r = cli(gh, "user", "offboard", "leaver", "--yes", key=key)
    assert r.exit_code == 1 and "AccessDenied" in r.output and "nothing changed" in r.output, r.output
    assert traces(iam, "leaver") == before
    assert iam.get_login_profile(UserName="leaver")["LoginProfile"]["UserName"] == "leaver"
    trail = gh.client("cloudtrail")
    for name in ("DeleteAccessKey", "DeleteLoginProfile", "DetachUserPolicy"):
        events = trail.lookup_events(LookupAttributes=[{"AttributeKey": "EventName", "AttributeValue": name}])
        assert events["Events"] == [], name
    refused = trail.lookup_events(LookupAttributes=[{"AttributeKey": "EventName", "AttributeValue": "OffboardUser"}])
    (record,) = [json.loads(e["CloudTrailEvent"]) for e in refused["Events"]]
    assert record["errorCode"] == "AccessDeniedException"  # the JSON protocol's name for it


def test_step_by_step_stops_at_the_failing_step_and_a_rerun_finishes(gh: Endpoint) -> None:
    iam = gh.client("iam")
    plant_leaver(iam, "leaver")
    r = cli(gh, "user", "offboard", "leaver", "--yes", "--step-by-step", key=operator_without_delete_user(iam))
    assert r.exit_code == 1 and "AccessDenied" in r.output and "run again" in r.output, r.output
    assert not any(traces(iam, "leaver").values()) and iam.get_user(UserName="leaver")
    again = cli(gh, "user", "offboard", "leaver", "--yes", "--step-by-step")
    assert again.exit_code == 0 and "separate calls" in again.stdout, again.output
    with pytest.raises(iam.exceptions.NoSuchEntityException):
        iam.get_user(UserName="leaver")


def test_offboarding_someone_unknown_is_a_clear_error(gh: Endpoint) -> None:
    r = cli(gh, "user", "offboard", "nobody", "--yes")
    assert r.exit_code == 1 and "NoSuchEntity" in r.output


def findings(r: Any) -> set[tuple[str, str]]:
    return {(f["check"], f["subject"]) for f in json.loads(r.stdout)["problems"]}


def test_doctor_names_each_planted_problem(gh: Endpoint) -> None:
    iam = gh.client("iam")
    iam.create_user(UserName="nina")
    iam.create_login_profile(UserName="nina", Password="Nina-Passw0rd-Strong!")
    admin = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": ["*"], "Resource": "*"}]}
    arn = iam.create_policy(PolicyName="too-broad", PolicyDocument=json.dumps(admin))["Policy"]["Arn"]
    iam.create_user(UserName="walt")
    iam.attach_user_policy(UserName="walt", PolicyArn=arn)
    iam.attach_user_policy(UserName="walt", PolicyArn="arn:aws:iam::aws:policy/AdministratorAccess")
    for user in ("nina", "walt"):
        iam.put_user_policy(UserName=user, PolicyName="same", PolicyDocument=json.dumps(SCOPED))
    iam.create_role(RoleName="open-door", AssumeRolePolicyDocument=json.dumps(
        {"Version": "2012-10-17",
         "Statement": [{"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole"}]}))
    r = cli(gh, "doctor", "--output", "json")
    assert r.exit_code == 1, r.output
    got = findings(r)
    assert {("root-mfa", "root"), ("root-access-keys", "root"), ("password-policy", "account"),
            ("user-without-mfa", "nina"), ("wildcard-admin-policy", "too-broad"),
            ("wildcard-admin-policy", "user walt"), ("role-trusts-anyone", "open-door"),
            ("inline-where-managed-would-do", "user nina inline policy same"),
            ("inline-where-managed-would-do", "user walt inline policy same")} <= got, got
    table = cli(gh, "doctor")
    assert table.exit_code == 1 and "open-door" in table.stdout and "\x1b[" not in table.stdout


def test_doctor_finds_nothing_else_on_a_clean_account(gh: Endpoint) -> None:
    """A dev server's root always has keys and no MFA (AWS's API cannot give root a device): only those remain."""
    iam = gh.client("iam")
    iam.update_account_password_policy(MinimumPasswordLength=14, RequireSymbols=True)
    iam.create_user(UserName="careful")
    iam.create_login_profile(UserName="careful", Password="Careful-Passw0rd-Strong!")
    device = iam.create_virtual_mfa_device(VirtualMFADeviceName="careful")["VirtualMFADevice"]
    totp, now = pyotp.TOTP(device["Base32StringSeed"].decode()), time.time()
    iam.enable_mfa_device(UserName="careful", SerialNumber=device["SerialNumber"],
                          AuthenticationCode1=totp.at(now - 30), AuthenticationCode2=totp.at(now))
    iam.create_access_key(UserName="careful")
    arn = iam.create_policy(PolicyName="reports", PolicyDocument=json.dumps(SCOPED))["Policy"]["Arn"]
    iam.attach_user_policy(UserName="careful", PolicyArn=arn)
    iam.create_role(RoleName="ec2", AssumeRolePolicyDocument=json.dumps(
        {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"},
                                                 "Action": "sts:AssumeRole"}]}))
    r = cli(gh, "doctor", "--output", "json")
    assert findings(r) == {("root-mfa", "root"), ("root-access-keys", "root")}, r.output


def test_doctor_exits_zero_and_says_so_when_clean(monkeypatch: pytest.MonkeyPatch, gh: Endpoint) -> None:
    monkeypatch.setattr(doctor, "examine", lambda *a: [])
    r = cli(gh, "doctor")
    assert r.exit_code == 0 and "No problems found" in r.stdout
    assert json.loads(cli(gh, "doctor", "--output", "json").stdout) == {"ok": True, "problems": []}


def test_ages_from_the_credential_report() -> None:
    now = dt.datetime(2026, 6, 1, tzinfo=dt.UTC)
    old, recent = "2026-01-01T00:00:00+00:00", "2026-05-30T00:00:00+00:00"
    row = {"user": "kim", "arn": f"arn:aws:iam::{ACCOUNT}:user/kim", "user_creation_time": old,
           "password_enabled": "true", "password_last_used": old, "mfa_active": "true",
           "access_key_1_active": "true", "access_key_1_last_rotated": old, "access_key_1_last_used_date": "N/A",
           "access_key_2_active": "true", "access_key_2_last_rotated": recent, "access_key_2_last_used_date": recent}
    clean = {"AccountMFAEnabled": 1, "AccountAccessKeysPresent": 0}
    got = {(f.check, f.detail) for f in doctor.examine(clean, [row], {}, {}, now, 90, 90)}
    assert got == {("password-unused", "console password not used for over 90 days"),
                   ("access-key-old", "access key 1 not rotated for over 90 days"),
                   ("access-key-unused", "active access key 1 not used for over 90 days")}
    assert doctor.examine(clean, [{**row, "password_last_used": recent, "access_key_1_active": "false"}], {}, {},
                          now, 90, 90) == []


def test_offboarding_is_atomic_on_each_backend(backend: Endpoint) -> None:
    """SQLite file and PostgreSQL: a refused last step undoes the earlier ones; then it goes through whole."""
    iam = backend.client("iam")
    plant_leaver(iam, "leaver-b")
    before = traces(iam, "leaver-b")
    operator = operator_without_delete_user(iam)
    r = cli(backend, "user", "offboard", "leaver-b", "--yes", key=operator)
    assert r.exit_code == 1 and "nothing changed" in r.output, r.output
    assert traces(iam, "leaver-b") == before
    done = cli(backend, "user", "offboard", "leaver-b", "--yes", "--output", "json")
    assert done.exit_code == 0 and json.loads(done.stdout)["Deleted"] is True, done.output
    with pytest.raises(iam.exceptions.NoSuchEntityException):
        iam.get_user(UserName="leaver-b")
