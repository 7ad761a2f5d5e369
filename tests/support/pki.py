"""A throwaway PKI for tests: a CA, server certificates it issues, self-signed signing certificates."""

from __future__ import annotations

import datetime as dt
import ipaddress

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID


def new_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _name(cn: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def certificate(cn: str, key: rsa.RSAPrivateKey, *, issuer: tuple[x509.Certificate, rsa.RSAPrivateKey] | None = None,
                ca: bool = False, server: bool = False, days: float = 2) -> x509.Certificate:
    now = dt.datetime.now(dt.UTC)
    builder = (x509.CertificateBuilder().subject_name(_name(cn))
               .issuer_name(issuer[0].subject if issuer else _name(cn)).public_key(key.public_key())
               .serial_number(x509.random_serial_number())
               .not_valid_before(now - dt.timedelta(minutes=5)).not_valid_after(now + dt.timedelta(days=days))
               .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
               .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
               .add_extension(x509.KeyUsage(digital_signature=True, key_encipherment=not ca, key_cert_sign=ca,
                                            crl_sign=ca, content_commitment=False, data_encipherment=False,
                                            key_agreement=False, encipher_only=False, decipher_only=False),
                              critical=True))
    if issuer is not None:
        builder = builder.add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer[0].public_key()), critical=False)
    if server:
        builder = (builder.add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
                   .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
                                                               x509.DNSName("localhost")]), critical=False))
    return builder.sign(issuer[1] if issuer else key, hashes.SHA256())


def pem(obj: x509.Certificate | rsa.RSAPrivateKey) -> bytes:
    if isinstance(obj, x509.Certificate):
        return obj.public_bytes(serialization.Encoding.PEM)
    return obj.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


class LoopbackCa:
    """A CA whose bundle a server trusts through SSL_CERT_FILE, and a loopback server certificate it issued."""

    def __init__(self, directory: str) -> None:
        self.key = new_key()
        self.cert = certificate("gatehouse test CA", self.key, ca=True)
        self.leaf_key = new_key()
        self.leaf = certificate("127.0.0.1", self.leaf_key, issuer=(self.cert, self.key), server=True)
        self.bundle = f"{directory}/ca.pem"
        self.chain = f"{directory}/chain.pem"
        self.leaf_key_file = f"{directory}/leaf.key"
        with open(self.bundle, "wb") as f:
            f.write(pem(self.cert))
        with open(self.chain, "wb") as f:
            f.write(pem(self.leaf) + pem(self.cert))
        with open(self.leaf_key_file, "wb") as f:
            f.write(pem(self.leaf_key))

    @property
    def trust_env(self) -> dict[str, str]:
        return {"SSL_CERT_FILE": self.bundle}
