"""The console's web plumbing: security headers with a per-request CSP nonce, CSRF tokens, bounded form reading,
templates, flash messages, and `Console.page`, which turns a page function into a route.

A page function is synchronous and runs on a worker thread (service calls touch the database). It receives a
`View`: the request, the signed-in `Caller`, the parsed form (its CSRF token already checked), and helpers to
call AWS operations as the caller (`view.iam("ListUsers", MaxItems=50)`), render a template inside the layout,
and redirect with a flash message. An `AwsError` a page lets escape is shown as the error page, with the engine's
reason for an AccessDenied ("Not authorized"): never a crash, never a stack trace.

CSRF: the browser holds a random nonce in an HttpOnly, SameSite=Strict cookie (`__Host-` prefixed over HTTPS);
every form carries a token that is an HMAC (`SigninCsrf`, the key derived from the master key) of the issue time,
the nonce and the signed-in session's access key id. A POST whose token does not match its cookie and session
(another site's form, a copied token, a form from before signing in or out) is refused with 403 before the page
runs, the sign-in form included.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import secrets
import urllib.parse
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jinja2
from markupsafe import Markup
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import QueryParams
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gatehouse.errors import AwsError
from gatehouse.model import Caller

from .deps import ConsoleDeps
from .session import COOKIE, BrowserFacts, caller_for

log = logging.getLogger("gatehouse.console")

BASE = "/console"
STATIC = BASE + "/static"
CSRF_FIELD = "csrf_token"
CSRF_COOKIE, CSRF_COOKIE_HTTPS = "gatehouse-console-csrf", "__Host-gatehouse-console-csrf"
FLASH_COOKIE = "gatehouse-console-flash"
MAX_FORM = 512 * 1024  # a policy document (at most 131,072 characters) URL-encoded, with room
_NONCE_COOKIE_SECONDS = 12 * 3600
_DENIED = frozenset({"AccessDenied", "AccessDeniedException", "UnauthorizedOperation"})
_HERE = Path(__file__).parent


def content_security_policy(nonce: str) -> str:
    return ("default-src 'self'; "
            f"script-src 'self' 'nonce-{nonce}'; style-src 'self'; img-src 'self' data:; object-src 'none'; "
            "frame-ancestors 'none'; base-uri 'none'; form-action 'self'")


class SecurityHeaders:
    """ASGI middleware: a CSP nonce per request (`scope["state"]["csp_nonce"]`) and the security headers on every
    answer; pages (everything but static assets) are never cached."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        nonce = secrets.token_urlsafe(18)
        scope.setdefault("state", {})["csp_nonce"] = nonce
        static = scope.get("path", "").startswith(STATIC + "/")

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [(k, v) for k, v in message.get("headers", [])
                           if k.lower() not in (b"cache-control", b"content-security-policy")] if not static \
                    else list(message.get("headers", []))
                headers += [(b"content-security-policy", content_security_policy(nonce).encode()),
                            (b"x-frame-options", b"DENY"), (b"x-content-type-options", b"nosniff"),
                            (b"referrer-policy", b"no-referrer"),
                            (b"cross-origin-opener-policy", b"same-origin")]
                if not static:
                    headers.append((b"cache-control", b"no-store"))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)


class FormTooLarge(Exception):
    pass


@dataclass(frozen=True)
class Form:
    """A posted form (application/x-www-form-urlencoded): every value of every field, as text."""

    values: Mapping[str, list[str]] = field(default_factory=dict)

    def get(self, name: str, default: str = "") -> str:
        found = self.values.get(name)
        return found[0] if found else default

    def getlist(self, name: str) -> list[str]:
        return list(self.values.get(name, []))

    def optional(self, name: str) -> str | None:
        """The field's value stripped, or None when it is absent or blank (an AWS parameter left out)."""
        value = self.get(name).strip()
        return value or None

    def __contains__(self, name: object) -> bool:
        return name in self.values


async def read_form(request: Request, limit: int = MAX_FORM) -> Form:
    declared = request.headers.get("content-length", "")
    if declared.isascii() and declared.isdigit() and (len(declared) > 18 or int(declared) > limit):
        raise FormTooLarge()
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise FormTooLarge()
        chunks.append(chunk)
    text = b"".join(chunks).decode("utf-8", "replace")
    values: dict[str, list[str]] = {}
    for name, value in urllib.parse.parse_qsl(text, keep_blank_values=True, max_num_fields=2000):
        # A NUL reaches no AWS parameter (the API refuses it) and no database: drop it here.
        values.setdefault(name, []).append(value.replace("\x00", ""))
    return Form(values)


@dataclass(frozen=True)
class Problem:
    """An error as the page shows it: a heading, the AWS error code, and its message (the engine's reason for a
    denial)."""

    title: str
    code: str
    message: str

    @property
    def denied(self) -> bool:
        return self.code in _DENIED

    @staticmethod
    def of(error: AwsError) -> Problem:
        if error.code in _DENIED:
            title = "Not authorized"
        elif error.code.startswith("NoSuch") or error.code == "NotFound":
            title = "Not found"
        else:
            title = "The request was refused"
        return Problem(title, error.code, error.message or error.code)


