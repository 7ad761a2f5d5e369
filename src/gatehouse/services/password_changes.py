"""Setting a user's password, wherever it happens (CreateLoginProfile, UpdateLoginProfile, ChangePassword, the
forced change at sign-in): the account's password policy first, then the reuse rule, then an argon2id hash and a
line of password history. One place, so every path refuses the same passwords with the same words.

argon2 is slow on purpose (a few hundred ms per check; ChangePassword may need 26: the old password, up to 24
remembered ones, and the new hash), so none of it runs inside a write transaction, which on SQLite holds every
account's writers. `set_password` runs a change in three steps: a read transaction decides which argon2 checks the
change needs (`PasswordChecks` in its probing pass answers each with the outcome that lets the change go on, and
notes it); those checks run with no transaction open, in order, stopping at the first that refuses; then every
decision is repeated, answered from what was computed, in a read transaction (so a refused change never takes the
write lock) and again in a short write transaction that stores the change. If a row changed in between so that a
check was not computed (a password changed meanwhile), it starts over.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from gatehouse.credentials import LoginProfile, PasswordPolicy
from gatehouse.errors import ConcurrentModification, PasswordPolicyViolation
from gatehouse.services.password_hashing import Passwords
from gatehouse.services.password_rules import reuse_message, violations
from gatehouse.storage.repository import Store, UnitOfWork

HISTORY_KEPT = 24  # the largest PasswordReusePrevention AWS accepts
_ATTEMPTS = 3

T = TypeVar("T")


def check_password(policy: PasswordPolicy | None, password: str) -> None:
    problems = violations(policy, password)
    if problems:
        raise PasswordPolicyViolation(problems[0])


class PasswordReused(PasswordPolicyViolation):
    """The reuse rule's refusal (AWS's PasswordPolicyViolation): a class of its own so that ChangePassword can count
    it toward the lockout (each one spends up to 25 argon2 checks)."""


class _Recheck(Exception):
    """The write pass met an argon2 check the probing pass did not foresee (a row changed in between)."""


class PasswordChecks:
    """argon2 verifications and hashes computed outside any transaction and remembered, so that the write
    transaction repeats every decision without running argon2 under its lock.

    While `probing`, an unknown verification is noted and answered with `expect` (the answer that lets the change
    go on), and an unknown hash with a placeholder; `run` then computes the notes in order and stops at the first
    verification that does not give its expected answer (what follows it depended on that answer). Outside
    probing, an unknown check raises `_Recheck`.
    """

    def __init__(self, passwords: Passwords) -> None:
        self.passwords = passwords
        self.probing = True
        self._verified: dict[tuple[str, str], bool] = {}
        self._hashes: dict[str, str] = {}
        self._pending: list[tuple[str, str | None, bool]] = []  # (password, hash to verify or None to hash, expect)

    def verify(self, password_hash: str, password: str, *, expect: bool) -> bool:
        known = self._verified.get((password_hash, password))
        if known is not None:
            return known
        if not self.probing:
            raise _Recheck()
        self._pending.append((password, password_hash, expect))
        return expect

    def hash(self, password: str) -> str:
        known = self._hashes.get(password)
        if known is not None:
            return known
        if not self.probing:
            raise _Recheck()
        self._pending.append((password, None, True))
        return ""

    def run(self) -> None:
        """The argon2 work noted while probing (call it with no transaction open)."""
        pending, self._pending = self._pending, []
        for password, password_hash, expect in pending:
            if password_hash is None:
                self._hashes[password] = self.passwords.hash(password)
                continue
            outcome = self.passwords.verify(password_hash, password)
            self._verified[(password_hash, password)] = outcome
            if outcome != expect:
                return


def new_password_hash(tx: UnitOfWork, checks: PasswordChecks, user_id: str, password: str) -> str:
    """The hash to store for `password` as `user_id`'s new password, or PasswordPolicyViolation (the policy's
    rules, then reuse of one of the remembered passwords)."""
    policy = tx.password_policy.get()
    check_password(policy, password)
    reuse = policy.reuse_prevention if policy else None
    if reuse:
        for old in tx.logins.history(user_id, reuse):
            if checks.verify(old, password, expect=False):
                raise PasswordReused(reuse_message(reuse))
    return checks.hash(password)


@dataclass(frozen=True)
class PasswordWrite:
    """What a change decided: the profile to store, and whether its hash is a new password to remember."""

    profile: LoginProfile
    new_password: bool


def set_password(store: Store, account_id: str, passwords: Passwords, when: dt.datetime,
                 decide: Callable[[UnitOfWork, PasswordChecks], PasswordWrite]) -> PasswordWrite:
    """Run `decide` (reads, authorization, every check; raises to refuse) in a probing read pass, then the argon2
    work outside any transaction, then `decide` again in a short write transaction that stores what it returns
    (and remembers a new password in the history, in the same unit of work so a refused change leaves no trace)."""
    checks = PasswordChecks(passwords)
    for _ in range(_ATTEMPTS):
        checks.probing = True
        with store.read(account_id) as tx:
            decide(tx, checks)
        checks.run()
        checks.probing = False
        try:
            with store.read(account_id) as tx:  # a refusal the argon2 answers decide comes here, without the lock
                decide(tx, checks)
            with store.write(account_id) as tx:
                out = decide(tx, checks)
                tx.logins.put(out.profile)
                if out.new_password:
                    tx.logins.remember(out.profile.user_id, when, out.profile.password_hash, HISTORY_KEPT)
                return out
        except _Recheck:
            continue
    raise ConcurrentModification("The password was changed by another request meanwhile; try again.")
