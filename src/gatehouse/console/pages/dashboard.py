"""`GET /console`: the sign-in form for a browser without a session, else the IAM dashboard: the account's
counts (GetAccountSummary) and AWS's security recommendations, read from the summary, the password policy and
the credential report, each as the signed-in principal (a section they may not read says why instead)."""

from __future__ import annotations

import csv
import datetime as dt
import io
from dataclasses import dataclass, field
from typing import Any

from starlette.responses import Response
from starlette.routing import BaseRoute

from ..web import BASE, Console, Problem, View
from . import signin

OLD = dt.timedelta(days=90)


@dataclass
class Recommendation:
    key: str  # element id: rec-<key>
    title: str
    status: str  # ok, warning, unknown
    detail: str
    names: list[str] = field(default_factory=list)
    problem: Problem | None = None


def _moment(text: str) -> dt.datetime | None:
    try:
        return dt.datetime.fromisoformat(text)
    except ValueError:
        return None


def _report_rows(view: View) -> tuple[list[dict[str, str]] | None, Problem | None, Any]:
    generated = view.attempt("GenerateCredentialReport")
    if generated.problem:
        return None, generated.problem, None
    got = view.attempt("GetCredentialReport")
    if got.problem or got.result is None:
        return None, got.problem, None
    content = got.result.get("Content") or b""
    text = content.decode() if isinstance(content, bytes) else str(content)
    return list(csv.DictReader(io.StringIO(text))), None, got.result.get("GeneratedTime")


LIVE_USERS = 50  # up to this many users, the users' recommendations are read live; beyond, from the report


def _iso(value: object) -> str:
    return value.isoformat() if isinstance(value, dt.datetime) else "N/A"


def _live_rows(view: View) -> list[dict[str, str]] | None:
    """The credential report's columns the recommendations read, from the users' own calls (so a change shows at
    once); None when the account is too large for that or a call is refused (the report is read instead)."""
    from gatehouse.errors import AwsError, NoSuchEntity

    try:
        listed = view.iam("ListUsers", MaxItems=LIVE_USERS + 1)
        users = listed.get("Users") or []
        if listed.get("IsTruncated") or len(users) > LIVE_USERS:
            return None
        rows = []
        for u in users:
            name = u["UserName"]
            row = {"user": name, "password_enabled": "false", "mfa_active": "false",
                   "password_last_used": _iso(u.get("PasswordLastUsed"))}
            try:
                profile = view.iam("GetLoginProfile", UserName=name)["LoginProfile"]
                row |= {"password_enabled": "true", "password_last_changed": _iso(profile.get("CreateDate"))}
            except NoSuchEntity:
                pass
            if view.iam("ListMFADevices", UserName=name).get("MFADevices"):
                row["mfa_active"] = "true"
            keys = sorted(view.iam("ListAccessKeys", UserName=name).get("AccessKeyMetadata") or [],
                          key=lambda k: k["CreateDate"])
            for n, key in enumerate(keys[:2], start=1):
                used = view.iam("GetAccessKeyLastUsed", AccessKeyId=key["AccessKeyId"]).get("AccessKeyLastUsed") or {}
                row |= {f"access_key_{n}_active": "true" if key["Status"] == "Active" else "false",
                        f"access_key_{n}_last_rotated": _iso(key.get("CreateDate")),
                        f"access_key_{n}_last_used_date": _iso(used.get("LastUsedDate"))}
            rows.append(row)
        return rows
    except AwsError:
        return None


