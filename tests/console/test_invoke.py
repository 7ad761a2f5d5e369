"""What the console stands on outside its package: `AwsEndpoint.call` (operations in-process, validated,
authorized and recorded as over the wire) and form tokens for a nonce the browser already holds."""

from __future__ import annotations

import datetime as dt

import pytest

from gatehouse.app import Application
from gatehouse.errors import AwsError
from gatehouse.model import RequestMeta
from gatehouse.services.signin_csrf import LIFETIME, SigninCsrf

from .conftest import api


def test_call_validates_input_as_the_model_says(app: Application) -> None:
    with pytest.raises(AwsError) as refused:
        api(app, "CreateUser", UserName="")
    assert refused.value.code == "ValidationError"
    with pytest.raises(AwsError) as unknown:
        api(app, "NoSuchOperation")
    assert unknown.value.code == "InvalidAction"


def test_call_authorizes_as_the_caller(app: Application) -> None:
    api(app, "CreateUser", UserName="nobody-allowed")
    services = app.services
    with services.store.read(services.account_security.default_account()) as tx:
        user = tx.users.get("nobody-allowed")
    assert user is not None
    root = services.authenticator.account_root(services.account_security.default_account(), RequestMeta("r"))
    from dataclasses import replace

    from gatehouse.model import PrincipalKind

    plain = replace(root, kind=PrincipalKind.USER, arn=user.arn("aws"), user_id=user.user_id, name=user.name,
                    principal_id=user.user_id)
    with pytest.raises(AwsError) as denied:
        services.endpoint.call(plain, "iam", "ListUsers", {})
    assert denied.value.code == "AccessDenied" and "iam:ListUsers" in denied.value.message


def test_a_token_for_a_nonce_is_valid_for_that_nonce_only() -> None:
    now = [dt.datetime(2026, 1, 1, tzinfo=dt.UTC)]
    csrf = SigninCsrf(b"k" * 32, lambda: now[0])
    token = csrf.token_for("nonce-a")
    assert csrf.valid("nonce-a", token) and not csrf.valid("nonce-b", token)
    now[0] += dt.timedelta(seconds=LIFETIME + 1)
    assert not csrf.valid("nonce-a", token)


def test_post_to_a_get_page_is_refused_as_a_page(browser) -> None:  # type: ignore[no-untyped-def]
    got = browser.client.post("/console/users/x/nothing", data={})
    assert got.status_code in (404, 405) and "<html" in got.text
