"""The AWS protocols the endpoint speaks, behind one interface, chosen per service from its botocore model.

A service's model names its protocol (`metadata.protocol`): IAM and STS speak Query (form parameters in, XML
out), CloudTrail and Organizations JSON 1.1 (a JSON body routed by `X-Amz-Target`, JSON out). The endpoint
(`wire/http.py`) does everything else the same way for every protocol: authenticate, route, validate, authorize,
call the use case, record the call. A protocol only knows its wire format:

* `read`: which operation the request asks for (Query: the `Action` parameter; JSON: the `X-Amz-Target` header
  under the model's `targetPrefix`) and the raw input;
* `parse_input`: that input as the boto3-shaped dict the model describes;
* `serialize_result` / `serialize_error`: the response body, and for errors the HTTP status and the code in the
  form the protocol's clients read (`<Code>` in Query XML, `__type` in JSON).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import parse_qsl

from botocore.model import OperationModel

from gatehouse.errors import AwsError
from gatehouse.wire.json_protocol import CONTENT_TYPE as JSON_CONTENT_TYPE
from gatehouse.wire.json_protocol import JsonProtocol, target_operation
from gatehouse.wire.query import QueryProtocol
from gatehouse.wire.service_models import ServiceInfo, ServiceModels

XML_CONTENT_TYPE = "text/xml"


@dataclass(frozen=True, slots=True)
class Incoming:
    """What a protocol read from a request before the operation is known: the operation asked for (None when the
    request names none), the API version it claims (Query only), and the raw input for `parse_input`."""

    action: str | None
    version: str | None
    raw: Any


class WireProtocol(Protocol):
    """One AWS protocol: request input in, result and errors out. Implementations hold compiled per-shape code,
    so there is one instance per application."""

    name: str
    content_type: str

    def read(self, service: ServiceInfo | None, headers: Mapping[str, str], query_string: str,
             body: bytes) -> Incoming: ...

    def parse_input(self, operation: OperationModel, incoming: Incoming) -> dict[str, Any]: ...

    def serialize_result(self, operation: OperationModel, result: Mapping[str, Any] | None, request_id: str,
                         service: ServiceInfo | None) -> bytes: ...

    def serialize_error(self, error: AwsError, request_id: str,
                        service: ServiceInfo | None) -> tuple[int, bytes]: ...

    def error_code(self, error: AwsError, service: ServiceInfo | None) -> str:
        """The code the client is told (and the record keeps)."""
        ...


def form_params(query_string: str, body: bytes) -> dict[str, str]:
    """Query parameters (minus a presigned request's signature parameters), then the form body."""
    params = {k: v for k, v in parse_qsl(query_string, keep_blank_values=True) if not k.startswith("X-Amz-")}
    if body:
        params.update(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))
    return params


class QueryWire:
    """AWS Query (IAM, STS): `Action` and its parameters form-encoded; XML results and `ErrorResponse` errors."""

    name = "query"
    content_type = XML_CONTENT_TYPE

    def __init__(self, query: QueryProtocol | None = None) -> None:
        self.query = query or QueryProtocol()

    def read(self, service: ServiceInfo | None, headers: Mapping[str, str], query_string: str,
             body: bytes) -> Incoming:
        params = form_params(query_string, body)
        return Incoming(params.get("Action") or None, params.get("Version"), params)

    def parse_input(self, operation: OperationModel, incoming: Incoming) -> dict[str, Any]:
        return self.query.parse_params(operation, incoming.raw)

    def serialize_result(self, operation: OperationModel, result: Mapping[str, Any] | None, request_id: str,
                         service: ServiceInfo | None) -> bytes:
        return self.query.serialize_result(operation, result, request_id, service.xml_namespace if service else None)

    def serialize_error(self, error: AwsError, request_id: str,
                        service: ServiceInfo | None) -> tuple[int, bytes]:
        return self.query.serialize_error(error, request_id, service.xml_namespace if service else None)

    def error_code(self, error: AwsError, service: ServiceInfo | None) -> str:
        return error.code


