"""Operator-level sign-in settings of an account: the root user's email and password, and the account's lockout
override. Called by `gatehouse account root-password` and `gatehouse account lockout` (and, later, the console),
so every path applies the same rules."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from gatehouse.credentials import LockoutSettings, RootLogin
from gatehouse.errors import EntityAlreadyExists, InvalidInput, NoSuchEntity
from gatehouse.services.clock import Clock, whole_seconds
from gatehouse.services.lockouts import ROOT, LockoutPolicy, passwordless_root_target, root_target, user_target
from gatehouse.services.password_changes import check_password
from gatehouse.services.password_hashing import Passwords
from gatehouse.storage.repository import Store


@dataclass(frozen=True)
class LockoutReport:
    override: LockoutSettings
    effective: LockoutPolicy
    locked: list[tuple[str, dt.datetime]]  # (user name as typed, or "root"; locked until)


class AccountSecurity:
    def __init__(self, store: Store, passwords: Passwords, clock: Clock, defaults: LockoutPolicy) -> None:
        self.store = store
        self.passwords = passwords
        self.clock = clock
        self.defaults = defaults

    def default_account(self) -> str:
        with self.store.read() as tx:
            ids = tx.accounts.all_ids()
        if not ids:
            raise NoSuchEntity("The store holds no account yet: run `gatehouse init` first.")
        return ids[0]

    def _check_account(self, account_id: str) -> None:
        with self.store.read() as tx:
            if tx.accounts.get(account_id) is None:
                raise NoSuchEntity(f"No account {account_id} in this store.")

    def set_root_login(self, account_id: str, email: str, password: str) -> None:
        """Set the root user's email and password. Root passwords follow AWS's rules for them (AWS's default
        policy: at least 8 characters, three of the four character types), whatever the account's IAM policy."""
        if "@" not in email or len(email) > 256 or any(c.isspace() for c in email):
            raise InvalidInput(f"{email!r} is not an email address.")
        check_password(None, password)
        self._check_account(account_id)
        hashed = self.passwords.hash(password)
        with self.store.write(account_id) as tx:
            other = tx.logins.root_by_email(email)
            if other is not None and other.account_id != account_id:
                raise EntityAlreadyExists(f"The email address {email} is the root email of another account.")
            tx.logins.set_root(RootLogin(account_id=account_id, email=email, password_hash=hashed,
                                         password_changed=whole_seconds(self.clock)))

    def set_lockout(self, account_id: str, settings: LockoutSettings) -> None:
        for value in (settings.threshold, settings.window, settings.duration):
            if value is not None and value < 0:
                raise InvalidInput("Lockout settings cannot be negative.")
        self._check_account(account_id)
        with self.store.write(account_id) as tx:
            tx.password_policy.set_lockout(settings)

    def lockout(self, account_id: str) -> LockoutReport:
        self._check_account(account_id)
        now = int(self.clock().timestamp())
        # Locks are kept by the name typed, so names that belong to no user show too (someone guessing at them).
        held = self.store.signin.locked(account_id, now)  # its own transaction: not inside the read below
        with self.store.read(account_id) as tx:
            override = tx.password_policy.lockout()
        locked = [(name, dt.datetime.fromtimestamp(until, dt.UTC)) for name, until in held]
        return LockoutReport(override, self.defaults.merged(override), locked)

    def unlock(self, account_id: str, user_name: str) -> None:
        """Lift a lockout early (an operator who has checked who is asking). Any name can be unlocked, a user's or
        not: locks are kept by the name typed."""
        self._check_account(account_id)
        if user_name != ROOT:
            self.store.signin.clear_failures(user_target(account_id, "", user_name).key)
            return
        with self.store.read(account_id) as tx:
            root = tx.logins.root()
        if root is not None:
            self.store.signin.clear_failures(root_target(account_id, root.email).key)
        self.store.signin.clear_failures(passwordless_root_target(account_id).key)  # its MFA codes at STS
