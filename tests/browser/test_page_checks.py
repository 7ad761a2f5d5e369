"""The browser tests' own checks can fail: on pages made to break them, each reports what it looks for."""

from __future__ import annotations

from typing import Any

import pytest

from .conftest import Watched, injected, layout_problems

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("console-browser")]

XSS = '<script>alert("gh-xss")</script><img src=x onerror=alert("gh-xss")>'


def test_layout_check_finds_unlabelled_controls_a_missing_lang_and_a_too_wide_page(context: Any) -> None:
    page = context.new_page()
    page.set_content('<html><body><input id="lonely"><label for="named">Name</label><input id="named">'
                     '<input type="hidden" name="csrf"><div style="width: 3000px">wide</div></body></html>')
    problems = layout_problems(page)
    assert "<html> without lang" in problems and "unlabelled lonely" in problems
    assert not any("named" in p for p in problems)
    assert any(p.startswith("wider than the window") for p in problems)


def test_injection_check_finds_elements_made_from_the_payload(context: Any, watched: Watched) -> None:
    page = context.new_page()
    page.set_content(f"<html lang=en><body><p>{XSS}</p></body></html>")  # unescaped, as a broken page would be
    assert len(injected(page)) == 2  # the <script> and the <img onerror>
    page.set_content("<html lang=en><body><p>&lt;script&gt;alert(&quot;gh-xss&quot;)&lt;/script&gt;</p></body></html>")
    assert injected(page) == []
    assert any("gh-xss" in d for d in watched.dialogs)  # the dialog watcher sees what the unescaped page opened
