"""Console passwords of IAM users (login profiles) and ChangePassword.

Passwords are checked against the account password policy (`password_changes`) and stored as argon2id hashes;
the clear password is never kept, logged or returned. ChangePassword checks the old password, so it is a way to
guess one: its wrong old passwords count toward the same lockout as failed sign-ins (`lockouts`), and a locked user
cannot change the password either.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from gatehouse.credentials import LoginProfile
from gatehouse.errors import AccessDenied, EntityAlreadyExists, InvalidInput, InvalidUserType, NoSuchEntity
from gatehouse.model import Caller, OwnerKind, PrincipalKind, User
from gatehouse.policy import DecisionKind, access_denied_message
from gatehouse.services.clock import whole_seconds
from gatehouse.services.iam.common import IamBase, IamDeps
from gatehouse.services.lockouts import LockoutPolicy, Lockouts, user_target
from gatehouse.services.operation import operation
from gatehouse.services.password_changes import (
    PasswordChecks,
    PasswordReused,
    PasswordWrite,
    new_password_hash,
    set_password,
)
from gatehouse.services.password_hashing import Passwords
from gatehouse.storage.repository import UnitOfWork


def login_profile_view(user: User, profile: LoginProfile) -> dict[str, Any]:
    out: dict[str, Any] = {"UserName": user.name, "CreateDate": profile.created,
                           "PasswordResetRequired": profile.reset_required}
    if profile.max_session_duration:
        out["MaxSigninSessionDuration"] = profile.max_session_duration
    return out


def no_profile(name: str) -> NoSuchEntity:
    return NoSuchEntity(f"Login Profile for User {name} cannot be found.")


class _WrongOldPassword(Exception):
    """Raised inside ChangePassword's unit of work (so it changes nothing); the failure is counted after it."""


