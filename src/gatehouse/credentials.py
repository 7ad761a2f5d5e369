"""Entities for the credentials people and tools sign in with: login profiles (console passwords), the account
password policy, virtual MFA devices, server and signing certificates, SSH public keys and service-specific
credentials.

Kept beside `model` rather than in it because only the sign-in and credential use cases need them. Secret material
never appears here in clear: passwords are argon2id hashes, MFA seeds and private keys are sealed (`SecretBox`).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from gatehouse.model import make_arn


@dataclass(frozen=True, slots=True)
class LoginProfile:
    account_id: str
    user_id: str
    password_hash: str = field(repr=False)
    created: dt.datetime
    password_changed: dt.datetime
    reset_required: bool = False
    max_session_duration: int | None = None


@dataclass(frozen=True, slots=True)
class RootLogin:
    """The account root's email address and password (AWS signs the root in by email)."""

    account_id: str
    email: str
    password_hash: str = field(repr=False)
    password_changed: dt.datetime


@dataclass(frozen=True, slots=True)
class PasswordPolicy:
    """The account password policy, with AWS's defaults for members a request leaves out."""

    minimum_length: int = 6
    require_symbols: bool = False
    require_numbers: bool = False
    require_uppercase: bool = False
    require_lowercase: bool = False
    allow_users_to_change: bool = False
    max_age_days: int | None = None
    reuse_prevention: int | None = None
    hard_expiry: bool | None = None


@dataclass(frozen=True, slots=True)
class LockoutSettings:
    """Failed sign-ins allowed within `window` seconds before the principal is locked for `duration` seconds.
    A threshold of 0 turns lockout off. Per account, any member may be None: the server's default applies."""

    threshold: int | None = None
    window: int | None = None
    duration: int | None = None


@dataclass(frozen=True, slots=True)
class MfaDevice:
    """A virtual (TOTP) MFA device. `user_id` is set once the device is enabled for a user; `last_step` is the
    last accepted time step, so that no code is accepted twice, on any replica."""

    account_id: str
    device_id: str
    name: str
    path: str
    created: dt.datetime
    sealed_seed: bytes = field(repr=False)
    user_id: str | None = None
    for_root: bool = False
    enabled: dt.datetime | None = None
    last_step: int | None = None
    drift: int = 0

    def serial(self, partition: str) -> str:
        return make_arn(partition, "iam", self.account_id, f"mfa{self.path}{self.name}")

    @property
    def assigned(self) -> bool:
        return self.enabled is not None


@dataclass(frozen=True, slots=True)
class ServerCertificate:
    account_id: str
    certificate_id: str
    name: str
    path: str
    body: str
    chain: str | None
    sealed_private_key: bytes = field(repr=False)
    uploaded: dt.datetime
    expiration: dt.datetime

    def arn(self, partition: str) -> str:
        return make_arn(partition, "iam", self.account_id, f"server-certificate{self.path}{self.name}")


@dataclass(frozen=True, slots=True)
class SigningCertificate:
    account_id: str
    certificate_id: str
    user_id: str | None  # None: the account root's
    body: str
    fingerprint: str
    status: str
    uploaded: dt.datetime


@dataclass(frozen=True, slots=True)
class SshPublicKey:
    account_id: str
    key_id: str
    user_id: str
    body: str
    fingerprint: str
    status: str
    uploaded: dt.datetime


@dataclass(frozen=True, slots=True)
class ServiceCredential:
    account_id: str
    credential_id: str
    user_id: str
    service_name: str
    service_user_name: str
    password_hash: str = field(repr=False)
    status: str
    created: dt.datetime
    expires: dt.datetime | None = None
