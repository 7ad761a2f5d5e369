"""Small builders shared by the policy tests: documents, contexts and one-call decisions."""

from __future__ import annotations

from typing import Any

from gatehouse.policy import (
    Decision,
    PolicyKind,
    PolicySet,
    Principal,
    RequestContext,
    compile_policy,
    evaluate,
    parse,
)

ACCOUNT = "123456789012"
OTHER = "210987654321"
ALICE = f"arn:aws:iam::{ACCOUNT}:user/alice"


def doc(*statements: dict[str, Any], version: str | None = "2012-10-17") -> dict[str, Any]:
    out: dict[str, Any] = {"Statement": list(statements)}
    if version is not None:
        out["Version"] = version
    return out


def allow(action: Any = "*", resource: Any = "*", **extra: Any) -> dict[str, Any]:
    return {"Effect": "Allow", "Action": action, "Resource": resource, **extra}


def deny(action: Any = "*", resource: Any = "*", **extra: Any) -> dict[str, Any]:
    return {"Effect": "Deny", "Action": action, "Resource": resource, **extra}


def compiled(document: dict[str, Any], kind: PolicyKind = PolicyKind.IDENTITY):
    return compile_policy(parse(document, kind=kind))


def ctx(action: str = "s3:GetObject", resource: str = "arn:aws:s3:::bucket/key", *, principal: str = ALICE,
        keys: dict[str, Any] | None = None, resource_account: str | None = None, role_arn: str | None = None,
        user_id: str | None = None) -> RequestContext:
    p = Principal.from_arn(principal, role_arn=role_arn, user_id=user_id)
    return RequestContext(p, action, resource, resource_account, keys or {})


def decide(identity: list[dict[str, Any]] | None = None, request: RequestContext | None = None, **kinds: Any
           ) -> Decision:
    """Evaluate documents (dicts) given per policy type; kinds: resource, boundary, session, scps, rcps, trust."""
    trust = kinds.pop("trust", False)
    resource = kinds.pop("resource", None)
    boundary = kinds.pop("boundary", None)
    session = kinds.pop("session", None)
    scps = kinds.pop("scps", [])
    rcps = kinds.pop("rcps", [])
    assert not kinds, kinds
    rkind = PolicyKind.TRUST if trust else PolicyKind.RESOURCE
    ps = PolicySet(
        identity=[compiled(d) for d in identity or []],
        resource=compiled(resource, rkind) if resource is not None else None,
        boundary=compiled(boundary, PolicyKind.BOUNDARY) if boundary is not None else None,
        session=[compiled(d, PolicyKind.SESSION) for d in session] if session is not None else None,
        scps=[[compiled(d, PolicyKind.SCP) for d in level] for level in scps],
        rcps=[[compiled(d, PolicyKind.RCP) for d in level] for level in rcps],
        trust=trust,
    )
    return evaluate(ps, request or ctx())


def outcome(decision: Decision) -> str:
    return decision.kind.value
