"""IAM's own answers: which documents it refuses, with which `MalformedPolicyDocument` message, and which it accepts.

The evidence is AWS's recorded responses. "invalid-N" / "valid-N" name the CreatePolicy cases of LocalStack's
AWS-validated snapshot test (localstack/localstack tests/aws/services/iam/test_iam_policies.py and its
.snapshot.json, recorded against AWS in February 2026); other cases cite the public report that quotes AWS. The
server answers with the first diagnostic's message (services/iam/documents.py), so the first one must be IAM's,
which needs IAM's check order: several documents below have two problems and IAM names a particular one.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from gatehouse.errors import MalformedPolicyDocument
from gatehouse.policy import PolicyKind, parse, validate
from gatehouse.services.iam.documents import PolicyDocuments

V = "2012-10-17"
BUCKET = "arn:aws:s3:::example_bucket"
DROP = object()

SYN = "Syntax errors in policy."
VER = "Policy document must be version 2012-10-17 or greater."
LEG = "The policy failed legacy parsing"
VEN = "Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc."
COLON = "Actions/Condition can contain only one colon."
ACT = "Policy statement must contain actions."
RES = "Policy statement must contain resources."
SIDS = "Statement IDs (SID) in a single policy must be unique."
IAM_PATH = ('IAM resource path must either be "*", root, or start with user/, federated-user/, role/, group/, '
            "instance-profile/, mfa/, server-certificate/, policy/, sms-mfa/, saml-provider/, oidc-provider/, "
            "report/, access-report/.")


def arn_format(resource: str) -> str:
    return f'Resource {resource} must be in ARN format or "*".'


def partition(name: str, resource: str) -> str:
    return f'Partition "{name}" is not valid for resource "{resource}".'


def st(**changes: Any) -> dict[str, Any]:
    """The snapshot's base statement (Allow s3:ListBucket on example_bucket) with elements changed or DROPped."""
    out: dict[str, Any] = {"Effect": "Allow", "Action": "s3:ListBucket", "Resource": BUCKET}
    for key, value in changes.items():
        if value is DROP:
            out.pop(key, None)
        else:
            out[key] = value
    return out


def doc(*statements: dict[str, Any], version: str | None = V, **top: Any) -> dict[str, Any]:
    """One statement is written as an object (as most snapshot cases do), several as a list."""
    out: dict[str, Any] = {} if version is None else {"Version": version}
    out["Statement"] = statements[0] if len(statements) == 1 else list(statements)
    out.update(top)
    return out


def cond(block: Any, **changes: Any) -> dict[str, Any]:
    return doc(st(Condition=block, **changes))


