"""A JSON 1.1 service on the real endpoint: boto3's `cloudtrail` client against a live server whose router answers
CloudTrail's LookupEvents with a test handler. The request is routed by `X-Amz-Target`, validated, authorized and
answered exactly as a Query one; refusals come back in the JSON shapes botocore reads."""

from __future__ import annotations

import json
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
import uvicorn
from botocore.config import Config
from botocore.exceptions import ClientError

from gatehouse.app import Services, build
from gatehouse.model import Caller
from gatehouse.services.operation import operation
from gatehouse.settings import Settings
from gatehouse.wire.dispatch import Router
from gatehouse.wire.http import AwsEndpoint, WireConfig, build_app
from tests.support.servers import free_port

WHEN = datetime(2026, 12, 1, 12, 0, 0, tzinfo=UTC)


class FakeTrail:
    """Stands in for the audit service: authorizes `cloudtrail:LookupEvents` and answers one event."""

    def __init__(self, services: Services) -> None:
        self.services = services
        self.seen: list[dict[str, Any]] = []

    @operation
    def lookup_events(self, caller: Caller, **params: Any) -> dict[str, Any]:
        with self.services.store.read(caller.account_id) as tx:
            self.services.authorizer.require(tx, caller, "cloudtrail:LookupEvents", "*")
        self.seen.append(params)
        return {"Events": [{"EventId": "e-1", "EventName": "CreateUser", "EventTime": WHEN,
                            "CloudTrailEvent": json.dumps({"eventName": "CreateUser"})}]}


