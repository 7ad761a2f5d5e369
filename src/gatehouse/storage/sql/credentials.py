"""Sign-in credentials in SQL: login profiles and password history, the root login, the password policy and
lockout settings, virtual MFA devices, server and signing certificates, SSH public keys, service credentials."""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, func, insert, select, update

from gatehouse.credentials import (
    LockoutSettings,
    LoginProfile,
    MfaDevice,
    PasswordPolicy,
    RootLogin,
    ServerCertificate,
    ServiceCredential,
    SigningCertificate,
    SshPublicKey,
)
from gatehouse.model import Page
from gatehouse.storage.sql import tables as t
from gatehouse.storage.sql.identities import _Repo
from gatehouse.storage.sql.paging import page_of, path_starts_with

_LP, _PH, _RL = t.login_profiles, t.password_history, t.root_logins


class SqlLoginProfiles(_Repo):
    def get(self, user_id: str) -> LoginProfile | None:
        r = self.conn.execute(select(_LP).where(_LP.c.account_id == self.account_id,
                                                _LP.c.user_id == user_id)).first()
        if r is None:
            return None
        return LoginProfile(account_id=r.account_id, user_id=r.user_id, password_hash=r.password_hash,
                            created=r.created, password_changed=r.password_changed, reset_required=r.reset_required,
                            max_session_duration=r.max_session_duration)

    def put(self, profile: LoginProfile) -> None:
        values = {"password_hash": profile.password_hash, "created": profile.created,
                  "password_changed": profile.password_changed, "reset_required": profile.reset_required,
                  "max_session_duration": profile.max_session_duration}
        done = self.conn.execute(update(_LP).where(_LP.c.user_id == profile.user_id).values(**values))
        if done.rowcount == 0:
            self.conn.execute(insert(_LP).values(user_id=profile.user_id, account_id=self.account_id, **values))

    def delete(self, user_id: str) -> None:
        self.conn.execute(delete(_LP).where(_LP.c.user_id == user_id))
        self.conn.execute(delete(_PH).where(_PH.c.user_id == user_id))

    def history(self, user_id: str, limit: int) -> list[str]:
        rows = self.conn.execute(select(_PH.c.password_hash).where(_PH.c.user_id == user_id)
                                 .order_by(_PH.c.sequence.desc()).limit(limit)).scalars()
        return list(rows)

    def remember(self, user_id: str, when: Any, password_hash: str, keep: int) -> None:
        last = self.conn.execute(select(func.max(_PH.c.sequence)).where(_PH.c.user_id == user_id)).scalar()
        sequence = (last or 0) + 1
        self.conn.execute(insert(_PH).values(user_id=user_id, sequence=sequence, changed=when,
                                             password_hash=password_hash))
        self.conn.execute(delete(_PH).where(_PH.c.user_id == user_id, _PH.c.sequence <= sequence - keep))

    def root(self) -> RootLogin | None:
        r = self.conn.execute(select(_RL).where(_RL.c.account_id == self.account_id)).first()
        return _root(r) if r else None

    def set_root(self, login: RootLogin) -> None:
        values = {"email_key": login.email.lower(), "password_hash": login.password_hash,
                  "password_changed": login.password_changed}
        done = self.conn.execute(update(_RL).where(_RL.c.account_id == login.account_id).values(**values))
        if done.rowcount == 0:
            self.conn.execute(insert(_RL).values(account_id=login.account_id, **values))
        self.conn.execute(update(t.accounts).where(t.accounts.c.account_id == login.account_id).values(
            root_email=login.email))

    def root_by_email(self, email: str) -> RootLogin | None:
        r = self.conn.execute(select(_RL).where(_RL.c.email_key == email.lower())).first()
        return _root(r) if r else None


def _root(r: Any) -> RootLogin:
    return RootLogin(account_id=r.account_id, email=r.email_key, password_hash=r.password_hash,
                     password_changed=r.password_changed)


_PP, _LS = t.password_policies, t.lockout_settings


