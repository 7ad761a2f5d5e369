"""POST /authorize and POST /authorize/batch: the authorization API for applications (services/resources/authorize.py)
on the AWS endpoint's request path.

Same order as every AWS request (`wire/http.py`): the application's SigV4 signature (service `gatehouse`) is
parsed, its key resolved and the signature verified before anything else is read; then its token buckets are
charged (`Throttling`), the body read, and each question decided. It runs in the `Executor`'s worker threads, never
on the event loop. A refused call (unsigned, badly signed, not allowed `gatehouse:Authorize`, malformed) is answered
with an AWS-style JSON error (`{"__type": Code, "message": ...}`; 403 for authentication and authorization) and,
like a served one, recorded in the audit trail (`gatehouse.amazonaws.com`, Authorize or BatchAuthorize), with the
application's decisions; the forwarded request's signature and headers are never recorded.

A question's principal may come as the original signed request (`signed_request`: method, url, headers, body or
body_base64), authenticated here on the application's behalf with the same verifier and key look-up (and the same
clock skew rule) as a request to Gatehouse itself. Its credential scope must name the action's service (a request
signed for `notes` decides `notes:` actions only), and a request signed for a service Gatehouse answers itself
(iam, sts, ...) is refused: it was meant for Gatehouse, not for the application. When that authentication fails, the
application's call still succeeded: the answer is an error line naming the AWS code (`InvalidSignatureException`,
`UnrecognizedClientException`, `ExpiredTokenException`, ...) for the application to pass on.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
import uuid
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from gatehouse.errors import (
    AccessDenied,
    AwsError,
    InternalFailure,
    SignatureDoesNotMatch,
    ValidationError,
)
from gatehouse.model import Caller, RequestMeta
from gatehouse.services.audit.calls import ApiCall, new_event_id
from gatehouse.services.authorization import Authorizer
from gatehouse.services.ids import account_of_key
from gatehouse.services.resources.arns import RESERVED_SERVICES
from gatehouse.services.resources.authorize import (
    MAX_BATCH,
    AuthorizationApi,
    Question,
    Unanswerable,
    principal_meta,
    read_question,
)
from gatehouse.wire.http import AwsEndpoint, Exchange, Reply
from gatehouse.wire.json_protocol import SerializationException
from gatehouse.wire.sigv4 import parse_request_auth

log = logging.getLogger("gatehouse.wire")

PATHS = {"/authorize": "Authorize", "/authorize/batch": "BatchAuthorize"}
CONTENT_TYPE = "application/json"
MAX_SIGNED_BODY = 64 * 1024  # a forwarded request's body (decoded): only its hash is needed
MAX_RECORDED_CONTEXT = 4096  # characters of a question's context kept in its audit event (else its keys only)
OPENAPI = Path(__file__).parent / "authorize.openapi.json"  # docs/authorize.openapi.json is a copy (a test keeps it)


def authorize_routes() -> list[Route]:
    """GET /authorize/openapi.json: the API's OpenAPI 3.1 description (unauthenticated, as documentation is)."""
    document = OPENAPI.read_bytes()

    async def openapi(request: Request) -> Response:
        return Response(document, media_type="application/json")

    return [Route("/authorize/openapi.json", openapi, methods=["GET"])]


