"""Signing in to the console: the account root by email and password, an IAM user by account (id or alias), user
name and password; then the MFA code when the principal has a device. The answer is a console session: temporary
credentials sealed into a cookie value (`session_tokens`), carrying whether MFA was used and when, so that
`aws:MultiFactorAuthPresent` and `aws:MultiFactorAuthAge` reach every later decision.

Beyond AWS, Gatehouse locks a name out after too many failed attempts within a window (server defaults,
overridable per account: `lockouts`) and rate-limits attempts per source address and per name typed. All of that
state lives in the database (`SigninLedger`) so replicas share it. Unknown names are counted and locked like known
ones, spend the same argon2 verification as a wrong password, and get the same answers (InvalidCredentials, then
LockedOut), so sign-in does not reveal which users exist. Expired passwords (or ones an administrator marked for
reset) must be changed before anything else: the answer is PasswordExpired until the request carries
`new_password`, which must differ from the current one.

Sessions are stateless (sealed claims in the cookie), but signing out revokes one: its access key id is recorded
until the session would have expired, and every replica then refuses the cookie and its temporary credentials.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass
from typing import Protocol

from gatehouse.credentials import PasswordPolicy
from gatehouse.errors import AwsError
from gatehouse.model import SessionKind, make_arn
from gatehouse.services import ids
from gatehouse.services.clock import Clock
from gatehouse.services.lockouts import (
    LockoutPolicy,
    Lockouts,
    LockTarget,
    RateLimits,
    root_target,
    user_target,
)
from gatehouse.services.mfa_codes import MfaCodes
from gatehouse.services.password_changes import (
    PasswordChecks,
    PasswordWrite,
    check_password,
    new_password_hash,
    set_password,
)
from gatehouse.services.password_hashing import Passwords
from gatehouse.services.password_rules import is_expired, reuse_message
from gatehouse.services.session_tokens import InvalidSessionToken, SessionClaims, SessionTokens
from gatehouse.storage.credentials import SigninEvent
from gatehouse.storage.repository import Store, UnitOfWork

DEFAULT_SESSION_SECONDS = 3600


class SigninFailed(Exception):
    """A refused sign-in: `code` is what the client is told (InvalidCredentials, MfaRequired, InvalidMfaCode,
    PasswordExpired, LockedOut; Throttled and BadRequest for requests refused before any check)."""

    def __init__(self, code: str, message: str, status: int = 401, retry_after: int | None = None) -> None:
        super().__init__(message)
        self.code, self.message, self.status, self.retry_after = code, message, status, retry_after


@dataclass(frozen=True)
class SigninRequest:
    password: str
    account: str | None = None
    username: str | None = None
    email: str | None = None
    mfa_code: str | None = None
    new_password: str | None = None
    source_ip: str = ""
    user_agent: str = ""

    def __repr__(self) -> str:  # never print a password
        return f"SigninRequest(account={self.account!r}, username={self.username!r}, email={self.email!r})"


@dataclass(frozen=True)
class ConsoleSession:
    token: str  # the cookie value: access key id and sealed session token
    account_id: str
    arn: str
    mfa: bool
    expires: dt.datetime

    def __repr__(self) -> str:
        return f"ConsoleSession({self.arn!r}, mfa={self.mfa}, expires={self.expires.isoformat()})"


@dataclass(frozen=True)
class _Principal:
    account_id: str
    user_id: str | None
    arn: str
    password_hash: str
    password_changed: dt.datetime
    reset_required: bool
    session_seconds: int


def _invalid() -> SigninFailed:
    return SigninFailed("InvalidCredentials", "The account, user name or password is not correct.")


@dataclass(frozen=True)
class SigninAttempt:
    """What the audit trail is told of one sign-in attempt (a ConsoleLogin event). `user_arn` is None when the
    name typed names nobody: the trail must not keep what was typed."""

    account_id: str | None
    user_arn: str | None
    principal_id: str | None
    root: bool
    outcome: str  # Success, or why it failed (InvalidCredentials, LockedOut, MfaRequired, ...)
    mfa: bool
    source_ip: str
    user_agent: str
    at: dt.datetime


class SigninAudit(Protocol):
    def sign_in_attempt(self, attempt: SigninAttempt) -> None: ...


class Signin:
    def __init__(self, store: Store, passwords: Passwords, codes: MfaCodes, tokens: SessionTokens, clock: Clock,
                 lockout: LockoutPolicy = LockoutPolicy(), limits: RateLimits = RateLimits(),
                 audit: SigninAudit | None = None) -> None:
        self.audit = audit
        self.store = store
        self.passwords = passwords
        self.codes = codes
        self.tokens = tokens
        self.clock = clock
        self.lockouts = Lockouts(store, lockout)
        self.limits = limits
        self._next_prune = 0  # epoch seconds: this process's next pruning

    # --- signing in ----------------------------------------------------------------------------------------

    def sign_in(self, request: SigninRequest) -> ConsoleSession:
        if not request.password or not (request.email or (request.account and request.username)):
            raise SigninFailed("BadRequest", "Give email and password (root), or account, username and password.",
                               status=400)
        if any("\x00" in name for name in (request.email, request.account, request.username) if name):
            # Names are looked up (and rate-limit keys written) in the database, which cannot hold a NUL; no
            # account, user or email has one.
            raise SigninFailed("BadRequest", "The request contains a character that is not allowed.", status=400)
        now = self.clock()
        epoch = int(now.timestamp())
        self.prune(now)
        self._throttle(request, epoch)
        account_id, principal, policy = self._find(request)
        # Counted and locked by the name typed, whether or not it names anyone: the same answers either way.
        target = (root_target(account_id, request.email) if request.email
                  else user_target(account_id, request.account or "", request.username or ""))
        who = principal.arn if principal else request.email or f"{request.account}/{request.username}"
        lockout = self.lockouts.policy(account_id)
        wait = self.lockouts.locked_for(target, lockout, epoch)
        if wait:
            self._event(account_id, who, request, "LockedOut", found=principal)
            raise SigninFailed("LockedOut", f"Too many failed sign-in attempts: sign-in is locked for another "
                                            f"{wait} seconds.", retry_after=wait)
        if principal is None:
            self.passwords.burn(request.password)  # one argon2 verification, as a wrong password costs
            self._failed(target, lockout, epoch, who, request, "InvalidCredentials", None)
            raise _invalid()
        if not self.passwords.verify(principal.password_hash, request.password):
            self._failed(target, lockout, epoch, who, request, "InvalidCredentials", principal)
            raise _invalid()
        change = self._password_change(principal, policy, request, now)
        mfa = self.codes.has_device(principal.account_id, principal.user_id)
        if mfa:
            if not request.mfa_code:
                self._event(principal.account_id, principal.arn, request, "MfaRequired", found=principal)
                raise SigninFailed("MfaRequired", "Enter the code from your MFA device.")
            if not self.codes.verify_for_user(principal.account_id, principal.user_id, request.mfa_code):
                self._failed(target, lockout, epoch, who, request, "InvalidMfaCode", principal)
                raise SigninFailed("InvalidMfaCode", "The MFA code is not valid, or was used already.")
        if change:
            self._change_password(principal, request.new_password or "", now)
        self.lockouts.cleared(target)
        if principal.user_id:
            self.store.signin.password_used(principal.account_id, principal.user_id, now.replace(microsecond=0))
        self._event(principal.account_id, principal.arn, request, "Success", mfa=mfa, found=principal)
        return self._session(principal, mfa, epoch)

    def prune(self, now: dt.datetime, *, force: bool = False) -> None:
        """Forget sign-in bookkeeping once its window has passed (at most every `prune_every` seconds per process):
        without it, names typed at random would add rows forever."""
        epoch = int(now.timestamp())
        if not force and epoch < self._next_prune:
            return
        self._next_prune = epoch + self.limits.prune_every
        self.store.signin.prune(epoch, self.limits.window,
                                now - dt.timedelta(days=self.limits.event_retention_days))

    def _throttle(self, request: SigninRequest, epoch: int) -> None:
        limits, ledger = self.limits, self.store.signin
        name = f"root:{request.email.lower()}" if request.email else (
            f"user:{request.account}:{(request.username or '').lower()}")
        if (ledger.tick(f"addr:{request.source_ip}", epoch, limits.window) > limits.per_address
                or ledger.tick(name[:300], epoch, limits.window) > limits.per_name):
            wait = limits.window - epoch % limits.window
            raise SigninFailed("Throttled", "Too many sign-in attempts; slow down.", status=429, retry_after=wait)

    def _find(self, request: SigninRequest) -> tuple[str | None, _Principal | None, PasswordPolicy | None]:
        """The account named (None if there is none), and who signs in (None if nobody by that name can)."""
        if request.email:
            with self.store.read() as tx:
                root = tx.logins.root_by_email(request.email)
            if root is None:
                return None, None, None
            arn = make_arn("aws", "iam", root.account_id, "root")
            return root.account_id, _Principal(root.account_id, None, arn, root.password_hash, root.password_changed,
                                               False, DEFAULT_SESSION_SECONDS), None
        account_id = self._account_id(request.account or "")
        if account_id is None:
            return None, None, None
        with self.store.read(account_id) as tx:
            user = tx.users.get(request.username or "")
            profile = tx.logins.get(user.user_id) if user else None
            policy = tx.password_policy.get()
        if user is None or profile is None:
            return account_id, None, policy
        return account_id, _Principal(account_id, user.user_id, user.arn("aws"), profile.password_hash,
                                      profile.password_changed, profile.reset_required,
                                      profile.max_session_duration or DEFAULT_SESSION_SECONDS), policy

    def _account_id(self, account: str) -> str | None:
        with self.store.read() as tx:
            found = tx.accounts.get(account) if account.isdigit() else tx.accounts.by_alias(account)
        return found.account_id if found else None

    def _failed(self, target: LockTarget, lockout: LockoutPolicy, epoch: int, who: str, request: SigninRequest,
                code: str, principal: _Principal | None) -> None:
        self.lockouts.failed(target, lockout, epoch)
        self._event(target.account_id, who, request, code, found=principal)

    def _password_change(self, principal: _Principal, policy: PasswordPolicy | None, request: SigninRequest,
                         now: dt.datetime) -> bool:
        """Whether this sign-in must change the password first (and may: PasswordExpired otherwise)."""
        if principal.user_id is None:
            return False
        aged = is_expired(policy, principal.password_changed, now)
        if not (aged or principal.reset_required):
            return False
        if aged and policy is not None and policy.hard_expiry:
            self._event(principal.account_id, principal.arn, request, "PasswordExpired", found=principal)
            raise SigninFailed("PasswordExpired", "Your password has expired and the account's policy does not let "
                                                  "you set a new one: ask an administrator to reset it.")
        if not request.new_password:
            self._event(principal.account_id, principal.arn, request, "PasswordExpired", found=principal)
            raise SigninFailed("PasswordExpired", "Your password must be changed: sign in again with new_password.")
        try:
            check_password(policy, request.new_password)
        except AwsError as e:
            raise SigninFailed(e.code, e.message, status=400) from None
        if self.passwords.verify(principal.password_hash, request.new_password):
            # A forced change is not made by keeping the password. AWS documents no wording for this case: its
            # reuse rule's, as if PasswordReusePrevention were at least 1 (it is whatever the policy says above 1).
            reuse = max(1, policy.reuse_prevention or 0) if policy else 1
            raise SigninFailed("PasswordPolicyViolation", reuse_message(reuse), status=400)
        return True

    def _change_password(self, principal: _Principal, new_password: str, now: dt.datetime) -> None:
        assert principal.user_id is not None
        user_id = principal.user_id

        def decide(tx: UnitOfWork, checks: PasswordChecks) -> PasswordWrite:
            profile = tx.logins.get(user_id)
            if profile is None:
                raise _invalid()
            hashed = new_password_hash(tx, checks, user_id, new_password)
            return PasswordWrite(dataclasses.replace(profile, password_hash=hashed, password_changed=now,
                                                     reset_required=False), new_password=True)

        try:  # the argon2 work (reuse checks, the new hash) runs outside the write transaction
            set_password(self.store, principal.account_id, self.passwords, now, decide)
        except AwsError as e:
            raise SigninFailed(e.code, e.message, status=400) from None

    def _event(self, account_id: str | None, principal: str, request: SigninRequest, outcome: str, *,
               mfa: bool = False, found: _Principal | None = None) -> None:
        at = self.clock().replace(microsecond=0)
        self.store.signin.record_event(SigninEvent(account_id=account_id, principal=principal, at=at,
                                                   source_ip=request.source_ip, outcome=outcome, mfa=mfa))
        if self.audit is not None:
            self.audit.sign_in_attempt(SigninAttempt(
                account_id=account_id, user_arn=found.arn if found else None,
                principal_id=(found.user_id or found.account_id) if found else None, root=bool(request.email),
                outcome=outcome, mfa=mfa, source_ip=request.source_ip, user_agent=request.user_agent, at=at))

    # --- the session -----------------------------------------------------------------------------------------

    def _session(self, principal: _Principal, mfa: bool, epoch: int) -> ConsoleSession:
        claims = SessionClaims(
            kind=SessionKind.USER_SESSION, account_id=principal.account_id,
            access_key_id=ids.access_key_id(principal.account_id, ids.Prefix.TEMP_ACCESS_KEY),
            secret_access_key=ids.secret_access_key(), issued=epoch, expires=epoch + principal.session_seconds,
            principal_id=principal.user_id, mfa=mfa, mfa_time=epoch if mfa else None, console=True)
        token = f"{claims.access_key_id}.{self.tokens.seal(claims)}".translate(_TO_COOKIE)
        return ConsoleSession(token=token, account_id=principal.account_id, arn=principal.arn, mfa=mfa,
                              expires=claims.expires_at)

    def credentials(self, session: ConsoleSession) -> dict[str, str] | None:
        """The temporary credentials a session carries, for a command-line sign-in (`gatehouse login`)."""
        claims = self._claims(session.token)
        if claims is None:
            return None
        return {"AccessKeyId": claims.access_key_id, "SecretAccessKey": claims.secret_access_key,
                "SessionToken": session.token.translate(_FROM_COOKIE).partition(".")[2],
                "Expiration": claims.expires_at.isoformat()}

    def open_session(self, token: str) -> SessionClaims | None:
        """The claims of a console session cookie that is ours, unaltered, unexpired and not signed out; None
        otherwise."""
        claims = self._claims(token)
        if claims is None:
            return None
        state = self.store.session_state(claims.account_id, claims.access_key_id)
        return None if state is None or state.revoked else claims

    def sign_out(self, token: str) -> None:
        """Revoke the session of a cookie (and the temporary credentials it carries) on every replica, until it
        would have expired. A cookie that is not ours, or has expired, needs nothing done."""
        claims = self._claims(token)
        if claims is not None:
            self.store.revoke_session(claims.access_key_id, claims.expires, int(self.clock().timestamp()))

    def _claims(self, token: str) -> SessionClaims | None:
        key_id, _, sealed = token.translate(_FROM_COOKIE).partition(".")
        try:
            claims = self.tokens.open(key_id, sealed)
        except InvalidSessionToken:
            return None
        return claims if self.clock().timestamp() < claims.expires else None


def session_credentials(token: str) -> tuple[str, str]:
    """(access key id, session token) of a console session cookie value: what `Authenticator.resolve` checks (the
    seal, expiry, sign-out and the user's existence), so the console's pages are called as that session."""
    key_id, _, sealed = token.translate(_FROM_COOKIE).partition(".")
    return key_id, sealed


# Session tokens are standard base64; cookie values travel better without "+", "/" and "=" (no quoting needed).
_TO_COOKIE = str.maketrans({"+": "-", "/": "_", "=": "~"})
_FROM_COOKIE = str.maketrans({"-": "+", "_": "/", "~": "="})
