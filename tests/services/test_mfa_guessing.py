"""MFA codes cannot be guessed without bound: wrong codes at STS (GetSessionToken, AssumeRole) and at IAM
(ResyncMFADevice, EnableMFADevice) count toward the same per-user lock as wrong sign-in passwords, STS attempts are
rate-limited per user, and while the lock holds even a right code is refused with the wrong-code answer.

In process, over an in-memory store and a clock the tests move, with the lockout set low (3 failures)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest
from argon2 import PasswordHasher

from gatehouse.credentials import LoginProfile, MfaDevice, RootLogin
from gatehouse.errors import AccessDenied, AwsError, InvalidAuthenticationCode, Throttling
from gatehouse.model import Account, Caller, PrincipalKind, RequestMeta, User
from gatehouse.services import totp
from gatehouse.services.authorization import Authorizer
from gatehouse.services.iam.aws_managed import AwsManagedPolicies
from gatehouse.services.iam.common import IamDeps
from gatehouse.services.iam.documents import PolicyDocuments
from gatehouse.services.iam.mfa_devices import MfaDevices
from gatehouse.services.lockouts import Guess, LockoutPolicy, Lockouts, RateLimits
from gatehouse.services.mfa_codes import MfaCodes, seed_binding
from gatehouse.services.password_hashing import Passwords
from gatehouse.services.secretbox import SecretBox
from gatehouse.services.session_tokens import SessionTokens
from gatehouse.services.signin import Signin, SigninFailed, SigninRequest
from gatehouse.services.sts import Sts, StsDeps
from gatehouse.storage.sql.store import SqlStore

ACCOUNT = "123456789012"
T0 = dt.datetime(2026, 3, 1, 12, 0, 10, tzinfo=dt.UTC)
GOOD = "Correct-Horse-Battery-9"
KEY = b"m" * 32
SERIAL = f"arn:aws:iam::{ACCOUNT}:mfa/phone"
ROOT_SERIAL = f"arn:aws:iam::{ACCOUNT}:mfa/root-phone"
INVALID = "MultiFactorAuthentication failed with invalid MFA one time pass code."


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> dt.datetime:
        return self.now


@dataclass
class World:
    store: SqlStore
    clock: Clock
    sts: Sts
    signin: Signin
    devices: MfaDevices
    codes: MfaCodes
    seed: str
    root_seed: str

    def code(self, seed: str | None = None, shift: int = 0) -> str:
        return totp.code_at(seed or self.seed, totp.step_at(self.clock().timestamp()) + shift)

    def wrong(self, seed: str | None = None) -> str:
        right = {self.code(seed, d) for d in (-1, 0, 1)}
        return next(c for c in (f"{n:06d}" for n in range(100000, 100010)) if c not in right)

    def advance(self, seconds: int) -> None:
        self.clock.now += dt.timedelta(seconds=seconds)


def _caller(kind: PrincipalKind, name: str, principal_id: str | None) -> Caller:
    arn = f"arn:aws:iam::{ACCOUNT}:" + ("root" if kind is PrincipalKind.ROOT else f"user/{name}")
    return Caller(account_id=ACCOUNT, kind=kind, arn=arn, user_id=principal_id or ACCOUNT, name=name,
                  access_key_id="AKIAEXAMPLE", request=RequestMeta("req-1"), principal_id=principal_id)


WALKER = _caller(PrincipalKind.USER, "walker", "AIDAWALKER")
ROOT = _caller(PrincipalKind.ROOT, "root", None)
ROLE_SESSION = Caller(account_id=ACCOUNT, kind=PrincipalKind.ASSUMED_ROLE,
                      arn=f"arn:aws:sts::{ACCOUNT}:assumed-role/r/s", user_id="AROAROLE:s", name="s",
                      access_key_id="ASIAEXAMPLE", request=RequestMeta("req-1"), principal_id="AROAROLE")


def build(lockout: LockoutPolicy = LockoutPolicy(3, 600, 60), limits: RateLimits = RateLimits(1000, 1000),
          root_email: str | None = "root@example.com") -> World:
    store, clock, box = SqlStore("sqlite://"), Clock(), SecretBox(KEY)
    store.create_account(Account(account_id=ACCOUNT, created=T0))
    passwords = Passwords(PasswordHasher(time_cost=1, memory_cost=64, parallelism=1))
    seed, root_seed = totp.new_seed(), totp.new_seed()
    with store.write(ACCOUNT) as tx:
        tx.users.insert(User(account_id=ACCOUNT, user_id="AIDAWALKER", name="walker", path="/", created=T0))
        tx.logins.put(LoginProfile(account_id=ACCOUNT, user_id="AIDAWALKER", password_hash=passwords.hash(GOOD),
                                   created=T0, password_changed=T0))
        if root_email:
            tx.logins.set_root(RootLogin(account_id=ACCOUNT, email=root_email, password_hash=passwords.hash(GOOD),
                                         password_changed=T0))
        tx.mfa.insert(MfaDevice(account_id=ACCOUNT, device_id="AMFA1", name="phone", path="/", created=T0,
                                sealed_seed=box.seal(seed, seed_binding("AMFA1")), user_id="AIDAWALKER",
                                enabled=T0))
        tx.mfa.insert(MfaDevice(account_id=ACCOUNT, device_id="AMFA2", name="root-phone", path="/", created=T0,
                                sealed_seed=box.seal(root_seed, seed_binding("AMFA2")), for_root=True, enabled=T0))
    codes = MfaCodes(store, box, clock, Lockouts(store, lockout, limits))
    managed = AwsManagedPolicies()
    authz = Authorizer(managed, enforce=False)
    tokens = SessionTokens(KEY)
    sts = Sts(StsDeps(store=store, authz=authz, tokens=tokens, managed=managed, clock=clock, mfa=codes))
    signin = Signin(store, passwords, codes, tokens, clock, lockout, RateLimits(1000, 1000))
    devices = MfaDevices(IamDeps(store=store, authz=authz, box=box, documents=PolicyDocuments(), managed=managed,
                                 clock=clock), codes)
    return World(store, clock, sts, signin, devices, codes, seed, root_seed)


@pytest.fixture
def world() -> Iterator[World]:
    w = build()
    yield w
    w.store.close()


def error_of(call: Callable[[], object]) -> AwsError | None:
    try:
        call()
    except AwsError as e:
        return e
    return None


def session_token(w: World, code: str, caller: Caller = WALKER, serial: str = SERIAL) -> AwsError | None:
    return error_of(lambda: w.sts.get_session_token(caller, serial_number=serial, token_code=code))


def signin_outcome(w: World, code: str | None = None) -> str:
    try:
        w.signin.sign_in(SigninRequest(password=GOOD, account=ACCOUNT, username="walker", mfa_code=code,
                                       source_ip="192.0.2.1"))
    except SigninFailed as e:
        return e.code
    return "Success"


def test_wrong_sts_codes_lock_the_user_out_everywhere(world: World) -> None:
    for _ in range(3):
        refused = session_token(world, world.wrong())
        assert isinstance(refused, AccessDenied) and refused.message == INVALID
    # Locked: the right code gets the wrong-code answer, is not spent, and sign-in is locked too.
    refused = session_token(world, world.code())
    assert isinstance(refused, AccessDenied) and refused.message == INVALID
    assert signin_outcome(world, world.code()) == "LockedOut"
    refused = error_of(lambda: world.sts.assume_role(WALKER, f"arn:aws:iam::{ACCOUNT}:role/any", "s",
                                                     serial_number=SERIAL, token_code=world.code(shift=1)))
    assert isinstance(refused, AccessDenied) and refused.message == INVALID
    world.advance(60)  # the lock's duration
    assert session_token(world, world.code()) is None


def test_assume_role_codes_count_too(world: World) -> None:
    for _ in range(3):
        refused = error_of(lambda: world.sts.assume_role(WALKER, f"arn:aws:iam::{ACCOUNT}:role/any", "s",
                                                         serial_number=SERIAL, token_code=world.wrong()))
        assert isinstance(refused, AccessDenied) and refused.message == INVALID
    assert signin_outcome(world) == "LockedOut"


def test_a_sign_in_lock_refuses_right_codes_at_sts(world: World) -> None:
    for _ in range(3):
        with pytest.raises(SigninFailed):
            world.signin.sign_in(SigninRequest(password="wrong", account=ACCOUNT, username="walker"))
    refused = session_token(world, world.code())
    assert isinstance(refused, AccessDenied) and refused.message == INVALID
    world.advance(60)
    assert session_token(world, world.code()) is None


def test_attempts_are_rate_limited_per_user() -> None:
    w = build(lockout=LockoutPolicy(0, 600, 60), limits=RateLimits(per_address=1000, per_name=3, window=60))
    try:
        outcomes = [type(session_token(w, w.wrong())).__name__ for _ in range(4)]
        assert outcomes == ["AccessDenied"] * 3 + ["Throttling"]
        assert isinstance(session_token(w, w.code()), Throttling)  # throttled: not even a right code is checked
        w.advance(60)
        assert session_token(w, w.code()) is None
    finally:
        w.store.close()


@pytest.mark.parametrize("root_email", ["root@example.com", None])
def test_root_codes_count_toward_the_roots_lock(root_email: str | None) -> None:
    w = build(root_email=root_email)
    try:
        for _ in range(3):
            assert isinstance(session_token(w, w.wrong(w.root_seed), ROOT, ROOT_SERIAL), AccessDenied)
        assert isinstance(session_token(w, w.code(w.root_seed), ROOT, ROOT_SERIAL), AccessDenied)
        if root_email:
            with pytest.raises(SigninFailed) as locked:
                w.signin.sign_in(SigninRequest(password=GOOD, email=root_email))
            assert locked.value.code == "LockedOut"
        assert signin_outcome(w, w.code()) == "Success"  # walker's lock is walker's own
    finally:
        w.store.close()


def test_a_role_session_matches_no_device(world: World) -> None:
    """A role session holds no MFA device: not even the root's right code counts as its own."""
    assert world.codes.guess_code(ROLE_SESSION, ROOT_SERIAL, world.code(world.root_seed)) is Guess.WRONG
    assert world.codes.guess_code(ROOT, ROOT_SERIAL, world.code(world.root_seed)) is Guess.RIGHT


