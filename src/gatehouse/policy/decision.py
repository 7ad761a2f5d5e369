"""The answer to an authorization request, with its reasons.

A decision always says which statements matched (policy label, Sid, index, position) and, for a deny, which policy
type denied explicitly or failed to allow, so that AccessDenied messages and the policy simulator can explain it.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from .document import Position
from .kinds import PolicyKind


class DecisionKind(Enum):
    ALLOW = "Allow"
    EXPLICIT_DENY = "ExplicitDeny"
    IMPLICIT_DENY = "ImplicitDeny"


@dataclass(frozen=True, slots=True)
class MatchedStatement:
    """A statement that applied to the request."""

    policy: str
    policy_type: PolicyKind
    sid: str | None
    index: int
    effect: str
    path: str
    start: Position | None = None
    end: Position | None = None


class Decision:
    """`kind`, the statements that `matched`, which policy type `denied_by`, and condition keys `missing_keys`.

    `rule` names a documented special rule that decided instead of the policies (see `evaluate.py`), else None.
    """

    __slots__ = ("denied_by", "error", "kind", "matched", "missing_keys", "rule")

    def __init__(
        self,
        kind: DecisionKind,
        matched: tuple[MatchedStatement, ...] = (),
        denied_by: PolicyKind | None = None,
        missing_keys: tuple[str, ...] = (),
        error: str | None = None,
        rule: str | None = None,
    ) -> None:
        self.kind = kind
        self.matched = matched
        self.denied_by = denied_by
        self.missing_keys = missing_keys
        self.error = error
        self.rule = rule

    @property
    def allowed(self) -> bool:
        return self.kind is DecisionKind.ALLOW

    def __repr__(self) -> str:
        by = self.denied_by.value if self.denied_by else None
        return f"Decision({self.kind.value}, denied_by={by}, matched={len(self.matched)})"
