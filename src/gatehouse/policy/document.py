"""Policy documents as an immutable typed tree: `parse` turns JSON into it, `to_json` turns it back.

Every statement keeps where it came from: its index, its JSON path (`/Statement/1`, or `/Statement` when the
policy has a single statement object) and, when the policy was given as text, its start and end position.
Positions follow the IAM policy simulator's `StartPosition`/`EndPosition`: 1-based lines, and columns that point
just past the statement's opening `{` and just past its closing `}` (the AWS CLI reference shows
`{"Version":"2012-10-17","Statement":{...}}` on one line answered with columns 38 and 167).

A `Policy` is hashable by content (a SHA-256 of its canonical JSON), so compiled forms can be cached by it.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from enum import Enum
from typing import Any, NamedTuple

from .diagnostics import Diagnostic, PolicyError
from .elements import condition_text
from .jsontext import JsonSyntaxError, ParsedJson, parse_policy_json, pointer
from .kinds import PolicyKind
from .validate import validate, validate_parsed

__all__ = [
    "ConditionClause", "Effect", "Policy", "PolicyKind", "Position", "PrincipalSpec", "Statement", "parse",
]


class Effect(Enum):
    ALLOW = "Allow"
    DENY = "Deny"


class Position(NamedTuple):
    """A location as the IAM simulator reports it."""

    line: int
    column: int


@dataclass(frozen=True, slots=True)
class PrincipalSpec:
    """The value of `Principal`/`NotPrincipal`: `"*"`, or principal type -> identifiers."""

    wildcard: bool = False
    entries: tuple[tuple[str, tuple[str, ...]], ...] = ()

    def values(self, ptype: str) -> tuple[str, ...]:
        for name, vals in self.entries:
            if name == ptype:
                return vals
        return ()

    def to_json(self) -> Any:
        if self.wildcard:
            return "*"
        return {name: list(vals) for name, vals in self.entries}


class ConditionClause(NamedTuple):
    """One operator/key pair of a `Condition` block with its values (as IAM reads them: strings)."""

    operator: str
    key: str
    values: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Statement:
    """One statement; exactly one of each Action/NotAction and Resource/NotResource pair may be set."""

    index: int
    path: str
    effect: Effect
    sid: str | None = None
    principal: PrincipalSpec | None = None
    not_principal: PrincipalSpec | None = None
    actions: tuple[str, ...] | None = None
    not_actions: tuple[str, ...] | None = None
    resources: tuple[str, ...] | None = None
    not_resources: tuple[str, ...] | None = None
    conditions: tuple[ConditionClause, ...] = ()
    start: Position | None = field(default=None, compare=False)
    end: Position | None = field(default=None, compare=False)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self.sid is not None:
            out["Sid"] = self.sid
        out["Effect"] = self.effect.value
        for name, value in (("Principal", self.principal), ("NotPrincipal", self.not_principal)):
            if value is not None:
                out[name] = value.to_json()
        for name, items in (("Action", self.actions), ("NotAction", self.not_actions),
                            ("Resource", self.resources), ("NotResource", self.not_resources)):
            if items is not None:
                out[name] = list(items)
        if self.conditions:
            block: dict[str, dict[str, list[str]]] = {}
            for clause in self.conditions:
                block.setdefault(clause.operator, {})[clause.key] = list(clause.values)
            out["Condition"] = block
        return out


@dataclass(frozen=True, eq=False, slots=True)
class Policy:
    """A parsed, valid policy document."""

    statements: tuple[Statement, ...]
    kind: PolicyKind = PolicyKind.IDENTITY
    version: str | None = None
    id: str | None = None
    text: str | None = None
    digest: str = ""
    # Problems with rules IAM applies only when storing a policy, when parsed with `stored=False`.
    warnings: tuple[Diagnostic, ...] = ()

    @property
    def variables_enabled(self) -> bool:
        """Policy variables are substituted only in version 2012-10-17 documents."""
        return self.version == "2012-10-17"

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self.version is not None:
            out["Version"] = self.version
        if self.id is not None:
            out["Id"] = self.id
        out["Statement"] = [s.to_json() for s in self.statements]
        return out

    def to_text(self) -> str:
        return json.dumps(self.to_json(), indent=4)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Policy) and self.digest == other.digest and self.kind is other.kind

    def __hash__(self) -> int:
        return hash(self.digest)


def parse(document: str | dict[str, Any], *, kind: PolicyKind = PolicyKind.IDENTITY,
          require_version: bool = False, stored: bool = True) -> Policy:
    """Parse and validate a policy; raises `PolicyError` listing every problem (IAM's answer first) when it is not
    valid. `require_version`: as `validate`'s (managed policies must say 2012-10-17).

    `stored=False` parses a document to evaluate it rather than to store it (`gatehouse eval`, the simulator's
    inputs): problems with rules IAM applies only when storing a policy (`Diagnostic.stored_only`) do not refuse
    it; they come back in `Policy.warnings`.
    """
    if isinstance(document, str):
        try:
            parsed: ParsedJson | None = parse_policy_json(document)
        except JsonSyntaxError:
            raise PolicyError(validate(document, kind=kind, require_version=require_version)) from None
        problems = validate_parsed(parsed, kind, require_version=require_version,  # type: ignore[arg-type]
                                   stored=stored)
        if problems:  # re-read precisely to locate each problem
            problems = validate(document, kind=kind, require_version=require_version, stored=stored)
        value = parsed.value  # type: ignore[union-attr]
        text: str | None = document
    else:
        parsed, text, value = None, None, document
        problems = validate(document, kind=kind, require_version=require_version, stored=stored)
    warnings: tuple[Diagnostic, ...] = ()
    if problems and not stored:
        warnings = tuple(d for d in problems if d.stored_only)
        problems = [d for d in problems if not d.stored_only]
    if problems:
        raise PolicyError(problems)
    return _build(value, kind, text, parsed, warnings)


def _build(doc: dict[str, Any], kind: PolicyKind, text: str | None, parsed: ParsedJson | None,
           warnings: tuple[Diagnostic, ...] = ()) -> Policy:
    raw = doc["Statement"]
    items = [(("Statement",), raw)] if isinstance(raw, dict) else [(("Statement", i), s) for i, s in enumerate(raw)]
    statements = tuple(_statement(i, path, st, parsed) for i, (path, st) in enumerate(items))
    # Content hash: of the text when there is one (what is stored is what is cached), else of canonical JSON.
    source = text if text is not None else json.dumps(doc, sort_keys=True, separators=(",", ":"))
    digest = hashlib.sha256(source.encode()).hexdigest()
    return Policy(statements, kind, doc.get("Version"), doc.get("Id"), text, digest, warnings)


def _statement(index: int, path: tuple[str | int, ...], st: dict[str, Any], parsed: ParsedJson | None) -> Statement:
    start = end = None
    if parsed is not None and path in parsed.spans:
        begin, finish = parsed.spans[path]
        line, col = parsed.line_col(begin)
        start = Position(line, col + 1)
        line, col = parsed.line_col(finish - 1)
        end = Position(line, col + 1)
    get = st.get
    return Statement(
        index,
        pointer(path),
        _EFFECTS[st["Effect"]],
        get("Sid"),
        _principal(get("Principal")),
        _principal(get("NotPrincipal")),
        _strings(get("Action")),
        _strings(get("NotAction")),
        _strings(get("Resource")),
        _strings(get("NotResource")),
        _conditions(get("Condition")),
        start,
        end,
    )


_EFFECTS = {e.value: e for e in Effect}


def _strings(value: Any) -> tuple[str, ...] | None:
    if value is None:
        return None
    return (value,) if isinstance(value, str) else tuple(value)


def _principal(value: Any) -> PrincipalSpec | None:
    if value is None:
        return None
    if value == "*":
        return PrincipalSpec(wildcard=True)
    entries = tuple(sorted((ptype, _strings(vals) or ()) for ptype, vals in value.items()))
    return PrincipalSpec(False, entries)


def _conditions(block: Any) -> tuple[ConditionClause, ...]:
    if not block:
        return ()
    clauses = []
    for operator, entries in block.items():
        for key, raw in entries.items():
            values = raw if isinstance(raw, list) else [raw]
            clauses.append(ConditionClause(operator, key, tuple(condition_text(v) for v in values)))
    return tuple(clauses)
