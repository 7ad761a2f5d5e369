"""Authorization: may this caller perform this action on this resource? Asked by every use case, so the API,
the console and operator commands get the same checks.

The account root may do anything in its own account. Every other principal is decided by the policy engine
(default deny).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from gatehouse.errors import AccessDenied
from gatehouse.model import Caller, Tag
from gatehouse.storage.repository import UnitOfWork


class Authorizer:
    def __init__(self, *, enforce: bool = True) -> None:
        self.enforce = enforce

    def require(self, tx: UnitOfWork, caller: Caller, action: str, resource: str, *,
                resource_tags: Callable[[], Sequence[Tag]] | None = None,
                context: Mapping[str, Any] | None = None) -> None:
        if caller.is_root or not self.enforce:
            return
        raise AccessDenied(
            f"User: {caller.arn} is not authorized to perform: {action} on resource: {resource} "
            f"because no identity-based policy allows the {action} action"
        )
