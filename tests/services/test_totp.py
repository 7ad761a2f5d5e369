"""TOTP (RFC 6238) codes: the acceptance window, consecutive codes for enabling, the provisioning QR code; and the
one-time rule (`MfaCodes`) over a real in-memory store: a code is never accepted twice."""

from __future__ import annotations

import base64
import datetime as dt
import struct
import threading
import zlib
from collections.abc import Iterator

import pyotp
import pytest

from gatehouse.credentials import MfaDevice
from gatehouse.model import Account
from gatehouse.services import totp
from gatehouse.services.mfa_codes import MfaCodes, parse_serial, seed_binding
from gatehouse.services.secretbox import SecretBox
from gatehouse.storage.sql.store import SqlStore

ACCOUNT = "123456789012"
T0 = dt.datetime(2026, 3, 1, 12, 0, 10, tzinfo=dt.UTC)


def test_rfc6238_vector() -> None:
    # RFC 6238 appendix B, SHA-1, T = 59 s: 94287082 (8 digits); our 6-digit codes are its last six.
    seed = base64.b32encode(b"12345678901234567890").decode()
    assert totp.code_at(seed, totp.step_at(59)) == "287082"


def test_seeds_are_64_base32_characters_and_differ() -> None:
    seeds = {totp.new_seed() for _ in range(20)}
    assert len(seeds) == 20
    assert all(len(s) == 64 and len(base64.b32decode(s)) == 40 for s in seeds)


@pytest.mark.parametrize(("offset", "accepted"), [(-2, False), (-1, True), (0, True), (1, True), (2, False)])
def test_window_is_one_step_either_side(offset: int, accepted: bool) -> None:
    seed, now = totp.new_seed(), 1_000_000
    code = totp.code_at(seed, now + offset)
    assert (now + offset in totp.matching_steps(seed, code, now)) is accepted


@pytest.mark.parametrize("code", ["", "12345", "1234567", "abcdef", "12 345"])
def test_malformed_codes_match_nothing(code: str) -> None:
    assert totp.matching_steps(totp.new_seed(), code, 1000) == []


def test_consecutive_codes() -> None:
    seed, now = totp.new_seed(), 5000
    c = {s: totp.code_at(seed, s) for s in range(now - 6, now + 3)}
    assert totp.consecutive_step(seed, c[now - 1], c[now], now, 4, 1) == now
    assert totp.consecutive_step(seed, c[now - 4], c[now - 3], now, 4, 1) == now - 3
    assert totp.consecutive_step(seed, c[now - 6], c[now - 5], now, 4, 1) is None  # too old
    assert totp.consecutive_step(seed, c[now - 2], c[now], now, 4, 1) is None  # not consecutive
    assert totp.consecutive_step(seed, c[now], c[now - 1], now, 4, 1) is None  # wrong order


def test_provisioning_uri_and_png() -> None:
    seed = totp.new_seed()
    uri = totp.provisioning_uri(seed, "phone@123456789012", "Gatehouse")
    parsed = pyotp.parse_uri(uri)
    assert parsed.secret == seed and parsed.issuer == "Gatehouse"
    png = totp.qr_png(uri)
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", png[16:24])
    assert width == height and width >= 100  # a square code, big enough for a phone camera
    assert zlib.crc32(png[12:29]) == struct.unpack(">I", png[29:33])[0]  # a well-formed IHDR chunk


def test_serial_numbers() -> None:
    assert parse_serial(f"arn:aws:iam::{ACCOUNT}:mfa/phone") == (ACCOUNT, "/phone")
    assert parse_serial(f"arn:aws-cn:iam::{ACCOUNT}:mfa/team/a/phone") == (ACCOUNT, "/team/a/phone")
    assert parse_serial("GAHT12345678") is None
    assert parse_serial(f"arn:aws:iam::{ACCOUNT}:user/phone") is None


# --- the one-time rule, over a real store ------------------------------------------------------------------


class Clock:
    def __init__(self, now: dt.datetime) -> None:
        self.now = now

    def __call__(self) -> dt.datetime:
        return self.now


