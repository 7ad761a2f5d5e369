"""`gatehouse.asgi`: an ASGI middleware that lets a Starlette or FastAPI application authenticate incoming SigV4
requests against Gatehouse and authorize each route by a declared action and resource.

    from gatehouse.asgi import GatehouseAuth

    app = GatehouseAuth(notes_app, endpoint="http://127.0.0.1:4599", routes={
        "GET /notes/{id}": ("notes:GetNote", "arn:aws:notes:us-east-1:{account}:note/{id}"),
        "PUT /notes/{id}": ("notes:PutNote", "arn:aws:notes:us-east-1:{account}:note/{id}"),
    })

For each request the middleware finds its route (`METHOD /path/{var}`; a route not declared is refused, unless
listed in `public`), fills the resource template (path variables, `{account}`: the application's account,
`{region}`), and forwards the original signed request (method, URL, headers, body) to Gatehouse's POST /authorize,
signed itself with the application's credentials (botocore's credential chain, or those given). Gatehouse
authenticates the request on the application's behalf and decides it with every policy that applies; an Allow
reaches the application with the decision in `scope["state"]["gatehouse"]` (`principal`, `decision`, `matched`,
`reason`), anything else is answered 403 with an AWS-style JSON error carrying the engine's reason (401 for a
request that carries no signature at all). When Gatehouse cannot answer, the request is refused (503): it fails
closed.

**The cache, and why it is keyed as it is.** A signature can be checked only with the signer's secret, which
Gatehouse keeps. So the middleware cannot tell, by itself, that two requests with the same access key come from
its holder: caching on (access key, action, resource) would let anyone who knows a key id (it is not a secret)
reuse another request's Allow. The cache is therefore keyed on everything the signature covers and more: method,
raw path and query, every header (the `Authorization` header, the signed date and the session token among them),
the body's SHA-256, the action, the resource and the context sent. A cached answer is reused only for a
byte-identical request (a retry, a replay, the same presigned URL opened again): by construction one that
Gatehouse would authenticate exactly as it did (same canonical request, same signature) and decide the same way
within the TTL. Every new signature goes to Gatehouse. The TTL (seconds, default 5) bounds how long a revoked key,
a changed policy or a signature past its validity keeps a cached Allow; the size is bounded (least recently used
entries leave first). Denials are cached too (so a replayed denied request costs nothing), errors never.

This module is a client library: it imports neither Gatehouse's storage nor its services; botocore (signing,
credentials, pooled HTTP) and anyio are all it needs.
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import re
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import anyio.to_thread
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from botocore.httpsession import URLLib3Session
from botocore.session import Session

Scope = dict[str, Any]
Receive = Callable[[], Any]
Send = Callable[[dict[str, Any]], Any]
ASGIApp = Callable[[Scope, Receive, Send], Any]

log = logging.getLogger("gatehouse.asgi")

MAX_BODY = 64 * 1024  # what Gatehouse accepts of a forwarded body; larger requests are refused here (413)
_VAR = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")


@dataclass(frozen=True)
class Route:
    """One declared route: `METHOD /path/{var}` and the action and resource template it is authorized by."""

    method: str
    pattern: re.Pattern[str]
    action: str
    resource: str

    @classmethod
    def parse(cls, spec: str, action: str, resource: str) -> Route:
        method, _, path = spec.strip().partition(" ")
        if not path.startswith("/"):
            raise ValueError(f"route {spec!r}: expected 'METHOD /path'")
        regex, last = "", 0
        for m in _VAR.finditer(path):
            regex += re.escape(path[last:m.start()]) + f"(?P<{m[1]}>[^/]+)"
            last = m.end()
        regex += re.escape(path[last:])
        return cls(method.upper(), re.compile(regex + r"\Z"), action, resource)

    def match(self, method: str, path: str) -> dict[str, str] | None:
        if method != self.method:
            return None
        m = self.pattern.match(path)
        return m.groupdict() if m else None


class DecisionCache:
    """A bounded LRU with a TTL (seconds), safe across threads; keys are digests of whole requests (see above)."""

    def __init__(self, size: int, ttl: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.size, self.ttl, self.clock = size, ttl, clock
        self._items: OrderedDict[bytes, tuple[float, dict[str, Any]]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: bytes) -> dict[str, Any] | None:
        with self._lock:
            found = self._items.get(key)
            if found is None:
                return None
            if found[0] <= self.clock():
                del self._items[key]
                return None
            self._items.move_to_end(key)
            return found[1]

    def put(self, key: bytes, value: dict[str, Any]) -> None:
        if self.size <= 0 or self.ttl <= 0:
            return
        with self._lock:
            self._items[key] = (self.clock() + self.ttl, value)
            self._items.move_to_end(key)
            while len(self._items) > self.size:
                self._items.popitem(last=False)

    def __len__(self) -> int:
        return len(self._items)


class GatehouseClient:
    """Signs and sends POST /authorize with the application's credentials (SigV4, service `gatehouse`)."""

    def __init__(self, endpoint: str, *, credentials: Credentials | None = None, region: str = "us-east-1",
                 timeout: float = 5.0, pool_size: int = 16) -> None:
        self.endpoint = endpoint.rstrip("/")
        self.region = region
        self._credentials = credentials
        self._session = Session() if credentials is None else None
        self.http = URLLib3Session(timeout=timeout, max_pool_connections=pool_size)  # keep-alive, pooled

    def credentials(self) -> Credentials:
        if self._credentials is not None:
            return self._credentials
        assert self._session is not None
        found = self._session.get_credentials()
        if found is None:
            raise RuntimeError("no AWS credentials for the application: set them or pass credentials=")
        return found

    def post(self, path: str, document: Mapping[str, Any]) -> tuple[int, Any]:
        body = json.dumps(document, separators=(",", ":")).encode()
        request = AWSRequest(method="POST", url=self.endpoint + path, data=body,
                             headers={"Content-Type": "application/json"})
        SigV4Auth(self.credentials().get_frozen_credentials(), "gatehouse", self.region).add_auth(request)
        response = self.http.send(request.prepare())
        return response.status_code, json.loads(response.content or b"null")

    def account(self) -> str:
        """The application's own account (STS GetCallerIdentity)."""
        body = b"Action=GetCallerIdentity&Version=2011-06-15"
        request = AWSRequest(method="POST", url=self.endpoint + "/", data=body,
                             headers={"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"})
        SigV4Auth(self.credentials().get_frozen_credentials(), "sts", self.region).add_auth(request)
        response = self.http.send(request.prepare())
        found = re.search(rb"<Account>(\d{12})</Account>", response.content or b"")
        if response.status_code != 200 or found is None:
            raise RuntimeError(f"GetCallerIdentity failed ({response.status_code}): cannot learn the application's "
                               "account")
        return found[1].decode()


