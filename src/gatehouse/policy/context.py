"""The request context: who asks, for what action on which resource, and the condition keys.

Condition key names are case-insensitive ("IAM JSON policy elements: Condition"), so keys are stored lower-cased.
A value is a string (single-valued key) or a tuple of strings (multivalued key such as `aws:TagKeys`). Keys that
the principal implies (`aws:username`, `aws:userid`, `aws:PrincipalArn`, `aws:PrincipalAccount`,
`aws:PrincipalType`) are derived unless the caller gives them. Time keys (`aws:CurrentTime`, `aws:EpochTime`) come
only from the caller: the engine never reads a clock.

The context is built once per request and only read by the evaluator, so it can be shared between threads.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from .principals import PRINCIPAL_TYPES, Principal

KeyValue = str | tuple[str, ...]


class RequestContext:
    """An authorization request, in the form the evaluator reads fast."""

    __slots__ = ("action", "action_lc", "keys", "principal", "resource", "resource_account", "resource_part",
                 "service")

    def __init__(
        self,
        principal: Principal,
        action: str,
        resource: str = "*",
        resource_account: str | None = None,
        keys: Mapping[str, str | Sequence[str]] | None = None,
    ) -> None:
        self.principal = principal
        self.action = action
        self.action_lc = action.lower()
        self.service = self.action_lc.partition(":")[0]
        self.resource = resource
        parts = resource.split(":", 5)
        self.resource_part: str | None = parts[5] if len(parts) == 6 and parts[0] == "arn" else None
        if resource_account is None:
            resource_account = (parts[4] or None) if len(parts) == 6 else None
            if resource_account is None:
                resource_account = principal.account
        self.resource_account = resource_account
        self.keys: dict[str, KeyValue] = {}
        for name, value in (keys or {}).items():
            self.keys[name.lower()] = value if isinstance(value, str) else tuple(value)
        self._derive()

    def _derive(self) -> None:
        p = self.principal
        keys = self.keys
        if p.kind == "anonymous":
            keys.setdefault("aws:principaltype", "Anonymous")
            return
        if p.kind == "service":
            keys.setdefault("aws:principalservicename", p.name or p.arn)
            return
        if p.kind in ("web-identity", "saml"):
            return
        if p.kind == "assumed-role" and p.role_arn:
            keys.setdefault("aws:principalarn", p.role_arn)
        else:
            keys.setdefault("aws:principalarn", p.arn)
        if p.account:
            keys.setdefault("aws:principalaccount", p.account)
        ptype = PRINCIPAL_TYPES.get(p.kind)
        if ptype:
            keys.setdefault("aws:principaltype", ptype)
        if p.kind == "user" and p.name:
            keys.setdefault("aws:username", p.name)
        if p.user_id:
            keys.setdefault("aws:userid", p.user_id)

    def get(self, key: str) -> KeyValue | None:
        """A condition key's value, by case-insensitive name."""
        return self.keys.get(key.lower())

    def __repr__(self) -> str:
        return f"RequestContext({self.principal.arn!r}, {self.action!r}, {self.resource!r})"
