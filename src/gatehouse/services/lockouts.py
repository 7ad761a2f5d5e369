"""Guessing lockout, shared by everything that checks a user's secret: console sign-in, ChangePassword, and the
MFA codes taken by STS (GetSessionToken and AssumeRole with SerialNumber and TokenCode) and by IAM
(EnableMFADevice, ResyncMFADevice). AWS has none: this is Gatehouse's own guard. Each of those paths counts its
wrong answers toward the same per-user lock, and refuses even a right answer while the lock holds, so a stolen
access key is no better a guessing oracle than the sign-in page. `Lockouts.guess` is that rule in one place, with
a rate limit per user on top (`RateLimits.per_name` attempts per window) for paths that have none of their own.

Failures are counted, and locks kept, per name typed: an account (its id when it exists, otherwise what was typed)
with a user name, or a root email. Whether anyone by that name exists changes nothing: an unknown name is refused
with InvalidCredentials and then LockedOut exactly like a known one, so lockout cannot be used to find out which
users exist. Counters and locks live in the database (`SigninLedger`), so every replica sees the same state.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum

from gatehouse.credentials import LockoutSettings
from gatehouse.storage.repository import Store

ROOT = "root"  # the name a root user's lock is shown (and lifted) by

# Longer names than these exist nowhere (account alias or id, IAM user name, email), so cutting what was typed to
# them only ever merges names that do not exist, and keeps keys within the ledger's column.
_ACCOUNT_CHARS, _USER_CHARS, _EMAIL_CHARS = 64, 128, 256


@dataclass(frozen=True)
class RateLimits:
    """Sign-in attempts allowed per `window` seconds from one source address, and for one name typed (the latter
    also bounds MFA code attempts at STS, per user)."""

    per_address: int = 60
    per_name: int = 20
    window: int = 60
    # How long sign-in events are kept (--signin-event-retention-days), and how often a process prunes what no longer
    # counts (rate windows passed, failure windows and locks over, events past retention: `Signin.prune`).
    event_retention_days: int = 90
    prune_every: int = 60


class Guess(Enum):
    """What came of one attempt at a secret under the lockout."""

    RIGHT = "right"
    WRONG = "wrong"  # counted toward the lock
    LOCKED = "locked"  # refused unchecked: answer as for a wrong one
    THROTTLED = "throttled"  # over the rate limit: refused unchecked, not counted


@dataclass(frozen=True)
class LockoutPolicy:
    """Server-wide lockout defaults (--lockout-threshold, --lockout-window, --lockout-duration)."""

    threshold: int = 5
    window: int = 900
    duration: int = 900

    def merged(self, account: LockoutSettings) -> LockoutPolicy:
        return LockoutPolicy(threshold=self.threshold if account.threshold is None else account.threshold,
                             window=self.window if account.window is None else account.window,
                             duration=self.duration if account.duration is None else account.duration)


@dataclass(frozen=True)
class LockTarget:
    """Whose failures count together. `key` names them in the ledger; `account_id` (None when no such account
    exists) and `name` are what `gatehouse account lockout` reports."""

    key: str
    account_id: str | None
    name: str


def user_target(account_id: str | None, account_typed: str, user_name: str) -> LockTarget:
    """An IAM user's target: by account id when the account exists (its alias and id then share one counter),
    otherwise by what was typed; the user name without case, as IAM names compare."""
    account = account_id or account_typed.lower()[:_ACCOUNT_CHARS]
    name = user_name.lower()[:_USER_CHARS]
    return LockTarget(f"user:{account}/{name}", account_id, name)


def root_target(account_id: str | None, email: str) -> LockTarget:
    """A root user's target: by the email typed (without case, as root emails compare)."""
    return LockTarget(f"root:{email.lower()[:_EMAIL_CHARS]}", account_id, ROOT)


def passwordless_root_target(account_id: str) -> LockTarget:
    """The target of an account's root user that has no sign-in email (and so no sign-in to share a counter
    with): its MFA codes at STS still count, by account."""
    return LockTarget(f"root-of:{account_id}", account_id, ROOT)


class Lockouts:
    def __init__(self, store: Store, defaults: LockoutPolicy, limits: RateLimits = RateLimits()) -> None:
        self.store = store
        self.defaults = defaults
        self.limits = limits

    def policy(self, account_id: str | None) -> LockoutPolicy:
        """The server's defaults under the account's override; the defaults alone where no such account exists."""
        if account_id is None:
            return self.defaults
        with self.store.read(account_id) as tx:
            return self.defaults.merged(tx.password_policy.lockout())

    def locked_for(self, target: LockTarget, policy: LockoutPolicy, now: int) -> int:
        """Seconds `target` stays locked after `now`; 0 when it is not locked (or lockout is off)."""
        if policy.threshold <= 0:
            return 0
        state = self.store.signin.lock_state(target.key)
        if state is None or state.locked_until is None or state.locked_until <= now:
            return 0
        return state.locked_until - now

    def failed(self, target: LockTarget, policy: LockoutPolicy, now: int) -> None:
        """Count a wrong password (or MFA code) for `target`; the threshold-th within the window locks it."""
        if policy.threshold > 0:
            self.store.signin.record_failure(target.key, target.account_id, target.name, now, policy.window,
                                             policy.threshold, policy.duration)

    def cleared(self, target: LockTarget) -> None:
        """A correct password: earlier failures no longer count (as after an operator's unlock)."""
        self.store.signin.clear_failures(target.key)

    def guess(self, target: LockTarget, now: int, check: Callable[[], bool]) -> Guess:
        """One attempt at a secret of `target` (an MFA code): over the per-user rate limit or while locked it is
        refused without running `check` (so a right code is refused too, and not spent); a wrong answer counts
        toward the lock. A right one forgives nothing: only a full sign-in or an operator clears the failures.

        Ledger calls are transactions of their own: call this outside any unit of work."""
        limits = self.limits
        if self.store.signin.tick(f"guess:{target.key}", now, limits.window) > limits.per_name:
            return Guess.THROTTLED
        policy = self.policy(target.account_id)
        if self.locked_for(target, policy, now):
            return Guess.LOCKED
        if check():
            return Guess.RIGHT
        self.failed(target, policy, now)
        return Guess.WRONG