class SqlPasswordPolicies(_Repo):
    def get(self) -> PasswordPolicy | None:
        r = self.conn.execute(select(_PP).where(_PP.c.account_id == self.account_id)).first()
        if r is None:
            return None
        return PasswordPolicy(minimum_length=r.minimum_length, require_symbols=r.require_symbols,
                              require_numbers=r.require_numbers, require_uppercase=r.require_uppercase,
                              require_lowercase=r.require_lowercase, allow_users_to_change=r.allow_users_to_change,
                              max_age_days=r.max_age_days, reuse_prevention=r.reuse_prevention,
                              hard_expiry=r.hard_expiry)

    def put(self, policy: PasswordPolicy) -> None:
        values = {"minimum_length": policy.minimum_length, "require_symbols": policy.require_symbols,
                  "require_numbers": policy.require_numbers, "require_uppercase": policy.require_uppercase,
                  "require_lowercase": policy.require_lowercase,
                  "allow_users_to_change": policy.allow_users_to_change, "max_age_days": policy.max_age_days,
                  "reuse_prevention": policy.reuse_prevention, "hard_expiry": policy.hard_expiry}
        self.delete()
        self.conn.execute(insert(_PP).values(account_id=self.account_id, **values))

    def delete(self) -> None:
        self.conn.execute(delete(_PP).where(_PP.c.account_id == self.account_id))

    def lockout(self) -> LockoutSettings:
        r = self.conn.execute(select(_LS).where(_LS.c.account_id == self.account_id)).first()
        if r is None:
            return LockoutSettings()
        return LockoutSettings(threshold=r.threshold, window=r.window_seconds, duration=r.duration_seconds)

    def set_lockout(self, settings: LockoutSettings) -> None:
        self.conn.execute(delete(_LS).where(_LS.c.account_id == self.account_id))
        if settings != LockoutSettings():
            self.conn.execute(insert(_LS).values(account_id=self.account_id, threshold=settings.threshold,
                                                 window_seconds=settings.window, duration_seconds=settings.duration))


_MFA = t.mfa_devices


def _device(r: Any) -> MfaDevice:
    return MfaDevice(account_id=r.account_id, device_id=r.device_id, name=r.name, path=r.path, created=r.created,
                     sealed_seed=bytes(r.sealed_seed), user_id=r.user_id, for_root=r.for_root, enabled=r.enabled,
                     last_step=r.last_step, drift=r.drift)


class SqlMfaDevices(_Repo):
    def get(self, path_and_name: str) -> MfaDevice | None:
        r = self.conn.execute(select(_MFA).where(_MFA.c.account_id == self.account_id,
                                                 _MFA.c.serial_key == path_and_name.lower())).first()
        return _device(r) if r else None

    def by_id(self, device_id: str) -> MfaDevice | None:
        r = self.conn.execute(select(_MFA).where(_MFA.c.account_id == self.account_id,
                                                 _MFA.c.device_id == device_id)).first()
        return _device(r) if r else None

    def for_user(self, user_id: str | None) -> list[MfaDevice]:
        owner = _MFA.c.for_root.is_(True) if user_id is None else _MFA.c.user_id == user_id
        rows = self.conn.execute(select(_MFA).where(_MFA.c.account_id == self.account_id, owner,
                                                    _MFA.c.enabled.is_not(None))
                                 .order_by(_MFA.c.enabled, _MFA.c.serial_key)).all()
        return [_device(r) for r in rows]

    def page(self, assignment: str, after: str | None, limit: int) -> Page[MfaDevice]:
        q = select(_MFA).where(_MFA.c.account_id == self.account_id)
        if assignment == "Assigned":
            q = q.where(_MFA.c.enabled.is_not(None))
        elif assignment == "Unassigned":
            q = q.where(_MFA.c.enabled.is_(None))
        return page_of(self.conn, q, _MFA.c.serial_key, after, limit, _device)

    def count(self) -> int:
        return int(self.conn.execute(select(func.count()).select_from(_MFA).where(
            _MFA.c.account_id == self.account_id)).scalar_one())

    def insert(self, device: MfaDevice) -> None:
        self.conn.execute(insert(_MFA).values(
            device_id=device.device_id, account_id=self.account_id, name=device.name, path=device.path,
            serial_key=(device.path + device.name).lower(), created=device.created, sealed_seed=device.sealed_seed,
            user_id=device.user_id, for_root=device.for_root, enabled=device.enabled, last_step=device.last_step,
            drift=device.drift))

    def update(self, device: MfaDevice) -> None:
        self.conn.execute(update(_MFA).where(_MFA.c.device_id == device.device_id).values(
            user_id=device.user_id, for_root=device.for_root, enabled=device.enabled, last_step=device.last_step,
            drift=device.drift))

    def delete(self, device_id: str) -> None:
        self.conn.execute(delete(_MFA).where(_MFA.c.device_id == device_id))


