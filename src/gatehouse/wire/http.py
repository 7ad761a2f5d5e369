"""The HTTP face of the AWS API: one endpoint for every Query-protocol service, routed by the SigV4 credential
scope's service and the `Action` parameter.

Order per request: parse the signature claims, resolve the key, verify the signature (so nothing is read or
changed for an unauthenticated request), find the operation, parse and validate its input against the botocore
model, call the use case, render. Every failure becomes an AWS error response here and only here; an unexpected
exception is logged server-side and answered with `InternalFailure`, never a stack trace.
"""

from __future__ import annotations

import logging
import math
import threading
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import Enum
from typing import Any
from urllib.parse import parse_qsl

import anyio
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route as HttpRoute
from starlette.types import Receive, Scope, Send

from gatehouse.errors import (
    AwsError,
    InternalFailure,
    MissingAction,
    MissingAuthenticationToken,
    NotFound,
    PayloadTooLarge,
    RequestTimeout,
    SignatureDoesNotMatch,
)
from gatehouse.model import RequestMeta
from gatehouse.services.authentication import Authenticator, Credential
from gatehouse.services.authorization import Authorizer
from gatehouse.wire.constraints import InputValidator
from gatehouse.wire.dispatch import Router
from gatehouse.wire.limits import Executor, Throttle, claimed_caller
from gatehouse.wire.query import QueryProtocol
from gatehouse.wire.sigv4 import SigV4Params, SigV4Verifier, parse_request_auth

log = logging.getLogger("gatehouse.wire")

MAX_BODY = 2 * 1024 * 1024  # the largest IAM input (a 128 KiB policy document, URL-encoded) fits with room
# Unsigned requests (AssumeRoleWithSAML, AssumeRoleWithWebIdentity) come from anyone, so they get a tighter bound
# before any parsing: their largest input is a 100,000-character SAML assertion plus a 2,048-character session
# policy and ten policy ARNs, well under this even fully percent-encoded.
MAX_UNSIGNED_BODY = 256 * 1024


class Checks(Enum):
    """How much of the usual checking a request gets; anything but FULL exists only in development mode."""

    FULL = "full"
    NO_POLICIES = "no-policies"  # --no-enforce: callers still identified by their signature; no clock, no policies
    NONE = "none"  # the auth switch's budget: identified if the signature holds, else the development root


class AuthSwitch:
    """Moto's server-mode auth switch, for test suites written against moto (development mode only):
    `POST /moto-api/reset-auth` with a number N (or `inf`) lets the next N requests through without authentication
    or authorization; every later one is checked. `inf` is --no-enforce."""

    def __init__(self, account_id: str, *, enforce: bool) -> None:
        self.account_id = account_id
        self._setting: float = 0 if enforce else math.inf
        self._left: float = self._setting
        self._lock = threading.Lock()

    def take(self) -> Checks:
        with self._lock:
            if self._left == math.inf:
                return Checks.NO_POLICIES
            if self._left > 0:
                self._left -= 1
                return Checks.NONE
            return Checks.FULL

    def reset(self, text: str) -> str:
        """Set the budget; return the previous setting as moto prints it ("0", "4", "inf")."""
        value = float(text.strip())
        if math.isnan(value) or value < 0 or (value != math.inf and value != int(value)):
            raise ValueError(text)
        with self._lock:
            previous, self._setting, self._left = self._setting, value, value
        return "inf" if previous == math.inf else str(int(previous))


@dataclass(frozen=True)
class WireConfig:
    enforce_clock: bool = True
    max_body: int = MAX_BODY
    max_unsigned_body: int = MAX_UNSIGNED_BODY


