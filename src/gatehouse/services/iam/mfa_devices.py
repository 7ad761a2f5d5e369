"""Virtual MFA devices (TOTP, RFC 6238): create (the seed and its QR code are shown once), enable with two
consecutive codes, resync, deactivate, delete, list, tag.

The seed is sealed at rest under the master key and never returned after creation. Enabling and resyncing spend
the time steps of the codes they were given (the device's `last_step`), so those codes cannot be replayed later.
Their wrong codes count toward the sign-in lock of the user named (`lockouts`), and while it holds even right codes
are refused, as at sign-in and STS.
"""

from __future__ import annotations

import dataclasses
import re
from typing import Any

from gatehouse.credentials import MfaDevice
from gatehouse.errors import (
    DeleteConflict,
    EntityAlreadyExists,
    InvalidAuthenticationCode,
    LimitExceeded,
    NoSuchEntity,
    ValidationError,
)
from gatehouse.model import Caller, OwnerKind, User
from gatehouse.services import ids, totp
from gatehouse.services.clock import whole_seconds
from gatehouse.services.iam.common import (
    Finder,
    IamBase,
    IamDeps,
    checked_tags,
    short_page,
)
from gatehouse.services.iam.views import tags_view, user_view
from gatehouse.services.lockouts import LockTarget, user_target
from gatehouse.services.mfa_codes import MfaCodes, parse_serial, seed_binding
from gatehouse.services.operation import operation
from gatehouse.services.request_context import RequestFacts
from gatehouse.storage.repository import UnitOfWork

MAX_DEVICES_PER_USER = 8
ENABLE_LOOKBACK_STEPS = 4  # codes may be a couple of minutes old by the time the request arrives
RESYNC_WINDOW_STEPS = 40  # a device whose clock drifted up to 20 minutes can be brought back
QR_ISSUER = "Gatehouse"
# The model's path pattern ((\u002F)|(\u002F[\u0021-\u007E]+\u002F)), and IAM's answer to a path outside it
# (LocalStack's AWS-validated test_iam_mfa snapshot: "test/" and "/test" both get it; "/test//double/" is accepted).
_PATH = re.compile(r"/|/[\x21-\x7e]+/")
_BAD_PATH = ("The specified value for path is invalid. It must begin and end with / and contain only alphanumeric "
             "characters and/or / characters.")


def _bad_code() -> InvalidAuthenticationCode:
    return InvalidAuthenticationCode("Authentication code for device is not valid.")


class _WrongCodes(Exception):
    """Codes checked and found wrong: counted toward the lock once the unit of work has ended."""