# (note with its evidence, document, IAM's message for CreatePolicy)
INVALID: list[tuple[str, Any, str]] = [
    ("not JSON at all (invalid-0)", "This is not a json document", SYN),
    ("a JSON string, not an object (modelled on invalid-0)", json.dumps("not json"), SYN),
    ("no Version (invalid-1)", doc(st(), version=None), VER),
    ("Version 2008-10-17 (invalid-2)", doc(st(), version="2008-10-17"), VER),
    ("Version that does not exist: syntax, not version (invalid-3)", doc(st(), version="2013-10-17"), SYN),
    ("no Statement (invalid-4)", {"Version": V}, SYN),
    ("a statement that is a string (invalid-5)", {"Version": V, "Statement": ["afd"]}, SYN),
    ("unknown top-level element (invalid-6)", doc(st(), **{"Extra field": "value"}), SYN),
    ("unknown statement element (invalid-7)", doc(st(**{"Extra field": "value"})), SYN),
    ("Id is a list (invalid-8)", doc(st(), Id=["cd3a324d2343d942772346-34234234423404-4c2242343242349d1642ee"]), SYN),
    ("Id is an object (invalid-9)", doc(st(), Id={}), SYN),
    ("Effect neither Allow nor Deny (invalid-10)", doc(st(Effect="invalid")), SYN),
    ("action without vendor (invalid-11)", doc(st(Action="invalid")), VEN),
    ("empty NotAction (invalid-12)", doc(st(Action=DROP, NotAction="")), VEN),
    ("vendor with a space (invalid-13)", doc(st(Action="a a:ListBucket")), "Vendor a a is not valid"),
    ("two colons in an action (invalid-14)", doc(st(Action="s3:List:Bucket")), COLON),
    ("two colons in the second statement's action (invalid-15)",
     doc(st(Action="s3s:ListBucket"), st(Action="s:3s:ListBucket")), COLON),
    ("resource not an ARN (invalid-16)", doc(st(Resource="invalid resource")), arn_format("invalid resource")),
    ("empty resource, in statements with Sids and conditions (invalid-17)",
     doc({"Sid": "EnableDisableHongKong", "Effect": "Allow", "Action": ["account:EnableRegion",
          "account:DisableRegion"], "Resource": "", "Condition": {"StringEquals": {"account:TargetRegion":
                                                                                   "ap-east-1"}}},
         {"Sid": "ViewConsole", "Effect": "Allow", "Action": ["aws-portal:ViewAccount", "account:ListRegions"],
          "Resource": ""}), arn_format("")),
    ("resource format is checked before action format (invalid-18)",
     doc(st(Action="s:3:ListBucket", Resource="sdfsadf")), arn_format("sdfsadf")),
    ("resource list with a non-ARN (invalid-19)", doc(st(Resource=["adf"])), arn_format("adf")),
    ("empty resource (invalid-20)", doc(st(Resource="")), arn_format("")),
    ("unknown partition, no further segments (invalid-21)",
     doc(st(Action=DROP, NotAction="s3s:ListBucket", Resource="a:bsdfdsafsad")),
     partition("bsdfdsafsad", "arn:bsdfdsafsad:*:*:*:*")),
    ("unknown partition, one segment (invalid-22)",
     doc(st(Action=DROP, NotAction="s3s:ListBucket", Resource="a:b:cadfsdf")), partition("b", "arn:b:cadfsdf:*:*:*")),
    ("unknown partition, many segments (invalid-23)",
     doc(st(Action=DROP, NotAction="s3s:ListBucket", Resource="a:b:c:d:e:f:g:h")),
     partition("b", "arn:b:c:d:e:f:g:h")),
    ("ARN missing its arn: prefix (invalid-24)", doc(st(Resource="aws:s3:::example_bucket")),
     partition("s3", "arn:s3:::example_bucket:*")),
    ("two bad partitions: the first in sorted order (invalid-25)",
     doc(st(Resource=["arn:error:s3:::example_bucket", "arn:error:s3::example_bucket"])),
     partition("error", "arn:error:s3:::example_bucket")),
    ("empty Statement list (invalid-26)", {"Version": V, "Statement": []}, SYN),
    ("no Resource (invalid-27)", doc(st(Resource=DROP)), RES),
    ("empty Resource list (invalid-28)", doc(st(Resource=[])), RES),
    ("missing resources are reported before a vendorless action (invalid-29)",
     doc(st(Resource=DROP, Action="invalid")), RES),
    ("no Action (invalid-30)", doc(st(Action=DROP)), ACT),
    ("no Effect (invalid-31)", doc(st(Effect=DROP)), SYN),
    ("Effect alone (invalid-32)", doc({"Effect": "Allow"}), ACT),
    ("empty Action list (invalid-33)", doc(st(Action=[])), ACT),
    ("first of two statements has no Action (invalid-34)", doc({"Effect": "Deny"}, st()), ACT),
    ("IAM resource with a path IAM does not know (invalid-35)", doc(st(Resource="arn:aws:iam:::example_bucket")),
     IAM_PATH),
    ("ARN with :: and four colons (invalid-36)", doc(st(Resource="arn:aws:s3::example_bucket")), LEG),
    ("legacy resource parsing comes before the missing action (invalid-37)",
     doc(st(Action=DROP, Resource="arn:aws:s3::example_bucket")), LEG),
    ("ARN without a vendor segment (invalid-38)", doc(st(Resource="arn:aws")),
     "Resource vendor must be fully qualified and cannot contain regexes."),
    ("Resource is an object (invalid-39)", doc(st(Resource={"a": BUCKET})), SYN),
    ("Resource list holding an object (invalid-40)", doc(st(Effect="Deny", Resource=["adfdf", {}])), SYN),
    ("Resource and NotResource (invalid-41)", doc(st(Action=DROP, NotAction="s3:ListBucket", NotResource=[])), SYN),
    ("Action list holding a list (invalid-42)", doc(st(Effect="Deny", Action=[[]])), SYN),
    ("Action and NotAction, Action empty (invalid-43)", doc(st(NotAction="s3s:ListBucket", Action=[])), SYN),
    ("Action is an object (invalid-44)", doc(st(Action={})), SYN),
    ("Condition is a list (invalid-45)", cond([]), SYN),
    ("Condition is a string (invalid-46)", cond("a"), SYN),
    ("Condition without operator blocks (invalid-47)", cond({"a": "b"}), SYN),
    ("operator block is a string (invalid-48)", cond({"DateGreaterThan": "b"}), SYN),
    ("operator block is a list (invalid-49)", cond({"DateGreaterThan": []}), SYN),
    ("condition value is an object (invalid-50)", cond({"DateGreaterThan": {"a": {}}}), SYN),
    ("syntax is checked before the missing action (invalid-51)",
     cond({"DateGreaterThan": {"a": {}}}, Action=DROP), SYN),
    ("unknown operator with a key (invalid-52)", cond({"x": {"a": "1"}}), SYN),
    ("operator with a doubled colon (invalid-53)", cond({"ForAnyValue::StringEqualsIfExists": {"a": "asf"}}), SYN),
    ("Condition is a list of objects (invalid-54)",
     cond([{"ForAllValues:StringEquals": {"aws:TagKeys": "Department"}}]), SYN),
    ("IAM resource with a region (invalid-55)", doc(st(Resource="arn:aws:iam:us-east-1::example_bucket")),
     "IAM resource arn:aws:iam:us-east-1::example_bucket cannot contain region information."),
    ("S3 bucket with a region (invalid-56)", doc(st(Resource="arn:aws:s3:us-east-1::example_bucket")),
     "Resource arn:aws:s3:us-east-1::example_bucket can not contain region information."),
    ("Sid is an object (invalid-57)", doc(st(Sid={})), SYN),
    ("Sid is a list (invalid-58)", doc(st(Sid=[])), SYN),
    ("duplicate Sids are reported before a missing action (invalid-59)",
     doc(st(Sid="sdf"), {"Sid": "sdf", "Effect": "Allow"}), SIDS),
    ("no Version is reported before duplicate Sids (invalid-60)",
     doc(st(Sid="sdf"), {"Sid": "sdf", "Effect": "Allow"}, version=None), VER),
    ("Action and NotAction (invalid-61)", doc(st(NotAction="s3:ListBucket", Action="iam:dsf")), SYN),
    ("Resource and NotResource (invalid-62)", doc(st(NotResource="*")), SYN),
    ("Effect in the wrong case (invalid-63)", doc(st(Effect="denY")), LEG),
    ("a date IAM cannot read (invalid-64)", cond({"DateGreaterThan": {"a": "sdfdsf"}}), LEG),
    ("no Version is reported before a bad date (invalid-65)",
     doc(st(Condition={"DateGreaterThan": {"a": "sdfdsf"}}), version=None), VER),
    ("no Version is reported before a wrong-case Effect (invalid-66)", doc(st(Effect="denY"), version=None), VER),
    ("a bad date is reported before the missing action (invalid-67)",
     cond({"DateGreaterThan": {"a": "sdfdsf"}}, Action=DROP, Resource=DROP), LEG),
    ("ARN with an empty service (invalid-68)",
     doc(st(Action=DROP, NotAction="s3:ListBucket", Resource="arn:aws::::example_bucket")), LEG),
    ("wrong-case Effect beats the missing action and the region (invalid-69)",
     doc({"Effect": "allow", "Resource": "arn:aws:s3:us-east-1::example_bucket"}), LEG),
    ("wrong-case Effect beats duplicate Sids (invalid-70)", doc(st(Sid="sdf", Effect="aLLow"),
                                                                {"Sid": "sdf", "Effect": "Allow"}), LEG),
    ("NotResource with :: and four colons (invalid-71)",
     doc(st(Resource=DROP, NotResource="arn:aws:s3::example_bucket")), LEG),
    ("month 13 (invalid-72)", cond({"DateLessThanEquals": {"a": "234-13"}}), LEG),
    ("zone offset with one hour digit (invalid-73)",
     cond({"DateLessThanEquals": {"a": "2016-12-13t2:00:00.593194+1"}}), LEG),
    ("ten digits of fraction (invalid-74)",
     cond({"DateLessThanEquals": {"a": "2016-12-13t2:00:00.1999999999+10:59"}}), LEG),
    ("epoch past 2^63 - 1 (invalid-75)", cond({"DateLessThan": {"a": "9223372036854775808"}}), LEG),
    ("a bad date is reported before a bad partition (invalid-76)",
     cond({"DateGreaterThan": {"a": "sdfdsf"}}, Resource="arn:error:s3:::example_bucket"), LEG),
    ("short ARN with an empty segment (invalid-77)", doc(st(Resource="arn:aws::fdsasf")), LEG),
]

