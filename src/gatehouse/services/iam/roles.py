"""IAM roles: trust policies, descriptions, session duration, tags, permissions boundaries."""

from __future__ import annotations

import dataclasses
from typing import Any

from gatehouse.errors import (
    DeleteConflict,
    EntityAlreadyExists,
    LimitExceeded,
    UnmodifiableEntity,
)
from gatehouse.model import Caller, OwnerKind, Role
from gatehouse.services import ids
from gatehouse.services.clock import whole_seconds
from gatehouse.services.iam.common import (
    Finder,
    IamBase,
    checked_tags,
    listing,
    page_result,
)
from gatehouse.services.iam.trust import bind_trust, shown
from gatehouse.services.iam.views import role_view
from gatehouse.services.operation import operation
from gatehouse.services.request_context import RequestFacts
from gatehouse.storage.repository import Duplicate, UnitOfWork

MAX_ROLES = 1000


def protect(role: Role) -> None:
    """Service-linked roles belong to their service: only it may change them."""
    if role.service_linked:
        raise UnmodifiableEntity(
            f"Cannot perform the operation on the protected role '{role.name}' - this role is only modifiable by AWS"
        )


def insert_role(tx: UnitOfWork, role: Role) -> Role:
    if tx.roles.count() >= MAX_ROLES:
        raise LimitExceeded(f"Cannot exceed quota for RolesPerAccount: {MAX_ROLES}")
    try:
        tx.roles.insert(role)
    except Duplicate:
        raise EntityAlreadyExists(f"Role with name {role.name} already exists.") from None
    tx.tags.replace(OwnerKind.ROLE, role.role_id, role.tags)
    return role


def delete_role_row(tx: UnitOfWork, role: Role) -> None:
    if tx.profiles.for_role(role.role_id, listing(max_items=1)).items:
        raise DeleteConflict("Cannot delete entity, must remove roles from instance profile first.")
    if tx.inline.count_for(OwnerKind.ROLE, role.role_id):
        raise DeleteConflict("Cannot delete entity, must delete policies first.")
    if tx.attachments.for_owner(OwnerKind.ROLE, role.role_id):
        raise DeleteConflict("Cannot delete entity, must detach all policies first.")
    tx.tags.replace(OwnerKind.ROLE, role.role_id, [])
    tx.roles.delete(role.role_id)


