"""SSH public keys of IAM users (for CodeCommit-style Git over SSH): upload (ssh-rsa, ssh-ed25519, or a PEM
public key), get in SSH or PEM encoding, list, activate or deactivate, delete. Fingerprints are MD5, colon-hex."""

from __future__ import annotations

from typing import Any

from gatehouse.credentials import SshPublicKey
from gatehouse.errors import DuplicateSSHPublicKey, LimitExceeded, NoSuchEntity
from gatehouse.model import Caller, User
from gatehouse.services import ids
from gatehouse.services.clock import whole_seconds
from gatehouse.services.iam.common import IamBase, short_page
from gatehouse.services.openssh_keys import parse_ssh_public_key
from gatehouse.services.operation import operation
from gatehouse.storage.repository import UnitOfWork

MAX_PER_USER = 5


def ssh_key_view(key: SshPublicKey, user_name: str, body: str | None = None) -> dict[str, Any]:
    return {"UserName": user_name, "SSHPublicKeyId": key.key_id, "Fingerprint": key.fingerprint,
            "SSHPublicKeyBody": body or key.body, "Status": key.status, "UploadDate": key.uploaded}


class SshKeys(IamBase):
    @operation
    def upload_ssh_public_key(self, caller: Caller, user_name: str, ssh_public_key_body: str) -> dict[str, Any]:
        parsed = parse_ssh_public_key(ssh_public_key_body)
        with self.store.write(caller.account_id) as tx:
            user = self.user_for(tx, caller, "iam:UploadSSHPublicKey", user_name)
            existing = tx.ssh_keys.for_user(user.user_id)
            if any(k.fingerprint == parsed.fingerprint for k in existing):
                raise DuplicateSSHPublicKey("The SSH public key is already associated with the specified IAM user.")
            if len(existing) >= MAX_PER_USER:
                raise LimitExceeded(f"Cannot exceed quota for PublicKeysPerUser: {MAX_PER_USER}")
            key = SshPublicKey(account_id=caller.account_id, key_id=ids.unique_id(ids.Prefix.SSH_KEY),
                               user_id=user.user_id, body=parsed.openssh, fingerprint=parsed.fingerprint,
                               status="Active", uploaded=whole_seconds(self.deps.clock))
            tx.ssh_keys.insert(key)
        return {"SSHPublicKey": ssh_key_view(key, user.name)}

    def _key(self, tx: UnitOfWork, user: User, key_id: str) -> SshPublicKey:
        key = tx.ssh_keys.get(key_id)
        if key is None or key.user_id != user.user_id:
            raise NoSuchEntity(f"The Public Key with id {key_id} cannot be found.")
        return key

    @operation
    def get_ssh_public_key(self, caller: Caller, user_name: str, ssh_public_key_id: str, encoding: str
                           ) -> dict[str, Any]:
        with self.store.read(caller.account_id) as tx:
            user = self.user_for(tx, caller, "iam:GetSSHPublicKey", user_name)
            key = self._key(tx, user, ssh_public_key_id)
        body = parse_ssh_public_key(key.body).pem if encoding == "PEM" else key.body
        return {"SSHPublicKey": ssh_key_view(key, user.name, body)}

    @operation
    def list_ssh_public_keys(self, caller: Caller, user_name: str | None = None, marker: str | None = None,
                             max_items: int | None = None) -> dict[str, Any]:
        name = self.own_user_name(caller, user_name)
        with self.store.read(caller.account_id) as tx:
            if name is None:  # the root has no SSH keys of its own
                self.require(tx, caller, "iam:ListSSHPublicKeys", caller.arn)
                return {"SSHPublicKeys": [], "IsTruncated": False}
            user = self.user_for(tx, caller, "iam:ListSSHPublicKeys", name)
            keys = tx.ssh_keys.for_user(user.user_id)
        return short_page("SSHPublicKeys", [{"UserName": user.name, "SSHPublicKeyId": k.key_id, "Status": k.status,
                                             "UploadDate": k.uploaded} for k in keys], marker, max_items)

    @operation
    def update_ssh_public_key(self, caller: Caller, user_name: str, ssh_public_key_id: str, status: str
                              ) -> dict[str, Any]:
        with self.store.write(caller.account_id) as tx:
            user = self.user_for(tx, caller, "iam:UpdateSSHPublicKey", user_name)
            self._key(tx, user, ssh_public_key_id)
            tx.ssh_keys.set_status(ssh_public_key_id, status)
        return {}

    @operation
    def delete_ssh_public_key(self, caller: Caller, user_name: str, ssh_public_key_id: str) -> dict[str, Any]:
        with self.store.write(caller.account_id) as tx:
            user = self.user_for(tx, caller, "iam:DeleteSSHPublicKey", user_name)
            self._key(tx, user, ssh_public_key_id)
            tx.ssh_keys.delete(ssh_public_key_id)
        return {}
