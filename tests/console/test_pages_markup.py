"""Every policies, simulator, account and trail page, as a browser receives it: each POST form carries the CSRF
token, each control has a label, ids are unique, and there is no inline script or event handler (the CSP would
block them) and no asset from elsewhere."""

from __future__ import annotations

import html.parser
import json
from typing import Any

from tests.console.pages_support import ADMIN, World, world_fixture  # noqa: F401


class Markup(html.parser.HTMLParser):
    def __init__(self, text: str) -> None:
        super().__init__(convert_charrefs=True)
        self.forms: list[dict[str, Any]] = []
        self.controls: list[dict[str, str | bool]] = []
        self.labels_for: set[str] = set()
        self.ids: list[str] = []
        self.problems: list[str] = []
        self._label = 0
        self.feed(text)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if "id" in a:
            self.ids.append(a["id"])
        self.problems += [f"<{tag} {k}>: inline event handler" for k in a if k.startswith("on")]
        if "style" in a:
            self.problems.append(f"<{tag} style>: inline style")
        if tag == "script" and not a.get("src"):
            self.problems.append("inline <script>")
        for attr in ("src", "href"):
            if tag in ("script", "link", "img") and a.get(attr, "").startswith(("http:", "https:", "//")):
                self.problems.append(f"<{tag} {attr}={a[attr]}>: not served by Gatehouse")
        if tag == "form":
            self.forms.append({"method": a.get("method", "get").lower(), "action": a.get("action"), "hidden": []})
        if tag == "label":
            self._label += 1
            if a.get("for"):
                self.labels_for.add(a["for"])
        if tag in ("input", "select", "textarea"):
            kind = a.get("type", "text") if tag == "input" else tag
            if kind == "hidden" and self.forms:
                self.forms[-1]["hidden"].append(a.get("name"))
            elif kind not in ("hidden", "submit", "button"):
                self.controls.append({"id": a.get("id", ""), "name": a.get("name", ""), "in_label": self._label > 0,
                                      "aria": bool(a.get("aria-label") or a.get("aria-labelledby"))})

    def handle_endtag(self, tag: str) -> None:
        if tag == "label":
            self._label -= 1

    def check(self, where: str) -> list[str]:
        out = [f"{where}: {p}" for p in self.problems]
        out += [f"{where}: POST form {f['action']} has no CSRF token" for f in self.forms
                if f["method"] == "post" and "csrf_token" not in f["hidden"]]
        out += [f"{where}: control {c['name'] or c['id']} has no label" for c in self.controls
                if not (c["in_label"] or c["aria"] or (c["id"] and c["id"] in self.labels_for))]
        out += [f"{where}: id {i} appears twice" for i in sorted({i for i in self.ids if self.ids.count(i) > 1})]
        return out


def test_every_page_is_labelled_tokened_and_script_free(world: World) -> None:
    world.user("ada", policies=(ADMIN,))
    world.iam("CreateGroup", GroupName="team")
    world.iam("PutGroupPolicy", GroupName="team", PolicyName="reads", PolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "iam:GetUser", "Resource": "*"}]}))
    document = json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "iam:GetUser", "Resource": "*"}]})
    arn = world.iam("CreatePolicy", PolicyName="mine", PolicyDocument=document)["Policy"]["Arn"]
    world.iam("CreatePolicyVersion", PolicyArn=arn, PolicyDocument=document.replace("GetUser", "ListUsers"))
    browser = world.browser("ada")
    pages = {path: browser.get(path) for path in (
        "/console/policies", "/console/policies?q=read", "/console/policies/create",
        f"/console/policies/view/{arn}", f"/console/policies/view/{arn}?tab=versions",
        f"/console/policies/view/{arn}?tab=diff", f"/console/policies/view/{arn}?tab=entities",
        "/console/policies/view/arn:aws:iam::aws:policy/ReadOnlyAccess?tab=versions",
        "/console/policies/inline/group/team", "/console/policies/inline/group/team/reads",
        "/console/policies/inline-new/group/team", "/console/simulator", "/console/account", "/console/trail")}
    pages["simulation results"] = browser.post("/console/simulator", {
        "mode": "principal", "principal_kind": "group", "principal_name": "team", "actions": "iam:GetUser"})
    pages["refused create"] = browser.post("/console/policies/create", {"policy_name": "x", "policy_document": "{"})
    problems = []
    for where, got in pages.items():
        assert got.status_code in (200, 400), f"{where}: {got.status_code}"
        problems += Markup(got.text).check(where)
    assert not problems, "\n".join(problems)
