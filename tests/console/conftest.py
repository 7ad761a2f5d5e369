"""The console in-process: a development-mode application (memory only) behind Starlette's TestClient, and a
`Browser` that fills forms as a person would (GET the page, take its CSRF token, POST the form)."""

from __future__ import annotations

import re
import warnings
from collections.abc import Iterator
from html import unescape

import pytest

with warnings.catch_warnings():  # this Starlette prefers httpx2 for its test client; httpx is what the lock has
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

from gatehouse.app import Application, build
from gatehouse.settings import Secret, Settings
from tests.support import MASTER_KEY

ROOT_EMAIL = "root@example.com"
ROOT_PASSWORD = "Root-Passw0rd-for-tests"
_TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


class Browser:
    def __init__(self, app: Application) -> None:
        assert app.asgi is not None
        self.app = app
        self.client = TestClient(app.asgi, base_url="http://testserver", follow_redirects=True)

    def get(self, path: str, **kwargs: object):
        return self.client.get(path, **kwargs)

    def token(self, path: str) -> str:
        page = self.get(path)
        found = _TOKEN.search(page.text)
        assert found, f"no CSRF token on {path}"
        return unescape(found.group(1))

    def submit(self, page: str, action: str, fields: dict[str, object], **kwargs: object):
        """Post `fields` to `action` with the CSRF token of `page`, as that page's form would."""
        return self.client.post(action, data={**fields, "csrf_token": self.token(page)}, **kwargs)

    def sign_in_root(self) -> None:
        got = self.submit("/console", "/console/signin", {"email": ROOT_EMAIL, "password": ROOT_PASSWORD})
        assert got.status_code == 200 and 'id="principal-name">root<' in got.text, got.text[:2000]

    def sign_in(self, username: str, password: str, account: str | None = None):
        return self.submit("/console", "/console/signin", {"account": account or self.account, "username": username,
                                                           "password": password})

    @property
    def account(self) -> str:
        return self.app.services.account_security.default_account()

    def close(self) -> None:
        self.client.close()


@pytest.fixture
def app(request: pytest.FixtureRequest) -> Iterator[Application]:
    """Development mode (SQLite in memory), or PostgreSQL for tests parametrized with
    `@pytest.mark.parametrize("app", ["sqlite", "postgres"], indirect=True)`."""
    if getattr(request, "param", "sqlite") == "postgres":
        pg_url = request.getfixturevalue("pg_schema_factory")()
        built = build(Settings(db_url=pg_url, master_key=Secret(MASTER_KEY)))
    else:
        built = build(Settings(dev=True))
    built.bootstrap()
    security = built.services.account_security
    security.set_root_login(security.default_account(), ROOT_EMAIL, ROOT_PASSWORD)
    yield built
    built.close()


@pytest.fixture
def browser(app: Application) -> Iterator[Browser]:
    b = Browser(app)
    yield b
    b.close()


@pytest.fixture
def root(browser: Browser) -> Browser:
    browser.sign_in_root()
    return browser


def api(app: Application, action: str, **params: object) -> dict:
    """An IAM call as the account's root, in-process (setting up what a test needs without the console)."""
    from gatehouse.model import RequestMeta

    services = app.services
    root = services.authenticator.account_root(services.account_security.default_account(),
                                               RequestMeta(request_id="test"))
    return services.endpoint.call(root, "iam", action, params)


READONLY_PASSWORD = "Reader-Passw0rd-42"


@pytest.fixture
def reader(app: Application) -> Iterator[Browser]:
    """A browser signed in as `reader`, a user in a group with AWS's ReadOnlyAccess."""
    api(app, "CreateGroup", GroupName="readers")
    api(app, "AttachGroupPolicy", GroupName="readers", PolicyArn="arn:aws:iam::aws:policy/ReadOnlyAccess")
    api(app, "CreateUser", UserName="reader")
    api(app, "AddUserToGroup", GroupName="readers", UserName="reader")
    api(app, "CreateLoginProfile", UserName="reader", Password=READONLY_PASSWORD)
    b = Browser(app)
    got = b.sign_in("reader", READONLY_PASSWORD)
    assert got.status_code == 200 and 'id="principal-name">reader<' in got.text, got.text[:2000]
    yield b  # type: ignore[misc]
    b.close()


BOTH = pytest.mark.parametrize("app", ["sqlite", "postgres"], indirect=True)
