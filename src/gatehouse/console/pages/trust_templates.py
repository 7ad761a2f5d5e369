"""Trust policy templates for the role editor: the trusted entity types AWS's console offers (an AWS service,
another AWS account, a web identity provider, SAML 2.0 federation), written for the caller's account and
partition. Starting points only: the role is saved with whatever the editor holds, and IAM validates it."""

from __future__ import annotations

import json
from typing import Any

from gatehouse.model import Caller

TEMPLATES = (("service", "AWS service"), ("account", "Another AWS account"), ("web-identity", "Web identity"),
             ("saml", "SAML 2.0 federation"))


def _document(statement: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": [statement]}, indent=2)


def trust_template(kind: str, caller: Caller) -> str:
    account, partition = caller.account_id, caller.partition
    if kind == "account":
        return _document({"Effect": "Allow", "Principal": {"AWS": f"arn:{partition}:iam::{account}:root"},
                          "Action": "sts:AssumeRole"})
    if kind == "web-identity":
        return _document({"Effect": "Allow",
                          "Principal": {"Federated": f"arn:{partition}:iam::{account}:oidc-provider/"
                                                    "token.actions.example.com"},
                          "Action": "sts:AssumeRoleWithWebIdentity",
                          "Condition": {"StringEquals": {"token.actions.example.com:aud": "sts.amazonaws.com"}}})
    if kind == "saml":
        return _document({"Effect": "Allow",
                          "Principal": {"Federated": f"arn:{partition}:iam::{account}:saml-provider/MyProvider"},
                          "Action": ["sts:AssumeRoleWithSAML", "sts:TagSession"],
                          "Condition": {"StringEquals": {"SAML:aud": "https://signin.aws.amazon.com/saml"}}})
    return _document({"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"})


def all_templates(caller: Caller) -> list[tuple[str, str, str]]:
    """(key, label, document) for every template."""
    return [(key, label, trust_template(key, caller)) for key, label in TEMPLATES]
