"""The sign-in endpoint: `GET /signin` (a form token), `POST /signin` (JSON or form fields),
`GET /signin/session` and `POST /signout`.

Thin on purpose: read the fields, call the sign-in service, set or clear the session cookie. The cookie is
HttpOnly, SameSite=Lax, Secure when the request came over HTTPS, and lives no longer than the session it carries.
Sign-out also revokes the session server-side (clearing the cookie alone would leave a copied cookie, or the
temporary credentials `gatehouse login` took from it, valid until expiry). Session checks and sign-out touch the
database, so they run on a worker thread, as sign-in does. Answers are JSON: 200 with who signed in, or an error
status with {"code", "message"}.

Cross-site posts (a hostile page signing a browser in to the attacker's account) are refused before any check, by
one rule (`_cross_site_refusal`):
- an `Origin` naming another origin than this server's (the request's own scheme and Host, or `--public-url`) is
  refused, whatever the body; without `Origin`, the same holds for `Referer`;
- a same-origin `Origin` (or `Referer`) is enough;
- otherwise (no `Origin`/`Referer`, or `Origin: null`) a JSON body is taken: a browser cannot send
  `application/json` to another site without a CORS preflight, which this server never grants, so only non-browser
  clients (`gatehouse login`, scripts) send one. Any other body is what an HTML form can send cross-site, and needs
  the `csrf_token` field matching the cookie `GET /signin` set (`services/signin_csrf.py`).
The console (`console/`) signs in through its own form at `/console/signin`: the same service, cookie and token signer.
"""

from __future__ import annotations

import json
import time
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from gatehouse.services.signin import ConsoleSession, Signin, SigninFailed, SigninRequest
from gatehouse.services.signin_csrf import LIFETIME, SigninCsrf

COOKIE = "gatehouse-session"
CSRF_COOKIE, CSRF_COOKIE_HTTPS = "gatehouse-signin-csrf", "__Host-gatehouse-signin-csrf"  # no subdomain can set it
CSRF_FIELD = "csrf_token"
MAX_FORM = 64 * 1024
_FIELDS = ("account", "username", "password", "email", "mfa_code", "new_password", "credentials", CSRF_FIELD)
_DEFAULT_PORTS = {"http": "80", "https": "443"}


async def _body(request: Request, limit: int) -> bytes:
    """The request body, read only up to `limit` bytes: an unauthenticated client must not make the server buffer
    whatever it sends (`Request.body()` reads everything before anyone can look at its size)."""
    too_large = SigninFailed("BadRequest", "The request is too large.", status=413)
    declared = request.headers.get("content-length", "")
    if declared.isascii() and declared.isdigit() and (len(declared) > 18 or int(declared) > limit):
        raise too_large
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise too_large
        chunks.append(chunk)
    return b"".join(chunks)


def _is_json(request: Request) -> bool:
    return request.headers.get("content-type", "").split(";")[0].strip().lower() == "application/json"


def _origin(url: str) -> str | None:
    """`scheme://host[:port]` of a URL, lower-cased and without the scheme's default port; None if it has none."""
    try:
        parts = urlsplit(url.strip())
        host, port = (parts.hostname or ""), parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS or not host:
        return None
    netloc = host if port is None or str(port) == _DEFAULT_PORTS[scheme] else f"{host}:{port}"
    return f"{scheme}://{netloc}"


def _cross_site_refusal(request: Request, fields: dict[str, str], csrf: SigninCsrf, public_url: str | None
                        ) -> SigninFailed | None:
    """Why a sign-in post must be refused as possibly cross-site (the rule is in the module docstring); None to go
    on."""
    ours = {_origin(f"{request.url.scheme}://{request.url.netloc}")}  # netloc: the Host header, as sent
    if public_url:
        ours.add(_origin(public_url))
    ours.discard(None)
    origin = request.headers.get("origin")
    claimed = origin if origin is not None else request.headers.get("referer")
    if claimed is not None and claimed.strip().lower() != "null":
        if _origin(claimed) in ours:
            return None
        return SigninFailed("CrossSiteRequest", "Sign-in requests from another site are refused.", status=403)
    if _is_json(request):
        return None
    cookie = request.cookies.get(CSRF_COOKIE_HTTPS if request.url.scheme == "https" else CSRF_COOKIE, "")
    if csrf.valid(cookie, fields.get(CSRF_FIELD, "")):
        return None
    return SigninFailed("CrossSiteRequest", f"The sign-in form needs its {CSRF_FIELD} (from GET /signin); get a "
                                            "new form and try again.", status=403)