# Documents IAM accepts (CreatePolicy answered 200): valid-0 to valid-50.
OWN_CREDENTIALS = [
    {"Sid": "AllowViewAccountInfo", "Effect": "Allow", "Action": ["iam:GetAccountPasswordPolicy",
                                                                   "iam:GetAccountSummary"], "Resource": "*"},
    {"Sid": "AllowManageOwnPasswords", "Effect": "Allow", "Action": ["iam:ChangePassword", "iam:GetUser"],
     "Resource": "arn:aws:iam::*:user/${aws:username}"},
    {"Sid": "AllowManageOwnAccessKeys", "Effect": "Allow", "Action": ["iam:CreateAccessKey", "iam:DeleteAccessKey",
                                                                       "iam:ListAccessKeys", "iam:UpdateAccessKey"],
     "Resource": "arn:aws:iam::*:user/${aws:username}"},
    {"Sid": "AllowManageOwnSigningCertificates", "Effect": "Allow", "Action": ["iam:DeleteSigningCertificate",
     "iam:ListSigningCertificates", "iam:UpdateSigningCertificate", "iam:UploadSigningCertificate"],
     "Resource": "arn:aws:iam::*:user/${aws:username}"},
]
MFA = [
    {"Sid": "AllowManageOwnVirtualMFADevice", "Effect": "Allow", "Action": ["iam:CreateVirtualMFADevice",
                                                                             "iam:DeleteVirtualMFADevice"],
     "Resource": "arn:aws:iam::*:mfa/${aws:username}"},
    {"Sid": "DenyAllExceptListedIfNoMFA", "Effect": "Deny", "NotAction": ["iam:CreateVirtualMFADevice",
     "iam:EnableMFADevice", "iam:GetUser", "iam:ListMFADevices", "sts:GetSessionToken"], "Resource": "*",
     "Condition": {"BoolIfExists": {"aws:MultiFactorAuthPresent": "false"}}},
]
DATES = {"DateGreaterThan": {"aws:CurrentTime": "2017-07-01T00:00:00Z"},
         "DateLessThan": {"aws:CurrentTime": "2017-12-31T23:59:59Z"}}
