"""Authorization: may this caller perform this action on this resource? Asked by every use case, so the API,
the console and operator commands get the same checks.

The account root may do anything in its own account, unless its account is a member of an organization whose
SCPs or RCPs take part (`services/organizations/enforcement.py`). Every other principal is decided by the policy
engine (default deny) over the policies that apply to it, gathered from storage and compiled once per account
revision: any write to an account bumps its revision, so a cached policy set can never outlive a change, on this
replica or another one sharing the database. An organization's policies are kept by the organization's own
revision, which authentication reads with the credential.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import threading
from collections import OrderedDict
from collections.abc import Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from gatehouse.errors import AccessDenied
from gatehouse.model import Caller, OwnerKind, PrincipalKind, SessionInfo, SessionKind, Tag
from gatehouse.policy import (
    Compiler,
    Decision,
    LabelledPolicy,
    PolicyError,
    PolicyKind,
    PolicySet,
    Principal,
    RequestContext,
    access_denied_message,
    bind_principals,
    context_keys,
    evaluate,
    parse,
)
from gatehouse.services.audit.calls import Decision as CallDecision
from gatehouse.services.audit.calls import collecting
from gatehouse.services.authorization_messages import AuthorizationMessages
from gatehouse.services.authorization_reference import AuthorizationReference
from gatehouse.services.iam.aws_managed import AwsManagedPolicies
from gatehouse.services.iam.policy_refs import default_document, stored_policy
from gatehouse.services.organizations.enforcement import (
    Levels,
    OrgPolicies,
    principal_keys,
    resource_keys,
)
from gatehouse.services.request_context import RequestFacts, Target, action_keys
from gatehouse.storage.repository import UnitOfWork

# Development mode's auth switch (moto's `reset-auth`): requests the wire layer serves unchecked run inside
# `Authorizer.unchecked()`, which no production code path enters.
_UNCHECKED: ContextVar[bool] = ContextVar("gatehouse_unchecked", default=False)
# The decisions of the request being served, for its audit record (`Authorizer.collecting`); None outside one.
_DECISIONS: ContextVar[list[CallDecision] | None] = ContextVar("gatehouse_decisions", default=None)

_CACHE_BYTES = 256 * 1024 * 1024  # estimated (CompiledPolicy.estimated_bytes), counted once per entry holding it
_ENTRY_BYTES = 2048  # an entry's own part: principal, tags, the policy set's indexes
_RESOURCE_CACHE_SIZE = 1024
_DENY_ALL = '{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"*","Resource":"*"}]}'


@dataclass
class Gathered:
    """A principal's stored policies, compiled and labelled; `sources` names each label as the simulator does
    (SourcePolicyId, SourcePolicyType)."""

    identity: list[LabelledPolicy] = field(default_factory=list)
    boundary: LabelledPolicy | None = None
    tags: tuple[Tag, ...] = ()
    sources: dict[str, tuple[str, str]] = field(default_factory=dict)

    def all(self) -> list[LabelledPolicy]:
        return self.identity + ([self.boundary] if self.boundary else [])


@dataclass(frozen=True)
class PrincipalPolicies:
    """Everything the engine needs about one principal's own permissions, built once per account revision (and
    per session: session policies and tags belong to one temporary credential)."""

    principal: Principal
    identity: tuple[LabelledPolicy, ...]
    boundary: LabelledPolicy | None
    session: tuple[LabelledPolicy, ...] | None  # None: no session policy applies (not the same as none allowing)
    tags: tuple[Tag, ...]
    needs_resource_tags: bool
    service_linked: bool = False  # a service-linked role's sessions: SCPs do not apply to them
    # Policy sets with an organization's levels, by the identity of those levels (held in the value, so an id is
    # never reused while its entry lives).
    _with_org: dict[tuple[int, int], tuple[Levels, Levels, PolicySet]] = field(default_factory=dict, compare=False,
                                                                             repr=False)

    @cached_property
    def estimated_bytes(self) -> int:
        """What keeping this entry may cost: its compiled policies (shared ones counted here all the same)."""
        held = list(self.identity) + ([self.boundary] if self.boundary else []) + list(self.session or ())
        return _ENTRY_BYTES + sum(lp.policy.estimated_bytes for lp in held)

    @cached_property
    def policy_set(self) -> PolicySet:
        return PolicySet(identity=self.identity, boundary=self.boundary,
                         session=list(self.session) if self.session is not None else None)

    def with_resource(self, resource: LabelledPolicy | None, scps: Levels = (), rcps: Levels = ()) -> PolicySet:
        if resource is None and not scps and not rcps:
            return self.policy_set
        if resource is None:
            key = (id(scps), id(rcps))
            found = self._with_org.get(key)
            if found is None or found[0] is not scps or found[1] is not rcps:
                if len(self._with_org) > 64:
                    self._with_org.clear()
                found = self._with_org[key] = (scps, rcps, PolicySet(
                    identity=self.identity, boundary=self.boundary, scps=scps, rcps=rcps,
                    session=list(self.session) if self.session is not None else None))
            return found[2]
        return PolicySet(identity=self.identity, boundary=self.boundary, resource=resource, scps=scps, rcps=rcps,
                         session=list(self.session) if self.session is not None else None)


def _account_of(resource: str) -> str | None:
    """The account an ARN names, if it names one of twelve digits (not `aws`, not empty)."""
    parts = resource.split(":", 5)
    account = parts[4] if len(parts) == 6 else ""
    return account if len(account) == 12 and account.isdigit() else None


def _aws_managed_policy(resource: str) -> bool:
    parts = resource.split(":", 5)
    return len(parts) == 6 and parts[2] == "iam" and parts[4] == "aws"


def deciding(decision: Decision, ctx: RequestContext) -> CallDecision:
    """A decision as the audit record keeps it, naming the statement that decided: for an Allow the first Allow
    statement that matched (what last-accessed data credits), for an explicit Deny the first Deny; an implicit deny
    names none."""
    effect = "Allow" if decision.allowed else "Deny"
    statement = next((m for m in decision.matched if m.effect == effect), None)
    if statement is None:
        return CallDecision(ctx.action, ctx.resource, decision.allowed)
    return CallDecision(ctx.action, ctx.resource, decision.allowed, statement.policy,
                        statement.sid if statement.sid is not None else str(statement.index))


def iso8601(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class Authorizer:
    def __init__(self, managed: AwsManagedPolicies, *, enforce: bool = True,
                 messages: AuthorizationMessages | None = None, reference: AuthorizationReference | None = None,
                 cache_bytes: int = _CACHE_BYTES, compiler: Compiler | None = None) -> None:
        self.managed = managed
        self.reference = reference or AuthorizationReference.shipped()
        self.enforce = enforce
        self.messages = messages
        self.compiler = compiler or Compiler()
        self.cache_bytes = cache_bytes
        # (account, principal, revision, session) -> entry; bounded by the entries' estimated bytes. `_latest`
        # names each (account, principal, session)'s newest revision, so an older one is retired when it moves.
        self._cache: OrderedDict[tuple[str, str, int, str], PrincipalPolicies] = OrderedDict()
        self._latest: dict[tuple[str, str, str], int] = {}
        self._bytes = 0
        self._resource_cache: OrderedDict[tuple[str, str, PolicyKind, tuple[tuple[str, str], ...]],
                                          LabelledPolicy | None] = OrderedDict()
        self._lock = threading.Lock()
        self.orgs = OrgPolicies(self.compile)

    # --- the question every use case asks ----------------------------------------------------------------

    def require(self, tx: UnitOfWork, caller: Caller, action: str, resource: str | Target, *,
                facts: RequestFacts | None = None) -> None:
        """Raise AccessDenied (with AWS's explanation) unless the caller may perform `action` on `resource`: a
        `Target` (an entity looked up, with what the request context reads from it) or a bare ARN or `*`."""
        if not self.enforcing() or (caller.is_root and not self._root_limited(tx, caller)):
            collected = _DECISIONS.get()
            if collected is not None:
                arn = resource.arn if isinstance(resource, Target) else resource
                collected.append(CallDecision(action, arn, True))  # the root, or development's unchecked mode
            return
        decision, ctx = self.decide(tx, caller, action, resource, facts=facts)
        self.note(decision, ctx)
        if not decision.allowed:
            raise self.denied(decision, ctx)

    def _root_limited(self, tx: UnitOfWork, caller: Caller) -> bool:
        """Whether an organization's SCPs or RCPs take part in the root's request: only in a member account (the
        account root of any other account may do anything in it)."""
        view = self.orgs.caller_view(tx, caller)
        if view is None:
            return False
        return bool(self.orgs.scps(view) or self.orgs.rcps(view))

    @staticmethod
    def note(decision: Decision, ctx: RequestContext) -> None:
        """Keep a decision for the request's record. `require` notes its own; a use case that asks the engine
        directly (a trust policy, ChangePassword) notes the decision it acts on."""
        collected = _DECISIONS.get()
        if collected is not None:
            collected.append(deciding(decision, ctx))

    @staticmethod
    def collecting() -> AbstractContextManager[list[CallDecision]]:
        """Collect the decisions `require` takes within (one request's), in order, for the call's record."""
        return collecting(_DECISIONS)

    def enforcing(self) -> bool:
        """Whether policies decide this request: always outside development mode; there, not under --no-enforce
        nor while the auth switch lets requests through."""
        return self.enforce and not _UNCHECKED.get()

    @staticmethod
    @contextmanager
    def unchecked() -> Iterator[None]:
        """Decide nothing for the request handled within (development mode's auth switch only)."""
        token = _UNCHECKED.set(True)
        try:
            yield
        finally:
            _UNCHECKED.reset(token)

    def denied(self, decision: Decision, ctx: RequestContext) -> AccessDenied:
        """AWS's AccessDenied for a decision, carrying the encoded authorization message."""
        details = {"EncodedAuthorizationMessage": self.messages.encode(decision, ctx)} if self.messages else None
        return AccessDenied(access_denied_message(decision, ctx), details=details)

    def decide(self, tx: UnitOfWork, caller: Caller, action: str, resource: str | Target, *,
               facts: RequestFacts | None = None, resource_policy: LabelledPolicy | None = None,
               resource_account: str | None = None) -> tuple[Decision, RequestContext]:
        """The engine's decision for this caller. With `resource_policy` (a bucket policy, a role trust policy)
        the resource side takes part too; `resource_account` then names the account that owns the resource."""
        target = resource if isinstance(resource, Target) else Target(resource)
        policies = self.principal_policies(tx, caller)
        keys = self.request_keys(caller, policies.tags)
        if target.boundary and self._reads_boundary(action, target):
            target = dataclasses.replace(target, boundary=self._canonical_policy_arn(tx, caller, target.boundary))
        # Tags are read only when a policy could test them: the caller's own policies mention a ResourceTag key,
        # or a resource policy takes part.
        tags = target.tags if policies.needs_resource_tags or resource_policy is not None else None
        keys.update(action_keys(self.reference, action, target, facts, tags))
        if resource_account is None and _aws_managed_policy(target.arn):
            # AWS managed policies are in no account; reading them is not cross-account access: identity policies
            # alone decide (an IAM user with iam:GetPolicy on "*" reads arn:aws:iam::aws:policy/ReadOnlyAccess).
            resource_account = caller.account_id
        scps, rcps = self._organization(tx, caller, target.arn, resource_account, policies, keys)
        ctx = RequestContext(policies.principal, action, target.arn, resource_account=resource_account, keys=keys)
        return evaluate(policies.with_resource(resource_policy, scps, rcps), ctx), ctx

    def _organization(self, tx: UnitOfWork, caller: Caller, resource: str, resource_account: str | None,
                      policies: PrincipalPolicies, keys: dict[str, Any]) -> tuple[Levels, Levels]:
        """The SCP and RCP levels of the request, and the organization keys it adds to `keys`."""
        view = self.orgs.caller_view(tx, caller)
        keys.update(principal_keys(view))
        owner = resource_account or _account_of(resource) or caller.account_id
        owner_view = view if owner == caller.account_id else self.orgs.view(tx, owner)
        keys.update(resource_keys(owner, owner_view))
        scps = self.orgs.scps(view) if view is not None and not policies.service_linked else ()
        rcps = self.orgs.rcps(owner_view) if owner_view is not None else ()
        return scps, rcps

    def decide_federated(self, principal: Principal, action: str, target: Target, trust: LabelledPolicy,
                         global_keys: Mapping[str, Any], facts: RequestFacts, resource_account: str,
                         tx: UnitOfWork | None = None) -> tuple[Decision, RequestContext]:
        """The decision of a role's trust policy alone, for a principal from outside IAM (an OIDC or SAML
        provider): such principals have no identity policies, so only the resource side can allow; with `tx`, the
        RCPs of the role's account take part too."""
        keys = {**global_keys, **action_keys(self.reference, action, target, facts, target.tags)}
        rcps: Levels = ()
        if tx is not None:
            view = self.orgs.view(tx, resource_account)
            keys.update(resource_keys(resource_account, view))
            rcps = self.orgs.rcps(view) if view is not None else ()
        ctx = RequestContext(principal, action, target.arn, resource_account=resource_account, keys=keys)
        return evaluate(PolicySet(resource=trust, rcps=rcps), ctx), ctx

    def _reads_boundary(self, action: str, target: Target) -> bool:
        kind = target.kind.value if target.kind else None
        return any(k.lower() == "iam:permissionsboundary" for k in self.reference.keys_for(action, kind))

    def _canonical_policy_arn(self, tx: UnitOfWork, caller: Caller, arn: str) -> str:
        """A stored policy ARN as the policy's own ARN (boundaries set before look-ups were canonical may carry the
        case their setter typed); as stored when the policy is gone."""
        found = stored_policy(tx, self.managed, caller.account_id, arn)
        return found[0].arn(caller.partition) if found else arn

    # --- request context ---------------------------------------------------------------------------------

    @staticmethod
    def request_keys(caller: Caller, principal_tags: Sequence[Tag]) -> dict[str, Any]:
        """The global condition keys AWS sets for every request of this caller."""
        meta = caller.request
        keys: dict[str, Any] = {
            "aws:CurrentTime": iso8601(meta.time),
            "aws:EpochTime": str(int(meta.time.timestamp())),
            "aws:SourceIp": meta.source_ip,
            "aws:SecureTransport": "true" if meta.secure_transport else "false",
            "aws:UserAgent": meta.user_agent,
            "aws:RequestedRegion": meta.region,
            "aws:userid": caller.user_id,
        }
        for tag in principal_tags:
            keys[f"aws:PrincipalTag/{tag.key}"] = tag.value
        session = caller.session
        if session is not None:
            if session.issued:
                keys["aws:TokenIssueTime"] = iso8601(session.issued)
            if session.mfa_authenticated:
                keys["aws:MultiFactorAuthPresent"] = "true"
                if session.mfa_time:
                    keys["aws:MultiFactorAuthAge"] = str(max(0, int((meta.time - session.mfa_time).total_seconds())))
            else:
                keys["aws:MultiFactorAuthPresent"] = "false"
            if session.source_identity:
                keys["aws:SourceIdentity"] = session.source_identity
        # Long-term access keys carry no MFA information: aws:MultiFactorAuthPresent is absent (AWS documents this;
        # hence the BoolIfExists idiom in MFA-enforcing policies).
        return keys

    # --- the principal's policies, cached per account revision -------------------------------------------

    def principal_policies(self, tx: UnitOfWork, caller: Caller) -> PrincipalPolicies:
        session_key = caller.access_key_id if caller.session is not None else ""
        cache_key = (caller.account_id, caller.principal_id or caller.arn, caller.revision, session_key)
        with self._lock:
            found = self._cache.get(cache_key)
            if found is not None:
                self._cache.move_to_end(cache_key)
                return found
        built = self._build(tx, caller)
        if caller.revision >= 0:
            with self._lock:
                self._keep(cache_key, built)
        return built

    def _keep(self, key: tuple[str, str, int, str], entry: PrincipalPolicies) -> None:
        """Cache an entry (lock held): retire the principal's entry at an older revision, then the least recently
        used until the estimated bytes fit."""
        account, principal, revision, session = key
        who = (account, principal, session)
        latest = self._latest.get(who)
        if latest is not None and latest > revision:
            return  # built for a revision already superseded (a slow request): use it once, keep the newer one
        if latest is not None and latest < revision:
            self._drop((account, principal, latest, session))
        if key in self._cache:
            return
        self._cache[key] = entry
        self._latest[who] = revision
        self._bytes += entry.estimated_bytes
        while self._bytes > self.cache_bytes and len(self._cache) > 1:
            self._drop(next(iter(self._cache)))

    def _drop(self, key: tuple[str, str, int, str]) -> None:
        entry = self._cache.pop(key, None)
        if entry is None:
            return
        self._bytes -= entry.estimated_bytes
        who = (key[0], key[1], key[3])
        if self._latest.get(who) == key[2]:
            del self._latest[who]

    @property
    def cache_estimated_bytes(self) -> int:
        return self._bytes

    def _build(self, tx: UnitOfWork, caller: Caller) -> PrincipalPolicies:
        partition, account = caller.partition, caller.account_id
        session = caller.session
        # unique_id: the id behind the caller (its user, its role), as bound policies name it; none for a role or
        # user since deleted, whose sessions keep nothing.
        gathered, role_arn, unique_id, service_linked = Gathered(), None, None, False
        if caller.kind is PrincipalKind.ASSUMED_ROLE and caller.principal_id:
            role = tx.roles.by_id(caller.principal_id)
            if role is not None:  # a deleted role's sessions keep nothing
                gathered = self.gather(tx, partition, account, OwnerKind.ROLE, role.role_id)
                role_arn, unique_id, service_linked = role.arn(partition), role.role_id, role.service_linked
        elif caller.kind in (PrincipalKind.USER, PrincipalKind.FEDERATED_USER) and caller.principal_id:
            gathered = self.gather(tx, partition, account, OwnerKind.USER, caller.principal_id)
            user = tx.users.by_id(caller.principal_id)
            role_arn = user.arn(partition) if user and caller.kind is PrincipalKind.FEDERATED_USER else None
            unique_id = user.user_id if user else None
        principal = Principal.from_arn(caller.arn, user_id=caller.user_id, role_arn=role_arn, unique_id=unique_id)
        tags = gathered.tags
        session_policies: list[LabelledPolicy] | None = None
        if session is not None and session.kind != SessionKind.USER_SESSION:
            by_key = {t.key.lower(): t for t in tags}
            by_key.update({t.key.lower(): t for t in session.session_tags})  # session tags win over the role's
            tags = tuple(by_key.values())
            session_policies = self._session_policies(tx, partition, account, session)
            if session.kind == SessionKind.ASSUMED_ROLE and not (session.session_policies or session.policy_arns):
                # No session policy passed: the role's permissions apply unchanged. Decided by what the session
                # was given, not by what still compiles: a session scoped down by a managed policy that has since
                # been deleted keeps its limit (and so allows nothing), never the role's full permissions.
                session_policies = None
        documents = [lp.policy.policy for lp in gathered.all() + (session_policies or [])]
        needs_tags = any("resourcetag/" in key.lower() for key in context_keys(documents))
        return PrincipalPolicies(principal, tuple(gathered.identity), gathered.boundary,
                                 tuple(session_policies) if session_policies is not None else None, tags, needs_tags,
                                 service_linked)

    def _session_policies(self, tx: UnitOfWork, partition: str, account: str, session: SessionInfo
                          ) -> list[LabelledPolicy]:
        out = []
        for n, text in enumerate(session.session_policies):
            compiled = self.compile(text, f"session[{n}]", PolicyKind.SESSION)
            if compiled:
                out.append(compiled)
        for arn in session.policy_arns:
            found = stored_policy(tx, self.managed, account, arn)
            if found is None:
                continue
            document: str | None = found[1].document if found[1] else None
            if document is None:
                version = tx.policies.version(found[0].policy_id, found[0].default_version_id)
                document = version.document if version else None
            compiled = self.compile(document or "", arn, PolicyKind.SESSION)
            if compiled:
                out.append(compiled)
        return out

    def gather(self, tx: UnitOfWork, partition: str, account_id: str, kind: OwnerKind, owner_id: str) -> Gathered:
        """The identity policies and boundary of a user (with its groups'), a group or a role."""
        out = Gathered()
        if kind is OwnerKind.USER:
            user = tx.users.by_id(owner_id)
            if user is None:
                return out
            self._owned(tx, partition, OwnerKind.USER, user.user_id, user.name, out)
            for group_id in tx.groups.ids_for_user(user.user_id):
                group = tx.groups.by_id(group_id)
                if group is not None:
                    self._owned(tx, partition, OwnerKind.GROUP, group_id, group.name, out)
            out.boundary = self._boundary(tx, partition, account_id, user.permissions_boundary)
            out.tags = tx.tags.get(OwnerKind.USER, user.user_id)
        elif kind is OwnerKind.GROUP:
            group = tx.groups.by_id(owner_id)
            if group is not None:
                self._owned(tx, partition, OwnerKind.GROUP, group.group_id, group.name, out)
        elif kind is OwnerKind.ROLE:
            role = tx.roles.by_id(owner_id)
            if role is not None:
                self._owned(tx, partition, OwnerKind.ROLE, role.role_id, role.name, out)
                out.boundary = self._boundary(tx, partition, account_id, role.permissions_boundary)
                out.tags = tx.tags.get(OwnerKind.ROLE, role.role_id)
        return out

    def _owned(self, tx: UnitOfWork, partition: str, kind: OwnerKind, owner_id: str, owner_name: str,
               out: Gathered) -> None:
        for inline in tx.inline.all_for(kind, owner_id):
            label = f"{kind.value}/{owner_name}/{inline.name}"
            compiled = self.compile(inline.document, label, PolicyKind.IDENTITY)
            if compiled:
                out.identity.append(compiled)
                out.sources[label] = (inline.name, kind.value)
        for policy_account, policy_id in tx.attachments.for_owner(kind, owner_id):
            found = default_document(tx, self.managed, policy_account, policy_id)
            if found:
                label = found[0].arn(partition)
                compiled = self.compile(found[1], label, PolicyKind.IDENTITY)
                if compiled:
                    out.identity.append(compiled)
                    out.sources[label] = (found[0].name, "aws-managed" if found[0].aws_managed else "user-managed")

    def _boundary(self, tx: UnitOfWork, partition: str, account_id: str, arn: str | None) -> LabelledPolicy | None:
        if not arn:
            return None
        found = stored_policy(tx, self.managed, account_id, arn)
        if found is None:
            # A boundary whose policy is gone must not lift the limit: it denies everything.
            return self.compile(_DENY_ALL, arn, PolicyKind.BOUNDARY)
        document = found[1].document if found[1] else None
        if document is None:
            version = tx.policies.version(found[0].policy_id, found[0].default_version_id)
            document = version.document if version else None
        return self.compile(document or "", arn, PolicyKind.BOUNDARY)

    def compile(self, document: str, label: str, ptype: PolicyKind,
                principals: Sequence[tuple[str, str]] = ()) -> LabelledPolicy | None:
        """`principals`: a stored resource policy's bindings (ARN as written, unique id), matched by id.

        A resource policy (a trust policy) is compiled for each request that reads it, so the result is kept, by
        everything it is a pure function of; identity policies are kept with the principal's policies."""
        if ptype not in (PolicyKind.TRUST, PolicyKind.RESOURCE):
            return self._compile(document, label, ptype, principals)
        key = (document, label, ptype, tuple(principals))
        with self._lock:
            if key in self._resource_cache:
                self._resource_cache.move_to_end(key)
                return self._resource_cache[key]
        compiled = self._compile(document, label, ptype, principals)
        with self._lock:
            self._resource_cache[key] = compiled
            if len(self._resource_cache) > _RESOURCE_CACHE_SIZE:
                self._resource_cache.popitem(last=False)
        return compiled

    def _compile(self, document: str, label: str, ptype: PolicyKind,
                 principals: Sequence[tuple[str, str]]) -> LabelledPolicy | None:
        kind = ptype  # one enum names both the grammar and the evaluation type
        try:
            policy = parse(document, kind=kind)
        except PolicyError:
            if ptype in (PolicyKind.TRUST, PolicyKind.RESOURCE):
                return None  # the caller denies when the resource side cannot be read
            # A stored policy that no longer parses (accepted by an older, laxer validator) must neither lift a
            # limit nor silently drop its Deny statements: it denies everything until it is rewritten.
            policy = parse(_DENY_ALL, kind=kind)
        if principals:
            policy = bind_principals(policy, dict(principals))
        return LabelledPolicy(self.compiler.compile(policy), label, ptype)