@dataclass
class Live:
    url: str
    trail: FakeTrail
    app: Any

    def client(self, service: str, key: str = "test", secret: str = "test") -> Any:
        return boto3.client(service, endpoint_url=self.url, aws_access_key_id=key, aws_secret_access_key=secret,
                            region_name="us-east-1", config=Config(retries={"max_attempts": 1}))

    def post(self, body: bytes, headers: dict[str, str]) -> tuple[int, dict[str, Any], str]:
        request = urllib.request.Request(self.url + "/", data=body, method="POST", headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return response.status, json.loads(response.read()), response.headers["content-type"]
        except urllib.error.HTTPError as e:
            return e.code, json.loads(e.read()), e.headers["content-type"]


@pytest.fixture(scope="module")
def live() -> Iterator[Live]:
    app = build(Settings(dev=True))
    app.bootstrap()
    services = app.services
    trail = FakeTrail(services)
    router = Router(services.router.models, {"iam": services.iam, "sts": services.sts_handlers, "cloudtrail": [trail]})
    endpoint = AwsEndpoint(router, services.authenticator, WireConfig(), services.clock)
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(build_app(endpoint), host="127.0.0.1", port=port, log_level="error"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    try:
        yield Live(f"http://127.0.0.1:{port}", trail, app)
    finally:
        server.should_exit = True
        thread.join(10)
        app.close()


def test_boto3_cloudtrail_reaches_the_handler_through_x_amz_target(live: Live) -> None:
    got = live.client("cloudtrail").lookup_events(
        LookupAttributes=[{"AttributeKey": "EventName", "AttributeValue": "CreateUser"}], MaxResults=5)
    assert got["Events"][0]["EventId"] == "e-1"
    assert got["Events"][0]["EventTime"] == WHEN
    assert live.trail.seen[-1] == {"lookup_attributes": [{"AttributeKey": "EventName",
                                                          "AttributeValue": "CreateUser"}], "max_results": 5}


def test_the_model_constraints_are_checked_as_for_query(live: Live) -> None:
    with pytest.raises(ClientError) as caught:
        live.client("cloudtrail").lookup_events(MaxResults=500)
    assert caught.value.response["Error"]["Code"] == "ValidationException"
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400


def test_an_operation_without_a_handler_is_an_unknown_operation(live: Live) -> None:
    with pytest.raises(ClientError) as caught:
        live.client("cloudtrail").describe_trails()
    assert caught.value.response["Error"]["Code"] == "UnknownOperationException"


def _signed_headers(url: str, target: str, body: bytes) -> dict[str, str]:
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    request = AWSRequest("POST", url + "/", data=body,
                         headers={"Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": target})
    SigV4Auth(Credentials("test", "test"), "cloudtrail", "us-east-1").add_auth(request)
    return dict(request.headers.items())


PREFIX = "com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101"


@pytest.mark.parametrize("target", [f"{PREFIX}.NoSuchThing", "Other_2020.LookupEvents", PREFIX])
def test_unknown_targets_answer_unknown_operation(live: Live, target: str) -> None:
    status, body, content_type = live.post(b"{}", _signed_headers(live.url, target, b"{}"))
    assert (status, body["__type"]) == (400, "UnknownOperationException")
    assert content_type == "application/x-amz-json-1.1"


def test_a_body_that_is_not_json_is_a_serialization_exception(live: Live) -> None:
    status, body, _ = live.post(b"{not json", _signed_headers(live.url, f"{PREFIX}.LookupEvents", b"{not json"))
    assert (status, body["__type"]) == (400, "SerializationException")


def test_a_request_without_a_signature_answers_in_json(live: Live) -> None:
    status, body, content_type = live.post(b"{}", {"X-Amz-Target": f"{PREFIX}.LookupEvents",
                                                   "Content-Type": "application/x-amz-json-1.1"})
    assert (status, body["__type"]) == (400, "MissingAuthenticationTokenException")
    assert content_type == "application/x-amz-json-1.1"


def test_an_unknown_key_and_a_bad_signature_answer_as_json_services_do(live: Live) -> None:
    with pytest.raises(ClientError) as unknown:
        live.client("cloudtrail", key="AKIAUNKNOWNKEY000000").lookup_events()
    assert unknown.value.response["Error"]["Code"] == "UnrecognizedClientException"
    with pytest.raises(ClientError) as bad:
        live.client("cloudtrail", secret="wrong").lookup_events()
    assert bad.value.response["Error"]["Code"] == "InvalidSignatureException"


def test_a_user_without_permission_is_denied_in_json(live: Live) -> None:
    iam = live.client("iam")
    iam.create_user(UserName="reader")
    key = iam.create_access_key(UserName="reader")["AccessKey"]
    trail = live.client("cloudtrail", key["AccessKeyId"], key["SecretAccessKey"])
    with pytest.raises(ClientError) as caught:
        trail.lookup_events()
    assert caught.value.response["Error"]["Code"] == "AccessDeniedException"
    assert "cloudtrail:LookupEvents" in caught.value.response["Error"]["Message"]
    iam.put_user_policy(UserName="reader", PolicyName="trail", PolicyDocument=json.dumps(
        {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "cloudtrail:LookupEvents",
                                                 "Resource": "*"}]}))
    assert trail.lookup_events()["Events"][0]["EventId"] == "e-1"


def test_json_calls_leave_through_the_same_exit(live: Live) -> None:
    from tests.wire.test_single_exit import Recording

    endpoint = live.app.services.endpoint
    recording = Recording()
    ours = AwsEndpoint(Router(endpoint.models, {"cloudtrail": [live.trail]}), endpoint.authenticator, WireConfig(),
                       live.app.clock, recorder=recording)
    headers = _signed_headers(live.url, f"{PREFIX}.LookupEvents", b'{"MaxResults": 3}')
    reply = ours.handle("POST", "/", "", {k.lower(): v for k, v in headers.items()} | {"host": live.url[7:]},
                         b'{"MaxResults": 3}', "127.0.0.1", False)
    assert reply.status == 200, reply
    (served,) = recording.finished
    assert (served.service, served.operation, served.read_only) == ("cloudtrail", "LookupEvents", True)
    assert served.request_parameters == {"maxResults": 3} and served.response_elements is None
    recording.clear()
    reply = ours.handle("POST", "/", "", {"x-amz-target": f"{PREFIX}.LookupEvents"}, b"{}", "127.0.0.1", False)
    (refused,) = recording.recorded
    assert (refused.service, refused.operation, refused.error_code) == (
        "cloudtrail", "LookupEvents", "MissingAuthenticationTokenException")