async def _fields(request: Request) -> dict[str, str]:
    body = await _body(request, MAX_FORM)
    text = body.decode("utf-8", "replace")
    if _is_json(request):
        try:
            raw: Any = json.loads(text or "{}")
        except (ValueError, RecursionError):  # RecursionError: nested deeper than the interpreter's stack
            raise SigninFailed("BadRequest", "The body is not valid JSON.", status=400) from None
        if not isinstance(raw, dict):
            raise SigninFailed("BadRequest", "The body must be a JSON object.", status=400)
    else:
        raw = dict(parse_qsl(text, keep_blank_values=True))
    fields: dict[str, str] = {}
    for name in _FIELDS:
        value = raw.get(name)
        if isinstance(value, dict | list):  # str() of a deeply nested value could itself overflow the stack
            raise SigninFailed("BadRequest", f"The field {name} must be a string.", status=400)
        if value not in (None, ""):
            fields[name] = str(value)
            if not fields[name].isascii():
                try:  # JSON's "\ud800" escape gives a lone surrogate, which no database or hash can encode
                    fields[name].encode("utf-8")
                except UnicodeEncodeError:
                    raise SigninFailed("BadRequest", f"The field {name} is not valid text.", status=400) from None
    return fields


def _error(failure: SigninFailed) -> JSONResponse:
    headers = {"Retry-After": str(failure.retry_after)} if failure.retry_after else None
    return JSONResponse({"code": failure.code, "message": failure.message}, status_code=failure.status,
                        headers=headers)


def _signed_in(session: ConsoleSession, secure: bool, credentials: dict[str, str] | None = None) -> JSONResponse:
    body: dict[str, Any] = {"account": session.account_id, "arn": session.arn, "mfa": session.mfa,
                            "expires": session.expires.isoformat()}
    if credentials:
        body["credentials"] = credentials
    response = JSONResponse(body, headers={"Cache-Control": "no-store"})
    max_age = max(0, int(session.expires.timestamp() - time.time()))
    response.set_cookie(COOKIE, session.token, max_age=max_age, path="/", secure=secure, httponly=True,
                        samesite="lax")
    return response


def signin_routes(signin: Signin, csrf: SigninCsrf, public_url: str | None = None) -> list[Route]:
    async def form(request: Request) -> Response:
        """A sign-in form's token, with its cookie: what a page posting a form to /signin carries."""
        nonce, token = csrf.issue()
        response = JSONResponse({CSRF_FIELD: token}, headers={"Cache-Control": "no-store"})
        secure = request.url.scheme == "https"
        response.set_cookie(CSRF_COOKIE_HTTPS if secure else CSRF_COOKIE, nonce, max_age=LIFETIME, path="/",
                            secure=secure, httponly=True, samesite="strict")
        return response

    async def sign_in(request: Request) -> Response:
        try:
            fields = await _fields(request)
            refusal = _cross_site_refusal(request, fields, csrf, public_url)
            if refusal is not None:
                raise refusal
            fields.pop(CSRF_FIELD, None)
            password = fields.pop("password", "")
            want_credentials = fields.pop("credentials", "").lower() in ("1", "true", "yes")
            attempt = SigninRequest(password=password, source_ip=request.client.host if request.client else "",
                                    user_agent=request.headers.get("user-agent", "")[:256], **fields)
            session = await run_in_threadpool(signin.sign_in, attempt)
        except SigninFailed as failure:
            return _error(failure)
        # `gatehouse login` asks for the session's temporary credentials themselves (as GetSessionToken gives).
        credentials = signin.credentials(session) if want_credentials else None
        return _signed_in(session, request.url.scheme == "https", credentials)

    async def current(request: Request) -> Response:
        claims = await run_in_threadpool(signin.open_session, request.cookies.get(COOKIE, ""))
        if claims is None:
            return JSONResponse({"code": "NoSession", "message": "Not signed in."}, status_code=401)
        return JSONResponse({"account": claims.account_id, "user_id": claims.principal_id, "mfa": claims.mfa,
                             "mfa_time": claims.mfa_time, "expires": claims.expires_at.isoformat()})

    async def sign_out(request: Request) -> Response:
        await run_in_threadpool(signin.sign_out, request.cookies.get(COOKIE, ""))
        response = JSONResponse({"signed_out": True})
        response.delete_cookie(COOKIE, path="/", secure=request.url.scheme == "https", httponly=True,
                               samesite="lax")
        return response

    return [Route("/signin", sign_in, methods=["POST"]), Route("/signin", form, methods=["GET"]),
            Route("/signin/session", current, methods=["GET"]),
            Route("/signout", sign_out, methods=["POST"])]
