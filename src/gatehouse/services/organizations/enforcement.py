"""What an organization adds to a decision: its SCPs (for principals of member accounts), its RCPs (for resources
of member accounts) and the organization condition keys.

An organization is read whole (`OrgShape`) and kept by (organization id, revision): every change to it bumps the
revision in the change's own transaction, and each request reads the revision of its accounts' organization, so a
new SCP binds every account under it on the next request, on any replica. The levels compiled for an account are
kept with the shape they came from.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from gatehouse.model import Caller
from gatehouse.organization import RCP, SCP, OrgShape
from gatehouse.policy import LabelledPolicy, PolicyKind
from gatehouse.storage.repository import UnitOfWork

Compile = Callable[[str, str, PolicyKind], LabelledPolicy | None]
Levels = tuple[tuple[LabelledPolicy, ...], ...]
_SHAPES = 256


@dataclass
class _Held:
    shape: OrgShape
    levels: dict[tuple[str, str], Levels] = field(default_factory=dict)


@dataclass(frozen=True)
class OrgView:
    """An account's place in its organization, for one request."""

    shape: OrgShape
    account_id: str

    @property
    def org_id(self) -> str:
        return self.shape.org.org_id

    @property
    def revision(self) -> int:
        return self.shape.org.revision

    @property
    def member(self) -> bool:
        return self.shape.is_member(self.account_id)

    @property
    def path(self) -> str:
        return self.shape.org_path(self.account_id)


class OrgPolicies:
    """Shapes by (organization, revision), with each account's compiled SCP and RCP levels."""

    def __init__(self, compile_policy: Compile) -> None:
        self._compile = compile_policy
        self._held: OrderedDict[tuple[str, int], _Held] = OrderedDict()
        self._lock = threading.Lock()

    def view(self, tx: UnitOfWork, account_id: str) -> OrgView | None:
        """The account's organization (one query, then the cache), or None outside any."""
        if not account_id:
            return None
        return self.view_of(tx, account_id, tx.organizations.membership(account_id))

    def view_of(self, tx: UnitOfWork, account_id: str, found: tuple[str, int] | None) -> OrgView | None:
        """The view for an account whose (organization, revision) is known, or None for none."""
        if found is None:
            return None
        held = self._get(tx, *found)
        return None if held is None else OrgView(held.shape, account_id)

    def caller_view(self, tx: UnitOfWork, caller: Caller) -> OrgView | None:
        """The caller's account's organization, as authentication read it with the credential (or read now)."""
        if caller.org_known:
            return self.view_of(tx, caller.account_id, caller.org)
        return self.view(tx, caller.account_id)

    def _get(self, tx: UnitOfWork, org_id: str, revision: int) -> _Held | None:
        key = (org_id, revision)
        with self._lock:
            held = self._held.get(key)
            if held is not None:
                self._held.move_to_end(key)
                return held
        shape = tx.organizations.shape(org_id)
        if shape is None:
            return None
        held = _Held(shape)
        with self._lock:
            # Kept only when read at that revision by a read transaction: a write transaction's view may not be what
            # commits under its revision.
            if shape.org.revision == revision and tx.revision < 0:
                for old in [k for k in self._held if k[0] == org_id and k[1] < revision]:
                    del self._held[old]
                self._held[key] = held
                while len(self._held) > _SHAPES:
                    self._held.popitem(last=False)
        return held

    def scps(self, view: OrgView) -> Levels:
        """The SCP levels binding principals of the view's account: none for the management account or when SCPs
        are not enabled."""
        if not view.member or not view.shape.enabled(SCP):
            return ()
        return self._levels(view, SCP, PolicyKind.SCP)

    def rcps(self, view: OrgView) -> Levels:
        """The RCP levels protecting the view's account's resources: every resource Gatehouse holds for it (IAM
        entities, roles assumed through STS, resources in the registry)."""
        if not view.member or not view.shape.enabled(RCP):
            return ()
        return self._levels(view, RCP, PolicyKind.RCP)

    def _levels(self, view: OrgView, policy_type: str, kind: PolicyKind) -> Levels:
        key = (view.account_id, policy_type)
        held = self._held.get((view.org_id, view.revision))
        if held is not None and key in held.levels:
            return held.levels[key]
        out: list[tuple[LabelledPolicy, ...]] = []
        for level in view.shape.levels(view.account_id, policy_type):
            compiled = []
            for policy in level:
                label = policy_arn(view.shape, policy.policy_id, policy.policy_type, policy.aws_managed)
                lp = self._compile(policy.content, label, kind)
                if lp is not None:
                    compiled.append(lp)
            out.append(tuple(compiled))
        levels = tuple(out)
        if held is not None:
            with self._lock:
                held.levels[key] = levels
        return levels


def policy_arn(shape: OrgShape, policy_id: str, policy_type: str, aws_managed: bool, partition: str = "aws") -> str:
    if aws_managed:
        return f"arn:{partition}:organizations::aws:policy/{policy_type.lower()}/{policy_id}"
    org = shape.org
    return f"arn:{partition}:organizations::{org.management_account_id}:policy/{org.org_id}/" \
           f"{policy_type.lower()}/{policy_id}"


def principal_keys(view: OrgView | None) -> dict[str, Any]:
    """`aws:PrincipalOrgID` and `aws:PrincipalOrgPaths` of a caller in the view's account."""
    if view is None:
        return {}
    return {"aws:PrincipalOrgID": view.org_id, "aws:PrincipalOrgPaths": (view.path,)}


def resource_keys(account_id: str, view: OrgView | None) -> dict[str, Any]:
    """`aws:ResourceAccount`, and `aws:ResourceOrgID`/`aws:ResourceOrgPaths` when the account is in an
    organization."""
    keys: dict[str, Any] = {"aws:ResourceAccount": account_id}
    if view is not None:
        keys["aws:ResourceOrgID"] = view.org_id
        keys["aws:ResourceOrgPaths"] = (view.path,)
    return keys
