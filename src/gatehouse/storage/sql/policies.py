"""Customer managed policies with their versions, inline policies, and attachments in SQL."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

from sqlalchemy import and_, delete, func, insert, select, update

from gatehouse.model import InlinePolicy, ManagedPolicy, OwnerKind, Page, PolicyVersion
from gatehouse.storage.markers import decode_marker, encode_marker
from gatehouse.storage.repository import Listing
from gatehouse.storage.sql import tables as t
from gatehouse.storage.sql.identities import _Repo
from gatehouse.storage.sql.paging import page_of, path_starts_with


def _policy(r: Any) -> ManagedPolicy:
    return ManagedPolicy(account_id=r.account_id, policy_id=r.policy_id, name=r.name, path=r.path,
                         default_version_id=r.default_version, created=r.created, updated=r.updated,
                         description=r.description, next_version=r.next_version)


class SqlManagedPolicies(_Repo):
    def get(self, name: str) -> ManagedPolicy | None:
        r = self.conn.execute(select(t.policies).where(t.policies.c.account_id == self.account_id,
                                                       t.policies.c.name_key == name.lower())).first()
        return _policy(r) if r else None

    def by_id(self, policy_id: str) -> ManagedPolicy | None:
        r = self.conn.execute(select(t.policies).where(t.policies.c.account_id == self.account_id,
                                                       t.policies.c.policy_id == policy_id)).first()
        return _policy(r) if r else None

    def list(self, listing: Listing) -> Page[ManagedPolicy]:
        q = select(t.policies).where(t.policies.c.account_id == self.account_id,
                                     path_starts_with(t.policies.c.path, listing.path_prefix))
        return page_of(self.conn, q, t.policies.c.name_key, listing.after, listing.limit, _policy)

    def all(self) -> Iterator[ManagedPolicy]:
        q = select(t.policies).where(t.policies.c.account_id == self.account_id).order_by(t.policies.c.name_key)
        return (_policy(r) for r in self.conn.execute(q).all())

    def insert(self, policy: ManagedPolicy, first: PolicyVersion) -> None:
        self.conn.execute(insert(t.policies).values(
            policy_id=policy.policy_id, account_id=self.account_id, name=policy.name, name_key=policy.name.lower(),
            path=policy.path, default_version=policy.default_version_id, next_version=policy.next_version,
            description=policy.description, created=policy.created, updated=policy.updated))
        self.add_version(policy.policy_id, first)

    def update(self, policy: ManagedPolicy) -> None:
        self.conn.execute(update(t.policies).where(t.policies.c.policy_id == policy.policy_id).values(
            default_version=policy.default_version_id, next_version=policy.next_version,
            description=policy.description, updated=policy.updated))

    def delete(self, policy_id: str) -> None:
        self.conn.execute(delete(t.policy_versions).where(t.policy_versions.c.policy_id == policy_id))
        self.conn.execute(delete(t.policies).where(t.policies.c.policy_id == policy_id))

    def versions(self, policy_id: str) -> list[PolicyVersion]:
        default = self.conn.execute(select(t.policies.c.default_version).where(
            t.policies.c.policy_id == policy_id)).scalar()
        rows = self.conn.execute(select(t.policy_versions).where(t.policy_versions.c.policy_id == policy_id)).all()
        out = [PolicyVersion(r.version_id, r.document, r.version_id == default, r.created) for r in rows]
        return sorted(out, key=lambda v: int(v.version_id[1:]), reverse=True)

    def version(self, policy_id: str, version_id: str) -> PolicyVersion | None:
        r = self.conn.execute(
            select(t.policy_versions, t.policies.c.default_version)
            .join(t.policies, t.policies.c.policy_id == t.policy_versions.c.policy_id)
            .where(t.policy_versions.c.policy_id == policy_id, t.policy_versions.c.version_id == version_id)
        ).first()
        return PolicyVersion(r.version_id, r.document, r.version_id == r.default_version, r.created) if r else None

    def add_version(self, policy_id: str, version: PolicyVersion) -> None:
        self.conn.execute(insert(t.policy_versions).values(
            policy_id=policy_id, version_id=version.version_id, document=version.document, created=version.created))

    def delete_version(self, policy_id: str, version_id: str) -> None:
        self.conn.execute(delete(t.policy_versions).where(t.policy_versions.c.policy_id == policy_id,
                                                          t.policy_versions.c.version_id == version_id))

    def set_default(self, policy_id: str, version_id: str, when: dt.datetime) -> None:
        self.conn.execute(update(t.policies).where(t.policies.c.policy_id == policy_id).values(
            default_version=version_id, updated=when))


class SqlInlinePolicies(_Repo):
    def _where(self, owner_kind: OwnerKind, owner_id: str) -> Any:
        return and_(t.inline_policies.c.owner_kind == owner_kind.value, t.inline_policies.c.owner_id == owner_id)

    def get(self, owner_kind: OwnerKind, owner_id: str, name: str) -> InlinePolicy | None:
        r = self.conn.execute(select(t.inline_policies.c.name, t.inline_policies.c.document).where(
            self._where(owner_kind, owner_id), t.inline_policies.c.name == name)).first()
        return InlinePolicy(owner_kind, owner_id, r.name, r.document) if r else None

    def put(self, policy: InlinePolicy) -> None:
        if self.get(policy.owner_kind, policy.owner_id, policy.name):
            self.conn.execute(update(t.inline_policies).where(
                self._where(policy.owner_kind, policy.owner_id), t.inline_policies.c.name == policy.name,
            ).values(document=policy.document))
        else:
            self.conn.execute(insert(t.inline_policies).values(
                account_id=self.account_id, owner_kind=policy.owner_kind.value, owner_id=policy.owner_id,
                name=policy.name, document=policy.document))

    def delete(self, owner_kind: OwnerKind, owner_id: str, name: str) -> None:
        self.conn.execute(delete(t.inline_policies).where(self._where(owner_kind, owner_id),
                                                          t.inline_policies.c.name == name))

    def names(self, owner_kind: OwnerKind, owner_id: str, after: str | None, limit: int) -> Page[str]:
        q = select(t.inline_policies.c.name).where(self._where(owner_kind, owner_id))
        if after:
            q = q.where(t.inline_policies.c.name > decode_marker(after))
        names = list(self.conn.execute(q.order_by(t.inline_policies.c.name).limit(limit + 1)).scalars())
        if len(names) > limit:
            return Page(names[:limit], encode_marker(names[limit - 1]))
        return Page(names)

    def all_for(self, owner_kind: OwnerKind, owner_id: str) -> list[InlinePolicy]:
        rows = self.conn.execute(select(t.inline_policies.c.name, t.inline_policies.c.document).where(
            self._where(owner_kind, owner_id)).order_by(t.inline_policies.c.name)).all()
        return [InlinePolicy(owner_kind, owner_id, r.name, r.document) for r in rows]

    def count_for(self, owner_kind: OwnerKind, owner_id: str) -> int:
        return self.conn.execute(select(func.count()).select_from(t.inline_policies).where(
            self._where(owner_kind, owner_id))).scalar_one()


class SqlAttachments(_Repo):
    def _key(self, owner_kind: OwnerKind, owner_id: str, policy_account: str, policy_id: str) -> Any:
        a = t.attachments.c
        return and_(a.owner_kind == owner_kind.value, a.owner_id == owner_id, a.policy_account == policy_account,
                    a.policy_id == policy_id)

    def attach(self, owner_kind: OwnerKind, owner_id: str, policy_account: str, policy_id: str) -> None:
        if not self.is_attached(owner_kind, owner_id, policy_account, policy_id):
            self.conn.execute(insert(t.attachments).values(
                account_id=self.account_id, owner_kind=owner_kind.value, owner_id=owner_id,
                policy_account=policy_account, policy_id=policy_id))

    def detach(self, owner_kind: OwnerKind, owner_id: str, policy_account: str, policy_id: str) -> None:
        self.conn.execute(delete(t.attachments).where(self._key(owner_kind, owner_id, policy_account, policy_id)))

    def is_attached(self, owner_kind: OwnerKind, owner_id: str, policy_account: str, policy_id: str) -> bool:
        return self.conn.execute(select(t.attachments.c.policy_id).where(
            self._key(owner_kind, owner_id, policy_account, policy_id))).first() is not None

    def for_owner(self, owner_kind: OwnerKind, owner_id: str) -> list[tuple[str, str]]:
        a = t.attachments.c
        rows = self.conn.execute(select(a.policy_account, a.policy_id).where(
            a.owner_kind == owner_kind.value, a.owner_id == owner_id)).all()
        return [(r.policy_account, r.policy_id) for r in rows]

    def owners_of(self, policy_account: str, policy_id: str) -> list[tuple[OwnerKind, str]]:
        a = t.attachments.c
        rows = self.conn.execute(select(a.owner_kind, a.owner_id).where(
            a.account_id == self.account_id, a.policy_account == policy_account, a.policy_id == policy_id)).all()
        return [(OwnerKind(r.owner_kind), r.owner_id) for r in rows]

    def count_of(self, policy_account: str, policy_id: str) -> int:
        a = t.attachments.c
        return self.conn.execute(select(func.count()).select_from(t.attachments).where(
            a.account_id == self.account_id, a.policy_account == policy_account, a.policy_id == policy_id)
        ).scalar_one()

    def counts(self) -> dict[tuple[str, str], int]:
        a = t.attachments.c
        rows = self.conn.execute(select(a.policy_account, a.policy_id, func.count()).where(
            a.account_id == self.account_id).group_by(a.policy_account, a.policy_id)).all()
        return {(r[0], r[1]): r[2] for r in rows}

    def boundary_usage(self, policy_arn_suffix: str) -> int:
        return self.boundary_usages().get(policy_arn_suffix, 0)

    def boundary_usages(self) -> dict[str, int]:
        """Boundary ARNs in use, keyed by the ARN without its partition (`iam::ACCOUNT:policy/...`)."""
        out: dict[str, int] = {}
        for table in (t.users, t.roles):
            rows = self.conn.execute(select(table.c.boundary, func.count()).where(
                table.c.account_id == self.account_id, table.c.boundary.is_not(None)).group_by(table.c.boundary))
            for boundary, n in rows:
                suffix = boundary.split(":", 2)[2] if boundary.count(":") >= 2 else boundary
                out[suffix] = out.get(suffix, 0) + n
        return out
