"""AccessDenied wording ("Troubleshoot access denied error messages") and context keys for the simulator."""

from __future__ import annotations

import pytest

from gatehouse.policy import (
    Decision,
    DecisionKind,
    MatchedStatement,
    PolicyKind,
    access_denied_message,
    context_keys,
    parse,
)

from ._support import ACCOUNT, allow, ctx, doc

USER = f"arn:aws:iam::{ACCOUNT}:user/bob"
TARGET = f"arn:aws:iam::{ACCOUNT}:user/x"
HEAD = f"User: {USER} is not authorized to perform: iam:CreateUser on resource: {TARGET}"

IMPLICIT = [
    (PolicyKind.IDENTITY, "because no identity-based policy allows the iam:CreateUser action"),
    (PolicyKind.BOUNDARY, "because no permissions boundary allows the iam:CreateUser action"),
    (PolicyKind.SESSION, "because no session policy allows the iam:CreateUser action"),
    (PolicyKind.RESOURCE, "because no resource-based policy allows the iam:CreateUser action"),
    (PolicyKind.SCP, "with an explicit deny in a service control policy"),
    (PolicyKind.RCP, "with an explicit deny in a resource control policy"),
]
EXPLICIT = [
    (PolicyKind.IDENTITY, "with an explicit deny in an identity-based policy"),
    (PolicyKind.BOUNDARY, "with an explicit deny in a permissions boundary"),
    (PolicyKind.SESSION, "with an explicit deny in a session policy"),
    (PolicyKind.RESOURCE, "with an explicit deny in a resource-based policy"),
    (PolicyKind.SCP, "with an explicit deny in a service control policy"),
    (PolicyKind.RCP, "with an explicit deny in a resource control policy"),
]


@pytest.mark.parametrize(("ptype", "tail"), IMPLICIT, ids=[p.value for p, _ in IMPLICIT])
def test_implicit(ptype: PolicyKind, tail: str) -> None:
    decision = Decision(DecisionKind.IMPLICIT_DENY, (), ptype)
    assert access_denied_message(decision, ctx("iam:CreateUser", TARGET, principal=USER)) == f"{HEAD} {tail}"


@pytest.mark.parametrize(("ptype", "tail"), EXPLICIT, ids=[p.value for p, _ in EXPLICIT])
def test_explicit(ptype: PolicyKind, tail: str) -> None:
    decision = Decision(DecisionKind.EXPLICIT_DENY, (), ptype)
    assert access_denied_message(decision, ctx("iam:CreateUser", TARGET, principal=USER)) == f"{HEAD} {tail}"


def test_explicit_deny_names_the_policy_arn() -> None:
    arn = f"arn:aws:iam::{ACCOUNT}:policy/guard"
    m = MatchedStatement(arn, PolicyKind.IDENTITY, None, 0, "Deny", "/Statement/0")
    decision = Decision(DecisionKind.EXPLICIT_DENY, (m,), PolicyKind.IDENTITY)
    message = access_denied_message(decision, ctx("iam:CreateUser", TARGET, principal=USER))
    assert message == f"{HEAD} with an explicit deny in an identity-based policy: {arn}"


def test_assumed_role_is_named_by_its_session_arn_and_star_resource_is_omitted() -> None:
    session = f"arn:aws:sts::{ACCOUNT}:assumed-role/R/S"
    decision = Decision(DecisionKind.IMPLICIT_DENY, (), PolicyKind.IDENTITY)
    assert access_denied_message(decision, ctx("iam:ListUsers", "*", principal=session)) == (
        f"User: {session} is not authorized to perform: iam:ListUsers because no identity-based policy allows the "
        "iam:ListUsers action")


def test_context_keys_lists_condition_keys_and_variables_once() -> None:
    policy = parse(doc(
        allow("s3:*", "arn:aws:s3:::b/${aws:username}/*", Condition={
            "StringEquals": {"aws:PrincipalTag/team": "${aws:PrincipalTag/team}", "s3:prefix": "x"},
            "IpAddress": {"aws:SourceIp": "10.0.0.0/8"}}),
        allow(Condition={"StringEquals": {"AWS:SourceIp": "x"}})))
    assert context_keys([policy]) == ["aws:PrincipalTag/team", "aws:SourceIp", "aws:username", "s3:prefix"]


def test_context_keys_ignore_variables_in_2008_policies() -> None:
    policy = parse(doc(allow("s3:*", "arn:aws:s3:::b/${aws:username}"), version="2008-10-17"))
    assert context_keys([policy]) == []
