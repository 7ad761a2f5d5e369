"""Gatehouse's policy engine: AWS IAM's policy language and evaluation logic as a pure library.

    parse -> validate -> compile -> evaluate

Standard library only, no I/O, no clock: time and caller arrive in the `RequestContext`; a deny is a `Decision`,
never an exception. Anything can embed it::

    from gatehouse.policy import parse, compile_policy, PolicySet, RequestContext, Principal, evaluate

    policy = compile_policy(parse(text))
    ctx = RequestContext(Principal.from_arn("arn:aws:iam::123456789012:user/alice"), "s3:GetObject",
                         "arn:aws:s3:::bucket/key", keys={"aws:SourceIp": "10.0.0.1"})
    decision = evaluate(PolicySet(identity=[policy]), ctx)

`validate` (and `parse`, which raises `PolicyError`) lists every problem in the order IAM checks for them, so the
first one's message is what IAM answers with `MalformedPolicyDocument` (`validate.py`: the check order;
`elements.py`: the rules for single actions, resources and principals; `dates.py`: the date values IAM reads;
`diagnostics.py`: IAM's wording).
"""

from .compile import CompiledPolicy, CompiledStatement, Compiler, compile_policy
from .context import RequestContext
from .contextkeys import context_keys
from .decision import Decision, DecisionKind, MatchedStatement
from .diagnostics import Diagnostic, PolicyError
from .document import ConditionClause, Effect, Policy, Position, PrincipalSpec, Statement, parse
from .evaluate import LabelledPolicy, PolicySet, evaluate
from .kinds import PolicyKind
from .messages import access_denied_message
from .principals import Principal, bind_principals
from .validate import validate

__all__ = [
    "CompiledPolicy",
    "CompiledStatement",
    "Compiler",
    "ConditionClause",
    "Decision",
    "DecisionKind",
    "Diagnostic",
    "Effect",
    "LabelledPolicy",
    "MatchedStatement",
    "Policy",
    "PolicyError",
    "PolicyKind",
    "PolicySet",
    "Position",
    "Principal",
    "PrincipalSpec",
    "RequestContext",
    "Statement",
    "access_denied_message",
    "bind_principals",
    "compile_policy",
    "context_keys",
    "evaluate",
    "parse",
    "validate",
]
