"""The Query protocol against botocore's own QuerySerializer (requests) and QueryParser (responses, errors)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any
from urllib.parse import parse_qsl, urlencode

import pytest
from botocore.model import OperationModel, ServiceModel
from botocore.parsers import QueryParser
from botocore.serialize import QuerySerializer
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gatehouse.errors import (
    AwsError,
    InternalFailure,
    MalformedPolicyDocument,
    NoSuchEntity,
    SignatureDoesNotMatch,
    ValidationError,
)
from gatehouse.wire.query import QueryProtocol
from gatehouse.wire.service_models import ServiceModels
from tests.wire.wire_shape_strategies import value_for

_MODELS = ServiceModels()
_OPERATIONS = [
    (service, name) for service in ("iam", "sts") for name in sorted(_MODELS.service(service).operation_names)
]
IAM_NS = "https://iam.amazonaws.com/doc/2010-05-08/"
STS_NS = "https://sts.amazonaws.com/doc/2011-06-15/"
_SETTINGS = settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _op(service: str, name: str) -> OperationModel:
    op = _MODELS.operation(service, name)
    assert op is not None
    return op


def _wire(body: dict[str, Any]) -> dict[str, str]:
    """What the HTTP layer hands over: the form body encoded and decoded again (every value a string)."""
    return dict(parse_qsl(urlencode(body), keep_blank_values=True))


def _botocore_parse(op: OperationModel, body: bytes, status: int = 200) -> dict[str, Any]:
    return QueryParser().parse({"body": body, "status_code": status, "headers": {}}, op.output_shape)


# --- parse_params: botocore serializes, we parse ----------------------------------------------------------


@pytest.mark.parametrize(("service", "name"), _OPERATIONS)
def test_parse_params_inverts_botocore_serializer(service: str, name: str, query: QueryProtocol) -> None:
    op = _op(service, name)
    if op.input_shape is None:
        assert query.parse_params(op, {"Action": name}) == {}
        return

    @_SETTINGS
    @given(value_for(op.input_shape, for_output=False))
    def round_trip(params: dict[str, Any]) -> None:
        body = QuerySerializer().serialize_to_request(params, op)["body"]
        assert query.parse_params(op, _wire(body)) == params

    round_trip()


def test_parse_params_reads_nested_lists_and_scalars(query: QueryProtocol) -> None:
    op = _op("iam", "CreateUser")
    params = {
        "Action": "CreateUser",
        "Version": "2010-05-08",
        "UserName": "alice",
        "Tags.member.1.Key": "team",
        "Tags.member.1.Value": "blue",
        "Tags.member.2.Key": "env",
        "Tags.member.2.Value": "",
        "Unknown": "ignored",
        "Tags.member.1.Colour": "ignored too",
    }
    assert query.parse_params(op, params) == {
        "UserName": "alice",
        "Tags": [{"Key": "team", "Value": "blue"}, {"Key": "env", "Value": ""}],
    }


def test_list_elements_are_ordered_by_index_not_by_arrival(query: QueryProtocol) -> None:
    op = _op("iam", "GetAccountAuthorizationDetails")
    params = {"Filter.member.10": "Role", "Filter.member.2": "Group", "Filter.member.1": "User"}
    assert query.parse_params(op, params) == {"Filter": ["User", "Group", "Role"]}


def test_empty_list_is_sent_as_a_bare_name(query: QueryProtocol) -> None:
    op = _op("iam", "TagUser")
    assert query.parse_params(op, {"UserName": "a", "Tags": ""}) == {"UserName": "a", "Tags": []}


def test_integers_booleans_and_timestamps_are_typed(query: QueryProtocol) -> None:
    assert query.parse_params(_op("iam", "ListUsers"), {"MaxItems": "100", "Marker": "m"}) == {
        "MaxItems": 100,
        "Marker": "m",
    }
    assert query.parse_params(_op("iam", "UpdateAccountPasswordPolicy"), {"RequireSymbols": "TRUE"}) == {
        "RequireSymbols": True
    }
    assert query.parse_params(_op("sts", "AssumeRole"), {"DurationSeconds": "-900"})["DurationSeconds"] == -900


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-11-29T05:16:05Z", datetime(2026, 11, 29, 5, 16, 5, tzinfo=UTC)),
        ("2026-11-29T05:16:05.250Z", datetime(2026, 11, 29, 5, 16, 5, 250000, tzinfo=UTC)),
        ("2026-11-29T07:16:05+02:00", datetime(2026, 11, 29, 5, 16, 5, tzinfo=UTC)),
        ("2026-11-29T05:16:05", datetime(2026, 11, 29, 5, 16, 5, tzinfo=UTC)),
        ("1795929365", datetime(2026, 11, 29, 5, 16, 5, tzinfo=UTC)),
        ("1795929365.5", datetime(2026, 11, 29, 5, 16, 5, 500000, tzinfo=UTC)),
    ],
)
def test_timestamps_parse_to_utc(text: str, expected: datetime, query: QueryProtocol) -> None:
    assert query.parse_params(_synthetic("Everything"), {"When": text}) == {"When": expected}


@pytest.mark.parametrize(
    ("service", "operation", "params", "message"),
    [
        (
            "iam",
            "ListUsers",
            {"MaxItems": "ten"},
            "1 validation error detected: Value 'ten' at 'maxItems' failed to satisfy constraint: "
            "Member must be an integer",
        ),
        (
            "iam",
            "ListUsers",
            {"MaxItems": "99999999999"},
            "1 validation error detected: Value '99999999999' at 'maxItems' failed to satisfy constraint: "
            "Member must be an integer",
        ),
        (
            "iam",
            "UpdateAccountPasswordPolicy",
            {"RequireSymbols": "yes"},
            "1 validation error detected: Value 'yes' at 'requireSymbols' failed to satisfy constraint: "
            "Member must be a boolean",
        ),
        (
            "iam",
            "CreateUser",
            {"UserName": "a", "Tags.member.1.Key": "k", "Tags.member.3.Value": "v"},
            None,
        ),
    ],
)
def test_values_of_the_wrong_type_are_validation_errors(
    service: str, operation: str, params: dict[str, str], message: str | None, query: QueryProtocol
) -> None:
    op = _op(service, operation)
    if message is None:  # not a type error: the gap in indices is tolerated, elements keep their order
        assert query.parse_params(op, params)["Tags"] == [{"Key": "k"}, {"Value": "v"}]
        return
    with pytest.raises(ValidationError) as caught:
        query.parse_params(op, params)
    assert caught.value.message == message
    assert caught.value.code == "ValidationError"


@pytest.mark.parametrize(
    ("params", "path", "kind"),
    [
        ({"Items.member.2.Count": "x"}, "items.2.member.count", "an integer"),
        ({"Flat.1": "ok", "Items.member.1.Flag": "maybe"}, "items.1.member.flag", "a boolean"),
        ({"Blob": "not base64!"}, "blob", "base64-encoded binary data"),
        ({"When": "yesterday"}, "when", "a timestamp"),
        ({"Ratio": "half"}, "ratio", "a number"),
        ({"Attrs.entry.1.key": "k", "Attrs.entry.1.value": "NaN-ish"}, "attrs.1.member", "an integer"),
        (
            {"Tree.Children.member.1.Children.member.1.Size": "big"},
            "tree.children.1.member.children.1.member.size",
            "an integer",
        ),
    ],
)
def test_type_errors_name_the_member_as_aws_does(
    params: dict[str, str], path: str, kind: str, query: QueryProtocol
) -> None:
    with pytest.raises(ValidationError) as caught:
        query.parse_params(_synthetic("Everything"), params)
    assert f"at '{path}' failed to satisfy constraint: Member must be {kind}" in caught.value.message


def test_synthetic_shapes_round_trip_through_botocore(query: QueryProtocol) -> None:
    """Flattened lists, renamed members, maps, blobs and recursion: features IAM and STS happen not to use."""
    op = _synthetic("Everything")
    params = {
        "Items": [{"Count": 1, "Flag": True}, {"Count": -2}],
        "Flat": ["ok", "also"],
        "Renamed": "r",
        "Attrs": {"a": 1, "b": 2},
        "Blob": b"\x00\xffbytes",
        "When": datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC),
        "Ratio": 0.25,
        "Tree": {"Name": "root", "Children": [{"Name": "leaf", "Size": 3, "Children": [{"Name": "deeper"}]}]},
    }
    body = QuerySerializer().serialize_to_request(params, op)["body"]
    assert "Flat.1" in body and "Attrs.entry.1.key" in body and "NewName" in body
    assert query.parse_params(op, _wire(body)) == params

    parsed = _botocore_parse(op, query.serialize_result(op, params, "rid", "urn:test"))
    parsed.pop("ResponseMetadata")
    assert parsed == params


def test_synthetic_flattened_output_lists_repeat_the_element(query: QueryProtocol) -> None:
    rendered = query.serialize_result(_synthetic("Everything"), {"Flat": ["a", "b"], "Renamed": "x"}, "r", None)
    assert b"<Flat>a</Flat><Flat>b</Flat>" in rendered
    assert b"<NewName>x</NewName>" in rendered


def _synthetic(name: str) -> OperationModel:
    return _SYNTHETIC.operation_model(name)


_SYNTHETIC = ServiceModel(
    {
        "metadata": {"protocol": "query", "apiVersion": "2020-01-01", "serviceId": "Synthetic"},
        "operations": {
            "Everything": {
                "name": "Everything",
                "http": {"method": "POST", "requestUri": "/"},
                "input": {"shape": "Thing"},
                "output": {"shape": "Thing", "resultWrapper": "EverythingResult"},
            }
        },
        "shapes": {
            "Thing": {
                "type": "structure",
                "members": {
                    "Items": {"shape": "ItemList"},
                    "Flat": {"shape": "FlatList"},
                    "Renamed": {"shape": "Str", "locationName": "NewName"},
                    "Attrs": {"shape": "AttrMap"},
                    "Blob": {"shape": "Bytes"},
                    "When": {"shape": "Time"},
                    "Ratio": {"shape": "Dbl"},
                    "Tree": {"shape": "Node"},
                },
            },
            "ItemList": {"type": "list", "member": {"shape": "Item"}},
            "Item": {"type": "structure", "members": {"Count": {"shape": "Int"}, "Flag": {"shape": "Bool"}}},
            "FlatList": {"type": "list", "member": {"shape": "Str"}, "flattened": True},
            "AttrMap": {"type": "map", "key": {"shape": "Str"}, "value": {"shape": "Int"}},
            "Node": {
                "type": "structure",
                "members": {"Name": {"shape": "Str"}, "Size": {"shape": "Int"}, "Children": {"shape": "Nodes"}},
            },
            "Nodes": {"type": "list", "member": {"shape": "Node"}},
            "Str": {"type": "string"},
            "Int": {"type": "integer"},
            "Bool": {"type": "boolean"},
            "Bytes": {"type": "blob"},
            "Time": {"type": "timestamp"},
            "Dbl": {"type": "double"},
        },
    },
    service_name="synthetic",
)


# --- serialize_result: we render, botocore parses ---------------------------------------------------------


@pytest.mark.parametrize(("service", "name"), _OPERATIONS)
def test_botocore_parses_what_we_render(service: str, name: str, query: QueryProtocol) -> None:
    op = _op(service, name)
    namespace = IAM_NS if service == "iam" else STS_NS
    if op.output_shape is None:
        body = query.serialize_result(op, {"Ignored": 1}, "rid-1", namespace)
        assert (
            body
            == (
                f'<{name}Response xmlns="{namespace}"><ResponseMetadata><RequestId>rid-1</RequestId>'
                f"</ResponseMetadata></{name}Response>"
            ).encode()
        )
        return

    @_SETTINGS
    @given(value_for(op.output_shape, for_output=True), st.text(min_size=1, max_size=8).filter(str.isalnum))
    def round_trip(result: dict[str, Any], request_id: str) -> None:
        parsed = _botocore_parse(op, query.serialize_result(op, result, request_id, namespace))
        metadata = parsed.pop("ResponseMetadata")
        assert metadata["RequestId"] == request_id
        assert parsed == result

    round_trip()


def _user(i: int, created: datetime) -> dict[str, Any]:
    return {
        "Path": "/",
        "UserName": f"user{i}",
        "UserId": f"AIDA{i:017d}",
        "Arn": f"arn:aws:iam::123456789012:user/user{i}",
        "CreateDate": created,
    }


def test_list_users_document_shape(query: QueryProtocol) -> None:
    op = _op("iam", "ListUsers")
    created = datetime(2026, 11, 29, 5, 16, 5, tzinfo=UTC)
    body = query.serialize_result(op, {"Users": [_user(1, created)], "IsTruncated": False}, "r-1", IAM_NS)
    assert body == (
        b'<ListUsersResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/"><ListUsersResult><Users><member>'
        b"<Path>/</Path><UserName>user1</UserName><UserId>AIDA00000000000000001</UserId>"
        b"<Arn>arn:aws:iam::123456789012:user/user1</Arn><CreateDate>2026-11-29T05:16:05Z</CreateDate>"
        b"</member></Users><IsTruncated>false</IsTruncated></ListUsersResult>"
        b"<ResponseMetadata><RequestId>r-1</RequestId></ResponseMetadata></ListUsersResponse>"
    )


def test_empty_lists_none_values_and_unknown_keys(query: QueryProtocol) -> None:
    op = _op("iam", "ListUsers")
    body = query.serialize_result(op, {"Users": [], "IsTruncated": True, "Marker": None, "Extra": "x"}, "r", None)
    assert b"<Users></Users><IsTruncated>true</IsTruncated></ListUsersResult>" in body
    assert b"Marker" not in body and b"Extra" not in body
    assert body.startswith(b"<ListUsersResponse><ListUsersResult>")


@pytest.mark.parametrize(
    "created",
    [
        datetime(2026, 11, 29, 5, 16, 5, 999999, tzinfo=UTC),
        datetime(2026, 11, 29, 5, 16, 5),  # naive is UTC
        datetime(2026, 11, 29, 7, 16, 5, tzinfo=timezone(timedelta(hours=2))),
        1795929365,
    ],
)
def test_timestamps_render_as_utc_seconds(created: Any) -> None:
    op = _op("iam", "GetUser")
    for protocol in (QueryProtocol(), QueryProtocol(timestamp_cache_size=0)):
        body = protocol.serialize_result(op, {"User": _user(1, created)}, "r", IAM_NS)
        assert b"<CreateDate>2026-11-29T05:16:05Z</CreateDate>" in body


def test_text_is_escaped_and_unrepresentable_characters_replaced(query: QueryProtocol) -> None:
    op = _op("iam", "GetUser")
    user = _user(1, datetime(2026, 1, 1, tzinfo=UTC)) | {"Path": "/a&b<c>\r\n/", "UserName": "bad\x00\x1fname"}
    parsed = _botocore_parse(op, query.serialize_result(op, {"User": user}, "<&>", IAM_NS))
    assert parsed["User"]["Path"] == "/a&b<c>\r\n/"
    assert parsed["User"]["UserName"] == "bad\ufffd\ufffdname"
    assert parsed["ResponseMetadata"]["RequestId"] == "<&>"


def test_non_string_values_in_string_members_are_rendered_as_text(query: QueryProtocol) -> None:
    op = _op("sts", "GetCallerIdentity")
    parsed = _botocore_parse(op, query.serialize_result(op, {"Account": 123456789012}, "r", STS_NS))
    assert parsed["Account"] == "123456789012"


# --- serialize_error --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("error", "namespace", "status", "kind"),
    [
        (NoSuchEntity("The user with name bob cannot be found."), IAM_NS, 404, "Sender"),
        (SignatureDoesNotMatch("Signature expired: a & b"), STS_NS, 403, "Sender"),
        (MalformedPolicyDocument("Syntax errors in policy. <x>"), IAM_NS, 400, "Sender"),
        (InternalFailure("The request processing has failed."), None, 500, "Receiver"),
        (AwsError("Rate exceeded", code="Throttling", http_status=400), STS_NS, 400, "Sender"),
    ],
)
def test_errors_render_as_aws_error_response(
    error: AwsError, namespace: str | None, status: int, kind: str, query: QueryProtocol
) -> None:
    got_status, body = query.serialize_error(error, "req-9", namespace)
    assert got_status == status
    xmlns = f' xmlns="{namespace}"' if namespace else ""
    assert body.startswith(f"<ErrorResponse{xmlns}><Error><Type>{kind}</Type>".encode())
    parsed = _botocore_parse(_op("iam", "GetUser"), body, status)
    assert parsed["Error"] == {"Type": kind, "Code": error.code, "Message": error.message}
    assert parsed["ResponseMetadata"]["RequestId"] == "req-9"
    assert parsed["ResponseMetadata"]["HTTPStatusCode"] == status


def test_error_without_message_has_no_message_element(query: QueryProtocol) -> None:
    _, body = query.serialize_error(AwsError(code="AccessDenied", http_status=403), "r", IAM_NS)
    assert b"<Message>" not in body
