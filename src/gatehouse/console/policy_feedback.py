"""What the policy editor shows while a document is typed: the engine's located problems (errors) plus a few
advisory warnings, each at its line and column.

Errors are exactly what `gatehouse.policy.validate` reports (the first is what IAM would answer with
`MalformedPolicyDocument`), so the editor and the API refuse the same documents. Warnings never block a save; they
point at things IAM accepts but that are usually mistakes: an IAM or STS action the Service Authorization Reference
does not list (the only services whose catalogue ships with Gatehouse), `"Allow"` of every action on every resource,
and, when a document is read as the simulator reads it, IAM's storage-time rules.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from enum import StrEnum
from functools import cache
from typing import Any

from gatehouse.policy import PolicyKind, validate
from gatehouse.policy.jsontext import JsonPath, JsonSyntaxError, ParsedJson, parse_json, pointer
from gatehouse.services.authorization_reference import SERVICES, AuthorizationReference

MAX_DOCUMENT_CHARS = 131_072  # far above any IAM quota (10,240 for a role's inline policies): a bound on the work


class EditorKind(StrEnum):
    """What the document being edited is for: it decides which of IAM's rules apply."""

    MANAGED = "managed"  # CreatePolicy, CreatePolicyVersion: Version 2012-10-17 required
    INLINE = "inline"  # PutUserPolicy, PutGroupPolicy, PutRolePolicy
    TRUST = "trust"  # a role's trust policy
    SIMULATION = "simulation"  # pasted into the simulator: read as the evaluator reads it
    RESOURCE = "resource"  # a resource-based policy pasted into the simulator, read as the evaluator reads it


@dataclass(frozen=True, slots=True)
class Finding:
    severity: str  # "error" or "warning"
    message: str
    line: int | None
    column: int | None
    path: str
    code: str
    detail: str = ""

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


@cache
def _reference() -> AuthorizationReference:
    return AuthorizationReference.shipped()


def action_names() -> list[str]:
    """Every IAM and STS action the reference lists, sorted: the simulator's and editor's suggestions."""
    return sorted(spec.name for spec in _reference().actions())


def check_document(text: str, kind: EditorKind) -> list[Finding]:
    """Errors first (in IAM's order), then warnings, each located in `text` where it can be."""
    if len(text) > MAX_DOCUMENT_CHARS:
        return [Finding("error", f"The document is longer than {MAX_DOCUMENT_CHARS:,} characters.", None, None, "",
                        "DOCUMENT_TOO_LONG")]
    policy_kind = {EditorKind.TRUST: PolicyKind.TRUST, EditorKind.RESOURCE: PolicyKind.RESOURCE}.get(
        kind, PolicyKind.IDENTITY)
    stored = kind not in (EditorKind.SIMULATION, EditorKind.RESOURCE)
    findings = []
    for d in validate(text, kind=policy_kind, require_version=kind is EditorKind.MANAGED, stored=stored):
        severity = "warning" if d.stored_only and not stored else "error"
        message = d.message
        if severity == "warning":
            message += " (IAM refuses this when it stores a policy; the simulator evaluates it as written)"
        findings.append(Finding(severity, message, d.line, d.column, d.path or "/", d.code, d.detail))
    if any(f.code == "JSON_SYNTAX_ERROR" for f in findings):
        return findings
    try:
        parsed = parse_json(text)
    except JsonSyntaxError:
        return findings
    return findings + _advice(parsed)


def _advice(parsed: ParsedJson) -> list[Finding]:
    doc = parsed.value
    statements = doc.get("Statement") if isinstance(doc, dict) else None
    if isinstance(statements, dict):
        items: list[tuple[JsonPath, Any]] = [(("Statement",), statements)]
    elif isinstance(statements, list):
        items = [(("Statement", n), st) for n, st in enumerate(statements)]
    else:
        return []
    out: list[Finding] = []
    for base, st in items:
        if not isinstance(st, dict):
            continue
        actions = st.get("Action")
        listed = [actions] if isinstance(actions, str) else actions if isinstance(actions, list) else []
        for n, action in enumerate(listed):
            if not isinstance(action, str) or "*" in action or "?" in action or action.count(":") != 1:
                continue
            service = action.split(":", 1)[0].lower()
            if service in SERVICES and _reference().action(action) is None:
                path = base + ("Action",) + ((n,) if isinstance(actions, list) else ())
                out.append(_located(parsed, path, "UNKNOWN_ACTION",
                                    f"{action} is not an action of {service.upper()} (AWS's Service Authorization "
                                    "Reference lists no such action), so this entry matches nothing."))
        resources = st.get("Resource")
        every_resource = resources == "*" or (isinstance(resources, list) and "*" in resources)
        every_action = actions == "*" or (isinstance(actions, list) and "*" in actions)
        if st.get("Effect") == "Allow" and every_action and every_resource and not st.get("Condition"):
            out.append(_located(parsed, base, "FULL_ACCESS",
                                "This statement allows every action on every resource (full administrator access)."))
    return out


def _located(parsed: ParsedJson, path: JsonPath, code: str, message: str) -> Finding:
    span = parsed.spans.get(path)
    line, column = parsed.line_col(span[0]) if span else (None, None)
    return Finding("warning", message, line, column, pointer(path), code)
