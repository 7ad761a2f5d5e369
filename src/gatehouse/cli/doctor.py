"""`gatehouse doctor`: an account's security posture from its own API, for people (a table) and for CI (exit 1
when anything is found, `--output json`).

It reads only what any AWS IAM account answers: GetAccountSummary (root MFA and keys), the credential report
(MFA, passwords and keys per user, with last use), GetAccountPasswordPolicy and GetAccountAuthorizationDetails
(policies, inline documents, trust policies), so it works against AWS as well as Gatehouse.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import time
import urllib.parse
from collections import defaultdict
from dataclasses import asdict, dataclass
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from gatehouse.cli.offboard import DEFAULT_ENDPOINT, ApiError, EndpointUrl, Output, Profile, api_client, call

out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)

ADMIN_AWS_MANAGED = "arn:aws:iam::aws:policy/AdministratorAccess"


@dataclass(frozen=True)
class Finding:
    """One problem: which check found it, about what, and why it matters."""

    severity: str  # high, medium, low
    check: str
    subject: str
    detail: str


def as_document(doc: Any) -> Any:
    """A policy document as botocore gives it (parsed) or as the wire carries it (URL-encoded JSON text)."""
    if isinstance(doc, str):
        try:
            return json.loads(doc)
        except ValueError:
            try:
                return json.loads(urllib.parse.unquote(doc))
            except ValueError:
                return {}
    return doc if isinstance(doc, dict) else {}


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _statements(doc: Any) -> list[dict[str, Any]]:
    return [s for s in _list(as_document(doc).get("Statement") or []) if isinstance(s, dict)]


def grants_everything(doc: Any) -> bool:
    """Allow * on * (the shape of AdministratorAccess)."""
    return any(s.get("Effect") == "Allow" and "*" in _list(s.get("Action")) and "*" in _list(s.get("Resource"))
               for s in _statements(doc))


def trusts_anyone(doc: Any) -> tuple[bool, bool]:
    """(an Allow statement names the principal `*`, every such statement has a Condition)."""
    wild = []
    for s in _statements(doc):
        principal = s.get("Principal")
        names = [principal] if principal == "*" else (
            [v for vals in principal.values() for v in _list(vals)] if isinstance(principal, dict) else [])
        if s.get("Effect") == "Allow" and "*" in names:
            wild.append(bool(s.get("Condition")))
    return bool(wild), bool(wild) and all(wild)


def _when(text: str | None) -> dt.datetime | None:
    """A credential-report date, or None for N/A, no_information, not_supported."""
    if not text or not text[0].isdigit():
        return None
    try:
        when = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return when if when.tzinfo else when.replace(tzinfo=dt.UTC)


def credential_report(iam: Any, wait_s: float = 60) -> list[dict[str, str]]:
    """Generate (or reuse) the report and read it, waiting while it is being made."""
    deadline = time.monotonic() + wait_s
    while True:
        state = call(iam, "generate_credential_report").get("State")
        if state == "COMPLETE":
            break
        if time.monotonic() > deadline:
            raise ApiError(f"the credential report is still {state} after {wait_s:.0f} s")
        time.sleep(0.5)
    content = call(iam, "get_credential_report").get("Content") or b""
    text = content.decode() if isinstance(content, bytes) else str(content)
    return list(csv.DictReader(io.StringIO(text)))


def authorization_details(iam: Any) -> dict[str, list[Any]]:
    """Every page of GetAccountAuthorizationDetails, merged."""
    merged: dict[str, list[Any]] = defaultdict(list)
    params: dict[str, Any] = {}
    while True:
        page = call(iam, "get_account_authorization_details", **params)
        for key in ("UserDetailList", "GroupDetailList", "RoleDetailList", "Policies"):
            merged[key].extend(page.get(key) or [])
        if not page.get("IsTruncated") or not page.get("Marker"):
            return merged
        params["Marker"] = page["Marker"]


def examine(summary: dict[str, Any], report: list[dict[str, str]], password_policy: dict[str, Any] | None,
            details: dict[str, list[Any]], now: dt.datetime, max_key_age: int, unused_days: int) -> list[Finding]:
    """Every finding, from what the API answered (pure: the tests feed it directly too)."""
    found: list[Finding] = []
    add = lambda *a: found.append(Finding(*a))  # noqa: E731
    if not summary.get("AccountMFAEnabled"):
        add("high", "root-mfa", "root", "the root user has no MFA device")
    if summary.get("AccountAccessKeysPresent"):
        add("high", "root-access-keys", "root", "the root user has access keys; use IAM users or roles instead")
    if password_policy is None:
        add("medium", "password-policy", "account", "no password policy: AWS's weak default applies")
    key_age, unused = dt.timedelta(days=max_key_age), dt.timedelta(days=unused_days)
    for row in report:
        user = row.get("user", "")
        if user == "<root_account>":
            continue
        created = _when(row.get("user_creation_time"))
        if row.get("password_enabled") == "true":
            if row.get("mfa_active") != "true":
                add("high", "user-without-mfa", user, "can sign in to the console with a password but has no MFA")
            last = _when(row.get("password_last_used")) or _when(row.get("password_last_changed")) or created
            if last is not None and now - last > unused:
                add("low", "password-unused", user, f"console password not used for over {unused_days} days")
        for n in ("1", "2"):
            if row.get(f"access_key_{n}_active") != "true":
                continue
            rotated = _when(row.get(f"access_key_{n}_last_rotated"))
            if rotated is not None and now - rotated > key_age:
                add("medium", "access-key-old", user, f"access key {n} not rotated for over {max_key_age} days")
            used = _when(row.get(f"access_key_{n}_last_used_date")) or rotated
            if used is not None and now - used > unused:
                add("low", "access-key-unused", user, f"active access key {n} not used for over {unused_days} days")
    for pol in details.get("Policies", []):
        default = next((v for v in pol.get("PolicyVersionList") or [] if v.get("IsDefaultVersion")), None)
        if default and grants_everything(default.get("Document")):
            add("high", "wildcard-admin-policy", pol.get("PolicyName", ""),
                f"managed policy {pol.get('Arn')} allows * on * ({pol.get('AttachmentCount', 0)} attachment(s))")
    inline_docs: dict[str, list[str]] = defaultdict(list)
    for kind, key, name_key, list_key in (("user", "UserDetailList", "UserName", "UserPolicyList"),
                                          ("group", "GroupDetailList", "GroupName", "GroupPolicyList"),
                                          ("role", "RoleDetailList", "RoleName", "RolePolicyList")):
        for entity in details.get(key, []):
            name = entity.get(name_key, "")
            for attached in entity.get("AttachedManagedPolicies") or []:
                if attached.get("PolicyArn") == ADMIN_AWS_MANAGED:
                    add("medium", "wildcard-admin-policy", f"{kind} {name}",
                        "has AWS's AdministratorAccess (allows * on *) attached")
            for inline in entity.get(list_key) or []:
                doc = as_document(inline.get("PolicyDocument"))
                label = f"{kind} {name} inline policy {inline.get('PolicyName')}"
                if grants_everything(doc):
                    add("high", "wildcard-admin-policy", label, "inline policy allows * on *")
                inline_docs[json.dumps(doc, sort_keys=True)].append(label)
            if kind == "role":
                wild, conditioned = trusts_anyone(entity.get("AssumeRolePolicyDocument"))
                if wild:
                    add("medium" if conditioned else "high", "role-trusts-anyone", name,
                        "the trust policy allows principal *" + (" (with conditions)" if conditioned else
                                                                 ": anyone in any account may assume it"))
    for labels in inline_docs.values():
        if len(labels) > 1:
            for label in labels:
                add("low", "inline-where-managed-would-do", label,
                    f"the same document is inline in {len(labels)} places; one managed policy would do")
    return found


def doctor_command(
    endpoint_url: EndpointUrl = DEFAULT_ENDPOINT,
    profile: Profile = None,
    output: Output = "table",
    max_key_age: Annotated[int, typer.Option("--max-key-age", min=1, help="Days before a key is old.")] = 90,
    unused_days: Annotated[int, typer.Option("--unused-days", min=1,
                                             help="Days without use before a key or password is unused.")] = 90,
) -> None:
    """Check an account's security posture: root MFA and root keys, users without MFA, old or unused keys,
    unused passwords, no password policy, policies allowing * on *, identical inline policies, roles trusting *.
    Exits 1 when anything is found (for CI), 2 when the account could not be read.

    Examples:

      gatehouse doctor

      gatehouse doctor --output json --max-key-age 30 --endpoint-url http://127.0.0.1:4599
    """
    if output not in ("table", "json"):
        err.print("gatehouse: --output must be table or json")
        raise typer.Exit(2)
    try:
        iam = api_client("iam", endpoint_url, profile)
        summary = call(iam, "get_account_summary").get("SummaryMap") or {}
        try:
            policy: dict[str, Any] | None = call(iam, "get_account_password_policy").get("PasswordPolicy") or {}
        except ApiError as e:
            if getattr(e, "code", None) != "NoSuchEntity":
                raise
            policy = None
        report = credential_report(iam)
        details = authorization_details(iam)
    except ApiError as e:
        err.print(f"gatehouse: {e}")
        raise typer.Exit(2) from None
    found = examine(summary, report, policy, details, dt.datetime.now(dt.UTC), max_key_age, unused_days)
    if output == "json":
        typer.echo(json.dumps({"ok": not found, "problems": [asdict(f) for f in found]}, indent=2))
    elif not found:
        out.print("No problems found.")
    else:
        table = Table(title=f"{len(found)} problem(s) found")
        for column in ("Severity", "Check", "Subject", "Detail"):
            table.add_column(column)
        style = {"high": "bold red", "medium": "yellow", "low": "cyan"}
        for f in found:
            table.add_row(f"[{style[f.severity]}]{f.severity}[/]", f.check, f.subject, f.detail)
        out.print(table)
    if found:
        raise typer.Exit(1)
