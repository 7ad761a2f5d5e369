"""Authorization: may this caller perform this action on this resource? Asked by every use case, so the API,
the console and operator commands get the same checks.

The account root may do anything in its own account. Every other principal is decided by the policy engine
(default deny) over the policies that apply to it, gathered from storage and compiled once per account revision:
any write to an account bumps its revision, so a cached policy set can never outlive a change, on this replica or
another one sharing the database.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from gatehouse.errors import AccessDenied
from gatehouse.model import Caller, OwnerKind, PrincipalKind, Tag
from gatehouse.policy import (
    Compiler,
    Decision,
    LabelledPolicy,
    PolicyError,
    PolicyKind,
    PolicySet,
    PolicyType,
    Principal,
    RequestContext,
    access_denied_message,
    context_keys,
    evaluate,
    parse,
)
from gatehouse.services.iam.aws_managed import AwsManagedPolicies
from gatehouse.services.iam.policy_refs import default_document, find_policy
from gatehouse.storage.repository import UnitOfWork

_CACHE_SIZE = 4096
_DENY_ALL = '{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"*","Resource":"*"}]}'


@dataclass(frozen=True)
class PrincipalPolicies:
    """Everything the engine needs about one principal's own permissions, built once per account revision."""

    principal: Principal
    policy_set: PolicySet
    tags: tuple[Tag, ...]
    needs_resource_tags: bool


def iso8601(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class Authorizer:
    def __init__(self, managed: AwsManagedPolicies, *, enforce: bool = True) -> None:
        self.managed = managed
        self.enforce = enforce
        self.compiler = Compiler()
        self._cache: OrderedDict[tuple[str, str, int], PrincipalPolicies] = OrderedDict()
        self._lock = threading.Lock()

    # --- the question every use case asks ----------------------------------------------------------------

    def require(self, tx: UnitOfWork, caller: Caller, action: str, resource: str, *,
                resource_tags: Callable[[], Sequence[Tag]] | None = None,
                context: Mapping[str, Any] | None = None) -> None:
        """Raise AccessDenied (with AWS's explanation) unless the caller may perform `action` on `resource`."""
        if caller.is_root or not self.enforce:
            return
        decision, ctx = self.decide(tx, caller, action, resource, resource_tags=resource_tags, context=context)
        if not decision.allowed:
            raise AccessDenied(access_denied_message(decision, ctx))

    def decide(self, tx: UnitOfWork, caller: Caller, action: str, resource: str, *,
               resource_tags: Callable[[], Sequence[Tag]] | None = None,
               context: Mapping[str, Any] | None = None) -> tuple[Decision, RequestContext]:
        policies = self.principal_policies(tx, caller)
        keys = self.request_keys(caller, policies.tags)
        if resource_tags is not None and policies.needs_resource_tags:
            for tag in resource_tags():
                keys[f"aws:ResourceTag/{tag.key}"] = tag.value
                keys[f"iam:ResourceTag/{tag.key}"] = tag.value
        if context:
            keys.update(context)
        ctx = RequestContext(policies.principal, action, resource, keys=keys)
        return evaluate(policies.policy_set, ctx), ctx

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
        cache_key = (caller.account_id, caller.principal_id or caller.arn, caller.revision)
        with self._lock:
            found = self._cache.get(cache_key)
            if found is not None:
                self._cache.move_to_end(cache_key)
                return found
        built = self._build(tx, caller)
        if caller.revision >= 0:
            with self._lock:
                self._cache[cache_key] = built
                if len(self._cache) > _CACHE_SIZE:
                    self._cache.popitem(last=False)
        return built

    def _build(self, tx: UnitOfWork, caller: Caller) -> PrincipalPolicies:
        principal = Principal.from_arn(caller.arn, user_id=caller.user_id)
        identity: list[LabelledPolicy] = []
        boundary: LabelledPolicy | None = None
        tags: tuple[Tag, ...] = ()
        if caller.kind is PrincipalKind.USER and caller.principal_id:
            user = tx.users.by_id(caller.principal_id)
            if user is not None:
                identity += self._owned(tx, caller, OwnerKind.USER, user.user_id, f"user/{user.name}")
                for group_id in tx.groups.ids_for_user(user.user_id):
                    group = tx.groups.by_id(group_id)
                    if group is not None:
                        identity += self._owned(tx, caller, OwnerKind.GROUP, group_id, f"group/{group.name}")
                boundary = self._boundary(tx, caller, user.permissions_boundary)
                tags = tx.tags.get(OwnerKind.USER, user.user_id)
        policy_set = PolicySet(identity=identity, boundary=boundary)
        documents = [lp.policy.policy for lp in identity] + ([boundary.policy.policy] if boundary else [])
        needs_tags = any("resourcetag/" in key.lower() for key in context_keys(documents))
        return PrincipalPolicies(principal, policy_set, tags, needs_tags)

    def _owned(self, tx: UnitOfWork, caller: Caller, kind: OwnerKind, owner_id: str, owner_label: str
               ) -> list[LabelledPolicy]:
        out = []
        for inline in tx.inline.all_for(kind, owner_id):
            compiled = self._compile(inline.document, f"{owner_label}/{inline.name}", PolicyType.IDENTITY)
            if compiled:
                out.append(compiled)
        for policy_account, policy_id in tx.attachments.for_owner(kind, owner_id):
            found = default_document(tx, self.managed, policy_account, policy_id)
            if found:
                compiled = self._compile(found[1], found[0].arn(caller.partition), PolicyType.IDENTITY)
                if compiled:
                    out.append(compiled)
        return out

    def _boundary(self, tx: UnitOfWork, caller: Caller, arn: str | None) -> LabelledPolicy | None:
        if not arn:
            return None
        found = find_policy(tx, self.managed, caller.account_id, arn)
        if found is None:
            # A boundary whose policy is gone must not lift the limit: it denies everything.
            return self._compile(_DENY_ALL, arn, PolicyType.BOUNDARY)
        document = found[1].document if found[1] else None
        if document is None:
            version = tx.policies.version(found[0].policy_id, found[0].default_version_id)
            document = version.document if version else None
        return self._compile(document or "", arn, PolicyType.BOUNDARY)

    def _compile(self, document: str, label: str, ptype: PolicyType) -> LabelledPolicy | None:
        kind = PolicyKind.BOUNDARY if ptype is PolicyType.BOUNDARY else PolicyKind.IDENTITY
        try:
            policy = parse(document, kind=kind)
        except PolicyError:
            if ptype is PolicyType.BOUNDARY:
                policy = parse(_DENY_ALL, kind=kind)  # an unreadable boundary must not lift the limit
            else:
                return None  # a stored identity policy that no longer parses grants nothing
        return LabelledPolicy(self.compiler.compile(policy), label, ptype)
