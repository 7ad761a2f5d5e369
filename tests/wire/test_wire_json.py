"""The JSON 1.1 protocol against botocore's own JSONSerializer (requests) and JSONParser (responses, errors), for
every operation of the JSON services Gatehouse speaks (CloudTrail, Organizations)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest
from botocore.model import OperationModel
from botocore.parsers import JSONParser
from botocore.serialize import JSONSerializer
from hypothesis import HealthCheck, given, settings

from gatehouse.errors import AccessDenied
from gatehouse.wire.json_protocol import JsonProtocol, SerializationException, target_operation
from gatehouse.wire.service_models import ServiceModels
from tests.wire.wire_shape_strategies import value_for

_MODELS = ServiceModels()
_SERVICES = ("cloudtrail", "organizations")
_OPERATIONS = [(s, n) for s in _SERVICES for n in sorted(_MODELS.service(s).operation_names)]
_SETTINGS = settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
JSON = JsonProtocol()


def _op(service: str, name: str) -> OperationModel:
    op = _MODELS.operation(service, name)
    assert op is not None
    return op


def _same_moments(value: Any) -> Any:
    """Timestamps as epoch seconds, so a value survives the wire's precision (botocore sends float seconds)."""
    if isinstance(value, datetime):
        return round(value.timestamp(), 3)
    if isinstance(value, dict):
        return {k: _same_moments(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_same_moments(v) for v in value]
    return value


@pytest.mark.parametrize(("service", "name"), _OPERATIONS)
def test_we_read_what_botocore_sends(service: str, name: str) -> None:
    op = _op(service, name)
    if op.input_shape is None:
        assert JSON.parse_body(op, b"") == {}
        return

    @_SETTINGS
    @given(value_for(op.input_shape, for_output=False))
    def round_trip(params: dict[str, Any]) -> None:
        request = JSONSerializer().serialize_to_request(params, op)
        target = request["headers"]["X-Amz-Target"]
        assert target_operation(target, op.metadata["targetPrefix"]) == name
        assert _same_moments(JSON.parse_body(op, request["body"])) == _same_moments(params)

    round_trip()


@pytest.mark.parametrize(("service", "name"), _OPERATIONS)
def test_botocore_reads_what_we_answer(service: str, name: str) -> None:
    op = _op(service, name)
    if op.output_shape is None:
        return

    @_SETTINGS
    @given(value_for(op.output_shape, for_output=True))
    def round_trip(result: dict[str, Any]) -> None:
        body = JSON.serialize_result(op, result)
        parsed = JSONParser().parse({"body": body, "status_code": 200, "headers": {}}, op.output_shape)
        parsed.pop("ResponseMetadata", None)
        assert _same_moments(parsed) == _same_moments(result)

    round_trip()


def test_errors_carry_the_code_in_type_and_the_message() -> None:
    op = _op("cloudtrail", "LookupEvents")
    status, body = JSON.serialize_error(AccessDenied("User: x is not authorized"))
    parsed = JSONParser().parse({"body": body, "status_code": status, "headers": {}}, op.output_shape)
    assert status == 403
    assert parsed["Error"] == {"Code": "AccessDenied", "Message": "User: x is not authorized"}


@pytest.mark.parametrize(("body", "why"), [
    (b"{not json", "not JSON"), (b"[1, 2]", "not an object"), (b'{"MaxResults": "5"}', "a string for an integer"),
    (b'{"MaxResults": true}', "a boolean for an integer"), (b'{"LookupAttributes": {"a": 1}}', "an object for a list"),
    (b'{"StartTime": "yesterday"}', "not a timestamp"), (b'{"StartTime": 1e400}', "an infinite timestamp"),
    (b"[" * 5000 + b"]" * 5000, "nested past the limit"),
])
def test_input_of_the_wrong_type_is_a_serialization_exception(body: bytes, why: str) -> None:
    with pytest.raises(SerializationException):
        JSON.parse_body(_op("cloudtrail", "LookupEvents"), body)


def test_timestamps_are_epoch_seconds_and_iso_text_is_read() -> None:
    op = _op("cloudtrail", "LookupEvents")
    when = datetime(2026, 12, 6, 3, 0, 5, tzinfo=UTC)
    assert JSON.parse_body(op, json.dumps({"StartTime": when.timestamp()}).encode())["StartTime"] == when
    assert JSON.parse_body(op, b'{"StartTime": "2026-12-06T03:00:05Z"}')["StartTime"] == when
    out = json.loads(JSON.serialize_result(op, {"Events": [{"EventId": "e", "EventTime": when}]}))
    assert out == {"Events": [{"EventId": "e", "EventTime": int(when.timestamp())}]}


@pytest.mark.parametrize("text", ['"\\ud800"', '"a\\udfffb"', '"\\uDBFF"'])
def test_a_lone_surrogate_is_a_serialization_error(text: str) -> None:
    op = ServiceModels().service("cloudtrail").operation("LookupEvents")
    assert op is not None
    with pytest.raises(SerializationException):
        JsonProtocol().parse_body(op, b'{"NextToken": ' + text.encode() + b"}")


def test_a_surrogate_pair_is_one_character() -> None:
    op = ServiceModels().service("cloudtrail").operation("LookupEvents")
    assert op is not None
    assert JsonProtocol().parse_body(op, b'{"NextToken": "\\ud83d\\ude00"}') == {"NextToken": "\U0001f600"}
