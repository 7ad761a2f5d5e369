"""Validation: every problem reported, located, in IAM's MalformedPolicyDocument wording, per policy kind."""

from __future__ import annotations

import json
from typing import Any

import pytest

from gatehouse.policy import PolicyError, PolicyKind, parse, validate

from ._support import allow, doc

K = PolicyKind
TRUST_OK = {"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}

CASES: list[tuple[str, Any, PolicyKind, str, str]] = [
    ("identity policy names a principal", doc(allow(Principal="*")), K.IDENTITY, "UNSUPPORTED_PRINCIPAL",
     "Policy document should not specify a principal."),
    ("missing Effect", doc({"Action": "*", "Resource": "*"}), K.IDENTITY, "MISSING_EFFECT",
     "Missing required field Effect"),
    ("bad Effect", doc({"Effect": "allow", "Action": "*", "Resource": "*"}), K.IDENTITY, "INVALID_EFFECT",
     "Invalid effect: allow"),
    ("no actions", doc({"Effect": "Allow", "Resource": "*"}), K.IDENTITY, "MISSING_ACTION",
     "Policy statement must contain actions."),
    ("no resources", doc({"Effect": "Allow", "Action": "*"}), K.IDENTITY, "MISSING_RESOURCE",
     "Policy statement must contain resources."),
    ("action without vendor", doc(allow("GetObject")), K.IDENTITY, "INVALID_ACTION",
     "Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc."),
    ("action with two colons", doc(allow("s3:Get:Object")), K.IDENTITY, "INVALID_ACTION",
     "Actions/Condition can contain only one colon."),
    ("bad vendor", doc(allow("s 3:Get")), K.IDENTITY, "INVALID_SERVICE", "Vendor s 3 is not valid"),
    ("condition key without vendor", doc(allow(Condition={"StringEquals": {"team": "x"}})), K.IDENTITY,
     "INVALID_CONDITION_KEY_FORMAT", "Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc."),
    ("unknown version", {"Version": "2013-01-01", "Statement": [allow()]}, K.IDENTITY, "INVALID_VERSION",
     "The policy failed legacy parsing"),
    ("unknown top-level field", {"Version": "2012-10-17", "Statment": [allow()]}, K.IDENTITY,
     "INVALID_POLICY_ELEMENT", "Has prohibited field Statment"),
    ("unknown statement field", doc(allow(Actions="*")), K.IDENTITY, "INVALID_POLICY_ELEMENT",
     "Has prohibited field Actions"),
    ("duplicate Sids", doc(allow(Sid="A"), allow(Sid="A")), K.IDENTITY, "UNIQUE_SIDS_REQUIRED",
     "Statement IDs (SID) in a single policy must be unique."),
    ("invalid operator", doc(allow(Condition={"StringEqualz": {"aws:username": "x"}})), K.IDENTITY,
     "INVALID_CONDITION_OPERATOR", "Syntax errors in policy. Invalid condition operator StringEqualz"),
    ("Null cannot take IfExists", doc(allow(Condition={"NullIfExists": {"aws:username": "true"}})), K.IDENTITY,
     "INVALID_CONDITION_OPERATOR", "Syntax errors in policy. Invalid condition operator NullIfExists"),
    ("bad date", doc(allow(Condition={"DateLessThan": {"aws:CurrentTime": "tomorrow"}})), K.IDENTITY,
     "INVALID_CONDITION_DATA_TYPE", "Syntax errors in policy. Invalid value tomorrow for this condition operator"),
    ("bad CIDR", doc(allow(Condition={"IpAddress": {"aws:SourceIp": "10.0.0.0/33"}})), K.IDENTITY,
     "INVALID_CONDITION_DATA_TYPE", "Syntax errors in policy. Invalid value 10.0.0.0/33 for this condition operator"),
    ("variable with numeric operator", doc(allow(Condition={"NumericLessThan": {"s3:max-keys": "${aws:x}"}})),
     K.IDENTITY, "INVALID_VARIABLE_FOR_OPERATOR",
     "Syntax errors in policy. Policy variables cannot be used with this condition operator"),
    ("unclosed variable", doc(allow("s3:*", "arn:aws:s3:::b/${aws:username")), K.IDENTITY, "INVALID_VARIABLE",
     "Syntax errors in policy. Missing closing brace in policy variable: ${aws:username"),
    ("resource not an ARN", doc(allow("s3:*", "bucket/*")), K.IDENTITY, "INVALID_ARN",
     'Resource bucket/* must be in ARN format or "*".'),
    ("bad partition", doc(allow("s3:*", "arn:awz:s3:::b")), K.IDENTITY, "INVALID_PARTITION",
     'Partition "awz" is not valid for resource "arn:awz:s3:::b".'),
    ("missing vendor in resource", doc(allow("s3:*", "arn:aws::::b")), K.IDENTITY, "INVALID_ARN_SERVICE",
     "Resource vendor must be fully qualified and cannot contain regexes."),
    ("resource policy needs a principal", doc(allow()), K.RESOURCE, "MISSING_PRINCIPAL",
     "Missing required field Principal"),
    ("invalid AWS principal", doc(allow(Principal={"AWS": "arn:aws:iam::123456789012:user/*"})), K.RESOURCE,
     "INVALID_PRINCIPAL_FORMAT", 'Invalid principal in policy: "AWS":"arn:aws:iam::123456789012:user/*"'),
    ("invalid service principal", doc(allow(Principal={"Service": "ec2"})), K.RESOURCE, "INVALID_PRINCIPAL_FORMAT",
     'Invalid principal in policy: "SERVICE":"ec2"'),
    ("unknown principal type", doc(allow(Principal={"User": "x"})), K.RESOURCE, "INVALID_PRINCIPAL_KEY",
     'Invalid principal in policy: "User"'),
    ("trust policy has no resource", doc(dict(TRUST_OK, Resource="*")), K.TRUST, "UNSUPPORTED_ELEMENT",
     "Has prohibited field Resource"),
    ("trust policy actions", doc({**TRUST_OK, "Action": "s3:GetObject"}), K.TRUST, "INVALID_ACTION",
     "AssumeRole policy may only specify STS AssumeRole actions."),
    ("SCP cannot name a principal", doc(allow(Principal="*")), K.SCP, "SCP_SYNTAX_ERROR_PRINCIPAL",
     "Has prohibited field Principal"),
    ("RCP principal must be *", doc({"Effect": "Deny", "Principal": {"AWS": "123456789012"}, "Action": "s3:*",
                                     "Resource": "*"}), K.RCP, "RCP_SYNTAX_ERROR_PRINCIPAL",
     'RCP statements must specify "Principal": "*".'),
    ("RCP allow only for RCPFullAWSAccess", doc({"Effect": "Allow", "Principal": "*", "Action": "s3:*",
                                                 "Resource": "*"}), K.RCP, "RCP_SYNTAX_ERROR_ALLOW",
     "RCPs support only the Deny effect (Allow is reserved for RCPFullAWSAccess)."),
    ("RCP needs version 2012-10-17", {"Statement": [{"Effect": "Deny", "Principal": "*", "Action": "s3:*",
                                                     "Resource": "*"}]}, K.RCP, "MISSING_VERSION",
     "Policy document must be version 2012-10-17 or greater."),
    ("boundary uses identity grammar", doc(allow(Principal="*")), K.BOUNDARY, "UNSUPPORTED_PRINCIPAL",
     "Policy document should not specify a principal."),
    ("session policy uses identity grammar", doc({"Effect": "Allow", "Action": "*"}), K.SESSION, "MISSING_RESOURCE",
     "Policy statement must contain resources."),
    ("wrong type for Action", doc(allow(action={"a": 1})), K.IDENTITY, "DATA_TYPE_MISMATCH",
     "Syntax errors in policy."),
]


@pytest.mark.parametrize(("note", "document", "kind", "code", "message"), CASES, ids=[c[0] for c in CASES])
def test_problem(note: str, document: Any, kind: PolicyKind, code: str, message: str) -> None:
    problems = validate(json.dumps(document), kind=kind)
    assert (code, message) in [(p.code, p.message) for p in problems], problems


VALID = [
    ("identity", doc(allow("s3:Get*", "arn:aws:s3:::b/*")), K.IDENTITY),
    ("single statement object", {"Version": "2012-10-17", "Statement": allow()}, K.IDENTITY),
    ("2008 version", {"Version": "2008-10-17", "Statement": [allow()]}, K.IDENTITY),
    ("no version", {"Statement": [allow()]}, K.IDENTITY),
    ("resource policy", doc(allow(Principal={"AWS": ["123456789012", "arn:aws:iam::123456789012:role/r"]})),
     K.RESOURCE),
    ("assumed-role principal", doc(allow(Principal={"AWS": "arn:aws:sts::123456789012:assumed-role/r/s"})),
     K.RESOURCE),
    ("canonical user", doc(allow(Principal={"CanonicalUser": "79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d52"})),
     K.RESOURCE),
    ("trust policy", doc(TRUST_OK), K.TRUST),
    ("web identity trust", doc({"Effect": "Allow", "Principal": {"Federated": "accounts.google.com"},
                                "Action": "sts:AssumeRoleWithWebIdentity"}), K.TRUST),
    ("RCPFullAWSAccess", doc({"Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*"}), K.RCP),
    ("SCP with NotAction", doc({"Effect": "Deny", "NotAction": "iam:*", "Resource": "*"}), K.SCP),
    ("all operators", doc(allow(Condition={
        "ForAnyValue:StringLike": {"aws:TagKeys": ["a*"]}, "NumericLessThanEquals": {"s3:max-keys": 10},
        "DateGreaterThan": {"aws:CurrentTime": "2020-01-01T00:00:00Z"}, "Bool": {"aws:SecureTransport": True},
        "BinaryEquals": {"ex:b": "QQ=="}, "NotIpAddress": {"aws:SourceIp": "2001:db8::/32"},
        "ArnLike": {"aws:SourceArn": "arn:aws:sns:*:*:t"}, "Null": {"aws:TokenIssueTime": "true"}})), K.IDENTITY),
]


@pytest.mark.parametrize(("note", "document", "kind"), VALID, ids=[v[0] for v in VALID])
def test_valid(note: str, document: Any, kind: PolicyKind) -> None:
    assert validate(json.dumps(document), kind=kind) == []
    assert validate(document, kind=kind) == []


def test_all_problems_are_reported_with_locations() -> None:
    text = ('{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject"},\n'
            ' {"Effect": "Perhaps", "Action": "*", "Resource": "*"}]}')
    problems = validate(text)
    assert [(p.path, p.code, p.line) for p in problems] == [
        ("/Statement/0", "MISSING_RESOURCE", 1), ("/Statement/1/Effect", "INVALID_EFFECT", 2)]
    assert problems[1].column == 13


def test_invalid_json_is_located() -> None:
    (problem,) = validate('{"Version": "2012-10-17",\n "Statement": [}')
    assert (problem.code, problem.message, problem.line) == ("JSON_SYNTAX_ERROR", "This policy contains invalid Json",
                                                             2)


def test_duplicate_keys_are_problems() -> None:
    problems = validate('{"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Effect": "Deny", '
                        '"Action": "*", "Resource": "*"}}')
    assert [p.code for p in problems] == ["DUPLICATE_KEY"]
    assert problems[0].path == "/Statement/Effect"


def test_parse_raises_with_every_problem() -> None:
    with pytest.raises(PolicyError) as info:
        parse(doc({"Effect": "Allow"}, {"Effect": "Nope", "Action": "x", "Resource": "*"}))
    codes = [d.code for d in info.value.diagnostics]
    assert codes == ["MISSING_ACTION", "MISSING_RESOURCE", "INVALID_EFFECT", "INVALID_ACTION"]
    assert info.value.message == "Policy statement must contain actions."
