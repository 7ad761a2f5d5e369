"""Malformed Query requests are client errors, never internal failures, and unsigned requests are bounded before
anything parses them."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import urlencode

import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from starlette.datastructures import Headers

from gatehouse.app import Application
from gatehouse.storage.markers import encode_marker
from gatehouse.wire.http import MAX_UNSIGNED_BODY
from gatehouse.wire.query import QueryProtocol
from gatehouse.wire.service_models import ServiceModels
from tests.security.support import (
    ALLOW_ALL,
    HOST,
    Answer,
    Keys,
    asgi_request,
    call,
    new_app,
    ok,
    send,
    signed_headers,
    unsigned,
)


@pytest.fixture(scope="module")
def app() -> Iterator[Application]:
    application = new_app()
    ok(application, "iam", "CreateUser", {"UserName": "tagged"})
    ok(application, "iam", "TagUser", {"UserName": "tagged", "Tags.member.1.Key": "k", "Tags.member.1.Value": "v"})
    yield application
    application.close()


def test_list_indexes_of_any_length_keep_numeric_order() -> None:
    """Indexes are ordered without int(): Python refuses int() of more than 4300 digits (ValueError, which was an
    InternalFailure), and converting thousands of digits per parameter would be slow anyway."""
    operation = ServiceModels().service("iam").operation("CreateUser")
    huge = "9" * 5000
    params = {"UserName": "u", f"Tags.member.{huge}.Key": "last", "Tags.member.10.Key": "ten",
              "Tags.member.9.Key": "nine", "Tags.member.0002.Key": "two"}
    typed: Any = QueryProtocol().parse_params(operation, params)
    assert [t["Key"] for t in typed["Tags"]] == ["two", "nine", "ten", "last"]


def test_huge_list_index_over_the_wire(app: Application) -> None:
    answer = send(app, "iam", urlencode({"Action": "CreateUser", "Version": "2010-05-08", "UserName": "idx",
                                         f"Tags.member.{'9' * 5000}.Key": "k", f"Tags.member.{'9' * 5000}.Value": "v"}))
    assert answer.status == 200, answer.body[:300]


@pytest.mark.parametrize("digits", ["9" * 5000, "1" + "0" * 70])
def test_huge_integer_is_a_validation_error(app: Application, digits: str) -> None:
    answer = call(app, "iam", "ListUsers", {"MaxItems": digits})
    assert (answer.status, answer.code) == (400, "ValidationError")
    assert "Member must be an integer" in answer.message


@pytest.mark.parametrize("marker", ["\u00b2", "\u00b9\u00b2", "1\u00b3"])
def test_unicode_digit_markers_are_invalid_markers(app: Application, marker: str) -> None:
    """"²".isdigit() is true but int("²") raises: markers must be ASCII digits before they are converted."""
    for action, params in [("ListUserTags", {"UserName": "tagged", "Marker": marker}),
                           ("GetAccountAuthorizationDetails", {"Marker": encode_marker(marker)}),
                           ("SimulateCustomPolicy", {"PolicyInputList.member.1": ALLOW_ALL,
                                                     "ActionNames.member.1": "s3:GetObject",
                                                     "Marker": encode_marker(marker)})]:
        answer = call(app, "iam", action, params)
        assert (answer.status, answer.code) == (400, "ValidationError"), (action, answer.body[:300])


def test_simulator_marker_that_is_not_a_position(app: Application) -> None:
    answer = call(app, "iam", "SimulateCustomPolicy", {"PolicyInputList.member.1": ALLOW_ALL,
                                                       "ActionNames.member.1": "s3:GetObject",
                                                       "Marker": encode_marker("not-a-number")})
    assert (answer.status, answer.code, answer.message) == (400, "ValidationError", "Invalid Marker.")


def test_nul_is_refused_in_every_string_member(app: Application) -> None:
    """A member without a pattern (a policy's Description) used to reach storage with a NUL, which PostgreSQL
    refuses (an InternalFailure there); now both backends answer ValidationError."""
    answer = call(app, "iam", "CreatePolicy", {"PolicyName": "nul", "PolicyDocument": ALLOW_ALL,
                                               "Description": "a\x00b"})
    assert (answer.status, answer.code) == (400, "ValidationError")
    assert "description" in answer.message and "U+0000" in answer.message
    assert call(app, "iam", "GetPolicy", {"PolicyArn": "arn:aws:iam::123456789012:policy/nul"}).code == "NoSuchEntity"


def test_access_key_id_with_a_nul_is_an_unknown_key(app: Application) -> None:
    answer = call(app, "iam", "ListUsers", keys=Keys("AKIA\x00AAAAAAAAAAAAAAA", "secret"))
    assert (answer.status, answer.code) == (403, "InvalidClientTokenId")


def test_unsigned_requests_are_bounded_before_parsing(app: Application) -> None:
    params = {"Action": "AssumeRoleWithWebIdentity", "Version": "2011-06-15", "Padding": "x" * MAX_UNSIGNED_BODY}
    answer = unsigned(app, params)
    assert (answer.status, answer.code) == (413, "RequestEntityTooLarge")
    answer = unsigned(app, {"Action": "AssumeRoleWithWebIdentity", "Version": "2011-06-15",
                            "RoleArn": "arn:aws:iam::123456789012:role/r", "RoleSessionName": "ss",
                            "WebIdentityToken": "not-a-jwt"})
    assert answer.code == "InvalidIdentityToken"


def test_no_request_is_handled_on_the_event_loop(app: Application) -> None:
    """An unsigned call whose parameter *value* contained "X-Amz-Signature=" was once judged signed and run on the
    event loop, where AssumeRoleWithWebIdentity may fetch an issuer's keys and stall every other request. Now no
    AWS API request runs there, signed or not (issue 16: one caller's heavy request stalled everyone)."""
    import threading

    assert app.asgi is not None
    endpoint, seen = app.asgi.endpoint, []
    handle = endpoint.handle

    def recording(*args: Any) -> Any:
        seen.append(threading.get_ident())
        return handle(*args)
    endpoint.handle = recording  # type: ignore[method-assign]
    try:
        body = "Action=AssumeRoleWithWebIdentity&Version=2011-06-15&Foo=X-Amz-Signature%3D1"
        asgi_request(app, "POST", "/", body_chunks=[body.encode()])
        signed = signed_headers("iam", "Action=ListUsers&Version=2010-05-08")
        asgi_request(app, "POST", "/", body_chunks=[b"Action=ListUsers&Version=2010-05-08"], headers=dict(signed))
    finally:
        endpoint.handle = handle  # type: ignore[method-assign]
    assert len(seen) == 2 and threading.get_ident() not in seen  # asyncio.run's loop runs in this thread


class _HostUnsigned(SigV4Auth):
    def headers_to_sign(self, request: AWSRequest) -> Any:
        headers = super().headers_to_sign(request)
        del headers["host"]
        return headers


def test_host_must_be_a_signed_header(app: Application) -> None:
    """Without `host` among the signed headers, a captured signature would also be good for another host (whose
    name reaches the request: the outbound issuer URL is taken from it). AWS refuses such requests."""
    body = "Action=GetCallerIdentity&Version=2011-06-15"
    request = AWSRequest("POST", f"http://{HOST}/", data=body,
                         headers={"Content-Type": "application/x-www-form-urlencoded; charset=utf-8", "Host": HOST})
    _HostUnsigned(Credentials("test", "test"), "sts", "us-east-1").add_auth(request)
    assert "host" not in request.headers["Authorization"].split("SignedHeaders=")[1].split(",")[0].split(";")
    assert app.asgi is not None
    status, payload = app.asgi.endpoint.handle("POST", "/", "", Headers(headers=dict(request.headers)), body.encode(),
                                               "127.0.0.1", False)
    answer = Answer(status, payload)
    assert (answer.status, answer.code) == (400, "IncompleteSignature")
    assert "'Host' or ':authority' must be a 'SignedHeader'" in answer.message


def test_absurd_content_length_is_too_large(app: Application) -> None:
    """A Content-Length of thousands of digits made int() raise inside the ASGI app (an unhandled 500)."""
    answer = asgi_request(app, "POST", "/", body_chunks=[b"Action=GetCallerIdentity"],
                          headers={"content-length": "9" * 5000})
    assert answer.status == 413 and b"RequestEntityTooLarge" in answer.body and answer.chunks_read == 0
