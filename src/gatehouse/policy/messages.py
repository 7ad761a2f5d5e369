"""AccessDenied messages in AWS's current wording ("Troubleshoot access denied error messages").

    User: ARN is not authorized to perform: ACTION on resource: RESOURCE because no identity-based policy allows
    the ACTION action
    User: ARN is not authorized to perform: ACTION on resource: RESOURCE with an explicit deny in a permissions
    boundary

AWS prints the requesting principal's ARN (for a role session, the `assumed-role` STS ARN), omits the
`on resource:` part when there is no specific resource, and always says "explicit deny" for service control
policies, even when the SCPs merely fail to allow. Since 2025 AWS appends the denying policy's ARN to explicit-deny
messages within one account or organization; we do the same when the matched policy's label is an ARN.
"""

from __future__ import annotations

from .context import RequestContext
from .decision import Decision, DecisionKind
from .kinds import PolicyKind

_IMPLICIT = {
    PolicyKind.IDENTITY: "because no identity-based policy allows the {action} action",
    PolicyKind.RESOURCE: "because no resource-based policy allows the {action} action",
    PolicyKind.BOUNDARY: "because no permissions boundary allows the {action} action",
    PolicyKind.SESSION: "because no session policy allows the {action} action",
    PolicyKind.SCP: "with an explicit deny in a service control policy",
    PolicyKind.RCP: "with an explicit deny in a resource control policy",
    PolicyKind.TRUST: "",
}

_EXPLICIT = {
    PolicyKind.IDENTITY: "with an explicit deny in an identity-based policy",
    PolicyKind.RESOURCE: "with an explicit deny in a resource-based policy",
    PolicyKind.BOUNDARY: "with an explicit deny in a permissions boundary",
    PolicyKind.SESSION: "with an explicit deny in a session policy",
    PolicyKind.SCP: "with an explicit deny in a service control policy",
    PolicyKind.RCP: "with an explicit deny in a resource control policy",
    PolicyKind.TRUST: "with an explicit deny in the role trust policy",
}


def access_denied_message(decision: Decision, ctx: RequestContext, *, include_policy_arn: bool = True) -> str:
    """The AccessDenied message for a denied `decision` of `ctx`."""
    head = f"User: {ctx.principal.arn} is not authorized to perform: {ctx.action}"
    if ctx.resource and ctx.resource != "*":
        head += f" on resource: {ctx.resource}"
    by = decision.denied_by or PolicyKind.IDENTITY
    if decision.kind is DecisionKind.EXPLICIT_DENY:
        reason = _EXPLICIT[by]
        if include_policy_arn:
            label = next((m.policy for m in decision.matched if m.policy_type is by and m.effect == "Deny"), "")
            if label.startswith("arn:"):
                reason += f": {label}"
    else:
        reason = _IMPLICIT[by].format(action=ctx.action)
    return f"{head} {reason}" if reason else head
