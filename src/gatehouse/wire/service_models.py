"""botocore's service models, loaded lazily and indexed for per-request lookups.

The wire layer is generic over these models: the operations a service answers, their input and output shapes,
the protocol, API version, XML namespace and the modeled error codes all come from the JSON files botocore ships
(the same files the SDK on the other end of the wire was generated from), so client and server agree by
construction. Loading a model costs tens of milliseconds, so it happens on first use of a service, once; after
that ``operation()`` is a dict lookup.

Services are addressed by the name in the SigV4 credential scope (the *signing name*, e.g. ``access-analyzer``)
or by botocore's service name (``accessanalyzer``); both resolve to the same :class:`ServiceInfo`.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from botocore.loaders import Loader, create_loader
from botocore.model import OperationModel, ServiceModel

#: Signing name (credential-scope service) → botocore service name, for the services Gatehouse speaks.
DEFAULT_SERVICES: Mapping[str, str] = {
    "iam": "iam",
    "sts": "sts",
    "organizations": "organizations",
    "cloudtrail": "cloudtrail",
    "access-analyzer": "accessanalyzer",
    "gatehouse": "gatehouse",
}

#: Models of our own, in botocore's layout, searched before botocore's: `gatehouse` (operator tasks no AWS
#: operation does in one call, e.g. OffboardUser). A botocore client loads them from here too.
MODELS_DIR = Path(__file__).parent / "models"


@dataclass(frozen=True, slots=True)
class ModeledError:
    """An error shape from the model: its wire code, HTTP status and which side is at fault."""

    code: str
    http_status: int
    sender_fault: bool


@dataclass(slots=True)
class ServiceInfo:
    """One loaded service: the botocore model plus the indexes the wire layer reads on every request."""

    name: str
    signing_name: str
    model: ServiceModel
    protocol: str
    api_version: str
    xml_namespace: str | None
    errors: Mapping[str, ModeledError]
    _operation_names: frozenset[str]
    _operations: dict[str, OperationModel] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def operation_names(self) -> frozenset[str]:
        return self._operation_names

    def operation(self, action: str) -> OperationModel | None:
        """The operation named ``action`` (exact, case-sensitive as AWS matches it), or None if there is none."""
        op = self._operations.get(action)
        if op is None and action in self._operation_names:
            with self._lock:
                op = self._operations.get(action)
                if op is None:
                    op = self.model.operation_model(action)
                    self._operations[action] = op
        return op


class ServiceModels:
    """The botocore models of the services this server speaks, each loaded on first use.

    One instance per application (built by the composition root); nothing here is module state, so two
    instances in one process are independent.
    """

    def __init__(self, services: Mapping[str, str] | None = None, *, loader: Loader | None = None) -> None:
        self._signing_to_name = dict(DEFAULT_SERVICES if services is None else services)
        self._aliases = {**{v: v for v in self._signing_to_name.values()}, **self._signing_to_name}
        self._name_to_signing = {v: k for k, v in self._signing_to_name.items()}
        self._loader = loader
        self._services: dict[str, ServiceInfo] = {}
        self._lock = threading.Lock()

    @property
    def known_services(self) -> frozenset[str]:
        """Every name a service may be addressed by (signing names and botocore names)."""
        return frozenset(self._aliases)

    def service_name(self, name: str) -> str | None:
        """botocore's name for ``name`` (a signing name or a botocore name), or None if not served."""
        return self._aliases.get(name)

    def get(self, name: str) -> ServiceInfo | None:
        """The service addressed by ``name``, loading its model on first use; None if this server does not serve it."""
        canonical = self._aliases.get(name)
        if canonical is None:
            return None
        info = self._services.get(canonical)
        if info is None:
            with self._lock:
                info = self._services.get(canonical)
                if info is None:
                    info = self._load(canonical)
                    self._services[canonical] = info
        return info

    def service(self, name: str) -> ServiceInfo:
        """Like :meth:`get` but raises KeyError for a service this server does not serve."""
        info = self.get(name)
        if info is None:
            raise KeyError(name)
        return info

    def operation(self, service: str, action: str) -> OperationModel | None:
        """The operation ``action`` of ``service``, or None if either is unknown."""
        info = self.get(service)
        return None if info is None else info.operation(action)

    def protocol(self, service: str) -> str:
        return self.service(service).protocol

    def api_version(self, service: str) -> str:
        return self.service(service).api_version

    def xml_namespace(self, service: str) -> str | None:
        return self.service(service).xml_namespace

    def error(self, service: str, code: str) -> ModeledError | None:
        """The modeled error ``code`` of ``service`` (HTTP status and fault side), or None if not modeled."""
        return self.service(service).errors.get(code)

    def _load(self, name: str) -> ServiceInfo:
        if self._loader is None:
            self._loader = create_loader(str(MODELS_DIR))
        model = ServiceModel(self._loader.load_service_model(name, "service-2"), service_name=name)
        metadata = model.metadata
        return ServiceInfo(
            name=name,
            signing_name=self._name_to_signing.get(name, model.signing_name or name),
            model=model,
            protocol=model.protocol,
            api_version=metadata["apiVersion"],
            xml_namespace=metadata.get("xmlNamespace"),
            errors=_modeled_errors(model),
            _operation_names=frozenset(model.operation_names),
        )


def _modeled_errors(model: ServiceModel) -> dict[str, ModeledError]:
    """Error code → status/fault, from the shapes marked ``exception`` (code and status from their ``error`` trait)."""
    errors: dict[str, ModeledError] = {}
    for shape in model.error_shapes:
        trait = shape.metadata.get("error", {})
        code = trait.get("code", shape.name)
        status = int(trait.get("httpStatusCode", 400))
        sender_fault = bool(trait.get("senderFault", status < 500))
        errors[code] = ModeledError(code, status, sender_fault)
    return errors
