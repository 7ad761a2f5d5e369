"""Access keys of IAM users and of the account root: at most two each; the secret is shown once, then kept
sealed (the server must read it back to verify signatures, so it is encrypted, not hashed)."""

from __future__ import annotations

from typing import Any

from gatehouse.errors import AccessDenied, LimitExceeded, NoSuchEntity
from gatehouse.model import AccessKey, Caller, OwnerKind, User
from gatehouse.services import ids
from gatehouse.services.clock import whole_seconds
from gatehouse.services.iam.common import IamBase, short_page
from gatehouse.services.iam.views import key_metadata_view
from gatehouse.services.operation import operation
from gatehouse.storage.repository import UnitOfWork

MAX_KEYS = 2


class AccessKeys(IamBase):
    def _holder(self, tx: UnitOfWork, caller: Caller, action: str, user_name: str | None) -> User | None:
        """The user whose keys are meant (None: the root's own keys), authorized for `action`."""
        name = self.own_user_name(caller, user_name)
        if name is None:
            self.require(tx, caller, action, caller.arn)
            return None
        return self.user_for(tx, caller, action, name)

    @operation
    def create_access_key(self, caller: Caller, user_name: str | None = None) -> dict[str, Any]:
        with self.store.write(caller.account_id) as tx:
            user = self._holder(tx, caller, "iam:CreateAccessKey", user_name)
            user_id = user.user_id if user else None
            if len(tx.keys.for_user(user_id)) >= MAX_KEYS:
                raise LimitExceeded(f"Cannot exceed quota for AccessKeysPerUser: {MAX_KEYS}")
            key_id, secret = ids.access_key_id(caller.account_id), ids.secret_access_key()
            key = AccessKey(account_id=caller.account_id, access_key_id=key_id, user_id=user_id, status="Active",
                            created=whole_seconds(self.deps.clock), sealed_secret=self.deps.box.seal(secret, key_id))
            tx.keys.insert(key)
        view = key_metadata_view(key, user.name if user else None)
        view["SecretAccessKey"] = secret
        return {"AccessKey": view}

    def _key(self, tx: UnitOfWork, user: User | None, access_key_id: str) -> AccessKey:
        key = tx.keys.get(access_key_id)
        if key is None or key.user_id != (user.user_id if user else None):
            raise NoSuchEntity(f"The Access Key with id {access_key_id} cannot be found.")
        return key

    @operation
    def update_access_key(self, caller: Caller, access_key_id: str, status: str, user_name: str | None = None
                          ) -> dict[str, Any]:
        with self.store.write(caller.account_id) as tx:
            user = self._holder(tx, caller, "iam:UpdateAccessKey", user_name)
            self._key(tx, user, access_key_id)
            tx.keys.set_status(access_key_id, status)
        return {}

    @operation
    def delete_access_key(self, caller: Caller, access_key_id: str, user_name: str | None = None) -> dict[str, Any]:
        with self.store.write(caller.account_id) as tx:
            user = self._holder(tx, caller, "iam:DeleteAccessKey", user_name)
            self._key(tx, user, access_key_id)
            tx.keys.delete(access_key_id)
        return {}

    @operation
    def list_access_keys(self, caller: Caller, user_name: str | None = None, marker: str | None = None,
                         max_items: int | None = None) -> dict[str, Any]:
        with self.store.read(caller.account_id) as tx:
            user = self._holder(tx, caller, "iam:ListAccessKeys", user_name)
            keys = tx.keys.for_user(user.user_id if user else None)
        return short_page("AccessKeyMetadata", [key_metadata_view(k, user.name if user else None) for k in keys],
                          marker, max_items)

    @operation
    def get_access_key_last_used(self, caller: Caller, access_key_id: str) -> dict[str, Any]:
        with self.store.read(caller.account_id) as tx:
            key = tx.keys.get(access_key_id)
            user = tx.users.by_id(key.user_id) if key and key.user_id else None
            if user is not None:
                target = self.target(tx, OwnerKind.USER, user.user_id, user.arn(caller.partition),
                                     user.permissions_boundary)
            else:
                target = self.target(tx, OwnerKind.USER, None, self.arn(caller, "root" if key else "user/*"))
            self.require(tx, caller, "iam:GetAccessKeyLastUsed", target)
            if key is None:
                # AWS does not say NoSuchEntity here: it answers AccessDenied in this wording, to any caller
                # (LocalStack's AWS-validated test_iam_users.snapshot.json, "get-last-used-nonexistent-key-error").
                raise AccessDenied(f"User: {caller.arn} is not authorized to perform iam:GetAccessKeyLastUsed on "
                                   f"resource: access key {access_key_id}")
        last: dict[str, Any] = {"ServiceName": key.last_used_service or "N/A", "Region": key.last_used_region or "N/A"}
        if key.last_used:
            last["LastUsedDate"] = key.last_used
        return {"UserName": user.name if user else None, "AccessKeyLastUsed": last}