_SC = t.server_certificates


def _server_cert(r: Any) -> ServerCertificate:
    return ServerCertificate(account_id=r.account_id, certificate_id=r.certificate_id, name=r.name, path=r.path,
                             body=r.body, chain=r.chain, sealed_private_key=bytes(r.sealed_private_key),
                             uploaded=r.uploaded, expiration=r.expiration)


class SqlServerCertificates(_Repo):
    def get(self, name: str) -> ServerCertificate | None:
        r = self.conn.execute(select(_SC).where(_SC.c.account_id == self.account_id,
                                                _SC.c.name_key == name.lower())).first()
        return _server_cert(r) if r else None

    def page(self, path_prefix: str, after: str | None, limit: int) -> Page[ServerCertificate]:
        q = select(_SC).where(_SC.c.account_id == self.account_id, path_starts_with(_SC.c.path, path_prefix))
        return page_of(self.conn, q, _SC.c.name_key, after, limit, _server_cert)

    def count(self) -> int:
        return int(self.conn.execute(select(func.count()).select_from(_SC).where(
            _SC.c.account_id == self.account_id)).scalar_one())

    def insert(self, certificate: ServerCertificate) -> None:
        c = certificate
        self.conn.execute(insert(_SC).values(
            certificate_id=c.certificate_id, account_id=self.account_id, name=c.name, name_key=c.name.lower(),
            path=c.path, body=c.body, chain=c.chain, sealed_private_key=c.sealed_private_key, uploaded=c.uploaded,
            expiration=c.expiration))

    def rename(self, certificate_id: str, name: str, path: str) -> None:
        self.conn.execute(update(_SC).where(_SC.c.certificate_id == certificate_id).values(
            name=name, name_key=name.lower(), path=path))

    def delete(self, certificate_id: str) -> None:
        self.conn.execute(delete(_SC).where(_SC.c.certificate_id == certificate_id))


_SG = t.signing_certificates


def _signing(r: Any) -> SigningCertificate:
    return SigningCertificate(account_id=r.account_id, certificate_id=r.certificate_id, user_id=r.user_id,
                              body=r.body, fingerprint=r.fingerprint, status=r.status, uploaded=r.uploaded)


class SqlSigningCertificates(_Repo):
    def get(self, certificate_id: str) -> SigningCertificate | None:
        r = self.conn.execute(select(_SG).where(_SG.c.account_id == self.account_id,
                                                _SG.c.certificate_id == certificate_id)).first()
        return _signing(r) if r else None

    def for_user(self, user_id: str | None) -> list[SigningCertificate]:
        owner = _SG.c.user_id.is_(None) if user_id is None else _SG.c.user_id == user_id
        rows = self.conn.execute(select(_SG).where(_SG.c.account_id == self.account_id, owner)
                                 .order_by(_SG.c.uploaded, _SG.c.certificate_id)).all()
        return [_signing(r) for r in rows]

    def insert(self, certificate: SigningCertificate) -> None:
        c = certificate
        self.conn.execute(insert(_SG).values(
            certificate_id=c.certificate_id, account_id=self.account_id, user_id=c.user_id, body=c.body,
            fingerprint=c.fingerprint, status=c.status, uploaded=c.uploaded))

    def set_status(self, certificate_id: str, status: str) -> None:
        self.conn.execute(update(_SG).where(_SG.c.certificate_id == certificate_id).values(status=status))

    def delete(self, certificate_id: str) -> None:
        self.conn.execute(delete(_SG).where(_SG.c.certificate_id == certificate_id))


