"""(service, operation) → the use case that answers it.

Use cases are plain methods named after the operation in snake_case (`CreateUser` → `create_user`), taking the
authenticated caller and the input members in snake_case (`UserName` → `user_name`). The table is built once,
from the botocore model and the handler objects the composition root passes in: no per-operation wiring here.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from botocore import xform_name
from botocore.model import OperationModel

from gatehouse.errors import InvalidAction
from gatehouse.model import Caller
from gatehouse.wire.service_models import ServiceModels


@dataclass(frozen=True, slots=True)
class Route:
    service: str
    operation: OperationModel
    call: Callable[..., dict[str, Any]]
    arguments: Mapping[str, str]  # input member name -> keyword argument name

    def invoke(self, caller: Caller, params: Mapping[str, Any]) -> dict[str, Any]:
        kwargs = {self.arguments[k]: v for k, v in params.items() if k in self.arguments}
        return self.call(caller, **kwargs)


class Router:
    def __init__(self, models: ServiceModels, handlers: Mapping[str, Sequence[object]]) -> None:
        self.models = models
        self._routes: dict[tuple[str, str], Route] = {}
        for service, objects in handlers.items():
            info = models.service(service)
            for name in info.operation_names:
                method = _find(objects, xform_name(name))
                if method is None:
                    continue
                op = info.operation(name)
                assert op is not None
                members = op.input_shape.members if op.input_shape is not None else {}
                self._routes[(service, name)] = Route(service, op, method,
                                                      {m: xform_name(m) for m in members})

    def route(self, service: str, action: str, version: str | None = None) -> Route:
        found = self._routes.get((service, action))
        if found is None:
            info = self.models.get(service)
            api = version or (info.api_version if info else "")
            raise InvalidAction(f"Could not find operation {action} for version {api}")
        return found

    def unauthenticated(self, action: str, version: str) -> Route | None:
        """The route for an operation that its model lets callers make without signing, found by API version."""
        for (service, name), route in self._routes.items():
            if name == action and route.operation.auth_type == "none":
                info = self.models.get(service)
                if info is not None and info.api_version == version:
                    return route
        return None

    def operations(self, service: str) -> list[str]:
        return sorted(name for s, name in self._routes if s == service)


def _find(objects: Sequence[object], attribute: str) -> Callable[..., dict[str, Any]] | None:
    for obj in objects:
        method = getattr(obj, attribute, None)
        if callable(method):
            return method  # type: ignore[no-any-return]
    return None
