"""The sign-in endpoint: `POST /signin` (JSON or form fields), `GET /signin/session` and `POST /signout`.

Thin on purpose: read the fields, call the sign-in service, set or clear the session cookie. The cookie is
HttpOnly, SameSite=Lax, Secure when the request came over HTTPS, and lives no longer than the session it carries.
Sign-out also revokes the session server-side (clearing the cookie alone would leave a copied cookie, or the
temporary credentials `gatehouse login` took from it, valid until expiry). Session checks and sign-out touch the
database, so they run on a worker thread, as sign-in does. Answers are JSON: 200 with who signed in, or an error
status with {"code", "message"}.
"""

from __future__ import annotations

import json
import time
from typing import Any
from urllib.parse import parse_qsl

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from gatehouse.services.signin import ConsoleSession, Signin, SigninFailed, SigninRequest

COOKIE = "gatehouse-session"
MAX_FORM = 64 * 1024
_FIELDS = ("account", "username", "password", "email", "mfa_code", "new_password", "credentials")


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


async def _fields(request: Request) -> dict[str, str]:
    body = await _body(request, MAX_FORM)
    text = body.decode("utf-8", "replace")
    if request.headers.get("content-type", "").split(";")[0].strip().lower() == "application/json":
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


def signin_routes(signin: Signin) -> list[Route]:
    async def sign_in(request: Request) -> Response:
        try:
            fields = await _fields(request)
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

    return [Route("/signin", sign_in, methods=["POST"]), Route("/signin/session", current, methods=["GET"]),
            Route("/signout", sign_out, methods=["POST"])]
