"""Sign-in form tokens: a token holds only for the cookie it was issued with, under the key that issued it, for its
lifetime; anything altered or made up is refused."""

from __future__ import annotations

import datetime as dt

import pytest

from gatehouse.services.signin_csrf import LIFETIME, SigninCsrf

T0 = dt.datetime(2026, 3, 1, 12, 0, 10, tzinfo=dt.UTC)


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> dt.datetime:
        return self.now


def test_a_token_holds_for_its_own_cookie_only() -> None:
    csrf = SigninCsrf(b"k" * 32, Clock())
    cookie, token = csrf.issue()
    other_cookie, other_token = csrf.issue()
    assert cookie != other_cookie and token != other_token
    assert csrf.valid(cookie, token) and csrf.valid(other_cookie, other_token)
    assert not csrf.valid(other_cookie, token)
    assert not csrf.valid("", token)
    assert not SigninCsrf(b"x" * 32, Clock()).valid(cookie, token), "another server key"


@pytest.mark.parametrize("mangle", [
    lambda t: "", lambda t: t.split(".")[0], lambda t: t[:-1] + ("0" if t[-1] != "0" else "1"),
    lambda t: str(int(t.split(".")[0]) + 1) + "." + t.split(".")[1], lambda t: "x" + t, lambda t: "1" * 40 + ".ab",
    lambda t: t + "\udcff",
])
def test_altered_tokens_are_refused(mangle: object) -> None:
    csrf = SigninCsrf(b"k" * 32, Clock())
    cookie, token = csrf.issue()
    assert not csrf.valid(cookie, mangle(token))  # type: ignore[operator]


def test_tokens_expire() -> None:
    clock = Clock()
    csrf = SigninCsrf(b"k" * 32, clock)
    cookie, token = csrf.issue()
    clock.now = T0 + dt.timedelta(seconds=LIFETIME)
    assert csrf.valid(cookie, token)
    clock.now = T0 + dt.timedelta(seconds=LIFETIME + 1)
    assert not csrf.valid(cookie, token)
    clock.now = T0 - dt.timedelta(seconds=120)  # issued "in the future" by more than clock skew explains
    assert not csrf.valid(cookie, token)
    assert "k" * 8 not in repr(csrf)
