"""Users, groups (with membership) and roles in SQL."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from typing import Any

from sqlalchemy import bindparam, delete, exists, func, insert, literal, select, union_all, update
from sqlalchemy.exc import IntegrityError

from gatehouse.model import Group, IamPrincipal, Page, Role, User
from gatehouse.storage.repository import Duplicate, Listing
from gatehouse.storage.sql import tables as t
from gatehouse.storage.sql.statements import Keyset, Named, prefix_params

_USERS = Named(t.users, t.users.c.user_id)
_USER_UPDATE = update(t.users).where(t.users.c.user_id == bindparam("b_id")).values(
    name=bindparam("b_name"), name_key=bindparam("b_key"), path=bindparam("b_path"), boundary=bindparam("b_boundary"),
    password_last_used=bindparam("b_pwd"))
_DEPENDENT_TABLES = {
    "login_profile": t.login_profiles.c.user_id, "access_keys": t.access_keys.c.user_id,
    "signing_certificates": t.signing_certificates.c.user_id, "ssh_keys": t.ssh_public_keys.c.user_id,
    "service_credentials": t.service_credentials.c.user_id, "mfa": t.mfa_devices.c.user_id,
    "groups": t.group_members.c.user_id,
}
_USER_DEPENDENTS = select(
    *(exists().where(column == bindparam("uid")).label(kind) for kind, column in _DEPENDENT_TABLES.items()),
    exists().where(t.inline_policies.c.owner_kind == "user", t.inline_policies.c.owner_id == bindparam("uid"))
    .label("inline"),
    exists().where(t.attachments.c.owner_kind == "user", t.attachments.c.owner_id == bindparam("uid"))
    .label("attached"),
)
_USER_BOUNDARY = update(t.users).where(t.users.c.user_id == bindparam("b_id")).values(boundary=bindparam("b_arn"))

_GROUPS = Named(t.groups, t.groups.c.group_id)
_GROUP_UPDATE = update(t.groups).where(t.groups.c.group_id == bindparam("b_id")).values(
    name=bindparam("b_name"), name_key=bindparam("b_key"), path=bindparam("b_path"))
_GM = t.group_members.c
_MEMBER = select(_GM.user_id).where(_GM.group_id == bindparam("gid"), _GM.user_id == bindparam("uid"))
_MEMBER_ADD = insert(t.group_members)
_MEMBER_REMOVE = delete(t.group_members).where(_GM.group_id == bindparam("gid"), _GM.user_id == bindparam("uid"))
_MEMBER_COUNT = select(func.count()).select_from(t.group_members).where(_GM.group_id == bindparam("gid"))
_MEMBERS = Keyset(select(t.users).join(t.group_members, _GM.user_id == t.users.c.user_id).where(
    _GM.group_id == bindparam("gid")), t.users.c.name_key)
_GROUPS_OF = Keyset(select(t.groups).join(t.group_members, _GM.group_id == t.groups.c.group_id).where(
    _GM.user_id == bindparam("uid")), t.groups.c.name_key)
_GROUP_IDS_OF = select(_GM.group_id).where(_GM.user_id == bindparam("uid"))

_ROLES = Named(t.roles, t.roles.c.role_id)
_ROLE_UPDATE = update(t.roles).where(t.roles.c.role_id == bindparam("b_id")).values(
    trust_policy=bindparam("b_trust"), description=bindparam("b_description"),
    max_session_duration=bindparam("b_max"), boundary=bindparam("b_boundary"), last_used=bindparam("b_last"),
    last_used_region=bindparam("b_region"), trust_principals=bindparam("b_principals"))

# IAM users and roles of any account, as policies name them (by account and name) and as bindings keep them (by id).
_U, _R = t.users.c, t.roles.c
_PRINCIPAL_USER = select(_U.account_id, literal("user").label("kind"), _U.user_id.label("unique_id"), _U.name, _U.path)
_PRINCIPAL_ROLE = select(_R.account_id, literal("role").label("kind"), _R.role_id.label("unique_id"), _R.name, _R.path)
_FIND_USER = _PRINCIPAL_USER.where(_U.account_id == bindparam("acct"), _U.name_key == bindparam("key"))
_FIND_ROLE = _PRINCIPAL_ROLE.where(_R.account_id == bindparam("acct"), _R.name_key == bindparam("key"))
_IDS_PER_QUERY = 400
_BY_IDS = union_all(_PRINCIPAL_USER.where(_U.user_id.in_(bindparam("ids", expanding=True))),
                    _PRINCIPAL_ROLE.where(_R.role_id.in_(bindparam("ids", expanding=True))))


def _user(r: Any) -> User:
    return User(account_id=r.account_id, user_id=r.user_id, name=r.name, path=r.path, created=r.created,
                permissions_boundary=r.boundary, password_last_used=r.password_last_used)


def _group(r: Any) -> Group:
    return Group(account_id=r.account_id, group_id=r.group_id, name=r.name, path=r.path, created=r.created)


def _role(r: Any) -> Role:
    return Role(account_id=r.account_id, role_id=r.role_id, name=r.name, path=r.path, created=r.created,
                trust_policy=r.trust_policy, description=r.description, max_session_duration=r.max_session_duration,
                permissions_boundary=r.boundary, last_used=r.last_used, last_used_region=r.last_used_region,
                trust_principals=_bindings(r.trust_principals))


def _bindings(text: str | None) -> tuple[tuple[str, str], ...]:
    return tuple((str(arn), str(uid)) for arn, uid in json.loads(text)) if text else ()


def _bindings_text(bindings: tuple[tuple[str, str], ...]) -> str | None:
    return json.dumps([list(pair) for pair in bindings]) if bindings else None


def _principal(r: Any) -> IamPrincipal:
    return IamPrincipal(account_id=r.account_id, kind=r.kind, unique_id=r.unique_id, name=r.name, path=r.path)


class _Repo:
    def __init__(self, conn: Any, account_id: str) -> None:
        self.conn = conn
        self.account_id = account_id

    def _insert(self, statement: Any, values: dict[str, Any]) -> None:
        """Insert, reporting a unique-name clash as `Duplicate` at once (the transaction is then rolled back)."""
        try:
            self.conn.execute(statement, values)
        except IntegrityError as e:
            raise Duplicate(str(e.orig)) from None


class _NamedRepo(_Repo):
    statements: Named

    def _get(self, name: str) -> Any:
        return self.conn.execute(self.statements.get, {"acct": self.account_id, "key": name.lower()}).first()

    def _by_id(self, entity_id: str) -> Any:
        return self.conn.execute(self.statements.by_id, {"acct": self.account_id, "id": entity_id}).first()

    def _all(self) -> list[Any]:
        return list(self.conn.execute(self.statements.all, {"acct": self.account_id}).all())

    def count(self) -> int:
        return int(self.conn.execute(self.statements.count, {"acct": self.account_id}).scalar_one())

    def delete(self, entity_id: str) -> None:
        self.conn.execute(self.statements.delete, {"id": entity_id})

    def _list(self, listing: Listing, build: Any) -> Page[Any]:
        params = {"acct": self.account_id, **prefix_params(listing.path_prefix)}
        return self.statements.listing.page(self.conn, params, listing.after, listing.limit, build)


class SqlUsers(_NamedRepo):
    statements = _USERS

    def get(self, name: str) -> User | None:
        r = self._get(name)
        return _user(r) if r else None

    def by_id(self, user_id: str) -> User | None:
        r = self._by_id(user_id)
        return _user(r) if r else None

    def page(self, listing: Listing) -> Page[User]:
        return self._list(listing, _user)

    def all(self) -> Iterator[User]:
        return (_user(r) for r in self._all())

    def insert(self, user: User) -> None:
        self._insert(_USERS.insert, {
            "user_id": user.user_id, "account_id": self.account_id, "name": user.name, "name_key": user.name.lower(),
            "path": user.path, "created": user.created, "boundary": user.permissions_boundary,
            "password_last_used": None})

    def update(self, user: User) -> None:
        try:
            self.conn.execute(_USER_UPDATE, {
                "b_id": user.user_id, "b_name": user.name, "b_key": user.name.lower(), "b_path": user.path,
                "b_boundary": user.permissions_boundary, "b_pwd": user.password_last_used})
        except IntegrityError as e:
            raise Duplicate(str(e.orig)) from None

    def set_boundary(self, user_id: str, policy_arn: str | None) -> None:
        self.conn.execute(_USER_BOUNDARY, {"b_id": user_id, "b_arn": policy_arn})

    def dependents(self, user_id: str) -> frozenset[str]:
        """What still hangs on a user (one query): login_profile, access_keys, signing_certificates, ssh_keys,
        service_credentials, mfa, groups, inline, attached."""
        row = self.conn.execute(_USER_DEPENDENTS, {"uid": user_id}).one()
        return frozenset(kind for kind, present in row._mapping.items() if present)


class SqlGroups(_NamedRepo):
    statements = _GROUPS

    def get(self, name: str) -> Group | None:
        r = self._get(name)
        return _group(r) if r else None

    def by_id(self, group_id: str) -> Group | None:
        r = self._by_id(group_id)
        return _group(r) if r else None

    def page(self, listing: Listing) -> Page[Group]:
        return self._list(listing, _group)

    def all(self) -> Iterator[Group]:
        return (_group(r) for r in self._all())

    def insert(self, group: Group) -> None:
        self._insert(_GROUPS.insert, {
            "group_id": group.group_id, "account_id": self.account_id, "name": group.name,
            "name_key": group.name.lower(), "path": group.path, "created": group.created})

    def update(self, group: Group) -> None:
        try:
            self.conn.execute(_GROUP_UPDATE, {"b_id": group.group_id, "b_name": group.name,
                                              "b_key": group.name.lower(), "b_path": group.path})
        except IntegrityError as e:
            raise Duplicate(str(e.orig)) from None

    def add_member(self, group_id: str, user_id: str) -> None:
        if not self.is_member(group_id, user_id):
            self.conn.execute(_MEMBER_ADD, {"group_id": group_id, "user_id": user_id})

    def remove_member(self, group_id: str, user_id: str) -> None:
        self.conn.execute(_MEMBER_REMOVE, {"gid": group_id, "uid": user_id})

    def is_member(self, group_id: str, user_id: str) -> bool:
        return self.conn.execute(_MEMBER, {"gid": group_id, "uid": user_id}).first() is not None

    def members(self, group_id: str, listing: Listing) -> Page[User]:
        return _MEMBERS.page(self.conn, {"gid": group_id}, listing.after, listing.limit, _user)

    def member_count(self, group_id: str) -> int:
        return int(self.conn.execute(_MEMBER_COUNT, {"gid": group_id}).scalar_one())

    def for_user(self, user_id: str, listing: Listing) -> Page[Group]:
        return _GROUPS_OF.page(self.conn, {"uid": user_id}, listing.after, listing.limit, _group)

    def ids_for_user(self, user_id: str) -> list[str]:
        return list(self.conn.execute(_GROUP_IDS_OF, {"uid": user_id}).scalars())


class SqlRoles(_NamedRepo):
    statements = _ROLES

    def get(self, name: str) -> Role | None:
        r = self._get(name)
        return _role(r) if r else None

    def by_id(self, role_id: str) -> Role | None:
        r = self._by_id(role_id)
        return _role(r) if r else None

    def page(self, listing: Listing) -> Page[Role]:
        return self._list(listing, _role)

    def all(self) -> Iterator[Role]:
        return (_role(r) for r in self._all())

    def insert(self, role: Role) -> None:
        self._insert(_ROLES.insert, {
            "role_id": role.role_id, "account_id": self.account_id, "name": role.name, "name_key": role.name.lower(),
            "path": role.path, "created": role.created, "trust_policy": role.trust_policy,
            "description": role.description, "max_session_duration": role.max_session_duration,
            "boundary": role.permissions_boundary, "last_used": None, "last_used_region": None,
            "trust_principals": _bindings_text(role.trust_principals)})

    def update(self, role: Role) -> None:
        self.conn.execute(_ROLE_UPDATE, {
            "b_id": role.role_id, "b_trust": role.trust_policy, "b_description": role.description,
            "b_max": role.max_session_duration, "b_boundary": role.permissions_boundary, "b_last": role.last_used,
            "b_region": role.last_used_region, "b_principals": _bindings_text(role.trust_principals)})


class SqlPrincipals:
    """IAM users and roles across accounts: a trust policy may name another account's (held here too)."""

    def __init__(self, conn: Any) -> None:
        self.conn = conn

    def find(self, account_id: str, kind: str, name: str) -> IamPrincipal | None:
        """The user or role of that account with that name (without case, as IAM names compare)."""
        statement = _FIND_USER if kind == "user" else _FIND_ROLE
        r = self.conn.execute(statement, {"acct": account_id, "key": name.lower()}).first()
        return _principal(r) if r else None

    def by_ids(self, unique_ids: Iterable[str]) -> dict[str, IamPrincipal]:
        """The users and roles that still hold these ids, by id (a deleted principal's id is simply absent)."""
        wanted = sorted(set(unique_ids))
        found: dict[str, IamPrincipal] = {}
        for start in range(0, len(wanted), _IDS_PER_QUERY):  # bounded: SQLite caps the parameters of a statement
            rows = self.conn.execute(_BY_IDS, {"ids": wanted[start:start + _IDS_PER_QUERY]})
            found.update((r.unique_id, _principal(r)) for r in rows)
        return found