VALID: list[tuple[str, Any]] = [
    ("Resource as a list (valid-0)", doc(st(Resource=[BUCKET]))),
    ("action with spaces after the vendor (valid-1)", doc(st(Action="iam: asdf safdsf af "))),
    ("an ARN and * (valid-2)", doc(st(Resource=[BUCKET, "*"]))),
    ("Action * (valid-3)", doc(st(Action="*"))),
    ("Statement as a list (valid-4)", {"Version": V, "Statement": [st()]}),
    ("date conditions, any vendor (valid-5)", doc(st(Action="service-prefix:action-name", Resource="*",
                                                     Condition=DATES))),
    ("another vendor (valid-6)", doc(st(Action="fsx:ListBucket"))),
    ("IAM user resource (valid-7)", doc(st(Resource="arn:aws:iam:::user/example_bucket"))),
    ("unknown service in a resource (valid-8)", doc(st(Resource="arn:aws:s33:::example_bucket"))),
    ("short ARN (valid-9)", doc(st(Resource="arn:aws:fdsasf"))),
    ("empty Condition (valid-10)", cond({})),
    ("ForAllValues (valid-11)", cond({"ForAllValues:StringEquals": {"aws:TagKeys": "Department"}})),
    ("CloudWatch resource with a region (valid-12)", doc(st(Resource="arn:aws:cloudwatch:us-east-1::example_bucket"))),
    ("EC2 resource with a region (valid-13)", doc(st(Resource="arn:aws:ec2:us-east-1::example_bucket"))),
    ("unknown service (valid-14)", doc(st(Resource="arn:aws:invalid-service:::example_bucket"))),
    ("unknown service with a region (valid-15)", doc(st(Resource="arn:aws:invalid-service:us-east-1::example_bucket"))),
    ("two date operators (valid-16)", cond(DATES)),
    ("empty operator block (valid-17)", cond({"DateGreaterThan": {}})),
    ("empty value list (valid-18)", cond({"DateGreaterThan": {"a": []}})),
    ("unknown operator with an empty block (valid-19)", cond({"a": {}})),
    ("Sid (valid-20)", doc(st(Sid="dsfsdfsdfsdfsdfsadfsd"))),
    ("tag conditions (valid-21)", doc(
        {"Sid": "ConsoleDisplay", "Effect": "Allow", "Action": ["iam:GetRole", "iam:GetUser", "iam:ListRoles",
                                                                "iam:ListRoleTags"], "Resource": "*"},
        {"Sid": "AddTag", "Effect": "Allow", "Action": ["iam:TagUser", "iam:TagRole"], "Resource": "*",
         "Condition": {"StringEquals": {"aws:RequestTag/CostCenter": ["A-123", "B-456"]},
                       "ForAllValues:StringEquals": {"aws:TagKeys": "CostCenter"}}})),
    ("NotAction (valid-22)", doc(st(Action=DROP, NotAction="s3:ListBucket"))),
    ("NotResource with Deny (valid-23)", doc(st(Effect="Deny", Action="s3:*", Resource=DROP, NotResource=[
        "arn:aws:s3:::HRBucket/Payroll", "arn:aws:s3:::HRBucket/Payroll/*"]))),
    ("Id (valid-24)", doc(st(Action=DROP, NotAction="s3:ListBucket"), Id="sdfsdfsdf")),
    ("long vendor (valid-25)", doc(st(Action="aaaaaadsfdsafsadfsadfaaaaa:ListBucket"))),
    ("vendor with a hyphen (valid-26)", doc(st(Action="s3-s:ListBucket"))),
    ("vendor with a dot (valid-27)", doc(st(Action="s3.s:ListBucket"))),
    ("NotAction and NotResource (valid-28)", doc(st(Action=DROP, NotAction="s3:ListBucket", Resource=DROP,
                                                    NotResource="*"))),
    ("one Sid, one without (valid-29)", doc(st(Sid="sdf"), st())),
    ("a year and a bare T (valid-30)", cond({"DateGreaterThan": {"a": "01T"}})),
    ("two unknown operators with empty blocks (valid-31)", cond({"x": {}, "y": {}})),
    ("condition key without a vendor (valid-32)", cond({"StringEqualsIfExists": {"a": "asf"}})),
    ("ForAnyValue with IfExists (valid-33)", cond({"ForAnyValue:StringEqualsIfExists": {"a": "asf"}})),
    ("ISO date-time (valid-34)", cond({"DateLessThanEquals": {"a": "2019-07-01T13:20:15Z"}})),
    ("fraction and zone (valid-35)", cond({"DateLessThanEquals": {"a": "2016-12-13T21:20:37.593194+00:00"}})),
    ("lower-case t, one-digit hour, zone hours only (valid-36)",
     cond({"DateLessThanEquals": {"a": "2016-12-13t2:00:00.593194+23"}})),
    ("the earliest year (valid-37)", cond({"DateLessThan": {"a": "-292275054"}})),
    ("manage own credentials, with variables (valid-38)", doc(*OWN_CREDENTIALS, *MFA)),
    ("DynamoDB table (valid-39)", doc(
        {"Sid": "ListAndDescribe", "Effect": "Allow", "Action": ["dynamodb:List*", "dynamodb:DescribeLimits"],
         "Resource": "*"},
        {"Sid": "SpecificTable", "Effect": "Allow", "Action": ["dynamodb:BatchGet*", "dynamodb:Query"],
         "Resource": "arn:aws:dynamodb:*:*:table/MyTable"})),
    ("ArnEquals (valid-40)", {"Version": V, "Statement": [
        {"Effect": "Allow", "Action": ["ec2:AttachVolume", "ec2:DetachVolume"],
         "Resource": ["arn:aws:ec2:*:*:volume/*", "arn:aws:ec2:*:*:instance/*"],
         "Condition": {"ArnEquals": {"ec2:SourceInstanceARN": "arn:aws:ec2:*:*:instance/instance-id"}}}]}),
    ("resource tags and a variable in a condition (valid-41)", doc(
        {"Effect": "Allow", "Action": ["ec2:AttachVolume"], "Resource": "arn:aws:ec2:*:*:instance/*",
         "Condition": {"StringEquals": {"ec2:ResourceTag/Department": "Development"}}},
        {"Effect": "Allow", "Action": ["ec2:AttachVolume"], "Resource": "arn:aws:ec2:*:*:volume/*",
         "Condition": {"StringEquals": {"ec2:ResourceTag/VolumeUser": "${aws:username}"}}})),
    ("placeholders for region and account (valid-42)", {"Version": V, "Statement": [
        {"Sid": "StartStopIfTags", "Effect": "Allow", "Action": ["ec2:StartInstances"],
         "Resource": "arn:aws:ec2:region:account-id:instance/*",
         "Condition": {"StringEquals": {"ec2:ResourceTag/Project": "DataAnalytics",
                                        "aws:PrincipalTag/Department": "Data"}}}]}),
    ("Cognito variable with a colon (valid-43)", doc(
        {"Sid": "ListYourObjects", "Effect": "Allow", "Action": "s3:ListBucket", "Resource": ["arn:aws:s3:::bn"],
         "Condition": {"StringLike": {"s3:prefix": ["cognito/app/${cognito-identity.amazonaws.com:sub}"]}}},
        {"Sid": "ReadWriteDeleteYourObjects", "Effect": "Allow", "Action": ["s3:GetObject"],
         "Resource": ["arn:aws:s3:::bn/cognito/app/${cognito-identity.amazonaws.com:sub}/*"]})),
    ("home folders (valid-44)", doc(
        {"Effect": "Allow", "Action": ["s3:ListAllMyBuckets"], "Resource": "*"},
        {"Effect": "Allow", "Action": "s3:ListBucket", "Resource": "arn:aws:s3:::bn",
         "Condition": {"StringLike": {"s3:prefix": ["", "home/", "home/${aws:userid}/*"]}}},
        {"Effect": "Allow", "Action": "s3:*", "Resource": ["arn:aws:s3:::bn/home/${aws:userid}",
                                                          "arn:aws:s3:::bn/home/${aws:userid}/*"]})),
    ("console access (valid-45)", doc(
        {"Sid": "ListObjectsInBucket", "Effect": "Allow", "Action": "s3:ListBucket", "Resource": ["arn:aws:s3:::bn"]},
        {"Sid": "AllObjectActions", "Effect": "Allow", "Action": "s3:*Object", "Resource": ["arn:aws:s3:::bn/*"]})),
    ("manage own credentials (valid-46)", doc(*OWN_CREDENTIALS)),
    ("Action before Effect (valid-47)", {"Version": V, "Statement": [
        {"Action": "ec2:*", "Resource": "*", "Effect": "Allow", "Condition": {"StringEquals": {"ec2:Region":
                                                                                               "region"}}}]}),
    ("placeholder region (valid-48)", {"Version": V, "Statement": [
        {"Effect": "Allow", "Action": "rds:*", "Resource": ["arn:aws:rds:region:*:*"]},
        {"Effect": "Allow", "Action": ["rds:Describe*"], "Resource": ["*"]}]}),
    ("empty Sids may repeat (valid-49)", {"Version": V, "Statement": [
        {"Sid": "", "Effect": "Allow", "Action": "rds:*", "Resource": ["arn:aws:rds:region:*:*"]},
        {"Sid": "", "Effect": "Allow", "Action": ["rds:Describe*"], "Resource": ["*"]}]}),
    ("S3 access point with a region (valid-50)", {"Version": V, "Statement": [
        {"Sid": "", "Effect": "Allow", "Action": ["s3:*"], "Resource": [
            "arn:aws:s3:us-west-2:123456789012:accesspoint/my-access-point",
            "arn:aws:s3:us-west-2:123456789012:accesspoint/my-access-point/object/*"]}]}),
]


