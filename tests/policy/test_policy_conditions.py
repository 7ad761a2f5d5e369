"""Every condition operator against the outcome AWS documents ("IAM JSON policy elements: Condition operators",
"Single-valued vs. multivalued context keys"). Each case: note, operator, key, policy values, request value
(None = key absent), whether the Allow statement applies."""

from __future__ import annotations

from typing import Any

import pytest

from ._support import allow, ctx, decide, doc

ABSENT = None

CASES: list[tuple[str, str, str, Any, Any, bool]] = [
    # String
    ("StringEquals exact", "StringEquals", "aws:PrincipalTag/team", "dev", "dev", True),
    ("StringEquals is case-sensitive", "StringEquals", "aws:PrincipalTag/team", "dev", "Dev", False),
    ("StringEquals values are OR'd", "StringEquals", "aws:PrincipalTag/team", ["ops", "dev"], "dev", True),
    ("StringEquals has no wildcards", "StringEquals", "aws:PrincipalTag/team", "d*", "dev", False),
    ("StringEquals missing key is false", "StringEquals", "aws:PrincipalTag/team", "dev", ABSENT, False),
    ("StringNotEquals differs", "StringNotEquals", "aws:PrincipalTag/team", "dev", "ops", True),
    ("StringNotEquals equal", "StringNotEquals", "aws:PrincipalTag/team", "dev", "dev", False),
    ("StringNotEquals missing key is true", "StringNotEquals", "aws:PrincipalTag/team", "dev", ABSENT, True),
    ("StringNotEquals against any of the values", "StringNotEquals", "aws:PrincipalTag/team", ["a", "b"], "b",
     False),
    ("StringEqualsIgnoreCase", "StringEqualsIgnoreCase", "aws:PrincipalTag/team", "DEV", "dev", True),
    ("StringNotEqualsIgnoreCase equal ignoring case", "StringNotEqualsIgnoreCase", "aws:PrincipalTag/team", "DEV",
     "dev", False),
    ("StringNotEqualsIgnoreCase differs", "StringNotEqualsIgnoreCase", "aws:PrincipalTag/team", "DEV", "ops",
     True),
    ("StringLike star", "StringLike", "s3:prefix", "home/*", "home/alice/x", True),
    ("StringLike question mark", "StringLike", "s3:prefix", "h?me", "home", True),
    ("StringLike question mark is one char", "StringLike", "s3:prefix", "h?me", "hoome", False),
    ("StringLike is case-sensitive", "StringLike", "s3:prefix", "home/*", "HOME/x", False),
    ("StringLike empty value matches empty", "StringLike", "s3:prefix", ["", "home/"], "", True),
    ("StringNotLike", "StringNotLike", "s3:prefix", "home/*", "work/x", True),
    ("StringNotLike matching", "StringNotLike", "s3:prefix", "home/*", "home/x", False),
    ("StringNotLike missing key is true", "StringNotLike", "s3:prefix", "home/*", ABSENT, True),
    # Numeric
    ("NumericEquals", "NumericEquals", "s3:max-keys", "10", "10", True),
    ("NumericEquals decimal", "NumericEquals", "s3:max-keys", "10", "10.0", True),
    ("NumericNotEquals", "NumericNotEquals", "s3:max-keys", "10", "11", True),
    ("NumericLessThan", "NumericLessThan", "s3:max-keys", "10", "9", True),
    ("NumericLessThan equal is false", "NumericLessThan", "s3:max-keys", "10", "10", False),
    ("NumericLessThanEquals", "NumericLessThanEquals", "s3:max-keys", "10", "10", True),
    ("NumericGreaterThan", "NumericGreaterThan", "s3:max-keys", "10", "11", True),
    ("NumericGreaterThanEquals", "NumericGreaterThanEquals", "s3:max-keys", "10", "9", False),
    ("Numeric value that is not a number matches nothing", "NumericLessThan", "s3:max-keys", "10", "ten", False),
    ("Numeric JSON number in policy", "NumericEquals", "s3:max-keys", 10, "10", True),
    # Date
    ("DateLessThan ISO", "DateLessThan", "aws:CurrentTime", "2027-01-01T00:00:00Z", "2026-06-01T00:00:00Z", True),
    ("DateLessThan after", "DateLessThan", "aws:CurrentTime", "2027-01-01T00:00:00Z", "2027-06-01T00:00:00Z",
     False),
    ("DateGreaterThan with offset", "DateGreaterThan", "aws:CurrentTime", "2020-01-01T00:00:00Z",
     "2020-01-01T01:00:00+00:30", True),
    ("DateEquals same instant in two formats", "DateEquals", "aws:CurrentTime", "2020-01-01T00:00:00Z",
     "1577836800", True),
    ("DateNotEquals", "DateNotEquals", "aws:CurrentTime", "2020-01-01T00:00:00Z", "2020-01-02T00:00:00Z", True),
    ("DateLessThanEquals epoch policy value", "DateLessThanEquals", "aws:EpochTime", "1577836800", "1577836800",
     True),
    ("DateGreaterThanEquals date only", "DateGreaterThanEquals", "aws:CurrentTime", "2020-01-01",
     "2020-01-01T00:00:00Z", True),
    ("Date missing key is false", "DateLessThan", "aws:TokenIssueTime", "2027-01-01T00:00:00Z", ABSENT, False),
    # Bool
    ("Bool true", "Bool", "aws:MultiFactorAuthPresent", "true", "true", True),
    ("Bool is case-insensitive", "Bool", "aws:MultiFactorAuthPresent", "true", "True", True),
    ("Bool false vs true", "Bool", "aws:MultiFactorAuthPresent", "false", "true", False),
    ("Bool JSON boolean in policy", "Bool", "aws:SecureTransport", True, "true", True),
    ("Bool missing key is false", "Bool", "aws:MultiFactorAuthPresent", "false", ABSENT, False),
    ("BoolIfExists missing key is true", "BoolIfExists", "aws:MultiFactorAuthPresent", "false", ABSENT, True),
    # Binary
    ("BinaryEquals base64", "BinaryEquals", "ex:blob", "QmluYXJ5VmFsdWU=", "QmluYXJ5VmFsdWU=", True),
    ("BinaryEquals differs", "BinaryEquals", "ex:blob", "QmluYXJ5VmFsdWU=", "T3RoZXI=", False),
    # IP
    ("IpAddress in CIDR", "IpAddress", "aws:SourceIp", "203.0.113.0/24", "203.0.113.5", True),
    ("IpAddress outside CIDR", "IpAddress", "aws:SourceIp", "203.0.113.0/24", "203.0.114.5", False),
    ("IpAddress single address is /32", "IpAddress", "aws:SourceIp", "203.0.113.5", "203.0.113.5", True),
    ("IpAddress IPv6", "IpAddress", "aws:SourceIp", "2001:DB8:1234:5678::/64", "2001:db8:1234:5678::1", True),
    ("IpAddress IPv6 outside", "IpAddress", "aws:SourceIp", "2001:DB8:1234:5678::/64", "2001:db8:1234:9999::1",
     False),
    ("IpAddress mixed families", "IpAddress", "aws:SourceIp", ["203.0.113.0/24", "2001:DB8::/32"], "2001:db8::5",
     True),
    ("IpAddress IPv4 never matches IPv6 range", "IpAddress", "aws:SourceIp", "::/0", "10.0.0.1", False),
    ("IpAddress not an address", "IpAddress", "aws:SourceIp", "0.0.0.0/0", "not-an-ip", False),
    ("NotIpAddress outside", "NotIpAddress", "aws:SourceIp", "203.0.113.0/24", "198.51.100.1", True),
    ("NotIpAddress inside", "NotIpAddress", "aws:SourceIp", "203.0.113.0/24", "203.0.113.9", False),
    ("NotIpAddress missing key is true", "NotIpAddress", "aws:SourceIp", "203.0.113.0/24", ABSENT, True),
    # ARN
    ("ArnEquals exact", "ArnEquals", "aws:SourceArn", "arn:aws:sns:us-east-1:123456789012:topic",
     "arn:aws:sns:us-east-1:123456789012:topic", True),
    ("ArnLike wildcard in region", "ArnLike", "aws:SourceArn", "arn:aws:sns:*:123456789012:topic",
     "arn:aws:sns:eu-west-1:123456789012:topic", True),
    ("ArnLike segment-wise (docs example)", "ArnLike", "aws:SourceArn", "arn:aws:someservice:*:111122223333:finance/*",
     "arn:aws:someservice:us-east-2:999999999999:store/abc:111122223333:finance/document.txt", False),
    ("StringLike crosses segments (docs example)", "StringLike", "aws:SourceArn",
     "arn:aws:someservice:*:111122223333:finance/*",
     "arn:aws:someservice:us-east-2:999999999999:store/abc:111122223333:finance/document.txt", True),
    ("ArnEquals also takes wildcards", "ArnEquals", "aws:SourceArn", "arn:aws:sns:*:*:top?c",
     "arn:aws:sns:us-east-1:123456789012:topic", True),
    ("ArnNotLike", "ArnNotLike", "aws:SourceArn", "arn:aws:sns:*:*:*", "arn:aws:sqs:us-east-1:1:q", True),
    ("ArnNotEquals matching", "ArnNotEquals", "aws:SourceArn", "arn:aws:sns:*:*:*", "arn:aws:sns:us-east-1:1:t",
     False),
    ("ArnNotLike missing key is true", "ArnNotLike", "aws:SourceArn", "arn:aws:sns:*:*:*", ABSENT, True),
    ("ArnLike missing key is false", "ArnLike", "aws:SourceArn", "arn:aws:sns:*:*:*", ABSENT, False),
    # Null
    ("Null true when absent", "Null", "aws:TokenIssueTime", "true", ABSENT, True),
    ("Null true when present", "Null", "aws:TokenIssueTime", "true", "2020-01-01T00:00:00Z", False),
    ("Null false when present", "Null", "aws:TokenIssueTime", "false", "2020-01-01T00:00:00Z", True),
    ("Null false when absent", "Null", "aws:TokenIssueTime", "false", ABSENT, False),
    ("Null with JSON boolean", "Null", "aws:TokenIssueTime", True, ABSENT, True),
    # IfExists
    ("StringEqualsIfExists present and equal", "StringEqualsIfExists", "ec2:InstanceType", "t2.micro", "t2.micro",
     True),
    ("StringEqualsIfExists present and different", "StringEqualsIfExists", "ec2:InstanceType", "t2.micro",
     "m5.large", False),
    ("StringLikeIfExists absent", "StringLikeIfExists", "ec2:InstanceType", "t2.*", ABSENT, True),
    ("NumericLessThanIfExists absent", "NumericLessThanIfExists", "s3:max-keys", "10", ABSENT, True),
    # Set operators
    ("ForAllValues every value allowed", "ForAllValues:StringEquals", "aws:TagKeys", ["a", "b", "c"], ["a", "b"],
     True),
    ("ForAllValues one value not allowed", "ForAllValues:StringEquals", "aws:TagKeys", ["a", "b"], ["a", "x"],
     False),
    ("ForAllValues missing key is true", "ForAllValues:StringEquals", "aws:TagKeys", ["a"], ABSENT, True),
    ("ForAllValues empty set is true", "ForAllValues:StringEquals", "aws:TagKeys", ["a"], [], True),
    ("ForAnyValue one value matches", "ForAnyValue:StringEquals", "aws:TagKeys", ["a"], ["x", "a"], True),
    ("ForAnyValue no value matches", "ForAnyValue:StringEquals", "aws:TagKeys", ["a"], ["x", "y"], False),
    ("ForAnyValue missing key is false", "ForAnyValue:StringEquals", "aws:TagKeys", ["a"], ABSENT, False),
    ("ForAnyValue empty set is false", "ForAnyValue:StringEquals", "aws:TagKeys", ["a"], [], False),
    ("ForAnyValue negated missing key is false", "ForAnyValue:StringNotEquals", "aws:TagKeys", ["a"], ABSENT,
     False),
    ("ForAllValues negated: none of the forbidden", "ForAllValues:StringNotEquals", "aws:TagKeys", ["secret"],
     ["a", "b"], True),
    ("ForAllValues negated: one forbidden", "ForAllValues:StringNotEquals", "aws:TagKeys", ["secret"],
     ["a", "secret"], False),
    ("ForAnyValue negated: one value outside", "ForAnyValue:StringNotEquals", "aws:TagKeys", ["a"], ["a", "b"],
     True),
    ("ForAnyValue StringLike", "ForAnyValue:StringLike", "aws:TagKeys", ["env*"], ["owner", "environment"], True),
    ("ForAllValues single-valued key as a set of one", "ForAllValues:StringEquals", "aws:PrincipalTag/team",
     ["dev"], "dev", True),
    ("ForAllValuesIfExists missing", "ForAllValues:StringEqualsIfExists", "aws:TagKeys", ["a"], ABSENT, True),
    ("single-valued operator, multivalued key: any value", "StringEquals", "aws:TagKeys", "a", ["x", "a"], True),
    ("negated single-valued operator, multivalued key: none", "StringNotEquals", "aws:TagKeys", "a", ["x", "a"],
     False),
]


