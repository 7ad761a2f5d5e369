"""The sign-in service over a real in-memory store and a clock the tests move: lockout and its release, per-account
overrides, rate limits, forced password changes, MFA, and the console session carrying MFA into decisions."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from argon2 import PasswordHasher

from gatehouse.credentials import LockoutSettings, LoginProfile, MfaDevice, PasswordPolicy
from gatehouse.errors import InvalidClientTokenId, PasswordPolicyViolation
from gatehouse.model import Account, InlinePolicy, OwnerKind, RequestMeta, User
from gatehouse.services import totp
from gatehouse.services.account_security import AccountSecurity
from gatehouse.services.authentication import Authenticator
from gatehouse.services.authorization import Authorizer
from gatehouse.services.iam.aws_managed import AwsManagedPolicies
from gatehouse.services.mfa_codes import MfaCodes, seed_binding
from gatehouse.services.password_hashing import Passwords
from gatehouse.services.secretbox import SecretBox
from gatehouse.services.session_tokens import SessionTokens
from gatehouse.services.signin import LockoutPolicy, RateLimits, Signin, SigninFailed, SigninRequest
from gatehouse.storage.sql.store import SqlStore

ACCOUNT = "123456789012"
T0 = dt.datetime(2026, 3, 1, 12, 0, 10, tzinfo=dt.UTC)
GOOD = "Correct-Horse-Battery-9"
KEY = b"m" * 32


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += dt.timedelta(seconds=seconds)


@dataclass
class World:
    store: SqlStore
    clock: Clock
    passwords: Passwords
    signin: Signin
    user: User


def build(lockout: LockoutPolicy = LockoutPolicy(3, 60, 30), limits: RateLimits = RateLimits(1000, 1000)
          ) -> World:
    store = SqlStore("sqlite://")
    clock = Clock()
    store.create_account(Account(account_id=ACCOUNT, created=T0, alias="acme"))
    passwords = Passwords(PasswordHasher(time_cost=1, memory_cost=64, parallelism=1))  # fast, still argon2id
    user = User(account_id=ACCOUNT, user_id="AIDAWALKER", name="walker", path="/", created=T0)
    with store.write(ACCOUNT) as tx:
        tx.users.insert(user)
        tx.logins.put(LoginProfile(account_id=ACCOUNT, user_id=user.user_id, password_hash=passwords.hash(GOOD),
                                   created=T0, password_changed=T0))
    box = SecretBox(KEY)
    signin = Signin(store, passwords, MfaCodes(store, box, clock), SessionTokens(KEY), clock, lockout, limits)
    return World(store, clock, passwords, signin, user)


@pytest.fixture
def world() -> Iterator[World]:
    w = build()
    yield w
    w.store.close()


def attempt(w: World, password: str = GOOD, **fields: str) -> str:
    """The outcome code of one sign-in as walker (Success when a session was issued)."""
    request = SigninRequest(password=password, account=fields.pop("account", ACCOUNT), username="walker",
                            source_ip="192.0.2.1", **fields)
    try:
        w.signin.sign_in(request)
    except SigninFailed as e:
        return e.code
    return "Success"


def test_lockout_after_threshold_and_release(world: World) -> None:
    assert attempt(world) == "Success"
    assert [attempt(world, "wrong") for _ in range(3)] == ["InvalidCredentials"] * 3
    assert attempt(world) == "LockedOut"
    world.clock.advance(29)
    assert attempt(world) == "LockedOut"
    world.clock.advance(1)
    assert attempt(world) == "Success"


def test_failures_outside_the_window_do_not_add_up(world: World) -> None:
    for _ in range(2):
        assert attempt(world, "wrong") == "InvalidCredentials"
    world.clock.advance(61)
    assert attempt(world, "wrong") == "InvalidCredentials"
    assert attempt(world) == "Success"


def test_success_clears_the_count(world: World) -> None:
    for _ in range(2):
        attempt(world, "wrong")
    assert attempt(world) == "Success"
    for _ in range(2):
        attempt(world, "wrong")
    assert attempt(world) == "Success"


def test_account_override_and_operator_unlock(world: World) -> None:
    security = AccountSecurity(world.store, world.passwords, world.clock, LockoutPolicy(3, 60, 30))
    security.set_lockout(ACCOUNT, LockoutSettings(threshold=1, duration=600))
    report = security.lockout(ACCOUNT)
    assert report.effective == LockoutPolicy(1, 60, 600)
    assert attempt(world, "wrong") == "InvalidCredentials"
    assert attempt(world) == "LockedOut"
    assert [name for name, _ in security.lockout(ACCOUNT).locked] == ["walker"]
    security.unlock(ACCOUNT, "walker")
    assert attempt(world) == "Success"
    security.set_lockout(ACCOUNT, LockoutSettings(threshold=0))  # off for this account
    assert all(attempt(world, "wrong") == "InvalidCredentials" for _ in range(5))
    assert attempt(world) == "Success"


def test_unknown_names_look_like_wrong_passwords(world: World) -> None:
    assert attempt(world, account="999999999999") == "InvalidCredentials"
    assert attempt(world, account="acme") == "Success"  # the alias names the account too
    outcome = SigninRequest(password=GOOD, account=ACCOUNT, username="nobody")
    with pytest.raises(SigninFailed) as info:
        world.signin.sign_in(outcome)
    assert info.value.code == "InvalidCredentials"


def test_rate_limit_per_address_and_per_name() -> None:
    w = build(limits=RateLimits(per_address=4, per_name=2, window=60))
    assert [attempt(w, "wrong") for _ in range(3)][-1] == "Throttled"  # the name's limit
    w.clock.advance(60)
    codes = []
    for n in range(5):
        try:
            w.signin.sign_in(SigninRequest(password="x", account=ACCOUNT, username=f"u{n}", source_ip="192.0.2.9"))
        except SigninFailed as e:
            codes.append(e.code)
    assert codes == ["InvalidCredentials"] * 4 + ["Throttled"]  # the address's limit, across names
    w.store.close()


def test_reset_required_forces_a_change_first(world: World) -> None:
    with world.store.write(ACCOUNT) as tx:
        profile = tx.logins.get(world.user.user_id)
        assert profile is not None
        tx.logins.put(dataclasses.replace(profile, reset_required=True))
    assert attempt(world) == "PasswordExpired"
    assert attempt(world, new_password="short") == "PasswordPolicyViolation"
    with pytest.raises(SigninFailed) as same:
        world.signin.sign_in(SigninRequest(password=GOOD, account=ACCOUNT, username="walker", new_password=GOOD))
    assert (same.value.code, same.value.status) == ("PasswordPolicyViolation", 400)
    assert same.value.message == "Password should not be one of your previous 1 passwords"
    assert attempt(world, new_password="Brand-New-Password-7") == "Success"
    assert attempt(world) == "InvalidCredentials"
    assert attempt(world, "Brand-New-Password-7") == "Success"


def test_expired_password_and_hard_expiry(world: World) -> None:
    with world.store.write(ACCOUNT) as tx:
        tx.password_policy.put(PasswordPolicy(max_age_days=30, allow_users_to_change=True))
    world.clock.advance(31 * 86400)
    assert attempt(world) == "PasswordExpired"
    assert attempt(world, new_password=GOOD) == "PasswordPolicyViolation"  # an expired password is not renewed
    with world.store.write(ACCOUNT) as tx:
        tx.password_policy.put(PasswordPolicy(max_age_days=30, hard_expiry=True))
    assert attempt(world, new_password="Brand-New-Password-7") == "PasswordExpired"


def _enable_device(w: World, seed: str) -> None:
    with w.store.write(ACCOUNT) as tx:
        tx.mfa.insert(MfaDevice(account_id=ACCOUNT, device_id="AMFA1", name="phone", path="/", created=T0,
                                sealed_seed=SecretBox(KEY).seal(seed, seed_binding("AMFA1")),
                                user_id=w.user.user_id, enabled=T0))


def test_mfa_is_asked_for_checked_and_spent(world: World) -> None:
    seed = totp.new_seed()
    _enable_device(world, seed)
    code = totp.code_at(seed, totp.step_at(world.clock().timestamp()))
    assert attempt(world) == "MfaRequired"
    assert attempt(world, "wrong", mfa_code=code) == "InvalidCredentials"  # the password is checked first
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    assert attempt(world, mfa_code=wrong) == "InvalidMfaCode"
    assert attempt(world, mfa_code=code) == "Success"
    assert attempt(world, mfa_code=code) == "InvalidMfaCode"  # spent


def test_console_session_carries_mfa_into_decisions(world: World) -> None:
    seed = totp.new_seed()
    _enable_device(world, seed)
    deny_without_mfa = json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "iam:ListUsers", "Resource": "*"},
        {"Effect": "Deny", "Action": "*", "Resource": "*",
         "Condition": {"BoolIfExists": {"aws:MultiFactorAuthPresent": "false"}}}]})
    with world.store.write(ACCOUNT) as tx:
        tx.inline.put(InlinePolicy(OwnerKind.USER, world.user.user_id, "mfa", deny_without_mfa))
    session = world.signin.sign_in(SigninRequest(password=GOOD, account=ACCOUNT, username="walker",
                                                 mfa_code=totp.code_at(seed, totp.step_at(T0.timestamp()))))
    assert session.mfa
    claims = world.signin.open_session(session.token)
    assert claims is not None and claims.mfa and claims.principal_id == world.user.user_id
    authn = Authenticator(world.store, SecretBox(KEY), world.clock, SessionTokens(KEY))
    credential = authn.resolve(claims.access_key_id, SessionTokens(KEY).seal(claims))
    world.clock.advance(120)
    caller = authn.caller(credential, RequestMeta(request_id="r", time=world.clock()))
    authz = Authorizer(AwsManagedPolicies())
    with world.store.read(ACCOUNT) as tx:
        decision, ctx = authz.decide(tx, caller, "iam:ListUsers", f"arn:aws:iam::{ACCOUNT}:user/")
    assert decision.allowed
    assert ctx.keys["aws:multifactorauthpresent"] == "true" and ctx.keys["aws:multifactorauthage"] == "120"
    plain = dataclasses.replace(claims, mfa=False, mfa_time=None)
    caller = authn.caller(authn.resolve(plain.access_key_id, SessionTokens(KEY).seal(plain)),
                          RequestMeta(request_id="r", time=world.clock()))
    with world.store.read(ACCOUNT) as tx:
        assert not authz.decide(tx, caller, "iam:ListUsers", f"arn:aws:iam::{ACCOUNT}:user/")[0].allowed


def test_session_cookies_are_sealed_and_expire(world: World) -> None:
    session = world.signin.sign_in(SigninRequest(password=GOOD, account=ACCOUNT, username="walker"))
    assert not session.mfa and world.signin.open_session(session.token) is not None
    tampered = session.token[:-6] + ("AAAAAA" if not session.token.endswith("AAAAAA") else "BBBBBB")
    assert world.signin.open_session(tampered) is None
    assert world.signin.open_session("garbage") is None
    world.clock.advance(3600)
    assert world.signin.open_session(session.token) is None


def test_root_signs_in_by_email(world: World) -> None:
    security = AccountSecurity(world.store, world.passwords, world.clock, LockoutPolicy())
    with pytest.raises(PasswordPolicyViolation, match="minimum length of 8"):
        security.set_root_login(ACCOUNT, "root@example.com", "weak")
    security.set_root_login(ACCOUNT, "Root@Example.com", GOOD)
    session = world.signin.sign_in(SigninRequest(password=GOOD, email="root@example.com"))
    assert session.arn == f"arn:aws:iam::{ACCOUNT}:root"
    claims = world.signin.open_session(session.token)
    assert claims is not None and claims.principal_id is None
    with pytest.raises(SigninFailed) as info:
        world.signin.sign_in(SigninRequest(password="Wrong-Password-1", email="root@example.com"))
    assert info.value.code == "InvalidCredentials"


# --- finding: lockout must not tell existing users from unknown ones ---------------------------------------------


def _answers(w: World, attempts: int = 4, **who: str) -> list[tuple[str, int | None, str]]:
    """(code, Retry-After, message) of `attempts` wrong-password sign-ins as `who`."""
    out = []
    for _ in range(attempts):
        try:
            w.signin.sign_in(SigninRequest(password="Wrong-Password-1", source_ip="192.0.2.1", **who))
        except SigninFailed as e:
            out.append((e.code, e.retry_after, e.message))
    return out


def test_unknown_names_lock_out_like_known_ones(world: World) -> None:
    """An existing user used to answer LockedOut after the threshold while an unknown name never did, which told
    an attacker which user names exist. Now failures count per name typed, existing or not."""
    known = _answers(world, account=ACCOUNT, username="walker")
    assert [code for code, _, _ in known] == ["InvalidCredentials"] * 3 + ["LockedOut"] and known[3][1] == 30
    assert _answers(world, account=ACCOUNT, username="nobody") == known  # no such user
    assert _answers(world, account="999999999999", username="walker") == known  # no such account
    assert _answers(world, email="nobody@example.com") == known  # no such root email
    # One counter per name, however it is typed: the alias names the account, and user names ignore case.
    assert _answers(world, attempts=1, account="acme", username="NOBODY")[0][0] == "LockedOut"
    world.clock.advance(30)
    assert attempt(world) == "Success"


def test_unknown_names_spend_one_password_verification(world: World) -> None:
    """Timing: a name that does not exist costs the same argon2 verification (against a fixed decoy hash) as a
    wrong password for one that does."""
    calls: list[str] = []

    class Counting(PasswordHasher):
        def verify(self, hash: str | bytes, password: str | bytes) -> bool:
            calls.append(str(hash))
            return super().verify(hash, password)

    world.signin.passwords = Passwords(Counting(time_cost=1, memory_cost=64, parallelism=1))
    for who in ({"account": ACCOUNT, "username": "walker"}, {"account": ACCOUNT, "username": "nobody"},
                {"account": "999999999999", "username": "walker"}, {"email": "nobody@example.com"}):
        calls.clear()
        assert _answers(world, attempts=1, **who)[0][0] == "InvalidCredentials"
        assert len(calls) == 1 and calls[0].startswith("$argon2id$")


def test_lockout_report_shows_names_guessed_at(world: World) -> None:
    security = AccountSecurity(world.store, world.passwords, world.clock, LockoutPolicy(3, 60, 30))
    _answers(world, account=ACCOUNT, username="Ghost")
    assert [name for name, _ in security.lockout(ACCOUNT).locked] == ["ghost"]
    security.unlock(ACCOUNT, "ghost")
    assert security.lockout(ACCOUNT).locked == []


# --- finding: sign-out must revoke the session, not only drop the cookie ------------------------------------------


def test_sign_out_revokes_the_session_and_its_credentials(world: World) -> None:
    session = world.signin.sign_in(SigninRequest(password=GOOD, account=ACCOUNT, username="walker"))
    credentials = world.signin.credentials(session)
    assert credentials is not None and world.signin.open_session(session.token) is not None
    authn = Authenticator(world.store, SecretBox(KEY), world.clock, SessionTokens(KEY))
    assert authn.resolve(credentials["AccessKeyId"], credentials["SessionToken"]).account_id == ACCOUNT
    other = build_signin(world)  # another replica: the same database, nothing shared in memory
    other.sign_out(session.token)
    assert world.signin.open_session(session.token) is None and other.open_session(session.token) is None
    with pytest.raises(InvalidClientTokenId):
        authn.resolve(credentials["AccessKeyId"], credentials["SessionToken"])
    fresh = world.signin.sign_in(SigninRequest(password=GOOD, account=ACCOUNT, username="walker"))
    assert world.signin.open_session(fresh.token) is not None  # only that session is gone
    world.signin.sign_out("garbage")  # nothing to revoke, nothing fails


def build_signin(w: World) -> Signin:
    box = SecretBox(KEY)
    return Signin(w.store, w.passwords, MfaCodes(w.store, box, w.clock), SessionTokens(KEY), w.clock)
