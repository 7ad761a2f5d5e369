"""What the request path's single exit knows about a call, turned into the `ApiCall` the trail keeps.

The botocore model says which members hold secrets (`sensitive`); CloudTrail's conventions say how members are named
in a record (lowerCamelCase: `UserName` → `userName`), which operations are read-only, and which responses are worth
keeping. Everything here reads the model; nothing is written per operation.
"""

from __future__ import annotations

import base64
import datetime as dt
from collections.abc import Mapping
from typing import Any

from botocore.model import OperationModel, Shape

from gatehouse.wire.query import member_path_name

# Secret-bearing members the models do not all mark `sensitive` (STS's SessionToken, MFA codes, the SAML assertion
# and web identity token that are themselves credentials). Removed wherever they appear, whatever the model says.
SECRET_MEMBERS = frozenset({
    "SecretAccessKey", "SessionToken", "Password", "NewPassword", "OldPassword", "PrivateKey", "AddPrivateKey",
    "Base32StringSeed", "QRCodePNG", "ServicePassword", "ServiceCredentialSecret", "AuthenticationCode1",
    "AuthenticationCode2", "TokenCode", "SAMLAssertion", "WebIdentityToken", "TradeInToken",
})

# CloudTrail's readOnly: the operations that read and change nothing. STS's credential operations are read-only
# in CloudTrail's records too (they issue a credential and change no stored state).
_READ_PREFIXES = ("Get", "List", "Describe", "Lookup", "Simulate", "Generate", "Decode")
_READ_OPERATIONS = frozenset({"AssumeRole", "AssumeRoleWithSAML", "AssumeRoleWithWebIdentity", "AssumeRoot"})
# Responses CloudTrail leaves out (`responseElements: null`): reads, except the STS calls that issue credentials,
# whose record names the session they made.
_RESPONSE_KEPT = frozenset({"GetSessionToken", "GetFederationToken"}) | _READ_OPERATIONS
_RESPONSE_DROPPED = ("Get", "List", "Describe", "Lookup", "Simulate", "Decode")


def read_only(operation: str) -> bool:
    return operation in _READ_OPERATIONS or operation.startswith(_READ_PREFIXES)


def keeps_response(operation: str) -> bool:
    return operation in _RESPONSE_KEPT or not operation.startswith(_RESPONSE_DROPPED)


def request_parameters(operation: OperationModel, params: Mapping[str, Any]) -> dict[str, Any] | None:
    """The input as CloudTrail's `requestParameters`: lowerCamelCase names, secrets removed; None when empty."""
    shape = operation.input_shape
    if shape is None or not params:
        return None
    value = _clean(shape, params)
    return value or None


def response_elements(operation: OperationModel, result: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """The output as CloudTrail's `responseElements` (None for the reads CloudTrail does not record a response of)."""
    shape = operation.output_shape
    if shape is None or not result or not keeps_response(operation.name):
        return None
    value = _clean(shape, result)
    return value or None


def _secret(name: str, member: Shape) -> bool:
    return name in SECRET_MEMBERS or bool(member.metadata.get("sensitive"))


def _clean(shape: Shape, value: Any) -> Any:
    kind = shape.type_name
    if kind == "structure":
        if not isinstance(value, Mapping):
            return None
        out: dict[str, Any] = {}
        for name, member in shape.members.items():
            item = value.get(name)
            if item is None or _secret(name, member):
                continue
            out[member_path_name(name)] = _clean(member, item)
        return out
    if shape.metadata.get("sensitive"):
        return None
    if kind == "list":
        return [_clean(shape.member, item) for item in value if item is not None] if isinstance(value, list | tuple) \
            else None
    if kind == "map":
        return {str(k): _clean(shape.value, v) for k, v in value.items()} if isinstance(value, Mapping) else None
    if kind == "timestamp":
        if isinstance(value, dt.datetime):
            moment = value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)
            return moment.strftime("%Y-%m-%dT%H:%M:%SZ")
        return str(value)
    if kind == "blob":
        raw = value.encode("utf-8") if isinstance(value, str) else bytes(value)
        return base64.b64encode(raw).decode("ascii")
    if isinstance(value, bool | int | float | str):
        return value
    return str(value)
