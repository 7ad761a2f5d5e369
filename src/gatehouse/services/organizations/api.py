"""The AWS Organizations API (JSON 1.1, `AWSOrganizationsV20161128`): an organization per management account,
its root, organizational units, member accounts (CreateAccount), and service and resource control policies.

Every operation is authorized as `organizations:<Action>` on the entity it names (the ARN the request would name
when nothing is found), then answered only for the organization's management account (DescribeOrganization for
any of its accounts), as AWS answers: AWSOrganizationsNotInUseException outside an organization,
AccessDeniedException in a member account. Every change bumps the organization's revision in its own transaction,
which is what keys the SCP and RCP caches of every account under it (`enforcement.py`).
"""

from __future__ import annotations

import secrets
import string
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from typing import Any

from gatehouse.model import Caller
from gatehouse.organization import (
    DEFAULT_POLICY,
    POLICY_TYPES,
    RCP,
    RCP_FULL_AWS_ACCESS,
    SCP,
    AccountRequest,
    OrgAccount,
    Organization,
    OrgPolicy,
    OrgShape,
    OrgUnit,
)
from gatehouse.policy import PolicyError, PolicyKind, parse
from gatehouse.services.authorization import Authorizer
from gatehouse.services.clock import Clock, whole_seconds
from gatehouse.services.iam.aws_managed import AwsManagedPolicies
from gatehouse.services.operation import operation
from gatehouse.services.organizations import errors as e
from gatehouse.services.organizations import views as v
from gatehouse.services.organizations.members import ACCESS_ROLE, make_member_account
from gatehouse.services.request_context import RequestFacts
from gatehouse.storage.repository import Store, UnitOfWork

_LOWER = string.ascii_lowercase + string.digits
MAX_POLICY_CHARACTERS = 5120  # SCPs and RCPs: every character counts, white space included
MAX_ATTACHED = 5  # policies of one type per root, OU or account
MAX_OU_DEPTH = 5
# What one organization may hold (AWS's quotas are 10 accounts by default, raised on request, 1,000 OUs and 1,000
# policies of a type): bounded, so a management account cannot make the server hold without limit.
MAX_ACCOUNTS = 1000
MAX_UNITS = 1000
MAX_POLICIES = 1000
_KINDS = {SCP: PolicyKind.SCP, RCP: PolicyKind.RCP}


def _random(n: int) -> str:
    return "".join(secrets.choice(_LOWER) for _ in range(n))


@dataclass(frozen=True)
class _Found:
    """The caller's organization (None outside one) and whether the caller is its management account."""

    shape: OrgShape | None
    management: bool


