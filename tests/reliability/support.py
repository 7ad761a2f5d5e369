"""Helpers of the reliability suite: an application whose clock a test can move, and a signed request whose parts a
test can change after signing."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from starlette.datastructures import Headers

from gatehouse.app import Application, build
from gatehouse.settings import Settings
from tests.security.support import HOST, ROOT, Answer, Keys


class MovableClock:
    """The server's clock: real time plus an offset a test sets, or a fixed instant."""

    def __init__(self, fixed: dt.datetime | None = None) -> None:
        self.offset = dt.timedelta()
        self.fixed = fixed

    def __call__(self) -> dt.datetime:
        return (self.fixed or dt.datetime.now(dt.UTC)) + self.offset


def app_with_clock(clock: MovableClock, **settings: Any) -> Application:
    app = build(Settings(dev=True, **settings), clock=clock)
    app.bootstrap()
    return app


@dataclass
class Signed:
    """A request as signed: what a client (or an eavesdropper) holds."""

    method: str
    path: str
    query: str
    headers: dict[str, str]
    body: bytes

    def send(self, app: Application, **changes: Any) -> Answer:
        """Hand the request, with any part replaced, to the AWS endpoint."""
        parts = {"method": self.method, "path": self.path, "query": self.query, "headers": self.headers,
                 "body": self.body, **changes}
        assert app.asgi is not None
        status, payload = app.asgi.endpoint.handle(parts["method"], parts["path"], parts["query"],
                                                   Headers(headers=parts["headers"]), parts["body"], "127.0.0.1",
                                                   False)
        return Answer(status, payload)


def sign(service: str, body: str, keys: Keys = ROOT, *, query: str = "") -> Signed:
    url = f"http://{HOST}/" + (f"?{query}" if query else "")
    request = AWSRequest("POST", url, data=body,
                         headers={"Content-Type": "application/x-www-form-urlencoded; charset=utf-8", "Host": HOST})
    SigV4Auth(Credentials(keys.key, keys.secret, keys.token), service, "us-east-1").add_auth(request)
    return Signed("POST", "/", query, dict(request.headers), body.encode())
