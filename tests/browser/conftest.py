"""Browser tests of the console: Playwright for Python driving Debian's Chromium headless against a real
`gatehouse serve` (a SQLite data directory; root's sign-in set by the service `gatehouse account root-password`
calls), one server per module. Screenshots go to $GATEHOUSE_TEST_ARTIFACTS/console (default
build/test-artifacts/console/), never into the source tree.

Chromium is not optional: without /usr/bin/chromium (or $GATEHOUSE_CHROMIUM) these tests fail with the command
that installs it, so CI cannot pass by skipping them. Playwright's own browser download is never used.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.support import ACCOUNT
from tests.support.servers import Endpoint, persistent_args, running

CHROMIUM = os.environ.get("GATEHOUSE_CHROMIUM", "/usr/bin/chromium")
ROOT_EMAIL = "root@example.com"
ROOT_PASSWORD = "Root-Browser-Passw0rd-1"
REPO = Path(__file__).resolve().parents[2]
TIMEOUT_MS = 15_000


def artifacts_dir() -> Path:
    """Where screenshots go: $GATEHOUSE_TEST_ARTIFACTS/console, else build/test-artifacts/console (ignored by git)."""
    base = os.environ.get("GATEHOUSE_TEST_ARTIFACTS")
    path = Path(base) / "console" if base else REPO / "build" / "test-artifacts" / "console"
    path.mkdir(parents=True, exist_ok=True)
    return path


@dataclass
class ConsoleServer:
    """A running server with its console URL, root's API keys and root's console sign-in."""

    endpoint: Endpoint
    account: str = ACCOUNT
    root_email: str = ROOT_EMAIL
    root_password: str = ROOT_PASSWORD

    @property
    def url(self) -> str:
        return self.endpoint.url + "/console"

    def iam(self) -> Any:
        return self.endpoint.client("iam")


@pytest.fixture(scope="module")
def console(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ConsoleServer]:
    """A persistent server on a fresh SQLite data directory, its root user given an email and a password by the
    service `gatehouse account root-password` calls (the console signs root in with them)."""
    from gatehouse.app import build
    from gatehouse.settings import store_settings

    data = tmp_path_factory.mktemp("gatehouse-browser")
    args, extra = persistent_args(data_dir=str(data))
    with running(*args) as ep:
        ep.key, ep.secret = extra["key"], extra["secret"]
        operator = build(store_settings(data, None, None))  # the operator's view of the same store
        try:
            operator.services.account_security.set_root_login(ACCOUNT, ROOT_EMAIL, ROOT_PASSWORD)
        finally:
            operator.close()
        yield ConsoleServer(ep)


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    """Debian's Chromium, headless, through Playwright (module scope: one browser process per module)."""
    if not os.access(CHROMIUM, os.X_OK):
        pytest.fail(f"{CHROMIUM} not found: the console's browser tests need Debian's Chromium "
                    "(sudo apt-get install -y chromium; .ci/run does it). They are not skipped on purpose.",
                    pytrace=False)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        # --no-sandbox: CI runs as root in a container; --disable-dev-shm-usage: a container's small /dev/shm
        # would crash full-page screenshots of long pages.
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True,
                                    args=["--no-sandbox", "--disable-dev-shm-usage"])
        try:
            yield browser
        finally:
            browser.close()


@dataclass
class Watched:
    """What a page did that a test must see: dialogs opened, console errors (CSP violations among them)."""

    dialogs: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)  # the page's own requests (scripts, styles, calls) that failed


@pytest.fixture
def watched() -> Watched:
    return Watched()


@pytest.fixture
def context(chromium: Any, watched: Watched) -> Iterator[Any]:
    """A fresh browser profile (no cookies) with a laptop-sized window. Every dialog is recorded and dismissed,
    every console error recorded."""
    ctx = chromium.new_context(viewport={"width": 1366, "height": 800})
    ctx.set_default_timeout(TIMEOUT_MS)

    def on_page(page: Any) -> None:
        def on_dialog(dialog: Any) -> None:
            watched.dialogs.append(f"{dialog.type}: {dialog.message}")
            dialog.dismiss()

        page.on("dialog", on_dialog)
        def on_console(message: Any) -> None:
            if message.type == "error" and not message.text.startswith("Failed to load resource"):
                watched.errors.append(message.text)  # CSP violations, script errors

        def on_response(response: Any) -> None:  # loads of the page's assets; not the browser's own favicon
            request = response.request
            if response.status >= 400 and request.resource_type != "document" and \
                    not request.url.endswith("/favicon.ico"):
                watched.failed.append(f"{request.method} {request.url}: {response.status}")

        page.on("console", on_console)
        page.on("pageerror", lambda e: watched.errors.append(str(e)))
        page.on("response", on_response)

    ctx.on("page", on_page)
    try:
        yield ctx
    finally:
        ctx.close()


def layout_problems(page: Any) -> list[str]:
    """What makes the page harder to use than it should be: controls without a label (for screen readers and
    clicking the label), a missing lang, a page wider than the laptop-sized window."""
    found: list[str] = page.evaluate("""() => {
        const out = [];
        if (!document.documentElement.lang) out.push("<html> without lang");
        for (const e of document.querySelectorAll("input, select, textarea")) {
            if (e.type === "hidden" || e.type === "submit" || e.type === "button" || e.hidden) continue;
            if (!(e.labels && e.labels.length) && !e.getAttribute("aria-label") &&
                !e.getAttribute("aria-labelledby") && !e.title) out.push("unlabelled " + (e.id || e.name || e.tagName));
        }
        if (document.documentElement.scrollWidth > window.innerWidth + 1)
            out.push("wider than the window: " + document.documentElement.scrollWidth + "px");
        return out;
    }""")
    return found


def injected(page: Any) -> list[str]:
    """Elements a `gh-xss` payload made: none unless a page put it into the HTML unescaped."""
    found: list[str] = page.evaluate("""() => {
        const out = [];
        for (const s of document.querySelectorAll("script")) if (s.textContent.includes("gh-xss")) out.push("script");
        for (const e of document.querySelectorAll("[onerror], img[src='x']")) out.push(e.outerHTML);
        return out;
    }""")
    return found


def screenshot(page: Any, name: str) -> Path:
    """A full-page screenshot of what the browser shows now, saved under the artifacts directory; the page must
    have no layout problem (above) first."""
    problems = layout_problems(page)
    assert not problems, f"{name} ({page.url}): {problems}"
    path = artifacts_dir() / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def sign_in_root(page: Any, console: ConsoleServer) -> None:
    page.goto(console.url + "/signin")
    page.fill("#root-email", console.root_email)
    page.fill("#root-password", console.root_password)
    page.click("#root-signin-submit")
    page.wait_for_selector("#principal-name")
    assert page.inner_text("#principal-name") == "root"


def sign_out(page: Any) -> None:
    page.click("#sign-out")
    page.wait_for_selector("#signin-form")


_SESSION_START = time.time()


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """Name the screenshots this run wrote (by their times, so it works when xdist workers took them too)."""
    folder = artifacts_dir()
    shots = sorted(p.name for p in folder.glob("*.png") if p.stat().st_mtime >= _SESSION_START)
    if shots:
        terminalreporter.write_line(f"console screenshots ({len(shots)}) in {folder}: {', '.join(shots)}")


def wait_step_boundary_if_near(seconds_left: float = 3.0) -> None:
    """Wait out the end of a 30 s TOTP step when it is this close, so codes computed now are still current when
    the server checks them (the only waiting these tests do)."""
    remaining = 30 - time.time() % 30
    if remaining < seconds_left:
        time.sleep(remaining + 0.2)