class LoginProfiles(IamBase):
    def __init__(self, deps: IamDeps, passwords: Passwords, lockouts: Lockouts | None = None) -> None:
        super().__init__(deps)
        self.passwords = passwords
        self.lockouts = lockouts or Lockouts(deps.store, LockoutPolicy())

    def _user_name(self, caller: Caller, user_name: str | None) -> str:
        name = self.own_user_name(caller, user_name)
        if name is None:
            raise InvalidInput("The root user's password is set by the account's operator, not through this API.")
        return name

    def _profile(self, tx: UnitOfWork, user: User) -> LoginProfile:
        profile = tx.logins.get(user.user_id)
        if profile is None:
            raise no_profile(user.name)
        return profile

    @operation
    def create_login_profile(self, caller: Caller, user_name: str | None = None, password: str | None = None,
                             password_reset_required: bool | None = None,
                             max_signin_session_duration: int | None = None) -> dict[str, Any]:
        name = self._user_name(caller, user_name)
        now = whole_seconds(self.deps.clock)
        found: list[User] = []

        def decide(tx: UnitOfWork, checks: PasswordChecks) -> PasswordWrite:
            user = self.user_for(tx, caller, "iam:CreateLoginProfile", name)
            if tx.logins.get(user.user_id) is not None:
                raise EntityAlreadyExists(f"Login Profile for user {user.name} already exists.")
            if not password:
                raise InvalidInput("A password is required to create a login profile.")
            hashed = new_password_hash(tx, checks, user.user_id, password)
            found[:] = [user]
            return PasswordWrite(LoginProfile(
                account_id=caller.account_id, user_id=user.user_id, password_hash=hashed, created=now,
                password_changed=now, reset_required=bool(password_reset_required),
                max_session_duration=max_signin_session_duration), new_password=True)

        out = set_password(self.store, caller.account_id, self.passwords, now, decide)
        return {"LoginProfile": login_profile_view(found[0], out.profile)}

    @operation
    def get_login_profile(self, caller: Caller, user_name: str | None = None) -> dict[str, Any]:
        name = self._user_name(caller, user_name)
        with self.store.read(caller.account_id) as tx:
            user = self.user_for(tx, caller, "iam:GetLoginProfile", name)
            profile = self._profile(tx, user)
        return {"LoginProfile": login_profile_view(user, profile)}

    @operation
    def update_login_profile(self, caller: Caller, user_name: str, password: str | None = None,
                             password_reset_required: bool | None = None,
                             max_signin_session_duration: int | None = None,
                             reset_max_signin_session_duration: bool | None = None) -> dict[str, Any]:
        now = whole_seconds(self.deps.clock)

        def decide(tx: UnitOfWork, checks: PasswordChecks) -> PasswordWrite:
            user = self.user_for(tx, caller, "iam:UpdateLoginProfile", user_name)
            profile = self._profile(tx, user)
            if password:
                profile = dataclasses.replace(
                    profile, password_hash=new_password_hash(tx, checks, user.user_id, password),
                    password_changed=now)
            if password_reset_required is not None:
                profile = dataclasses.replace(profile, reset_required=password_reset_required)
            if max_signin_session_duration is not None:
                profile = dataclasses.replace(profile, max_session_duration=max_signin_session_duration)
            if reset_max_signin_session_duration:
                profile = dataclasses.replace(profile, max_session_duration=None)
            return PasswordWrite(profile, new_password=bool(password))

        set_password(self.store, caller.account_id, self.passwords, now, decide)
        return {}

    @operation
    def delete_login_profile(self, caller: Caller, user_name: str | None = None) -> dict[str, Any]:
        name = self._user_name(caller, user_name)
        with self.store.write(caller.account_id) as tx:
            user = self.user_for(tx, caller, "iam:DeleteLoginProfile", name)
            self._profile(tx, user)
            tx.logins.delete(user.user_id)
        return {}

    @operation
    def change_password(self, caller: Caller, old_password: str, new_password: str) -> dict[str, Any]:
        """The caller changes its own password. With the policy's AllowUsersToChangePassword no permission is
        needed (only an explicit deny stops it); otherwise the caller needs iam:ChangePassword.

        A user locked out of sign-in is refused (AccessDenied, whatever the old password), and every refusal that
        spent argon2 on the caller's behalf counts toward that lockout: a wrong old password, and a right one with
        a new password the reuse rule refuses (up to 24 remembered passwords checked). Stolen access keys must not
        become an unlimited password-guessing oracle, nor a way to spend the server's CPU without limit. The
        argon2 work runs outside any write transaction (`password_changes.set_password`)."""
        if caller.kind is not PrincipalKind.USER or caller.principal_id is None:
            raise InvalidUserType("Only IAM users can change their own password with ChangePassword.")
        # The ledger is read and written in transactions of its own, outside the units of work below.
        target = user_target(caller.account_id, "", caller.name)
        epoch = int(self.deps.clock().timestamp())
        lockout = self.lockouts.policy(caller.account_id)
        wait = self.lockouts.locked_for(target, lockout, epoch)
        if wait:
            raise AccessDenied(f"Too many failed password attempts: password changes are locked for another {wait} "
                               "seconds.")
        now = whole_seconds(self.deps.clock)

        def decide(tx: UnitOfWork, checks: PasswordChecks) -> PasswordWrite:
            assert caller.principal_id is not None
            user = tx.users.by_id(caller.principal_id)
            if user is None:
                raise NoSuchEntity(f"The user with name {caller.name} cannot be found.")
            policy = tx.password_policy.get()
            self._authorize_change(tx, caller, user, bool(policy and policy.allow_users_to_change))
            profile = self._profile(tx, user)
            if not checks.verify(profile.password_hash, old_password, expect=True):
                raise _WrongOldPassword()
            hashed = new_password_hash(tx, checks, user.user_id, new_password)
            return PasswordWrite(dataclasses.replace(profile, password_hash=hashed, password_changed=now,
                                                     reset_required=False), new_password=True)

        try:
            set_password(self.store, caller.account_id, self.passwords, now, decide)
        except _WrongOldPassword:
            self.lockouts.failed(target, lockout, epoch)
            raise AccessDenied("The old password is incorrect.") from None
        except PasswordReused:
            self.lockouts.failed(target, lockout, epoch)
            raise
        self.lockouts.cleared(target)
        return {}

    def _authorize_change(self, tx: UnitOfWork, caller: Caller, user: User, allowed_by_policy: bool) -> None:
        target = self.target(tx, OwnerKind.USER, user.user_id, user.arn(caller.partition), user.permissions_boundary)
        if not allowed_by_policy:
            self.require(tx, caller, "iam:ChangePassword", target)
            return
        if not self.authz.enforcing():
            return
        decision, ctx = self.authz.decide(tx, caller, "iam:ChangePassword", target)
        if decision.kind is DecisionKind.EXPLICIT_DENY:
            raise AccessDenied(access_denied_message(decision, ctx))
