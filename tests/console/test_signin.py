"""Signing in to the console: IAM users and root, the MFA step, a forced password change, lockout, sign-out
(which revokes the session) and a session that is no longer valid."""

from __future__ import annotations

import time

import pyotp

from gatehouse.console.session import COOKIE

from .conftest import BOTH, Browser, api

PASSWORD = "Carol-Passw0rd-1234"


def _user(browser: Browser, name: str = "carol", **profile: object) -> None:
    api(browser.app, "CreateUser", UserName=name)
    api(browser.app, "CreateLoginProfile", UserName=name, Password=PASSWORD, **profile)


def _signed_in_as(browser: Browser, name: str) -> bool:
    return f'id="principal-name">{name}<' in browser.get("/console").text


def test_an_iam_user_signs_in_and_every_page_names_them(browser: Browser) -> None:
    _user(browser)
    got = browser.sign_in("carol", PASSWORD)
    assert got.status_code == 200 and 'id="rec-root-mfa"' in got.text
    for page in ("/console", "/console/users", "/console/groups"):
        assert 'id="principal-name">carol<' in browser.get(page).text


def test_the_account_alias_names_the_account(browser: Browser) -> None:
    _user(browser)
    api(browser.app, "CreateAccountAlias", AccountAlias="example-corp")
    browser.sign_in("carol", PASSWORD, account="example-corp")
    assert _signed_in_as(browser, "carol")


def test_a_wrong_password_shows_the_form_again_with_an_error(browser: Browser) -> None:
    _user(browser)
    got = browser.sign_in("carol", "Wrong-" + PASSWORD)
    assert got.status_code == 401
    assert 'id="signin-form"' in got.text and 'id="error"' in got.text and "not correct" in got.text
    assert 'value="carol"' in got.text  # what was typed stays, except the password
    assert not _signed_in_as(browser, "carol")


def test_root_signs_in_with_email_and_password(root: Browser) -> None:
    assert _signed_in_as(root, "root")


@BOTH
def test_mfa_step(browser: Browser) -> None:
    _user(browser)
    seed = api(browser.app, "CreateVirtualMFADevice", VirtualMFADeviceName="carol")["VirtualMFADevice"]
    serial, totp = seed["SerialNumber"], pyotp.TOTP(seed["Base32StringSeed"])
    now = time.time()
    api(browser.app, "EnableMFADevice", UserName="carol", SerialNumber=serial,
        AuthenticationCode1=totp.at(now - 30), AuthenticationCode2=totp.at(now))
    got = browser.sign_in("carol", PASSWORD)
    assert got.status_code == 200 and 'id="mfa-form"' in got.text and PASSWORD not in got.text
    assert not _signed_in_as(browser, "carol")
    wrong = browser.submit("/console/signin", "/console/signin/mfa", {"mfa_code": "000000"})
    assert wrong.status_code == 401 and 'id="mfa-form"' in wrong.text and 'id="error"' in wrong.text
    # The sign-in page's token is not the MFA form's page, but both are this browser's: take the MFA page's own.
    got = browser.client.post("/console/signin/mfa", data={"mfa_code": totp.at(now + 30),
                                                          "csrf_token": _token(wrong.text)})
    assert got.status_code == 200 and 'id="principal-name">carol<' in got.text


def _token(page: str) -> str:
    import re
    from html import unescape

    found = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert found
    return unescape(found.group(1))


def test_mfa_step_without_the_pending_sign_in_starts_over(browser: Browser) -> None:
    got = browser.submit("/console", "/console/signin/mfa", {"mfa_code": "123456"})
    assert got.status_code == 401 and 'id="signin-form"' in got.text and "start again" in got.text


@BOTH
def test_forced_password_change(browser: Browser) -> None:
    _user(browser, PasswordResetRequired=True)
    got = browser.sign_in("carol", PASSWORD)
    assert got.status_code == 200 and 'id="new-password-form"' in got.text
    mismatch = browser.client.post("/console/signin/password", data={
        "new_password": "Fresh-Passw0rd-99", "confirm_password": "other", "csrf_token": _token(got.text)})
    assert mismatch.status_code == 400 and 'id="new-password-form"' in mismatch.text
    same = browser.client.post("/console/signin/password", data={
        "new_password": PASSWORD, "confirm_password": PASSWORD, "csrf_token": _token(mismatch.text)})
    assert same.status_code == 400 and 'id="new-password-form"' in same.text
    done = browser.client.post("/console/signin/password", data={
        "new_password": "Fresh-Passw0rd-99", "confirm_password": "Fresh-Passw0rd-99",
        "csrf_token": _token(same.text)})
    assert done.status_code == 200 and 'id="principal-name">carol<' in done.text
    other = Browser(browser.app)
    try:
        assert other.sign_in("carol", "Fresh-Passw0rd-99").status_code == 200
    finally:
        other.close()


@BOTH
def test_lockout_is_explained(browser: Browser) -> None:
    _user(browser)
    seen = None
    for _ in range(12):
        seen = browser.sign_in("carol", "Wrong-" + PASSWORD)
        if "Sign-in is locked" in seen.text:
            break
    assert seen is not None and "Sign-in is locked" in seen.text and "Too many failed sign-in attempts" in seen.text
    assert browser.sign_in("carol", PASSWORD).status_code == 401  # the right password too, while locked


