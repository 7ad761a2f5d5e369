"""Signing in with the keyboard alone: Tab reaches the IAM user form's fields in order, each focused control has
a label, and Enter submits."""

from __future__ import annotations

from typing import Any

import pytest

from .conftest import ConsoleServer, Watched

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("console-browser")]

PASSWORD = "Keyboard-Passw0rd-31"


def focused(page: Any) -> dict[str, Any]:
    """The focused element: its id and the text of its labels."""
    found: dict[str, Any] = page.evaluate("""() => {
        const e = document.activeElement;
        return {id: e.id, tag: e.tagName.toLowerCase(),
                labels: e.labels ? Array.from(e.labels, l => l.textContent.trim()) : []};
    }""")
    return found


def test_tab_through_the_sign_in_form_and_submit_with_enter(
        context: Any, console: ConsoleServer, watched: Watched) -> None:
    iam = console.iam()
    iam.create_user(UserName="kim")
    iam.create_login_profile(UserName="kim", Password=PASSWORD)
    page = context.new_page()
    page.goto(console.url + "/signin")
    page.wait_for_selector("#signin-form")

    page.keyboard.press("Tab")
    first = focused(page)
    assert first["tag"] == "a" and page.evaluate("document.activeElement.textContent").strip() == \
        "Skip to main content", first
    for _ in range(5):  # past the skip link and the header's links, to the first field
        if focused(page)["id"] == "account":
            break
        page.keyboard.press("Tab")
    typed = {"account": console.account, "username": "kim", "password": PASSWORD}
    labels = {"account": "Account ID or alias", "username": "IAM user name", "password": "Password"}
    for i, (field, text) in enumerate(typed.items()):
        if i:
            page.keyboard.press("Tab")
        now = focused(page)
        assert now["id"] == field, f"Tab went to {now} instead of #{field}"
        assert now["labels"] == [labels[field]], now
        page.keyboard.type(text)
    page.keyboard.press("Enter")
    page.wait_for_selector("#principal-name")
    assert page.inner_text("#principal-name") == "kim"
    assert not watched.errors, watched.errors
