"""Service-linked roles: created on behalf of an AWS service, trusted by it alone, changed only by it.

Each service names its role (`AWSServiceRoleForEC2Spot` for `spot.amazonaws.com`,
`AWSServiceRoleForApplicationAutoScaling_CustomResource` for `custom-resource.application-autoscaling...`); the
names come from a table with its sources (`linked_role_names`). A service principal without a linked role is
refused with InvalidInput, as AWS refuses it.

Deletion in AWS is asynchronous and reported through a task id; here the role is deleted at once and the task
is recorded as finished, so `GetServiceLinkedRoleDeletionStatus` answers as AWS does.
"""

from __future__ import annotations

import functools
import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from types import MappingProxyType
from typing import Any

from gatehouse.errors import InvalidInput, NoSuchEntity
from gatehouse.model import Caller, OwnerKind, Role
from gatehouse.services import ids
from gatehouse.services.clock import whole_seconds
from gatehouse.services.iam.common import IamBase
from gatehouse.services.iam.roles import delete_role_row, insert_role
from gatehouse.services.iam.views import role_view
from gatehouse.services.operation import operation
from gatehouse.services.request_context import RequestFacts, Target

_TABLE = "service_linked_roles.json"
_DELETION = "service-linked-role-deletion"


@dataclass(frozen=True, slots=True)
class LinkedRoleName:
    """What AWS names a service's linked role, whether it takes a custom suffix (None: not documented), and where
    the name was recorded."""

    name: str
    custom_suffix: bool | None
    source: str


@functools.cache
def linked_role_names() -> Mapping[str, LinkedRoleName]:
    """Service principal -> its linked role's name: `service_linked_roles.json`, made by
    scripts/update_service_linked_roles.py from LocalStack's maintained table and the AWS documentation pages
    that name the others (each entry records its source). Read once; immutable."""
    raw = json.loads(resources.files(__package__).joinpath(_TABLE).read_text(encoding="utf-8"))
    return MappingProxyType({principal: LinkedRoleName(e["name"], e["custom_suffix"], e["source"])
                             for principal, e in raw["roles"].items()})


def linked_role_name(service: str, suffix: str | None) -> str:
    """The role name AWS gives `service`'s linked role; InvalidInput for a service that has none, or that takes
    no custom suffix when one is given."""
    entry = linked_role_names().get(service)
    if entry is None:
        raise InvalidInput(f"Invalid service principal {service}.")
    if suffix and entry.custom_suffix is False:
        # LocalStack's wording for it (services/iam/provider.py); no recording of AWS's own message found.
        raise InvalidInput(f"Custom suffix is not allowed for {service}")
    return f"{entry.name}_{suffix}" if suffix else entry.name


def _trust(service: str) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"Service": service}, "Action": "sts:AssumeRole"}]})


class ServiceLinkedRoles(IamBase):
    @operation
    def create_service_linked_role(self, caller: Caller, aws_service_name: str, description: str | None = None,
                                   custom_suffix: str | None = None) -> dict[str, Any]:
        name = linked_role_name(aws_service_name, custom_suffix)
        path = f"/aws-service-role/{aws_service_name}/"
        with self.store.write(caller.account_id) as tx:
            self.require(tx, caller, "iam:CreateServiceLinkedRole", self.arn(caller, f"role{path}{name}"),
                         RequestFacts(service_name=aws_service_name))
            if tx.roles.get(name):
                raise InvalidInput(f"Service role name {name} has been taken in this account, please try a "
                                   "different suffix.")
            role = insert_role(tx, Role(
                account_id=caller.account_id, role_id=ids.unique_id(ids.Prefix.ROLE), name=name, path=path,
                created=whole_seconds(self.deps.clock), trust_policy=_trust(aws_service_name),
                description=description))
        view = role_view(role, caller.partition)
        return {"Role": view}

    @operation
    def delete_service_linked_role(self, caller: Caller, role_name: str) -> dict[str, Any]:
        with self.store.write(caller.account_id) as tx:
            role = self.role_for(tx, caller, "iam:DeleteServiceLinkedRole", role_name)
            if not role.service_linked:
                raise InvalidInput(f"Role {role_name} is not a service-linked role.")
            service = role.path.strip("/").split("/", 1)[1]
            task_id = f"task{role.path}{role.name}/{uuid.uuid4()}"
            # Policies the service attached go with its role; instance profiles still block, as in AWS.
            for p in tx.inline.all_for(OwnerKind.ROLE, role.role_id):
                tx.inline.delete(OwnerKind.ROLE, role.role_id, p.name)
            for policy_account, policy_id in tx.attachments.for_owner(OwnerKind.ROLE, role.role_id):
                tx.attachments.detach(OwnerKind.ROLE, role.role_id, policy_account, policy_id)
            delete_role_row(tx, role)
            tx.tasks.insert(task_id, _DELETION, f"{service}:{role.name}", "SUCCEEDED")
        return {"DeletionTaskId": task_id}

    @operation
    def get_service_linked_role_deletion_status(self, caller: Caller, deletion_task_id: str) -> dict[str, Any]:
        with self.store.read(caller.account_id) as tx:
            task = tx.tasks.get(deletion_task_id)
            if task is not None and task[0] != _DELETION:
                task = None
            self.require(tx, caller, "iam:GetServiceLinkedRoleDeletionStatus",
                         Target(self._deleted_role_arn(caller, deletion_task_id, task), OwnerKind.ROLE))
        if task is None:
            raise NoSuchEntity(f"Deletion task {deletion_task_id} cannot be found.")
        out: dict[str, Any] = {"Status": task[2]}
        if task[3]:
            out["Reason"] = {"Reason": task[3]}
        return out

    def _deleted_role_arn(self, caller: Caller, task_id: str, task: tuple[str, str, str, str | None] | None) -> str:
        """The reference's resource for the deletion status: the role the task deleted (or, for a task that does not
        exist, the role its id would name: `task/aws-service-role/<service>/<name>/<uuid>`, as issued here)."""
        if task is not None:
            service, name = task[1].split(":", 1)
            return self.arn(caller, f"role/aws-service-role/{service}/{name}")
        path = task_id.removeprefix("task").rpartition("/")[0]
        return self.arn(caller, f"role{path}") if path.startswith("/aws-service-role/") else "*"