@BOTH
def test_sign_out_revokes_the_session(browser: Browser) -> None:
    _user(browser)
    browser.sign_in("carol", PASSWORD)
    cookie = browser.client.cookies.get(COOKIE)
    assert cookie
    got = browser.submit("/console", "/console/signout", {})
    assert got.status_code == 200 and "You have signed out." in got.text and 'id="signin-form"' in got.text
    replay = Browser(browser.app)
    try:
        replay.client.cookies.set(COOKIE, cookie)
        assert not _signed_in_as(replay, "carol")
        page = replay.get("/console/users")
        assert 'id="signin-form"' in page.text and "Your session has ended" in page.text
    finally:
        replay.close()


def test_an_altered_session_cookie_is_no_session(browser: Browser) -> None:
    _user(browser)
    browser.sign_in("carol", PASSWORD)
    cookie = browser.client.cookies.get(COOKIE) or ""
    browser.client.cookies.set(COOKIE, cookie[:-4] + ("AAAA" if not cookie.endswith("AAAA") else "BBBB"))
    got = browser.get("/console/users")
    assert 'id="signin-form"' in got.text and "/console/signin" in str(got.url)


def test_a_deleted_user_is_signed_out(browser: Browser) -> None:
    _user(browser)
    browser.sign_in("carol", PASSWORD)
    api(browser.app, "DeleteLoginProfile", UserName="carol")
    api(browser.app, "DeleteUser", UserName="carol")
    assert not _signed_in_as(browser, "carol")


def test_a_user_changes_their_own_password(browser: Browser) -> None:
    _user(browser)
    api(browser.app, "UpdateAccountPasswordPolicy", MinimumPasswordLength=8, AllowUsersToChangePassword=True)
    browser.sign_in("carol", PASSWORD)
    page = browser.get("/console/me")
    assert page.status_code == 200 and 'id="me-arn"' in page.text and 'id="change-password-form"' in page.text
    wrong = browser.submit("/console/me", "/console/me/password", {
        "old_password": "Wrong-" + PASSWORD, "new_password": "Next-Passw0rd-77", "confirm_password":
            "Next-Passw0rd-77"})
    assert wrong.status_code == 403 and "The old password is incorrect." in wrong.text
    done = browser.submit("/console/me", "/console/me/password", {
        "old_password": PASSWORD, "new_password": "Next-Passw0rd-77", "confirm_password": "Next-Passw0rd-77"})
    assert done.status_code == 200 and "Your password has been changed." in done.text
    other = Browser(browser.app)
    try:
        assert 'id="principal-name">carol<' in other.sign_in("carol", "Next-Passw0rd-77").text
    finally:
        other.close()


def test_root_sees_who_it_is(root: Browser) -> None:
    page = root.get("/console/me")
    assert page.status_code == 200 and ":root</code>" in page.text and 'id="change-password-form"' not in page.text


def test_forced_change_then_mfa(browser: Browser) -> None:
    _user(browser, PasswordResetRequired=True)
    made = api(browser.app, "CreateVirtualMFADevice", VirtualMFADeviceName="carol")["VirtualMFADevice"]
    totp, now = pyotp.TOTP(made["Base32StringSeed"]), time.time()
    api(browser.app, "EnableMFADevice", UserName="carol", SerialNumber=made["SerialNumber"],
        AuthenticationCode1=totp.at(now - 30), AuthenticationCode2=totp.at(now))
    got = browser.sign_in("carol", PASSWORD)
    assert 'id="new-password-form"' in got.text
    got = browser.client.post("/console/signin/password", data={
        "new_password": "Fresh-Passw0rd-99", "confirm_password": "Fresh-Passw0rd-99", "csrf_token": _token(got.text)})
    assert got.status_code == 200 and 'id="mfa-form"' in got.text
    got = browser.client.post("/console/signin/mfa", data={"mfa_code": totp.at(now + 30),
                                                          "csrf_token": _token(got.text)})
    assert 'id="principal-name">carol<' in got.text
    assert api(browser.app, "GetLoginProfile", UserName="carol")["LoginProfile"]["PasswordResetRequired"] is False


def test_signing_out_after_the_session_ended_lands_on_sign_in(browser: Browser) -> None:
    _user(browser)
    browser.sign_in("carol", PASSWORD)
    token = browser.token("/console")
    api(browser.app, "DeleteLoginProfile", UserName="carol")
    api(browser.app, "DeleteUser", UserName="carol")
    got = browser.client.post("/console/signout", data={"csrf_token": token})
    assert got.status_code == 200 and 'id="signin-form"' in got.text


def test_get_session_token_credentials_do_not_open_the_console(browser: Browser) -> None:
    """The cookie is an access key id and a session token; GetSessionToken's, put in that form, must not give a
    session without MFA what the API refuses it (IAM calls)."""
    from gatehouse.model import RequestMeta

    _user(browser)
    key = api(browser.app, "CreateAccessKey", UserName="carol")["AccessKey"]
    services = browser.app.services
    credential = services.authenticator.resolve(key["AccessKeyId"])
    caller = services.authenticator.caller(credential, RequestMeta("t"))
    issued = services.endpoint.call(caller, "sts", "GetSessionToken", {})["Credentials"]
    cookie = f"{issued['AccessKeyId']}.{issued['SessionToken']}".translate(
        str.maketrans({"+": "-", "/": "_", "=": "~"}))
    browser.client.cookies.set(COOKIE, cookie)
    assert not _signed_in_as(browser, "carol")
    assert 'id="signin-form"' in browser.get("/console/users").text
