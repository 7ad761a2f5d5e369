"""The console from nothing to "alice can read but not change", in a real browser: root signs in, creates a group
with AWS's ReadOnlyAccess and a user in it with a console password, assigns the user a virtual MFA device from
the seed the page shows, and signs out; alice signs in with her password and a TOTP code, sees the users, is
refused creating one with the engine's reason, and the simulator explains why she may not delete users.

One ordered test: each step needs the state the previous ones made. A full-page screenshot of each main page is
saved (see conftest.artifacts_dir).
"""

from __future__ import annotations

import json
import re
import time
from typing import Any

import pyotp
import pytest
from playwright.sync_api import expect

from .conftest import ConsoleServer, Watched, screenshot, sign_in_root, sign_out, wait_step_boundary_if_near

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("console-browser")]

GROUP, USER, PASSWORD = "readers", "alice", "Alice-Console-Passw0rd-9"
DENY_DELETE = {"Version": "2012-10-17",
               "Statement": [{"Sid": "NeverDeleteUsers", "Effect": "Deny", "Action": "iam:DeleteUser",
                              "Resource": "*"}]}


def _flash(page: Any) -> str:
    return str(page.inner_text("#flash"))


def test_root_sets_up_a_read_only_user_with_mfa_who_is_refused_changes(
        context: Any, console: ConsoleServer, watched: Watched) -> None:
    page = context.new_page()

    # Root: the sign-in page /console leads to, then the dashboard.
    page.goto(console.url)
    page.wait_for_selector("#signin-form")
    screenshot(page, "01-signin")
    sign_in_root(page, console)
    page.wait_for_selector("#recommendations")
    assert page.get_attribute("#rec-root-mfa", "data-status") is not None
    screenshot(page, "02-dashboard")

    # A group with ReadOnlyAccess.
    page.click("#nav-groups")
    page.click("#create-group")
    page.fill("#group_name", GROUP)
    page.fill("#policies", "ReadOnlyAccess")
    page.click("#create-group-submit")
    page.wait_for_selector("#entity-name")
    assert page.inner_text("#entity-name") == GROUP and _flash(page) == f"Group {GROUP} created."
    page.click("#tab-permissions")
    page.wait_for_selector("#attached-policies")
    assert "arn:aws:iam::aws:policy/ReadOnlyAccess" in page.inner_text("#attached-policies")

    # A user in it with a console password.
    page.click("#nav-users")
    page.click("#create-user")
    page.fill("#user_name", USER)
    page.check("#console_access")
    page.fill("#new-user-password", PASSWORD)
    page.get_by_label(GROUP, exact=True).check()
    page.click("#create-user-submit")
    page.wait_for_selector("#entity-name")
    assert page.inner_text("#entity-name") == USER and _flash(page) == f"User {USER} created."

    # An explicit Deny for the simulator to point at, written as an inline policy on the user's permissions tab.
    page.click("summary:has-text('Add or replace an inline policy')")
    page.fill("#inline-name", "no-deleting-users")
    page.fill("#inline-document", json.dumps(DENY_DELETE, indent=2))
    page.click("#inline-submit")
    page.wait_for_selector("#flash")
    assert "no-deleting-users" in _flash(page)

    # A virtual MFA device from the seed the page shows: two consecutive codes.
    page.click("#tab-security")
    page.click("#assign-mfa")
    seed = page.inner_text("#mfa-seed").strip()
    assert re.fullmatch(r"[A-Z2-7]{32,}=*", seed), seed
    assert page.locator("#mfa-qr").evaluate("img => img.complete && img.naturalWidth > 0")
    wait_step_boundary_if_near()
    totp, step = pyotp.TOTP(seed), int(time.time() // 30)
    page.fill("#code1", totp.generate_otp(step - 1))
    page.fill("#code2", totp.generate_otp(step))
    page.click("#mfa-enable-submit")
    page.wait_for_selector("#mfa-devices")
    assert "assigned" in _flash(page)
    assert f":mfa/{USER}" in page.inner_text("#mfa-devices")
    screenshot(page, "05-user-detail")

    page.goto(console.url + f"/groups/{GROUP}?tab=users")
    page.wait_for_selector("#group-members")
    assert USER in page.inner_text("#group-members")
    page.click("#tab-permissions")
    page.wait_for_selector("#attached-policies")
    screenshot(page, "06-group-detail")
    page.click("#attached-policies a:has-text('ReadOnlyAccess')")
    page.wait_for_selector("#policy-title")
    assert page.inner_text("#policy-title") == "ReadOnlyAccess"

    # Root's other main pages: policies, the editor with live validation, account settings, the trail.
    page.click("#nav-policies")
    page.wait_for_selector("#policy-table")
    screenshot(page, "07-policies")
    page.click("#create-policy")
    editor = page.locator("#policy-document")
    editor.fill('{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "iam:GetUser"}]}')
    expect(page.locator("#policy-document-findings")).to_contain_text(re.compile("resource", re.I))  # as typed
    screenshot(page, "08-policy-editor")
    page.click("#nav-account")
    page.wait_for_selector("#password-policy")
    screenshot(page, "10-account-settings")
    page.click("#nav-trail")
    page.wait_for_selector("#trail-table")
    page.wait_for_selector("[data-event-name=CreateUser]")
    screenshot(page, "11-trail")
    sign_out(page)
    assert page.locator("#principal-name").count() == 0

    # Alice: password, then a fresh code (the one after the last code spent; the server refuses any reuse).
    page.fill("#account", console.account)
    page.fill("#username", USER)
    page.fill("#password", PASSWORD)
    page.click("#signin-submit")
    page.wait_for_selector("#mfa-form")
    assert PASSWORD not in page.content()
    screenshot(page, "03-mfa-step")
    page.fill("#mfa_code", totp.generate_otp(step))  # the code that enabled the device: spent, so refused
    page.click("#mfa-submit")
    page.wait_for_selector("#error")
    assert page.inner_text("#error-code") == "InvalidMfaCode" and page.locator("#principal-name").count() == 0
    fresh = max(step + 1, int(time.time() // 30))  # after the last spent step, within the server's ±1 step window
    page.fill("#mfa_code", totp.generate_otp(fresh))
    page.click("#mfa-submit")
    page.wait_for_selector("#principal-name")
    assert page.inner_text("#principal-name") == USER
    page.click("#principal-link")  # her own page: the session knows the TOTP code was given
    page.wait_for_selector("#me-mfa")
    assert page.inner_text("#me-mfa") == "Yes"
    screenshot(page, "15-my-credentials")

    page.click("#nav-users")
    page.wait_for_selector(f"#users-table tr[data-name={USER}]")
    screenshot(page, "04-users")

    # Refused creating a user, with the engine's reason on the page; nothing created.
    page.click("#create-user")
    page.fill("#user_name", "mallory")
    page.click("#create-user-submit")
    page.wait_for_selector("#error")
    assert page.inner_text("#error-code") == "AccessDenied"
    message = page.inner_text("#error-message")
    assert "iam:CreateUser" in message and USER in message, message
    assert page.input_value("#user_name") == "mallory"  # what she typed is kept
    screenshot(page, "12-create-user-refused")
    names = [u["UserName"] for u in console.iam().list_users()["Users"]]
    assert "mallory" not in names

    # The simulator explains the denial: her explicit Deny statement, highlighted, and an allowed read.
    page.click("#nav-simulator")
    page.select_option("#sim-principal-kind", "user")
    page.fill("#sim-principal-name", USER)
    page.fill("#sim-action-1", "iam:DeleteUser")
    page.fill("#sim-action-2", "iam:CreateUser")
    page.click("#sim-run")
    page.wait_for_selector("#sim-results")
    deleting = page.locator("[data-testid=sim-result][data-action='iam:DeleteUser']")
    assert deleting.get_attribute("data-decision") == "explicitDeny"
    marked = " ".join(deleting.locator("[data-testid=matched-line]").all_inner_texts())
    assert "NeverDeleteUsers" in marked and "Deny" in marked, marked
    assert "no-deleting-users" in deleting.inner_text()
    assert "explicit deny" in deleting.locator("[data-testid=sim-reason]").inner_text().lower()
    creating = page.locator("[data-testid=sim-result][data-action='iam:CreateUser']")
    assert creating.get_attribute("data-decision") == "implicitDeny"
    screenshot(page, "09-simulator-result")

    assert not watched.dialogs, watched.dialogs
    assert not watched.errors, f"errors in the browser console (CSP violations among them): {watched.errors}"
    assert not watched.failed, f"requests of the pages that failed: {watched.failed}"