class GatehouseAuth:
    """The middleware. `routes`: {"METHOD /path/{var}": (action, resource template)}; `public`: routes served
    without authentication ("GET /health"); `context`: extra condition keys per request (a function of the
    scope); `account`: the application's account (else learned once from GetCallerIdentity)."""

    def __init__(self, app: ASGIApp, *, endpoint: str, routes: Mapping[str, tuple[str, str]],
                 public: Iterable[str] = (), credentials: Credentials | None = None, region: str = "us-east-1",
                 account: str | None = None, cache_ttl: float = 5.0, cache_size: int = 10_000,
                 timeout: float = 5.0, context: Callable[[Scope], Mapping[str, Any]] | None = None,
                 client: GatehouseClient | None = None) -> None:
        self.app = app
        self.routes = [Route.parse(spec, action, resource) for spec, (action, resource) in routes.items()]
        self.public = [Route.parse(spec, "", "") for spec in public]
        self.client = client or GatehouseClient(endpoint, credentials=credentials, region=region, timeout=timeout)
        self.region = region
        self._account = account
        self.cache = DecisionCache(cache_size, cache_ttl)
        self.extra_context = context

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        method, path = scope["method"], scope["path"]
        if any(r.match(method, path) is not None for r in self.public):
            await self.app(scope, receive, send)
            return
        found = next(((r, v) for r in self.routes if (v := r.match(method, path)) is not None), None)
        if found is None:
            await _error(send, 403, "AccessDeniedException", f"No action is declared for {method} {path}.")
            return
        route, variables = found
        body = await _body(receive)
        if body is None:
            await _error(send, 413, "RequestEntityTooLargeException", "The request body is too large.")
            return
        headers = _headers(scope)
        if "authorization" not in headers and "X-Amz-Signature=" not in scope.get("query_string", b"").decode(
                "latin-1"):
            await _error(send, 401, "MissingAuthenticationTokenException", "Request is missing Authentication Token")
            return
        try:
            account = self._account or await anyio.to_thread.run_sync(self._learn_account)
            resource = route.resource.format(account=account, region=self.region, **variables)
        except Exception:
            await _error(send, 503, "ServiceUnavailableException", "Authorization is unavailable.")
            return
        answer = await self._decide(scope, headers, body, route.action, resource)
        if answer.get("decision") == "Allow":
            scope.setdefault("state", {})["gatehouse"] = answer
            await self.app(scope, _replay(body, receive), send)
            return
        if "decision" in answer:
            await _error(send, 403, "AccessDeniedException", answer.get("reason", "Access denied"))
        elif answer.get("code") in (None, "ServiceUnavailableException"):
            await _error(send, 503, "ServiceUnavailableException", "Authorization is unavailable.")
        else:  # the caller's signature or credential was refused (or its key throttled), as Gatehouse says
            status = 400 if answer["code"] == "ThrottlingException" else 403
            await _error(send, status, answer["code"], answer.get("error", ""))

    def _learn_account(self) -> str:
        if self._account is None:
            self._account = self.client.account()
        return self._account

    async def _decide(self, scope: Scope, headers: dict[str, str], body: bytes, action: str, resource: str
                      ) -> dict[str, Any]:
        raw_path = scope.get("raw_path") or scope["path"].encode()
        query = scope.get("query_string", b"").decode("latin-1")
        host = headers.get("host", "")
        url = f"{scope.get('scheme', 'http')}://{host}{raw_path.decode('latin-1')}" + (f"?{query}" if query else "")
        context = self._context(scope, headers)
        key = _cache_key(scope["method"], raw_path, query, headers, body, action, resource, context)
        cached = self.cache.get(key)
        if cached is not None:
            return cached
        request = {"signed_request": {"method": scope["method"], "url": url, "headers": headers,
                                      "body": body.decode("utf-8")} if _is_text(body) else
                   {"method": scope["method"], "url": url, "headers": headers,
                    "body_base64": _b64(body)},
                   "action": action, "resource": resource, "context": context}
        try:
            status, answer = await anyio.to_thread.run_sync(self.client.post, "/authorize", {"request": request})
        except Exception as error:
            log.warning("POST /authorize failed: %s", error)
            return {"code": "ServiceUnavailableException"}
        if status != 200 or not isinstance(answer, dict):
            # The application's own call was refused (no gatehouse:Authorize, a resource of another account, a
            # malformed context): a configuration problem, logged; the caller is refused.
            log.warning("POST /authorize answered %s: %s", status, str(answer)[:500])
            return {"code": "ServiceUnavailableException"}
        if "decision" in answer:
            self.cache.put(key, answer)
        return answer

    def _context(self, scope: Scope, headers: Mapping[str, str]) -> dict[str, Any]:
        client = scope.get("client")
        context: dict[str, Any] = {"aws:SecureTransport": "true" if scope.get("scheme") == "https" else "false"}
        if client:
            context["aws:SourceIp"] = client[0]
        if "user-agent" in headers:
            context["aws:UserAgent"] = headers["user-agent"]
        if self.extra_context is not None:
            context.update(self.extra_context(scope))
        return context