@dataclass(frozen=True)
class Outcome:
    """A call's result, or why it was refused (`Problem`): for sections of a page shown or explained one by one."""

    result: dict[str, Any] | None
    problem: Problem | None

    @property
    def ok(self) -> bool:
        return self.problem is None


def _format_time(value: object) -> str:
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    return "" if value is None else str(value)


def _age_days(value: object, now: dt.datetime | None = None) -> int | None:
    if not isinstance(value, dt.datetime):
        return None
    return max(0, ((now or dt.datetime.now(dt.UTC)) - value).days)


def templates() -> jinja2.Environment:
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(_HERE / "templates"),
                             autoescape=True, trim_blocks=True, lstrip_blocks=True,
                             undefined=jinja2.ChainableUndefined)
    env.filters["when"] = _format_time
    env.filters["age_days"] = _age_days
    env.filters["pretty_json"] = _pretty_json
    env.filters["pairs"] = lambda values: [(str(v), str(v)) for v in values]  # options whose value is their text
    env.globals["BASE"] = BASE
    env.globals["STATIC"] = STATIC
    return env


def _pretty_json(text: object) -> str:
    if not isinstance(text, str):
        return json.dumps(text, indent=2, default=str)
    try:
        return json.dumps(json.loads(text), indent=2)
    except ValueError:
        return text


