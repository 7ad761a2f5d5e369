"""The console's web-security promises: CSRF tokens on every form (and refusals without them), a strict CSP
with a nonce, clickjacking protection, cookie flags, escaping, no secret in a URL."""

from __future__ import annotations

import re

from gatehouse.console.session import COOKIE
from gatehouse.wire.signin_http import COOKIE as SIGNIN_COOKIE

from .conftest import ROOT_EMAIL, ROOT_PASSWORD, Browser, api

XSS = '<script>alert("gh-xss")</script>'


def test_the_console_and_post_signin_share_one_session_cookie() -> None:
    assert COOKIE == SIGNIN_COOKIE


def test_pages_carry_strict_security_headers(browser: Browser) -> None:
    got = browser.get("/console")
    csp = got.headers["content-security-policy"]
    nonce = re.search(r"'nonce-([^']+)'", csp)
    assert nonce and f'nonce="{nonce.group(1)}"' in got.text
    assert "default-src 'self'" in csp and "object-src 'none'" in csp and "frame-ancestors 'none'" in csp
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert got.headers["x-frame-options"] == "DENY"
    assert got.headers["x-content-type-options"] == "nosniff"
    assert got.headers["referrer-policy"] == "no-referrer"
    assert got.headers["cache-control"] == "no-store"
    again = browser.get("/console")
    assert again.headers["content-security-policy"] != csp, "the nonce must change per request"
    assert browser.get("/console/static/console.css").status_code == 200


def test_sign_in_without_a_valid_token_is_refused(browser: Browser) -> None:
    fields = {"email": ROOT_EMAIL, "password": ROOT_PASSWORD}
    browser.get("/console")
    for token in (None, "x" * 43):
        data = dict(fields) if token is None else {**fields, "csrf_token": token}
        got = browser.client.post("/console/signin", data=data)
        assert got.status_code == 403 and 'id="csrf-refused"' in got.text
    token = browser.token("/console")
    other = Browser(browser.app)  # another browser: the token without the cookie it belongs with
    try:
        got = other.client.post("/console/signin", data={**fields, "csrf_token": token})
        assert got.status_code == 403
        assert 'id="principal-name"' not in other.get("/console").text
    finally:
        other.close()


def test_a_forged_post_changes_nothing(root: Browser) -> None:
    got = root.client.post("/console/create/user", data={"user_name": "forged"})
    assert got.status_code == 403
    got = root.client.post("/console/create/user", data={"user_name": "forged", "csrf_token": "1.abc" + "0" * 60})
    assert got.status_code == 403
    assert all(u["UserName"] != "forged" for u in api(root.app, "ListUsers")["Users"])


def test_a_token_from_before_signing_in_is_refused_after(browser: Browser) -> None:
    before = browser.token("/console")
    browser.sign_in_root()
    got = browser.client.post("/console/create/user", data={"user_name": "late", "csrf_token": before})
    assert got.status_code == 403


def test_cookies_are_httponly_and_samesite(browser: Browser) -> None:
    browser.get("/console")
    got = browser.client.post("/console/signin", data={"email": ROOT_EMAIL, "password": ROOT_PASSWORD,
                                                       "csrf_token": browser.token("/console")},
                              follow_redirects=False)
    assert got.status_code == 303
    cookies = got.headers.get_list("set-cookie")
    assert any(c.startswith(COOKIE + "=") for c in cookies)
    for c in cookies:
        assert "httponly" in c.lower() and re.search("samesite=(lax|strict)", c, re.I), c


def test_script_in_form_input_is_shown_as_text(root: Browser) -> None:
    got = root.submit("/console/create/user", "/console/create/user", {"user_name": XSS})
    assert got.status_code == 400 and 'id="error"' in got.text
    assert XSS not in got.text and "&lt;script&gt;" in got.text
    got = root.submit("/console/create/role", "/console/create/role", {
        "role_name": "xss-role", "description": XSS,
        "trust_policy": '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":'
                        '"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}'})
    assert got.status_code == 200, got.text
    for page in ("/console/roles", "/console/roles/xss-role"):
        text = root.get(page).text
        assert XSS not in text and "&lt;script&gt;alert(&#34;gh-xss&#34;)&lt;/script&gt;" in text


def test_signin_fields_are_escaped_and_the_password_never_echoed(browser: Browser) -> None:
    secret = "Not-Echoed-Passw0rd-1"
    got = browser.submit("/console", "/console/signin", {"account": XSS, "username": XSS, "password": secret})
    assert got.status_code == 401
    assert XSS not in got.text and secret not in got.text and secret not in str(got.url)
    got = browser.get("/console/" + "%3Cscript%3E", params={"next": XSS})
    assert got.status_code == 404 and XSS not in got.text and "<script>" not in got.text.replace(
        '<script src="/console/static/console.js"', "")


def test_after_sign_in_the_next_page_is_a_console_page_only(browser: Browser) -> None:
    token = browser.token("/console")
    got = browser.client.post("/console/signin", data={"email": ROOT_EMAIL, "password": ROOT_PASSWORD,
                                                       "csrf_token": token, "next": "//evil.example/console"},
                              follow_redirects=False)
    assert got.headers["location"] == "/console"
