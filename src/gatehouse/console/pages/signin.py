"""Signing in and out: the IAM user form (account, user name, password), the root form (email, password), then
a forced password change and the MFA code when the sign-in service asks for them; sign-out revokes the session.

The sign-in service decides everything (lockout, throttling, expiry, MFA); this module only carries the answers
between its steps (`session.PendingSignin`, sealed in a short-lived cookie) and sets the session cookie
`POST /signin` sets.
"""

from __future__ import annotations

import time
import urllib.parse

from starlette.responses import Response
from starlette.routing import BaseRoute

from gatehouse.services.signin import SigninFailed, SigninRequest

from ..session import COOKIE, PENDING_COOKIE, PENDING_SECONDS, PendingSignin, open_pending, seal_pending
from ..web import BASE, Console, Problem, View

_TITLES = {"LockedOut": "Sign-in is locked", "Throttled": "Too many attempts", "InvalidMfaCode": "Wrong MFA code",
           "PasswordExpired": "Password expired", "PasswordPolicyViolation": "Password not accepted"}


def safe_next(value: str) -> str:
    """Where to go after signing in: a console path only (never another site, never `//host`)."""
    path = urllib.parse.unquote(value or "")
    if not path.startswith(BASE) or path.startswith("//") or "\\" in path or any(c < " " for c in path):
        return BASE
    return path


def form(view: View, *, step: str = "password", failure: SigninFailed | None = None, status: int = 200,
         account: str = "", username: str = "", email: str = "") -> Response:
    problem = Problem(_TITLES.get(failure.code, "Sign-in failed"), failure.code, failure.message) if failure else None
    nxt = safe_next(view.form.get("next") or view.query.get("next", ""))
    return view.render("signin.html", status=status, error=problem, step=step, next=nxt, account=account,
                       username=username, email=email, title="Sign in")


def _keep(view: View, pending: PendingSignin) -> None:
    value = seal_pending(view.console.deps.box, pending, time.time())
    view.set_cookie(lambda r: r.set_cookie(PENDING_COOKIE, value, max_age=PENDING_SECONDS, path=BASE + "/signin",
                                           secure=view.secure, httponly=True, samesite="strict"))


def _drop(view: View) -> None:
    view.set_cookie(lambda r: r.delete_cookie(PENDING_COOKIE, path=BASE + "/signin", secure=view.secure,
                                              httponly=True, samesite="strict"))


def attempt(view: View, pending: PendingSignin, mfa_code: str | None = None) -> Response:
    """One try of the sign-in service with every answer given so far; the next step, or the session."""
    client = view.request.client
    request = SigninRequest(password=pending.password, account=pending.account, username=pending.username,
                            email=pending.email, mfa_code=mfa_code, new_password=pending.new_password,
                            source_ip=client.host if client else "",
                            user_agent=view.request.headers.get("user-agent", "")[:256])
    try:
        session = view.console.deps.signin.sign_in(request)
    except SigninFailed as failure:
        retry = {"account": pending.account or "", "username": pending.username or "", "email": pending.email or ""}
        if failure.code == "MfaRequired":
            _keep(view, pending)
            return form(view, step="mfa")
        if failure.code == "InvalidMfaCode":
            _keep(view, pending)
            return form(view, step="mfa", failure=failure, status=401)
        if failure.code == "PasswordExpired" and pending.new_password is None:
            _keep(view, pending)
            return form(view, step="new_password", failure=failure if "administrator" in failure.message else None)
        if failure.code == "PasswordPolicyViolation" or (failure.code == "BadRequest" and pending.new_password):
            _keep(view, PendingSignin(pending.password, pending.account, pending.username, pending.email))
            return form(view, step="new_password", failure=failure, status=400)
        _drop(view)
        return form(view, failure=failure, status=failure.status, **retry)
    _drop(view)
    max_age = max(0, int(session.expires.timestamp() - time.time()))
    token = session.token
    view.set_cookie(lambda r: r.set_cookie(COOKIE, token, max_age=max_age, path="/", secure=view.secure,
                                           httponly=True, samesite="lax"))
    return view.redirect(safe_next(view.form.get("next")))


def routes(console: Console) -> list[BaseRoute]:
    @console.page(BASE + "/signin", signed_in=False)
    def signin_page(view: View) -> Response:
        if view.caller is not None:
            return view.redirect(safe_next(view.query.get("next", "")))
        return form(view)

    @console.page(BASE + "/signin", methods=["POST"], signed_in=False)
    def signin_post(view: View) -> Response:
        f = view.form
        password = f.get("password")
        email = f.optional("email")
        if email:
            pending = PendingSignin(password=password, email=email)
        else:
            pending = PendingSignin(password=password, account=f.get("account").strip() or None,
                                    username=f.get("username").strip() or None)
        return attempt(view, pending)

    @console.page(BASE + "/signin/mfa", methods=["POST"], signed_in=False)
    def signin_mfa(view: View) -> Response:
        pending = open_pending(view.console.deps.box, view.request.cookies.get(PENDING_COOKIE, ""), time.time())
        if pending is None:
            return form(view, failure=SigninFailed("SigninExpired", "The sign-in took too long: start again."),
                        status=401)
        return attempt(view, pending, view.form.get("mfa_code").strip() or None)

    @console.page(BASE + "/signin/password", methods=["POST"], signed_in=False)
    def signin_new_password(view: View) -> Response:
        pending = open_pending(view.console.deps.box, view.request.cookies.get(PENDING_COOKIE, ""), time.time())
        if pending is None:
            return form(view, failure=SigninFailed("SigninExpired", "The sign-in took too long: start again."),
                        status=401)
        new, confirm = view.form.get("new_password"), view.form.get("confirm_password")
        if not new or new != confirm:
            _keep(view, pending)
            return form(view, step="new_password", status=400, failure=SigninFailed(
                "PasswordMismatch", "The new password and its confirmation differ.", status=400))
        return attempt(view, PendingSignin(pending.password, pending.account, pending.username, pending.email,
                                           new_password=new))

    # signed_in: once the session has ended, signing out is just the sign-in page (no token to check)
    @console.page(BASE + "/signout", methods=["POST"])
    def signout(view: View) -> Response:
        token = view.request.cookies.get(COOKIE, "")
        if token:
            view.console.deps.signin.sign_out(token)
        view.set_cookie(lambda r: r.delete_cookie(COOKIE, path="/", secure=view.secure, httponly=True,
                                                  samesite="lax"))
        return view.redirect(BASE + "/signin", flash="You have signed out.")

    return [signin_page, signin_post, signin_mfa, signin_new_password, signout]