class View:
    """One request to one page, as the page function sees it."""

    def __init__(self, console: Console, request: Request, caller: Caller | None, form: Form, nonce_cookie: str,
                 new_nonce: bool) -> None:
        self.console = console
        self.request = request
        self.caller = caller
        self.form = form
        self.params: Mapping[str, Any] = request.path_params
        self.query: QueryParams = request.query_params
        self._nonce_cookie = nonce_cookie
        self._new_nonce = new_nonce
        self._cookies: list[Callable[[Response], None]] = []
        self._flash = urllib.parse.unquote(request.cookies.get(FLASH_COOKIE, ""))[:500]

    # --- acting as the caller ---------------------------------------------------------------------------------

    def call(self, service: str, action: str, params: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """An AWS operation as the signed-in principal (validated, authorized and recorded as over the API)."""
        if self.caller is None:
            raise RuntimeError("a page that calls operations must be signed_in")
        clean = {k: v for k, v in (params or {}).items() if v is not None}
        return self.console.deps.invoke(self.caller, service, action, clean)

    def iam(self, action: str, **params: Any) -> dict[str, Any]:
        return self.call("iam", action, params)

    def attempt(self, action: str, **params: Any) -> Outcome:
        """An IAM operation whose refusal the page shows in place (a section the caller may not read) instead of
        as the whole page's error."""
        try:
            return Outcome(self.iam(action, **params), None)
        except AwsError as error:
            return Outcome(None, Problem.of(error))

    def all_pages(self, action: str, key: str, **params: Any) -> list[Any]:
        """Every item of a paged IAM list (Marker/IsTruncated), each page read (and authorized) as the caller."""
        items: list[Any] = []
        for _ in range(1000):
            page = self.iam(action, **params)
            items.extend(page.get(key) or [])
            if not page.get("IsTruncated") or not page.get("Marker"):
                break
            params["Marker"] = page["Marker"]
        return items

    # --- answering ---------------------------------------------------------------------------------------------

    @property
    def secure(self) -> bool:
        return self.request.url.scheme == "https"

    @property
    def csrf_token(self) -> str:
        return self.console.csrf_token(self._nonce_cookie, self.caller)

    def render(self, template: str, *, status: int = 200, error: AwsError | Problem | None = None,
               **context: Any) -> Response:
        """`template` inside the layout. `error` (an AwsError the page caught, or a Problem) shows in the layout's
        alert: "Not authorized" with the engine's reason for a denial."""
        problem = Problem.of(error) if isinstance(error, AwsError) else error
        token = self.csrf_token
        page = self.console.env.get_template(template).render(
            request=self.request, caller=self.caller, csp_nonce=self.request.state.csp_nonce,
            csrf_token=token, csrf_input=Markup('<input type="hidden" name="{}" value="{}">').format(CSRF_FIELD,
                                                                                                   token),
            flash=self._take_flash(), error=problem, path=self.request.url.path, **context)
        return HTMLResponse(page, status_code=status)

    def redirect(self, path: str, flash: str | None = None) -> Response:
        """Post/redirect/get: 303 to `path` (a console path), with a message the next page shows once."""
        if not path.startswith(BASE) or path.startswith("//"):
            path = BASE
        if flash:
            message = urllib.parse.quote(flash[:500])
            self._cookies.append(lambda r: r.set_cookie(FLASH_COOKIE, message, max_age=60, path=BASE,
                                                        secure=self.secure, httponly=True, samesite="strict"))
        return RedirectResponse(path, status_code=303)

    def set_cookie(self, apply: Callable[[Response], None]) -> None:
        self._cookies.append(apply)

    def _take_flash(self) -> str:
        if not self._flash:
            return ""
        flash, self._flash = self._flash, ""
        self._cookies.append(lambda r: r.delete_cookie(FLASH_COOKIE, path=BASE, secure=self.secure, httponly=True,
                                                       samesite="strict"))
        return flash

    def finish(self, response: Response) -> Response:
        if self._new_nonce:
            name = CSRF_COOKIE_HTTPS if self.secure else CSRF_COOKIE
            response.set_cookie(name, self._nonce_cookie, max_age=_NONCE_COOKIE_SECONDS, path="/",
                                secure=self.secure, httponly=True, samesite="strict")
        for apply in self._cookies:
            apply(response)
        return response


Page = Callable[[View], Response]


class Console:
    """The console's shared parts: its dependencies, templates and CSRF signer; `page` makes routes."""

    def __init__(self, deps: ConsoleDeps) -> None:
        self.deps = deps
        self.env = templates()

    def csrf_token(self, nonce: str, caller: Caller | None) -> str:
        return self.deps.csrf.token_for(self._binding(nonce, caller))

    def csrf_valid(self, nonce: str, caller: Caller | None, token: str) -> bool:
        return bool(nonce) and self.deps.csrf.valid(self._binding(nonce, caller), token)

    @staticmethod
    def _binding(nonce: str, caller: Caller | None) -> str:
        return f"console|{nonce}|{caller.access_key_id if caller else ''}"

    def page(self, path: str, methods: Iterable[str] = ("GET",), *, signed_in: bool = True
             ) -> Callable[[Page], Route]:
        """A decorator: `@console.page("/console/users")` over `def users(view: View) -> Response`. A signed-in
        page sends a browser without a session to the sign-in page; every POST's CSRF token is checked first."""
        def decorate(function: Page) -> Route:
            async def endpoint(request: Request) -> Response:
                return await self.handle(request, function, signed_in)
            endpoint.__name__ = function.__name__
            return Route(path, endpoint, methods=list(methods))
        return decorate

    async def handle(self, request: Request, function: Page, signed_in: bool) -> Response:
        form = Form()
        posted = request.method == "POST"
        if posted:
            try:
                form = await read_form(request)
            except FormTooLarge:
                return await run_in_threadpool(self._bare, request, "The form is too large.", 413)
        return await run_in_threadpool(self._serve, request, function, signed_in, form, posted)

    def _serve(self, request: Request, function: Page, signed_in: bool, form: Form, posted: bool) -> Response:
        client = request.client
        facts = BrowserFacts(source_ip=client.host if client else "", user_agent=request.headers.get("user-agent",
                                                                                                  "")[:256],
                             secure=request.url.scheme == "https", host=request.headers.get("host", ""))
        caller = caller_for(self.deps, request.cookies.get(COOKIE, ""), facts)
        view = self.view(request, caller, form)
        if signed_in and caller is None:  # first: a form posted after the session ended changes nothing anyway
            had_session = bool(request.cookies.get(COOKIE))
            target = request.url.path if request.method == "GET" else BASE
            return view.finish(view.redirect(f"{BASE}/signin?next={urllib.parse.quote(target)}",
                                             flash="Your session has ended: sign in again." if had_session else None))
        if posted and not self.csrf_valid(view._nonce_cookie if not view._new_nonce else "", caller,
                                          form.get(CSRF_FIELD)):
            return view.finish(view.render("refused.html", status=403))
        try:
            response = function(view)
        except AwsError as error:
            response = view.render("error.html", status=error.http_status if error.http_status < 500 else 500,
                                   error=error)
        except Exception:
            log.exception("console page %s failed", request.url.path)
            response = view.render("error.html", status=500, error=Problem(
                "Something went wrong", "InternalFailure", "The page could not be shown; the server log has the "
                                                           "details."))
        return view.finish(response)

    def view(self, request: Request, caller: Caller | None, form: Form) -> View:
        name = CSRF_COOKIE_HTTPS if request.url.scheme == "https" else CSRF_COOKIE
        nonce = request.cookies.get(name, "")
        new = not (16 <= len(nonce) <= 64 and nonce.isascii())
        return View(self, request, caller, form, secrets.token_urlsafe(18) if new else nonce, new)

    def _bare(self, request: Request, message: str, status: int) -> Response:
        view = self.view(request, None, Form())
        return view.finish(view.render("error.html", status=status, error=Problem("The request was refused",
                                                                                  "BadRequest", message)))

    def not_found(self, request: Request) -> Response:
        view = self.view(request, None, Form())
        return view.finish(view.render("error.html", status=404, error=Problem(
            "Not found", "NotFound", "There is no such page in the console.")))
