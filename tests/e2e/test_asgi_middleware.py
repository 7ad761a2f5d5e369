"""The example notes service (examples/notes) behind `gatehouse.asgi.GatehouseAuth`, against a real Gatehouse: a
user with a matching policy reads a note, a user without one is refused with the engine's reason, a principal of
another account reads through the registry's resource policy only with an identity policy of its own; unsigned,
tampered and undeclared requests are refused; the cache answers a replayed request without asking again."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
import uvicorn
from botocore.credentials import Credentials
from examples.notes.app import create_app

from tests.support import ACCOUNT
from tests.support.authorize import OTHER, World, build_world, create_account, http, signed_headers
from tests.support.servers import free_port, persistent_args, running

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("asgi-middleware")]


class Served:
    """The notes service on a loopback port, in a thread of this process."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning"))
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> Served:
        self.thread.start()
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return self
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)

    def __exit__(self, *_: object) -> None:
        self.server.should_exit = True
        self.thread.join(10)

    def call(self, method: str, path: str, key: tuple[str, ...] | None, body: bytes = b"") -> tuple[int, Any]:
        url = self.url + path
        headers = signed_headers(method, url, body, key, "notes") if key else {}
        return http(method, url, body, headers)


@pytest.fixture(scope="module")
def world(tmp_path_factory: Any) -> Iterator[World]:
    data = str(tmp_path_factory.mktemp("data"))
    args, extra = persistent_args(data_dir=data)
    with running(*args) as ep:
        ep.key, ep.secret = extra["key"], extra["secret"]
        yield build_world(ep, create_account(["--data", data], {}))


@pytest.fixture(scope="module")
def notes(world: World) -> Iterator[Served]:
    app = create_app(endpoint=world.ep.url, credentials=Credentials(*world.keys["notes-app"]), account=None)
    with Served(app) as served:
        status, _ = served.call("PUT", "/notes/1", (world.ep.key, world.ep.secret), b"shopping list")
        assert status == 201
        yield served


def test_a_user_with_a_matching_policy_reads_a_note(world: World, notes: Served) -> None:
    status, body = notes.call("GET", "/notes/1", world.keys["alice"])
    assert status == 200, body
    assert body["text"] == "shopping list" and body["reader"] == f"arn:aws:iam::{ACCOUNT}:user/alice"
    assert body["author"] == f"arn:aws:iam::{ACCOUNT}:root"


def test_a_user_without_one_is_refused_with_the_engines_reason(world: World, notes: Served) -> None:
    status, body = notes.call("GET", "/notes/1", world.keys["bob"])
    assert status == 403 and body["__type"] == "AccessDeniedException"
    assert body["message"] == (f"User: arn:aws:iam::{ACCOUNT}:user/bob is not authorized to perform: notes:GetNote "
                               f"on resource: arn:aws:notes:us-east-1:{ACCOUNT}:note/1 because no identity-based "
                               "policy allows the notes:GetNote action")
    status, body = notes.call("PUT", "/notes/1", world.keys["alice"], b"overwritten")
    assert status == 403 and "notes:PutNote" in body["message"]
    assert notes.call("GET", "/notes/1", world.keys["alice"])[1]["text"] == "shopping list"


def test_cross_account_reads_need_both_policies(world: World, notes: Served) -> None:
    status, body = notes.call("GET", "/notes/1", world.keys["carol"])
    assert status == 200 and body["reader"] == f"arn:aws:iam::{OTHER}:user/carol"
    status, body = notes.call("GET", "/notes/1", world.keys["dave"])
    assert status == 403 and "no identity-based policy allows" in body["message"]


def test_unsigned_tampered_and_undeclared_requests_are_refused(world: World, notes: Served) -> None:
    status, body = notes.call("GET", "/notes/1", None)
    assert status == 401 and body["__type"] == "MissingAuthenticationTokenException"
    url = notes.url + "/notes/1"
    headers = signed_headers("GET", url, b"", world.keys["alice"], "notes")
    headers["Authorization"] = headers["Authorization"][:-4] + "0000"
    status, body = http("GET", url, b"", headers)
    assert status == 403 and body["__type"] == "InvalidSignatureException"
    # A signature for another path does not open this one.
    headers = signed_headers("GET", notes.url + "/notes/2", b"", world.keys["alice"], "notes")
    status, body = http("GET", url, b"", headers)
    assert status == 403 and body["__type"] == "InvalidSignatureException"
    status, body = notes.call("POST", "/notes/1", world.keys["alice"])
    assert status == 403 and "No action is declared" in body["message"]
    assert http("GET", notes.url + "/health")[0] == 200


def test_the_cache_answers_only_a_byte_identical_request(world: World, notes: Served) -> None:
    middleware = notes.app
    asked: list[str] = []
    post = middleware.client.post

    def counting(path: str, document: Any) -> Any:
        asked.append(path)
        return post(path, document)

    middleware.client.post = counting
    try:
        time.sleep(1.1)  # no earlier test's request (signed in the same second: the same bytes) in the cache
        url = notes.url + "/notes/1"
        headers = signed_headers("GET", url, b"", world.keys["alice"], "notes")
        assert http("GET", url, b"", headers)[0] == 200
        assert http("GET", url, b"", headers)[0] == 200
        assert len(asked) == 1  # the replay was answered from the cache
        time.sleep(1.1)  # a new signature (X-Amz-Date moves) is always asked
        assert notes.call("GET", "/notes/1", world.keys["alice"])[0] == 200
        assert len(asked) == 2
        denied = signed_headers("GET", url, b"", world.keys["bob"], "notes")
        assert http("GET", url, b"", denied)[0] == 403
        assert http("GET", url, b"", denied)[0] == 403
        assert len(asked) == 3
    finally:
        middleware.client.post = post


def test_fails_closed_when_gatehouse_is_unreachable(world: World) -> None:
    app = create_app(endpoint=f"http://127.0.0.1:{free_port()}", credentials=Credentials("AKIAX", "x"),
                     account=ACCOUNT, timeout=2)
    with Served(app) as served:
        status, body = served.call("GET", "/notes/1", world.keys["alice"])
    assert status == 503 and body["__type"] == "ServiceUnavailableException"


def test_a_presigned_url_works_too(world: World, notes: Served) -> None:
    from botocore.auth import SigV4QueryAuth
    from botocore.awsrequest import AWSRequest

    url = notes.url + "/notes/1"
    request = AWSRequest(method="GET", url=url, headers={"Host": url.split("/")[2]})
    SigV4QueryAuth(Credentials(*world.keys["alice"]), "notes", "us-east-1", expires=60).add_auth(request)
    status, body = http("GET", request.url)
    assert status == 200 and body["reader"] == f"arn:aws:iam::{ACCOUNT}:user/alice"
    status, body = http("GET", request.url[:-2] + "00")  # the signature is the last query parameter
    assert status == 403 and body["__type"] == "InvalidSignatureException"