@pytest.mark.parametrize(("note", "operator", "key", "values", "request_value", "applies"), CASES,
                         ids=[c[0] for c in CASES])
def test_operator(note: str, operator: str, key: str, values: Any, request_value: Any, applies: bool) -> None:
    policy = doc(allow(Condition={operator: {key: values}}))
    keys = {} if request_value is None else {key: request_value}
    decision = decide([policy], ctx(keys=keys))
    assert decision.allowed is applies, note


def test_keys_and_operators_are_anded() -> None:
    """Several keys in one operator and several operators must all hold."""
    policy = doc(allow(Condition={
        "StringEquals": {"aws:PrincipalTag/team": "dev", "aws:PrincipalTag/env": "prod"},
        "Bool": {"aws:MultiFactorAuthPresent": "true"},
    }))
    good = {"aws:PrincipalTag/team": "dev", "aws:PrincipalTag/env": "prod", "aws:MultiFactorAuthPresent": "true"}
    assert decide([policy], ctx(keys=good)).allowed
    for drop in good:
        keys = {k: v for k, v in good.items() if k != drop}
        assert not decide([policy], ctx(keys=keys)).allowed, drop


def test_condition_key_names_are_case_insensitive() -> None:
    policy = doc(allow(Condition={"StringEquals": {"AWS:principaltag/TEAM": "dev"}}))
    assert decide([policy], ctx(keys={"aws:PrincipalTag/team": "dev"})).allowed


def test_operator_names_with_odd_case_are_read() -> None:
    policy = doc(allow(Condition={"stringequals": {"aws:PrincipalTag/team": "dev"}}))
    assert decide([policy], ctx(keys={"aws:PrincipalTag/team": "dev"})).allowed


def test_deny_with_negated_operator_applies_when_key_missing() -> None:
    """AWS: with Deny and StringNotEqualsIfExists ... the request is still denied even if the tag is missing."""
    policy = doc(allow(), {"Effect": "Deny", "Action": "*", "Resource": "*",
                           "Condition": {"StringNotEquals": {"aws:PrincipalTag/team": "dev"}}})
    assert decide([policy], ctx()).kind.value == "ExplicitDeny"


def test_missing_keys_are_reported() -> None:
    policy = doc(allow(Condition={"StringEquals": {"aws:PrincipalTag/team": "dev"},
                                  "IpAddress": {"aws:SourceIp": "10.0.0.0/8"}}))
    decision = decide([policy], ctx(keys={"aws:SourceIp": "10.1.1.1"}))
    assert decision.missing_keys == ("aws:PrincipalTag/team",)
