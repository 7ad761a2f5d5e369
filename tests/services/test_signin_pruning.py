"""Sign-in bookkeeping is forgotten once it no longer counts: rate windows that have passed, failure counters and
locks whose window and lock are over, and sign-in events past their retention (90 days unless configured), so
names typed at random cannot add rows forever. Locks still in force, and recent events, are kept."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

import pytest
from sqlalchemy import func, select

from gatehouse.services.signin import LockoutPolicy, RateLimits, SigninFailed, SigninRequest
from gatehouse.storage.sql import tables as t
from tests.services.test_signin_service import ACCOUNT, GOOD, World, build


@pytest.fixture
def world() -> Iterator[World]:
    w = build(LockoutPolicy(3, 60, 300), RateLimits(1000, 1000, event_retention_days=2))
    yield w
    w.store.close()


def _counts(w: World) -> dict[str, int]:
    with w.store.engine.connect() as conn:
        return {table.name: conn.execute(select(func.count()).select_from(table)).scalar_one()
                for table in (t.signin_rates, t.signin_locks, t.signin_events)}


def _try(w: World, username: str, password: str = "wrong") -> str:
    try:
        w.signin.sign_in(SigninRequest(password=password, account=ACCOUNT, username=username, source_ip="192.0.2.9"))
    except SigninFailed as e:
        return e.code
    return "Success"


def test_random_names_leave_nothing_behind_once_their_windows_pass(world: World) -> None:
    for i in range(30):
        assert _try(world, f"random-{i}") == "InvalidCredentials"
    grown = _counts(world)
    assert grown["signin_locks"] == 30 and grown["signin_rates"] == 31 and grown["signin_events"] == 30
    world.clock.advance(61)  # past the rate window and the failure window
    _try(world, "walker", GOOD)  # any sign-in prunes (at most once a minute per process)
    pruned = _counts(world)
    assert pruned["signin_locks"] == 0 and pruned["signin_rates"] == 2  # this attempt's address and name
    assert pruned["signin_events"] == 31  # events are kept for their retention
    world.clock.advance(2 * 86400 + 1)
    world.signin.prune(world.clock(), force=True)
    assert _counts(world) == {"signin_rates": 0, "signin_locks": 0, "signin_events": 0}


def test_a_lock_in_force_is_kept_until_it_ends(world: World) -> None:
    assert [_try(world, "walker") for _ in range(3)] == ["InvalidCredentials"] * 3
    world.clock.advance(120)  # the failure window is over, the 300 s lock is not
    world.signin.prune(world.clock(), force=True)
    assert _counts(world)["signin_locks"] == 1
    assert _try(world, "walker", GOOD) == "LockedOut"
    world.clock.advance(181)
    world.signin.prune(world.clock(), force=True)
    assert _counts(world)["signin_locks"] == 0
    assert _try(world, "walker", GOOD) == "Success"


def test_a_success_forgets_the_failures_row(world: World) -> None:
    assert _try(world, "walker") == "InvalidCredentials"
    assert _counts(world)["signin_locks"] == 1
    assert _try(world, "walker", GOOD) == "Success"
    assert _counts(world)["signin_locks"] == 0


def test_retention_is_a_setting() -> None:
    from gatehouse.settings import Settings, SettingsError
    with pytest.raises(SettingsError, match="retention"):
        dataclasses.replace(Settings(dev=True), signin_event_retention_days=0).checked()
