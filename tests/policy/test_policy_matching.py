"""Actions, resources, NotAction/NotResource and policy variables, each against AWS's documented behaviour
("IAM JSON policy elements: Action, NotAction, Resource, NotResource", "IAM policy elements: Variables and tags")."""

from __future__ import annotations

from typing import Any

import pytest

from ._support import ACCOUNT, allow, ctx, decide, doc

S3 = "arn:aws:s3:::bucket/key"

ACTION_CASES: list[tuple[str, Any, str, bool]] = [
    ("exact action", "s3:GetObject", "s3:GetObject", True),
    ("actions are case-insensitive", "S3:getobject", "s3:GetObject", True),
    ("request action case does not matter", "s3:GetObject", "S3:GETOBJECT", True),
    ("star suffix", "s3:Get*", "s3:GetObjectAcl", True),
    ("star in the middle", "iam:*AccessKey*", "iam:CreateAccessKey", True),
    ("star does not match other service", "s3:*", "sqs:SendMessage", False),
    ("question mark is one character", "s3:GetObjec?", "s3:GetObject", True),
    ("question mark needs a character", "s3:GetObject?", "s3:GetObject", False),
    ("bare star matches everything", "*", "kms:Decrypt", True),
    ("list of actions OR'd", ["sqs:*", "s3:Get*"], "s3:GetObject", True),
    ("prefix is not a match", "s3:Get", "s3:GetObject", False),
]


@pytest.mark.parametrize(("note", "action", "requested", "applies"), ACTION_CASES, ids=[c[0] for c in ACTION_CASES])
def test_action(note: str, action: Any, requested: str, applies: bool) -> None:
    assert decide([doc(allow(action, "*"))], ctx(requested, S3)).allowed is applies, note


RESOURCE_CASES: list[tuple[str, Any, str, bool]] = [
    ("exact ARN", "arn:aws:s3:::bucket/key", S3, True),
    ("resource part is case-sensitive", "arn:aws:s3:::Bucket/key", S3, False),
    ("trailing star", "arn:aws:s3:::bucket/*", S3, True),
    ("star in resource part crosses slashes", "arn:aws:s3:::*/key", "arn:aws:s3:::a/b/key", True),
    ("star in resource part crosses colons", "arn:aws:logs:us-east-1:123456789012:log-group:/g:*",
     "arn:aws:logs:us-east-1:123456789012:log-group:/g:log-stream:s", True),
    ("region wildcard", "arn:aws:sqs:*:123456789012:q", "arn:aws:sqs:eu-west-1:123456789012:q", True),
    ("wildcard stays inside its segment", "arn:aws:sqs:us-*:123456789012:q",
     "arn:aws:sqs:us-east-1:999999999999:123456789012:q", False),
    ("account mismatch", "arn:aws:sqs:*:111111111111:q", "arn:aws:sqs:us-east-1:123456789012:q", False),
    ("service segment is literal", "arn:aws:sqs:us-east-1:123456789012:q", "arn:aws:sns:us-east-1:123456789012:q",
     False),
    ("question mark in resource", "arn:aws:s3:::bucket/ke?", S3, True),
    ("all-segment wildcards", "arn:*:*:*:*:*", "arn:aws:iam::123456789012:user/x", True),
    ("star matches everything", "*", "arn:aws:iam::123456789012:user/x", True),
    ("ARN pattern does not match a '*' request", "arn:aws:s3:::*", "*", False),
    ("bucket pattern does not match objects", "arn:aws:s3:::bucket", S3, False),
    ("list of resources OR'd", ["arn:aws:s3:::other", "arn:aws:s3:::bucket/*"], S3, True),
]


@pytest.mark.parametrize(("note", "resource", "requested", "applies"), RESOURCE_CASES,
                         ids=[c[0] for c in RESOURCE_CASES])
def test_resource(note: str, resource: Any, requested: str, applies: bool) -> None:
    request = ctx("s3:GetObject", requested, resource_account=ACCOUNT)
    assert decide([doc(allow("*", resource))], request).allowed is applies, note


