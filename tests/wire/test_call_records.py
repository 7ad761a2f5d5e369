"""What the single exit records of a call, for every IAM and STS operation: CloudTrail's lowerCamelCase names, and
no value held by a secret-bearing member (the model's `sensitive` ones and the named secrets) anywhere."""

from __future__ import annotations

import json
from typing import Any

import pytest
from botocore.model import Shape
from hypothesis import HealthCheck, given, settings

from gatehouse.wire.call_records import SECRET_MEMBERS, CallRecords, read_only
from gatehouse.wire.service_models import ServiceModels
from tests.wire.wire_shape_strategies import value_for

_MODELS = ServiceModels()
_OPERATIONS = [(s, n) for s in ("iam", "sts") for n in sorted(_MODELS.service(s).operation_names)]
_SETTINGS = settings(max_examples=5, deadline=None, suppress_health_check=[HealthCheck.too_slow])
RECORDS = CallRecords()


def _strings(shape: Shape, value: Any, secret: bool, out: dict[bool, set[str]]) -> None:
    """Every string leaf of `value`, filed under whether a secret-bearing member holds it."""
    secret = secret or bool(shape.metadata.get("sensitive"))
    if shape.type_name == "structure" and isinstance(value, dict):
        for name, member in shape.members.items():
            if name in value:
                _strings(member, value[name], secret or name in SECRET_MEMBERS, out)
    elif shape.type_name == "list" and isinstance(value, list):
        for item in value:
            _strings(shape.member, item, secret, out)
    elif shape.type_name == "map" and isinstance(value, dict):
        for key, item in value.items():
            out[secret].add(str(key))
            _strings(shape.value, item, secret, out)
    elif isinstance(value, str):
        out[secret].add(value)


def _no_secret(shape: Shape | None, value: Any, record: Any) -> None:
    if shape is None or record is None:
        return
    found: dict[bool, set[str]] = {True: set(), False: set()}
    _strings(shape, value, False, found)
    text = json.dumps(record)
    for secret in found[True]:
        # Short or shared values could appear by chance in what is kept; a real secret is long and unique.
        if len(secret) >= 12 and not any(secret in kept for kept in found[False]):
            assert json.dumps(secret)[1:-1] not in text


@pytest.mark.parametrize(("service", "name"), _OPERATIONS)
def test_records_keep_no_secret(service: str, name: str) -> None:
    op = _MODELS.operation(service, name)
    assert op is not None

    @_SETTINGS
    @given(value_for(op.input_shape, for_output=False) if op.input_shape is not None else value_for_none(),
           value_for(op.output_shape, for_output=True) if op.output_shape is not None else value_for_none())
    def check(params: Any, result: Any) -> None:
        _no_secret(op.input_shape, params, RECORDS.request_parameters(op, params or {}))
        if op.output_shape is not None and result:
            _no_secret(op.output_shape, result, RECORDS._clean(op.output_shape, result))

    check()


def value_for_none() -> Any:
    from hypothesis import strategies as st

    return st.just(None)


def test_member_names_are_cloudtrails() -> None:
    op = _MODELS.operation("iam", "CreateSAMLProvider")
    assert op is not None
    got = RECORDS.request_parameters(op, {"SAMLMetadataDocument": "<x/>", "Name": "corp",
                                          "AddPrivateKey": "-----BEGIN PRIVATE KEY-----"})
    assert got == {"sAMLMetadataDocument": "<x/>", "name": "corp"}


@pytest.mark.parametrize(("operation", "expected"), [
    ("GetUser", True), ("ListUsers", True), ("SimulatePrincipalPolicy", True), ("GenerateCredentialReport", True),
    ("AssumeRole", True), ("GetSessionToken", True), ("DecodeAuthorizationMessage", True), ("LookupEvents", True),
    ("CreateUser", False), ("TagUser", False), ("ChangePassword", False), ("UpdateAssumeRolePolicy", False),
])
def test_read_only_follows_cloudtrail(operation: str, expected: bool) -> None:
    assert read_only(operation) is expected
