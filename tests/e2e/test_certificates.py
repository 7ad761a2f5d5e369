"""Server and signing certificates end to end: PEM parsed and checked (garbage, key of another pair, bad chain,
encrypted key refused), Expiration from the certificate, the private key never returned, renames, tags, limits,
and the DeleteUser conflict a signing certificate causes."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID

from tests.e2e.iam_support import expect, rejected
from tests.support import ACCOUNT

pytestmark = pytest.mark.e2e

GARBAGE_CERT = "-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydA==\n-----END CERTIFICATE-----\n"


def self_signed(cn: str = "web.example.com", key: Any = None, days: int = 30) -> tuple[x509.Certificate, str, Any]:
    key = key or rsa.generate_private_key(public_exponent=65537, key_size=2048)
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + dt.timedelta(days=days)).sign(key, hashes.SHA256()))
    return cert, cert.public_bytes(serialization.Encoding.PEM).decode(), key


def pem(key: Any, password: bytes | None = None) -> str:
    encryption = serialization.BestAvailableEncryption(password) if password else serialization.NoEncryption()
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption).decode()


def private_parts(key: rsa.RSAPrivateKey) -> list[bytes]:
    """Pieces of the key that are secret. The modulus is public (it is in the certificate too), so only the tail of
    the PKCS#8 encoding, past the modulus and the public exponent, is looked for."""
    body = "".join(line for line in pem(key).splitlines() if "-----" not in line)
    return [body[i:i + 24].encode() for i in range(420, len(body) - 24, 100)]


def recorder(client: Any) -> list[bytes]:
    seen: list[bytes] = []
    client.meta.events.register("after-call", lambda http_response, **_: seen.append(http_response.content))
    return seen


def test_upload_get_list_and_the_key_never_comes_back(iam: Any) -> None:
    cert, body, key = self_signed()
    chain = self_signed("ca.example.com")[1]
    seen = recorder(iam)
    meta = iam.upload_server_certificate(ServerCertificateName="web", Path="/edge/", CertificateBody=body,
                                         PrivateKey=pem(key), CertificateChain=chain,
                                         Tags=[{"Key": "env", "Value": "prod"}])["ServerCertificateMetadata"]
    assert meta["Arn"] == f"arn:aws:iam::{ACCOUNT}:server-certificate/edge/web"
    assert meta["ServerCertificateId"].startswith("ASCA") and meta["Path"] == "/edge/"
    assert meta["Expiration"] == cert.not_valid_after_utc
    got = iam.get_server_certificate(ServerCertificateName="web")["ServerCertificate"]
    assert body.endswith("\n") and got["CertificateBody"] == body and got["CertificateChain"] == chain  # as uploaded
    assert got["ServerCertificateMetadata"] == meta and got["Tags"] == [{"Key": "env", "Value": "prod"}]
    listed = iam.list_server_certificates(PathPrefix="/edge/")["ServerCertificateMetadataList"]
    assert listed == [meta]
    assert iam.list_server_certificates(PathPrefix="/other/")["ServerCertificateMetadataList"] == []
    everything = b"".join(seen)
    assert b"PRIVATE KEY" not in everything
    assert not any(part in everything for part in private_parts(key))
    assert iam.get_account_summary()["SummaryMap"]["ServerCertificates"] == 1


@pytest.mark.parametrize("case", ["garbage-body", "other-key", "garbage-key", "encrypted-key", "bad-chain"])
def test_refused_uploads_leave_nothing(iam: Any, case: str) -> None:
    _, body, key = self_signed()
    params = {"ServerCertificateName": "bad", "CertificateBody": body, "PrivateKey": pem(key)}
    code = "MalformedCertificate"
    if case == "garbage-body":
        params["CertificateBody"] = GARBAGE_CERT
    elif case == "other-key":
        params["PrivateKey"], code = pem(rsa.generate_private_key(public_exponent=65537, key_size=2048)), \
            "KeyPairMismatch"
    elif case == "garbage-key":
        params["PrivateKey"] = "-----BEGIN PRIVATE KEY-----\nbm9wZQ==\n-----END PRIVATE KEY-----\n"
    elif case == "encrypted-key":
        params["PrivateKey"] = pem(key, b"secret")
    else:
        params["CertificateChain"] = GARBAGE_CERT
    rejected(iam, code, iam.upload_server_certificate, **params)
    assert iam.list_server_certificates()["ServerCertificateMetadataList"] == []