def test_not_action_allows_everything_else() -> None:
    policy = doc({"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"})
    assert decide([policy], ctx("s3:GetObject")).allowed
    assert not decide([policy], ctx("iam:CreateUser", f"arn:aws:iam::{ACCOUNT}:user/x")).allowed


def test_not_action_deny_denies_everything_else() -> None:
    """The classic 'deny all but IAM without MFA' shape."""
    policy = doc(allow(), {"Effect": "Deny", "NotAction": ["iam:*", "sts:GetSessionToken"], "Resource": "*",
                           "Condition": {"BoolIfExists": {"aws:MultiFactorAuthPresent": "false"}}})
    assert decide([policy], ctx("s3:GetObject")).kind.value == "ExplicitDeny"
    assert decide([policy], ctx("iam:ListUsers", "*")).allowed
    assert decide([policy], ctx("s3:GetObject", keys={"aws:MultiFactorAuthPresent": "true"})).allowed


def test_not_resource() -> None:
    policy = doc({"Effect": "Allow", "Action": "s3:*", "NotResource": ["arn:aws:s3:::secret", "arn:aws:s3:::secret/*"]})
    assert decide([policy], ctx("s3:GetObject", S3)).allowed
    assert not decide([policy], ctx("s3:GetObject", "arn:aws:s3:::secret/x")).allowed


VARIABLE_CASES: list[tuple[str, str, str, dict[str, Any], bool]] = [
    ("aws:username in the resource part", "arn:aws:s3:::home/${aws:username}/*", "arn:aws:s3:::home/alice/f",
     {}, True),
    ("another user's prefix", "arn:aws:s3:::home/${aws:username}/*", "arn:aws:s3:::home/bob/f", {}, False),
    ("principal tag", "arn:aws:s3:::bucket/${aws:PrincipalTag/team}/*", "arn:aws:s3:::bucket/dev/f",
     {"aws:PrincipalTag/team": "dev"}, True),
    ("missing variable matches nothing", "arn:aws:s3:::bucket/${aws:PrincipalTag/team}/*",
     "arn:aws:s3:::bucket/${aws:PrincipalTag/team}/f", {}, False),
    ("default when missing", "arn:aws:s3:::bucket/${aws:PrincipalTag/team, 'shared'}/*",
     "arn:aws:s3:::bucket/shared/f", {}, True),
    ("default unused when present", "arn:aws:s3:::bucket/${aws:PrincipalTag/team, 'shared'}/*",
     "arn:aws:s3:::bucket/shared/f", {"aws:PrincipalTag/team": "dev"}, False),
    ("substituted value is literal, not a wildcard", "arn:aws:s3:::bucket/${aws:PrincipalTag/team}",
     "arn:aws:s3:::bucket/anything", {"aws:PrincipalTag/team": "*"}, False),
    ("escape ${*} is a literal star", "arn:aws:s3:::bucket/${*}", "arn:aws:s3:::bucket/*", {}, True),
    ("escape ${*} is not a wildcard", "arn:aws:s3:::bucket/${*}", "arn:aws:s3:::bucket/x", {}, False),
    ("escape ${?}", "arn:aws:s3:::bucket/a${?}", "arn:aws:s3:::bucket/a?", {}, True),
    ("escape ${$}", "arn:aws:s3:::bucket/${$}x", "arn:aws:s3:::bucket/$x", {}, True),
    ("service key variable", "arn:aws:s3:::bucket/${s3:prefix}*", "arn:aws:s3:::bucket/reports/q1",
     {"s3:prefix": "reports/"}, True),
    ("variable names are case-insensitive", "arn:aws:s3:::home/${AWS:UserName}/*", "arn:aws:s3:::home/alice/f",
     {}, True),
    ("multivalued key cannot be substituted", "arn:aws:s3:::bucket/${aws:TagKeys}", "arn:aws:s3:::bucket/a",
     {"aws:TagKeys": ["a"]}, False),
]


@pytest.mark.parametrize(("note", "resource", "requested", "keys", "applies"), VARIABLE_CASES,
                         ids=[c[0] for c in VARIABLE_CASES])
