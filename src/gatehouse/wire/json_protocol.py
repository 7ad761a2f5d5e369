"""The AWS JSON 1.1 protocol (CloudTrail, Organizations), generic over botocore shapes.

Implements what botocore's ``JSONSerializer`` writes and its ``JSONParser`` reads (Smithy's "awsJson1_1"):

* **Requests** are `POST /` with `X-Amz-Target: {targetPrefix}.{Operation}` and a JSON object body holding the
  input members by name. Timestamps are epoch seconds (a number; ISO 8601 text is accepted too), blobs base64 text.
* **Responses** are a JSON object of the output members (`application/x-amz-json-1.1`), timestamps as epoch
  seconds, absent members left out.
* **Errors** are `{"__type": Code, "message": Message}` with the error's HTTP status; botocore reads the code
  from `__type` (after any `#`) and the message from `message`.

Input of the wrong JSON type is a `SerializationException`, as AWS's JSON services answer it; constraints
(length, pattern, range, required) are checked afterwards by the same validator as every other protocol.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from botocore.model import OperationModel, Shape

from gatehouse.errors import AwsError

CONTENT_TYPE = "application/x-amz-json-1.1"
MAX_DEPTH = 32  # deeper than any input shape of the JSON services served; a hostile body goes no deeper


class SerializationException(AwsError):
    code, http_status = "SerializationException", 400


def target_operation(target: str, target_prefix: str) -> str | None:
    """The operation an `X-Amz-Target` header names for a service with `target_prefix`, or None."""
    prefix, dot, name = target.rpartition(".")
    return name if dot and prefix == target_prefix and name else None


class JsonProtocol:
    """Parses JSON 1.1 request bodies into boto3-shaped input dicts; renders results and errors as JSON."""

    content_type = CONTENT_TYPE

    def parse_body(self, operation: OperationModel, body: bytes) -> dict[str, Any]:
        shape = operation.input_shape
        if not body.strip():
            return {}
        try:
            document = json.loads(body)
        except (ValueError, RecursionError):
            raise SerializationException("The request body is not valid JSON.") from None
        if b"\\u" in body and not _encodable(document):
            # A lone surrogate escape ("\ud800") parses but is no Unicode text: refused here, before it can reach
            # storage or a response and fail there.
            raise SerializationException("The request body is not valid JSON.")
        if shape is None:
            return {}
        if not isinstance(document, dict):
            raise SerializationException("Start of structure or map found where not expected.")
        parsed: dict[str, Any] = _read(shape, document, "", 0)
        return parsed

    def serialize_result(self, operation: OperationModel, result: Mapping[str, Any]) -> bytes:
        shape = operation.output_shape
        out = _write(shape, result) if shape is not None else {}
        return json.dumps(out, separators=(",", ":"), ensure_ascii=False).encode("utf-8")

    def serialize_error(self, error: AwsError) -> tuple[int, bytes]:
        body: dict[str, Any] = {"__type": error.code}
        if error.message:
            body["message"] = error.message
        body.update(error.details)
        return error.http_status, json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


# --- input ----------------------------------------------------------------------------------------------------


def _encodable(document: Any) -> bool:
    try:
        json.dumps(document, ensure_ascii=False).encode("utf-8")
    except (UnicodeEncodeError, RecursionError):
        return False
    return True


def _bad(path: str, expected: str) -> SerializationException:
    where = f" at '{path}'" if path else ""
    return SerializationException(f"Expected {expected}{where}.")


def _read(shape: Shape, value: Any, path: str, depth: int) -> Any:
    kind = shape.type_name
    if depth > MAX_DEPTH:
        raise _bad(path, "a shallower value")
    if kind == "structure":
        if not isinstance(value, dict):
            raise _bad(path, "an object")
        out = {}
        for name, member in shape.members.items():
            if name in value and value[name] is not None:
                out[name] = _read(member, value[name], f"{path}.{name}" if path else name, depth + 1)
        return out
    if kind == "list":
        if not isinstance(value, list):
            raise _bad(path, "a list")
        return [_read(shape.member, item, f"{path}[{i}]", depth + 1) for i, item in enumerate(value)]
    if kind == "map":
        if not isinstance(value, dict):
            raise _bad(path, "an object")
        return {_read(shape.key, k, path, depth + 1): _read(shape.value, v, f"{path}.{k}", depth + 1)
                for k, v in value.items()}
    if kind in ("string", "character"):
        if not isinstance(value, str):
            raise _bad(path, "a string")
        return value
    if kind in ("integer", "long", "short", "byte"):
        if isinstance(value, bool) or not isinstance(value, int):
            raise _bad(path, "an integer")
        return value
    if kind in ("float", "double"):
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise _bad(path, "a number")
        return float(value)
    if kind == "boolean":
        if not isinstance(value, bool):
            raise _bad(path, "a boolean")
        return value
    if kind == "timestamp":
        return _read_timestamp(value, path)
    if kind == "blob":
        if not isinstance(value, str):
            raise _bad(path, "base64 text")
        try:
            return base64.b64decode(value, validate=True)
        except (binascii.Error, ValueError):
            raise _bad(path, "base64 text") from None
    raise _bad(path, f"a value of a type this server does not read ({kind})")


def _read_timestamp(value: Any, path: str) -> datetime:
    try:
        if isinstance(value, int | float) and not isinstance(value, bool):
            if not math.isfinite(value):
                raise ValueError(value)
            return datetime.fromtimestamp(value, UTC)
        if isinstance(value, str):
            moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
            return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    except (ValueError, OverflowError, OSError):
        pass
    raise _bad(path, "a timestamp")


# --- output ---------------------------------------------------------------------------------------------------


class _UnionError(ValueError):
    pass


def _write(shape: Shape, value: Any) -> Any:
    kind = shape.type_name
    if kind == "structure":
        out = {name: _write(member, value[name]) for name, member in shape.members.items()
               if value.get(name) is not None}
        if shape.metadata.get("union") and len(out) != 1:
            # Our bug, not the client's: SDKs refuse a union without exactly one member.
            raise _UnionError(f"a {shape.name} union must have exactly one member set")
        return out
    if kind == "list":
        return [_write(shape.member, item) for item in value if item is not None]
    if kind == "map":
        return {str(k): _write(shape.value, v) for k, v in value.items() if v is not None}
    if kind == "timestamp":
        return _epoch(value)
    if kind == "blob":
        raw = value.encode("utf-8") if isinstance(value, str) else bytes(value)
        return base64.b64encode(raw).decode("ascii")
    if kind in ("integer", "long", "short", "byte"):
        return int(value)
    if kind in ("float", "double"):
        return float(value)
    if kind == "boolean":
        return bool(value)
    return value if isinstance(value, str) else str(value)


def _epoch(value: Any) -> int | float:
    """Epoch seconds, whole where the moment is (botocore reads either)."""
    if isinstance(value, datetime):
        moment = value.replace(tzinfo=UTC) if value.tzinfo is None else value
        seconds = moment.timestamp()
    else:
        seconds = float(value)
    return int(seconds) if seconds == int(seconds) else seconds
