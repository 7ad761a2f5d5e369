"""What AssumeRoleWithWebIdentity and AssumeRoleWithSAML share once the token or assertion is verified: finding the
role, letting its trust policy decide for the federated principal, AWS's rules for session names, session tags
and source identity, and issuing the session through `Sts`.

Nothing is written before every check has passed (the role's last-used note is written when the session is
issued), so a rejected request persists nothing.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from gatehouse.errors import AccessDenied, InvalidIdentityToken
from gatehouse.model import Caller, OwnerKind, Role, Tag
from gatehouse.policy import PolicyKind, Principal
from gatehouse.services.authorization import Authorizer
from gatehouse.services.request_context import RequestFacts, Target
from gatehouse.services.sts import SessionRequest, Sts, parse_role_arn
from gatehouse.storage.repository import Store

NAME_PATTERN = re.compile(r"[\w+=,.@-]{2,64}\Z", re.ASCII)


@dataclass(frozen=True)
class FederatedSession:
    """A verified federated identity's request for a role session."""

    provider_arn: str
    principal: Principal
    session_name: str
    keys: Mapping[str, Any]  # the provider's condition keys (`<url>:sub`, `SAML:aud`, ...)
    tags: Sequence[tuple[str, str]] = ()
    transitive_tag_keys: Sequence[str] = ()
    source_identity: str | None = None


class FederatedRoles:
    def __init__(self, sts: Sts, authz: Authorizer, store: Store) -> None:
        self.sts = sts
        self.authz = authz
        self.store = store

    def role(self, role_arn: str, action: str) -> Role:
        """The role named by `role_arn` (in its account's partition), or AccessDenied (without saying whether it
        exists)."""
        partition, account, path, name = parse_role_arn(role_arn)
        with self.store.read(account) as tx:
            held = tx.accounts.get(account)
            role = tx.roles.get(name) if held is not None and held.partition == partition else None
        if role is None or role.path != path:
            raise AccessDenied(f"Not authorized to perform {action}")
        return role

    def assume(self, caller: Caller, role: Role, action: str, session: FederatedSession, *,
               duration_seconds: int | None, policy: str | None, policy_arns: list[dict[str, str]] | None,
               cap_seconds: int | None = None,
               before_issue: Callable[[], None] | None = None) -> dict[str, Any]:
        """Authorize `session` against the role's trust policy, check the session's shape, then issue it.
        `before_issue`, if given, runs after every check and before anything is written (SAML replay memory)."""
        request = SessionRequest(policy, policy_arns, [{"Key": k, "Value": v} for k, v in session.tags] or None,
                                 list(session.transitive_tag_keys) or None)
        tags, transitive = self.sts.session_tags(caller, request)
        extra: dict[str, Any] = {**session.keys, "aws:FederatedProvider": session.provider_arn}
        facts = RequestFacts(tags=[Tag(k, v) for k, v in tags] or None, session_name=session.session_name,
                             transitive_tag_keys=transitive or None, source_identity=session.source_identity,
                             extra=extra)
        self._authorize(caller, role, session.principal, action, facts, tag_session=bool(tags),
                        set_source_identity=bool(session.source_identity))
        plan = self.sts.plan_role_session(caller, role, session.session_name, request, tags, transitive,
                                          duration_seconds=duration_seconds, cap_seconds=cap_seconds,
                                          source_identity=session.source_identity,
                                          federated_provider=session.provider_arn)
        if before_issue is not None:
            before_issue()
        return self.sts.issue_role_session(plan)

    def _authorize(self, caller: Caller, role: Role, principal: Principal, action: str, facts: RequestFacts, *,
                   tag_session: bool, set_source_identity: bool) -> None:
        denied = AccessDenied(f"Not authorized to perform {action}")
        trust = self.authz.compile(role.trust_policy, "trust policy", PolicyKind.TRUST, role.trust_principals)
        if trust is None:
            raise denied
        actions = [action] + (["sts:TagSession"] if tag_session else []) + (
            ["sts:SetSourceIdentity"] if set_source_identity else [])
        with self.store.read(role.account_id) as tx:
            tags = tx.tags.get(OwnerKind.ROLE, role.role_id)  # the trust policy takes part: it may test them
            target = Target(role.arn(principal.partition), OwnerKind.ROLE, lambda: tags, role.permissions_boundary)
            for act in actions:
                decision, ctx = self.authz.decide_federated(principal, act, target, trust,
                                                            self.global_keys(caller), facts, role.account_id, tx)
                self.authz.note(decision, ctx)
                if not decision.allowed:
                    raise denied

    @staticmethod
    def global_keys(caller: Caller) -> dict[str, Any]:
        keys = Authorizer.request_keys(caller, ())
        keys.pop("aws:userid", None)  # a federated caller has no IAM user id
        return keys


def checked_session_name(name: str, where: str) -> str:
    if not NAME_PATTERN.match(name):
        raise InvalidIdentityToken(f"RoleSessionName in {where} must match [a-zA-Z_0-9+=,.@-]{{2,64}}")
    return name


def checked_source_identity(value: str | None) -> str | None:
    if value is None:
        return None
    if not NAME_PATTERN.match(value) or value.lower().startswith("aws:"):
        raise InvalidIdentityToken('Source Identity must match [a-zA-Z_0-9+=,.@-]{2,64} and not begin with "aws:"')
    return value