class AwsEndpoint:
    """Handles one AWS API request end to end (synchronously: it runs in a worker thread)."""

    def __init__(self, router: Router, authenticator: Authenticator, config: WireConfig,
                 clock: Callable[[], datetime], switch: AuthSwitch | None = None,
                 throttle: Throttle | None = None) -> None:
        self.router = router
        self.throttle = throttle
        self.switch = switch
        self.models = router.models
        self.authenticator = authenticator
        self.config = config
        self.clock = clock
        self.verifier = SigV4Verifier()
        self.query = QueryProtocol()
        self.validator = InputValidator()

    def handle(self, method: str, path: str, query_string: str, headers: Mapping[str, str], body: bytes,
               client_ip: str, secure: bool) -> tuple[int, bytes]:
        request_id = str(uuid.uuid4())
        namespace: str | None = None
        try:
            try:
                claims = parse_request_auth(method, path, query_string, headers)
            except MissingAuthenticationToken:
                return self._unsigned(request_id, query_string, body, headers, client_ip, secure)
            info = self.models.get(claims.service)
            if info is not None:
                namespace = info.xml_namespace
            checks = self.switch.take() if self.switch is not None else Checks.FULL
            now = self.clock()
            credential: Credential | None = None
            try:
                credential = self.authenticator.resolve(claims.access_key_id, claims.security_token)
                self._verify(claims, method, path, query_string, headers, body, credential.secret, now,
                             check_skew=self.config.enforce_clock and checks is Checks.FULL)
            except AwsError:
                if checks is not Checks.NONE:
                    raise
                credential = None  # moto's switch: an unknown key or a bad signature is let through, as the root
            if credential is not None and self.throttle is not None:
                # After the signature holds, so nobody can spend another caller's tokens.
                self.throttle.admit(credential.access_key_id, credential.account_id)
            params = _form_params(query_string, b"" if claims.unsigned_payload else body)
            action = params.get("Action")
            if not action:
                raise MissingAction("Could not find operation for version") if info else NotFound(
                    f"The service {claims.service} is not served here.")
            route = self.router.route(claims.service, action, params.get("Version"))
            typed = self.query.parse_params(route.operation, params)
            self.validator.validate(route.operation, typed)
            meta = RequestMeta(request_id=request_id, region=claims.region, source_ip=client_ip,
                               user_agent=headers.get("user-agent", ""), secure_transport=secure, time=now,
                               host=headers.get("host", ""))
            if credential is None:
                assert self.switch is not None
                caller = self.authenticator.account_root(self.switch.account_id, meta)
            else:
                caller = self.authenticator.caller(credential, meta)
                self.authenticator.admit(caller, claims.service, action)
            if checks is Checks.FULL:
                result = route.invoke(caller, typed)
            else:
                with Authorizer.unchecked():
                    result = route.invoke(caller, typed)
            if credential is not None:
                self.authenticator.record_use(credential, claims.region, claims.service)
            return 200, self.query.serialize_result(route.operation, result, request_id, namespace)
        except AwsError as error:
            return self.query.serialize_error(error, request_id, namespace)
        except Exception:
            log.exception("internal error handling request %s", request_id)
            return self.query.serialize_error(
                InternalFailure("The request processing has failed because of an unknown error, exception or "
                                "failure."), request_id, namespace)

    def _unsigned(self, request_id: str, query_string: str, body: bytes, headers: Mapping[str, str],
                  client_ip: str, secure: bool) -> tuple[int, bytes]:
        """Operations the model marks as needing no authentication (AssumeRoleWithWebIdentity, AssumeRoleWithSAML:
        the token or assertion is the credential). With no credential scope, the API version names the service."""
        if len(body) + len(query_string) > self.config.max_unsigned_body:
            raise PayloadTooLarge("Request body is too large.")
        params = _form_params(query_string, body)
        found = self.router.unauthenticated(params.get("Action", ""), params.get("Version", ""))
        if found is None:
            raise MissingAuthenticationToken()
        namespace = self.models.xml_namespace(found.service)
        try:
            typed = self.query.parse_params(found.operation, params)
            self.validator.validate(found.operation, typed)
            meta = RequestMeta(request_id=request_id, source_ip=client_ip, user_agent=headers.get("user-agent", ""),
                               secure_transport=secure, time=self.clock(), host=headers.get("host", ""))
            result = found.invoke(self.authenticator.anonymous(meta), typed)
            return 200, self.query.serialize_result(found.operation, result, request_id, namespace)
        except AwsError as error:
            return self.query.serialize_error(error, request_id, namespace)

    def _verify(self, claims: SigV4Params, method: str, path: str, query_string: str, headers: Mapping[str, str],
                body: bytes, secret: str, now: datetime, *, check_skew: bool) -> None:
        try:
            self.verifier.verify(claims, method, path, query_string, headers, body, secret, now,
                                 check_skew=check_skew)
        except SignatureDoesNotMatch:
            # SDKs presign Query operations with their modeled method (POST), and clients open the URL with GET
            # (STS accepts that). Everything is in the query string, so GET and POST mean the same request.
            if not (claims.is_presigned and not body and method in ("GET", "POST")):
                raise
            other = "POST" if method == "GET" else "GET"
            self.verifier.verify(claims, other, path, query_string, headers, body, secret, now,
                                 check_skew=check_skew)


