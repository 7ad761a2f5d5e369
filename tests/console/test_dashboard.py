"""The dashboard's counts and security recommendations, and a session that expires, on an application whose
clock the test moves."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator

import pytest

from gatehouse.app import Application, build
from gatehouse.settings import Settings

from .conftest import ROOT_EMAIL, ROOT_PASSWORD, Browser, api


class Clock:
    def __init__(self) -> None:
        self.now = dt.datetime.now(dt.UTC)

    def __call__(self) -> dt.datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def timed(clock: Clock) -> Iterator[Browser]:
    app: Application = build(Settings(dev=True), clock=clock)
    app.bootstrap()
    security = app.services.account_security
    security.set_root_login(security.default_account(), ROOT_EMAIL, ROOT_PASSWORD)
    browser = Browser(app)
    yield browser
    browser.close()
    app.close()


def _status(page: str, key: str) -> str:
    found = re.search(rf'id="rec-{key}" class="rec (\w+)"', page)
    assert found, key
    return found.group(1)


def test_counts_and_recommendations(timed: Browser, clock: Clock) -> None:
    app = timed.app
    api(app, "CreateUser", UserName="old-keys")
    api(app, "CreateAccessKey", UserName="old-keys")
    api(app, "CreateUser", UserName="no-mfa")
    api(app, "CreateLoginProfile", UserName="no-mfa", Password="No-Mfa-Passw0rd-1")
    api(app, "CreateGroup", GroupName="g")
    clock.now += dt.timedelta(days=100)
    timed.sign_in_root()
    page = timed.get("/console").text
    assert re.search(r'id="count-users"><span class="n">2<', page)
    assert re.search(r'id="count-groups"><span class="n">1<', page)
    assert _status(page, "root-mfa") == "warning"
    assert _status(page, "root-keys") == "warning"  # development mode's root key
    assert _status(page, "password-policy") == "warning"
    assert _status(page, "users-mfa") == "warning" and "<li>no-mfa</li>" in page
    assert _status(page, "old-keys") == "warning" and "old-keys (key 1)" in page
    assert _status(page, "unused") == "warning" and "old-keys (access key 1)" in page
    assert "no-mfa (password)" in page
    api(app, "UpdateAccountPasswordPolicy", MinimumPasswordLength=12)
    api(app, "DeleteLoginProfile", UserName="no-mfa")
    page = timed.get("/console").text
    assert _status(page, "password-policy") == "ok" and _status(page, "users-mfa") == "ok"


def test_a_session_expires(timed: Browser, clock: Clock) -> None:
    timed.sign_in_root()
    clock.now += dt.timedelta(hours=2)
    got = timed.get("/console/users")
    assert 'id="signin-form"' in got.text and "Your session has ended" in got.text
