"""What the identity pages share: lists with search, path filter and pages; policy names resolved to ARNs as
the caller sees them; tags and names from forms."""

from __future__ import annotations

import urllib.parse
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from gatehouse.errors import AwsError, NoSuchEntity

from ..web import View

PAGE_SIZE = 25


@dataclass(frozen=True)
class Listing:
    """One page of a list the caller may read, after the search (`q`, part of the name, any case) and the path
    filter (`path`, a path prefix, as the List* operations take it)."""

    items: Sequence[dict[str, Any]]
    total: int
    page: int
    pages: int
    q: str
    path: str
    next_url: str | None
    first_url: str | None


def listing(view: View, action: str, key: str, name_key: str, **params: Any) -> Listing:
    q = view.query.get("q", "").strip()[:128]
    path = view.query.get("path", "").strip()[:512]
    if path and path.startswith("/") and path.endswith("/"):
        params["PathPrefix"] = path
    found = view.all_pages(action, key, **params)
    if q:
        found = [item for item in found if q.lower() in str(item.get(name_key, "")).lower()]
    raw_page = view.query.get("page", "1")
    page = int(raw_page) if raw_page.isdigit() and len(raw_page) < 6 else 1
    pages = max(1, -(-len(found) // PAGE_SIZE))
    page = min(max(page, 1), pages)

    def url(n: int) -> str:
        query = {k: v for k, v in (("q", q), ("path", path), ("page", str(n))) if v}
        return view.request.url.path + "?" + urllib.parse.urlencode(query)

    return Listing(found[(page - 1) * PAGE_SIZE:page * PAGE_SIZE], len(found), page, pages, q, path,
                   url(page + 1) if page < pages else None, url(1) if page > 1 else None)


def policy_arn(view: View, text: str) -> str:
    """The ARN of a managed policy named by ARN or by name (customer managed first, then AWS managed), as the
    caller can list them; NoSuchEntity when neither has it."""
    text = text.strip()
    if text.startswith("arn:"):
        return text
    for scope in ("Local", "AWS"):
        for policy in view.all_pages("ListPolicies", "Policies", Scope=scope):
            if policy.get("PolicyName") == text:
                return str(policy["Arn"])
    raise NoSuchEntity(f"No managed policy is named {text}: give its name or its ARN.")


def policy_names(text: str) -> list[str]:
    """Policy names or ARNs typed one per line or separated by commas."""
    return [p.strip() for p in text.replace(",", "\n").splitlines() if p.strip()]


def tag_from_form(view: View) -> list[dict[str, str]]:
    key = view.form.get("tag_key").strip()
    return [{"Key": key, "Value": view.form.get("tag_value")}] if key else []


def name_of(view: View) -> str:
    return str(view.params.get("name", ""))


def quoted(name: str) -> str:
    return urllib.parse.quote(name, safe="")


def try_steps(view: View, steps: Sequence[tuple[str, dict[str, Any]]]) -> AwsError | None:
    """Further calls after a create (a password, groups, policies): the first refusal, or None. The entity made
    first stays; the page says what was not done."""
    for action, params in steps:
        try:
            view.iam(action, **params)
        except AwsError as error:
            return error
    return None