# The common errors under the names and statuses AWS's JSON services give them (their front end answers
# `UnrecognizedClientException`, `InvalidSignatureException`, ... with HTTP 400 where Query services answer
# `InvalidClientTokenId`, `SignatureDoesNotMatch`, ... with 403). Errors a service models keep their own code.
_JSON_COMMON: Mapping[str, tuple[str, int]] = {
    "AccessDenied": ("AccessDeniedException", 400),
    "InvalidAction": ("UnknownOperationException", 400),
    "MissingAction": ("UnknownOperationException", 400),
    "MissingAuthenticationToken": ("MissingAuthenticationTokenException", 400),
    "InvalidClientTokenId": ("UnrecognizedClientException", 400),
    "SignatureDoesNotMatch": ("InvalidSignatureException", 400),
    "IncompleteSignature": ("IncompleteSignatureException", 400),
    "ExpiredToken": ("ExpiredTokenException", 400),
    "ValidationError": ("ValidationException", 400),
    "Throttling": ("ThrottlingException", 400),
}


class JsonWire:
    """AWS JSON 1.1 (CloudTrail, Organizations): `X-Amz-Target: {targetPrefix}.{Operation}` and a JSON body;
    JSON results; errors as `{"__type": Code, "message": ...}`."""

    name = "json"
    content_type = JSON_CONTENT_TYPE

    def __init__(self, json: JsonProtocol | None = None) -> None:
        self.json = json or JsonProtocol()

    def read(self, service: ServiceInfo | None, headers: Mapping[str, str], query_string: str,
             body: bytes) -> Incoming:
        target = headers.get("x-amz-target", "")
        prefix = service.model.metadata.get("targetPrefix", "") if service else ""
        action = target_operation(target, prefix) if target else None
        if action is None:  # AWS's JSON front end answers a missing or foreign target so, naming nothing
            raise AwsError("", code="UnknownOperationException", http_status=400)
        return Incoming(action, None, body)

    def parse_input(self, operation: OperationModel, incoming: Incoming) -> dict[str, Any]:
        return self.json.parse_body(operation, incoming.raw)

    def serialize_result(self, operation: OperationModel, result: Mapping[str, Any] | None, request_id: str,
                         service: ServiceInfo | None) -> bytes:
        return self.json.serialize_result(operation, result or {})

    def serialize_error(self, error: AwsError, request_id: str,
                        service: ServiceInfo | None) -> tuple[int, bytes]:
        return self.json.serialize_error(self._as_json(error, service))

    def error_code(self, error: AwsError, service: ServiceInfo | None) -> str:
        return self._as_json(error, service).code

    @staticmethod
    def _as_json(error: AwsError, service: ServiceInfo | None) -> AwsError:
        common = _JSON_COMMON.get(error.code)
        if common is None or (service is not None and error.code in service.errors):
            return error
        return AwsError(error.message, code=common[0], http_status=common[1], details=error.details)


class Protocols:
    """The protocol of each service, from its model; one instance of each protocol per application."""

    def __init__(self, models: ServiceModels) -> None:
        self.models = models
        self.query = QueryWire()
        self.json = JsonWire()
        self._by_name: dict[str, WireProtocol] = {"query": self.query, "json": self.json}
        self._targets: dict[str, ServiceInfo] | None = None

    def for_service(self, service: ServiceInfo) -> WireProtocol | None:
        """The protocol `service` speaks, or None if its model's protocol is not one this server speaks."""
        return self._by_name.get(service.protocol)

    def by_target(self, headers: Mapping[str, str]) -> ServiceInfo | None:
        """The JSON service an `X-Amz-Target` header names (by its model's `targetPrefix`), or None: how a request
        that carries no credential scope is still answered in its own protocol."""
        target = headers.get("x-amz-target")
        if not target:
            return None
        if self._targets is None:
            targets: dict[str, ServiceInfo] = {}
            for name in sorted(self.models.known_services):
                info = self.models.get(name)
                prefix = info.model.metadata.get("targetPrefix") if info is not None else None
                if info is not None and prefix and info.protocol in self._by_name:
                    targets[prefix] = info
            self._targets = targets
        return self._targets.get(target.rpartition(".")[0])
