"""My security credentials: who is signed in (GetCallerIdentity's facts, from the session), changing one's own
password (ChangePassword: allowed by the account's password policy or by iam:ChangePassword), and a link to one's
own user page for keys and MFA when the caller may read it."""

from __future__ import annotations

from starlette.responses import Response
from starlette.routing import BaseRoute

from gatehouse.errors import AwsError
from gatehouse.model import PrincipalKind

from ..web import BASE, Console, Problem, View

ME = BASE + "/me"


def _page(view: View, *, error: AwsError | Problem | None = None, status: int = 200) -> Response:
    assert view.caller is not None
    user = view.attempt("GetUser") if view.caller.kind is PrincipalKind.USER else None
    return view.render("me.html", section="me", title="My security credentials", error=error, status=status,
                       user=user, is_user=view.caller.kind is PrincipalKind.USER,
                       session=view.caller.session)


def routes(console: Console) -> list[BaseRoute]:
    @console.page(ME)
    def me(view: View) -> Response:
        return _page(view)

    @console.page(ME + "/password", methods=["POST"])
    def change_password(view: View) -> Response:
        f = view.form
        if f.get("new_password") != f.get("confirm_password"):
            return _page(view, status=400, error=Problem("The request was refused", "PasswordMismatch",
                                                         "The new password and its confirmation differ."))
        try:
            view.iam("ChangePassword", OldPassword=f.get("old_password"), NewPassword=f.get("new_password"))
        except AwsError as error:
            return _page(view, error=error, status=error.http_status)
        return view.redirect(ME, flash="Your password has been changed.")

    return [me, change_password]