def text(document: Any) -> str:
    return document if isinstance(document, str) else json.dumps(document)


@pytest.mark.parametrize(("note", "document", "message"), INVALID, ids=[c[0] for c in INVALID])
def test_create_policy_refusal_is_worded_as_iam_words_it(note: str, document: Any, message: str) -> None:
    problems = validate(text(document), require_version=True)
    assert problems and problems[0].message == message, problems
    with pytest.raises(MalformedPolicyDocument) as caught:
        PolicyDocuments().check_managed(text(document))
    assert caught.value.message == message


@pytest.mark.parametrize(("note", "document"), VALID, ids=[c[0] for c in VALID])
def test_iam_accepts(note: str, document: Any) -> None:
    assert validate(text(document), require_version=True) == []
    assert validate(document, require_version=True) == []
    parse(text(document))  # and it builds, so it compiles and evaluates
    PolicyDocuments().check_managed(text(document))


# Inline policies (PutUserPolicy, PutGroupPolicy, PutRolePolicy) may leave the Version out or say 2008-10-17;
# then IAM's next check speaks (the same documents as invalid-1, -2, -60, -65, -66).
INLINE = [
    ("no Version", doc(st(), version=None), None),
    ("Version 2008-10-17", doc(st(), version="2008-10-17"), None),
    ("no Version, duplicate Sids", doc(st(Sid="sdf"), {"Sid": "sdf", "Effect": "Allow"}, version=None), SIDS),
    ("no Version, bad date", doc(st(Condition={"DateGreaterThan": {"a": "sdfdsf"}}), version=None), LEG),
    ("no Version, wrong-case Effect", doc(st(Effect="denY"), version=None), LEG),
]