class AuthorizeEndpoint:
    """The handler `AwsAsgi` hands POST /authorize[/batch] to (same `handle`/`reject` shape as `AwsEndpoint`)."""

    def __init__(self, endpoint: AwsEndpoint, api: AuthorizationApi) -> None:
        self.endpoint = endpoint
        self.api = api
        self.config = endpoint.config
        self.json = endpoint.protocols.json

    # --- the request path ----------------------------------------------------------------------------------

    def handle(self, method: str, path: str, query_string: str, headers: Mapping[str, str], body: bytes,
               client_ip: str, secure: bool) -> Reply:
        ex = self._exchange(path, headers, client_ip)
        with Authorizer.collecting() as decisions:
            ex.decisions = decisions
            try:
                return self._serve(ex, method, path, query_string, headers, body, secure)
            except AwsError as error:
                return self._refused(ex, error)
            except Exception:
                log.exception("internal error handling request %s", ex.request_id)
                return self._refused(ex, InternalFailure("The request processing has failed because of an unknown "
                                                         "error, exception or failure."))

    def reject(self, error: AwsError, headers: Mapping[str, str], client_ip: str, path: str = "/authorize"
               ) -> Reply:
        return self._refused(self._exchange(path, headers, client_ip), error)

    def _exchange(self, path: str, headers: Mapping[str, str], client_ip: str) -> Exchange:
        e = self.endpoint
        ex = Exchange(str(uuid.uuid4()), e.clock(), client_ip, headers.get("user-agent", ""), self.json)
        ex.service, ex.service_name, ex.operation_name = e.models.get("gatehouse"), "gatehouse", PATHS.get(
            path, "Authorize")
        return ex

    def _serve(self, ex: Exchange, method: str, path: str, query_string: str, headers: Mapping[str, str],
               body: bytes, secure: bool) -> Reply:
        e = self.endpoint
        claims = parse_request_auth(method, path, query_string, headers)
        ex.region, ex.access_key_id = claims.region, claims.access_key_id
        ex.account_id = account_of_key(claims.access_key_id)
        if claims.service != "gatehouse":
            raise SignatureDoesNotMatch("Credential should be scoped to correct service: 'gatehouse'. ")
        credential = e.authenticator.resolve(claims.access_key_id, claims.security_token)
        ex.account_id = credential.account_id
        e.verifier.verify(claims, method, path, query_string, headers, body, credential.secret, ex.time,
                          check_skew=self.config.enforce_clock)
        if e.throttle is not None:
            e.throttle.admit(credential.access_key_id, credential.account_id)
        meta = RequestMeta(request_id=ex.request_id, region=claims.region, source_ip=ex.source_ip,
                           user_agent=ex.user_agent, secure_transport=secure, time=ex.time,
                           host=headers.get("host", ""))
        ex.caller = app = e.authenticator.caller(credential, meta)
        e.authenticator.admit(app, "gatehouse", ex.operation_name)
        batch = ex.operation_name == "BatchAuthorize"
        items = self._items(body, batch)
        ex.params = ({"requests": [_recorded(raw) for _, raw in items]} if batch
                     else {"request": _recorded(items[0][1])})
        result: Any
        if batch:
            result = [self._line(ex, app, case_id, raw) for case_id, raw in items]
            elements: dict[str, Any] = {"results": [_summary(line) for line in result]}
        else:
            case_id, raw = items[0]
            result = self._decide(ex, app, read_question(raw, case_id))
            elements = _summary(result)
        with e.recorder.request() as record:
            e.authenticator.record_use(credential, claims.region, "gatehouse")
            record.finish(self._call(ex, elements))
        return Reply(200, json.dumps(result, separators=(",", ":")).encode(), CONTENT_TYPE)

    @staticmethod
    def _items(body: bytes, batch: bool) -> list[tuple[Any, Any]]:
        """(id, request) pairs: `{"id"?, "request": {...}}`, or `{"requests": [{...}, ...]}` (ids: each request's
        `id`, else its position)."""
        try:
            document = json.loads(body) if body.strip() else None
        except (ValueError, RecursionError):
            raise SerializationException("The request body is not valid JSON.") from None
        if not isinstance(document, dict):
            raise SerializationException("The request body must be a JSON object.")
        if b"\\u" in body:  # escapes: no NUL (PostgreSQL cannot store it) and no lone surrogate (no Unicode text)
            try:
                json.dumps(document, ensure_ascii=False).encode("utf-8")
            except UnicodeEncodeError:
                raise SerializationException("The request body is not valid JSON.") from None
            if b"\\u0000" in body:
                raise ValidationError("The request must not contain the character U+0000.")
        if "policies" in document:
            raise ValidationError("policies: policies are looked up, never supplied")
        if not batch:
            return [(document.get("id"), document.get("request"))]
        requests = document.get("requests")
        if not isinstance(requests, list) or not requests:
            raise ValidationError("requests: must be a non-empty list of requests")
        if len(requests) > MAX_BATCH:
            raise ValidationError(f"requests: at most {MAX_BATCH} requests per call")
        return [(raw.get("id", n) if isinstance(raw, dict) else n, raw) for n, raw in enumerate(requests)]

    def _line(self, ex: Exchange, app: Caller, case_id: Any, raw: Any) -> dict[str, Any]:
        """One answer of a batch: a decision, or an error line naming the AWS code."""
        try:
            return self._decide(ex, app, read_question(raw, case_id))
        except AwsError as error:
            return _error_line(case_id, error, self.json.error_code(error, ex.service))

    def _decide(self, ex: Exchange, app: Caller, question: Question) -> dict[str, Any]:
        principal = None
        if question.signed_request is not None:
            try:
                principal = self._authenticate(app, question)
            except Unanswerable:
                raise
            except AwsError as error:  # the principal's request failed authentication: the application's did not
                return _error_line(question.case_id, error, self.json.error_code(error, ex.service))
        return self.api.decide(app, question, principal)

    def _authenticate(self, app: Caller, q: Question) -> Caller:
        """The caller of the forwarded signed request, verified as Gatehouse verifies its own requests."""
        e = self.endpoint
        signed = q.signed_request or {}
        method, url, raw_headers = signed.get("method"), signed.get("url"), signed.get("headers")
        if not isinstance(method, str) or not isinstance(url, str) or not isinstance(raw_headers, Mapping) or not all(
                isinstance(k, str) and isinstance(v, str) for k, v in raw_headers.items()):
            raise Unanswerable("request.signed_request: method and url must be strings, headers an object of "
                               "strings")
        body = _signed_body(signed)
        try:  # what came over HTTP/1.1 is latin-1 text; anything else was never a request
            for name, value in raw_headers.items():
                name.encode("latin-1"), value.encode("latin-1")
            parts = urlsplit(url)
        except (UnicodeEncodeError, ValueError):
            raise Unanswerable("request.signed_request: headers must be latin-1 text and url a URL") from None
        if not method.isascii() or not method.isalpha() or len(raw_headers) > 200:
            raise Unanswerable("request.signed_request: method must be an HTTP method, headers at most 200")
        headers = Headers(headers={k.lower(): v for k, v in raw_headers.items()})
        claims = parse_request_auth(method.upper(), parts.path or "/", parts.query, headers)
        if claims.service in RESERVED_SERVICES:
            raise AccessDenied(f"A request signed for {claims.service} was meant for Gatehouse itself; forward "
                               "the request signed for your application's service.")
        namespace = q.action.partition(":")[0].lower()
        if claims.service != namespace:
            # The signer chose the service its request is for (as AWS binds a signature to one service's endpoint):
            # it cannot be spent on another service's actions.
            raise SignatureDoesNotMatch(f"Credential should be scoped to correct service: '{namespace}'. ")
        credential = e.authenticator.resolve(claims.access_key_id, claims.security_token)
        e.verifier.verify(claims, method.upper(), parts.path or "/", parts.query, headers, body, credential.secret,
                          app.request.time, check_skew=self.config.enforce_clock)
        if e.throttle is not None:
            e.throttle.admit(credential.access_key_id, credential.account_id)
        caller = e.authenticator.caller(credential, principal_meta(app.request, q.context, claims.region))
        e.authenticator.admit(caller, claims.service, q.action.partition(":")[2])
        return caller

    # --- the exit ------------------------------------------------------------------------------------------

    def _refused(self, ex: Exchange, error: AwsError) -> Reply:
        code = self.json.error_code(error, ex.service)
        payload: dict[str, Any] = {"__type": code, "message": error.message}
        try:
            self.endpoint.recorder.record(self._call(ex, None, error, code))
        except Exception:
            log.exception("could not record refused request %s", ex.request_id)
        return Reply(error.http_status, json.dumps(payload, separators=(",", ":")).encode(), CONTENT_TYPE)

    @staticmethod
    def _call(ex: Exchange, elements: Mapping[str, Any] | None, error: AwsError | None = None,
              code: str | None = None) -> ApiCall:
        return ApiCall(
            event_id=new_event_id(), request_id=ex.request_id, time=ex.time, service="gatehouse",
            operation=ex.operation_name, region=ex.region, source_ip=ex.source_ip, user_agent=ex.user_agent,
            caller=ex.caller, account_id=ex.caller.account_id if ex.caller else ex.account_id,
            access_key_id=ex.access_key_id, read_only=True, request_parameters=ex.params,
            response_elements=elements if error is None else None, error_code=code,
            error_message=(error.message or None) if error is not None else None, decisions=tuple(ex.decisions))


