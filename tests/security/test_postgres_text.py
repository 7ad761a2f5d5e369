"""PostgreSQL cannot store U+0000 in text (the driver raises). Every way a NUL can arrive from a client is refused
before storage is reached, so these were internal failures on PostgreSQL only, three of them unauthenticated."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator

import pytest

from gatehouse.app import Application, build
from gatehouse.settings import Secret, Settings
from tests.security.support import ACCOUNT, ALLOW_ALL, Keys, asgi_request, call, unsigned
from tests.support import MASTER_KEY

pytestmark = [pytest.mark.postgres, pytest.mark.xdist_group("security-postgres")]
ROOT = Keys("AKIAIOSFODNN7EXAMPLE", "root-secret")


@pytest.fixture(scope="module")
def app(pg_schema_factory: object) -> Iterator[Application]:
    url = pg_schema_factory()  # type: ignore[operator]
    application = build(Settings(db_url=url, master_key=Secret(MASTER_KEY), account_id=ACCOUNT,
                                 root_access_key_id=ROOT.key, root_secret_access_key=Secret(ROOT.secret)))
    application.bootstrap()
    yield application
    application.close()


def test_api_refuses_nul_before_storage(app: Application) -> None:
    answer = call(app, "iam", "CreatePolicy", {"PolicyName": "p", "PolicyDocument": ALLOW_ALL,
                                               "Description": "a\x00b"}, ROOT)
    assert (answer.status, answer.code) == (400, "ValidationError")
    assert call(app, "iam", "ListUsers", keys=Keys("AKIA\x00AAAAAAAAAAAAAAA", "x")).code == "InvalidClientTokenId"


def test_signin_refuses_nul_before_storage(app: Application) -> None:
    attempts = ({"email": "a\x00b"}, {"account": ACCOUNT, "username": "a\x00"}, {"account": "x\x00", "username": "a"})
    for fields in attempts:
        body = json.dumps({**fields, "password": "whatever"}).encode()
        answer = asgi_request(app, "POST", "/signin", body_chunks=[body],
                              headers={"content-type": "application/json"})
        assert answer.status == 400, answer.body


def test_web_identity_issuer_with_nul(app: Application) -> None:
    def b64(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

    header, payload = b'{"alg":"RS256"}', b'{"iss":"https://idp.example.com/a\\u0000"}'
    token = ".".join((b64(header), b64(payload), b64(b"signature")))
    answer = unsigned(app, {"Action": "AssumeRoleWithWebIdentity", "Version": "2011-06-15",
                            "RoleArn": f"arn:aws:iam::{ACCOUNT}:role/r", "RoleSessionName": "session",
                            "WebIdentityToken": token})
    assert (answer.status, answer.code) == (400, "InvalidIdentityToken")