class OrganizationsApi:
    def __init__(self, store: Store, authz: Authorizer, managed: AwsManagedPolicies, clock: Clock) -> None:
        self.store = store
        self.authz = authz
        self.managed = managed
        self.clock = clock

    # --- the organization ------------------------------------------------------------------------------------

    @operation
    def create_organization(self, caller: Caller, feature_set: str | None = None) -> dict[str, Any]:
        with self.store.write(caller.account_id) as tx:
            self.authz.require(tx, caller, "organizations:CreateOrganization", "*")
            if tx.organizations.membership(caller.account_id) is not None:
                raise e.AlreadyInOrganizationException()
            account = tx.accounts.get(caller.account_id)
            assert account is not None
            now = whole_seconds(self.clock)
            org = Organization(org_id="o-" + _random(10), management_account_id=caller.account_id,
                               root_id="r-" + _random(4), feature_set=feature_set or "ALL", created=now)
            tx.organizations.insert(org)
            tx.organizations.add_account(OrgAccount(
                account_id=caller.account_id, org_id=org.org_id, parent_id=org.root_id, name=v.account_name(account),
                email=account.root_email or "", joined_method="CREATED", joined=now))
            shape = tx.organizations.shape(org.org_id)
        assert shape is not None
        return {"Organization": v.organization_view(shape, caller.partition)}

    @operation
    def describe_organization(self, caller: Caller) -> dict[str, Any]:
        with self.store.read(caller.account_id) as tx:
            found = self._find(tx, caller)
            self.authz.require(tx, caller, "organizations:DescribeOrganization", "*")  # no resource type
        if found.shape is None:
            raise e.AWSOrganizationsNotInUseException()
        return {"Organization": v.organization_view(found.shape, caller.partition)}

    @operation
    def delete_organization(self, caller: Caller) -> dict[str, Any]:
        with self._changing(caller, "organizations:DeleteOrganization", lambda s: "*") as (tx, shape):
            if any(a != shape.org.management_account_id for a in shape.accounts):
                raise e.OrganizationNotEmptyException()
            tx.organizations.delete(shape.org.org_id)
        return {}

    @operation
    def list_roots(self, caller: Caller, next_token: str | None = None,
                   max_results: int | None = None) -> dict[str, Any]:
        shape = self._reading(caller, "organizations:ListRoots")
        return v.page("Roots", [v.root_view(shape, caller.partition)], next_token, max_results, "roots")

    # --- accounts --------------------------------------------------------------------------------------------

    @operation
    def create_account(self, caller: Caller, email: str, account_name: str, role_name: str | None = None,
                       iam_user_access_to_billing: str | None = None,
                       tags: Sequence[dict[str, str]] | None = None) -> dict[str, Any]:
        _no_tags(tags)
        with self._changing(caller, "organizations:CreateAccount", lambda s: "*") as (tx, shape):
            now = whole_seconds(self.clock)
            request = AccountRequest(request_id="car-" + secrets.token_hex(16), org_id=shape.org.org_id,
                                     account_name=account_name, state="SUCCEEDED", requested=now, completed=now)
            if any(a.email.lower() == email.lower() for a in shape.accounts.values()):
                request = replace(request, state="FAILED", failure_reason="EMAIL_ALREADY_EXISTS")
            elif len(shape.accounts) >= MAX_ACCOUNTS:
                request = replace(request, state="FAILED", failure_reason="ACCOUNT_LIMIT_EXCEEDED")
            else:
                management = tx.accounts.get(shape.org.management_account_id)
                assert management is not None
                account = make_member_account(tx, self.managed, management=management,
                                              role_name=role_name or ACCESS_ROLE, created=now)
                tx.organizations.add_account(OrgAccount(
                    account_id=account.account_id, org_id=shape.org.org_id, parent_id=shape.org.root_id,
                    name=account_name, email=email, joined_method="CREATED", joined=now))
                self._attach_defaults(tx, shape, account.account_id)
                request = replace(request, account_id=account.account_id)
            tx.organizations.add_request(request)
        return {"CreateAccountStatus": v.status_view(request)}

    @operation
    def describe_create_account_status(self, caller: Caller, create_account_request_id: str) -> dict[str, Any]:
        with self.store.read(caller.account_id) as tx:
            shape = self._managed(tx, caller, "organizations:DescribeCreateAccountStatus", lambda s: "*")
            request = tx.organizations.request(shape.org.org_id, create_account_request_id)
        if request is None:
            raise e.CreateAccountStatusNotFoundException()
        return {"CreateAccountStatus": v.status_view(request)}

    @operation
    def list_create_account_status(self, caller: Caller, states: Sequence[str] | None = None,
                                   next_token: str | None = None, max_results: int | None = None) -> dict[str, Any]:
        with self.store.read(caller.account_id) as tx:
            shape = self._managed(tx, caller, "organizations:ListCreateAccountStatus", lambda s: "*")
            requests = tx.organizations.requests(shape.org.org_id)
        chosen = [v.status_view(r) for r in requests if not states or r.state in states]
        return v.page("CreateAccountStatuses", chosen, next_token, max_results, f"statuses:{sorted(states or [])}")

    @operation
    def describe_account(self, caller: Caller, account_id: str) -> dict[str, Any]:
        shape = self._reading(caller, "organizations:DescribeAccount",
                              lambda s: v.account_arn(s, account_id, caller.partition))
        if account_id not in shape.accounts:
            raise e.AccountNotFoundException()
        return {"Account": v.account_view(shape, shape.accounts[account_id], caller.partition)}

    @operation
    def list_accounts(self, caller: Caller, next_token: str | None = None,
                      max_results: int | None = None) -> dict[str, Any]:
        shape = self._reading(caller, "organizations:ListAccounts")
        views = [v.account_view(shape, a, caller.partition) for a in shape.accounts.values()]
        return v.page("Accounts", views, next_token, max_results, "accounts")

    @operation
    def list_accounts_for_parent(self, caller: Caller, parent_id: str, next_token: str | None = None,
                                 max_results: int | None = None) -> dict[str, Any]:
        shape = self._reading(caller, "organizations:ListAccountsForParent",
                              lambda s: v.parent_arn(s, parent_id, caller.partition))
        _parent(shape, parent_id, e.ParentNotFoundException)
        views = [v.account_view(shape, a, caller.partition) for a in shape.accounts.values()
                 if a.parent_id == parent_id]
        return v.page("Accounts", views, next_token, max_results, f"accounts:{parent_id}")

    @operation
    def move_account(self, caller: Caller, account_id: str, source_parent_id: str,
                     destination_parent_id: str) -> dict[str, Any]:
        with self._changing(caller, "organizations:MoveAccount",
                            lambda s: v.account_arn(s, account_id, caller.partition)) as (tx, shape):
            for parent in (source_parent_id, destination_parent_id):
                self.authz.require(tx, caller, "organizations:MoveAccount",
                                   v.parent_arn(shape, parent, caller.partition))
            _parent(shape, source_parent_id, e.SourceParentNotFoundException)
            _parent(shape, destination_parent_id, e.DestinationParentNotFoundException)
            account = shape.accounts.get(account_id)
            if account is None or account.parent_id != source_parent_id:
                raise e.AccountNotFoundException()
            if source_parent_id == destination_parent_id:
                raise e.DuplicateAccountException()
            tx.organizations.move_account(account_id, destination_parent_id)
        return {}

    # --- organizational units --------------------------------------------------------------------------------

    @operation
    def create_organizational_unit(self, caller: Caller, parent_id: str, name: str,
                                   tags: Sequence[dict[str, str]] | None = None) -> dict[str, Any]:
        _no_tags(tags)
        with self._changing(caller, "organizations:CreateOrganizationalUnit",
                            lambda s: v.parent_arn(s, parent_id, caller.partition)) as (tx, shape):
            _parent(shape, parent_id, e.ParentNotFoundException)
            if len(shape.path(parent_id)) >= MAX_OU_DEPTH + 1:
                raise e.ConstraintViolationException(
                    "OU_DEPTH_LIMIT_EXCEEDED", "You attempted to create an OU tree that is too many levels deep.")
            if any(u.parent_id == parent_id and u.name == name for u in shape.units.values()):
                raise e.DuplicateOrganizationalUnitException()
            if len(shape.units) >= MAX_UNITS:
                raise e.ConstraintViolationException(
                    "OU_NUMBER_LIMIT_EXCEEDED", "You attempted to exceed the number of OUs that you can have in an "
                                                "organization.")
            unit = OrgUnit(ou_id=f"ou-{shape.org.root_id[2:]}-{_random(8)}", org_id=shape.org.org_id,
                           parent_id=parent_id, name=name, created=whole_seconds(self.clock))
            tx.organizations.add_unit(unit)  # the checks above saw every commit: writers of the organization queue
            self._attach_defaults(tx, shape, unit.ou_id)
        return {"OrganizationalUnit": v.unit_view(shape, unit, caller.partition)}

    @operation
    def describe_organizational_unit(self, caller: Caller, organizational_unit_id: str) -> dict[str, Any]:
        shape = self._reading(caller, "organizations:DescribeOrganizationalUnit",
                              lambda s: v.unit_arn(s, organizational_unit_id, caller.partition))
        unit = shape.units.get(organizational_unit_id)
        if unit is None:
            raise e.OrganizationalUnitNotFoundException()
        return {"OrganizationalUnit": v.unit_view(shape, unit, caller.partition)}

    @operation
    def update_organizational_unit(self, caller: Caller, organizational_unit_id: str,
                                   name: str | None = None) -> dict[str, Any]:
        with self._changing(caller, "organizations:UpdateOrganizationalUnit",
                            lambda s: v.unit_arn(s, organizational_unit_id, caller.partition)) as (tx, shape):
            unit = shape.units.get(organizational_unit_id)
            if unit is None:
                raise e.OrganizationalUnitNotFoundException()
            if name is not None and name != unit.name:
                if any(u.parent_id == unit.parent_id and u.name == name for u in shape.units.values()):
                    raise e.DuplicateOrganizationalUnitException()
                tx.organizations.rename_unit(unit.ou_id, name)
                unit = replace(unit, name=name)
        return {"OrganizationalUnit": v.unit_view(shape, unit, caller.partition)}

    @operation
    def delete_organizational_unit(self, caller: Caller, organizational_unit_id: str) -> dict[str, Any]:
        with self._changing(caller, "organizations:DeleteOrganizationalUnit",
                            lambda s: v.unit_arn(s, organizational_unit_id, caller.partition)) as (tx, shape):
            if organizational_unit_id not in shape.units:
                raise e.OrganizationalUnitNotFoundException()
            if any(shape.parent_of(c) == organizational_unit_id for c in (*shape.units, *shape.accounts)):
                raise e.OrganizationalUnitNotEmptyException()
            for policy_id in shape.attachments.get(organizational_unit_id, ()):
                tx.organizations.detach(shape.org.org_id, policy_id, organizational_unit_id)
            tx.organizations.delete_unit(organizational_unit_id)
        return {}

    @operation
    def list_organizational_units_for_parent(self, caller: Caller, parent_id: str, next_token: str | None = None,
                                             max_results: int | None = None) -> dict[str, Any]:
        shape = self._reading(caller, "organizations:ListOrganizationalUnitsForParent",
                              lambda s: v.parent_arn(s, parent_id, caller.partition))
        _parent(shape, parent_id, e.ParentNotFoundException)
        views = [v.unit_view(shape, u, caller.partition) for u in shape.units.values() if u.parent_id == parent_id]
        return v.page("OrganizationalUnits", views, next_token, max_results, f"ous:{parent_id}")

    @operation
    def list_children(self, caller: Caller, parent_id: str, child_type: str, next_token: str | None = None,
                      max_results: int | None = None) -> dict[str, Any]:
        shape = self._reading(caller, "organizations:ListChildren",
                              lambda s: v.parent_arn(s, parent_id, caller.partition))
        _parent(shape, parent_id, e.ParentNotFoundException)
        pool: Sequence[OrgAccount | OrgUnit] = (list(shape.accounts.values()) if child_type == "ACCOUNT"
                                                else list(shape.units.values()))
        children = [{"Id": c.account_id if isinstance(c, OrgAccount) else c.ou_id, "Type": child_type}
                    for c in pool if c.parent_id == parent_id]
        return v.page("Children", children, next_token, max_results, f"children:{parent_id}:{child_type}")

    @operation
    def list_parents(self, caller: Caller, child_id: str, next_token: str | None = None,
                     max_results: int | None = None) -> dict[str, Any]:
        shape = self._reading(caller, "organizations:ListParents",
                              lambda s: v.target_arn(s, child_id, caller.partition))
        parent = shape.parent_of(child_id)
        if parent is None:
            raise e.ChildNotFoundException()
        kind = "ROOT" if parent == shape.org.root_id else "ORGANIZATIONAL_UNIT"
        return v.page("Parents", [{"Id": parent, "Type": kind}], next_token, max_results, f"parents:{child_id}")

    # --- policy types ----------------------------------------------------------------------------------------

    @operation
    def enable_policy_type(self, caller: Caller, root_id: str, policy_type: str) -> dict[str, Any]:
        _supported(policy_type)
        with self._changing(caller, "organizations:EnablePolicyType",
                            lambda s: v.root_arn(s, root_id, caller.partition),
                            RequestFacts(policy_type=policy_type)) as (tx, shape):
            if root_id != shape.org.root_id:
                raise e.RootNotFoundException()
            if shape.org.feature_set != "ALL":
                raise e.ConstraintViolationException(
                    "ORGANIZATION_NOT_IN_ALL_FEATURES_MODE",
                    "You can't perform this operation unless the organization has all features enabled.")
            if shape.enabled(policy_type):
                raise e.PolicyTypeAlreadyEnabledException()
            types = (*shape.org.policy_types, policy_type)
            tx.organizations.set_policy_types(shape.org.org_id, types)
            default = DEFAULT_POLICY[policy_type].policy_id
            for target in (shape.org.root_id, *shape.units, *shape.accounts):
                if default not in shape.attachments.get(target, ()):
                    tx.organizations.attach(shape.org.org_id, default, target)
            shape = replace(shape, org=replace(shape.org, policy_types=types))
        return {"Root": v.root_view(shape, caller.partition)}

    @operation
    def disable_policy_type(self, caller: Caller, root_id: str, policy_type: str) -> dict[str, Any]:
        _supported(policy_type)
        with self._changing(caller, "organizations:DisablePolicyType",
                            lambda s: v.root_arn(s, root_id, caller.partition),
                            RequestFacts(policy_type=policy_type)) as (tx, shape):
            if root_id != shape.org.root_id:
                raise e.RootNotFoundException()
            if not shape.enabled(policy_type):
                raise e.PolicyTypeNotEnabledException()
            types = tuple(t for t in shape.org.policy_types if t != policy_type)
            tx.organizations.set_policy_types(shape.org.org_id, types)
            for target, attached in shape.attachments.items():
                for policy_id in attached:
                    if shape.policies[policy_id].policy_type == policy_type:
                        tx.organizations.detach(shape.org.org_id, policy_id, target)
            shape = replace(shape, org=replace(shape.org, policy_types=types))
        return {"Root": v.root_view(shape, caller.partition)}

    # --- policies --------------------------------------------------------------------------------------------

    @operation
    def create_policy(self, caller: Caller, content: str, description: str, name: str, type: str,
                      tags: Sequence[dict[str, str]] | None = None) -> dict[str, Any]:
        _no_tags(tags)
        _supported(type)
        with self._changing(caller, "organizations:CreatePolicy",
                            lambda s: f"{v.base_arn(s, caller.partition)}:policy/{s.org.org_id}/{type.lower()}/*",
                            RequestFacts(policy_type=type)) as (tx, shape):
            _check_content(content, type)
            if any(p.name == name and p.policy_type == type and not p.aws_managed for p in shape.policies.values()):
                raise e.DuplicatePolicyException()
            if sum(1 for p in shape.policies.values() if p.policy_type == type) >= MAX_POLICIES:
                raise e.ConstraintViolationException(
                    "POLICY_NUMBER_LIMIT_EXCEEDED", "You attempted to exceed the number of policies that you can have "
                                                    "in an organization.")
            policy = OrgPolicy(policy_id="p-" + _random(8), org_id=shape.org.org_id, policy_type=type, name=name,
                               description=description, content=content)
            tx.organizations.insert_policy(policy)
        return {"Policy": v.policy_view(shape, policy, caller.partition)}

    @operation
    def describe_policy(self, caller: Caller, policy_id: str) -> dict[str, Any]:
        shape = self._reading(caller, "organizations:DescribePolicy",
                              _policy_at(policy_id, caller.partition), self._facts(caller, policy_id))
        return {"Policy": v.policy_view(shape, _policy(shape, policy_id), caller.partition)}

    @operation
    def update_policy(self, caller: Caller, policy_id: str, name: str | None = None, description: str | None = None,
                      content: str | None = None) -> dict[str, Any]:
        with self._changing(caller, "organizations:UpdatePolicy", _policy_at(policy_id, caller.partition),
                            self._facts(caller, policy_id)) as (tx, shape):
            policy = _policy(shape, policy_id)
            _mutable(policy)
            if content is not None:
                _check_content(content, policy.policy_type)
            if name is not None and name != policy.name and any(
                    p.name == name and p.policy_type == policy.policy_type for p in shape.policies.values()):
                raise e.DuplicatePolicyException()
            policy = replace(policy, name=name if name is not None else policy.name,
                             description=description if description is not None else policy.description,
                             content=content if content is not None else policy.content)
            tx.organizations.update_policy(policy)
        return {"Policy": v.policy_view(shape, policy, caller.partition)}

    @operation
    def delete_policy(self, caller: Caller, policy_id: str) -> dict[str, Any]:
        with self._changing(caller, "organizations:DeletePolicy", _policy_at(policy_id, caller.partition),
                            self._facts(caller, policy_id)) as (tx, shape):
            policy = _policy(shape, policy_id)
            _mutable(policy)
            if _targets(shape, policy_id):
                raise e.PolicyInUseException()
            tx.organizations.delete_policy(policy_id)
        return {}

    @operation
    def list_policies(self, caller: Caller, filter: str, next_token: str | None = None,
                      max_results: int | None = None) -> dict[str, Any]:
        _supported(filter)
        shape = self._reading(caller, "organizations:ListPolicies", None, RequestFacts(policy_type=filter))
        views = [v.summary(shape, p, caller.partition) for p in
                 sorted(shape.policies.values(), key=lambda p: (not p.aws_managed, p.name))
                 if p.policy_type == filter]
        return v.page("Policies", views, next_token, max_results, f"policies:{filter}")

    @operation
    def attach_policy(self, caller: Caller, policy_id: str, target_id: str) -> dict[str, Any]:
        facts = self._facts(caller, policy_id)
        with self._changing(caller, "organizations:AttachPolicy", _policy_at(policy_id, caller.partition), facts) as (
                tx, shape):
            target_arn = v.target_arn(shape, target_id, caller.partition)
            self.authz.require(tx, caller, "organizations:AttachPolicy", target_arn, facts=facts)  # and on the target
            policy = _policy(shape, policy_id)
            _target(shape, target_id)
            if not shape.enabled(policy.policy_type):
                raise e.PolicyTypeNotEnabledException()
            attached = shape.attachments.get(target_id, ())
            if policy_id in attached:
                raise e.DuplicatePolicyAttachmentException()
            if sum(1 for p in attached if shape.policies[p].policy_type == policy.policy_type) >= MAX_ATTACHED:
                raise e.ConstraintViolationException(
                    "MAX_POLICY_TYPE_ATTACHMENT_LIMIT_EXCEEDED",
                    "You attempted to exceed the number of policies of a certain type that can be attached to an "
                    "entity at one time.")
            tx.organizations.attach(shape.org.org_id, policy_id, target_id)
        return {}

    @operation
    def detach_policy(self, caller: Caller, policy_id: str, target_id: str) -> dict[str, Any]:
        facts = self._facts(caller, policy_id)
        with self._changing(caller, "organizations:DetachPolicy", _policy_at(policy_id, caller.partition), facts) as (
                tx, shape):
            target_arn = v.target_arn(shape, target_id, caller.partition)
            self.authz.require(tx, caller, "organizations:DetachPolicy", target_arn, facts=facts)  # and on the target
            policy = _policy(shape, policy_id)
            _target(shape, target_id)
            attached = shape.attachments.get(target_id, ())
            if policy_id not in attached:
                raise e.PolicyNotAttachedException()
            if policy_id == RCP_FULL_AWS_ACCESS.policy_id:
                raise e.InvalidInputException("NON_DETACHABLE_POLICY", "You can't detach this AWS Managed Policy.")
            if policy.policy_type == SCP and sum(1 for p in attached if shape.policies[p].policy_type == SCP) == 1:
                raise e.ConstraintViolationException(
                    "MIN_POLICY_TYPE_ATTACHMENT_LIMIT_EXCEEDED",
                    "You attempted to detach a policy from an entity that would cause the entity to have fewer "
                    "than the minimum number of policies of a certain type required.")
            tx.organizations.detach(shape.org.org_id, policy_id, target_id)
        return {}

    @operation
    def list_policies_for_target(self, caller: Caller, target_id: str, filter: str, next_token: str | None = None,
                                 max_results: int | None = None) -> dict[str, Any]:
        _supported(filter)
        shape = self._reading(caller, "organizations:ListPoliciesForTarget",
                              lambda s: v.target_arn(s, target_id, caller.partition), RequestFacts(policy_type=filter))
        _target(shape, target_id)
        views = [v.summary(shape, shape.policies[p], caller.partition) for p in shape.attachments.get(target_id, ())
                 if shape.policies[p].policy_type == filter]
        return v.page("Policies", views, next_token, max_results, f"for:{target_id}:{filter}")

    @operation
    def list_targets_for_policy(self, caller: Caller, policy_id: str, next_token: str | None = None,
                                max_results: int | None = None) -> dict[str, Any]:
        shape = self._reading(caller, "organizations:ListTargetsForPolicy",
                              _policy_at(policy_id, caller.partition), self._facts(caller, policy_id))
        _policy(shape, policy_id)
        views = [v.target_view(shape, t, caller.partition) for t in _targets(shape, policy_id)]
        return v.page("Targets", views, next_token, max_results, f"targets:{policy_id}")

    # --- helpers ---------------------------------------------------------------------------------------------

    def _find(self, tx: UnitOfWork, caller: Caller) -> _Found:
        org = tx.organizations.of_account(caller.account_id)
        if org is None:
            return _Found(None, False)
        return _Found(tx.organizations.shape(org.org_id), org.management_account_id == caller.account_id)

    def _managed(self, tx: UnitOfWork, caller: Caller, action: str,
                 resource: Callable[[OrgShape], str] | None = None, facts: RequestFacts | None = None) -> OrgShape:
        """The caller's organization, once the caller is authorized for `action` (on the ARN `resource` builds)
        and is its management account."""
        found = self._find(tx, caller)
        # Another account's caller is authorized on `*` (the management account's entities are not its own) and
        # then refused as AWS refuses it.
        arn = resource(found.shape) if resource and found.shape and found.management else "*"
        self.authz.require(tx, caller, action, arn, facts=facts)
        if found.shape is None:
            raise e.AWSOrganizationsNotInUseException()
        if not found.management:
            raise e.AccessDeniedException()
        return found.shape

    def _reading(self, caller: Caller, action: str, resource: Callable[[OrgShape], str] | None = None,
                 facts: RequestFacts | None = None) -> OrgShape:
        with self.store.read(caller.account_id) as tx:
            return self._managed(tx, caller, action, resource, facts)

    @contextmanager
    def _changing(self, caller: Caller, action: str, resource: Callable[[OrgShape], str],
                  facts: RequestFacts | None = None) -> Iterator[tuple[UnitOfWork, OrgShape]]:
        """A write transaction of the management account that bumps the organization's revision first (which
        also serializes the organization's writers), with the shape read after that; and bumps it again at the
        end, since authorizing within the transaction may have cached the shape at the first revision as it was
        before the change."""
        with self.store.write(caller.account_id) as tx:
            found = tx.organizations.of_account(caller.account_id)
            if found is not None:
                tx.organizations.bump(found.org_id)
            shape = self._managed(tx, caller, action, resource, facts)
            yield tx, shape
            if found is not None and tx.organizations.get(found.org_id) is not None:  # not deleted
                tx.organizations.bump(found.org_id)

    def _facts(self, caller: Caller, policy_id: str) -> RequestFacts:
        """`organizations:PolicyType` of the policy `policy_id` names, when it names one of the caller's organization
        (read in a transaction of its own: the type of a policy never changes)."""
        with self.store.read(caller.account_id) as tx:
            org = tx.organizations.of_account(caller.account_id)
            shape = tx.organizations.shape(org.org_id) if org else None
        policy = shape.policies.get(policy_id) if shape else None
        return RequestFacts(policy_type=policy.policy_type if policy else None)

    def _attach_defaults(self, tx: UnitOfWork, shape: OrgShape, target_id: str) -> None:
        for policy_type in shape.org.policy_types:
            tx.organizations.attach(shape.org.org_id, DEFAULT_POLICY[policy_type].policy_id, target_id)