def test_wrong_resync_codes_count_and_a_lock_refuses_right_ones(world: World) -> None:
    def resync(first: str, second: str) -> AwsError | None:
        return error_of(lambda: world.devices.resync_mfa_device(ROOT, "walker", SERIAL, first, second))

    for _ in range(3):
        assert isinstance(resync(world.wrong(), world.wrong()), InvalidAuthenticationCode)
    assert signin_outcome(world, world.code()) == "LockedOut"
    assert isinstance(resync(world.code(shift=1), world.code(shift=2)), InvalidAuthenticationCode)
    world.advance(60)
    assert resync(world.code(shift=1), world.code(shift=2)) is None


def test_wrong_enable_codes_count_toward_the_named_users_lock(world: World) -> None:
    created = world.devices.create_virtual_mfa_device(ROOT, "spare")["VirtualMFADevice"]
    seed = created["Base32StringSeed"]
    serial = created["SerialNumber"]

    def enable(first: str, second: str) -> AwsError | None:
        return error_of(lambda: world.devices.enable_mfa_device(ROOT, "walker", serial, first, second))

    for _ in range(3):
        assert isinstance(enable(world.wrong(seed), world.wrong(seed)), InvalidAuthenticationCode)
    assert isinstance(enable(world.code(seed, -1), world.code(seed)), InvalidAuthenticationCode)
    assert signin_outcome(world, world.code()) == "LockedOut"
    world.advance(60)
    assert enable(world.code(seed, -1), world.code(seed)) is None
