"""Cross-site request forgery and script injection, tried in a real browser against a real server.

CSRF: root is signed in; a page served by another local server (127.0.0.1 on another port: another origin but
the same site, so the SameSite=Lax session cookie IS sent and only the form token stands in the way) submits a
form to the console by itself. The console refuses it (403) and nothing changes.

XSS: markup typed where the console shows it back (the sign-in form after a failure, a refused user name, the
users search, a role description, which IAM lets hold `<` and `>`) is shown as text: no element is made from it
and no dialog opens. The CSP would stop an injected script from running anyway, so the checks look at the DOM.
"""

from __future__ import annotations

import contextlib
import html
import http.server
import json
import threading
import urllib.parse
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from tests.support.servers import free_port

from .conftest import ConsoleServer, Watched, injected, screenshot, sign_in_root

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("console-browser")]

XSS = '<script>alert("gh-xss")</script><img src=x onerror=alert("gh-xss")>'
TRUST = json.dumps({"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}]})


@contextlib.contextmanager
def attacker_site(pages: dict[str, str]) -> Iterator[str]:
    """Another origin on loopback serving the given HTML pages (path -> page)."""

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = pages.get(self.path, "not here").encode()
            self.send_response(200 if self.path in pages else 404)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def forged_form(action: str, fields: dict[str, str]) -> str:
    inputs = "".join(f'<input type="hidden" name="{html.escape(k)}" value="{html.escape(v)}">'
                     for k, v in fields.items())
    return (f'<!doctype html><html><body><form id="f" method="post" action="{html.escape(action)}">{inputs}</form>'
            '<script>document.getElementById("f").submit()</script></body></html>')


def attackers_own_token(console: ConsoleServer) -> str:
    """A genuine token, from the attacker's own visit to the console (their cookies, not the victim's)."""
    page = requests.get(console.url + "/signin", timeout=15).text
    start = page.index('name="csrf_token" value="') + len('name="csrf_token" value="')
    return html.unescape(page[start:page.index('"', start)])


def test_a_forged_cross_origin_post_is_refused_and_changes_nothing(
        context: Any, console: ConsoleServer, watched: Watched) -> None:
    victim = context.new_page()
    sign_in_root(victim, console)
    action = console.url + "/create/user"
    pages = {"/no-token": forged_form(action, {"user_name": "forged-a"}),
             "/their-token": forged_form(action, {"user_name": "forged-b", "csrf_token": attackers_own_token(console)})}
    with attacker_site(pages) as site:
        for path in pages:
            with victim.expect_response(lambda r: r.url == action and r.request.method == "POST") as got:
                victim.goto(site + path)
            response = got.value
            assert "gatehouse-session=" in (response.request.header_value("cookie") or ""), \
                "the browser did not send the session cookie: this test would not show the token is checked"
            assert response.status == 403, f"{path}: {response.status}"
            victim.wait_for_selector("#csrf-refused")
            assert "Nothing was changed" in victim.inner_text("#csrf-refused")
        screenshot(victim, "13-csrf-refused")
    names = {u["UserName"] for u in console.iam().list_users()["Users"]}
    assert not names & {"forged-a", "forged-b"}, names
    victim.goto(console.url)  # the victim's session is intact: the refusal was the token's, not a lost cookie
    assert victim.inner_text("#principal-name") == "root"
    assert not watched.errors, watched.errors


def test_markup_typed_in_is_shown_as_text(context: Any, console: ConsoleServer, watched: Watched) -> None:
    page = context.new_page()

    # The sign-in form after a failed attempt keeps what was typed, as a value.
    page.goto(console.url + "/signin")
    page.fill("#account", XSS)
    page.fill("#username", XSS)
    page.fill("#password", "Not-The-Passw0rd")
    page.click("#signin-submit")
    page.wait_for_selector("#error")
    assert page.input_value("#username") == XSS
    assert injected(page) == []

    sign_in_root(page, console)

    # A user name IAM refuses: the refusal is shown, the name stays in its field as typed.
    page.goto(console.url + "/create/user")
    page.fill("#user_name", XSS)
    page.click("#create-user-submit")
    page.wait_for_selector("#error")
    assert page.inner_text("#error-code") == "ValidationError"
    assert page.input_value("#user_name") == XSS
    assert injected(page) == []

    # The users search echoes the query.
    page.goto(console.url + "/users?q=" + urllib.parse.quote(XSS))
    page.wait_for_selector("#users-table")
    assert page.input_value("#q") == XSS
    assert injected(page) == []

    # A role description holds markup legitimately; its page shows it as text.
    page.goto(console.url + "/create/role")
    page.fill("#role_name", "escaped")
    page.fill("#description", XSS)
    page.fill("#trust_policy", TRUST)
    page.click("#create-role-submit")
    page.wait_for_selector("#entity-name")
    assert page.locator("dd", has_text="gh-xss").first.inner_text() == XSS
    assert injected(page) == []
    screenshot(page, "14-markup-shown-as-text")
    page.goto(console.url + "/roles")
    page.wait_for_selector("text=escaped")
    assert injected(page) == []

    assert not [d for d in watched.dialogs if "gh-xss" in d], watched.dialogs
    assert not watched.dialogs, watched.dialogs
