"""The HTTP face of the AWS API: one endpoint for every service, routed by the SigV4 credential scope's service and
the operation its protocol names (Query's `Action` parameter, JSON's `X-Amz-Target` header).

Order per request: parse the signature claims, resolve the key, verify the signature (so nothing is read or
changed for an unauthenticated request), find the operation, parse and validate its input against the botocore
model, call the use case, render. Every failure becomes an AWS error response here and only here; an unexpected
exception is logged server-side and answered with `InternalFailure`, never a stack trace. Every request, served
or refused, leaves through one exit that hands the recorder (the audit trail) one `ApiCall`.
"""

from __future__ import annotations

import logging
import math
import threading
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import Enum
from typing import Any, Protocol

import anyio
from botocore.model import OperationModel
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
from gatehouse.model import Caller, RequestMeta
from gatehouse.services.audit.calls import (
    ApiCall,
    CallRecord,
    CallRecorder,
    Step,
    collecting_steps,
    new_event_id,
)
from gatehouse.services.audit.calls import Decision as CallDecision
from gatehouse.services.audit.no_trail import NoTrail
from gatehouse.services.authentication import Authenticator, Credential
from gatehouse.services.authorization import Authorizer
from gatehouse.services.ids import account_of_key
from gatehouse.wire.call_records import CallRecords, read_only
from gatehouse.wire.constraints import InputValidator
from gatehouse.wire.dispatch import Router
from gatehouse.wire.limits import Executor, Throttle, claimed_caller
from gatehouse.wire.protocols import Protocols, WireProtocol
from gatehouse.wire.service_models import ServiceInfo
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


class Reply(tuple[int, bytes]):
    """An answer of the AWS endpoint: `(status, body)` (so callers that unpack two values keep working), with the
    content type of the protocol that wrote it."""

    content_type: str

    def __new__(cls, status: int, body: bytes, content_type: str) -> Reply:
        reply = super().__new__(cls, (status, body))
        reply.content_type = content_type
        return reply

    @property
    def status(self) -> int:
        return self[0]

    @property
    def body(self) -> bytes:
        return self[1]


@dataclass(slots=True)
class Exchange:
    """What the request path has learned about one request so far. The single exit (`AwsEndpoint._served` and
    `AwsEndpoint._refused`) turns it into the `ApiCall` the recorder keeps, however far the request got."""

    request_id: str
    time: datetime
    source_ip: str
    user_agent: str
    protocol: WireProtocol
    service: ServiceInfo | None = None
    service_name: str = ""  # the signing name ("iam", "cloudtrail")
    operation_name: str = ""  # what was asked for, known or not
    operation: OperationModel | None = None
    region: str = ""
    caller: Caller | None = None
    account_id: str | None = None  # the presented key's account, before (or without) authentication
    access_key_id: str | None = None
    params: dict[str, Any] | None = None
    decisions: list[CallDecision] = field(default_factory=list)