def test_variables_in_resources(note: str, resource: str, requested: str, keys: dict[str, Any],
                                applies: bool) -> None:
    assert decide([doc(allow("s3:*", resource))], ctx("s3:GetObject", requested, keys=keys)).allowed is applies


def test_variables_are_literal_in_2008_policies() -> None:
    policy = doc(allow("s3:*", "arn:aws:s3:::home/${aws:username}/*"), version="2008-10-17")
    assert not decide([policy], ctx("s3:GetObject", "arn:aws:s3:::home/alice/f")).allowed
    assert decide([policy], ctx("s3:GetObject", "arn:aws:s3:::home/${aws:username}/f")).allowed


def test_variables_default_to_literal_without_version() -> None:
    policy = doc(allow("s3:*", "arn:aws:s3:::home/${aws:username}/*"), version=None)
    assert not decide([policy], ctx("s3:GetObject", "arn:aws:s3:::home/alice/f")).allowed


def test_userid_variable_when_known() -> None:
    policy = doc(allow("s3:*", "arn:aws:s3:::home/${aws:userid}/*"))
    request = ctx("s3:GetObject", "arn:aws:s3:::home/AIDAEXAMPLE/f", user_id="AIDAEXAMPLE")
    assert decide([policy], request).allowed


CONDITION_VARIABLE_CASES: list[tuple[str, dict[str, Any], dict[str, Any], bool]] = [
    ("StringLike with aws:username", {"StringLike": {"s3:prefix": ["home/${aws:username}/*"]}},
     {"s3:prefix": "home/alice/x"}, True),
    ("StringLike: substituted text is literal", {"StringLike": {"s3:prefix": ["${aws:PrincipalTag/p}"]}},
     {"s3:prefix": "abc", "aws:PrincipalTag/p": "a*"}, False),
    ("StringEquals with tag", {"StringEquals": {"aws:ResourceTag/team": "${aws:PrincipalTag/team}"}},
     {"aws:ResourceTag/team": "dev", "aws:PrincipalTag/team": "dev"}, True),
    ("StringEquals with unresolvable variable is false",
     {"StringEquals": {"aws:ResourceTag/team": "${aws:PrincipalTag/team}"}}, {"aws:ResourceTag/team": "dev"},
     False),
    # IAM User Guide, "Policy variables with no value": inverted operators match against the null value.
    ("StringNotEquals with a variable with no value matches",
     {"StringNotEquals": {"aws:ResourceTag/team": "${aws:PrincipalTag/team}"}}, {"aws:ResourceTag/team": "dev"},
     True),
    ("StringNotEqualsIgnoreCase with a variable with no value matches",
     {"StringNotEqualsIgnoreCase": {"aws:ResourceTag/team": "${aws:PrincipalTag/team}"}},
     {"aws:ResourceTag/team": "dev"}, True),
    ("StringNotLike with a variable with no value matches",
     {"StringNotLike": {"s3:prefix": "home/${aws:PrincipalTag/home}/*"}}, {"s3:prefix": "home/x/y"}, True),
    ("StringLike with a variable with no value does not",
     {"StringLike": {"s3:prefix": "home/${aws:PrincipalTag/home}/*"}}, {"s3:prefix": "home/x/y"}, False),
    ("ArnNotLike with a variable with no value matches",
     {"ArnNotLike": {"aws:SourceArn": "arn:aws:sns:*:*:${aws:PrincipalTag/topic}"}},
     {"aws:SourceArn": "arn:aws:sns:us-east-1:1:t"}, True),
    ("ArnLike with a variable with no value does not",
     {"ArnLike": {"aws:SourceArn": "arn:aws:sns:*:*:${aws:PrincipalTag/topic}"}},
     {"aws:SourceArn": "arn:aws:sns:us-east-1:1:t"}, False),
    ("StringNotEquals: a value that resolves still counts",
     {"StringNotEquals": {"aws:ResourceTag/team": ["${aws:PrincipalTag/team}", "dev"]}},
     {"aws:ResourceTag/team": "dev"}, False),
    ("ForAllValues:StringNotEquals with a variable with no value matches",
     {"ForAllValues:StringNotEquals": {"aws:TagKeys": "${aws:PrincipalTag/k}"}}, {"aws:TagKeys": ["a", "b"]}, True),
    ("ForAllValues:StringEquals with a variable with no value does not",
     {"ForAllValues:StringEquals": {"aws:TagKeys": "${aws:PrincipalTag/k}"}}, {"aws:TagKeys": ["a"]}, False),
    ("ForAnyValue:StringNotLike with a variable with no value matches",
     {"ForAnyValue:StringNotLike": {"aws:TagKeys": "${aws:PrincipalTag/k}*"}}, {"aws:TagKeys": ["a"]}, True),
    ("ArnLike with variable", {"ArnLike": {"aws:SourceArn": "arn:aws:sns:*:*:${aws:username}-*"}},
     {"aws:SourceArn": "arn:aws:sns:us-east-1:1:alice-topic"}, True),
    ("Bool with variable", {"Bool": {"aws:SecureTransport": "${aws:PrincipalTag/tls}"}},
     {"aws:SecureTransport": "true", "aws:PrincipalTag/tls": "true"}, True),
    ("default value in a condition", {"StringEquals": {"aws:ResourceTag/team": "${aws:PrincipalTag/team, 'none'}"}},
     {"aws:ResourceTag/team": "none"}, True),
]


