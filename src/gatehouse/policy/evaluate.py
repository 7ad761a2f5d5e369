"""AWS's policy evaluation logic over a set of compiled policies.

Follows the IAM User Guide, "Policy evaluation logic" (single account and cross-account), "Permissions boundaries
for IAM entities", "Session policies", and AWS Organizations "SCP evaluation" / "RCP evaluation":

1. Explicit deny in any applicable policy (RCPs, SCPs, resource-based, identity-based, permissions boundary,
   session policies) wins.
2. RCPs: `RCPFullAWSAccess` is attached at every level and cannot be detached, so RCPs only deny. They do not apply
   to AWS service principals.
3. SCPs: every level (organization root, each OU, the account) must allow. They apply to IAM principals of member
   accounts, the account root user included, and not to service principals.
4. Resource-based policy. Within one account, an allow naming the requester itself (IAM user ARN, role session ARN,
   federated-user ARN, or `*`) grants on its own: implicit denies in identity policies, boundary and session
   policies do not limit it. An allow naming the role of a session (or the user behind a federated session) stands
   in for identity-based permission but is limited by the boundary and session policies. An allow naming the
   account delegates to identity-based policies. Across accounts both the identity side and the resource policy
   must allow. A role trust policy is a resource-based policy that must always allow.
5. Identity-based policies must allow (unless step 4 granted). The root user's requests in its own account need no
   identity-based permission; identity policies, boundaries and session policies do not apply to it.
6. Permissions boundary, when present, must allow.
7. Session principals: a session policy, when present, must allow; a federated-user session without one is denied.

Service principals, anonymous callers and web identity / SAML callers have no identity-based policies: only the
resource-based (or trust) policy can grant them access.

Service-specific rules, as AWS documents them:
* `sts:GetCallerIdentity` is allowed for every authenticated IAM principal, whatever its policies say, explicit
  denies included (STS API reference, GetCallerIdentity: "No permissions are required to perform this operation";
  the same information comes back in an AccessDenied message). The decision carries `rule` and no statements.
* KMS key policies: when a key policy is given for a `kms:` action, it is the primary authority over the key, so
  its allow is required as a trust policy's is: identity-based policies count only when the key policy allows the
  account (`arn:aws:iam::ACCOUNT:root` or the bare account id) for the request, and a key policy naming only other
  principals of the account leaves them without effect, the account root user included (KMS Developer Guide, "Key
  policies in AWS KMS" and "Default key policy"). Without a key policy nothing is known about the key, and the
  usual rules apply.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from .compile import CompiledPolicy, CompiledStatement, compile_policy
from .context import RequestContext
from .decision import Decision, DecisionKind, MatchedStatement, PolicyType
from .document import Policy
from .principals import DIRECT, NO_MATCH, ROLE

_INDEX_MIN = 5  # below this many candidates a scan is cheaper than an index lookup
_MEMO_LIMIT = 4096


@dataclass(frozen=True, slots=True)
class LabelledPolicy:
    """A compiled policy with the name decisions report it by (a label like `identity[0]`, a name or an ARN)."""

    policy: CompiledPolicy
    label: str
    policy_type: PolicyType | None = None


PolicyInput = CompiledPolicy | LabelledPolicy | Policy


# A statement bound to the policy it came from, as the evaluation loop reads it:
# (match(ctx, missing), is_deny, MatchedStatement, principal matcher, not-principal matcher).
_Bound = tuple[Any, bool, MatchedStatement, Any, Any]


def _bind(cs: CompiledStatement, label: str, ptype: PolicyType, once: bool = False) -> _Bound:
    st = cs.statement
    record = MatchedStatement(label, ptype, st.sid, st.index, st.effect.value, st.path, st.start, st.end)
    return (cs.conditions_once() if once else cs.match, cs.deny, record, cs.principal, cs.not_principal)


class _Index:
    """Candidates for one action, bucketed by the literal start of the resource part of their ARN patterns."""

    __slots__ = ("always", "buckets", "width")

    def __init__(self, entries: list[tuple[_Bound, list[str] | None]]) -> None:
        self.always = tuple(b for b, _ in entries)
        self.buckets: dict[str, tuple[_Bound, ...]] | None = None
        self.width = 0
        if len(entries) >= _INDEX_MIN:
            self._build(entries)

    def _build(self, entries: list[tuple[_Bound, list[str] | None]]) -> None:
        widths = sorted({min(len(p) for p in prefixes) for _, prefixes in entries if prefixes}
                        - {0})
        best: tuple[int, int] | None = None
        for width in widths[:40]:
            always = sum(1 for _, prefixes in entries if not prefixes or min(len(p) for p in prefixes) < width)
            sizes: dict[str, int] = {}
            for _, prefixes in entries:
                if prefixes and min(len(p) for p in prefixes) >= width:
                    for key in {p[:width] for p in prefixes}:
                        sizes[key] = sizes.get(key, 0) + 1
            cost = always + max(sizes.values(), default=0)
            if best is None or cost < best[0]:
                best = (cost, width)
        if best is None or best[0] * 4 > len(entries) * 3:
            return
        width = best[1]
        always_set = {id(b) for b, prefixes in entries if not prefixes or min(len(p) for p in prefixes) < width}
        keyed: dict[str, set[int]] = {}
        for b, prefixes in entries:
            if id(b) not in always_set:
                for p in prefixes:  # type: ignore[union-attr]
                    keyed.setdefault(p[:width], set()).add(id(b))
        order = [b for b, _ in entries]
        self.width = width
        self.always = tuple(b for b in order if id(b) in always_set)
        self.buckets = {key: tuple(b for b in order if id(b) in always_set or id(b) in ids)
                        for key, ids in keyed.items()}

    def lookup(self, ctx: RequestContext) -> tuple[_Bound, ...]:
        buckets = self.buckets
        if buckets is None:
            return self.always
        rp = ctx.resource_part
        if rp is None:
            return self.always
        return buckets.get(rp[: self.width], self.always)


class _Group:
    """The policies of one type (or one SCP/RCP level), with a per-action candidate index."""

    __slots__ = ("_bound", "entries", "memo", "once", "ptype")

    def __init__(self, entries: tuple[LabelledPolicy, ...], ptype: PolicyType, once: bool = False) -> None:
        self.entries = entries
        self.ptype = ptype
        self.once = once
        self.memo: dict[str, _Index] = {}
        self._bound: dict[tuple[int, int], _Bound] = {}

    def index(self, ctx: RequestContext) -> _Index:
        idx = self.memo.get(ctx.action_lc)
        if idx is None:
            entries: list[tuple[_Bound, list[str] | None]] = []
            for n, lp in enumerate(self.entries):
                for cs in lp.policy.candidates(ctx.action_lc, ctx.service):
                    key = (n, cs.statement.index)
                    bound = self._bound.get(key)
                    if bound is None:
                        bound = self._bound[key] = _bind(cs, lp.label, lp.policy_type or self.ptype, self.once)
                    entries.append((bound, cs.index_prefixes))
            idx = _Index(entries)
            if len(self.memo) >= _MEMO_LIMIT:
                self.memo.clear()
            self.memo[ctx.action_lc] = idx
        return idx


class PolicySet:
    """Every policy that applies to a request, by type. Immutable; reuse it for all requests of a principal.

    `scps` and `rcps` are lists of levels (organization root first, the account last); each level is a list of
    policies and, for SCPs, must allow on its own. An empty list means no such policies apply. `resource` may be a
    role trust policy: give it the `PolicyType.TRUST` type (`LabelledPolicy(..., policy_type=PolicyType.TRUST)` or
    `trust=True`) to make its allow required. With `conditions_once`, the set serves one series of requests that
    share every condition key (the simulator's action x resource pairs): each statement's conditions are evaluated
    once for the whole series (`CompiledStatement.conditions_once`); never reuse such a set for other keys.
    """

    __slots__ = ("boundary", "identity", "identity_only", "rcps", "resource", "scps", "session", "trust")

    def __init__(
        self,
        identity: Iterable[PolicyInput] = (),
        resource: PolicyInput | None = None,
        boundary: PolicyInput | None = None,
        session: PolicyInput | Sequence[PolicyInput] | None = None,
        scps: Iterable[Iterable[PolicyInput]] = (),
        rcps: Iterable[Iterable[PolicyInput]] = (),
        *,
        trust: bool = False,
        conditions_once: bool = False,
    ) -> None:
        once = conditions_once
        self.identity = _group(identity, "identity", PolicyType.IDENTITY, once=once)
        rtype = PolicyType.TRUST if trust else PolicyType.RESOURCE
        if isinstance(resource, LabelledPolicy) and resource.policy_type is PolicyType.TRUST:
            rtype = PolicyType.TRUST
        self.trust = rtype is PolicyType.TRUST
        self.resource = _group([] if resource is None else [resource], "resource", rtype, single=True, once=once)
        self.boundary = _group([] if boundary is None else [boundary], "permissions_boundary", PolicyType.BOUNDARY,
                               single=True, once=once)
        sessions: list[PolicyInput] = [] if session is None else (
            list(session) if isinstance(session, list | tuple) else [session])  # type: ignore[list-item]
        self.session = _group(sessions, "session", PolicyType.SESSION, once=once) if session is not None else None
        self.scps = tuple(_group(level, f"scps[{n}]", PolicyType.SCP, once=once) for n, level in enumerate(scps))
        self.rcps = tuple(_group(level, f"rcps[{n}]", PolicyType.RCP, once=once) for n, level in enumerate(rcps))
        self.identity_only = not (self.scps or self.rcps or self.resource.entries or self.boundary.entries
                                  or self.session is not None)


def _group(items: Iterable[PolicyInput], prefix: str, ptype: PolicyType, *, single: bool = False,
           once: bool = False) -> _Group:
    entries = []
    for n, item in enumerate(items):
        label = prefix if single else f"{prefix}[{n}]"
        if isinstance(item, LabelledPolicy):
            entries.append(item)
        elif isinstance(item, CompiledPolicy):
            entries.append(LabelledPolicy(item, label, ptype))
        elif isinstance(item, Policy):
            entries.append(LabelledPolicy(compile_policy(item), label, ptype))
        else:
            raise TypeError(f"not a policy: {item!r}")
    return _Group(tuple(entries), ptype, once)


def _scan(group: _Group, ctx: RequestContext, missing: list[str]) -> tuple[list[MatchedStatement],
                                                                          list[MatchedStatement]]:
    """(matching allow statements, matching deny statements) of a group without principals."""
    allows: list[MatchedStatement] = []
    denies: list[MatchedStatement] = []
    for match, deny, record, _, _ in group.index(ctx).lookup(ctx):
        if match(ctx, missing):
            (denies if deny else allows).append(record)
    return allows, denies


def _scan_resource(group: _Group, ctx: RequestContext, missing: list[str], has_boundary: bool
                   ) -> tuple[int, list[MatchedStatement], list[MatchedStatement]]:
    """(strongest principal match among allows, allows, denies) for a resource-based or trust policy."""
    p = ctx.principal
    grant = NO_MATCH
    allows: list[MatchedStatement] = []
    denies: list[MatchedStatement] = []
    for match, deny, record, principal, not_principal in group.index(ctx).lookup(ctx):
        if principal is not None:
            kind = principal.match(p)
        elif not_principal is not None:
            # AWS: a Deny with NotPrincipal always applies to principals that have a permissions boundary.
            excluded = not_principal.excludes(p) and not (deny and has_boundary)
            kind = NO_MATCH if excluded else DIRECT
        else:
            kind = DIRECT  # RCP-style statements without Principal apply to everyone
        if kind == NO_MATCH or not match(ctx, missing):
            continue
        if deny:
            denies.append(record)
        else:
            allows.append(record)
            grant = max(grant, kind)
    return grant, allows, denies


_FAST_KINDS = frozenset({"user", "role", "assumed-role"})


GET_CALLER_IDENTITY = "sts:getcalleridentity"
GET_CALLER_IDENTITY_RULE = ("sts:GetCallerIdentity needs no permission: every authenticated principal may call it, "
                            "even under an explicit deny")


def evaluate(policy_set: PolicySet, ctx: RequestContext) -> Decision:
    """Decide `ctx` against `policy_set`. Never raises for a bad request: an error is an implicit deny."""
    try:
        if ctx.action_lc == GET_CALLER_IDENTITY and ctx.principal.is_aws:
            return Decision(DecisionKind.ALLOW, rule=GET_CALLER_IDENTITY_RULE)
        if policy_set.identity_only and ctx.principal.kind in _FAST_KINDS:
            # Only identity-based policies apply (the common case for IAM and STS calls): the loop inlined.
            group = policy_set.identity
            idx = group.memo.get(ctx.action_lc)
            if idx is None:
                idx = group.index(ctx)
            buckets = idx.buckets
            if buckets is None or ctx.resource_part is None:
                candidates = idx.always
            else:
                candidates = buckets.get(ctx.resource_part[: idx.width], idx.always)
            missing: list[str] = []
            allows: list[MatchedStatement] = []
            denies: list[MatchedStatement] = []
            for match, deny, record, _, _ in candidates:
                if match(ctx, missing):
                    if deny:
                        denies.append(record)
                    else:
                        allows.append(record)
            missing_keys = tuple(dict.fromkeys(missing)) if missing else ()
            if denies:
                return Decision(DecisionKind.EXPLICIT_DENY, tuple(denies), PolicyType.IDENTITY, missing_keys)
            if allows:
                if ctx.resource_account == ctx.principal.account:
                    return Decision(DecisionKind.ALLOW, tuple(allows), None, missing_keys)
                return Decision(DecisionKind.IMPLICIT_DENY, tuple(allows), PolicyType.RESOURCE, missing_keys)
            return Decision(DecisionKind.IMPLICIT_DENY, (), PolicyType.IDENTITY, missing_keys)
        return _evaluate(policy_set, ctx)
    except Exception as exc:  # a policy that errors never yields an Allow
        return Decision(DecisionKind.IMPLICIT_DENY, error=f"{type(exc).__name__}: {exc}")


def _records(*groups: list[MatchedStatement]) -> tuple[MatchedStatement, ...]:
    return tuple(r for g in groups for r in g)


def _evaluate(ps: PolicySet, ctx: RequestContext) -> Decision:
    p = ctx.principal
    missing: list[str] = []
    kind = p.kind
    iam_identity = kind in ("user", "role", "assumed-role", "federated-user")
    empty: list[MatchedStatement] = []

    applies_identity = iam_identity
    rcp = [_scan(level, ctx, missing) for level in ps.rcps] if kind != "service" else []
    scp = [_scan(level, ctx, missing) for level in ps.scps] if (iam_identity or kind == "root") else []
    has_boundary = applies_identity and bool(ps.boundary.entries)
    grant, r_allow, r_deny = (_scan_resource(ps.resource, ctx, missing, has_boundary)
                              if ps.resource.entries else (NO_MATCH, empty, empty))
    i_allow, i_deny = _scan(ps.identity, ctx, missing) if applies_identity else (empty, empty)
    b_allow, b_deny = _scan(ps.boundary, ctx, missing) if has_boundary else (empty, empty)
    session_applies = applies_identity and p.is_session and ps.session is not None
    s_allow, s_deny = _scan(ps.session, ctx, missing) if session_applies else (empty, empty)  # type: ignore[arg-type]
    missing_keys = tuple(dict.fromkeys(missing)) if missing else ()
    rtype = ps.resource.ptype

    deny_order: list[tuple[PolicyType, list[MatchedStatement]]] = [
        *((PolicyType.RCP, d) for _, d in rcp), *((PolicyType.SCP, d) for _, d in scp),
        (rtype, r_deny), (PolicyType.IDENTITY, i_deny), (PolicyType.BOUNDARY, b_deny), (PolicyType.SESSION, s_deny),
    ]
    denied = [(t, d) for t, d in deny_order if d]
    if denied:
        return Decision(DecisionKind.EXPLICIT_DENY, _records(*(d for _, d in denied)), denied[0][0], missing_keys)

    scp_allows = [a for a, _ in scp]
    allowed = _records(*scp_allows, r_allow, i_allow, b_allow, s_allow)

    def deny(by: PolicyType) -> Decision:
        return Decision(DecisionKind.IMPLICIT_DENY, allowed, by, missing_keys)

    if any(not a for a in scp_allows):
        return deny(PolicyType.SCP)

    if not (iam_identity or kind == "root"):  # service, anonymous, web identity, SAML: resource policy only
        return Decision(DecisionKind.ALLOW, allowed, None, missing_keys) if grant else deny(rtype)

    same_account = p.account is not None and p.account == ctx.resource_account
    # A trust policy's allow is required, and so is a KMS key policy's (see the module docstring).
    required = ps.trust or (ctx.service == "kms" and bool(ps.resource.entries))
    if kind == "root":
        if same_account and not required:
            return Decision(DecisionKind.ALLOW, allowed, None, missing_keys)
        return Decision(DecisionKind.ALLOW, allowed, None, missing_keys) if grant else deny(rtype)

    identity_ok = bool(i_allow)
    if same_account:
        if grant == DIRECT:
            return Decision(DecisionKind.ALLOW, allowed, None, missing_keys)
        if required and not grant:
            return deny(rtype)
        if grant == ROLE:
            identity_ok = True
        if not identity_ok:
            return deny(PolicyType.IDENTITY)
    else:
        if not identity_ok:
            return deny(PolicyType.IDENTITY)
        if not grant:
            return deny(rtype)
    if has_boundary and not b_allow:
        return deny(PolicyType.BOUNDARY)
    if p.is_session and applies_identity:
        if ps.session is not None:
            if not s_allow:
                return deny(PolicyType.SESSION)
        elif kind == "federated-user":
            return deny(PolicyType.SESSION)
    return Decision(DecisionKind.ALLOW, allowed, None, missing_keys)