def test_ec_keys_rename_tags_and_delete(iam: Any) -> None:
    _, body, key = self_signed(key=ec.generate_private_key(ec.SECP256R1()))
    iam.upload_server_certificate(ServerCertificateName="ec", CertificateBody=body, PrivateKey=pem(key))
    response = expect("EntityAlreadyExists", iam.upload_server_certificate, ServerCertificateName="EC",
                      CertificateBody=body, PrivateKey=pem(key))
    assert response["Error"]["Message"] == "The Server Certificate with name EC already exists."
    iam.update_server_certificate(ServerCertificateName="ec", NewServerCertificateName="ec2", NewPath="/moved/")
    response = expect("NoSuchEntity", iam.get_server_certificate, ServerCertificateName="ec")
    assert response["Error"]["Message"] == "The Server Certificate with name ec cannot be found."
    meta = iam.get_server_certificate(ServerCertificateName="ec2")["ServerCertificate"]["ServerCertificateMetadata"]
    assert meta["Arn"].endswith(":server-certificate/moved/ec2")
    iam.tag_server_certificate(ServerCertificateName="ec2", Tags=[{"Key": "a", "Value": "1"}])
    iam.untag_server_certificate(ServerCertificateName="ec2", TagKeys=["b"])
    assert iam.list_server_certificate_tags(ServerCertificateName="ec2")["Tags"] == [{"Key": "a", "Value": "1"}]
    iam.delete_server_certificate(ServerCertificateName="ec2")
    expect("NoSuchEntity", iam.delete_server_certificate, ServerCertificateName="ec2")


def test_signing_certificates(iam: Any) -> None:
    iam.create_user(UserName="gina")
    _, body, _ = self_signed("gina")
    cert = iam.upload_signing_certificate(UserName="gina", CertificateBody=body)["Certificate"]
    assert (cert["UserName"], cert["Status"]) == ("gina", "Active") and len(cert["CertificateId"]) == 32
    assert body.endswith("\n") and cert["CertificateBody"] == body  # byte for byte, as AWS returns it
    assert iam.list_signing_certificates(UserName="gina")["Certificates"][0]["CertificateBody"] == body
    rejected(iam, "DuplicateCertificate", iam.upload_signing_certificate, UserName="gina", CertificateBody=body)
    response = rejected(iam, "MalformedCertificate", iam.upload_signing_certificate, UserName="gina",
                        CertificateBody="garbage")
    # AWS's words (LocalStack's AWS-validated test_iam_signing_certificates snapshot).
    assert response["Error"]["Message"] == "Certificate garbage is malformed."
    iam.upload_signing_certificate(UserName="gina", CertificateBody=self_signed("gina2")[1])
    rejected(iam, "LimitExceeded", iam.upload_signing_certificate, UserName="gina",
             CertificateBody=self_signed("gina3")[1])
    iam.update_signing_certificate(UserName="gina", CertificateId=cert["CertificateId"], Status="Inactive")
    listed = iam.list_signing_certificates(UserName="gina")["Certificates"]
    assert {c["CertificateId"]: c["Status"] for c in listed}[cert["CertificateId"]] == "Inactive"
    response = expect("DeleteConflict", iam.delete_user, UserName="gina")
    assert response["Error"]["Message"] == "Cannot delete entity, must delete signing certificates first."
    for c in listed:
        iam.delete_signing_certificate(UserName="gina", CertificateId=c["CertificateId"])
    expect("NoSuchEntity", iam.delete_signing_certificate, UserName="gina", CertificateId=cert["CertificateId"])
    iam.delete_user(UserName="gina")


def test_root_signing_certificate_shows_in_the_summary(iam: Any) -> None:
    assert iam.get_account_summary()["SummaryMap"]["AccountSigningCertificatesPresent"] == 0
    cert = iam.upload_signing_certificate(CertificateBody=self_signed("root")[1])["Certificate"]
    assert iam.get_account_summary()["SummaryMap"]["AccountSigningCertificatesPresent"] == 1
    assert [c["CertificateId"] for c in iam.list_signing_certificates()["Certificates"]] == [cert["CertificateId"]]
