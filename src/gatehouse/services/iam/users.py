"""IAM users: create, read, rename, delete, list, tag, permissions boundary."""

from __future__ import annotations

import dataclasses
from typing import Any

from gatehouse.errors import DeleteConflict, EntityAlreadyExists, LimitExceeded
from gatehouse.model import Caller, OwnerKind, User
from gatehouse.services import ids
from gatehouse.services.clock import whole_seconds
from gatehouse.services.iam.common import (
    Finder,
    IamBase,
    checked_tags,
    listing,
    page_result,
)
from gatehouse.services.iam.views import user_view
from gatehouse.services.operation import operation
from gatehouse.services.request_context import RequestFacts
from gatehouse.storage.repository import Duplicate, UnitOfWork

MAX_USERS = 5000
_DEPENDENTS = (
    ("login_profile", "Cannot delete entity, must delete login profile first."),
    ("access_keys", "Cannot delete entity, must delete access keys first."),
    ("signing_certificates", "Cannot delete entity, must delete signing certificates first."),
    ("ssh_keys", "Cannot delete entity, must delete SSH public keys first."),
    ("service_credentials", "Cannot delete entity, must delete service specific credentials first."),
    ("mfa", "Cannot delete entity, must delete MFA device first."),
    ("inline", "Cannot delete entity, must delete policies first."),
    ("attached", "Cannot delete entity, must detach all policies first."),
    ("groups", "Cannot delete entity, must remove users from group first."),
)