class Roles(IamBase):
    @operation
    def create_role(self, caller: Caller, role_name: str, assume_role_policy_document: str,
                    path: str | None = None, description: str | None = None, max_session_duration: int | None = None,
                    permissions_boundary: str | None = None, tags: list[dict[str, str]] | None = None,
                    **_: Any) -> dict[str, Any]:
        path = path or "/"
        new_tags = checked_tags(tags, OwnerKind.ROLE)
        with self.store.write(caller.account_id) as tx:
            boundary = self.boundary_for(tx, caller, permissions_boundary)
            self.require(tx, caller, "iam:CreateRole", self.arn(caller, f"role{path}{role_name}"),
                         RequestFacts(tags=new_tags, permissions_boundary=boundary or permissions_boundary))
            if tx.roles.get(role_name):
                raise EntityAlreadyExists(f"Role with name {role_name} already exists.")
            self.deps.documents.check_trust(assume_role_policy_document)
            bindings = bind_trust(tx, assume_role_policy_document)
            if permissions_boundary:
                permissions_boundary = self.check_boundary(permissions_boundary, boundary)
            role = insert_role(tx, Role(
                account_id=caller.account_id, role_id=ids.unique_id(ids.Prefix.ROLE), name=role_name, path=path,
                created=whole_seconds(self.deps.clock), trust_policy=assume_role_policy_document,
                description=description, max_session_duration=max_session_duration or 3600,
                permissions_boundary=permissions_boundary, tags=tuple(new_tags), trust_principals=bindings))
            self.deps.documents.check_stored(tx)
        # AWS's CreateRole answer has no Description (even when one was given), no RoleLastUsed, and no
        # MaxSessionDuration when none was given (GetRole has them all). Whether it echoes a MaxSessionDuration
        # that was given is unconfirmed; we do.
        view = role_view(role, caller.partition, full=True, basic=max_session_duration is None)
        view.pop("RoleLastUsed")
        view.pop("Description")
        return {"Role": view}

    @operation
    def get_role(self, caller: Caller, role_name: str) -> dict[str, Any]:
        with self.store.read(caller.account_id) as tx:
            role = self.role_for(tx, caller, "iam:GetRole", role_name)
            role = dataclasses.replace(shown(tx, [role])[0], tags=tx.tags.get(OwnerKind.ROLE, role.role_id))
        return {"Role": role_view(role, caller.partition, full=True)}

    @operation
    def list_roles(self, caller: Caller, path_prefix: str | None = None, marker: str | None = None,
                   max_items: int | None = None) -> dict[str, Any]:
        with self.store.read(caller.account_id) as tx:
            self.require(tx, caller, "iam:ListRoles", self.arn(caller, f"role{path_prefix or '/'}"))
            page = tx.roles.page(listing(path_prefix, marker, max_items))
            page = dataclasses.replace(page, items=shown(tx, page.items))
        return page_result("Roles", page, lambda r: role_view(r, caller.partition))

    @operation
    def update_role(self, caller: Caller, role_name: str, description: str | None = None,
                    max_session_duration: int | None = None, **_: Any) -> dict[str, Any]:
        with self.store.write(caller.account_id) as tx:
            role = self.role_for(tx, caller, "iam:UpdateRole", role_name)
            if max_session_duration is not None:
                protect(role)  # the description of any role may be edited, service-linked ones included
            tx.roles.update(dataclasses.replace(
                role, description=role.description if description is None else description,
                max_session_duration=max_session_duration or role.max_session_duration))
        return {}

    @operation
    def update_role_description(self, caller: Caller, role_name: str, description: str) -> dict[str, Any]:
        with self.store.write(caller.account_id) as tx:
            role = self.role_for(tx, caller, "iam:UpdateRoleDescription", role_name)
            role = dataclasses.replace(role, description=description)
            tx.roles.update(role)
            role = dataclasses.replace(shown(tx, [role])[0], tags=tx.tags.get(OwnerKind.ROLE, role.role_id))
        view = role_view(role, caller.partition, full=True, basic=True)
        view.pop("RoleLastUsed")  # as CreateRole's: no MaxSessionDuration, no RoleLastUsed
        return {"Role": view}

    @operation
    def update_assume_role_policy(self, caller: Caller, role_name: str, policy_document: str) -> dict[str, Any]:
        with self.store.write(caller.account_id) as tx:
            role = self.role_for(tx, caller, "iam:UpdateAssumeRolePolicy", role_name)
            protect(role)
            self.deps.documents.check_trust(policy_document)
            tx.roles.update(dataclasses.replace(role, trust_policy=policy_document,
                                                trust_principals=bind_trust(tx, policy_document)))
            self.deps.documents.check_stored(tx)
        return {}

    @operation
    def delete_role(self, caller: Caller, role_name: str) -> dict[str, Any]:
        with self.store.write(caller.account_id) as tx:
            role = self.role_for(tx, caller, "iam:DeleteRole", role_name)
            protect(role)
            delete_role_row(tx, role)
        return {}

    # --- tags ------------------------------------------------------------------------------------------------

    def _tagged_role(self, caller: Caller, name: str) -> Finder:
        return lambda tx, action, facts: self.role_for(tx, caller, action, name, facts).role_id

    @operation
    def tag_role(self, caller: Caller, role_name: str, tags: list[dict[str, str]]) -> dict[str, Any]:
        return self.tag_entity(caller, OwnerKind.ROLE, "iam:TagRole",
                               self._tagged_role(caller, role_name), tags)

    @operation
    def untag_role(self, caller: Caller, role_name: str, tag_keys: list[str]) -> dict[str, Any]:
        return self.untag_entity(caller, OwnerKind.ROLE, "iam:UntagRole",
                                 self._tagged_role(caller, role_name), tag_keys)

    @operation
    def list_role_tags(self, caller: Caller, role_name: str, marker: str | None = None, max_items: int | None = None
                       ) -> dict[str, Any]:
        return self.list_entity_tags(caller, OwnerKind.ROLE, "iam:ListRoleTags", self._tagged_role(caller, role_name),
                                     marker, max_items)

    # --- permissions boundary ----------------------------------------------------------------------------

    @operation
    def put_role_permissions_boundary(self, caller: Caller, role_name: str, permissions_boundary: str
                                      ) -> dict[str, Any]:
        with self.store.write(caller.account_id) as tx:
            boundary = self.boundary_for(tx, caller, permissions_boundary)
            role = self.role_for(tx, caller, "iam:PutRolePermissionsBoundary", role_name,
                                 RequestFacts(permissions_boundary=boundary or permissions_boundary))
            protect(role)
            permissions_boundary = self.check_boundary(permissions_boundary, boundary)
            tx.roles.update(dataclasses.replace(role, permissions_boundary=permissions_boundary))
        return {}

    @operation
    def delete_role_permissions_boundary(self, caller: Caller, role_name: str) -> dict[str, Any]:
        with self.store.write(caller.account_id) as tx:
            role = self.role_for(tx, caller, "iam:DeleteRolePermissionsBoundary", role_name)
            protect(role)
            tx.roles.update(dataclasses.replace(role, permissions_boundary=None))
        return {}
