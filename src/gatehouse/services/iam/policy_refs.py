"""Managed policies named by ARN: customer managed ones in the caller's account, AWS managed ones in the catalogue."""

from __future__ import annotations

import re
from dataclasses import dataclass

from gatehouse.errors import InvalidInput, ValidationError
from gatehouse.model import ManagedPolicy, PolicyVersion
from gatehouse.services.iam.aws_managed import AWS, AwsManagedPolicies
from gatehouse.storage.repository import UnitOfWork

_POLICY_ARN = re.compile(r"arn:(aws[a-z-]*):iam::(aws|\d{12}):policy(/(?:[^/]+/)*)([\w+=,.@-]{1,128})\Z")


@dataclass(frozen=True, slots=True)
class PolicyArn:
    partition: str
    account: str
    path: str
    name: str

    @property
    def aws_managed(self) -> bool:
        return self.account == AWS


def parse_policy_arn(arn: str) -> PolicyArn:
    m = _POLICY_ARN.match(arn)
    if not m:
        # AWS answers ValidationError for a value that is no ARN at all (AttachRolePolicy with
        # "longpolicynamebutnoarn") and InvalidInput for an ARN naming something else ("...:not_a_policy/invalid"
        # as a permissions boundary): LocalStack's AWS-validated test_iam_roles.snapshot.json.
        error = InvalidInput if arn.startswith("arn:") else ValidationError
        raise error(f"ARN {arn} is not valid.")
    return PolicyArn(m.group(1), m.group(2), m.group(3), m.group(4))


def find_policy(tx: UnitOfWork, managed: AwsManagedPolicies, account_id: str, arn: str
                ) -> tuple[ManagedPolicy, PolicyVersion | None] | None:
    """The policy an ARN names, when it exists in this account (or is AWS managed) with that exact path.

    The version is given for AWS managed policies (their default); customer ones load versions on demand."""
    ref = parse_policy_arn(arn)
    if ref.aws_managed:
        found = managed.get(ref.path, ref.name)  # exact: name and path as written
        return (found, managed.default_version(found)) if found else None
    if ref.account != account_id:
        return None
    policy = tx.policies.get(ref.name)
    if policy is None or policy.path != ref.path:
        return None
    return policy, None


def default_document(tx: UnitOfWork, managed: AwsManagedPolicies, policy_account: str, policy_id: str
                     ) -> tuple[ManagedPolicy, str] | None:
    """A policy's default version document, by the (account, id) an attachment stores."""
    if policy_account == AWS:
        found = managed.by_id(policy_id)
        return (found, managed.default_version(found).document) if found else None
    policy = tx.policies.by_id(policy_id)
    if policy is None:
        return None
    version = tx.policies.version(policy_id, policy.default_version_id)
    return (policy, version.document) if version else None