def _form_params(query_string: str, body: bytes) -> dict[str, str]:
    """Query parameters (minus a presigned request's signature parameters), then the form body."""
    params = {k: v for k, v in parse_qsl(query_string, keep_blank_values=True) if not k.startswith("X-Amz-")}
    if body:
        params.update(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))
    return params


class AwsAsgi:
    """The AWS endpoint as a bare ASGI callable in front of the Starlette app that serves every other path.

    `POST /` and `GET /` carry the AWS API: no framework objects; the handler runs in the `Executor`'s bounded
    worker threads (never on the event loop, whatever the database), so one caller's expensive request cannot
    stall the others and one caller cannot hold every thread. The body must arrive within `body_timeout` seconds.
    """

    def __init__(self, endpoint: AwsEndpoint, rest: Starlette, *, executor: Executor | None = None,
                 body_timeout: float = 30.0) -> None:
        self.endpoint = endpoint
        self.rest = rest
        self.executor = executor or Executor()
        self.body_timeout = body_timeout

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] != "/" or scope["method"] not in ("GET", "POST"):
            await self.rest(scope, receive, send)
            return
        body: bytes | None = None
        try:
            with anyio.move_on_after(self.body_timeout):
                body = await _read_body(scope, receive, self.endpoint.config.max_body)
            if body is None:
                raise RequestTimeout("Your socket connection to the server was not read from or written to within "
                                     "the timeout period.")
        except AwsError as error:
            status, payload = self.endpoint.query.serialize_error(error, str(uuid.uuid4()))
            await _respond(send, status, payload, close=True)
            return
        client = scope.get("client")
        address = client[0] if client else ""
        args = (scope["method"], scope.get("raw_path", b"/").decode("latin-1").split("?", 1)[0],
                scope.get("query_string", b"").decode("latin-1"), Headers(scope=scope), body,
                address, scope.get("scheme") == "https")
        caller = claimed_caller(scope.get("headers", ()), scope.get("query_string", b""), address)
        status, payload = await self.executor.run(caller, self.endpoint.handle, *args)
        await _respond(send, status, payload)


async def _respond(send: Send, status: int, payload: bytes, *, close: bool = False) -> None:
    headers = [(b"content-type", b"text/xml"), (b"content-length", str(len(payload)).encode())]
    if close:  # the request was not read to its end: the connection cannot carry another one
        headers.append((b"connection", b"close"))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": payload})


async def _read_body(scope: Scope, receive: Receive, limit: int) -> bytes:
    for name, value in scope.get("headers", ()):
        # Length first: int() refuses more than 4300 digits (a ValueError that would escape as a 500).
        if name == b"content-length" and value.isdigit() and (len(value) > 18 or int(value) > limit):
            raise PayloadTooLarge("Request body is too large.")
    chunks, size, more = [], 0, True
    while more:
        message = await receive()
        if message["type"] == "http.disconnect":
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise PayloadTooLarge("Request body is too large.")
        chunks.append(chunk)
        more = message.get("more_body", False)
    return b"".join(chunks)


def build_app(endpoint: AwsEndpoint, *, reset: Callable[[], None] | None = None,
              extra_routes: list[Any] | None = None, executor: Executor | None = None,
              body_timeout: float = 30.0) -> AwsAsgi:
    """The ASGI application. `reset` (development mode only) answers POST /_gatehouse/reset and /moto-api/reset;
    the endpoint's auth switch (development mode only) answers POST /moto-api/reset-auth."""
    routes: list[Any] = []
    if reset is not None:
        async def do_reset(request: Request) -> Response:
            await run_in_threadpool(reset)
            return JSONResponse({"reset": True, "at": datetime.now(UTC).isoformat()})

        routes += [HttpRoute("/_gatehouse/reset", do_reset, methods=["POST"]),
                   HttpRoute("/moto-api/reset", do_reset, methods=["POST"])]
    switch = endpoint.switch
    if switch is not None:
        async def reset_auth(request: Request) -> Response:
            body = await request.body()
            try:
                previous = switch.reset(body[:64].decode("ascii", "replace"))
            except ValueError:
                return JSONResponse({"status": "error", "message": "The body must be a number of requests or inf."},
                                    status_code=400)
            return JSONResponse({"status": "ok", "PREVIOUS_INITIAL_NO_AUTH_ACTION_COUNT": previous})

        routes.append(HttpRoute("/moto-api/reset-auth", reset_auth, methods=["POST"]))
    routes += extra_routes or []
    return AwsAsgi(endpoint, Starlette(routes=routes), executor=executor, body_timeout=body_timeout)
