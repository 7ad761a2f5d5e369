"""Accounts, access keys, instance profiles, tags and tasks in SQL."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from sqlalchemy import LargeBinary, bindparam, cast, delete, func, insert, select, update

from gatehouse.model import AccessKey, Account, InstanceProfile, OwnerKind, Page, Tag
from gatehouse.storage.repository import Counts, Listing
from gatehouse.storage.sql import tables as t
from gatehouse.storage.sql.identities import _Repo
from gatehouse.storage.sql.paging import page_of, path_starts_with


def account_from_row(r: Any) -> Account:
    return Account(account_id=r.account_id, created=r.created, revision=r.revision, alias=r.alias,
                   root_email=r.root_email, sts_global_token_version=r.sts_token_version, partition=r.partition)


def key_from_row(r: Any) -> AccessKey:
    return AccessKey(account_id=r.account_id, access_key_id=r.access_key_id, user_id=r.user_id, status=r.status,
                     created=r.created, sealed_secret=bytes(r.sealed_secret), last_used=r.last_used,
                     last_used_region=r.last_used_region, last_used_service=r.last_used_service)


_ACCOUNT_GET = select(t.accounts).where(t.accounts.c.account_id == bindparam("acct"))


def _octets(column: Any, dialect: str) -> Any:
    """A text column's size in UTF-8 bytes: read from the row's header, without decoding the text (PostgreSQL's
    octet_length; SQLite's length() of the value as a blob)."""
    if dialect == "postgresql":
        return func.octet_length(column)
    return func.length(cast(column, LargeBinary))


def _document_bytes_statement(dialect: str) -> Any:
    """One statement summing the account's stored policy documents (built once per dialect)."""
    pv, p, i, r = t.policy_versions, t.policies, t.inline_policies, t.roles
    acct: Any = bindparam("acct")
    versions = (select(func.coalesce(func.sum(_octets(pv.c.document, dialect)), 0))
                .select_from(pv.join(p, p.c.policy_id == pv.c.policy_id)).where(p.c.account_id == acct)
                .scalar_subquery())
    inline = select(func.coalesce(func.sum(_octets(i.c.document, dialect)), 0)).where(
        i.c.account_id == acct).scalar_subquery()
    trust = select(func.coalesce(func.sum(_octets(r.c.trust_policy, dialect)), 0)).where(
        r.c.account_id == acct).scalar_subquery()
    return select(versions + inline + trust)


_DOCUMENT_BYTES = {dialect: _document_bytes_statement(dialect) for dialect in ("sqlite", "postgresql")}


class SqlAccounts(_Repo):
    def get(self, account_id: str) -> Account | None:
        r = self.conn.execute(_ACCOUNT_GET, {"acct": account_id}).first()
        return account_from_row(r) if r else None

    def all_ids(self) -> list[str]:
        return list(self.conn.execute(select(t.accounts.c.account_id).order_by(t.accounts.c.created,
                                                                                t.accounts.c.account_id)).scalars())

    def by_alias(self, alias: str) -> Account | None:
        r = self.conn.execute(select(t.accounts).where(t.accounts.c.alias == alias)).first()
        return account_from_row(r) if r else None

    def insert(self, account: Account) -> None:
        self.conn.execute(insert(t.accounts).values(
            account_id=account.account_id, revision=account.revision, created=account.created, alias=account.alias,
            root_email=account.root_email, sts_token_version=account.sts_global_token_version,
            partition=account.partition))

    def set_alias(self, alias: str | None) -> None:
        self.conn.execute(update(t.accounts).where(t.accounts.c.account_id == self.account_id).values(alias=alias))

    def set_sts_token_version(self, version: str) -> None:
        self.conn.execute(update(t.accounts).where(t.accounts.c.account_id == self.account_id).values(
            sts_token_version=version))

    def document_bytes(self) -> int:
        return int(self.conn.execute(_DOCUMENT_BYTES[self.conn.dialect.name], {"acct": self.account_id}).scalar_one())

    def counts(self) -> Counts:
        def count(table: Any, *where: Any) -> int:
            return int(self.conn.execute(select(func.count()).select_from(table).where(
                table.c.account_id == self.account_id, *where)).scalar_one())

        attached = self.conn.execute(select(func.count(func.distinct(t.attachments.c.policy_id))).where(
            t.attachments.c.account_id == self.account_id)).scalar_one()
        return Counts(
            users=count(t.users), groups=count(t.groups), roles=count(t.roles), policies=count(t.policies),
            instance_profiles=count(t.instance_profiles), attached_policies=attached,
            policy_versions_in_use=self.conn.execute(
                select(func.count()).select_from(t.policy_versions).join(
                    t.policies, t.policies.c.policy_id == t.policy_versions.c.policy_id
                ).where(t.policies.c.account_id == self.account_id)).scalar_one(),
            root_access_keys=count(t.access_keys, t.access_keys.c.user_id.is_(None)),
            providers=count(t.oidc_providers) + count(t.saml_providers),
            server_certificates=count(t.server_certificates), mfa_devices=count(t.mfa_devices),
            mfa_devices_in_use=count(t.mfa_devices, t.mfa_devices.c.enabled.is_not(None)),
            account_mfa_enabled=min(1, count(t.mfa_devices, t.mfa_devices.c.for_root.is_(True),
                                             t.mfa_devices.c.enabled.is_not(None))),
            root_signing_certificates=count(t.signing_certificates, t.signing_certificates.c.user_id.is_(None)),
        )


_K = t.access_keys.c
_KEY_GET = select(t.access_keys).where(_K.account_id == bindparam("acct"), _K.access_key_id == bindparam("kid"))
_KEYS_OF_USER = select(t.access_keys).where(_K.account_id == bindparam("acct"), _K.user_id == bindparam("uid")
                                           ).order_by(_K.created, _K.access_key_id)
_KEYS_OF_ROOT = select(t.access_keys).where(_K.account_id == bindparam("acct"), _K.user_id.is_(None)
                                           ).order_by(_K.created, _K.access_key_id)
_KEY_ADD = insert(t.access_keys)
_KEY_STATUS = update(t.access_keys).where(_K.access_key_id == bindparam("kid")).values(status=bindparam("b_status"))
_KEY_DELETE = delete(t.access_keys).where(_K.access_key_id == bindparam("kid"))


class SqlAccessKeys(_Repo):
    def get(self, access_key_id: str) -> AccessKey | None:
        r = self.conn.execute(_KEY_GET, {"acct": self.account_id, "kid": access_key_id}).first()
        return key_from_row(r) if r else None

    def for_user(self, user_id: str | None) -> list[AccessKey]:
        if user_id is None:
            rows = self.conn.execute(_KEYS_OF_ROOT, {"acct": self.account_id}).all()
        else:
            rows = self.conn.execute(_KEYS_OF_USER, {"acct": self.account_id, "uid": user_id}).all()
        return [key_from_row(r) for r in rows]

    def insert(self, key: AccessKey) -> None:
        self.conn.execute(_KEY_ADD, {
            "access_key_id": key.access_key_id, "account_id": self.account_id, "user_id": key.user_id,
            "status": key.status, "created": key.created, "sealed_secret": key.sealed_secret})

    def set_status(self, access_key_id: str, status: str) -> None:
        self.conn.execute(_KEY_STATUS, {"kid": access_key_id, "b_status": status})

    def delete(self, access_key_id: str) -> None:
        self.conn.execute(_KEY_DELETE, {"kid": access_key_id})


class SqlInstanceProfiles(_Repo):
    def _build(self, r: Any) -> InstanceProfile:
        role_ids = tuple(self.conn.execute(select(t.instance_profile_roles.c.role_id).where(
            t.instance_profile_roles.c.profile_id == r.profile_id)).scalars())
        return InstanceProfile(account_id=r.account_id, profile_id=r.profile_id, name=r.name, path=r.path,
                               created=r.created, role_ids=role_ids)

    def get(self, name: str) -> InstanceProfile | None:
        r = self.conn.execute(select(t.instance_profiles).where(
            t.instance_profiles.c.account_id == self.account_id,
            t.instance_profiles.c.name_key == name.lower())).first()
        return self._build(r) if r else None

    def page(self, listing: Listing) -> Page[InstanceProfile]:
        q = select(t.instance_profiles).where(
            t.instance_profiles.c.account_id == self.account_id,
            path_starts_with(t.instance_profiles.c.path, listing.path_prefix))
        return page_of(self.conn, q, t.instance_profiles.c.name_key, listing.after, listing.limit, self._build)

    def all(self) -> Iterator[InstanceProfile]:
        q = select(t.instance_profiles).where(t.instance_profiles.c.account_id == self.account_id).order_by(
            t.instance_profiles.c.name_key)
        return (self._build(r) for r in self.conn.execute(q).all())

    def for_role(self, role_id: str, listing: Listing) -> Page[InstanceProfile]:
        q = select(t.instance_profiles).join(
            t.instance_profile_roles, t.instance_profile_roles.c.profile_id == t.instance_profiles.c.profile_id
        ).where(t.instance_profile_roles.c.role_id == role_id)
        return page_of(self.conn, q, t.instance_profiles.c.name_key, listing.after, listing.limit, self._build)

    def insert(self, profile: InstanceProfile) -> None:
        self.conn.execute(insert(t.instance_profiles).values(
            profile_id=profile.profile_id, account_id=self.account_id, name=profile.name,
            name_key=profile.name.lower(), path=profile.path, created=profile.created))

    def delete(self, profile_id: str) -> None:
        self.conn.execute(delete(t.instance_profiles).where(t.instance_profiles.c.profile_id == profile_id))

    def add_role(self, profile_id: str, role_id: str) -> None:
        self.conn.execute(insert(t.instance_profile_roles).values(profile_id=profile_id, role_id=role_id))

    def remove_role(self, profile_id: str, role_id: str) -> None:
        self.conn.execute(delete(t.instance_profile_roles).where(
            t.instance_profile_roles.c.profile_id == profile_id, t.instance_profile_roles.c.role_id == role_id))


_TG = t.tags.c
_TAGS_OF = (_TG.owner_kind == bindparam("kind")) & (_TG.owner_id == bindparam("owner"))
_TAGS_GET = select(_TG.key, _TG.value).where(_TAGS_OF).order_by(_TG.position)
_TAGS_CLEAR = delete(t.tags).where(_TAGS_OF)
_TAGS_ADD = insert(t.tags)


class SqlTags(_Repo):
    def get(self, owner_kind: OwnerKind, owner_id: str) -> tuple[Tag, ...]:
        rows = self.conn.execute(_TAGS_GET, {"kind": owner_kind.value, "owner": owner_id}).all()
        return tuple(Tag(r.key, r.value) for r in rows)

    def replace(self, owner_kind: OwnerKind, owner_id: str, tags: Sequence[Tag]) -> None:
        self.conn.execute(_TAGS_CLEAR, {"kind": owner_kind.value, "owner": owner_id})
        if tags:
            self.conn.execute(_TAGS_ADD, [
                {"account_id": self.account_id, "owner_kind": owner_kind.value, "owner_id": owner_id,
                 "position": i, "key_match": tag.key.lower() if owner_kind.tag_keys_ignore_case else tag.key,
                 "key": tag.key, "value": tag.value}
                for i, tag in enumerate(tags)])


class SqlTasks(_Repo):
    def insert(self, task_id: str, kind: str, subject: str, status: str, detail: str | None = None) -> None:
        self.conn.execute(insert(t.tasks).values(task_id=task_id, account_id=self.account_id, kind=kind,
                                                 subject=subject, status=status, detail=detail, is_done=False))

    def get(self, task_id: str) -> tuple[str, str, str, str | None] | None:
        r = self.conn.execute(select(t.tasks).where(t.tasks.c.account_id == self.account_id,
                                                    t.tasks.c.task_id == task_id)).first()
        return (r.kind, r.subject, r.status, r.detail) if r else None

    def update(self, task_id: str, status: str, detail: str | None = None) -> None:
        self.conn.execute(update(t.tasks).where(t.tasks.c.task_id == task_id).values(status=status, detail=detail))
