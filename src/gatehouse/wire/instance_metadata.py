"""An instance metadata endpoint compatible with IMDSv2, bound to one workload (`gatehouse workload
serve-metadata`), for SDKs pointed at it with AWS_EC2_METADATA_SERVICE_ENDPOINT:

    PUT /latest/api/token                              X-aws-ec2-metadata-token-ttl-seconds: 1..21600
    GET /latest/meta-data/iam/security-credentials/        -> the role's name
    GET /latest/meta-data/iam/security-credentials/ROLE    -> {"Code": "Success", "LastUpdated", "Type": "AWS-HMAC",
                                                              "AccessKeyId", "SecretAccessKey", "Token",
                                                              "Expiration"}

As EC2 does with IMDSv1 off: every GET needs a valid `X-aws-ec2-metadata-token` (401 otherwise), a token PUT
without a TTL or with one outside 1..21600 seconds is refused (400), and a token PUT carrying X-Forwarded-For is
refused (403: it came through a proxy, which is how IMDS tokens leak off the host). Session tokens are stateless:
an HMAC, under a key made when the listener starts, of their expiry. Credentials come from `source`, which keeps
the current set in memory (refreshed in the background), so no request waits on the Gatehouse server.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

TOKEN_PATH = "/latest/api/token"
CREDENTIALS_PATH = "/latest/meta-data/iam/security-credentials/"
MAX_TOKEN_TTL = 21600


@dataclass(frozen=True, slots=True)
class RoleCredentials:
    """The credentials served for the role, and when they were obtained."""

    role_name: str
    access_key_id: str
    secret_access_key: str
    token: str
    expiration: dt.datetime
    last_updated: dt.datetime


def _z(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class MetadataTokens:
    """IMDSv2 session tokens: `<expiry>.<HMAC-SHA256 of it>` under a key that lives as long as the listener."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self._key = secrets.token_bytes(32)
        self.clock = clock

    def issue(self, ttl: int) -> str:
        expiry = str(int(self.clock()) + ttl)
        return f"{expiry}.{self._mac(expiry)}"

    def valid(self, token: str | None) -> bool:
        if not token or token.count(".") != 1:
            return False
        expiry, mac = token.split(".")
        if not expiry.isdigit() or len(expiry) > 12 or not hmac.compare_digest(mac, self._mac(expiry)):
            return False
        return self.clock() < int(expiry)

    def _mac(self, text: str) -> str:
        return hmac.new(self._key, text.encode(), hashlib.sha256).hexdigest()


def metadata_app(source: Callable[[], RoleCredentials | None], tokens: MetadataTokens | None = None) -> Starlette:
    tokens = tokens or MetadataTokens()

    async def token(request: Request) -> Response:
        if "x-forwarded-for" in request.headers:
            return PlainTextResponse("Forbidden", status_code=403)
        ttl = request.headers.get("x-aws-ec2-metadata-token-ttl-seconds", "")
        if not ttl.isdigit() or len(ttl) > 6 or not 1 <= int(ttl) <= MAX_TOKEN_TTL:
            return PlainTextResponse("Bad Request", status_code=400)
        return PlainTextResponse(tokens.issue(int(ttl)),
                                 headers={"X-aws-ec2-metadata-token-ttl-seconds": ttl})

    async def credentials(request: Request) -> Response:
        if not tokens.valid(request.headers.get("x-aws-ec2-metadata-token")):
            return PlainTextResponse("Unauthorized", status_code=401)
        current = source()
        if current is None:
            return PlainTextResponse("Not Found", status_code=404)
        name = request.path_params.get("role", "")
        if not name:
            return PlainTextResponse(current.role_name)
        if name != current.role_name:
            return PlainTextResponse("Not Found", status_code=404)
        body = {"Code": "Success", "LastUpdated": _z(current.last_updated), "Type": "AWS-HMAC",
                "AccessKeyId": current.access_key_id, "SecretAccessKey": current.secret_access_key,
                "Token": current.token, "Expiration": _z(current.expiration)}
        return Response(json.dumps(body, indent=2), media_type="text/plain")

    async def other(request: Request) -> Response:
        if not tokens.valid(request.headers.get("x-aws-ec2-metadata-token")):
            return PlainTextResponse("Unauthorized", status_code=401)
        return PlainTextResponse("Not Found", status_code=404)

    return Starlette(routes=[
        Route(TOKEN_PATH, token, methods=["PUT"]),
        Route(CREDENTIALS_PATH, credentials, methods=["GET"]),
        Route(CREDENTIALS_PATH + "{role}", credentials, methods=["GET"]),
        Route("/{path:path}", other, methods=["GET"]),
    ])
