"""Organizations in SQL: small tables read whole (an organization holds tens to thousands of rows), so a shape is
five indexed queries in one transaction."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, bindparam, delete, insert, select, update

from gatehouse.organization import (
    MANAGED_POLICIES,
    AccountRequest,
    OrgAccount,
    Organization,
    OrgPolicy,
    OrgShape,
    OrgUnit,
)
from gatehouse.storage.sql import tables as t

_O, _A = t.organizations, t.org_accounts
_MEMBERSHIP = (select(_O.c.org_id, _O.c.revision).select_from(_A.join(_O, _O.c.org_id == _A.c.org_id))
               .where(_A.c.account_id == bindparam("acct")))
_BUMP = update(_O).where(_O.c.org_id == bindparam("org")).values(revision=_O.c.revision + 1).returning(_O.c.revision)


def _org(r: Any) -> Organization:
    return Organization(org_id=r.org_id, management_account_id=r.management_account_id, root_id=r.root_id,
                        feature_set=r.feature_set, created=r.created, revision=r.revision,
                        policy_types=tuple(p for p in r.policy_types.split(",") if p))


def _unit(r: Any) -> OrgUnit:
    return OrgUnit(ou_id=r.ou_id, org_id=r.org_id, parent_id=r.parent_id, name=r.name, created=r.created)


def _account(r: Any) -> OrgAccount:
    return OrgAccount(account_id=r.account_id, org_id=r.org_id, parent_id=r.parent_id, name=r.name, email=r.email,
                      joined_method=r.joined_method, joined=r.joined, status=r.status)


def _policy(r: Any) -> OrgPolicy:
    return OrgPolicy(policy_id=r.policy_id, org_id=r.org_id, policy_type=r.policy_type, name=r.name,
                     description=r.description, content=r.content)


def _request(r: Any) -> AccountRequest:
    return AccountRequest(request_id=r.request_id, org_id=r.org_id, account_name=r.account_name, state=r.state,
                          requested=r.requested, account_id=r.account_id, failure_reason=r.failure_reason,
                          completed=r.completed)


class SqlOrganizations:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def membership(self, account_id: str) -> tuple[str, int] | None:
        r = self.conn.execute(_MEMBERSHIP, {"acct": account_id}).first()
        return None if r is None else (r.org_id, int(r.revision))

    def of_account(self, account_id: str) -> Organization | None:
        r = self.conn.execute(select(_O).select_from(_A.join(_O, _O.c.org_id == _A.c.org_id))
                              .where(_A.c.account_id == account_id)).first()
        return _org(r) if r else None

    def get(self, org_id: str) -> Organization | None:
        r = self.conn.execute(select(_O).where(_O.c.org_id == org_id)).first()
        return _org(r) if r else None

    def shape(self, org_id: str) -> OrgShape | None:
        org = self.get(org_id)
        if org is None:
            return None
        units = {u.ou_id: u for u in map(_unit, self.conn.execute(
            select(t.org_units).where(t.org_units.c.org_id == org_id).order_by(t.org_units.c.created,
                                                                               t.org_units.c.ou_id)))}
        accounts = {a.account_id: a for a in map(_account, self.conn.execute(
            select(_A).where(_A.c.org_id == org_id).order_by(_A.c.joined, _A.c.account_id)))}
        policies = {p.policy_id: p for p in MANAGED_POLICIES}
        policies.update({p.policy_id: p for p in map(_policy, self.conn.execute(
            select(t.org_policies).where(t.org_policies.c.org_id == org_id).order_by(t.org_policies.c.name)))})
        attachments: dict[str, list[str]] = {}
        at = t.org_attachments
        for r in self.conn.execute(select(at.c.policy_id, at.c.target_id).where(at.c.org_id == org_id)
                                   .order_by(at.c.target_id, at.c.policy_id)):
            attachments.setdefault(r.target_id, []).append(r.policy_id)
        return OrgShape(org, units, accounts, policies, {k: tuple(v) for k, v in attachments.items()})

    def insert(self, org: Organization) -> None:
        self.conn.execute(insert(_O).values(
            org_id=org.org_id, management_account_id=org.management_account_id, root_id=org.root_id,
            feature_set=org.feature_set, created=org.created, revision=org.revision,
            policy_types=",".join(org.policy_types)))

    def delete(self, org_id: str) -> None:
        for table in (t.org_account_requests, t.org_attachments, t.org_policies, t.org_accounts, t.org_units):
            self.conn.execute(delete(table).where(table.c.org_id == org_id))
        self.conn.execute(delete(_O).where(_O.c.org_id == org_id))

    def bump(self, org_id: str) -> int:
        revision = self.conn.execute(_BUMP, {"org": org_id}).scalar()
        if revision is None:
            raise LookupError(f"no organization {org_id}")
        return int(revision)

    def set_policy_types(self, org_id: str, types: Sequence[str]) -> None:
        self.conn.execute(update(_O).where(_O.c.org_id == org_id).values(policy_types=",".join(types)))

    def add_account(self, account: OrgAccount) -> None:
        self.conn.execute(insert(_A).values(
            account_id=account.account_id, org_id=account.org_id, parent_id=account.parent_id, name=account.name,
            email=account.email, joined_method=account.joined_method, joined=account.joined, status=account.status))

    def move_account(self, account_id: str, parent_id: str) -> None:
        self.conn.execute(update(_A).where(_A.c.account_id == account_id).values(parent_id=parent_id))

    def remove_account(self, account_id: str) -> None:
        self.conn.execute(delete(_A).where(_A.c.account_id == account_id))

    def add_unit(self, unit: OrgUnit) -> None:
        self.conn.execute(insert(t.org_units).values(ou_id=unit.ou_id, org_id=unit.org_id, parent_id=unit.parent_id,
                                                     name=unit.name, created=unit.created))

    def rename_unit(self, ou_id: str, name: str) -> None:
        self.conn.execute(update(t.org_units).where(t.org_units.c.ou_id == ou_id).values(name=name))

    def delete_unit(self, ou_id: str) -> None:
        self.conn.execute(delete(t.org_units).where(t.org_units.c.ou_id == ou_id))

    def insert_policy(self, policy: OrgPolicy) -> None:
        self.conn.execute(insert(t.org_policies).values(
            policy_id=policy.policy_id, org_id=policy.org_id, policy_type=policy.policy_type, name=policy.name,
            description=policy.description, content=policy.content))

    def update_policy(self, policy: OrgPolicy) -> None:
        self.conn.execute(update(t.org_policies).where(t.org_policies.c.policy_id == policy.policy_id).values(
            name=policy.name, description=policy.description, content=policy.content))

    def delete_policy(self, policy_id: str) -> None:
        self.conn.execute(delete(t.org_policies).where(t.org_policies.c.policy_id == policy_id))

    def attach(self, org_id: str, policy_id: str, target_id: str) -> None:
        self.conn.execute(insert(t.org_attachments).values(org_id=org_id, policy_id=policy_id, target_id=target_id))

    def detach(self, org_id: str, policy_id: str, target_id: str) -> None:
        at = t.org_attachments
        self.conn.execute(delete(at).where(at.c.org_id == org_id, at.c.policy_id == policy_id,
                                           at.c.target_id == target_id))

    def add_request(self, request: AccountRequest) -> None:
        self.conn.execute(insert(t.org_account_requests).values(
            request_id=request.request_id, org_id=request.org_id, account_name=request.account_name,
            state=request.state, account_id=request.account_id, failure_reason=request.failure_reason,
            requested=request.requested, completed=request.completed))

    def request(self, org_id: str, request_id: str) -> AccountRequest | None:
        rq = t.org_account_requests
        r = self.conn.execute(select(rq).where(rq.c.org_id == org_id, rq.c.request_id == request_id)).first()
        return _request(r) if r else None

    def requests(self, org_id: str) -> list[AccountRequest]:
        rq = t.org_account_requests
        return [_request(r) for r in self.conn.execute(
            select(rq).where(rq.c.org_id == org_id).order_by(rq.c.requested, rq.c.request_id))]
