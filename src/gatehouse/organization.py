"""AWS Organizations entities: an organization, its root, organizational units, member accounts, policies (SCPs
and RCPs) and CreateAccount requests; and `OrgShape`, the whole organization as one immutable value read in one
transaction, from which paths, policy levels and condition keys are computed without storage."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

SCP = "SERVICE_CONTROL_POLICY"
RCP = "RESOURCE_CONTROL_POLICY"
POLICY_TYPES = (SCP, RCP)


@dataclass(frozen=True, slots=True)
class Organization:
    org_id: str
    management_account_id: str
    root_id: str
    feature_set: str
    created: dt.datetime
    revision: int = 0
    policy_types: tuple[str, ...] = ()  # enabled on the root

    def arn(self, partition: str) -> str:
        return f"arn:{partition}:organizations::{self.management_account_id}:organization/{self.org_id}"

    def root_arn(self, partition: str) -> str:
        return f"arn:{partition}:organizations::{self.management_account_id}:root/{self.org_id}/{self.root_id}"


@dataclass(frozen=True, slots=True)
class OrgUnit:
    ou_id: str
    org_id: str
    parent_id: str
    name: str
    created: dt.datetime


@dataclass(frozen=True, slots=True)
class OrgAccount:
    account_id: str
    org_id: str
    parent_id: str
    name: str
    email: str
    joined_method: str  # CREATED or INVITED
    joined: dt.datetime
    status: str = "ACTIVE"


@dataclass(frozen=True, slots=True)
class OrgPolicy:
    policy_id: str
    org_id: str
    policy_type: str
    name: str
    description: str
    content: str
    aws_managed: bool = False


@dataclass(frozen=True, slots=True)
class AccountRequest:
    """A CreateAccount request (`car-…`), as DescribeCreateAccountStatus reports it."""

    request_id: str
    org_id: str
    account_name: str
    state: str
    requested: dt.datetime
    account_id: str | None = None
    failure_reason: str | None = None
    completed: dt.datetime | None = None


@dataclass(frozen=True)
class OrgShape:
    """Everything about one organization at one revision. Built from one read; shared by every request that finds
    the organization at that revision."""

    org: Organization
    units: dict[str, OrgUnit]
    accounts: dict[str, OrgAccount]
    policies: dict[str, OrgPolicy]  # customer managed ones and the AWS managed defaults
    attachments: dict[str, tuple[str, ...]]  # target id -> policy ids, in attachment order
    _paths: dict[str, tuple[str, ...]] = field(default_factory=dict, repr=False, compare=False)

    def parent_of(self, child_id: str) -> str | None:
        if child_id in self.accounts:
            return self.accounts[child_id].parent_id
        if child_id in self.units:
            return self.units[child_id].parent_id
        return None

    def path(self, target_id: str) -> tuple[str, ...]:
        """Ids from the root down to `target_id` (itself included)."""
        found = self._paths.get(target_id)
        if found is not None:
            return found
        chain, node = [target_id], target_id
        while node != self.org.root_id:
            parent = self.parent_of(node)
            if parent is None or parent in chain:
                break
            chain.append(parent)
            node = parent
        out = tuple(reversed(chain))
        self._paths[target_id] = out
        return out

    def org_path(self, account_id: str) -> str:
        """`aws:PrincipalOrgPaths`/`aws:ResourceOrgPaths`' value: `o-…/r-…/ou-…/…/` (the account itself excluded)."""
        return "/".join((self.org.org_id, *self.path(account_id)[:-1])) + "/"

    def is_member(self, account_id: str) -> bool:
        """In the organization and bound by its policies: every account but the management account."""
        return account_id in self.accounts and account_id != self.org.management_account_id

    def enabled(self, policy_type: str) -> bool:
        return policy_type in self.org.policy_types

    def levels(self, account_id: str, policy_type: str) -> list[list[OrgPolicy]]:
        """The policies of `policy_type` attached at each level from the root to the account."""
        return [[self.policies[p] for p in self.attachments.get(node, ()) if p in self.policies
                 and self.policies[p].policy_type == policy_type] for node in self.path(account_id)]


# AWS managed policies: in no organization, attached by default, the same ids everywhere.
FULL_AWS_ACCESS = OrgPolicy(
    "p-FullAWSAccess", "", SCP, "FullAWSAccess", "Allows access to every operation",
    '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}', aws_managed=True)
RCP_FULL_AWS_ACCESS = OrgPolicy(
    "p-RCPFullAWSAccess", "", RCP, "RCPFullAWSAccess", "Allows access to every operation",
    '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"*","Resource":"*"}]}',
    aws_managed=True)
MANAGED_POLICIES = (FULL_AWS_ACCESS, RCP_FULL_AWS_ACCESS)
DEFAULT_POLICY = {SCP: FULL_AWS_ACCESS, RCP: RCP_FULL_AWS_ACCESS}
