"""First start: an account with a root user and a root access key pair; operators' accounts and root keys.

Pinned values (account id, root key pair) make the result predictable for CI and local testing; otherwise they
are generated and the caller shows them once.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass

from gatehouse.model import PARTITIONS, AccessKey, Account
from gatehouse.services import ids
from gatehouse.services.clock import Clock, whole_seconds
from gatehouse.services.secretbox import SealedSecretError, SecretBox
from gatehouse.storage.repository import Duplicate, Store


@dataclass(frozen=True)
class BootstrapResult:
    account_id: str
    access_key_id: str | None
    secret_access_key: str | None  # set only when created (or re-pinned) now: shown once
    created_account: bool

    def __repr__(self) -> str:
        return f"BootstrapResult(account_id={self.account_id!r}, access_key_id={self.access_key_id!r})"


class AccountExists(ValueError):
    """`create_account` was asked for an account id that is taken."""


class PartitionMismatch(ValueError):
    """An existing account was asked for with another partition: an account's partition never changes (every ARN
    stored in its policies names it)."""


def bootstrap(store: Store, box: SecretBox, clock: Clock, *, account_id: str | None = None,
              root_access_key_id: str | None = None, root_secret_access_key: str | None = None,
              partition: str | None = None) -> BootstrapResult:
    """Make sure the (pinned or first) account exists with a root key; idempotent across restarts and replicas.
    `partition` (default `aws`) is the new account's; given for an existing account, it must be that account's."""
    with store.read() as tx:
        existing = tx.accounts.all_ids()
    if account_id is None and existing:
        account_id = existing[0]
    created = False
    if account_id is None or account_id not in existing:
        account_id = account_id or ids.account_id()
        try:
            store.create_account(Account(account_id=account_id, created=whole_seconds(clock),
                                         partition=checked_partition(partition)))
            created = True
        except Duplicate:
            created = False  # another replica created it first
    if partition is not None:
        with store.read(account_id) as tx:
            account = tx.accounts.get(account_id)
        if account is not None and account.partition != partition:
            raise PartitionMismatch(f"account {account_id} is in partition {account.partition}, not {partition}; "
                                    "an account's partition cannot change")
    return _ensure_root_key(store, box, clock, account_id, created, root_access_key_id, root_secret_access_key)


def checked_partition(partition: str | None) -> str:
    if partition is None:
        return "aws"
    if partition not in PARTITIONS:
        raise ValueError(f"unknown partition {partition!r}; one of: {', '.join(PARTITIONS)}")
    return partition


def create_account(store: Store, box: SecretBox, clock: Clock, account_id: str | None = None,
                   partition: str | None = None) -> BootstrapResult:
    """An operator creating another account in the store (before the organizations API does it): the account in
    its partition (default `aws`), its root user and a root access key pair, shown once."""
    account_id = account_id or ids.account_id()
    try:
        store.create_account(Account(account_id=account_id, created=whole_seconds(clock),
                                     partition=checked_partition(partition)))
    except Duplicate:
        raise AccountExists(f"account {account_id} already exists") from None
    return _ensure_root_key(store, box, clock, account_id, True, None, None)


class NoSuchAccount(ValueError):
    """`root_key` was asked for an account the store does not hold."""


class RootKeyExists(ValueError):
    """`root_key` was asked for an account whose root already has an access key."""


def root_key(store: Store, box: SecretBox, clock: Clock, account_id: str) -> BootstrapResult:
    """An operator giving the root user of an existing account its first access key pair, shown once: an account
    made by Organizations' CreateAccount has a root user without credentials (in AWS its owner would sign in as
    root and make one)."""
    with store.read(account_id) as tx:
        if tx.accounts.get(account_id) is None:
            raise NoSuchAccount(f"no account {account_id}")
    result = _ensure_root_key(store, box, clock, account_id, False, None, None)
    if result.secret_access_key is None:
        raise RootKeyExists(f"the root user of account {account_id} already has an access key "
                            f"({result.access_key_id})")
    return result


def _ensure_root_key(store: Store, box: SecretBox, clock: Clock, account_id: str, created: bool,
                     key_id: str | None, secret: str | None) -> BootstrapResult:
    with store.write(account_id) as tx:
        root_keys = tx.keys.for_user(None)
        if key_id:
            pinned = tx.keys.get(key_id)
            if pinned is not None:
                if secret and not _opens_to(box, pinned, secret):
                    tx.keys.delete(key_id)  # the operator pinned a new secret for this key id
                else:
                    return BootstrapResult(account_id, key_id, None, created)
            secret = secret or ids.secret_access_key()
        elif root_keys:
            return BootstrapResult(account_id, root_keys[0].access_key_id, None, created)
        else:
            key_id, secret = ids.access_key_id(account_id), ids.secret_access_key()
        tx.keys.insert(AccessKey(account_id=account_id, access_key_id=key_id, user_id=None, status="Active",
                                 created=whole_seconds(clock), sealed_secret=box.seal(secret, key_id)))
    return BootstrapResult(account_id, key_id, secret, created)


def _opens_to(box: SecretBox, key: AccessKey, secret: str) -> bool:
    try:
        return hmac.compare_digest(box.open(key.sealed_secret, key.access_key_id), secret)
    except SealedSecretError:
        return False