class Users(IamBase):
    @operation
    def create_user(self, caller: Caller, user_name: str, path: str | None = None,
                    permissions_boundary: str | None = None, tags: list[dict[str, str]] | None = None
                    ) -> dict[str, Any]:
        path = path or "/"
        new_tags = checked_tags(tags, OwnerKind.USER)
        with self.store.write(caller.account_id) as tx:
            boundary = self.boundary_for(tx, caller, permissions_boundary)
            self.require(tx, caller, "iam:CreateUser", self.arn(caller, f"user{path}{user_name}"),
                         RequestFacts(tags=new_tags, permissions_boundary=boundary or permissions_boundary))
            if tx.users.get(user_name):
                raise EntityAlreadyExists(f"User with name {user_name} already exists.")
            if permissions_boundary:
                permissions_boundary = self.check_boundary(permissions_boundary, boundary)
            if tx.users.count() >= MAX_USERS:
                raise LimitExceeded(f"Cannot exceed quota for UsersPerAccount: {MAX_USERS}")
            user = User(account_id=caller.account_id, user_id=ids.unique_id(ids.Prefix.USER), name=user_name,
                        path=path, created=whole_seconds(self.deps.clock), permissions_boundary=permissions_boundary,
                        tags=tuple(new_tags))
            try:
                tx.users.insert(user)
            except Duplicate:
                raise EntityAlreadyExists(f"User with name {user_name} already exists.") from None
            if new_tags:
                tx.tags.replace(OwnerKind.USER, user.user_id, new_tags)
        return {"User": user_view(user, caller.partition, full=True)}

    @operation
    def get_user(self, caller: Caller, user_name: str | None = None) -> dict[str, Any]:
        name = self.own_user_name(caller, user_name)
        with self.store.read(caller.account_id) as tx:
            if name is None:  # the root user asking about itself
                self.require(tx, caller, "iam:GetUser", caller.arn)
                account = tx.accounts.get(caller.account_id)
                return {"User": {"UserId": caller.account_id, "Arn": caller.arn, "Path": "/",
                                 "CreateDate": account.created if account else None}}
            user = self.user_for(tx, caller, "iam:GetUser", name)
            user = dataclasses.replace(user, tags=tx.tags.get(OwnerKind.USER, user.user_id))
        return {"User": user_view(user, caller.partition, full=True)}

    @operation
    def list_users(self, caller: Caller, path_prefix: str | None = None, marker: str | None = None,
                   max_items: int | None = None) -> dict[str, Any]:
        with self.store.read(caller.account_id) as tx:
            self.require(tx, caller, "iam:ListUsers", self.arn(caller, f"user{path_prefix or '/'}"))
            page = tx.users.page(listing(path_prefix, marker, max_items))
        return page_result("Users", page, lambda u: user_view(u, caller.partition))

    @operation
    def update_user(self, caller: Caller, user_name: str, new_path: str | None = None,
                    new_user_name: str | None = None) -> dict[str, Any]:
        with self.store.write(caller.account_id) as tx:
            user = self.user_for(tx, caller, "iam:UpdateUser", user_name)
            if new_user_name and new_user_name.lower() != user.name.lower() and tx.users.get(new_user_name):
                raise EntityAlreadyExists(f"User with name {new_user_name} already exists.")
            updated = dataclasses.replace(user, name=new_user_name or user.name, path=new_path or user.path)
            if new_user_name or new_path:
                # AWS authorizes a rename against the new name too.
                self.require(tx, caller, "iam:UpdateUser", updated.arn(caller.partition))
            try:
                tx.users.update(updated)
            except Duplicate:
                raise EntityAlreadyExists(f"User with name {new_user_name} already exists.") from None
        return {}

    @operation
    def delete_user(self, caller: Caller, user_name: str) -> dict[str, Any]:
        with self.store.write(caller.account_id) as tx:
            user = self.user_for(tx, caller, "iam:DeleteUser", user_name)
            self.check_user_deletable(tx, user)
            tx.tags.replace(OwnerKind.USER, user.user_id, [])
            tx.users.delete(user.user_id)
        return {}

    def check_user_deletable(self, tx: UnitOfWork, user: User) -> None:
        """AWS refuses to delete a user that still has anything attached to it (reported in the order AWS's
        DeleteUser documentation lists the things to remove first)."""
        found = tx.users.dependents(user.user_id)
        for kind, message in _DEPENDENTS:
            if kind in found:
                raise DeleteConflict(message)

    # --- tags ------------------------------------------------------------------------------------------------

    def _tagged_user(self, caller: Caller, name: str) -> Finder:
        return lambda tx, action, facts: self.user_for(tx, caller, action, name, facts).user_id

    @operation
    def tag_user(self, caller: Caller, user_name: str, tags: list[dict[str, str]]) -> dict[str, Any]:
        return self.tag_entity(caller, OwnerKind.USER, "iam:TagUser",
                               self._tagged_user(caller, user_name), tags)

    @operation
    def untag_user(self, caller: Caller, user_name: str, tag_keys: list[str]) -> dict[str, Any]:
        return self.untag_entity(caller, OwnerKind.USER, "iam:UntagUser",
                                 self._tagged_user(caller, user_name), tag_keys)

    @operation
    def list_user_tags(self, caller: Caller, user_name: str, marker: str | None = None, max_items: int | None = None
                       ) -> dict[str, Any]:
        return self.list_entity_tags(caller, OwnerKind.USER, "iam:ListUserTags", self._tagged_user(caller, user_name),
                                     marker, max_items)

    # --- permissions boundary ----------------------------------------------------------------------------

    @operation
    def put_user_permissions_boundary(self, caller: Caller, user_name: str, permissions_boundary: str
                                      ) -> dict[str, Any]:
        with self.store.write(caller.account_id) as tx:
            boundary = self.boundary_for(tx, caller, permissions_boundary)
            user = self.user_for(tx, caller, "iam:PutUserPermissionsBoundary", user_name,
                                 RequestFacts(permissions_boundary=boundary or permissions_boundary))
            tx.users.set_boundary(user.user_id, self.check_boundary(permissions_boundary, boundary))
        return {}

    @operation
    def delete_user_permissions_boundary(self, caller: Caller, user_name: str) -> dict[str, Any]:
        with self.store.write(caller.account_id) as tx:
            user = self.user_for(tx, caller, "iam:DeleteUserPermissionsBoundary", user_name)
            tx.users.set_boundary(user.user_id, None)
        return {}

