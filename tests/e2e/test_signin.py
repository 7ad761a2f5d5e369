"""The sign-in endpoint end to end: POST /signin (JSON or form) answering 200 with a session cookie or 401 with
a code; lockout after N failures and release after the period (flags, GATEHOUSE_LOCKOUT_* variables and the
per-account override of `gatehouse account lockout`); rate limits per source address; forced password changes;
and the root user signing in by email after `gatehouse account root-password`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.support import ACCOUNT
from tests.support.servers import Endpoint, persistent_args, running

pytestmark = pytest.mark.e2e

PASSWORD, NEW_PASSWORD = "Correct-Horse-Battery-9", "Brand-New-Password-7"


def post(ep: Endpoint, path: str, body: bytes, content_type: str, cookie: str = "",
         extra: dict[str, str] | None = None) -> tuple[int, Any, Any]:
    headers = {"Content-Type": content_type, **({"Cookie": cookie} if cookie else {}), **(extra or {})}
    req = urllib.request.Request(ep.url + path, data=body, method="POST", headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, json.loads(r.read()), r.headers
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read()), e.headers


def signin(ep: Endpoint, **fields: str) -> tuple[int, dict[str, Any], Any]:
    return post(ep, "/signin", json.dumps(fields).encode(), "application/json")


def code_of(ep: Endpoint, **fields: str) -> str:
    status, body, _ = signin(ep, **fields)
    return "Success" if status == 200 else body["code"]


def session_of(ep: Endpoint, cookie: str) -> tuple[int, dict[str, Any]]:
    req = urllib.request.Request(ep.url + "/signin/session", headers={"Cookie": cookie})
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())


def walker(ep: Endpoint, name: str = "walker") -> Any:
    iam = ep.client("iam")
    iam.create_user(UserName=name)
    iam.create_login_profile(UserName=name, Password=PASSWORD)
    return iam


@pytest.fixture(scope="module")
def lockout_server() -> Iterator[Endpoint]:
    # A lock lasts 6 s: long enough that a busy machine still answers the next attempt within it, short enough to
    # wait out in the release test.
    with running("--dev", "--lockout-threshold", "3", "--lockout-window", "60", "--lockout-duration", "6") as ep:
        yield ep


@pytest.fixture
def short(lockout_server: Endpoint) -> Endpoint:
    lockout_server.reset()
    return lockout_server


def test_success_sets_a_session_cookie(short: Endpoint) -> None:
    iam = walker(short)
    status, body, headers = signin(short, account=ACCOUNT, username="walker", password=PASSWORD)
    assert status == 200 and body["arn"] == f"arn:aws:iam::{ACCOUNT}:user/walker" and body["mfa"] is False
    cookie = headers["Set-Cookie"]
    attributes = {part.strip().split("=")[0].lower() for part in cookie.split(";")}
    assert {"httponly", "samesite", "path", "max-age"} <= attributes and "secure" not in attributes  # plain http
    assert "samesite=lax" in cookie.lower()
    value = cookie.split(";")[0]
    assert PASSWORD not in cookie
    status, current = session_of(short, value)
    assert status == 200 and current["account"] == ACCOUNT and current["mfa"] is False
    assert iam.get_user(UserName="walker")["User"]["PasswordLastUsed"]
    status, _, headers = post(short, "/signout", b"", "application/json", value)
    assert status == 200 and "max-age=0" in headers["Set-Cookie"].lower()
    assert session_of(short, value[:-4] + "AAAA")[0] == 401
    assert session_of(short, value)[0] == 401  # revoked on the server, not only dropped by the browser


def test_sign_out_revokes_the_temporary_credentials(short: Endpoint) -> None:
    """`gatehouse login` takes the session's temporary credentials: sign-out must end them too."""
    walker(short)
    _, body, headers = signin(short, account=ACCOUNT, username="walker", password=PASSWORD, credentials="1")
    creds = body["credentials"]
    sts = short.client("sts", creds["AccessKeyId"], creds["SecretAccessKey"], token=creds["SessionToken"])
    assert sts.get_caller_identity()["Arn"] == f"arn:aws:iam::{ACCOUNT}:user/walker"
    assert post(short, "/signout", b"", "application/json", headers["Set-Cookie"].split(";")[0])[0] == 200
    with pytest.raises(ClientError) as refused:
        sts.get_caller_identity()
    assert refused.value.response["Error"]["Code"] == "InvalidClientTokenId"


def form_token(ep: Endpoint) -> tuple[str, str]:
    """(cookie, csrf_token) of a sign-in form, from GET /signin."""
    with urllib.request.urlopen(ep.url + "/signin", timeout=10) as r:
        cookie = r.headers["Set-Cookie"]
        token = json.loads(r.read())["csrf_token"]
    assert "httponly" in cookie.lower() and "samesite=strict" in cookie.lower()
    return cookie.split(";")[0], token


FORM = "application/x-www-form-urlencoded"


