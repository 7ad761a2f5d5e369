"""The password policy's rules and AWS's PasswordPolicyViolation wording, table-driven."""

from __future__ import annotations

import datetime as dt

import pytest

from gatehouse.credentials import PasswordPolicy
from gatehouse.services.password_rules import expires_at, is_expired, violations

STRICT = PasswordPolicy(minimum_length=12, require_symbols=True, require_numbers=True, require_uppercase=True,
                        require_lowercase=True)


@pytest.mark.parametrize(("password", "first"), [
    ("Sh0rt!x", "Password should have a minimum length of 12"),  # length is reported first
    ("ALLUPPERCASE-AND-LONG-1", "Password should have at least one lowercase letter"),
    ("alllowercase-and-long-1", "Password should have at least one uppercase letter"),
    ("No-Digits-Here-At-All", "Password should have at least one number"),
    ("NoSymbols1234567", "Password should have at least one symbol"),
    ("Correct-Horse-Battery-9", None),
    ("Tab\tand space 9A!", None),  # any printable character is allowed
])
def test_strict_policy(password: str, first: str | None) -> None:
    found = violations(STRICT, password)
    assert (found[0] if found else None) == first


def test_every_broken_rule_is_listed() -> None:
    assert violations(STRICT, "abc") == [
        "Password should have a minimum length of 12", "Password should have at least one uppercase letter",
        "Password should have at least one number", "Password should have at least one symbol"]


@pytest.mark.parametrize("symbol", list("!@#$%^&*()_+-=[]{}|'"))
def test_symbols_aws_counts(symbol: str) -> None:
    assert violations(STRICT, f"Abcdefghij1{symbol}") == []


@pytest.mark.parametrize("not_symbol", ["~", "`", '"', ";", ":", "<", ">", ",", ".", "?", "/", "\\", " ", "é"])
def test_characters_aws_does_not_count_as_symbols(not_symbol: str) -> None:
    assert violations(STRICT, f"Abcdefghij1{not_symbol}") == ["Password should have at least one symbol"]


def test_letters_are_latin_letters_only() -> None:
    assert "Password should have at least one uppercase letter" in violations(STRICT, "ÉÀÇ-lower-case-123")


@pytest.mark.parametrize(("password", "ok"), [
    ("Abcdefg1", True),  # upper, lower, number: three kinds
    ("abcdefg1!", True),  # lower, number, symbol
    ("abcdefgh1", False),  # two kinds
    ("Ab1!", False),  # too short
])
def test_aws_default_policy_when_none_is_set(password: str, ok: bool) -> None:
    assert (violations(None, password) == []) is ok


def test_lenient_policy_accepts_six_characters() -> None:
    assert violations(PasswordPolicy(), "aaaaaa") == []
    assert violations(PasswordPolicy(), "aaaaa") == ["Password should have a minimum length of 6"]


def test_expiry() -> None:
    changed = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    policy = PasswordPolicy(max_age_days=90)
    assert expires_at(policy, changed) == changed + dt.timedelta(days=90)
    assert not is_expired(policy, changed, changed + dt.timedelta(days=89, hours=23))
    assert is_expired(policy, changed, changed + dt.timedelta(days=90))
    assert expires_at(PasswordPolicy(), changed) is None
    assert not is_expired(None, changed, changed + dt.timedelta(days=10_000))