@pytest.mark.parametrize(("note", "condition", "keys", "applies"), CONDITION_VARIABLE_CASES,
                         ids=[c[0] for c in CONDITION_VARIABLE_CASES])
def test_variables_in_conditions(note: str, condition: dict[str, Any], keys: dict[str, Any], applies: bool) -> None:
    assert decide([doc(allow(Condition=condition))], ctx(keys=keys)).allowed is applies


def test_principal_derived_keys() -> None:
    """aws:username, aws:PrincipalArn, aws:PrincipalAccount and aws:PrincipalType come from the principal."""
    policy = doc(allow(Condition={"StringEquals": {
        "aws:username": "alice", "aws:PrincipalArn": f"arn:aws:iam::{ACCOUNT}:user/alice",
        "aws:PrincipalAccount": ACCOUNT, "aws:PrincipalType": "User"}}))
    assert decide([policy], ctx()).allowed


def test_role_session_principal_arn_is_the_role() -> None:
    policy = doc(allow(Condition={"ArnEquals": {"aws:PrincipalArn": f"arn:aws:iam::{ACCOUNT}:role/app"}},
                       ), allow(Condition={"Null": {"aws:username": "true"}}))
    request = ctx(principal=f"arn:aws:sts::{ACCOUNT}:assumed-role/app/s1")
    decision = decide([policy], request)
    assert decision.allowed and len(decision.matched) == 2


def test_given_keys_win_over_derived_ones() -> None:
    policy = doc(allow(Condition={"StringEquals": {"aws:username": "mallory"}}))
    assert decide([policy], ctx(keys={"aws:username": "mallory"})).allowed


def test_a_resource_variable_with_no_value_matches_no_resource() -> None:
    """IAM User Guide, "Policy variables with no value": such a Resource entry matches no resource, so as a
    NotResource entry it excludes nothing: "deny all but your home" denies the home too without aws:username."""
    home = "arn:aws:s3:::bucket/home/${aws:username}/*"
    role = f"arn:aws:sts::{ACCOUNT}:assumed-role/app/s1"
    request = ctx("s3:GetObject", "arn:aws:s3:::bucket/home/app/x", principal=role)
    assert not decide([doc(allow("s3:*", home))], request).allowed
    guarded = [doc(allow("s3:*", "*"), {"Effect": "Deny", "Action": "s3:*", "NotResource": home})]
    assert decide(guarded, request).kind.value == "ExplicitDeny"
    assert decide(guarded, ctx("s3:GetObject", "arn:aws:s3:::bucket/home/alice/x")).allowed
