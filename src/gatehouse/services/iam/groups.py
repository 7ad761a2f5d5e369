"""IAM groups and their membership."""

from __future__ import annotations

import dataclasses
from typing import Any

from gatehouse.errors import DeleteConflict, EntityAlreadyExists, LimitExceeded, NoSuchEntity
from gatehouse.model import Caller, Group, OwnerKind
from gatehouse.services import ids
from gatehouse.services.clock import whole_seconds
from gatehouse.services.iam.common import IamBase, listing, page_result
from gatehouse.services.iam.views import group_view, user_view
from gatehouse.services.operation import operation
from gatehouse.storage.repository import Duplicate

MAX_GROUPS = 300
MAX_GROUPS_PER_USER = 10


class Groups(IamBase):
    @operation
    def create_group(self, caller: Caller, group_name: str, path: str | None = None) -> dict[str, Any]:
        path = path or "/"
        with self.store.write(caller.account_id) as tx:
            self.require(tx, caller, "iam:CreateGroup", self.arn(caller, f"group{path}{group_name}"))
            if tx.groups.get(group_name):
                raise EntityAlreadyExists(f"Group with name {group_name} already exists.")
            if tx.accounts.counts().groups >= MAX_GROUPS:
                raise LimitExceeded(f"Cannot exceed quota for GroupsPerAccount: {MAX_GROUPS}")
            group = Group(account_id=caller.account_id, group_id=ids.unique_id(ids.Prefix.GROUP), name=group_name,
                          path=path, created=whole_seconds(self.deps.clock))
            try:
                tx.groups.insert(group)
            except Duplicate:
                raise EntityAlreadyExists(f"Group with name {group_name} already exists.") from None
        return {"Group": group_view(group, caller.partition)}

    @operation
    def get_group(self, caller: Caller, group_name: str, marker: str | None = None, max_items: int | None = None
                  ) -> dict[str, Any]:
        with self.store.read(caller.account_id) as tx:
            group = self.group_for(tx, caller, "iam:GetGroup", group_name)
            page = tx.groups.members(group.group_id, listing(None, marker, max_items))
        out = page_result("Users", page, lambda u: user_view(u, caller.partition))
        out["Group"] = group_view(group, caller.partition)
        return out

    @operation
    def list_groups(self, caller: Caller, path_prefix: str | None = None, marker: str | None = None,
                    max_items: int | None = None) -> dict[str, Any]:
        with self.store.read(caller.account_id) as tx:
            self.require(tx, caller, "iam:ListGroups", self.arn(caller, f"group{path_prefix or '/'}"))
            page = tx.groups.page(listing(path_prefix, marker, max_items))
        return page_result("Groups", page, lambda g: group_view(g, caller.partition))

    @operation
    def update_group(self, caller: Caller, group_name: str, new_path: str | None = None,
                     new_group_name: str | None = None) -> dict[str, Any]:
        with self.store.write(caller.account_id) as tx:
            group = self.group_for(tx, caller, "iam:UpdateGroup", group_name)
            if new_group_name and new_group_name.lower() != group.name.lower() and tx.groups.get(new_group_name):
                raise EntityAlreadyExists(f"Group with name {new_group_name} already exists.")
            updated = dataclasses.replace(group, name=new_group_name or group.name, path=new_path or group.path)
            if new_group_name or new_path:
                self.require(tx, caller, "iam:UpdateGroup", updated.arn(caller.partition))
            tx.groups.update(updated)
        return {}

    @operation
    def delete_group(self, caller: Caller, group_name: str) -> dict[str, Any]:
        with self.store.write(caller.account_id) as tx:
            group = self.group_for(tx, caller, "iam:DeleteGroup", group_name)
            if tx.groups.member_count(group.group_id):
                raise DeleteConflict("Cannot delete entity, must remove users from group first.")
            if tx.inline.count_for(OwnerKind.GROUP, group.group_id):
                raise DeleteConflict("Cannot delete entity, must delete policies first.")
            if tx.attachments.for_owner(OwnerKind.GROUP, group.group_id):
                raise DeleteConflict("Cannot delete entity, must detach all policies first.")
            tx.groups.delete(group.group_id)
        return {}

    @operation
    def add_user_to_group(self, caller: Caller, group_name: str, user_name: str) -> dict[str, Any]:
        """A missing user is reported before a missing group, as RemoveUserFromGroup reports them (LocalStack's
        AWS-validated test_iam_groups.snapshot.json)."""
        with self.store.write(caller.account_id) as tx:
            group = tx.groups.get(group_name)
            resource = group.arn(caller.partition) if group else self.arn(caller, f"group/{group_name}")
            self.require(tx, caller, "iam:AddUserToGroup", resource)
            user = tx.users.get(user_name)
            if user is None:
                raise NoSuchEntity(f"The user with name {user_name} cannot be found.")
            if group is None:
                raise NoSuchEntity(f"The group with name {group_name} cannot be found.")
            if not tx.groups.is_member(group.group_id, user.user_id):
                if len(tx.groups.ids_for_user(user.user_id)) >= MAX_GROUPS_PER_USER:
                    raise LimitExceeded(f"Cannot exceed quota for GroupsPerUser: {MAX_GROUPS_PER_USER}")
                tx.groups.add_member(group.group_id, user.user_id)
        return {}

    @operation
    def remove_user_from_group(self, caller: Caller, group_name: str, user_name: str) -> dict[str, Any]:
        """Removing a user who is not a member succeeds. A missing user is reported before a missing group
        (LocalStack's AWS-validated test_iam_groups.snapshot.json: both missing -> "The user with name ...")."""
        with self.store.write(caller.account_id) as tx:
            group = tx.groups.get(group_name)
            resource = group.arn(caller.partition) if group else self.arn(caller, f"group/{group_name}")
            self.require(tx, caller, "iam:RemoveUserFromGroup", resource)
            user = tx.users.get(user_name)
            if user is None:
                raise NoSuchEntity(f"The user with name {user_name} cannot be found.")
            if group is None:
                raise NoSuchEntity(f"The group with name {group_name} cannot be found.")
            tx.groups.remove_member(group.group_id, user.user_id)
        return {}

    @operation
    def list_groups_for_user(self, caller: Caller, user_name: str, marker: str | None = None,
                             max_items: int | None = None) -> dict[str, Any]:
        with self.store.read(caller.account_id) as tx:
            user = self.user_for(tx, caller, "iam:ListGroupsForUser", user_name)
            page = tx.groups.for_user(user.user_id, listing(None, marker, max_items))
        return page_result("Groups", page, lambda g: group_view(g, caller.partition))
