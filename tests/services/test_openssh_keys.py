"""SSH public key parsing and fingerprints: the OpenSSH one-line form and PEM, what is refused and how."""

from __future__ import annotations

import base64
import hashlib

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

from gatehouse.errors import InvalidPublicKey, UnrecognizedPublicKeyEncoding
from gatehouse.services.openssh_keys import parse_ssh_public_key

OPENSSH = serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH
SPKI_PEM = serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
RSA = rsa.generate_private_key(public_exponent=65537, key_size=2048).public_key()
ED = ed25519.Ed25519PrivateKey.generate().public_key()


def md5_colons(blob: bytes) -> str:
    """What `ssh-keygen -l -E md5` prints after "MD5:"."""
    digest = hashlib.md5(blob).hexdigest()
    return ":".join(digest[i:i + 2] for i in range(0, 32, 2))


@pytest.mark.parametrize("key", [RSA, ED], ids=["rsa", "ed25519"])
def test_openssh_line_with_comment(key: object) -> None:
    line = key.public_bytes(*OPENSSH).decode()  # type: ignore[attr-defined]
    parsed = parse_ssh_public_key(f"  {line} someone@laptop with spaces\n")
    assert parsed.openssh == line
    assert parsed.fingerprint == md5_colons(base64.b64decode(line.split()[1]))
    assert parsed.pem == key.public_bytes(*SPKI_PEM).decode()  # type: ignore[attr-defined]


@pytest.mark.parametrize("key", [RSA, ED], ids=["rsa", "ed25519"])
def test_pem_input_gives_the_same_key(key: object) -> None:
    parsed = parse_ssh_public_key(key.public_bytes(*SPKI_PEM).decode())  # type: ignore[attr-defined]
    assert parsed.openssh == key.public_bytes(*OPENSSH).decode()  # type: ignore[attr-defined]


@pytest.mark.parametrize("text", [
    "", "ssh-rsa", "ssh-rsa bm90IGEga2V5 x@y", "ssh-rsa !!!notbase64", "hello world",
    # the blob names another key type than the line does
    "ssh-rsa " + ED.public_bytes(*OPENSSH).decode().split()[1],
    "-----BEGIN PUBLIC KEY-----\nbm90IGEga2V5\n-----END PUBLIC KEY-----\n",
], ids=["empty", "no-blob", "not-a-key", "not-base64", "no-type", "type-mismatch", "bad-pem"])
def test_malformed_keys(text: str) -> None:
    with pytest.raises(InvalidPublicKey):
        parse_ssh_public_key(text)


def test_short_rsa_keys_are_refused() -> None:
    short = rsa.generate_private_key(public_exponent=65537, key_size=1024).public_key()
    with pytest.raises(InvalidPublicKey, match="2048"):
        parse_ssh_public_key(short.public_bytes(*OPENSSH).decode())


# A DSA public key, fixed: cryptography deprecates DSA (a warning the suite treats as an error) and will drop it, but
# users can still paste one.
_DSA_SPKI_PEM = """-----BEGIN PUBLIC KEY-----
MIIBtjCCASsGByqGSM44BAEwggEeAoGBAJWsdUo8O6sZPyFTd0NKNNateVFgqyfX
K4xggbCjJgQWeA1iyvBZ2EFGPUzlg/h0aDmpUBGLlVu0KOvZN4ZbZU4IojPzyImN
MheCVt53QS6kHC9vhcLllOw22AKoFx5hs6LMrW/7pP4T1n4EpmVzaerI0XIvmg+G
wMsqgVWuGd+dAhUAhXLbhw2lUODDfFNV82Ls7IXwQfECgYAegG+bL/XZqU8GnPO7
PGSidXHDpbn/Igiv9ey04w5eJg/VzHgHHOcyd5jBYOVzyZek5Dd0KajNbblP4XXA
d8tVEaPDwj4DqMT85k395qVcae9IYfhUgSs1A3uFt1+4uVf8CeCMrhWa3YzY1m3B
/M1Hb1+yKuJCAviJmNoTKf4f+AOBhAACgYAGD5xH/fnfuW1u60CO4b+7qcYuBk0R
cLUhNOrYHMy4muDBRCdgFChSLZREFgIpmMqCb/HktCqRI0TbbgtqJNUFjyeLm7JK
xlM1ZSgL7JZzgjvTtXft+halKX0gi+/FEtDWbD6LoU0bdA6iWhG1omhF6BitPubl
x1pqhTNxheU2pw==
-----END PUBLIC KEY-----
"""


def test_other_key_types_are_unrecognized() -> None:
    key = ec.generate_private_key(ec.SECP256R1()).public_key()
    for text in (key.public_bytes(*OPENSSH).decode(), key.public_bytes(*SPKI_PEM).decode(),
                 _DSA_SPKI_PEM,
                 "ssh-dss AAAAB3NzaC1kc3MAAACBAP1 old@box"):
        with pytest.raises(UnrecognizedPublicKeyEncoding):
            parse_ssh_public_key(text)
