"""One line of `gatehouse eval`: an evaluation case (a dict) in, a result (a dict) out.

The format is docs/eval.md (it extends `shared/formats/eval-case.md`). Input: `id`, `request` (principal, action,
resource, optional resource_account, context) and `policies` (identity, resource, permissions_boundary, scps, rcps,
session). Output: `{"id", "decision", "matched": [{"policy", "sid", "statement"}], "reason"}` plus `"warnings"`
when a document breaks a rule IAM applies only when it stores a policy, or `{"id", "error"}` when the case cannot
be decided (malformed request, or a document outside the policy grammar). Unknown keys are ignored.

Every document the policy grammar accepts is decided: the storage-time rules (no region in an IAM resource ARN,
IAM resource types, the form of principal values) become located warnings, as the documents are evaluated as
written. `strict=True` (`gatehouse eval --strict`) applies them as IAM does when it stores a policy: the case is
then an error.

Policies are labelled in the output as `identity[0]`, `resource`, `permissions_boundary`, `session[0]`,
`scps[level][i]` and `rcps[level][i]`. A `resource` policy for an `sts:AssumeRole*` action whose statements have no
`Resource`/`NotResource` is read as the role's trust policy, whose allow is then required; for a `kms:` action it
is the key policy, whose allow is required too (`evaluate.py`).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from .compile import Compiler
from .context import RequestContext
from .decision import Decision, DecisionKind
from .diagnostics import Diagnostic, PolicyError
from .document import Policy, parse
from .evaluate import LabelledPolicy, PolicySet, evaluate
from .kinds import PolicyKind
from .messages import access_denied_message
from .principals import Principal


class CaseError(ValueError):
    """The case cannot be decided; the message says where and why."""


def evaluate_case(case: Any, *, compiler: Compiler | None = None, strict: bool = False) -> dict[str, Any]:
    """Decide one evaluation case; never raises for bad input (the result then carries `error`).

    `strict`: refuse documents that break IAM's storage-time rules, instead of deciding them with warnings.
    """
    case_id = case.get("id") if isinstance(case, Mapping) else None
    warnings: list[str] = []
    try:
        if not isinstance(case, Mapping):
            raise CaseError("a case must be a JSON object")
        ctx, policy_set = _read_case(case, compiler or Compiler(), strict, warnings)
        decision = evaluate(policy_set, ctx)
    except CaseError as exc:
        return {"id": case_id, "error": str(exc)}
    result = decision_line(case_id, decision, ctx)
    if warnings and "error" not in result:
        result["warnings"] = warnings
    return result


def decision_line(case_id: Any, decision: Decision, ctx: RequestContext) -> dict[str, Any]:
    """The output line of a decided case (also what POST /authorize answers): decision, matched statements (for an
    explicit deny, the denying ones), reason; or `error` when evaluation failed."""
    if decision.error is not None:
        return {"id": case_id, "error": f"evaluation failed: {decision.error}"}
    return {
        "id": case_id,
        "decision": decision.kind.value,
        "matched": [{"policy": m.policy, "sid": m.sid, "statement": m.index} for m in decision.matched
                    if decision.kind is not DecisionKind.EXPLICIT_DENY or m.effect == "Deny"],
        "reason": reason(decision, ctx),
    }


def evaluate_line(line: str, *, compiler: Compiler | None = None, strict: bool = False) -> dict[str, Any]:
    """Decode one JSON line and decide it."""
    try:
        case = json.loads(line)
    except json.JSONDecodeError as exc:
        return {"id": None, "error": f"malformed JSON: {exc.msg} (column {exc.colno})"}
    return evaluate_case(case, compiler=compiler, strict=strict)


def reason(decision: Decision, ctx: RequestContext) -> str:
    """A sentence explaining the decision: AWS's AccessDenied wording for denials."""
    if decision.rule is not None:
        return f"Allowed: {decision.rule}" if decision.allowed else decision.rule
    if decision.kind is DecisionKind.ALLOW:
        names = ", ".join(f"{m.policy} statement {m.index}" + (f" ({m.sid})" if m.sid else "")
                          for m in decision.matched if m.effect == "Allow")
        return f"Allowed by {names}" if names else "Allowed"
    return access_denied_message(decision, ctx, include_policy_arn=False)