_SSH = t.ssh_public_keys


def _ssh(r: Any) -> SshPublicKey:
    return SshPublicKey(account_id=r.account_id, key_id=r.key_id, user_id=r.user_id, body=r.body,
                        fingerprint=r.fingerprint, status=r.status, uploaded=r.uploaded)


class SqlSshPublicKeys(_Repo):
    def get(self, key_id: str) -> SshPublicKey | None:
        r = self.conn.execute(select(_SSH).where(_SSH.c.account_id == self.account_id,
                                                 _SSH.c.key_id == key_id)).first()
        return _ssh(r) if r else None

    def for_user(self, user_id: str) -> list[SshPublicKey]:
        rows = self.conn.execute(select(_SSH).where(_SSH.c.account_id == self.account_id, _SSH.c.user_id == user_id)
                                 .order_by(_SSH.c.uploaded, _SSH.c.key_id)).all()
        return [_ssh(r) for r in rows]

    def insert(self, key: SshPublicKey) -> None:
        self.conn.execute(insert(_SSH).values(
            key_id=key.key_id, account_id=self.account_id, user_id=key.user_id, body=key.body,
            fingerprint=key.fingerprint, status=key.status, uploaded=key.uploaded))

    def set_status(self, key_id: str, status: str) -> None:
        self.conn.execute(update(_SSH).where(_SSH.c.key_id == key_id).values(status=status))

    def delete(self, key_id: str) -> None:
        self.conn.execute(delete(_SSH).where(_SSH.c.key_id == key_id))


_SVC = t.service_credentials


def _service(r: Any) -> ServiceCredential:
    return ServiceCredential(account_id=r.account_id, credential_id=r.credential_id, user_id=r.user_id,
                             service_name=r.service_name, service_user_name=r.service_user_name,
                             password_hash=r.password_hash, status=r.status, created=r.created, expires=r.expires)


class SqlServiceCredentials(_Repo):
    def get(self, credential_id: str) -> ServiceCredential | None:
        r = self.conn.execute(select(_SVC).where(_SVC.c.account_id == self.account_id,
                                                 _SVC.c.credential_id == credential_id)).first()
        return _service(r) if r else None

    def for_user(self, user_id: str | None, service_name: str | None = None) -> list[ServiceCredential]:
        q = select(_SVC).where(_SVC.c.account_id == self.account_id)
        if user_id is not None:
            q = q.where(_SVC.c.user_id == user_id)
        if service_name is not None:
            q = q.where(_SVC.c.service_name == service_name)
        rows = self.conn.execute(q.order_by(_SVC.c.created, _SVC.c.credential_id)).all()
        return [_service(r) for r in rows]

    def insert(self, credential: ServiceCredential) -> None:
        c = credential
        self.conn.execute(insert(_SVC).values(
            credential_id=c.credential_id, account_id=self.account_id, user_id=c.user_id,
            service_name=c.service_name, service_user_name=c.service_user_name, password_hash=c.password_hash,
            status=c.status, created=c.created, expires=c.expires))

    def set_password(self, credential_id: str, password_hash: str) -> None:
        self.conn.execute(update(_SVC).where(_SVC.c.credential_id == credential_id).values(
            password_hash=password_hash))

    def set_status(self, credential_id: str, status: str) -> None:
        self.conn.execute(update(_SVC).where(_SVC.c.credential_id == credential_id).values(status=status))

    def delete(self, credential_id: str) -> None:
        self.conn.execute(delete(_SVC).where(_SVC.c.credential_id == credential_id))