def _policy_at(policy_id: str, partition: str) -> Callable[[OrgShape], str]:
    return lambda shape: v.entity_policy_arn(shape, policy_id, partition)


# --- validation ------------------------------------------------------------------------------------------------


def _no_tags(tags: Sequence[dict[str, str]] | None) -> None:
    if tags:
        raise e.InvalidInputException("INVALID_SYSTEM_TAGS_PARAMETER",
                                      "Tags on organization resources are not supported by this server.")


def _supported(policy_type: str) -> None:
    if policy_type not in POLICY_TYPES:
        raise e.InvalidInputException("INVALID_ENUM_POLICY_TYPE", "You specified an invalid value.")


def _check_content(content: str, policy_type: str) -> None:
    if len(content) > MAX_POLICY_CHARACTERS:
        raise e.ConstraintViolationException(
            "POLICY_CONTENT_LIMIT_EXCEEDED", "You attempted to create a policy that is larger than the maximum size.")
    try:
        parse(content, kind=_KINDS[policy_type])
    except PolicyError as err:
        raise e.MalformedPolicyDocumentException(err.message) from None


def _mutable(policy: OrgPolicy) -> None:
    if policy.aws_managed:
        raise e.InvalidInputException("IMMUTABLE_POLICY",
                                      "You specified a policy that is managed by AWS and can't be modified.")


def _parent(shape: OrgShape, parent_id: str, error: Callable[[], Exception]) -> None:
    if parent_id != shape.org.root_id and parent_id not in shape.units:
        raise error()


def _policy(shape: OrgShape, policy_id: str) -> OrgPolicy:
    policy = shape.policies.get(policy_id)
    if policy is None:
        raise e.PolicyNotFoundException()
    return policy


def _target(shape: OrgShape, target_id: str) -> None:
    if target_id != shape.org.root_id and target_id not in shape.units and target_id not in shape.accounts:
        raise e.TargetNotFoundException()


def _targets(shape: OrgShape, policy_id: str) -> list[str]:
    return [t for t, attached in shape.attachments.items() if policy_id in attached]