@pytest.mark.parametrize(("note", "document", "message"), INLINE, ids=[c[0] for c in INLINE])
def test_inline_policies_need_no_version(note: str, document: Any, message: str | None) -> None:
    problems = validate(text(document))
    assert (problems[0].message if problems else None) == message
    if message is None:
        PolicyDocuments().check_inline(text(document), "user", "u", [])
    else:
        with pytest.raises(MalformedPolicyDocument):
            PolicyDocuments().check_inline(text(document), "user", "u", [])


TRUST = {"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}

# Other policy kinds, with the public reports that quote AWS's answer.
KINDS: list[tuple[str, Any, PolicyKind, str]] = [
    ("trust policy that is not JSON (UpdateAssumeRolePolicy, LocalStack test_iam_roles.snapshot.json)",
     "not valid json", PolicyKind.TRUST, "This policy contains invalid Json"),
    ("trust policy naming sts:InvalidAction (same snapshot)", doc({**TRUST, "Action": "sts:InvalidAction"}),
     PolicyKind.TRUST, "AssumeRole policy may only specify STS AssumeRole actions."),
    ("trust policy with a Resource (same snapshot; no full stop)", doc({**TRUST, "Resource": BUCKET}),
     PolicyKind.TRUST, "Has prohibited field Resource"),
    ("trust policy naming no principal (terraform-aws-modules/terraform-aws-iam#47)",
     doc({"Effect": "Allow", "Action": "sts:AssumeRole"}), PolicyKind.TRUST,
     "Invalid principal in policy: com.amazon.balsa.error.InvalidPolicyException: The passed in policy has a "
     "statement with no principals!"),
    ('trust policy with "Principal": "*" (aws/aws-cdk#5732)', doc({**TRUST, "Principal": "*"}), PolicyKind.TRUST,
     'AssumeRolepolicy contained an invalid principal: "STAR":"*".'),
    ("trust policy naming a group (aws/aws-cdk#11505)",
     doc({**TRUST, "Principal": {"AWS": "arn:aws:iam::123456789012:group/exampleGroup"}}), PolicyKind.TRUST,
     'Invalid principal in policy: "AWS":"arn:aws:iam::123456789012:group/exampleGroup"'),
    ("inline policy with principals and no resources: the principal is named first (hashicorp/terraform#13449)",
     doc({"Effect": "Allow", "Action": ["sts:AssumeRole"],
          "Principal": {"Service": ["ec2.amazonaws.com"], "AWS": ["arn:aws:iam::123456789012:root"]}}),
     PolicyKind.IDENTITY, "Policy document should not specify a principal."),
    ("bucket policy without a principal (humanmade/S3-Uploads#191)", doc(st()), PolicyKind.RESOURCE,
     "Missing required field Principal"),
    ("Sid with a hyphen, before the duplicate-Sid check (Wolox/carthage_cache#22; aws-cloudformation/cfn-lint#708)",
     doc(st(Sid="autogenerated-id"), st(Sid="autogenerated-id")), PolicyKind.IDENTITY,
     "Statement IDs (SID) must be alpha-numeric. Check that your input satisfies the regular expression "
     "[0-9A-Za-z]*"),
    ("CreatePolicy with a trailing comma (aws-samples/amazon-ecs-firelens-examples#50)",
     '{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*",}]}',
     PolicyKind.IDENTITY, SYN),
]


@pytest.mark.parametrize(("note", "document", "kind", "message"), KINDS, ids=[c[0] for c in KINDS])
def test_other_kinds_are_worded_as_aws_words_them(note: str, document: Any, kind: PolicyKind, message: str) -> None:
    problems = validate(text(document), kind=kind)
    assert problems and problems[0].message == message, problems


def test_every_problem_is_still_reported_and_located() -> None:
    """IAM names one problem; Gatehouse lists all, IAM's first, each with its JSON path and position."""
    document = ('{"Version": "2012-10-17", "Statement": [\n'
                ' {"Sid": "A", "Effect": "allow", "Action": "s3:Get:Object", "Resource": "arn:aws:s3::b"},\n'
                ' {"Sid": "A", "Effect": "Allow", "Action": "s3:GetObject",\n'
                '  "Resource": ["arn:error:s3:::z", "arn:error:s3:::a"]}]}')
    problems = validate(document)
    assert [(p.message, p.path, p.line) for p in problems] == [
        (LEG, "/Statement/0/Effect", 2),
        (LEG, "/Statement/0/Resource", 2),
        (SIDS, "/Statement/1/Sid", 3),
        (partition("error", "arn:error:s3:::a"), "/Statement/1/Resource/1", 4),
        (partition("error", "arn:error:s3:::z"), "/Statement/1/Resource/0", 4),
        (COLON, "/Statement/0/Action", 2),
    ]
    assert all(p.column for p in problems)


def test_a_date_iam_accepts_is_a_date_gatehouse_evaluates() -> None:
    """Values IAM's date parser accepts (valid-30, -36, -37) must mean an instant, not silently match nothing."""
    from gatehouse.policy.operators import parse_date

    assert parse_date("2016-12-13t2:00:00.593194+23") == pytest.approx(1481511600.593194)
    assert parse_date("01T") == -62135596800.0
    assert parse_date("-292275054") is not None
