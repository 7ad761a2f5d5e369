"""What every console page must hold: labels on controls, a CSRF token in every POST form, no inline event
handler or unnonced inline script, `<html lang>`."""

from __future__ import annotations

import html.parser
import re


class PageFacts(html.parser.HTMLParser):
    def __init__(self, text: str) -> None:
        super().__init__(convert_charrefs=True)
        self.lang: str | None = None
        self.labels_for: set[str] = set()
        self.label_depth = 0
        self.controls: list[dict[str, str | bool | None]] = []
        self.forms: list[dict[str, object]] = []
        self.handlers: list[str] = []
        self.scripts: list[dict[str, str | None]] = []
        self._in_script: dict[str, str | None] | None = None
        self.feed(text)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        self.handlers += [f"{tag}[{k}]" for k in a if k.startswith("on")]
        if tag == "html":
            self.lang = a.get("lang")
        elif tag == "label":
            self.label_depth += 1
            if a.get("for"):
                self.labels_for.add(a["for"])
        elif tag == "form":
            self.forms.append({"method": a.get("method", "get").lower(), "action": a.get("action"), "hidden": []})
        elif tag == "script":
            self._in_script = {"src": a.get("src"), "nonce": a.get("nonce"), "text": ""}
        if tag in ("input", "select", "textarea"):
            kind = a.get("type", "text").lower() if tag == "input" else tag
            self.controls.append({"name": a.get("name"), "id": a.get("id"), "type": kind,
                                  "labelled": self.label_depth > 0 or bool(a.get("aria-label"))})
            if kind == "hidden" and self.forms:
                hidden = self.forms[-1]["hidden"]
                assert isinstance(hidden, list)
                hidden.append((a.get("name"), a.get("value", "")))

    def handle_endtag(self, tag: str) -> None:
        if tag == "label":
            self.label_depth = max(0, self.label_depth - 1)
        if tag == "script" and self._in_script is not None:
            self.scripts.append(self._in_script)
            self._in_script = None

    def handle_data(self, data: str) -> None:
        if self._in_script is not None:
            self._in_script["text"] = (self._in_script["text"] or "") + data


def problems(text: str, csp: str) -> list[str]:
    facts = PageFacts(text)
    found = []
    if not facts.lang:
        found.append("no <html lang>")
    for c in facts.controls:
        if c["type"] != "hidden" and not c["labelled"] and c["id"] not in facts.labels_for:
            found.append(f"unlabelled control {c['name'] or c['id']}")
    for f in facts.forms:
        hidden = f["hidden"]
        assert isinstance(hidden, list)
        if f["method"] == "post" and not any(n == "csrf_token" and len(v) >= 16 for n, v in hidden):
            found.append(f"POST form without a CSRF token: {f['action']}")
    found += [f"inline handler {h}" for h in facts.handlers]
    nonce = re.search(r"'nonce-([^']+)'", csp)
    for s in facts.scripts:
        if not s["src"] and (s["text"] or "").strip() and not (nonce and s["nonce"] == nonce.group(1)):
            found.append("inline script without the nonce")
    return found