def recommendations(view: View, summary: dict[str, Any] | None, summary_problem: Problem | None
                    ) -> tuple[list[Recommendation], Any]:
    now = view.console.deps.clock()
    recs: list[Recommendation] = []
    if summary is None:
        recs.append(Recommendation("root-mfa", "Add MFA for the root user", "unknown", "", problem=summary_problem))
        recs.append(Recommendation("root-keys", "Remove the root user's access keys", "unknown", "",
                                   problem=summary_problem))
    else:
        mfa = bool(summary.get("AccountMFAEnabled"))
        recs.append(Recommendation("root-mfa", "Add MFA for the root user", "ok" if mfa else "warning",
                                   "The root user has an MFA device." if mfa else
                                   "The root user has no MFA device: add one to protect the account's owner."))
        keys = bool(summary.get("AccountAccessKeysPresent"))
        recs.append(Recommendation("root-keys", "Remove the root user's access keys", "warning" if keys else "ok",
                                   "The root user has active access keys: use IAM users or roles instead." if keys
                                   else "The root user has no access keys."))
    policy = view.attempt("GetAccountPasswordPolicy")
    if policy.ok:
        recs.append(Recommendation("password-policy", "Set a password policy", "ok",
                                   "The account has a password policy."))
    elif policy.problem and policy.problem.code == "NoSuchEntity":
        recs.append(Recommendation("password-policy", "Set a password policy", "warning",
                                   "The account has no password policy: IAM users' passwords follow the default "
                                   "rules only."))
    else:
        recs.append(Recommendation("password-policy", "Set a password policy", "unknown", "", problem=policy.problem))
    rows, problem, generated = _live_rows(view), None, None
    if rows is None:
        rows, problem, generated = _report_rows(view)
    titles = {"users-mfa": "Users with a console password but no MFA",
              "old-keys": "Active access keys older than 90 days",
              "unused": "Credentials unused for 90 days or more"}
    if rows is None:
        recs += [Recommendation(k, t, "unknown", "", problem=problem) for k, t in titles.items()]
        return recs, None
    users = [r for r in rows if r.get("user") != "<root_account>"]
    no_mfa = [r["user"] for r in users if r.get("password_enabled") == "true" and r.get("mfa_active") != "true"]
    old_keys, unused = [], []
    for r in users:
        for n in (1, 2):
            if r.get(f"access_key_{n}_active") != "true":
                continue
            rotated = _moment(r.get(f"access_key_{n}_last_rotated", ""))
            if rotated and now - rotated > OLD:
                old_keys.append(f"{r['user']} (key {n})")
            used = _moment(r.get(f"access_key_{n}_last_used_date", ""))
            if (used and now - used > OLD) or (used is None and rotated and now - rotated > OLD):
                unused.append(f"{r['user']} (access key {n})")
        if r.get("password_enabled") == "true":
            used = _moment(r.get("password_last_used", ""))
            changed = _moment(r.get("password_last_changed", ""))
            if (used and now - used > OLD) or (used is None and changed and now - changed > OLD):
                unused.append(f"{r['user']} (password)")
    for key, names, bad, good in (
            ("users-mfa", no_mfa, "These users can sign in with a password alone:", "Every console user has MFA."),
            ("old-keys", old_keys, "Rotate these keys:", "No active access key is older than 90 days."),
            ("unused", unused, "Remove or deactivate these credentials:", "No credential has gone unused for 90 "
                                                                          "days.")):
        recs.append(Recommendation(key, titles[key], "warning" if names else "ok", bad if names else good, names))
    return recs, generated


def routes(console: Console) -> list[BaseRoute]:
    @console.page(BASE, signed_in=False)
    def home(view: View) -> Response:
        if view.caller is None:
            return signin.form(view)
        summary = view.attempt("GetAccountSummary")
        counts = (summary.result or {}).get("SummaryMap") if summary.result else None
        recs, generated = recommendations(view, counts, summary.problem)
        aliases = view.attempt("ListAccountAliases")
        alias = ((aliases.result or {}).get("AccountAliases") or [None])[0]
        return view.render("dashboard.html", section="dashboard", title="Dashboard", counts=counts,
                           summary_problem=summary.problem, recommendations=recs, report_time=generated,
                           account_id=view.caller.account_id, alias=alias)

    return [home]
