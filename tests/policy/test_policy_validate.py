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
    # AWS: a missing Effect is a syntax error (LocalStack's AWS-validated test_iam_policies.snapshot.json,
    # invalid-31); "allow" passes the syntax check and fails legacy parsing (invalid-63, invalid-69).
    ("missing Effect", doc({"Action": "*", "Resource": "*"}), K.IDENTITY, "MISSING_EFFECT",
     "Syntax errors in policy."),
    ("bad Effect", doc({"Effect": "allow", "Action": "*", "Resource": "*"}), K.IDENTITY, "INVALID_EFFECT",
     "The policy failed legacy parsing"),
    ("nonsense Effect", doc({"Effect": "Perhaps", "Action": "*", "Resource": "*"}), K.IDENTITY, "INVALID_EFFECT",
     "Syntax errors in policy."),
    ("no actions", doc({"Effect": "Allow", "Resource": "*"}), K.IDENTITY, "MISSING_ACTION",
     "Policy statement must contain actions."),
    ("no resources", doc({"Effect": "Allow", "Action": "*"}), K.IDENTITY, "MISSING_RESOURCE",
     "Policy statement must contain resources."),
    ("action without vendor", doc(allow("GetObject")), K.IDENTITY, "INVALID_ACTION",
     "Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc."),
    ("action with two colons", doc(allow("s3:Get:Object")), K.IDENTITY, "INVALID_ACTION",
     "Actions/Condition can contain only one colon."),
    ("bad vendor", doc(allow("s 3:Get")), K.IDENTITY, "INVALID_SERVICE", "Vendor s 3 is not valid"),
    # A condition key needs no vendor prefix: AWS accepts {"StringEqualsIfExists": {"a": "asf"}} (valid-32), so
    # that case moved to VALID. An unknown version and unknown elements are syntax errors (invalid-3, -6, -7).
    ("unknown version", {"Version": "2013-01-01", "Statement": [allow()]}, K.IDENTITY, "INVALID_VERSION",
     "Syntax errors in policy."),
    ("unknown top-level field", {"Version": "2012-10-17", "Statment": [allow()]}, K.IDENTITY,
     "INVALID_POLICY_ELEMENT", "Syntax errors in policy."),
    ("unknown statement field", doc(allow(Actions="*")), K.IDENTITY, "INVALID_POLICY_ELEMENT",
     "Syntax errors in policy."),
    ("duplicate Sids", doc(allow(Sid="A"), allow(Sid="A")), K.IDENTITY, "UNIQUE_SIDS_REQUIRED",
     "Statement IDs (SID) in a single policy must be unique."),
    # AWS's syntax message is the bare sentence (an unknown operator: invalid-52); what is wrong is in `detail`.
    ("invalid operator", doc(allow(Condition={"StringEqualz": {"aws:username": "x"}})), K.IDENTITY,
     "INVALID_CONDITION_OPERATOR", "Syntax errors in policy."),
    ("Null cannot take IfExists", doc(allow(Condition={"NullIfExists": {"aws:username": "true"}})), K.IDENTITY,
     "INVALID_CONDITION_OPERATOR", "Syntax errors in policy."),
    # A date IAM's parser cannot read fails legacy parsing (invalid-64: "sdfdsf").
    ("bad date", doc(allow(Condition={"DateLessThan": {"aws:CurrentTime": "tomorrow"}})), K.IDENTITY,
     "INVALID_CONDITION_DATA_TYPE", "The policy failed legacy parsing"),
    ("bad CIDR", doc(allow(Condition={"IpAddress": {"aws:SourceIp": "10.0.0.0/33"}})), K.IDENTITY,
     "INVALID_CONDITION_DATA_TYPE", "Syntax errors in policy."),
    ("variable with numeric operator", doc(allow(Condition={"NumericLessThan": {"s3:max-keys": "${aws:x}"}})),
     K.IDENTITY, "INVALID_VARIABLE_FOR_OPERATOR", "Syntax errors in policy."),
    ("unclosed variable", doc(allow("s3:*", "arn:aws:s3:::b/${aws:username")), K.IDENTITY, "INVALID_VARIABLE",
     "Syntax errors in policy."),
    ("resource not an ARN", doc(allow("s3:*", "bucket/*")), K.IDENTITY, "INVALID_ARN",
     'Resource bucket/* must be in ARN format or "*".'),
    ("bad partition", doc(allow("s3:*", "arn:awz:s3:::b")), K.IDENTITY, "INVALID_PARTITION",
     'Partition "awz" is not valid for resource "arn:awz:s3:::b".'),
    # An ARN without a vendor segment: "arn:aws" (invalid-38); an empty one fails legacy parsing (invalid-68).
    ("missing vendor in resource", doc(allow("s3:*", "arn:aws")), K.IDENTITY, "INVALID_ARN_SERVICE",
     "Resource vendor must be fully qualified and cannot contain regexes."),
    ("empty vendor in resource", doc(allow("s3:*", "arn:aws::::b")), K.IDENTITY, "INVALID_ARN_SERVICE",
     "The policy failed legacy parsing"),
    ("resource policy needs a principal", doc(allow()), K.RESOURCE, "MISSING_PRINCIPAL",
     "Missing required field Principal"),
    # CreateRole: terraform-aws-modules/terraform-aws-iam#47 (no principal), aws/aws-cdk#5732 ("Principal": "*").
    ("trust policy needs a principal", doc({"Effect": "Allow", "Action": "sts:AssumeRole"}), K.TRUST,
     "MISSING_PRINCIPAL", "Invalid principal in policy: com.amazon.balsa.error.InvalidPolicyException: The passed "
     "in policy has a statement with no principals!"),
    ("trust policy cannot trust bare *", doc({**TRUST_OK, "Principal": "*"}), K.TRUST, "INVALID_PRINCIPAL_FORMAT",
     'AssumeRolepolicy contained an invalid principal: "STAR":"*".'),
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
    ("condition key without a vendor (LocalStack valid-32)", doc(allow(Condition={"StringEqualsIfExists": {
        "team": "x"}})), K.IDENTITY),
    ("trust policy naming everyone as AWS *", doc({**TRUST_OK, "Principal": {"AWS": "*"}}), K.TRUST),
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
    """Every problem, located; in IAM's check order, so a syntax error comes before a missing resource (AWS answers
    "Syntax errors in policy." for a statement with a bad Effect and no Action, invalid-51 and invalid-31)."""
    text = ('{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject"},\n'
            ' {"Effect": "Perhaps", "Action": "*", "Resource": "*"}]}')
    problems = validate(text)
    assert [(p.path, p.code, p.line) for p in problems] == [
        ("/Statement/1/Effect", "INVALID_EFFECT", 2), ("/Statement/0", "MISSING_RESOURCE", 1)]
    assert problems[0].column == 13 and problems[0].detail == "invalid effect: Perhaps"


