"""Checking one-time codes of enabled virtual MFA devices, for STS (GetSessionToken and AssumeRole with
SerialNumber and TokenCode) and for sign-in.

With two or three codes valid at any moment, an unbounded oracle gives a code in minutes, so STS asks through
`guess_code`: the caller's wrong codes count toward the same per-user lock as wrong sign-in passwords, attempts are
rate-limited per user, and while the lock holds even a right code is refused (`lockouts.Lockouts.guess`). Sign-in
checks the lock itself before asking `verify_for_user`.

A code is accepted for its own time step or one step either side (clock skew), shifted by the device's drift
(learned by ResyncMFADevice), and only if that step is later than the last one the device accepted. The step is
spent with one conditional UPDATE in the database (`SigninLedger.claim_step`), so a code can never be used twice,
not even on two replicas at once.
"""

from __future__ import annotations

import re

from gatehouse.credentials import MfaDevice
from gatehouse.model import Caller, PrincipalKind
from gatehouse.services import totp
from gatehouse.services.clock import Clock
from gatehouse.services.lockouts import (
    Guess,
    LockoutPolicy,
    Lockouts,
    LockTarget,
    passwordless_root_target,
    root_target,
    user_target,
)
from gatehouse.services.secretbox import SealedSecretError, SecretBox
from gatehouse.storage.repository import Store

_SERIAL = re.compile(r"arn:aws[a-z-]*:iam::(\d{12}):mfa(/(?:[^/]+/)*[^/]+)\Z")


def parse_serial(serial_number: str) -> tuple[str, str] | None:
    """(account, "/path/name") of a virtual MFA device's serial number (its ARN), or None."""
    m = _SERIAL.match(serial_number)
    return (m.group(1), m.group(2)) if m else None


def seed_binding(device_id: str) -> str:
    """What a device's sealed seed is bound to (see SecretBox): a seed copied to another device does not open."""
    return f"mfa-seed/{device_id}"


class MfaCodes:
    def __init__(self, store: Store, box: SecretBox, clock: Clock, lockouts: Lockouts | None = None) -> None:
        self.store = store
        self.box = box
        self.clock = clock
        self.lockouts = lockouts or Lockouts(store, LockoutPolicy())

    def guess_code(self, caller: Caller, serial_number: str, code: str) -> Guess:
        """STS's MfaCheck, bounded: `code` is a fresh code of the device `serial_number`, enabled for the calling
        user (or, for the account root, the root's), asked under the caller's lock and rate limit. A role session
        or a federated user holds no device, so nothing it sends can be right (and nothing is counted)."""
        target = self.caller_target(caller)
        if target is None:
            return Guess.WRONG
        user_id = caller.principal_id if caller.kind is PrincipalKind.USER else None
        return self.lockouts.guess(target, int(self.clock().timestamp()),
                                   lambda: self.verify_code(caller.account_id, serial_number, code, user_id))

    def caller_target(self, caller: Caller) -> LockTarget | None:
        """Whose lock a caller's guesses count toward: an IAM user's by name, as sign-in and ChangePassword count;
        the root's by its sign-in email (by account when it has none); None for callers that hold no device."""
        if caller.kind is PrincipalKind.USER:
            return user_target(caller.account_id, "", caller.name)
        if caller.kind is PrincipalKind.ROOT:
            with self.store.read(caller.account_id) as tx:
                root = tx.logins.root()
            return root_target(caller.account_id, root.email) if root else passwordless_root_target(caller.account_id)
        return None

    def seed(self, device: MfaDevice) -> str | None:
        try:
            return self.box.open(device.sealed_seed, seed_binding(device.device_id))
        except SealedSecretError:
            return None

    def verify_code(self, account_id: str, serial_number: str, code: str, user_id: str | None) -> bool:
        """STS's MfaCheck: `code` is a fresh code of the device `serial_number`, enabled for `user_id` (None: the
        account root)."""
        parsed = parse_serial(serial_number)
        if parsed is None or parsed[0] != account_id:
            return False
        with self.store.read(account_id) as tx:
            device = tx.mfa.get(parsed[1])
        if device is None or not device.assigned:
            return False
        owner_matches = device.for_root if user_id is None else device.user_id == user_id
        return owner_matches and self.spend(device, code)

    def verify_for_user(self, account_id: str, user_id: str | None, code: str) -> bool:
        """Sign-in: `code` is a fresh code of any device enabled for the user (None: the account root)."""
        with self.store.read(account_id) as tx:
            devices = tx.mfa.for_user(user_id)
        return any(self.spend(device, code) for device in devices)

    def has_device(self, account_id: str, user_id: str | None) -> bool:
        with self.store.read(account_id) as tx:
            return bool(tx.mfa.for_user(user_id))

    def spend(self, device: MfaDevice, code: str) -> bool:
        seed = self.seed(device)
        if seed is None:
            return False
        center = totp.step_at(self.clock().timestamp()) + device.drift
        for step in totp.matching_steps(seed, code, center):
            if device.last_step is not None and step <= device.last_step:
                continue
            if self.store.signin.claim_step(device.account_id, device.device_id, step):
                return True
        return False