class AwsEndpoint:
    """Handles one AWS API request end to end (synchronously: it runs on the event loop or in a worker thread).

    The protocol is chosen per service from its model (`wire/protocols.py`); everything else (authentication,
    routing, validation, authorization, the use case) is the same for every protocol. Every request ends in one
    place: a served call in `_served` (inside the recorder's scope, so the call's writes and its record commit
    together), a refused or failed one in `_refused`; both hand the recorder one `ApiCall`."""

    def __init__(self, router: Router, authenticator: Authenticator, config: WireConfig,
                 clock: Callable[[], datetime], switch: AuthSwitch | None = None,
                 throttle: Throttle | None = None, recorder: CallRecorder | None = None) -> None:
        self.router = router
        self.throttle = throttle
        self.switch = switch
        self.models = router.models
        self.authenticator = authenticator
        self.config = config
        self.clock = clock
        self.recorder: CallRecorder = recorder if recorder is not None else NoTrail()
        self.verifier = SigV4Verifier()
        self.protocols = Protocols(router.models)
        self.validator = InputValidator()
        self.records = CallRecords()

    def handle(self, method: str, path: str, query_string: str, headers: Mapping[str, str], body: bytes,
               client_ip: str, secure: bool) -> Reply:
        exchange = self.exchange(headers, client_ip)
        with Authorizer.collecting() as decisions:
            exchange.decisions = decisions
            try:
                return self._serve(exchange, method, path, query_string, headers, body, secure)
            except AwsError as error:
                return self._refused(exchange, error)
            except Exception:
                log.exception("internal error handling request %s", exchange.request_id)
                return self._refused(exchange, _internal_failure())

    def exchange(self, headers: Mapping[str, str], client_ip: str) -> Exchange:
        """A new request's exchange. Until the credential scope names the service, a JSON request is known by its
        X-Amz-Target header, so that even a refused one is answered in the protocol its client reads."""
        exchange = Exchange(str(uuid.uuid4()), self.clock(), client_ip, headers.get("user-agent", ""),
                            self.protocols.query)
        service = self.protocols.by_target(headers)
        if service is not None:
            exchange.service, exchange.service_name = service, service.signing_name
            exchange.protocol = self._protocol(service)
            target = headers.get("x-amz-target", "")
            exchange.operation_name = target.rpartition(".")[2]
        return exchange

    def reject(self, error: AwsError, headers: Mapping[str, str], client_ip: str) -> Reply:
        """Refuse a request before it is read (too large, throttled): answered and recorded like any other."""
        return self._refused(self.exchange(headers, client_ip), error)

    def _serve(self, ex: Exchange, method: str, path: str, query_string: str, headers: Mapping[str, str],
               body: bytes, secure: bool) -> Reply:
        try:
            claims = parse_request_auth(method, path, query_string, headers)
        except MissingAuthenticationToken:
            if ex.service is not None:
                raise
            return self._unsigned(ex, query_string, body, headers, secure)
        ex.service_name, ex.region, ex.access_key_id = claims.service, claims.region, claims.access_key_id
        ex.account_id = account_of_key(claims.access_key_id)
        ex.service = self.models.get(claims.service)
        if ex.service is not None:
            ex.protocol = self._protocol(ex.service)
        checks = self.switch.take() if self.switch is not None else Checks.FULL
        credential: Credential | None = None
        try:
            credential = self.authenticator.resolve(claims.access_key_id, claims.security_token)
            ex.account_id = credential.account_id
            self._verify(claims, method, path, query_string, headers, body, credential.secret, ex.time,
                         check_skew=self.config.enforce_clock and checks is Checks.FULL)
        except AwsError:
            if checks is not Checks.NONE:
                raise
            credential = None  # moto's switch: an unknown key or a bad signature is let through, as the root
        if credential is not None and self.throttle is not None:
            # After the signature holds, so nobody can spend another caller's tokens.
            self.throttle.admit(credential.access_key_id, credential.account_id)
        incoming = ex.protocol.read(ex.service, headers, query_string, b"" if claims.unsigned_payload else body)
        action = incoming.action
        if not action:
            raise MissingAction("Could not find operation for version") if ex.service else NotFound(
                f"The service {claims.service} is not served here.")
        ex.operation_name = action
        route = self.router.route(claims.service, action, incoming.version)
        ex.operation = route.operation
        meta = RequestMeta(request_id=ex.request_id, region=claims.region, source_ip=ex.source_ip,
                           user_agent=ex.user_agent, secure_transport=secure, time=ex.time,
                           host=headers.get("host", ""))
        if credential is None:
            assert self.switch is not None
            ex.caller = caller = self.authenticator.account_root(self.switch.account_id, meta)
        else:
            ex.caller = caller = self.authenticator.caller(credential, meta)
        ex.params = typed = ex.protocol.parse_input(route.operation, incoming)
        self.validator.validate(route.operation, typed)
        if credential is not None:
            self.authenticator.admit(caller, claims.service, action)
        with self.recorder.request() as record, collecting_steps() as steps:
            if checks is Checks.FULL:
                result = route.invoke(caller, typed)
            else:
                with Authorizer.unchecked():
                    result = route.invoke(caller, typed)
            if credential is not None:
                self.authenticator.record_use(credential, claims.region, claims.service)
            return self._served(ex, route.operation, result, record, steps)

    def call(self, caller: Caller, service: str, action: str, params: Mapping[str, Any]) -> dict[str, Any]:
        """An operation made in-process for a caller someone else authenticated (the console, from its session
        cookie): validated against the model, authorized and recorded exactly as the same call over the wire, so
        a page can do nothing the API would refuse, and every page's call is in the trail. `params` are typed as
        the model says (strings, numbers, lists, maps; policy documents as text). An AwsError is raised, after it
        is recorded, for the page to show."""
        meta = caller.request
        ex = Exchange(str(uuid.uuid4()), self.clock(), meta.source_ip, meta.user_agent, self.protocols.query,
                      service_name=service, operation_name=action, region=meta.region, caller=caller,
                      account_id=caller.account_id, access_key_id=caller.access_key_id or None)
        ex.service = self.models.get(service)
        with Authorizer.collecting() as decisions:
            ex.decisions = decisions
            try:
                if ex.service is not None:
                    ex.protocol = self._protocol(ex.service)
                if self.throttle is not None and caller.access_key_id:  # the session's buckets, as over the wire
                    self.throttle.admit(caller.access_key_id, caller.account_id)
                route = self.router.route(service, action)
                ex.operation = route.operation
                ex.params = typed = dict(params)
                self.validator.validate(route.operation, typed)
                with self.recorder.request() as record, collecting_steps() as steps:
                    result = route.invoke(caller, typed)
                    self._finish(ex, result, record, steps)
                    return dict(result or {})
            except AwsError as error:
                self._refused(ex, error)
                raise
            except Exception:
                log.exception("internal error in console call %s", ex.request_id)
                self._refused(ex, _internal_failure())
                raise _internal_failure() from None

    def _protocol(self, service: ServiceInfo) -> WireProtocol:
        protocol = self.protocols.for_service(service)
        if protocol is None:  # a modeled service whose protocol (rest-json, rest-xml) this server does not speak
            raise NotFound(f"The service {service.signing_name} is not served here.")
        return protocol

    def _unsigned(self, ex: Exchange, query_string: str, body: bytes, headers: Mapping[str, str],
                  secure: bool) -> Reply:
        """Operations the model marks as needing no authentication (AssumeRoleWithWebIdentity, AssumeRoleWithSAML:
        the token or assertion is the credential). With no credential scope, the API version names the service.
        Only Query operations are unsigned."""
        if len(body) + len(query_string) > self.config.max_unsigned_body:
            raise PayloadTooLarge("Request body is too large.")
        incoming = ex.protocol.read(None, headers, query_string, body)
        ex.operation_name = incoming.action or ""
        found = self.router.unauthenticated(incoming.action or "", incoming.version or "")
        if found is None:
            raise MissingAuthenticationToken()
        ex.service, ex.service_name, ex.operation = self.models.get(found.service), found.service, found.operation
        ex.params = typed = ex.protocol.parse_input(found.operation, incoming)
        self.validator.validate(found.operation, typed)
        meta = RequestMeta(request_id=ex.request_id, source_ip=ex.source_ip, user_agent=ex.user_agent,
                           secure_transport=secure, time=ex.time, host=headers.get("host", ""))
        with self.recorder.request() as record:
            result = found.invoke(self.authenticator.anonymous(meta), typed)
            return self._served(ex, found.operation, result, record)

    # --- the single exit -------------------------------------------------------------------------------------

    def _served(self, ex: Exchange, operation: OperationModel, result: Mapping[str, Any] | None,
                record: CallRecord, steps: Sequence[Step] = ()) -> Reply:
        """A served call: rendered, then its record finished inside the recorder's scope (its commit point), after
        one event per step the use case performed for it (OffboardUser's DeleteAccessKey, ...)."""
        payload = ex.protocol.serialize_result(operation, result, ex.request_id, ex.service)
        self._finish(ex, result, record, steps)
        return Reply(200, payload, ex.protocol.content_type)

    def _finish(self, ex: Exchange, result: Mapping[str, Any] | None, record: CallRecord,
                steps: Sequence[Step] = ()) -> None:
        if steps:
            record.finish(self._call(ex, result=result), [self._step_call(ex, step) for step in steps])
        else:
            record.finish(self._call(ex, result=result))

    def _step_call(self, ex: Exchange, step: Step) -> ApiCall:
        """A step's own record: the request's caller, time and origin, the step's operation and parameters."""
        operation = self.models.operation(step.service, step.operation)
        params = (self.records.request_parameters(operation, step.params) if operation is not None
                  else dict(step.params))
        return ApiCall(
            event_id=new_event_id(), request_id=ex.request_id, time=ex.time, service=step.service,
            operation=step.operation, region=ex.region, source_ip=ex.source_ip, user_agent=ex.user_agent,
            caller=ex.caller, account_id=ex.caller.account_id if ex.caller else ex.account_id,
            access_key_id=ex.access_key_id, read_only=read_only(step.operation), request_parameters=params,
            response_elements=None)

    def _refused(self, ex: Exchange, error: AwsError) -> Reply:
        """A refused or failed call: answered as its protocol answers errors, and recorded."""
        status, payload = ex.protocol.serialize_error(error, ex.request_id, ex.service)
        try:
            self.recorder.record(self._call(ex, error=error, code=ex.protocol.error_code(error, ex.service)))
        except Exception:
            log.exception("could not record refused request %s", ex.request_id)
        return Reply(status, payload, ex.protocol.content_type)

    def _call(self, ex: Exchange, *, result: Mapping[str, Any] | None = None, error: AwsError | None = None,
              code: str | None = None) -> ApiCall:
        operation = ex.operation
        return ApiCall(
            event_id=new_event_id(), request_id=ex.request_id, time=ex.time, service=ex.service_name,
            operation=ex.operation_name, region=ex.region, source_ip=ex.source_ip, user_agent=ex.user_agent,
            caller=ex.caller, account_id=ex.caller.account_id if ex.caller else ex.account_id,
            access_key_id=ex.access_key_id, read_only=read_only(ex.operation_name),
            request_parameters=(self.records.request_parameters(operation, ex.params)
                                if operation is not None and ex.params is not None else None),
            response_elements=(self.records.response_elements(operation, result)
                               if operation is not None and error is None else None),
            error_code=code if error is not None else None,
            error_message=(error.message or None) if error is not None else None,
            decisions=tuple(ex.decisions))

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


