"""X.509 certificates and private keys in PEM, as IAM takes them for server and signing certificates: parsed and
checked with `cryptography`, so that garbage is refused at upload instead of failing later in a TLS handshake.

Pure: no storage. Raises the IAM errors AWS answers with (MalformedCertificate, KeyPairMismatch).
"""

from __future__ import annotations

import hashlib

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes

from gatehouse.errors import KeyPairMismatch, MalformedCertificate

_BAD_BODY = "Unable to parse certificate. Please ensure the certificate is in PEM format."
_BAD_CHAIN = "Unable to parse certificate chain. Please ensure the chain is in PEM format."
_BAD_KEY = "Unable to parse private key. Please ensure the key is an unencrypted RSA or EC key in PEM format."
_MISMATCH = "The public key in the certificate does not match the private key."


def parse_certificate(body: str) -> x509.Certificate:
    """Exactly one PEM certificate (surrounding whitespace allowed)."""
    try:
        certificates = x509.load_pem_x509_certificates(body.strip().encode("latin-1"))
    except (ValueError, UnicodeEncodeError):
        raise MalformedCertificate(_BAD_BODY) from None
    if len(certificates) != 1:
        raise MalformedCertificate(_BAD_BODY)
    _check_readable(certificates[0], _BAD_BODY)
    return certificates[0]


def parse_chain(chain: str) -> list[x509.Certificate]:
    try:
        certificates = x509.load_pem_x509_certificates(chain.strip().encode("latin-1"))
    except (ValueError, UnicodeEncodeError):
        raise MalformedCertificate(_BAD_CHAIN) from None
    for certificate in certificates:
        _check_readable(certificate, _BAD_CHAIN)
    return certificates


def _check_readable(certificate: x509.Certificate, message: str) -> None:
    """`cryptography` parses lazily: touch what IAM reports (validity, public key) so a broken one fails here."""
    try:
        certificate.not_valid_after_utc  # noqa: B018
        certificate.public_key()
    except ValueError:
        raise MalformedCertificate(message) from None


def parse_private_key(pem: str) -> PrivateKeyTypes:
    try:
        key = serialization.load_pem_private_key(pem.strip().encode("latin-1"), password=None)
    except (ValueError, TypeError, UnicodeEncodeError):
        raise MalformedCertificate(_BAD_KEY) from None
    if not isinstance(key, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey):
        raise MalformedCertificate(_BAD_KEY)
    return key


def check_key_pair(certificate: x509.Certificate, key: PrivateKeyTypes) -> None:
    """KeyPairMismatch unless `key` is the private half of the certificate's public key."""
    spki = serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    if certificate.public_key().public_bytes(*spki) != key.public_key().public_bytes(*spki):
        raise KeyPairMismatch(_MISMATCH)


def fingerprint(certificate: x509.Certificate) -> str:
    """SHA-256 of the DER certificate: the same certificate uploaded twice has the same fingerprint."""
    return hashlib.sha256(certificate.public_bytes(serialization.Encoding.DER)).hexdigest()
