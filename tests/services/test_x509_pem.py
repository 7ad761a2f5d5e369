"""Certificates and private keys in PEM: what parses, what is refused as malformed, and the key-pair check."""

from __future__ import annotations

import datetime as dt

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.x509.oid import NameOID

from gatehouse.errors import KeyPairMismatch, MalformedCertificate
from gatehouse.services import x509_pem

NOW = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)


def certificate(key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey, cn: str = "web.example.com") -> str:
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(7).not_valid_before(NOW).not_valid_after(NOW + dt.timedelta(days=90))
            .sign(key, hashes.SHA256()))
    return cert.public_bytes(serialization.Encoding.PEM).decode()


def pem_key(key: object, encryption: serialization.KeySerializationEncryption | None = None) -> str:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,  # type: ignore
                             encryption or serialization.NoEncryption()).decode()


RSA_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
EC_KEY = ec.generate_private_key(ec.SECP256R1())


@pytest.mark.parametrize("key", [RSA_KEY, EC_KEY], ids=["rsa", "ec"])
def test_matching_pair(key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey) -> None:
    cert = x509_pem.parse_certificate("\n" + certificate(key) + "\n\n")
    assert cert.not_valid_after_utc == NOW + dt.timedelta(days=90)
    x509_pem.check_key_pair(cert, x509_pem.parse_private_key(pem_key(key)))


def test_key_of_another_pair() -> None:
    cert = x509_pem.parse_certificate(certificate(RSA_KEY))
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    with pytest.raises(KeyPairMismatch):
        x509_pem.check_key_pair(cert, x509_pem.parse_private_key(pem_key(other)))


@pytest.mark.parametrize("body", [
    "garbage", "", "-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydA==\n-----END CERTIFICATE-----\n",
    certificate(RSA_KEY) + certificate(EC_KEY),  # two certificates are a chain, not a body
    pem_key(RSA_KEY),
], ids=["garbage", "empty", "not-der", "two-certificates", "a-private-key"])
def test_malformed_bodies(body: str) -> None:
    with pytest.raises(MalformedCertificate):
        x509_pem.parse_certificate(body)


@pytest.mark.parametrize("key", [
    "garbage", certificate(RSA_KEY), pem_key(RSA_KEY, serialization.BestAvailableEncryption(b"pass")),
    pem_key(ed25519.Ed25519PrivateKey.generate()),  # IAM takes RSA and EC keys only
], ids=["garbage", "a-certificate", "encrypted", "ed25519"])
def test_refused_private_keys(key: str) -> None:
    with pytest.raises(MalformedCertificate):
        x509_pem.parse_private_key(key)


def test_chains() -> None:
    assert len(x509_pem.parse_chain(certificate(RSA_KEY, "a") + certificate(EC_KEY, "b"))) == 2
    with pytest.raises(MalformedCertificate):
        x509_pem.parse_chain("-----BEGIN CERTIFICATE-----\nbm9wZQ==\n-----END CERTIFICATE-----\n")


def test_fingerprint_names_the_certificate_not_the_text() -> None:
    body = certificate(RSA_KEY)
    assert x509_pem.fingerprint(x509_pem.parse_certificate(body)) == \
        x509_pem.fingerprint(x509_pem.parse_certificate("\n\n" + body))
    assert x509_pem.fingerprint(x509_pem.parse_certificate(body)) != \
        x509_pem.fingerprint(x509_pem.parse_certificate(certificate(RSA_KEY, "other")))
