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


def find_policy(tx: UnitOfWork, managed: AwsManagedPolicies, partition: str, account_id: str, arn: str
                ) -> tuple[ManagedPolicy, PolicyVersion | None] | None:
    """The policy an ARN a caller sent names: in the caller's partition and account (or AWS managed), with that exact
    path; the name compares without case, as IAM names do (a policy is found whatever the case of its name, and is
    then authorized and recorded by its own ARN). A malformed ARN is AWS's ValidationError or InvalidInput.

    The version is given for AWS managed policies (their default); customer ones load versions on demand."""
    ref = parse_policy_arn(arn)
    if ref.partition != partition:
        return None  # another partition's policy is none of this account's
    return _resolve(tx, managed, account_id, ref)


def lookup_policy(tx: UnitOfWork, managed: AwsManagedPolicies, partition: str, account_id: str, arn: str
                  ) -> tuple[ManagedPolicy, PolicyVersion | None] | None:
    """`find_policy` for a look-up that must not fail before authorization: a malformed ARN names nothing (the use
    case reports it, with `parse_policy_arn`, after authorizing)."""
    try:
        return find_policy(tx, managed, partition, account_id, arn)
    except (InvalidInput, ValidationError):
        return None


def stored_policy(tx: UnitOfWork, managed: AwsManagedPolicies, account_id: str, arn: str
                  ) -> tuple[ManagedPolicy, PolicyVersion | None] | None:
    """The policy an ARN Gatehouse stored names (a permissions boundary, a session's policy ARNs): checked when it
    was stored, so its partition is not compared again."""
    try:
        ref = parse_policy_arn(arn)
    except (InvalidInput, ValidationError):
        return None
    return _resolve(tx, managed, account_id, ref)


def _resolve(tx: UnitOfWork, managed: AwsManagedPolicies, account_id: str, ref: PolicyArn
             ) -> tuple[ManagedPolicy, PolicyVersion | None] | None:
    if ref.aws_managed:
        found = managed.get(ref.path, ref.name)  # exact: name and path as written
        return (found, managed.default_version(found)) if found else None
    if ref.account != account_id:
        return None  # another account's policies are never this account's to use
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
