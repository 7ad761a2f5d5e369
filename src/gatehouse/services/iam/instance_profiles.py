"""Instance profiles: containers that pass one role to EC2 instances."""

from __future__ import annotations

import dataclasses
from typing import Any

from gatehouse.errors import DeleteConflict, EntityAlreadyExists, LimitExceeded, NoSuchEntity
from gatehouse.model import Caller, InstanceProfile, OwnerKind
from gatehouse.services import ids
from gatehouse.services.clock import whole_seconds
from gatehouse.services.iam.common import (
    Finder,
    IamBase,
    checked_tags,
    listing,
    page_result,
)
from gatehouse.services.iam.trust import shown
from gatehouse.services.iam.views import profile_view, with_empty_tags
from gatehouse.services.operation import operation
from gatehouse.services.request_context import RequestFacts
from gatehouse.storage.repository import Duplicate, UnitOfWork

MAX_INSTANCE_PROFILES = 1000
EC2 = "ec2.amazonaws.com"


class InstanceProfiles(IamBase):
    def _view(self, tx: UnitOfWork, caller: Caller, profile: InstanceProfile, *, tags: bool = False
              ) -> dict[str, Any]:
        roles = shown(tx, [r for r in (tx.roles.by_id(rid) for rid in profile.role_ids) if r is not None])
        return profile_view(profile, caller.partition, roles, tags=tags)

    @operation
    def create_instance_profile(self, caller: Caller, instance_profile_name: str, path: str | None = None,
                                tags: list[dict[str, str]] | None = None) -> dict[str, Any]:
        path = path or "/"
        new_tags = checked_tags(tags, OwnerKind.INSTANCE_PROFILE)
        with self.store.write(caller.account_id) as tx:
            self.require(tx, caller, "iam:CreateInstanceProfile",
                         self.arn(caller, f"instance-profile{path}{instance_profile_name}"),
                         RequestFacts(tags=new_tags))
            if tx.profiles.get(instance_profile_name):
                raise EntityAlreadyExists(f"Instance Profile {instance_profile_name} already exists.")
            if tx.accounts.counts().instance_profiles >= MAX_INSTANCE_PROFILES:
                raise LimitExceeded(f"Cannot exceed quota for InstanceProfilesPerAccount: {MAX_INSTANCE_PROFILES}")
            profile = InstanceProfile(
                account_id=caller.account_id, profile_id=ids.unique_id(ids.Prefix.INSTANCE_PROFILE),
                name=instance_profile_name, path=path, created=whole_seconds(self.deps.clock), tags=tuple(new_tags))
            try:
                tx.profiles.insert(profile)
            except Duplicate:
                raise EntityAlreadyExists(f"Instance Profile {instance_profile_name} already exists.") from None
            tx.tags.replace(OwnerKind.INSTANCE_PROFILE, profile.profile_id, new_tags)
            return {"InstanceProfile": self._view(tx, caller, profile, tags=True)}

    @operation
    def get_instance_profile(self, caller: Caller, instance_profile_name: str) -> dict[str, Any]:
        with self.store.read(caller.account_id) as tx:
            profile = self.profile_for(tx, caller, "iam:GetInstanceProfile", instance_profile_name)
            profile = dataclasses.replace(profile, tags=tx.tags.get(OwnerKind.INSTANCE_PROFILE, profile.profile_id))
            return {"InstanceProfile": with_empty_tags(self._view(tx, caller, profile, tags=True))}

    @operation
    def delete_instance_profile(self, caller: Caller, instance_profile_name: str) -> dict[str, Any]:
        with self.store.write(caller.account_id) as tx:
            profile = self.profile_for(tx, caller, "iam:DeleteInstanceProfile", instance_profile_name)
            if profile.role_ids:
                raise DeleteConflict("Cannot delete entity, must remove roles from instance profile first.")
            tx.tags.replace(OwnerKind.INSTANCE_PROFILE, profile.profile_id, [])
            tx.profiles.delete(profile.profile_id)
        return {}

    @operation
    def list_instance_profiles(self, caller: Caller, path_prefix: str | None = None, marker: str | None = None,
                               max_items: int | None = None) -> dict[str, Any]:
        with self.store.read(caller.account_id) as tx:
            self.require(tx, caller, "iam:ListInstanceProfiles",
                         self.arn(caller, f"instance-profile{path_prefix or '/'}"))
            page = tx.profiles.page(listing(path_prefix, marker, max_items))
            return page_result("InstanceProfiles", page, lambda p: self._view(tx, caller, p))

    @operation
    def list_instance_profiles_for_role(self, caller: Caller, role_name: str, marker: str | None = None,
                                        max_items: int | None = None) -> dict[str, Any]:
        with self.store.read(caller.account_id) as tx:
            role = self.role_for(tx, caller, "iam:ListInstanceProfilesForRole", role_name)
            page = tx.profiles.for_role(role.role_id, listing(None, marker, max_items))
            return page_result("InstanceProfiles", page, lambda p: self._view(tx, caller, p))

    @operation
    def add_role_to_instance_profile(self, caller: Caller, instance_profile_name: str, role_name: str
                                     ) -> dict[str, Any]:
        with self.store.write(caller.account_id) as tx:
            profile = self.profile_for(tx, caller, "iam:AddRoleToInstanceProfile", instance_profile_name)
            # Putting a role in a profile passes it to EC2: AWS asks for iam:PassRole on the role.
            role = self.role_for(tx, caller, "iam:PassRole", role_name, RequestFacts(passed_to_service=EC2))
            if profile.role_ids:
                raise LimitExceeded("Cannot exceed quota for InstanceSessionsPerInstanceProfile: 1")
            tx.profiles.add_role(profile.profile_id, role.role_id)
        return {}

    @operation
    def remove_role_from_instance_profile(self, caller: Caller, instance_profile_name: str, role_name: str
                                          ) -> dict[str, Any]:
        with self.store.write(caller.account_id) as tx:
            profile = self.profile_for(tx, caller, "iam:RemoveRoleFromInstanceProfile", instance_profile_name)
            role = tx.roles.get(role_name)
            if role is None:
                raise NoSuchEntity(f"The role with name {role_name} cannot be found.")
            if role.role_id not in profile.role_ids:
                # AWS's wording (LocalStack's AWS-validated test_iam_instance_profiles.snapshot.json).
                raise NoSuchEntity(f"Role {role.name} in Instance Profile {profile.name} cannot be found.")
            tx.profiles.remove_role(profile.profile_id, role.role_id)
        return {}

    # --- tags ------------------------------------------------------------------------------------------------

    def _tagged_profile(self, caller: Caller, name: str) -> Finder:
        return lambda tx, action, facts: self.profile_for(tx, caller, action, name, facts).profile_id

    @operation
    def tag_instance_profile(self, caller: Caller, instance_profile_name: str, tags: list[dict[str, str]]
                             ) -> dict[str, Any]:
        return self.tag_entity(caller, OwnerKind.INSTANCE_PROFILE, "iam:TagInstanceProfile",
                               self._tagged_profile(caller, instance_profile_name), tags)

    @operation
    def untag_instance_profile(self, caller: Caller, instance_profile_name: str, tag_keys: list[str]) -> dict[str, Any]:
        return self.untag_entity(caller, OwnerKind.INSTANCE_PROFILE, "iam:UntagInstanceProfile",
                                 self._tagged_profile(caller, instance_profile_name), tag_keys)

    @operation
    def list_instance_profile_tags(self, caller: Caller, instance_profile_name: str, marker: str | None = None,
                                   max_items: int | None = None) -> dict[str, Any]:
        return self.list_entity_tags(caller, OwnerKind.INSTANCE_PROFILE, "iam:ListInstanceProfileTags",
                                     self._tagged_profile(caller, instance_profile_name),
                                     marker, max_items)
