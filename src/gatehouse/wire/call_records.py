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
_RESPONSE_KEPT = frozenset({"GetSessionToken", "GetFederationToken", "GetWorkloadCredentials"}) | _READ_OPERATIONS
_RESPONSE_DROPPED = ("Get", "List", "Describe", "Lookup", "Simulate", "Decode")


def read_only(operation: str) -> bool:
    return operation in _READ_OPERATIONS or operation.startswith(_READ_PREFIXES)


def keeps_response(operation: str) -> bool:
    return operation in _RESPONSE_KEPT or not operation.startswith(_RESPONSE_DROPPED)


class CallRecords:
    """Turns a call's input and output into CloudTrail's `requestParameters` and `responseElements`.

    What to keep of each structure (member, record name) is worked out once per shape and kept on this instance
    (one per endpoint): botocore builds a shape's traits anew on every read, which would cost tens of microseconds
    a call."""

    def __init__(self) -> None:
        self._plans: dict[Shape, tuple[tuple[str, str, Shape], ...]] = {}
        self._sensitive: dict[Shape, bool] = {}

    def request_parameters(self, operation: OperationModel, params: Mapping[str, Any]) -> dict[str, Any] | None:
        """The input as CloudTrail's `requestParameters`: lowerCamelCase names, secrets removed; None when empty."""
        shape = operation.input_shape
        if shape is None or not params:
            return None
        return self._clean(shape, params) or None

    def response_elements(self, operation: OperationModel, result: Mapping[str, Any] | None
                          ) -> dict[str, Any] | None:
        """The output as CloudTrail's `responseElements` (None for the reads CloudTrail records no response of)."""
        shape = operation.output_shape
        if shape is None or not result or not keeps_response(operation.name):
            return None
        return self._clean(shape, result) or None

    def _plan(self, shape: Shape) -> tuple[tuple[str, str, Shape], ...]:
        plan = self._plans.get(shape)
        if plan is None:
            plan = tuple((name, member_path_name(name), member) for name, member in shape.members.items()
                         if name not in SECRET_MEMBERS and not member.metadata.get("sensitive"))
            self._plans[shape] = plan
        return plan

    def _is_sensitive(self, shape: Shape) -> bool:
        found = self._sensitive.get(shape)
        if found is None:
            found = self._sensitive[shape] = bool(shape.metadata.get("sensitive"))
        return found

    def _clean(self, shape: Shape, value: Any) -> Any:
        kind = shape.type_name
        if kind == "structure":
            if not isinstance(value, Mapping):
                return None
            out: dict[str, Any] = {}
            for name, out_name, member in self._plan(shape):
                item = value.get(name)
                if item is not None:
                    out[out_name] = self._clean(member, item)
            return out
        if self._is_sensitive(shape):
            return None
        if kind == "list":
            if not isinstance(value, list | tuple):
                return None
            return [self._clean(shape.member, item) for item in value if item is not None]
        if kind == "map":
            return {str(k): self._clean(shape.value, v) for k, v in value.items()} if isinstance(value, Mapping) \
                else None
        return _scalar(kind, value)


def _scalar(kind: str, value: Any) -> Any:
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