def _signed_body(signed: Mapping[str, Any]) -> bytes:
    if "body_base64" in signed:
        try:
            body = base64.b64decode(str(signed["body_base64"]), validate=True)
        except (binascii.Error, ValueError):
            raise Unanswerable("request.signed_request.body_base64: not base64") from None
    else:
        text = signed.get("body", "")
        if not isinstance(text, str):
            raise Unanswerable("request.signed_request.body: must be a string (or give body_base64)")
        body = text.encode("utf-8")
    if len(body) > MAX_SIGNED_BODY:
        raise Unanswerable(f"request.signed_request: a body of at most {MAX_SIGNED_BODY} bytes")
    return body


def _error_line(case_id: Any, error: AwsError, code: str) -> dict[str, Any]:
    return {"id": case_id, "error": error.message or code, "code": code}


def _recorded(raw: Any) -> Any:
    """A request as the trail keeps it: never the forwarded request's headers, body or signature."""
    if not isinstance(raw, dict):
        return None
    out = {k: raw[k] for k in ("id", "principal", "action", "resource", "resource_account", "context") if k in raw}
    if len(json.dumps(out.get("context"), default=str)) > MAX_RECORDED_CONTEXT:  # an event stays small
        context = out["context"]
        out["context"] = {"truncated": True, "keys": list(context)[:64] if isinstance(context, dict) else []}
    signed = raw.get("signed_request")
    if isinstance(signed, dict):
        out["signed_request"] = {k: signed[k] for k in ("method", "url") if isinstance(signed.get(k), str)}
    return out


def _summary(line: Mapping[str, Any]) -> dict[str, Any]:
    return {k: line[k] for k in ("id", "decision", "principal", "code") if k in line}
