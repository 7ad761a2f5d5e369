"""An in-process Gatehouse (SQLite in memory, or a PostgreSQL schema of its own) with browsers signed in to its
console: the fixtures of the policies, simulator, account and trail page tests."""

from __future__ import annotations

import html
import re
import uuid
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from starlette.exceptions import StarletteDeprecationWarning

from gatehouse.app import Application, build
from gatehouse.model import Caller, RequestMeta
from gatehouse.services.secretbox import new_master_key
from gatehouse.settings import Secret, Settings

with warnings.catch_warnings():  # this Starlette prefers the `httpx2` fork; the lock has httpx, which still works
    warnings.simplefilter("ignore", StarletteDeprecationWarning)
    from starlette.testclient import TestClient

PASSWORD = "Console-Pages-Passw0rd!"
_TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf(page: str) -> str:
    found = _TOKEN.search(page)
    assert found, "the page has no form with a CSRF token"
    return html.unescape(found.group(1))


@dataclass
class World:
    app: Application
    account: str

    @property
    def root(self) -> Caller:
        return self.app.services.authenticator.account_root(self.account, RequestMeta(str(uuid.uuid4())))

    def iam(self, action: str, **params: Any) -> dict[str, Any]:
        """An IAM call as the account root, made as the console makes its calls (validated, recorded)."""
        return self.app.services.endpoint.call(self.root, "iam", action, params)

    def user(self, name: str, *, policies: tuple[str, ...] = (), inline: dict[str, str] | None = None) -> None:
        self.iam("CreateUser", UserName=name)
        self.iam("CreateLoginProfile", UserName=name, Password=PASSWORD)
        for arn in policies:
            self.iam("AttachUserPolicy", UserName=name, PolicyArn=arn)
        for policy_name, document in (inline or {}).items():
            self.iam("PutUserPolicy", UserName=name, PolicyName=policy_name, PolicyDocument=document)

    def browser(self, name: str) -> Browser:
        client = TestClient(self.app.asgi, base_url="http://testserver")  # type: ignore[arg-type]
        page = client.get("/console/signin")
        got = client.post("/console/signin", data={"csrf_token": csrf(page.text), "account": self.account,
                                                   "username": name, "password": PASSWORD, "next": "/console"})
        assert got.status_code == 200 and name in got.text, got.text[:2000]
        return Browser(client)


@dataclass
class Browser:
    client: TestClient

    def get(self, path: str, **kw: Any) -> Any:
        return self.client.get(path, **kw)

    def post(self, path: str, data: dict[str, Any], *, token_from: str | None = None, **kw: Any) -> Any:
        """A form post carrying the CSRF token of a page of this session (`token_from`; by default the simulator's
        form, a page that calls no operation)."""
        page = self.client.get(token_from or "/console/simulator")
        return self.client.post(path, data={"csrf_token": csrf(page.text), **data}, **kw)

    def token(self) -> str:
        return csrf(self.client.get("/console/simulator").text)


ADMIN = "arn:aws:iam::aws:policy/AdministratorAccess"
READ_ONLY = "arn:aws:iam::aws:policy/ReadOnlyAccess"


@pytest.fixture(name="world", params=["sqlite", "postgresql"])
def world_fixture(request: pytest.FixtureRequest) -> Iterator[World]:
    if request.param == "sqlite":
        settings = Settings(dev=True)
    else:
        url = request.getfixturevalue("pg_url")
        settings = Settings(db_url=url, master_key=Secret(new_master_key()))
    app = build(settings)
    result = app.bootstrap()
    try:
        yield World(app, result.account_id)
    finally:
        app.close()