def test_form_fields_and_the_account_alias(short: Endpoint) -> None:
    iam = walker(short)
    iam.create_account_alias(AccountAlias="acme-corp")
    cookie, token = form_token(short)
    form = urllib.parse.urlencode({"account": "acme-corp", "username": "walker", "password": PASSWORD,
                                   "csrf_token": token}).encode()
    status, body, _ = post(short, "/signin", form, FORM, cookie)
    assert status == 200 and body["account"] == ACCOUNT


def test_cross_site_posts_are_refused(short: Endpoint) -> None:
    """A form post needs its token or a same-origin Origin/Referer; any foreign Origin is refused; JSON without an
    Origin (what `gatehouse login` sends, and what no browser can send cross-site) is taken."""
    walker(short)
    fields = {"account": ACCOUNT, "username": "walker", "password": PASSWORD}
    form = urllib.parse.urlencode(fields).encode()
    cookie, token = form_token(short)
    with_token = urllib.parse.urlencode({**fields, "csrf_token": token}).encode()
    evil = {"Origin": "http://evil.example"}
    own = short.url  # http://127.0.0.1:PORT, the Host these requests carry

    def outcome(body: bytes, content_type: str = FORM, cookie: str = "", **headers: str) -> tuple[int, str]:
        status, answer, response = post(short, "/signin", body, content_type, cookie, headers)
        assert status == 200 or "set-cookie" not in {k.lower() for k in response}
        return status, answer.get("code", "")

    refused = (403, "CrossSiteRequest")
    assert outcome(form) == refused
    assert outcome(form, **evil) == refused
    assert outcome(with_token, cookie=cookie, **evil) == refused  # a foreign Origin, whatever else
    assert outcome(form, Referer="http://evil.example/page") == refused
    assert outcome(form, Origin="null") == refused
    assert outcome(with_token) == refused  # the token without its cookie
    assert outcome(with_token, cookie="gatehouse-signin-csrf=forged") == refused
    assert outcome(urllib.parse.urlencode(fields).encode(), "text/plain") == refused
    assert outcome(json.dumps(fields).encode(), "application/json", **evil) == refused
    assert outcome(with_token, cookie=cookie) == (200, "")
    assert outcome(with_token, cookie=cookie, Origin="null") == (200, "")
    assert outcome(form, Origin=own) == (200, "")
    assert outcome(form, Referer=own + "/console/signin") == (200, "")
    assert outcome(json.dumps(fields).encode(), "application/json") == (200, "")
    assert outcome(json.dumps(fields).encode(), "application/json", Origin=own.replace("http", "HTTP", 1)) \
        == (200, "")


@pytest.mark.parametrize(("fields", "status", "code"), [
    ({"account": ACCOUNT, "username": "walker", "password": "wrong-Password-1"}, 401, "InvalidCredentials"),
    ({"account": ACCOUNT, "username": "nobody", "password": PASSWORD}, 401, "InvalidCredentials"),
    ({"account": "999999999999", "username": "walker", "password": PASSWORD}, 401, "InvalidCredentials"),
    ({"account": ACCOUNT, "username": "walker"}, 400, "BadRequest"),
    ({"username": "walker", "password": PASSWORD}, 400, "BadRequest"),
])
def test_refusals(short: Endpoint, fields: dict[str, str], status: int, code: str) -> None:
    walker(short)
    got, body, headers = signin(short, **fields)
    assert (got, body["code"]) == (status, code) and body["message"]
    assert "set-cookie" not in {k.lower() for k in headers}


def test_bad_json_is_a_bad_request(short: Endpoint) -> None:
    assert post(short, "/signin", b"{not json", "application/json")[:2] == (
        400, {"code": "BadRequest", "message": "The body is not valid JSON."})


def test_lockout_after_threshold_and_release_after_the_period(short: Endpoint) -> None:
    walker(short)
    fields = {"account": ACCOUNT, "username": "walker"}
    assert [code_of(short, password="wrong-Password-1", **fields) for _ in range(3)] == ["InvalidCredentials"] * 3
    status, body, headers = signin(short, password=PASSWORD, **fields)
    assert (status, body["code"]) == (401, "LockedOut") and int(headers["Retry-After"]) <= 6
    time.sleep(7.1)
    assert code_of(short, password=PASSWORD, **fields) == "Success"


def test_unknown_users_lock_out_like_existing_ones(short: Endpoint) -> None:
    """Lockout used to come only for existing users, so it told which user names exist."""
    walker(short)

    def answers(username: str) -> list[tuple[int, str, bool]]:
        out = []
        for _ in range(4):
            status, body, headers = signin(short, account=ACCOUNT, username=username, password="wrong-Password-1")
            out.append((status, body["code"], "Retry-After" in headers))
        return out

    assert answers("walker") == answers("nobody") == [(401, "InvalidCredentials", False)] * 3 + [
        (401, "LockedOut", True)]


