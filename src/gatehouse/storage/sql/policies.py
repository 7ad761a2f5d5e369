"""Customer managed policies with their versions, inline policies, and attachments in SQL."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

from sqlalchemy import bindparam, delete, func, insert, select, update

from gatehouse.model import InlinePolicy, ManagedPolicy, OwnerKind, Page, PolicyVersion
from gatehouse.storage.repository import Listing
from gatehouse.storage.sql import tables as t
from gatehouse.storage.sql.identities import _NamedRepo, _Repo
from gatehouse.storage.sql.statements import Keyset, Named

_POLICIES = Named(t.policies, t.policies.c.policy_id)
_P, _V = t.policies.c, t.policy_versions.c
_POLICY_UPDATE = update(t.policies).where(_P.policy_id == bindparam("b_id")).values(
    default_version=bindparam("b_default"), next_version=bindparam("b_next"), description=bindparam("b_description"),
    updated=bindparam("b_updated"))
_SET_DEFAULT = update(t.policies).where(_P.policy_id == bindparam("b_id")).values(
    default_version=bindparam("b_default"), updated=bindparam("b_updated"))
_DEFAULT_OF = select(_P.default_version).where(_P.policy_id == bindparam("pid"))
_VERSIONS = select(t.policy_versions).where(_V.policy_id == bindparam("pid"))
_VERSION = (select(t.policy_versions, _P.default_version).join(t.policies, _P.policy_id == _V.policy_id)
            .where(_V.policy_id == bindparam("pid"), _V.version_id == bindparam("vid")))
_VERSION_ADD = insert(t.policy_versions)
_VERSION_DELETE = delete(t.policy_versions).where(_V.policy_id == bindparam("pid"), _V.version_id == bindparam("vid"))
_VERSIONS_DELETE = delete(t.policy_versions).where(_V.policy_id == bindparam("pid"))


def _policy(r: Any) -> ManagedPolicy:
    return ManagedPolicy(account_id=r.account_id, policy_id=r.policy_id, name=r.name, path=r.path,
                         default_version_id=r.default_version, created=r.created, updated=r.updated,
                         description=r.description, next_version=r.next_version)


class SqlManagedPolicies(_NamedRepo):
    statements = _POLICIES

    def get(self, name: str) -> ManagedPolicy | None:
        r = self._get(name)
        return _policy(r) if r else None

    def by_id(self, policy_id: str) -> ManagedPolicy | None:
        r = self._by_id(policy_id)
        return _policy(r) if r else None

    def page(self, listing: Listing) -> Page[ManagedPolicy]:
        return self._list(listing, _policy)

    def all(self) -> Iterator[ManagedPolicy]:
        return (_policy(r) for r in self._all())

    def insert(self, policy: ManagedPolicy, first: PolicyVersion) -> None:
        self._insert(_POLICIES.insert, {
            "policy_id": policy.policy_id, "account_id": self.account_id, "name": policy.name,
            "name_key": policy.name.lower(), "path": policy.path, "default_version": policy.default_version_id,
            "next_version": policy.next_version, "description": policy.description, "created": policy.created,
            "updated": policy.updated})
        self.add_version(policy.policy_id, first)

    def update(self, policy: ManagedPolicy) -> None:
        self.conn.execute(_POLICY_UPDATE, {"b_id": policy.policy_id, "b_default": policy.default_version_id,
                                           "b_next": policy.next_version, "b_description": policy.description,
                                           "b_updated": policy.updated})

    def delete(self, policy_id: str) -> None:
        self.conn.execute(_VERSIONS_DELETE, {"pid": policy_id})
        super().delete(policy_id)

    def versions(self, policy_id: str) -> list[PolicyVersion]:
        default = self.conn.execute(_DEFAULT_OF, {"pid": policy_id}).scalar()
        rows = self.conn.execute(_VERSIONS, {"pid": policy_id}).all()
        out = [PolicyVersion(r.version_id, r.document, r.version_id == default, r.created) for r in rows]
        return sorted(out, key=lambda v: int(v.version_id[1:]), reverse=True)

    def version(self, policy_id: str, version_id: str) -> PolicyVersion | None:
        r = self.conn.execute(_VERSION, {"pid": policy_id, "vid": version_id}).first()
        return PolicyVersion(r.version_id, r.document, r.version_id == r.default_version, r.created) if r else None

    def add_version(self, policy_id: str, version: PolicyVersion) -> None:
        self.conn.execute(_VERSION_ADD, {"policy_id": policy_id, "version_id": version.version_id,
                                         "document": version.document, "created": version.created})

    def delete_version(self, policy_id: str, version_id: str) -> None:
        self.conn.execute(_VERSION_DELETE, {"pid": policy_id, "vid": version_id})

    def set_default(self, policy_id: str, version_id: str, when: dt.datetime) -> None:
        self.conn.execute(_SET_DEFAULT, {"b_id": policy_id, "b_default": version_id, "b_updated": when})


_I = t.inline_policies.c
_OWNER = (_I.owner_kind == bindparam("kind")) & (_I.owner_id == bindparam("owner"))
_INLINE_GET = select(_I.name, _I.document).where(_OWNER, _I.name == bindparam("pname"))
_INLINE_ALL = select(_I.name, _I.document).where(_OWNER).order_by(_I.name)
_INLINE_COUNT = select(func.count()).select_from(t.inline_policies).where(_OWNER)
_INLINE_SET = update(t.inline_policies).where(_OWNER, _I.name == bindparam("pname")).values(
    document=bindparam("b_document"))
_INLINE_ADD = insert(t.inline_policies)
_INLINE_DELETE = delete(t.inline_policies).where(_OWNER, _I.name == bindparam("pname"))
_INLINE_NAMES = Keyset(select(_I.name).where(_OWNER), _I.name)


class SqlInlinePolicies(_Repo):
    def get(self, owner_kind: OwnerKind, owner_id: str, name: str) -> InlinePolicy | None:
        r = self.conn.execute(_INLINE_GET, {"kind": owner_kind.value, "owner": owner_id, "pname": name}).first()
        return InlinePolicy(owner_kind, owner_id, r.name, r.document) if r else None

    def put(self, policy: InlinePolicy) -> None:
        owner = {"kind": policy.owner_kind.value, "owner": policy.owner_id, "pname": policy.name}
        if self.conn.execute(_INLINE_GET, owner).first():
            self.conn.execute(_INLINE_SET, {**owner, "b_document": policy.document})
        else:
            self.conn.execute(_INLINE_ADD, {"account_id": self.account_id, "owner_kind": policy.owner_kind.value,
                                            "owner_id": policy.owner_id, "name": policy.name,
                                            "document": policy.document})

    def delete(self, owner_kind: OwnerKind, owner_id: str, name: str) -> None:
        self.conn.execute(_INLINE_DELETE, {"kind": owner_kind.value, "owner": owner_id, "pname": name})

    def names(self, owner_kind: OwnerKind, owner_id: str, after: str | None, limit: int) -> Page[str]:
        return _INLINE_NAMES.page(self.conn, {"kind": owner_kind.value, "owner": owner_id}, after, limit,
                                  lambda r: r.name)

    def all_for(self, owner_kind: OwnerKind, owner_id: str) -> list[InlinePolicy]:
        rows = self.conn.execute(_INLINE_ALL, {"kind": owner_kind.value, "owner": owner_id}).all()
        return [InlinePolicy(owner_kind, owner_id, r.name, r.document) for r in rows]

    def count_for(self, owner_kind: OwnerKind, owner_id: str) -> int:
        return int(self.conn.execute(_INLINE_COUNT, {"kind": owner_kind.value, "owner": owner_id}).scalar_one())


_AT = t.attachments.c
_AT_OWNER = (_AT.owner_kind == bindparam("kind")) & (_AT.owner_id == bindparam("owner"))
_AT_POLICY = (_AT.policy_account == bindparam("pacct")) & (_AT.policy_id == bindparam("pid"))
_ATTACHED = select(_AT.policy_id).where(_AT_OWNER, _AT_POLICY)
_ATTACH = insert(t.attachments)
_DETACH = delete(t.attachments).where(_AT_OWNER, _AT_POLICY)
_FOR_OWNER = select(_AT.policy_account, _AT.policy_id).where(_AT_OWNER)
_OWNERS_OF = select(_AT.owner_kind, _AT.owner_id).where(_AT.account_id == bindparam("acct"), _AT_POLICY)
_COUNT_OF = select(func.count()).select_from(t.attachments).where(_AT.account_id == bindparam("acct"), _AT_POLICY)
_COUNTS = select(_AT.policy_account, _AT.policy_id, func.count()).where(
    _AT.account_id == bindparam("acct")).group_by(_AT.policy_account, _AT.policy_id)
_BOUNDARIES = [select(table.c.boundary, func.count()).where(
    table.c.account_id == bindparam("acct"), table.c.boundary.is_not(None)).group_by(table.c.boundary)
    for table in (t.users, t.roles)]


class SqlAttachments(_Repo):
    def attach(self, owner_kind: OwnerKind, owner_id: str, policy_account: str, policy_id: str) -> None:
        if not self.is_attached(owner_kind, owner_id, policy_account, policy_id):
            self.conn.execute(_ATTACH, {"account_id": self.account_id, "owner_kind": owner_kind.value,
                                        "owner_id": owner_id, "policy_account": policy_account,
                                        "policy_id": policy_id})

    def detach(self, owner_kind: OwnerKind, owner_id: str, policy_account: str, policy_id: str) -> None:
        self.conn.execute(_DETACH, {"kind": owner_kind.value, "owner": owner_id, "pacct": policy_account,
                                    "pid": policy_id})

    def is_attached(self, owner_kind: OwnerKind, owner_id: str, policy_account: str, policy_id: str) -> bool:
        return self.conn.execute(_ATTACHED, {"kind": owner_kind.value, "owner": owner_id, "pacct": policy_account,
                                             "pid": policy_id}).first() is not None

    def for_owner(self, owner_kind: OwnerKind, owner_id: str) -> list[tuple[str, str]]:
        rows = self.conn.execute(_FOR_OWNER, {"kind": owner_kind.value, "owner": owner_id}).all()
        return [(r.policy_account, r.policy_id) for r in rows]

    def owners_of(self, policy_account: str, policy_id: str) -> list[tuple[OwnerKind, str]]:
        rows = self.conn.execute(_OWNERS_OF, {"acct": self.account_id, "pacct": policy_account,
                                              "pid": policy_id}).all()
        return [(OwnerKind(r.owner_kind), r.owner_id) for r in rows]

    def count_of(self, policy_account: str, policy_id: str) -> int:
        return int(self.conn.execute(_COUNT_OF, {"acct": self.account_id, "pacct": policy_account,
                                                 "pid": policy_id}).scalar_one())

    def counts(self) -> dict[tuple[str, str], int]:
        rows = self.conn.execute(_COUNTS, {"acct": self.account_id}).all()
        return {(r[0], r[1]): r[2] for r in rows}

    def boundary_usage(self, policy_arn_suffix: str) -> int:
        return self.boundary_usages().get(policy_arn_suffix, 0)

    def boundary_usages(self) -> dict[str, int]:
        """Boundary ARNs in use, keyed by the ARN without its partition (`iam::ACCOUNT:policy/...`)."""
        out: dict[str, int] = {}
        for statement in _BOUNDARIES:
            for boundary, n in self.conn.execute(statement, {"acct": self.account_id}):
                suffix = boundary.split(":", 2)[2] if boundary.count(":") >= 2 else boundary
                out[suffix] = out.get(suffix, 0) + n
        return out