class MfaDevices(IamBase):
    def __init__(self, deps: IamDeps, codes: MfaCodes) -> None:
        super().__init__(deps)
        self.codes = codes

    # --- look-ups ------------------------------------------------------------------------------------------

    def _device(self, tx: UnitOfWork, caller: Caller, serial_number: str) -> MfaDevice | None:
        parsed = parse_serial(serial_number)
        if parsed is None or parsed[0] != caller.account_id or not serial_number.startswith(f"arn:{caller.partition}:"):
            return None  # another account's or partition's device is none of this account's
        return tx.mfa.get(parsed[1])

    @staticmethod
    def _missing(serial_number: str) -> NoSuchEntity:
        # AWS's wording for DeleteVirtualMFADevice and DeactivateMFADevice on a device that does not exist
        # (LocalStack's AWS-validated test_iam_mfa.snapshot.json).
        return NoSuchEntity(f"MFA Device with serial number {serial_number} does not exist.")

    def _device_for(self, tx: UnitOfWork, caller: Caller, action: str, serial_number: str,
                    facts: RequestFacts | None = None) -> MfaDevice:
        """The device named by its serial number (ARN), authorized for `action` on its own serial number."""
        device = self._device(tx, caller, serial_number)
        target = (self.target(tx, OwnerKind.MFA_DEVICE, device.device_id, device.serial(caller.partition))
                  if device else self.target(tx, OwnerKind.MFA_DEVICE, None, serial_number))
        return self.authorized(tx, caller, action, device, target, self._missing(serial_number), facts)

    def _holder(self, tx: UnitOfWork, caller: Caller, action: str, user_name: str | None) -> User | None:
        name = self.own_user_name(caller, user_name)
        if name is None:
            self.require(tx, caller, action, caller.arn)
            return None
        return self.user_for(tx, caller, action, name)

    # --- lifecycle -------------------------------------------------------------------------------------------

    @operation
    def create_virtual_mfa_device(self, caller: Caller, virtual_mfa_device_name: str, path: str | None = None,
                                  tags: list[dict[str, str]] | None = None) -> dict[str, Any]:
        path = path or "/"
        if _PATH.fullmatch(path) is None:  # the model's pattern, which AWS's front end leaves to IAM here
            raise ValidationError(_BAD_PATH)
        new_tags = checked_tags(tags, OwnerKind.MFA_DEVICE)
        seed = totp.new_seed()
        with self.store.write(caller.account_id) as tx:
            arn = self.arn(caller, f"mfa{path}{virtual_mfa_device_name}")
            self.require(tx, caller, "iam:CreateVirtualMFADevice", arn, RequestFacts(tags=new_tags))
            if tx.mfa.get(path + virtual_mfa_device_name) is not None:
                raise EntityAlreadyExists("MFA device already exists.")  # AWS's wording (as above)
            device_id = ids.unique_id("AMFA")
            device = MfaDevice(account_id=caller.account_id, device_id=device_id, name=virtual_mfa_device_name,
                               path=path, created=whole_seconds(self.deps.clock),
                               sealed_seed=self.deps.box.seal(seed, seed_binding(device_id)))
            tx.mfa.insert(device)
            tx.tags.replace(OwnerKind.MFA_DEVICE, device_id, new_tags)
            account = tx.accounts.get(caller.account_id)
        label = f"{virtual_mfa_device_name}@{(account.alias if account else None) or caller.account_id}"
        out: dict[str, Any] = {"SerialNumber": device.serial(caller.partition), "Base32StringSeed": seed,
                               "QRCodePNG": totp.qr_png(totp.provisioning_uri(seed, label, QR_ISSUER))}
        if new_tags:
            out["Tags"] = tags_view(new_tags)
        return {"VirtualMFADevice": out}

    @operation
    def enable_mfa_device(self, caller: Caller, user_name: str, serial_number: str, authentication_code1: str,
                          authentication_code2: str) -> dict[str, Any]:
        target = user_target(caller.account_id, "", user_name)
        locked = self._locked(target)
        try:
            with self.store.write(caller.account_id) as tx:
                user = self.user_for(tx, caller, "iam:EnableMFADevice", user_name)
                device = self._device(tx, caller, serial_number)
                if device is None:
                    raise self._missing(serial_number)
                if device.assigned:
                    raise EntityAlreadyExists("MFA Device is already in use.")
                if len(tx.mfa.for_user(user.user_id)) >= MAX_DEVICES_PER_USER:
                    raise LimitExceeded(f"Cannot exceed quota for MFADevicesPerUser: {MAX_DEVICES_PER_USER}")
                step = self._consecutive(device, authentication_code1, authentication_code2, ENABLE_LOOKBACK_STEPS,
                                         1, locked)
                tx.mfa.update(dataclasses.replace(device, user_id=user.user_id,
                                                  enabled=whole_seconds(self.deps.clock), last_step=step, drift=0))
        except _WrongCodes:
            self._failed(target)
            raise _bad_code() from None
        return {}

    @operation
    def resync_mfa_device(self, caller: Caller, user_name: str, serial_number: str, authentication_code1: str,
                          authentication_code2: str) -> dict[str, Any]:
        target = user_target(caller.account_id, "", user_name)
        locked = self._locked(target)
        try:
            with self.store.write(caller.account_id) as tx:
                user = self.user_for(tx, caller, "iam:ResyncMFADevice", user_name)
                device = self._device(tx, caller, serial_number)
                if device is None or device.user_id != user.user_id:
                    raise self._missing(serial_number)
                step = self._consecutive(device, authentication_code1, authentication_code2, RESYNC_WINDOW_STEPS,
                                         RESYNC_WINDOW_STEPS, locked)
                drift = step - totp.step_at(self.deps.clock().timestamp())
                tx.mfa.update(dataclasses.replace(device, last_step=step, drift=drift))
        except _WrongCodes:
            self._failed(target)
            raise _bad_code() from None
        return {}

    def _locked(self, target: LockTarget) -> bool:
        """Whether the user's sign-in lock holds (read before the unit of work: the ledger is not part of it; told
        only after the caller has been authorized)."""
        lockouts = self.codes.lockouts
        epoch = int(self.deps.clock().timestamp())
        return lockouts.locked_for(target, lockouts.policy(target.account_id), epoch) > 0

    def _failed(self, target: LockTarget) -> None:
        lockouts = self.codes.lockouts
        lockouts.failed(target, lockouts.policy(target.account_id), int(self.deps.clock().timestamp()))

    def _consecutive(self, device: MfaDevice, code1: str, code2: str, behind: int, ahead: int, locked: bool) -> int:
        """The step of `code2`, when the two codes are consecutive, recent and not spent already (and the user is
        not locked out: then even right codes are refused, unchecked and uncounted)."""
        if locked:
            raise _bad_code()
        seed = self.codes.seed(device)
        if seed is None:
            raise _bad_code()
        now_step = totp.step_at(self.deps.clock().timestamp())
        step = totp.consecutive_step(seed, code1, code2, now_step, behind, ahead)
        if step is None or (device.last_step is not None and step - 1 <= device.last_step):
            raise _WrongCodes()
        return step

    @operation
    def deactivate_mfa_device(self, caller: Caller, serial_number: str, user_name: str | None = None
                              ) -> dict[str, Any]:
        with self.store.write(caller.account_id) as tx:
            user = self._holder(tx, caller, "iam:DeactivateMFADevice", user_name)
            device = self._device(tx, caller, serial_number)
            if device is None:
                raise self._missing(serial_number)
            owned = device.assigned and (device.for_root if user is None else device.user_id == user.user_id)
            if not owned:
                raise NoSuchEntity(f"MFA Device with serial number {serial_number} does not exist for the user.")
            tx.mfa.update(dataclasses.replace(device, user_id=None, for_root=False, enabled=None))
        return {}

    @operation
    def delete_virtual_mfa_device(self, caller: Caller, serial_number: str) -> dict[str, Any]:
        with self.store.write(caller.account_id) as tx:
            device = self._device_for(tx, caller, "iam:DeleteVirtualMFADevice", serial_number)
            if device.assigned:
                raise DeleteConflict("MFA Device is still in use. Deactivate it before deleting it.")
            tx.tags.replace(OwnerKind.MFA_DEVICE, device.device_id, [])
            tx.mfa.delete(device.device_id)
        return {}

    # --- reading ---------------------------------------------------------------------------------------------

    @operation
    def list_mfa_devices(self, caller: Caller, user_name: str | None = None, marker: str | None = None,
                         max_items: int | None = None) -> dict[str, Any]:
        with self.store.read(caller.account_id) as tx:
            user = self._holder(tx, caller, "iam:ListMFADevices", user_name)
            devices = tx.mfa.for_user(user.user_id if user else None)
        name = user.name if user else caller.account_id
        return short_page("MFADevices", [{"UserName": name, "SerialNumber": d.serial(caller.partition),
                                          "EnableDate": d.enabled} for d in devices], marker, max_items)

    @operation
    def list_virtual_mfa_devices(self, caller: Caller, assignment_status: str | None = None,
                                 marker: str | None = None, max_items: int | None = None) -> dict[str, Any]:
        with self.store.read(caller.account_id) as tx:
            self.require(tx, caller, "iam:ListVirtualMFADevices", "*")
            page = tx.mfa.page(assignment_status or "Any", marker, max_items or 100)
            items = []
            for d in page.items:
                item: dict[str, Any] = {"SerialNumber": d.serial(caller.partition)}
                if d.assigned:
                    item["EnableDate"] = d.enabled
                    user = tx.users.by_id(d.user_id) if d.user_id else None
                    if user is not None:
                        item["User"] = user_view(user, caller.partition)
                    elif d.for_root:
                        item["User"] = {"Path": "/", "UserName": caller.account_id, "UserId": caller.account_id,
                                        "Arn": self.arn(caller, "root"), "CreateDate": d.enabled}
                # No Tags here: AWS documents that ListVirtualMFADevices does not return them (ListMFADeviceTags does).
                items.append(item)
        out: dict[str, Any] = {"VirtualMFADevices": items, "IsTruncated": page.is_truncated}
        if page.marker:
            out["Marker"] = page.marker
        return out

    @operation
    def get_mfa_device(self, caller: Caller, serial_number: str, user_name: str | None = None) -> dict[str, Any]:
        with self.store.read(caller.account_id) as tx:
            user = self._holder(tx, caller, "iam:GetMFADevice", user_name)
            device = self._device(tx, caller, serial_number)
            owned = device is not None and device.assigned and (
                device.for_root if user is None else device.user_id == user.user_id)
        if device is None or not owned:
            raise NoSuchEntity(f"MFA Device with serial number {serial_number} does not exist for the user.")
        return {"UserName": user.name if user else caller.account_id, "SerialNumber": device.serial(caller.partition),
                "EnableDate": device.enabled}

    # --- tags ------------------------------------------------------------------------------------------------

    def _tagged_device(self, caller: Caller, name: str) -> Finder:
        return lambda tx, action, facts: self._device_for(tx, caller, action, name, facts).device_id

    @operation
    def tag_mfa_device(self, caller: Caller, serial_number: str, tags: list[dict[str, str]]) -> dict[str, Any]:
        return self.tag_entity(caller, OwnerKind.MFA_DEVICE, "iam:TagMFADevice",
                               self._tagged_device(caller, serial_number), tags)

    @operation
    def untag_mfa_device(self, caller: Caller, serial_number: str, tag_keys: list[str]) -> dict[str, Any]:
        return self.untag_entity(caller, OwnerKind.MFA_DEVICE, "iam:UntagMFADevice",
                                 self._tagged_device(caller, serial_number), tag_keys)

    @operation
    def list_mfa_device_tags(self, caller: Caller, serial_number: str, marker: str | None = None,
                             max_items: int | None = None) -> dict[str, Any]:
        return self.list_entity_tags(caller, OwnerKind.MFA_DEVICE, "iam:ListMFADeviceTags",
                                     self._tagged_device(caller, serial_number),
                                     marker, max_items)