def test_forced_password_change(short: Endpoint) -> None:
    iam = walker(short)
    iam.update_login_profile(UserName="walker", PasswordResetRequired=True)
    fields = {"account": ACCOUNT, "username": "walker"}
    assert code_of(short, password=PASSWORD, **fields) == "PasswordExpired"
    status, body, _ = signin(short, password=PASSWORD, new_password="weak", **fields)
    assert (status, body["code"]) == (400, "PasswordPolicyViolation")
    status, body, _ = signin(short, password=PASSWORD, new_password=PASSWORD, **fields)
    assert (status, body["code"]) == (400, "PasswordPolicyViolation")  # the current password is no change
    assert code_of(short, password=PASSWORD, new_password=NEW_PASSWORD, **fields) == "Success"
    assert iam.get_login_profile(UserName="walker")["LoginProfile"]["PasswordResetRequired"] is False
    assert code_of(short, password=NEW_PASSWORD, **fields) == "Success"


def test_lockout_and_rate_limits_from_the_environment() -> None:
    env = {"GATEHOUSE_LOCKOUT_THRESHOLD": "2", "GATEHOUSE_LOCKOUT_DURATION": "600",
           "GATEHOUSE_SIGNIN_RATE_PER_ADDRESS": "5"}
    with running("--dev", env=env) as ep:
        walker(ep)
        fields = {"account": ACCOUNT, "username": "walker"}
        assert [code_of(ep, password="wrong-Password-1", **fields) for _ in range(2)] == ["InvalidCredentials"] * 2
        assert code_of(ep, password=PASSWORD, **fields) == "LockedOut"
        assert [code_of(ep, password=PASSWORD, account=ACCOUNT, username=f"u{n}") for n in range(3)] == [
            "InvalidCredentials", "InvalidCredentials", "Throttled"]  # 5 attempts a minute from this address
        status, _, headers = signin(ep, password=PASSWORD, **fields)
        assert status == 429 and 0 < int(headers["Retry-After"]) <= 60


def gatehouse_cli(*args: str, stdin: str | None = None, env: dict[str, str] | None = None
                  ) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "gatehouse", *args], input=stdin, capture_output=True, text=True,
                          timeout=120, env={**os.environ, **(env or {})})


def test_root_password_and_account_lockout_commands() -> None:
    data = tempfile.mkdtemp(prefix="gatehouse-signin-")
    args, extra = persistent_args(data_dir=data)
    with running(*args) as ep:
        ep.key, ep.secret = extra["key"], extra["secret"]
        done = gatehouse_cli("account", "root-password", "--data", data, "--email", "Root@Example.com",
                             "--password-stdin", stdin=PASSWORD + "\n")
        assert done.returncode == 0, done.stderr
        assert PASSWORD not in done.stdout + done.stderr
        status, body, _ = signin(ep, email="root@example.com", password=PASSWORD)
        assert status == 200 and body["arn"] == f"arn:aws:iam::{ACCOUNT}:root"
        assert code_of(ep, email="root@example.com", password="Wrong-Password-1") == "InvalidCredentials"
        by_env = gatehouse_cli("account", "root-password", "--data", data, "--email", "root@example.com",
                               env={"GATEHOUSE_ROOT_PASSWORD": NEW_PASSWORD})
        assert by_env.returncode == 0, by_env.stderr
        assert code_of(ep, email="root@example.com", password=NEW_PASSWORD) == "Success"

        walker(ep)
        changed = gatehouse_cli("account", "lockout", "--data", data, "--threshold", "2", "--duration", "600",
                                "--json")
        assert changed.returncode == 0, changed.stderr
        shown = json.loads(changed.stdout)
        assert shown["Override"] == {"threshold": 2, "window": None, "duration": 600}
        assert shown["Effective"] == {"threshold": 2, "window": 900, "duration": 600}
        fields = {"account": ACCOUNT, "username": "walker"}
        for _ in range(2):
            assert code_of(ep, password="wrong-Password-1", **fields) == "InvalidCredentials"
        assert code_of(ep, password=PASSWORD, **fields) == "LockedOut"
        report = json.loads(gatehouse_cli("account", "lockout", "--data", data, "--json").stdout)
        assert [entry["User"] for entry in report["Locked"]] == ["walker"]
        unlocked = gatehouse_cli("account", "lockout", "--data", data, "--unlock", "walker", "--clear", "--json")
        assert json.loads(unlocked.stdout)["Locked"] == [] and json.loads(unlocked.stdout)["Override"] == {
            "threshold": None, "window": None, "duration": None}
        assert code_of(ep, password=PASSWORD, **fields) == "Success"
        weak = gatehouse_cli("account", "root-password", "--data", data, "--email", "root@example.com",
                             "--account-id", "999999999999", env={"GATEHOUSE_ROOT_PASSWORD": "weak"})
        assert weak.returncode == 1 and "minimum length of 8" in weak.stderr  # checked before anything is looked up
