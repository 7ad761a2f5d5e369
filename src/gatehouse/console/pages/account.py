"""Account settings: the password policy, the account alias and the credential report, each through its IAM
operation as the signed-in principal. Each section is read on its own, so a principal allowed some of them sees
those and, for the others, the engine's reason they are not shown."""

from __future__ import annotations

from typing import Any

from starlette.responses import Response
from starlette.routing import BaseRoute

from gatehouse.errors import AwsError

from ..web import BASE, Console, Problem, View

ACCOUNT = BASE + "/account"
# (form field, UpdateAccountPasswordPolicy member, label) for the policy's yes/no rules
FLAGS = (("require_uppercase", "RequireUppercaseCharacters", "Require at least one uppercase letter (A-Z)"),
         ("require_lowercase", "RequireLowercaseCharacters", "Require at least one lowercase letter (a-z)"),
         ("require_numbers", "RequireNumbers", "Require at least one number (0-9)"),
         ("require_symbols", "RequireSymbols", "Require at least one symbol (! @ # $ % ^ & * ( ) _ + - = [ ] { } | ')"),
         ("allow_change", "AllowUsersToChangePassword", "Allow users to change their own password"),
         ("hard_expiry", "HardExpiry", "Prevent password reuse after expiry (an administrator must reset it)"))
NUMBERS = (("minimum_length", "MinimumPasswordLength", "Minimum password length (6 to 128)"),
           ("max_age", "MaxPasswordAge", "Passwords expire after this many days (1 to 1095; empty: never)"),
           ("reuse_prevention", "PasswordReusePrevention", "Remember this many previous passwords (1 to 24; "
                                                          "empty: none)"))


def _section(view: View, action: str, **params: Any) -> tuple[dict[str, Any] | None, Problem | None]:
    outcome = view.attempt(action, **params)
    return outcome.result, outcome.problem


def _page(view: View, *, error: AwsError | Problem | None = None, status: int = 200,
          typed: dict[str, Any] | None = None) -> Response:
    found, policy_problem = _section(view, "GetAccountPasswordPolicy")
    policy = (found or {}).get("PasswordPolicy")
    if policy_problem is not None and policy_problem.code == "NoSuchEntity":
        policy_problem = None  # no policy set: AWS's defaults apply
    aliases, alias_problem = _section(view, "ListAccountAliases")
    shown = typed if typed is not None else {
        member: (policy or {}).get(member) for _, member, _ in FLAGS + NUMBERS}
    if policy is None and typed is None:
        shown.update(MinimumPasswordLength=8, AllowUsersToChangePassword=True)
    return view.render("account.html", section="account", title="Account settings", error=error, status=status,
                       policy=policy, policy_problem=policy_problem, shown=shown, flags=FLAGS, numbers=NUMBERS,
                       aliases=(aliases or {}).get("AccountAliases") or [], alias_problem=alias_problem)


def _update_policy(view: View) -> Response:
    params: dict[str, Any] = {member: view.form.get(name) == "true" for name, member, _ in FLAGS}
    for name, member, label in NUMBERS:
        raw = view.form.get(name).strip()
        if not raw:
            continue
        if not (raw.isascii() and raw.isdigit() and len(raw) < 6):
            return _page(view, error=Problem("Check the form", "InvalidInput", f"{label}: enter a whole number."),
                         status=400, typed={**params, member: raw})
        params[member] = int(raw)
    try:
        view.iam("UpdateAccountPasswordPolicy", **params)
    except AwsError as e:
        return _page(view, error=e, status=e.http_status if e.http_status < 500 else 500, typed=params)
    return view.redirect(ACCOUNT, flash="Password policy saved.")


def _delete_policy(view: View) -> Response:
    view.iam("DeleteAccountPasswordPolicy")
    return view.redirect(ACCOUNT, flash="Password policy deleted: AWS's defaults apply.")


def _create_alias(view: View) -> Response:
    alias = view.form.get("account_alias").strip()
    try:
        view.iam("CreateAccountAlias", AccountAlias=alias)
    except AwsError as e:
        return _page(view, error=e, status=e.http_status if e.http_status < 500 else 500)
    return view.redirect(ACCOUNT, flash=f"The account alias is now {alias}.")


def _delete_alias(view: View) -> Response:
    view.iam("DeleteAccountAlias", AccountAlias=view.form.get("account_alias"))
    return view.redirect(ACCOUNT, flash="Account alias deleted.")


def _generate_report(view: View) -> Response:
    answer = view.iam("GenerateCredentialReport")
    if answer.get("State") == "COMPLETE":
        message = "A credential report less than four hours old is ready to download."
    else:
        message = "A new credential report was generated; download it below."
    return view.redirect(ACCOUNT + "#credential-report", flash=message)


def _download_report(view: View) -> Response:
    try:
        report = view.iam("GetCredentialReport")
    except AwsError as e:
        return _page(view, error=e, status=e.http_status if e.http_status < 500 else 500)
    content = report.get("Content") or b""
    body = content if isinstance(content, bytes) else str(content).encode()
    return Response(body, media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": 'attachment; filename="credential-report.csv"'})


def routes(console: Console) -> list[BaseRoute]:
    page = console.page
    return [page(ACCOUNT)(lambda view: _page(view)),
            page(ACCOUNT + "/password-policy", methods=["POST"])(_update_policy),
            page(ACCOUNT + "/password-policy/delete", methods=["POST"])(_delete_policy),
            page(ACCOUNT + "/alias", methods=["POST"])(_create_alias),
            page(ACCOUNT + "/alias/delete", methods=["POST"])(_delete_alias),
            page(ACCOUNT + "/credential-report", methods=["POST"])(_generate_report),
            page(ACCOUNT + "/credential-report.csv")(_download_report)]
