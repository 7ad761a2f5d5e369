"""Users, groups (with membership) and roles in SQL."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from sqlalchemy import delete, func, insert, select, update

from gatehouse.model import Group, Page, Role, User
from gatehouse.storage.repository import Listing
from gatehouse.storage.sql import tables as t
from gatehouse.storage.sql.paging import page_of, path_starts_with


def _user(r: Any) -> User:
    return User(account_id=r.account_id, user_id=r.user_id, name=r.name, path=r.path, created=r.created,
                permissions_boundary=r.boundary, password_last_used=r.password_last_used)


def _group(r: Any) -> Group:
    return Group(account_id=r.account_id, group_id=r.group_id, name=r.name, path=r.path, created=r.created)


def _role(r: Any) -> Role:
    return Role(account_id=r.account_id, role_id=r.role_id, name=r.name, path=r.path, created=r.created,
                trust_policy=r.trust_policy, description=r.description, max_session_duration=r.max_session_duration,
                permissions_boundary=r.boundary, last_used=r.last_used, last_used_region=r.last_used_region)


class _Repo:
    def __init__(self, conn: Any, account_id: str) -> None:
        self.conn = conn
        self.account_id = account_id


class SqlUsers(_Repo):
    def get(self, name: str) -> User | None:
        r = self.conn.execute(select(t.users).where(t.users.c.account_id == self.account_id,
                                                    t.users.c.name_key == name.lower())).first()
        return _user(r) if r else None

    def by_id(self, user_id: str) -> User | None:
        r = self.conn.execute(select(t.users).where(t.users.c.account_id == self.account_id,
                                                    t.users.c.user_id == user_id)).first()
        return _user(r) if r else None

    def list(self, listing: Listing) -> Page[User]:
        q = select(t.users).where(t.users.c.account_id == self.account_id,
                                  path_starts_with(t.users.c.path, listing.path_prefix))
        return page_of(self.conn, q, t.users.c.name_key, listing.after, listing.limit, _user)

    def all(self) -> Iterator[User]:
        q = select(t.users).where(t.users.c.account_id == self.account_id).order_by(t.users.c.name_key)
        return (_user(r) for r in self.conn.execute(q).all())

    def count(self) -> int:
        return self.conn.execute(select(func.count()).select_from(t.users).where(
            t.users.c.account_id == self.account_id)).scalar_one()

    def insert(self, user: User) -> None:
        self.conn.execute(insert(t.users).values(
            user_id=user.user_id, account_id=self.account_id, name=user.name, name_key=user.name.lower(),
            path=user.path, created=user.created, boundary=user.permissions_boundary))

    def update(self, user: User) -> None:
        self.conn.execute(update(t.users).where(t.users.c.user_id == user.user_id).values(
            name=user.name, name_key=user.name.lower(), path=user.path, boundary=user.permissions_boundary,
            password_last_used=user.password_last_used))

    def delete(self, user_id: str) -> None:
        self.conn.execute(delete(t.users).where(t.users.c.user_id == user_id))

    def set_boundary(self, user_id: str, policy_arn: str | None) -> None:
        self.conn.execute(update(t.users).where(t.users.c.user_id == user_id).values(boundary=policy_arn))


class SqlGroups(_Repo):
    def get(self, name: str) -> Group | None:
        r = self.conn.execute(select(t.groups).where(t.groups.c.account_id == self.account_id,
                                                     t.groups.c.name_key == name.lower())).first()
        return _group(r) if r else None

    def by_id(self, group_id: str) -> Group | None:
        r = self.conn.execute(select(t.groups).where(t.groups.c.account_id == self.account_id,
                                                     t.groups.c.group_id == group_id)).first()
        return _group(r) if r else None

    def list(self, listing: Listing) -> Page[Group]:
        q = select(t.groups).where(t.groups.c.account_id == self.account_id,
                                   path_starts_with(t.groups.c.path, listing.path_prefix))
        return page_of(self.conn, q, t.groups.c.name_key, listing.after, listing.limit, _group)

    def all(self) -> Iterator[Group]:
        q = select(t.groups).where(t.groups.c.account_id == self.account_id).order_by(t.groups.c.name_key)
        return (_group(r) for r in self.conn.execute(q).all())

    def insert(self, group: Group) -> None:
        self.conn.execute(insert(t.groups).values(
            group_id=group.group_id, account_id=self.account_id, name=group.name, name_key=group.name.lower(),
            path=group.path, created=group.created))

    def update(self, group: Group) -> None:
        self.conn.execute(update(t.groups).where(t.groups.c.group_id == group.group_id).values(
            name=group.name, name_key=group.name.lower(), path=group.path))

    def delete(self, group_id: str) -> None:
        self.conn.execute(delete(t.groups).where(t.groups.c.group_id == group_id))

    def add_member(self, group_id: str, user_id: str) -> None:
        if not self.is_member(group_id, user_id):
            self.conn.execute(insert(t.group_members).values(group_id=group_id, user_id=user_id))

    def remove_member(self, group_id: str, user_id: str) -> None:
        self.conn.execute(delete(t.group_members).where(t.group_members.c.group_id == group_id,
                                                        t.group_members.c.user_id == user_id))

    def is_member(self, group_id: str, user_id: str) -> bool:
        return self.conn.execute(select(t.group_members.c.user_id).where(
            t.group_members.c.group_id == group_id, t.group_members.c.user_id == user_id)).first() is not None

    def members(self, group_id: str, listing: Listing) -> Page[User]:
        q = select(t.users).join(t.group_members, t.group_members.c.user_id == t.users.c.user_id).where(
            t.group_members.c.group_id == group_id)
        return page_of(self.conn, q, t.users.c.name_key, listing.after, listing.limit, _user)

    def member_count(self, group_id: str) -> int:
        return self.conn.execute(select(func.count()).select_from(t.group_members).where(
            t.group_members.c.group_id == group_id)).scalar_one()

    def for_user(self, user_id: str, listing: Listing) -> Page[Group]:
        q = select(t.groups).join(t.group_members, t.group_members.c.group_id == t.groups.c.group_id).where(
            t.group_members.c.user_id == user_id)
        return page_of(self.conn, q, t.groups.c.name_key, listing.after, listing.limit, _group)

    def ids_for_user(self, user_id: str) -> list[str]:
        return list(self.conn.execute(select(t.group_members.c.group_id).where(
            t.group_members.c.user_id == user_id)).scalars())


class SqlRoles(_Repo):
    def get(self, name: str) -> Role | None:
        r = self.conn.execute(select(t.roles).where(t.roles.c.account_id == self.account_id,
                                                    t.roles.c.name_key == name.lower())).first()
        return _role(r) if r else None

    def by_id(self, role_id: str) -> Role | None:
        r = self.conn.execute(select(t.roles).where(t.roles.c.account_id == self.account_id,
                                                    t.roles.c.role_id == role_id)).first()
        return _role(r) if r else None

    def list(self, listing: Listing) -> Page[Role]:
        q = select(t.roles).where(t.roles.c.account_id == self.account_id,
                                  path_starts_with(t.roles.c.path, listing.path_prefix))
        return page_of(self.conn, q, t.roles.c.name_key, listing.after, listing.limit, _role)

    def all(self) -> Iterator[Role]:
        q = select(t.roles).where(t.roles.c.account_id == self.account_id).order_by(t.roles.c.name_key)
        return (_role(r) for r in self.conn.execute(q).all())

    def count(self) -> int:
        return self.conn.execute(select(func.count()).select_from(t.roles).where(
            t.roles.c.account_id == self.account_id)).scalar_one()

    def insert(self, role: Role) -> None:
        self.conn.execute(insert(t.roles).values(
            role_id=role.role_id, account_id=self.account_id, name=role.name, name_key=role.name.lower(),
            path=role.path, created=role.created, trust_policy=role.trust_policy, description=role.description,
            max_session_duration=role.max_session_duration, boundary=role.permissions_boundary))

    def update(self, role: Role) -> None:
        self.conn.execute(update(t.roles).where(t.roles.c.role_id == role.role_id).values(
            trust_policy=role.trust_policy, description=role.description,
            max_session_duration=role.max_session_duration, boundary=role.permissions_boundary,
            last_used=role.last_used, last_used_region=role.last_used_region))

    def delete(self, role_id: str) -> None:
        self.conn.execute(delete(t.roles).where(t.roles.c.role_id == role_id))
