"""A member account made by CreateAccount, inside the caller's write transaction: the account (its root user is
the account itself: it has no credentials until its owner makes some), in the management account's partition, and
the role the management account administers it through. All of it commits, or none of it."""

from __future__ import annotations

import datetime as dt
import json

from gatehouse.model import Account, OwnerKind, Role
from gatehouse.services import ids
from gatehouse.services.iam.aws_managed import AWS, AwsManagedPolicies
from gatehouse.services.iam.roles import insert_role
from gatehouse.services.iam.trust import bind_trust
from gatehouse.storage.repository import UnitOfWork

ACCESS_ROLE = "OrganizationAccountAccessRole"
ADMINISTRATOR = "AdministratorAccess"


def access_role_trust(partition: str, management_account_id: str) -> str:
    """The trust policy AWS gives the role: the management account (its administrators decide who may assume)."""
    return json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"AWS": f"arn:{partition}:iam::{management_account_id}:root"},
        "Action": "sts:AssumeRole"}]})


def make_member_account(tx: UnitOfWork, managed: AwsManagedPolicies, *, management: Account, role_name: str,
                        created: dt.datetime, account_id: str | None = None) -> Account:
    """Insert a new account and its access role through `tx` (a write unit of work of the management account)."""
    account = Account(account_id=account_id or ids.account_id(), created=created, partition=management.partition)
    member = tx.other(account.account_id)
    member.accounts.insert(account)
    trust = access_role_trust(management.partition, management.account_id)
    role = insert_role(member, Role(account_id=account.account_id, role_id=ids.unique_id(ids.Prefix.ROLE),
                                    name=role_name, path="/", created=created, trust_policy=trust,
                                    trust_principals=bind_trust(member, trust)))
    admin = managed.get("/", ADMINISTRATOR)
    if admin is None:
        raise LookupError(f"the AWS managed policy {ADMINISTRATOR} is missing from the catalogue")
    member.attachments.attach(OwnerKind.ROLE, role.role_id, AWS, admin.policy_id)
    return account
