"""The wire pieces end to end with an unmodified boto3 client: requests are intercepted before they leave the
process, authenticated and parsed by our code, answered by a stub service and parsed again by boto3."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import boto3
import pytest
from botocore.awsrequest import AWSPreparedRequest, AWSResponse
from botocore.exceptions import ClientError
from starlette.datastructures import Headers

from gatehouse.errors import AwsError, InvalidAction, NoSuchEntity
from gatehouse.wire.constraints import InputValidator
from gatehouse.wire.query import QueryProtocol
from gatehouse.wire.service_models import ServiceModels
from gatehouse.wire.sigv4 import SigV4Verifier, parse_request_auth

SECRETS = {"AKIAIOSFODNN7EXAMPLE": "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"}
CREATED = datetime(2026, 11, 29, 5, 16, 5, tzinfo=UTC)


class _Raw:
    def __init__(self, body: bytes) -> None:
        self._body = body

    def stream(self, **_: Any) -> Iterator[bytes]:
        yield self._body


class StubServer:
    """What wire/http.py and wire/dispatch.py do, reduced to the pieces under test."""

    def __init__(self, handlers: dict[str, Callable[[dict[str, Any]], dict[str, Any] | None]]) -> None:
        self.models, self.query, self.validator = ServiceModels(), QueryProtocol(), InputValidator()
        self.verifier = SigV4Verifier()
        self.handlers = handlers
        self.seen: list[tuple[str, dict[str, Any]]] = []

    def __call__(self, request: AWSPreparedRequest, **_: Any) -> AWSResponse:
        url = urlsplit(request.url)
        headers = Headers(
            headers={k: v.decode() if isinstance(v, bytes) else v for k, v in request.headers.items()}
            | {"host": url.netloc}
        )
        body = request.body or b""
        body = body if isinstance(body, bytes) else body.encode()
        service, namespace = None, None
        try:
            auth = parse_request_auth(request.method, url.path or "/", url.query, headers)
            secret = SECRETS[auth.access_key_id]
            self.verifier.verify(
                auth, request.method, url.path or "/", url.query, headers, body, secret, datetime.now(UTC)
            )
            info = self.models.service(auth.service)
            service, namespace = info.name, info.xml_namespace
            params = dict(parse_qsl(url.query, keep_blank_values=True))
            params |= dict(parse_qsl(body.decode(), keep_blank_values=True))
            operation = info.operation(params.get("Action", ""))
            if operation is None:
                raise InvalidAction(f"Could not find operation {params.get('Action')} for version {info.api_version}")
            args = self.query.parse_params(operation, params)
            self.validator.validate(operation, args)
            self.seen.append((operation.name, args))
            result = self.handlers[operation.name](args)
            status, payload = 200, self.query.serialize_result(operation, result, "req-1", namespace)
        except AwsError as error:
            status, payload = self.query.serialize_error(error, "req-1", namespace)
        assert service is None or service in ("iam", "sts")
        return AWSResponse(request.url, status, {"x-amzn-RequestId": "req-1"}, _Raw(payload))


def _client(service: str, server: StubServer, secret: str = SECRETS["AKIAIOSFODNN7EXAMPLE"]) -> Any:
    client = boto3.client(
        service,
        endpoint_url="http://127.0.0.1:4599",
        region_name="us-east-1",
        aws_access_key_id="AKIAIOSFODNN7EXAMPLE",
        aws_secret_access_key=secret,
    )
    client.meta.events.register(f"before-send.{service}", server)
    return client


def _user(name: str) -> dict[str, Any]:
    return {
        "Path": "/",
        "UserName": name,
        "UserId": "AIDA" + "X" * 17,
        "Arn": f"arn:aws:iam::123456789012:user/{name}",
        "CreateDate": CREATED,
    }


def _no_user(args: dict[str, Any]) -> dict[str, Any]:
    raise NoSuchEntity(f"The user with name {args['UserName']} cannot be found.")


@pytest.fixture
def server() -> StubServer:
    return StubServer(
        {
            "CreateUser": lambda args: {"User": _user(args["UserName"]) | {"Tags": args.get("Tags", [])}},
            "ListUsers": lambda args: {
                "Users": [_user(f"u{i}") for i in range(args.get("MaxItems", 3))],
                "IsTruncated": False,
            },
            "GetUser": _no_user,
            "DeleteUser": lambda args: None,
            "GetCallerIdentity": lambda args: {
                "UserId": "AIDA",
                "Account": "123456789012",
                "Arn": "arn:aws:iam::123456789012:user/alice",
            },
        }
    )


def test_create_and_list_users(server: StubServer) -> None:
    iam = _client("iam", server)
    created = iam.create_user(UserName="alice", Path="/", Tags=[{"Key": "team", "Value": "blue"}])
    assert created["User"]["UserName"] == "alice" and created["User"]["CreateDate"] == CREATED
    assert created["User"]["Tags"] == [{"Key": "team", "Value": "blue"}]
    assert created["ResponseMetadata"]["RequestId"] == "req-1"
    assert server.seen[-1] == (
        "CreateUser",
        {"UserName": "alice", "Path": "/", "Tags": [{"Key": "team", "Value": "blue"}]},
    )
    listed = iam.list_users(MaxItems=5)
    assert [u["UserName"] for u in listed["Users"]] == ["u0", "u1", "u2", "u3", "u4"]
    assert listed["IsTruncated"] is False
    iam.delete_user(UserName="alice")


def test_sts_get_caller_identity(server: StubServer) -> None:
    identity = _client("sts", server).get_caller_identity()
    assert identity["Account"] == "123456789012"


@pytest.mark.parametrize(
    ("call", "code", "status", "message"),
    [
        (lambda iam: iam.get_user(UserName="bob"), "NoSuchEntity", 404, "The user with name bob cannot be found."),
        (
            lambda iam: iam.create_user(UserName="bad name!"),
            "ValidationError",
            400,
            "1 validation error detected: Value at 'userName' failed to satisfy constraint: Member must "
            "satisfy regular expression pattern: [\\w+=,.@-]+",
        ),
        (
            lambda iam: iam.list_users(MaxItems=1001),
            "ValidationError",
            400,
            "1 validation error detected: Value at 'maxItems' failed to satisfy constraint: "
            "Member must have value less than or equal to 1000",
        ),
    ],
)
def test_errors_reach_boto3_as_aws_sends_them(
    call: Callable[[Any], Any], code: str, status: int, message: str, server: StubServer
) -> None:
    with pytest.raises(ClientError) as caught:
        call(_client("iam", server))
    error = caught.value.response
    assert (error["Error"]["Code"], error["Error"]["Message"], error["Error"]["Type"]) == (code, message, "Sender")
    assert error["ResponseMetadata"]["HTTPStatusCode"] == status


def test_wrong_secret_is_refused(server: StubServer) -> None:
    with pytest.raises(ClientError) as caught:
        _client("iam", server, secret="not-the-secret").list_users()
    assert caught.value.response["Error"]["Code"] == "SignatureDoesNotMatch"
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    assert server.seen == []