def _cache_key(method: str, raw_path: bytes, query: str, headers: Mapping[str, str], body: bytes, action: str,
               resource: str, context: Mapping[str, Any]) -> bytes:
    digest = hashlib.sha256()
    for part in (method, raw_path.decode("latin-1"), query, json.dumps(sorted(headers.items())),
                 hashlib.sha256(body).hexdigest(), action, resource, json.dumps(context, sort_keys=True)):
        digest.update(part.encode("utf-8", "surrogateescape"))
        digest.update(b"\x00")
    return digest.digest()


def _headers(scope: Scope) -> dict[str, str]:
    out: dict[str, str] = {}
    for name, value in scope.get("headers", ()):
        key, text = name.decode("latin-1").lower(), value.decode("latin-1")
        out[key] = f"{out[key]},{text}" if key in out else text
    return out


async def _body(receive: Receive) -> bytes | None:
    chunks, size, more = [], 0, True
    while more:
        message = await receive()
        if message["type"] == "http.disconnect":
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > MAX_BODY:
            return None
        chunks.append(chunk)
        more = message.get("more_body", False)
    return b"".join(chunks)


def _replay(body: bytes, receive: Receive) -> Receive:
    """The body again, for the application (the middleware has read it), then whatever the server says next."""
    sent = False

    async def again() -> Any:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return again


def _is_text(body: bytes) -> bool:
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _b64(body: bytes) -> str:
    return base64.b64encode(body).decode()


async def _error(send: Send, status: int, code: str, message: str) -> None:
    payload = json.dumps({"__type": code, "message": message}).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(payload)).encode())]})
    await send({"type": "http.response.body", "body": payload})


__all__ = ["DecisionCache", "GatehouseAuth", "GatehouseClient", "Route"]
