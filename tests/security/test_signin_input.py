"""POST /signin takes anything from anyone: its body is bounded while it is read, and malformed bodies are client
errors (400/413), never an internal failure."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from gatehouse.app import Application
from gatehouse.wire.signin_http import MAX_FORM
from tests.security.support import ACCOUNT, asgi_request, new_app, ok

PASSWORD = "Signin-Password-42!"
JSON = {"content-type": "application/json"}


@pytest.fixture(scope="module")
def app() -> Iterator[Application]:
    application = new_app()
    ok(application, "iam", "CreateUser", {"UserName": "walker"})
    ok(application, "iam", "CreateLoginProfile", {"UserName": "walker", "Password": PASSWORD})
    yield application
    application.close()


def test_body_is_bounded_while_it_is_read(app: Application) -> None:
    """The whole body used to be buffered before its size was looked at: an unauthenticated client could make the
    server hold as much as it cared to send."""
    chunk = b"x" * (64 * 1024)
    answer = asgi_request(app, "POST", "/signin", body_chunks=[chunk] * 200, headers=JSON)
    assert answer.status == 413 and answer.json()["code"] == "BadRequest"
    assert answer.chunks_read <= MAX_FORM // len(chunk) + 2


def test_declared_length_over_the_limit_is_refused_unread(app: Application) -> None:
    answer = asgi_request(app, "POST", "/signin", body_chunks=[b"{}"],
                          headers={**JSON, "content-length": str(10 * MAX_FORM)})
    assert answer.status == 413 and answer.chunks_read == 0
    answer = asgi_request(app, "POST", "/signin", body_chunks=[b"{}"], headers={**JSON, "content-length": "9" * 40})
    assert answer.status == 413


@pytest.mark.parametrize("body", [
    b"[" * 30000 + b"]" * 30000,
    b'{"password": ' + b"[" * 30000 + b"]" * 30000 + b"}",
    b'{"password": ' + b"9" * 5000 + b"}",
])
def test_hostile_json_is_a_bad_request(app: Application, body: bytes) -> None:
    answer = asgi_request(app, "POST", "/signin", body_chunks=[body], headers=JSON)
    assert answer.status == 400 and answer.json()["code"] == "BadRequest"


def test_structured_fields_are_refused(app: Application) -> None:
    body = json.dumps({"account": ACCOUNT, "username": {"$ne": ""}, "password": ["x"]}).encode()
    answer = asgi_request(app, "POST", "/signin", body_chunks=[body], headers=JSON)
    assert answer.status == 400 and answer.json()["code"] == "BadRequest"


@pytest.mark.parametrize("fields", [
    {"email": "root\x00@example.com"},
    {"account": ACCOUNT, "username": "walker\x00"},
    {"account": "alias\x00", "username": "walker"},
])
def test_names_with_nul_are_a_bad_request(app: Application, fields: dict[str, str]) -> None:
    """Names are looked up, and rate-limit keys written, in the database: PostgreSQL refuses a NUL in text (an
    internal failure there); both backends now answer 400 before touching storage."""
    body = json.dumps({**fields, "password": PASSWORD}).encode()
    answer = asgi_request(app, "POST", "/signin", body_chunks=[body], headers=JSON)
    assert answer.status == 400 and answer.json()["code"] == "BadRequest"


def test_form_and_json_sign_in_still_work(app: Application) -> None:
    body = json.dumps({"account": ACCOUNT, "username": "walker", "password": PASSWORD}).encode()
    answer = asgi_request(app, "POST", "/signin", body_chunks=[body[:10], body[10:]], headers=JSON)
    assert answer.status == 200, answer.body
    cookie = dict(answer.headers)[b"set-cookie"].decode()
    assert cookie.startswith("gatehouse-session=") and "HttpOnly" in cookie and "SameSite=lax" in cookie
    form = f"account={ACCOUNT}&username=walker&password={PASSWORD.replace('!', '%21')}".encode()
    answer = asgi_request(app, "POST", "/signin", body_chunks=[form],
                          headers={"content-type": "application/x-www-form-urlencoded",
                                   "origin": "http://127.0.0.1:4599"})  # the server's own origin (no token)
    assert answer.status == 200, answer.body
    assert PASSWORD.encode() not in answer.body
