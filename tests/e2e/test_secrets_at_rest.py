"""No secret in clear at rest or in the log: a persistent server (--data) is given one of every kind (console
and root passwords, a secret access key, an MFA seed, service passwords and API keys, a server certificate's
private key, the outbound issuer's signing keys), signs people in and changes passwords; then every file of the
data directory (the database with its WAL and journal files, the key files) and the server's log are searched
for each clear value."""

from __future__ import annotations

import base64
import datetime as dt
import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

import pyotp
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from tests.support import ACCOUNT
from tests.support.servers import Endpoint, persistent_args, running

pytestmark = pytest.mark.e2e

PASSWORD, CHANGED, ROOT_PASSWORD = "Vault-Password-Alpha-1", "Vault-Password-Bravo-2", "Root-Password-Charlie-3"


def signin(ep: Endpoint, **fields: str) -> int:
    req = urllib.request.Request(ep.url + "/signin", data=json.dumps(fields).encode(), method="POST",
                                 headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status
    except urllib.error.HTTPError as e:
        return e.code


def certificate_and_key() -> tuple[str, rsa.RSAPrivateKey]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    now = dt.datetime.now(dt.UTC)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "vault.example.com")])
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(1).not_valid_before(now - dt.timedelta(minutes=1))
            .not_valid_after(now + dt.timedelta(days=1)).sign(key, hashes.SHA256()))
    return cert.public_bytes(serialization.Encoding.PEM).decode(), key


def private_key_values(key: rsa.RSAPrivateKey) -> list[bytes]:
    """The key's secret numbers in every form they could be kept in, and pieces of its PEM past the public part."""
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
                            serialization.NoEncryption()).decode()
    body = "".join(line for line in pem.splitlines() if "-----" not in line)
    numbers = key.private_numbers()
    raw = [n.to_bytes((n.bit_length() + 7) // 8, "big") for n in (numbers.d, numbers.p, numbers.q)]
    return raw + [pem.encode()] + [body[i:i + 24].encode() for i in range(400, len(body) - 24, 60)]


def give_every_secret(ep: Endpoint, data: str, name: str = "vault", passwords: tuple[str, str, str] = (
        PASSWORD, CHANGED, ROOT_PASSWORD)) -> tuple[dict[str, list[bytes]], str]:
    """One secret of every kind for user `name` (the server needs --public-url for the outbound issuer's keys),
    passwords also sent through sign-in and ChangePassword, successful or not; returns what each secret looks like
    in clear, and the CLI's output."""
    password, changed, root_password = passwords
    iam = ep.client("iam")
    iam.create_user(UserName=name)
    iam.create_login_profile(UserName=name, Password=password)
    iam.attach_user_policy(UserName=name, PolicyArn="arn:aws:iam::aws:policy/IAMUserChangePassword")
    secret = iam.create_access_key(UserName=name)["AccessKey"]
    device = iam.create_virtual_mfa_device(VirtualMFADeviceName=f"{name}-phone")["VirtualMFADevice"]
    seed = device["Base32StringSeed"].decode()
    totp, step = pyotp.TOTP(seed), int(time.time() // 30)
    iam.enable_mfa_device(UserName=name, SerialNumber=device["SerialNumber"],
                          AuthenticationCode1=totp.at((step - 1) * 30), AuthenticationCode2=totp.at(step * 30))
    service_password = iam.create_service_specific_credential(
        UserName=name, ServiceName="codecommit.amazonaws.com")["ServiceSpecificCredential"]["ServicePassword"]
    api_key = iam.create_service_specific_credential(
        UserName=name, ServiceName="bedrock.amazonaws.com")["ServiceSpecificCredential"]["ServiceCredentialSecret"]
    body, key = certificate_and_key()
    key_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
                                serialization.NoEncryption()).decode()
    iam.upload_server_certificate(ServerCertificateName=f"{name}-web", CertificateBody=body, PrivateKey=key_pem)
    iam.enable_outbound_web_identity_federation()  # the issuer's private signing keys, sealed
    ep.client("sts").get_web_identity_token(Audience=["https://relying.example.com"], SigningAlgorithm="RS256")
    assert signin(ep, account=ACCOUNT, username=name, password=password, mfa_code=totp.at((step + 1) * 30)) == 200
    assert signin(ep, account=ACCOUNT, username=name, password=password + "x") == 401
    ep.client("iam", secret["AccessKeyId"], secret["SecretAccessKey"]).change_password(OldPassword=password,
                                                                                       NewPassword=changed)
    cli = subprocess.run([sys.executable, "-m", "gatehouse", "account", "root-password", "--data", data,
                          "--email", f"{name}@example.com", "--password-stdin"], input=root_password + "\n",
                         capture_output=True, text=True, timeout=120)
    assert cli.returncode == 0, cli.stderr
    assert signin(ep, email=f"{name}@example.com", password=root_password) == 200
    return {
        "console password": [password.encode(), changed.encode()], "root password": [root_password.encode()],
        "secret access key": [secret["SecretAccessKey"].encode()],
        "MFA seed": [seed.encode(), base64.b32decode(seed)],
        "service password": [service_password.encode()], "API key": [api_key.encode()],
        "private key": private_key_values(key),
    }, cli.stdout + cli.stderr


def test_no_clear_secret_in_the_database_files_or_the_log() -> None:
    data = tempfile.mkdtemp(prefix="gatehouse-vault-")
    args, extra = persistent_args(data_dir=data)
    with running(*args, "--public-url", "https://gatehouse.example.com", "--log-level", "debug") as ep:
        ep.key, ep.secret = extra["key"], extra["secret"]
        clear, cli_output = give_every_secret(ep, data)
        log = ep.log()
    stored = b""
    for folder, _, files in os.walk(data):
        for name in files:
            with open(os.path.join(folder, name), "rb") as f:
                stored += f.read()
    assert b"SQLite format 3" in stored
    found = [f"{what} in {where}" for what, values in clear.items()
             for where, blob in (("data", stored), ("log", log.encode()), ("CLI output", cli_output.encode()))
             if any(v in blob for v in values)]
    assert not found, "clear secrets: " + ", ".join(found)
