"""AWS managed policies that Gatehouse ships, written by us, under `arn:<partition>:iam::aws:policy/`.

They live in code, not in any account: every account sees the same ones, attachments point at them by id, and
their attachment counts are per account.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass

from gatehouse.model import ManagedPolicy, PolicyVersion

AWS = "aws"
_CREATED = dt.datetime(2015, 2, 6, 18, 39, 46, tzinfo=dt.UTC)
_UPDATED = dt.datetime(2024, 1, 1, 0, 0, 0, tzinfo=dt.UTC)

_READ_SERVICES = (
    "acm", "apigateway", "application-autoscaling", "athena", "autoscaling", "backup", "batch", "cloudformation",
    "cloudfront", "cloudtrail", "cloudwatch", "codebuild", "codecommit", "codedeploy", "codepipeline",
    "cognito-identity", "cognito-idp", "config", "dynamodb", "ec2", "ecr", "ecs", "eks", "elasticache",
    "elasticbeanstalk", "elasticfilesystem", "elasticloadbalancing", "es", "events", "firehose", "glue", "guardduty",
    "iam", "inspector", "kinesis", "kms", "lambda", "logs", "organizations", "rds", "redshift", "route53", "s3",
    "secretsmanager", "securityhub", "ses", "sns", "sqs", "ssm", "states", "sts", "tag", "waf", "xray",
)


def _doc(*statements: dict[str, object]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)}, indent=4)


_DOCUMENTS: dict[str, tuple[str, str]] = {
    "AdministratorAccess": (
        "Provides full access to AWS services and resources.",
        _doc({"Effect": "Allow", "Action": "*", "Resource": "*"}),
    ),
    "PowerUserAccess": (
        "Provides full access to AWS services and resources, but does not allow management of Users and groups.",
        _doc(
            {"Effect": "Allow", "NotAction": ["iam:*", "organizations:*", "account:*"], "Resource": "*"},
            {"Effect": "Allow", "Action": [
                "account:GetAccountInformation", "account:GetPrimaryEmail", "account:ListRegions",
                "iam:CreateServiceLinkedRole", "iam:DeleteServiceLinkedRole", "iam:ListRoles",
                "organizations:DescribeOrganization"], "Resource": "*"},
        ),
    ),
    "ReadOnlyAccess": (
        "Provides read-only access to AWS services and resources.",
        _doc({"Effect": "Allow", "Action": sorted(
            f"{svc}:{verb}*" for svc in _READ_SERVICES for verb in ("Describe", "Get", "List")
        ), "Resource": "*"}),
    ),
    "IAMFullAccess": (
        "Provides full access to IAM via the AWS Management Console.",
        _doc({"Effect": "Allow", "Action": [
            "iam:*", "organizations:DescribeAccount", "organizations:DescribeOrganization",
            "organizations:DescribeOrganizationalUnit", "organizations:DescribePolicy",
            "organizations:ListChildren", "organizations:ListParents", "organizations:ListPoliciesForTarget",
            "organizations:ListRoots", "organizations:ListPolicies", "organizations:ListTargetsForPolicy"],
            "Resource": "*"}),
    ),
    "IAMReadOnlyAccess": (
        "Provides read only access to IAM via the AWS Management Console.",
        _doc({"Effect": "Allow", "Action": [
            "iam:GenerateCredentialReport", "iam:GenerateServiceLastAccessedDetails", "iam:Get*", "iam:List*",
            "iam:SimulateCustomPolicy", "iam:SimulatePrincipalPolicy"], "Resource": "*"}),
    ),
    "IAMUserChangePassword": (
        "Provides the ability for an IAM user to change their own password.",
        _doc(
            {"Effect": "Allow", "Action": ["iam:ChangePassword"], "Resource": ["arn:aws:iam::*:user/${aws:username}"]},
            {"Effect": "Allow", "Action": ["iam:GetAccountPasswordPolicy"], "Resource": "*"},
        ),
    ),
}


def _policy_id(name: str) -> str:
    """Stable across restarts and replicas: derived from the name."""
    digest = hashlib.sha256(f"gatehouse-aws-managed:{name}".encode()).digest()
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
    return "ANPA" + "".join(alphabet[b % 32] for b in digest[:17])


@dataclass(frozen=True)
class AwsManagedPolicy:
    policy: ManagedPolicy
    version: PolicyVersion


class AwsManagedPolicies:
    """The catalogue: look-ups by name and by id."""

    def __init__(self) -> None:
        self._by_name: dict[str, AwsManagedPolicy] = {}
        for name, (description, document) in _DOCUMENTS.items():
            policy = ManagedPolicy(account_id=AWS, policy_id=_policy_id(name), name=name, path="/",
                                   default_version_id="v1", created=_CREATED, updated=_UPDATED,
                                   description=description)
            self._by_name[name.lower()] = AwsManagedPolicy(policy, PolicyVersion("v1", document, True, _CREATED))
        self._by_id = {p.policy.policy_id: p for p in self._by_name.values()}

    def get(self, name: str) -> AwsManagedPolicy | None:
        return self._by_name.get(name.lower())

    def by_id(self, policy_id: str) -> AwsManagedPolicy | None:
        return self._by_id.get(policy_id)

    def all(self) -> Iterable[AwsManagedPolicy]:
        return sorted(self._by_name.values(), key=lambda p: p.policy.name.lower())
