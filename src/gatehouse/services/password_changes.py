"""Setting a user's password, wherever it happens (CreateLoginProfile, UpdateLoginProfile, ChangePassword, the
forced change at sign-in): the account's password policy first, then the reuse rule, then an argon2id hash and a
line of password history. One place, so every path refuses the same passwords with the same words.
"""

from __future__ import annotations

import datetime as dt

from gatehouse.credentials import PasswordPolicy
from gatehouse.errors import PasswordPolicyViolation
from gatehouse.services.password_hashing import Passwords
from gatehouse.services.password_rules import reuse_message, violations
from gatehouse.storage.repository import UnitOfWork

HISTORY_KEPT = 24  # the largest PasswordReusePrevention AWS accepts


def check_password(policy: PasswordPolicy | None, password: str) -> None:
    problems = violations(policy, password)
    if problems:
        raise PasswordPolicyViolation(problems[0])


def new_password_hash(tx: UnitOfWork, passwords: Passwords, user_id: str, password: str, when: dt.datetime) -> str:
    """The hash to store for `password` as `user_id`'s new password, or PasswordPolicyViolation. Remembers it in
    the password history (in the same unit of work, so a refused change leaves no trace)."""
    policy = tx.password_policy.get()
    check_password(policy, password)
    reuse = policy.reuse_prevention if policy else None
    if reuse:
        for old in tx.logins.history(user_id, reuse):
            if passwords.verify(old, password):
                raise PasswordPolicyViolation(reuse_message(reuse))
    hashed = passwords.hash(password)
    tx.logins.remember(user_id, when, hashed, HISTORY_KEPT)
    return hashed
