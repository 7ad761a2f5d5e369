"""Sign-out revokes: console sessions are stateless (sealed claims in the cookie), so clearing the cookie used to
leave a copied cookie, and the temporary credentials `gatehouse login` took from it, valid until they expired. Now
the session's access key id is recorded (until that expiry) and every replica refuses both. The check rides on the
query temporary credentials already made; long-term keys pay nothing for it."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event

from gatehouse.app import Application, build
from gatehouse.settings import Secret, Settings
from tests.security.support import ACCOUNT, ROOT, AsgiAnswer, Keys, asgi_request, call, new_app, ok
from tests.support import MASTER_KEY

PASSWORD = "Walker-Password-42!"
JSON = {"content-type": "application/json"}


@pytest.fixture(scope="module")
def app() -> Iterator[Application]:
    application = new_app()
    ok(application, "iam", "CreateUser", {"UserName": "walker"})
    ok(application, "iam", "CreateLoginProfile", {"UserName": "walker", "Password": PASSWORD})
    yield application
    application.close()


def signed_in(app: Application) -> tuple[str, Keys]:
    """The session cookie and the temporary credentials of a fresh sign-in as walker."""
    body = json.dumps({"account": ACCOUNT, "username": "walker", "password": PASSWORD, "credentials": "true"})
    answer = asgi_request(app, "POST", "/signin", body_chunks=[body.encode()], headers=JSON)
    assert answer.status == 200, answer.body
    cookie = next(v.decode() for k, v in answer.headers if k == b"set-cookie").split(";")[0]
    creds = answer.json()["credentials"]
    return cookie, Keys(creds["AccessKeyId"], creds["SecretAccessKey"], creds["SessionToken"])


def session(app: Application, cookie: str) -> AsgiAnswer:
    return asgi_request(app, "GET", "/signin/session", headers={"cookie": cookie})


def sign_out(app: Application, cookie: str) -> AsgiAnswer:
    return asgi_request(app, "POST", "/signout", headers={"cookie": cookie})


def test_sign_out_revokes_the_cookie_and_its_credentials(app: Application) -> None:
    cookie, keys = signed_in(app)
    assert session(app, cookie).status == 200
    assert ok(app, "sts", "GetCallerIdentity", keys=keys).text("Arn").endswith(":user/walker")
    out = sign_out(app, cookie)
    assert out.status == 200 and any(k == b"set-cookie" and b"Max-Age=0" in v for k, v in out.headers)
    assert session(app, cookie).status == 401
    refused = call(app, "sts", "GetCallerIdentity", keys=keys)
    assert (refused.status, refused.code) == (403, "InvalidClientTokenId")
    other, other_keys = signed_in(app)  # another session of the same user is untouched
    assert session(app, other).status == 200 and call(app, "sts", "GetCallerIdentity", keys=other_keys).status == 200


def test_sign_out_reaches_every_replica(tmp_path: Path) -> None:
    root = Keys("AKIATESTREPLICA00001", "replica-secret-" + "x" * 25)
    settings = Settings(data_dir=tmp_path, account_id=ACCOUNT, root_access_key_id=root.key,
                        root_secret_access_key=Secret(root.secret), master_key=Secret(MASTER_KEY))
    first = build(settings)
    first.bootstrap()
    second = build(settings, migrate=False)
    try:
        ok(first, "iam", "CreateUser", {"UserName": "walker"}, root)
        ok(first, "iam", "CreateLoginProfile", {"UserName": "walker", "Password": PASSWORD}, root)
        cookie, keys = signed_in(first)
        assert session(second, cookie).status == 200
        assert call(second, "sts", "GetCallerIdentity", keys=keys).status == 200
        assert sign_out(second, cookie).status == 200
        assert session(first, cookie).status == 401
        assert call(first, "sts", "GetCallerIdentity", keys=keys).code == "InvalidClientTokenId"
    finally:
        first.close()
        second.close()


def test_the_revocation_check_costs_no_extra_query(app: Application) -> None:
    """Temporary credentials are authenticated with one query (the account's revision and the revocation
    together); a long-term key's one query is unchanged."""
    assert app.asgi is not None
    authenticator = app.asgi.endpoint.authenticator
    session_keys = ok(app, "sts", "GetSessionToken", keys=ROOT)  # a root session: no user to look up
    temporary = Keys(session_keys.text("AccessKeyId"), session_keys.text("SecretAccessKey"),
                     session_keys.text("SessionToken"))
    statements: list[str] = []

    def count(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        statements.append(statement)

    event.listen(app.store.engine, "before_cursor_execute", count)
    try:
        authenticator.resolve(ROOT.key)
        assert len(statements) == 1 and "revoked_sessions" not in statements[0]
        statements.clear()
        authenticator.resolve(temporary.key, temporary.token)
        assert len(statements) == 1 and "revoked_sessions" in statements[0]
    finally:
        event.remove(app.store.engine, "before_cursor_execute", count)