def test_invalid_json_is_located() -> None:
    """Invalid JSON: "Syntax errors in policy." from CreatePolicy (aws-samples/amazon-ecs-firelens-examples#50, a
    trailing comma; LocalStack invalid-0), "This policy contains invalid Json" from CreateRole and
    UpdateAssumeRolePolicy (LocalStack test_iam_roles.snapshot.json, AWSCookbook/Security#2)."""
    text = '{"Version": "2012-10-17",\n "Statement": [}'
    (problem,) = validate(text)
    assert (problem.code, problem.message, problem.line) == ("JSON_SYNTAX_ERROR", "Syntax errors in policy.", 2)
    (problem,) = validate(text, kind=PolicyKind.TRUST)
    assert (problem.code, problem.message, problem.line) == ("JSON_SYNTAX_ERROR", "This policy contains invalid Json",
                                                             2)


def test_duplicate_keys_are_problems() -> None:
    problems = validate('{"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Effect": "Deny", '
                        '"Action": "*", "Resource": "*"}}')
    assert [p.code for p in problems] == ["DUPLICATE_KEY"]
    assert problems[0].path == "/Statement/Effect"


@pytest.mark.parametrize(("document", "detail"), [
    (doc(allow(Condition={"StringEqualz": {"aws:username": "x"}})), "unknown condition operator StringEqualz"),
    (doc(allow(Condition={"IpAddress": {"aws:SourceIp": "10.0.0.0/33"}})),
     "invalid value 10.0.0.0/33 for this condition operator"),
    (doc(allow("s3:*", "arn:aws:s3:::b/${aws:username")), "Missing closing brace in policy variable: ${aws:username"),
    (doc(allow(Sid=1)), "Sid must be a string"),
])
def test_generic_messages_carry_a_detail(document: Any, detail: str) -> None:
    (problem,) = validate(json.dumps(document))
    assert problem.message == "Syntax errors in policy." and problem.detail == detail
    assert str(problem).endswith(f"Syntax errors in policy. ({detail}) [{problem.code}]")


def test_parse_raises_with_every_problem() -> None:
    """Every problem, IAM's first: the bad Effect is a syntax error, which IAM checks before the missing action
    (invalid-51: a syntax error in a statement with no Action is reported as such)."""
    with pytest.raises(PolicyError) as info:
        parse(doc({"Effect": "Allow"}, {"Effect": "Nope", "Action": "x", "Resource": "*"}))
    codes = [d.code for d in info.value.diagnostics]
    assert codes == ["INVALID_EFFECT", "MISSING_ACTION", "MISSING_RESOURCE", "INVALID_ACTION"]
    assert info.value.message == "Syntax errors in policy."
