"""In-process helpers for the security suite: an application built in memory, requests signed with botocore's own
SigV4 and handed to the AWS endpoint (or to the whole ASGI app, for paths other than `/`), answers parsed."""

from __future__ import annotations

import asyncio
import json
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from starlette.datastructures import Headers

from gatehouse.app import Application, build
from gatehouse.settings import Secret, Settings
from tests.support import MASTER_KEY

ACCOUNT = "123456789012"
VERSIONS = {"iam": "2010-05-08", "sts": "2011-06-15"}
ALLOW_ALL = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]})
HOST = "127.0.0.1:4599"


@dataclass(frozen=True)
class Keys:
    key: str
    secret: str
    token: str | None = None


ROOT = Keys("test", "test")


@dataclass(frozen=True)
class Answer:
    status: int
    body: bytes

    @property
    def xml(self) -> ET.Element:
        return ET.fromstring(self.body)

    @property
    def code(self) -> str | None:
        found = self.xml.find(".//{*}Error/{*}Code")
        return found.text if found is not None else None

    @property
    def message(self) -> str:
        found = self.xml.find(".//{*}Error/{*}Message")
        return (found.text or "") if found is not None else ""

    def text(self, tag: str) -> str:
        found = self.xml.find(f".//{{*}}{tag}")
        assert found is not None and found.text is not None, (tag, self.body[:500])
        return found.text


def new_app(db_url: str | None = None, **settings: Any) -> Application:
    """An application in memory (SQLite), or on `db_url` (PostgreSQL) with the same account and root key."""
    if db_url is None:
        app = build(Settings(dev=True, **settings))
    else:
        app = build(Settings(db_url=db_url, master_key=Secret(MASTER_KEY), account_id=ACCOUNT,
                             root_access_key_id=ROOT.key, root_secret_access_key=Secret(ROOT.secret), **settings))
    app.bootstrap()
    return app


def signed_headers(service: str, body: str, keys: Keys = ROOT, *, region: str = "us-east-1") -> Headers:
    request = AWSRequest("POST", f"http://{HOST}/", data=body,
                         headers={"Content-Type": "application/x-www-form-urlencoded; charset=utf-8", "Host": HOST})
    SigV4Auth(Credentials(keys.key, keys.secret, keys.token), service, region).add_auth(request)
    return Headers(headers=dict(request.headers))


def send(app: Application, service: str, body: str, keys: Keys = ROOT) -> Answer:
    """A signed POST of an already form-encoded body."""
    assert app.asgi is not None
    status, payload = app.asgi.endpoint.handle("POST", "/", "", signed_headers(service, body, keys), body.encode(),
                                               "127.0.0.1", False)
    return Answer(status, payload)


def call(app: Application, service: str, action: str, params: Mapping[str, str] | None = None,
         keys: Keys = ROOT) -> Answer:
    body = urlencode({"Action": action, "Version": VERSIONS[service], **(params or {})})
    return send(app, service, body, keys)


def ok(app: Application, service: str, action: str, params: Mapping[str, str] | None = None,
       keys: Keys = ROOT) -> Answer:
    answer = call(app, service, action, params, keys)
    assert answer.status == 200, (action, answer.body[:600])
    return answer


def unsigned(app: Application, params: Mapping[str, str], *, query_string: str = "") -> Answer:
    assert app.asgi is not None
    body = urlencode(params).encode()
    status, payload = app.asgi.endpoint.handle("POST", "/", query_string, Headers(headers={}), body, "127.0.0.1",
                                               False)
    return Answer(status, payload)


def user_with_key(app: Application, name: str, *, policy: str | None = None) -> Keys:
    """An IAM user (with an inline policy if given) and an access key of theirs."""
    ok(app, "iam", "CreateUser", {"UserName": name})
    if policy is not None:
        ok(app, "iam", "PutUserPolicy", {"UserName": name, "PolicyName": "inline", "PolicyDocument": policy})
    made = ok(app, "iam", "CreateAccessKey", {"UserName": name})
    return Keys(made.text("AccessKeyId"), made.text("SecretAccessKey"))


def session_keys(answer: Answer) -> Keys:
    return Keys(answer.text("AccessKeyId"), answer.text("SecretAccessKey"), answer.text("SessionToken"))


# --- the ASGI application as a whole (sign-in and other non-API paths) ----------------------------------------


@dataclass
class AsgiAnswer:
    status: int
    headers: list[tuple[bytes, bytes]]
    body: bytes
    chunks_read: int

    def json(self) -> Any:
        return json.loads(self.body)


def asgi_request(app: Application, method: str, path: str, *, body_chunks: Iterable[bytes] = (),
                 headers: Mapping[str, str] | None = None) -> AsgiAnswer:
    """Drive the ASGI app directly (no HTTP client): the body arrives in the given chunks, and the answer tells how
    many of them the application asked for before it responded."""
    assert app.asgi is not None
    chunks = list(body_chunks)
    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": method, "scheme": "http",
             "path": path, "raw_path": path.encode(), "query_string": b"", "root_path": "",
             "headers": [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in (headers or {}).items()],
             "client": ("127.0.0.1", 50000), "server": ("127.0.0.1", 4599)}
    state = {"read": 0, "status": 0, "headers": [], "body": b""}

    async def receive() -> dict[str, Any]:
        index = state["read"]
        state["read"] = index + 1
        if index < len(chunks):
            return {"type": "http.request", "body": chunks[index], "more_body": index + 1 < len(chunks)}
        if index == 0:
            return {"type": "http.request", "body": b"", "more_body": False}
        await asyncio.sleep(3600)  # the client would wait; the application must not ask again
        raise AssertionError("unreachable")

    async def send_message(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            state["status"], state["headers"] = message["status"], message.get("headers", [])
        elif message["type"] == "http.response.body":
            state["body"] += message.get("body", b"")

    async def run() -> None:
        await asyncio.wait_for(app.asgi(scope, receive, send_message), timeout=30)  # type: ignore[misc]

    asyncio.run(run())
    return AsgiAnswer(int(state["status"]), list(state["headers"]), bytes(state["body"]), int(state["read"]))