@pytest.fixture
def store() -> Iterator[SqlStore]:
    s = SqlStore("sqlite://")
    s.create_account(Account(account_id=ACCOUNT, created=T0))
    yield s
    s.close()


def _device(store: SqlStore, box: SecretBox, seed: str, *, last_step: int | None = None, drift: int = 0,
            user_id: str | None = None) -> MfaDevice:
    device = MfaDevice(account_id=ACCOUNT, device_id="AMFATEST", name="phone", path="/", created=T0,
                       sealed_seed=box.seal(seed, seed_binding("AMFATEST")), for_root=user_id is None,
                       user_id=user_id, enabled=T0, last_step=last_step, drift=drift)
    with store.write(ACCOUNT) as tx:
        tx.mfa.insert(device)
    return device


def test_a_code_is_accepted_once(store: SqlStore) -> None:
    box, clock, seed = SecretBox(b"k" * 32), Clock(T0), totp.new_seed()
    _device(store, box, seed)
    codes, serial, step = MfaCodes(store, box, clock), f"arn:aws:iam::{ACCOUNT}:mfa/phone", totp.step_at(T0.timestamp())
    assert codes.verify_code(ACCOUNT, serial, totp.code_at(seed, step), None)
    assert not codes.verify_code(ACCOUNT, serial, totp.code_at(seed, step), None), "replayed"
    assert not codes.verify_code(ACCOUNT, serial, totp.code_at(seed, step - 1), None), "older than the last one"
    assert codes.verify_code(ACCOUNT, serial, totp.code_at(seed, step + 1), None), "the next step is fresh"
    clock.now = T0 + dt.timedelta(seconds=30)
    assert not codes.verify_code(ACCOUNT, serial, totp.code_at(seed, step + 1), None), "still spent a step later"


def test_wrong_owner_or_account_is_refused(store: SqlStore) -> None:
    box, seed = SecretBox(b"k" * 32), totp.new_seed()
    _device(store, box, seed)
    codes, step = MfaCodes(store, box, Clock(T0)), totp.step_at(T0.timestamp())
    code = totp.code_at(seed, step)
    assert not codes.verify_code(ACCOUNT, f"arn:aws:iam::{ACCOUNT}:mfa/phone", code, "AIDASOMEONEELSE")
    assert not codes.verify_code("210987654321", f"arn:aws:iam::{ACCOUNT}:mfa/phone", code, None)
    assert not codes.verify_code(ACCOUNT, f"arn:aws:iam::{ACCOUNT}:mfa/other", code, None)


def test_another_master_key_opens_nothing(store: SqlStore) -> None:
    seed = totp.new_seed()
    _device(store, SecretBox(b"k" * 32), seed)
    codes = MfaCodes(store, SecretBox(b"x" * 32), Clock(T0))
    assert not codes.verify_for_user(ACCOUNT, None, totp.code_at(seed, totp.step_at(T0.timestamp())))


def test_drift_shifts_the_window(store: SqlStore) -> None:
    box, seed = SecretBox(b"k" * 32), totp.new_seed()
    _device(store, box, seed, drift=10)
    codes, step = MfaCodes(store, box, Clock(T0)), totp.step_at(T0.timestamp())
    assert not codes.verify_for_user(ACCOUNT, None, totp.code_at(seed, step))
    assert codes.verify_for_user(ACCOUNT, None, totp.code_at(seed, step + 10))


def test_racing_threads_accept_a_code_once() -> None:
    store = SqlStore("sqlite://")
    store.create_account(Account(account_id=ACCOUNT, created=T0))
    box, seed = SecretBox(b"k" * 32), totp.new_seed()
    _device(store, box, seed)
    codes, code = MfaCodes(store, box, Clock(T0)), totp.code_at(seed, totp.step_at(T0.timestamp()))
    results: list[bool] = []
    threads = [threading.Thread(target=lambda: results.append(codes.verify_for_user(ACCOUNT, None, code)))
               for _ in range(8)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert sorted(results) == [False] * 7 + [True]
    store.close()