def _internal_failure() -> InternalFailure:
    return InternalFailure("The request processing has failed because of an unknown error, exception or failure.")


class Handler(Protocol):
    """What serves a request on the AWS request path (`AwsEndpoint`, and the POST paths beside it)."""

    config: WireConfig

    def handle(self, method: str, path: str, query_string: str, headers: Mapping[str, str], body: bytes,
               client_ip: str, secure: bool) -> Reply: ...

    def reject(self, error: AwsError, headers: Mapping[str, str], client_ip: str) -> Reply: ...


class AwsAsgi:
    """The AWS endpoint as a bare ASGI callable in front of the Starlette app that serves every other path.

    `POST /` and `GET /` carry the AWS API: no framework objects; the handler runs in the `Executor`'s bounded
    worker threads (never on the event loop, whatever the database), so one caller's expensive request cannot
    stall the others and one caller cannot hold every thread. The body must arrive within `body_timeout` seconds.
    """

    def __init__(self, endpoint: AwsEndpoint, rest: Starlette, *, executor: Executor | None = None,
                 body_timeout: float = 30.0, paths: Mapping[str, Handler] | None = None) -> None:
        self.endpoint = endpoint
        self.rest = rest
        self.executor = executor or Executor()
        self.body_timeout = body_timeout
        self.paths = dict(paths or {})  # POST paths served like the AWS API (POST /authorize)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        handler: Handler = self.endpoint
        if scope["type"] == "http" and scope["method"] == "POST" and scope["path"] in self.paths:
            handler = self.paths[scope["path"]]
        elif scope["type"] != "http" or scope["path"] != "/" or scope["method"] not in ("GET", "POST"):
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
            client = scope.get("client")
            reply = handler.reject(error, Headers(scope=scope), client[0] if client else "")
            await _respond(send, reply, close=True)
            return
        client = scope.get("client")
        address = client[0] if client else ""
        args = (scope["method"], scope.get("raw_path", b"/").decode("latin-1").split("?", 1)[0],
                scope.get("query_string", b"").decode("latin-1"), Headers(scope=scope), body,
                address, scope.get("scheme") == "https")
        caller = claimed_caller(scope.get("headers", ()), scope.get("query_string", b""), address)
        reply = await self.executor.run(caller, handler.handle, *args)
        await _respond(send, reply)


async def _respond(send: Send, reply: Reply, *, close: bool = False) -> None:
    headers = [(b"content-type", reply.content_type.encode()), (b"content-length", str(len(reply.body)).encode())]
    if close:  # the request was not read to its end: the connection cannot carry another one
        headers.append((b"connection", b"close"))
    await send({"type": "http.response.start", "status": reply.status, "headers": headers})
    await send({"type": "http.response.body", "body": reply.body})


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
              body_timeout: float = 30.0, paths: Mapping[str, Handler] | None = None) -> AwsAsgi:
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
    return AwsAsgi(endpoint, Starlette(routes=routes), executor=executor, body_timeout=body_timeout, paths=paths)
