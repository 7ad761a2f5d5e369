"""Checking one-time codes of enabled virtual MFA devices, for STS (GetSessionToken and AssumeRole with
SerialNumber and TokenCode) and for sign-in.

A code is accepted for its own time step or one step either side (clock skew), shifted by the device's drift
(learned by ResyncMFADevice), and only if that step is later than the last one the device accepted. The step is
spent with one conditional UPDATE in the database (`SigninLedger.claim_step`), so a code can never be used twice,
not even on two replicas at once.
"""

from __future__ import annotations

import re

from gatehouse.credentials import MfaDevice
from gatehouse.services import totp
from gatehouse.services.clock import Clock
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
    def __init__(self, store: Store, box: SecretBox, clock: Clock) -> None:
        self.store = store
        self.box = box
        self.clock = clock

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
