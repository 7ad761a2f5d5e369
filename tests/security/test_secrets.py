"""Secrets stay secret: shown once when created and never again (not by reads, not in logs, not in reprs), and the
files that hold them on disk are readable by their owner only, even in a data directory that is not."""

from __future__ import annotations

import base64
import datetime as dt
import json
import logging
import os
import stat
from pathlib import Path

import pytest

from gatehouse.app import build
from gatehouse.credentials import LoginProfile, MfaDevice
from gatehouse.model import AccessKey, SessionKind
from gatehouse.services.authentication import Credential
from gatehouse.services.session_tokens import SessionClaims
from gatehouse.services.signin import SigninRequest
from gatehouse.settings import Secret, Settings
from tests.security.support import ACCOUNT, Keys, asgi_request, call, new_app, ok, session_keys, user_with_key
from tests.support.pki import certificate, new_key, pem


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_files_are_private_in_a_shared_data_directory(tmp_path: Path) -> None:
    """An operator's `mkdir data` is usually 0755: SQLite then created gatehouse.db (password hashes, sealed
    secrets) and its -wal/-shm files world-readable."""
    data = tmp_path / "data"
    data.mkdir(mode=0o755)
    os.chmod(data, 0o755)
    app = build(Settings(data_dir=data))
    try:
        app.bootstrap()
        ok(app, "iam", "CreateUser", {"UserName": "someone"}, _root(data))
        files = {p.name: _mode(p) for p in data.iterdir() if p.is_file()}
        assert files["gatehouse.db"] == 0o600
        assert files["master.key"] == 0o600 and files["root-credentials.json"] == 0o600
        assert all(mode & 0o077 == 0 for mode in files.values()), files
    finally:
        app.close()


def test_widened_database_is_tightened_on_start(tmp_path: Path) -> None:
    """The database is ours to repair; a widened master key is refused instead (tests/security/test_key_files.py):
    whoever could read it may have."""
    data = tmp_path / "data"
    build(Settings(data_dir=data)).close()
    assert _mode(data) == 0o700
    os.chmod(data / "gatehouse.db", 0o644)
    build(Settings(data_dir=data)).close()
    assert _mode(data / "gatehouse.db") == 0o600 and _mode(data / "master.key") == 0o600


def _root(data: Path) -> Keys:
    saved = json.loads((data / "root-credentials.json").read_text())
    return Keys(saved["AccessKeyId"], saved["SecretAccessKey"])


def test_reprs_never_show_secrets() -> None:
    now = dt.datetime.now(dt.UTC)
    samples = [
        (Credential("AKIAEXAMPLE", "s3cr3t-access-key", ACCOUNT, None, 1, "aws"), "s3cr3t-access-key"),
        (SessionClaims(SessionKind.ASSUMED_ROLE, ACCOUNT, "ASIAEXAMPLE", "s3cr3t-session-key", 1, 2),
         "s3cr3t-session-key"),
        (SigninRequest(password="s3cr3t-password", account=ACCOUNT, username="u", new_password="n3w-s3cr3t"),
         "s3cr3t-password"),
        (SigninRequest(password="x", new_password="n3w-s3cr3t"), "n3w-s3cr3t"),
        (Settings(master_key=Secret("bWFzdGVy"), root_secret_access_key=Secret("r00t-s3cr3t")), "r00t-s3cr3t"),
        (Settings(master_key=Secret("bWFzdGVy")), "bWFzdGVy"),
        (AccessKey(ACCOUNT, "AKIAEXAMPLE", None, "Active", now, b"sealed-bytes"), "sealed-bytes"),
        (LoginProfile(ACCOUNT, "AIDAEXAMPLE", "$argon2id$hash", now, now), "argon2id"),
        (MfaDevice(account_id=ACCOUNT, device_id="AMFA", name="d", path="/", created=now,
                   sealed_seed=b"sealed-seed"), "sealed-seed"),
    ]
    for obj, secret in samples:
        assert secret not in repr(obj) and secret not in str(obj), type(obj).__name__


def test_secrets_are_shown_once(caplog: pytest.LogCaptureFixture) -> None:
    app = new_app()
    try:
        with caplog.at_level(logging.DEBUG):
            keys = user_with_key(app, "holder")
            ok(app, "iam", "CreateLoginProfile", {"UserName": "holder", "Password": "Holder-password-1!"})
            service = ok(app, "iam", "CreateServiceSpecificCredential", {"UserName": "holder",
                                                                        "ServiceName": "codecommit.amazonaws.com"})
            service_password = service.text("ServicePassword")
            private = new_key()
            ok(app, "iam", "UploadServerCertificate", {"ServerCertificateName": "web",
                                                       "CertificateBody": pem(certificate("web", private)).decode(),
                                                       "PrivateKey": pem(private).decode()})
            device = ok(app, "iam", "CreateVirtualMFADevice", {"VirtualMFADeviceName": "phone"})
            seed = base64.b64decode(device.text("Base32StringSeed")).decode()
            session = session_keys(ok(app, "sts", "GetSessionToken", keys=keys))
            asgi_request(app, "POST", "/signin", headers={"content-type": "application/json"}, body_chunks=[
                b'{"account": "%s", "username": "holder", "password": "Wrong-password-9!"}' % ACCOUNT.encode()])
            reads = [call(app, "iam", action, params).body for action, params in [
                ("ListAccessKeys", {"UserName": "holder"}), ("GetLoginProfile", {"UserName": "holder"}),
                ("ListServiceSpecificCredentials", {"UserName": "holder"}),
                ("GetServerCertificate", {"ServerCertificateName": "web"}), ("ListVirtualMFADevices", {}),
                ("GetAccountAuthorizationDetails", {}), ("GetUser", {"UserName": "holder"})]]
            reads.append(call(app, "sts", "GetCallerIdentity", keys=session).body)
        secrets = [keys.secret, session.secret, "Holder-password-1!", "Wrong-password-9!", service_password, seed,
                   pem(private).decode().splitlines()[1]]
        logged = "\n".join(r.getMessage() + (r.exc_text or "") for r in caplog.records)
        for secret in secrets:
            assert all(secret.encode() not in body for body in reads), secret[:8]
            assert secret not in logged, secret[:8]
    finally:
        app.close()
