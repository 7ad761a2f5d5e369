"""Stored policies that no longer pass validation fail closed (they deny), never open."""

from __future__ import annotations

import json

from gatehouse.policy import DecisionKind, PolicyKind, PolicySet, Principal, RequestContext, evaluate
from gatehouse.services.authorization import Authorizer
from gatehouse.services.iam.aws_managed import AwsManagedPolicies

# Accepted by a laxer validator, refused now (IAM Sids are alphanumeric): it must not lose its Deny.
LEGACY = json.dumps({"Version": "2012-10-17", "Statement": [
    {"Sid": "no-deletes", "Effect": "Deny", "Action": "iam:DeleteUser", "Resource": "*"}]})
ALLOW_ALL = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]})


def test_unreadable_identity_policy_denies_everything():
    authz = Authorizer(AwsManagedPolicies())
    broken = authz.compile(LEGACY, "user/alice/legacy", PolicyKind.IDENTITY)
    allow = authz.compile(ALLOW_ALL, "user/alice/admin", PolicyKind.IDENTITY)
    assert broken is not None and allow is not None
    ctx = RequestContext(Principal.from_arn("arn:aws:iam::123456789012:user/alice"), "iam:ListUsers", "*")
    decision = evaluate(PolicySet(identity=[allow, broken]), ctx)
    assert decision.kind is DecisionKind.EXPLICIT_DENY
    assert decision.matched[0].policy == "user/alice/legacy"


def test_unreadable_trust_policy_gives_nothing_to_trust():
    assert Authorizer(AwsManagedPolicies()).compile("{not json", "trust", PolicyKind.TRUST) is None
