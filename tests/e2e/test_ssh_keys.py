"""SSH public keys end to end: ssh-rsa and ssh-ed25519 (and PEM) accepted with AWS's MD5 fingerprints, SSH and PEM
encodings back, duplicates and junk refused, status changes, limits, and the DeleteUser conflict."""

from __future__ import annotations

import base64
import hashlib
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

from tests.e2e.iam_support import expect, rejected

pytestmark = pytest.mark.e2e

OPENSSH = serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH


def line_of(key: Any) -> str:
    return key.public_key().public_bytes(*OPENSSH).decode()


def md5_colons(line: str) -> str:
    digest = hashlib.md5(base64.b64decode(line.split()[1])).hexdigest()
    return ":".join(digest[i:i + 2] for i in range(0, 32, 2))


@pytest.mark.parametrize("key", [rsa.generate_private_key(public_exponent=65537, key_size=2048),
                                 ed25519.Ed25519PrivateKey.generate()], ids=["rsa", "ed25519"])
def test_upload_get_both_encodings(iam: Any, key: Any) -> None:
    iam.create_user(UserName="hank")
    line = line_of(key)
    out = iam.upload_ssh_public_key(UserName="hank", SSHPublicKeyBody=f"{line} hank@laptop")["SSHPublicKey"]
    assert out["SSHPublicKeyId"].startswith("APKA") and out["Status"] == "Active"
    assert out["Fingerprint"] == md5_colons(line)
    got = iam.get_ssh_public_key(UserName="hank", SSHPublicKeyId=out["SSHPublicKeyId"], Encoding="SSH")
    assert got["SSHPublicKey"]["SSHPublicKeyBody"] == line
    as_pem = iam.get_ssh_public_key(UserName="hank", SSHPublicKeyId=out["SSHPublicKeyId"], Encoding="PEM")
    loaded = serialization.load_pem_public_key(as_pem["SSHPublicKey"]["SSHPublicKeyBody"].encode())
    assert loaded.public_bytes(*OPENSSH).decode() == line
    response = rejected(iam, "DuplicateSSHPublicKey", iam.upload_ssh_public_key, UserName="hank",
                        SSHPublicKeyBody=line)
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 400


def test_pem_uploads_and_junk(iam: Any) -> None:
    iam.create_user(UserName="ivan")
    key = ed25519.Ed25519PrivateKey.generate()
    as_pem = key.public_key().public_bytes(serialization.Encoding.PEM,
                                           serialization.PublicFormat.SubjectPublicKeyInfo).decode()
    out = iam.upload_ssh_public_key(UserName="ivan", SSHPublicKeyBody=as_pem)["SSHPublicKey"]
    assert out["SSHPublicKeyBody"] == line_of(key)
    rejected(iam, "InvalidPublicKey", iam.upload_ssh_public_key, UserName="ivan",
             SSHPublicKeyBody="ssh-rsa bm90IGEga2V5 x@y")
    short = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    rejected(iam, "InvalidPublicKey", iam.upload_ssh_public_key, UserName="ivan", SSHPublicKeyBody=line_of(short))
    rejected(iam, "UnrecognizedPublicKeyEncoding", iam.upload_ssh_public_key, UserName="ivan",
             SSHPublicKeyBody=line_of(ec.generate_private_key(ec.SECP256R1())))
    expect("NoSuchEntity", iam.upload_ssh_public_key, UserName="ghost",
           SSHPublicKeyBody=line_of(ed25519.Ed25519PrivateKey.generate()))


def test_status_list_limit_delete(iam: Any) -> None:
    iam.create_user(UserName="jo")
    ids = [iam.upload_ssh_public_key(UserName="jo", SSHPublicKeyBody=line_of(ed25519.Ed25519PrivateKey.generate())
                                     )["SSHPublicKey"]["SSHPublicKeyId"] for _ in range(5)]
    rejected(iam, "LimitExceeded", iam.upload_ssh_public_key, UserName="jo",
             SSHPublicKeyBody=line_of(ed25519.Ed25519PrivateKey.generate()))
    iam.update_ssh_public_key(UserName="jo", SSHPublicKeyId=ids[0], Status="Inactive")
    listed = iam.list_ssh_public_keys(UserName="jo")["SSHPublicKeys"]
    assert sorted(k["SSHPublicKeyId"] for k in listed) == sorted(ids)
    assert {k["SSHPublicKeyId"]: k["Status"] for k in listed}[ids[0]] == "Inactive"
    response = expect("DeleteConflict", iam.delete_user, UserName="jo")
    assert response["Error"]["Message"] == "Cannot delete entity, must delete SSH public keys first."
    iam.create_user(UserName="other")
    expect("NoSuchEntity", iam.delete_ssh_public_key, UserName="other", SSHPublicKeyId=ids[0])
    for key_id in ids:
        iam.delete_ssh_public_key(UserName="jo", SSHPublicKeyId=key_id)
    expect("NoSuchEntity", iam.get_ssh_public_key, UserName="jo", SSHPublicKeyId=ids[0], Encoding="SSH")
    iam.delete_user(UserName="jo")