def _read_case(case: Mapping[str, Any], compiler: Compiler, strict: bool, warnings: list[str]
               ) -> tuple[RequestContext, PolicySet]:
    request = case.get("request")
    if not isinstance(request, Mapping):
        raise CaseError("request: missing or not an object")
    ctx = _context(request)
    policies = case.get("policies") or {}
    if not isinstance(policies, Mapping):
        raise CaseError("policies: not an object")

    def one(raw: Any, where: str, kind: PolicyKind) -> LabelledPolicy:
        policy = _parse(raw, where, kind, strict)
        warnings.extend(f"policies.{where}: {_located(d)} (IAM refuses this when it stores a policy; evaluated as "
                        "written)" for d in policy.warnings)
        return LabelledPolicy(compiler.compile(policy), where, kind)

    def many(raw: Any, where: str, kind: PolicyKind) -> list[LabelledPolicy]:
        if raw is None:
            return []
        if not isinstance(raw, list):
            raw = [raw]
        return [one(doc, f"{where}[{i}]", kind) for i, doc in enumerate(raw)]

    def levels(raw: Any, where: str, kind: PolicyKind) -> list[list[LabelledPolicy]]:
        if raw is None:
            return []
        if not isinstance(raw, list) or not all(isinstance(level, list) for level in raw):
            raise CaseError(f"policies.{where}: must be a list of levels, each a list of policies")
        return [[one(doc, f"{where}[{n}][{i}]", kind) for i, doc in enumerate(level)]
                for n, level in enumerate(raw)]

    resource_raw = policies.get("resource")
    trust = resource_raw is not None and _looks_like_trust(resource_raw, ctx)
    resource = None
    if resource_raw is not None:
        resource = one(resource_raw, "resource", PolicyKind.TRUST if trust else PolicyKind.RESOURCE)
    boundary_raw = policies.get("permissions_boundary")
    session_raw = policies.get("session")
    policy_set = PolicySet(
        identity=many(policies.get("identity"), "identity", PolicyKind.IDENTITY),
        resource=resource,
        boundary=None if boundary_raw is None else one(boundary_raw, "permissions_boundary", PolicyKind.BOUNDARY),
        session=None if session_raw is None else many(session_raw, "session", PolicyKind.SESSION),
        scps=levels(policies.get("scps"), "scps", PolicyKind.SCP),
        rcps=levels(policies.get("rcps"), "rcps", PolicyKind.RCP),
        trust=trust,
    )
    return ctx, policy_set


def _context(request: Mapping[str, Any]) -> RequestContext:
    raw_principal = request.get("principal")
    try:
        if isinstance(raw_principal, Mapping):
            principal = Principal.from_arn(str(raw_principal.get("arn", "")), user_id=raw_principal.get("user_id"),
                                           role_arn=raw_principal.get("role_arn"))
        elif isinstance(raw_principal, str):
            principal = Principal.from_arn(raw_principal)
        else:
            raise CaseError("request.principal: missing")
    except ValueError as exc:
        raise CaseError(f"request.principal: {exc}") from None
    action = request.get("action")
    if not isinstance(action, str) or ":" not in action:
        raise CaseError("request.action: must be a string like service:Action")
    resource = request.get("resource", "*")
    if not isinstance(resource, str):
        raise CaseError("request.resource: must be a string")
    account = request.get("resource_account")
    if account is not None and not isinstance(account, str):
        raise CaseError("request.resource_account: must be a string")
    context = request.get("context") or {}
    if not isinstance(context, Mapping):
        raise CaseError("request.context: must be an object")
    keys: dict[str, str | list[str]] = {}
    for name, value in context.items():
        if isinstance(value, str) or (isinstance(value, list) and all(isinstance(v, str) for v in value)):
            keys[name] = value
        else:
            raise CaseError(f"request.context.{name}: values must be strings or lists of strings")
    return RequestContext(principal, action, resource, account, keys)


def _parse(raw: Any, where: str, kind: PolicyKind, strict: bool) -> Policy:
    if not isinstance(raw, str | dict):
        raise CaseError(f"policies.{where}: a policy must be a JSON object")
    try:
        return parse(raw, kind=kind, stored=strict)
    except PolicyError as exc:
        details = "; ".join(_located(d) for d in exc.diagnostics)
        raise CaseError(f"policies.{where}: {details}") from None


def _located(d: Diagnostic) -> str:
    """`[line:column: ]/json/path: message`: where in the document, then IAM's words."""
    where = f"{d.line}:{d.column}: " if d.line is not None else ""
    return f"{where}{d.path or '/'}: {d.message}"


def _looks_like_trust(raw: Any, ctx: RequestContext) -> bool:
    if not ctx.action_lc.startswith("sts:assumerole"):
        return False
    if isinstance(raw, str):
        try:
            raw = json.loads(raw)
        except json.JSONDecodeError:
            return False
    statements = raw.get("Statement") if isinstance(raw, dict) else None
    if isinstance(statements, dict):
        statements = [statements]
    if not isinstance(statements, list):
        return False
    return all(isinstance(s, dict) and "Resource" not in s and "NotResource" not in s for s in statements)
