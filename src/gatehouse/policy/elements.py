"""The rules for single `Action`, `Resource`, `Principal` and condition value entries: pure functions of the text,
so cached.

Each returns None for an acceptable entry, else `(code, message[, detail])` with IAM's wording (the detail says
what is wrong when the message is IAM's generic one). Which of these IAM reports first is `validate.py`'s business.

Resources are checked the way IAM checks them (LocalStack's AWS-validated test_iam_policies.snapshot.json; moto's
`_validate_resource_format` models the same): IAM splits at the first two colons without looking at what precedes
the first one, so `a:bsdfdsafsad` gets 'Partition "bsdfdsafsad" is not valid for resource
"arn:bsdfdsafsad:*:*:*:*".', with missing segments shown as `*`. Short ARNs pass (`arn:aws:fdsasf` is accepted).
Separately, the "legacy" parser refuses an ARN with fewer than five colons that has an empty segment (`::`), and one
whose service is empty ("The policy failed legacy parsing").
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable

from . import diagnostics as msg
from .dates import aws_date
from .operators import VARIABLE_FAMILIES, parse_base64, parse_bool, parse_network, parse_number
from .patterns import ActionPattern, is_wildcard
from .variables import VariableSyntaxError, parse_template

Problem = tuple[str, str] | tuple[str, str, str]

PARTITIONS = frozenset(
    {"aws", "aws-cn", "aws-us-gov", "aws-iso", "aws-iso-b", "aws-iso-e", "aws-iso-f", "aws-eusc", "*"}
)
# "role-template/": AWS stores it in its own managed policies (iam:GetRoleTemplateVersion on
# arn:aws:iam::aws:role-template/... in AWSCloudWatchOmniServiceRolePolicy, in the shipped catalogue).
IAM_RESOURCE_PREFIXES = (
    "user/", "federated-user/", "role/", "group/", "instance-profile/", "mfa/", "server-certificate/", "policy/",
    "sms-mfa/", "saml-provider/", "oidc-provider/", "report/", "access-report/", "role-template/",
)
# S3 resource types that live in a region (Service Authorization Reference, "Amazon S3": access points and their
# objects, Batch Operations jobs, Storage Lens, Multi-Region Access Point requests, Access Grants). AWS accepts the
# access point ARNs (LocalStack valid-50); the others are documented ARN formats, not recorded answers.
S3_REGIONAL_PREFIXES = ("accesspoint/", "job/", "storage-lens/", "storage-lens-group/", "async-request/",
                        "access-grants/")
TRUST_ACTIONS = (
    "sts:assumerole", "sts:assumerolewithsaml", "sts:assumerolewithwebidentity", "sts:tagsession",
    "sts:setsourceidentity", "sts:setcontext",
)
PRINCIPAL_TYPES = ("AWS", "Service", "Federated", "CanonicalUser")

# Vendor characters (moto's `[^a-zA-Z0-9\-.]` test; "s3-s" and "s3.s" are accepted, LocalStack valid-26/27), plus
# the wildcards Gatehouse has always allowed in a vendor.
_VENDOR = re.compile(r"[A-Za-z0-9.*?-]+")
_ACCOUNT = re.compile(r"^\d{12}$")
_AWS_PRINCIPAL_ARN = re.compile(
    r"^arn:[a-z-]+:(?:iam::\d{12}:(?:root|user/.+|role/.+)|sts::\d{12}:(?:assumed-role/[^/]+/.+|federated-user/.+))$"
)
_SERVICE = re.compile(r"^[a-z0-9][a-z0-9.-]*\.amazonaws\.com(?:\.cn)?$|^[a-z0-9][a-z0-9.-]*\.amazon\.com$")


# -- Action ----------------------------------------------------------------------------------------------------


@functools.lru_cache(maxsize=8192)
def action_problem(action: str) -> Problem | None:
    """IAM's prefix checks for one Action/NotAction entry (the last of its checks on a policy)."""
    if action == "*":
        return None
    vendor, colon, rest = action.partition(":")
    if not colon:
        return "INVALID_ACTION", msg.VENDOR_REQUIRED
    if ":" in rest:
        return "INVALID_ACTION", msg.ONE_COLON
    if not _VENDOR.fullmatch(vendor):
        return "INVALID_SERVICE", msg.invalid_vendor(vendor)
    return None


@functools.lru_cache(maxsize=1024)
def trust_action_problem(action: str) -> Problem | None:
    """A role trust policy may name only the STS actions that assume a role (or act on the session it makes)."""
    matcher = ActionPattern(action)
    if any(matcher.matches(a) for a in TRUST_ACTIONS):
        return None
    return "INVALID_ACTION", msg.TRUST_ACTIONS_ONLY


# -- Resource --------------------------------------------------------------------------------------------------


def _partition_resource(partition: str, rest: str) -> str:
    """How IAM prints a resource with an unknown partition: the segments after it, `*` for each one missing."""
    parts = rest.split(":")
    service = parts[0] if parts[0] != "" or len(parts) > 1 else "*"
    region = parts[1] if len(parts) > 1 else "*"
    account = parts[2] if len(parts) > 2 else "*"
    resource = ":".join(parts[3:]) if len(parts) > 3 else "*"
    return f"arn:{partition}:{service}:{region}:{account}:{resource}"


@functools.lru_cache(maxsize=8192)
def resource_problems(resource: str) -> tuple[Problem | None, Problem | None] | None:
    """`(format problem, legacy problem)` of one Resource/NotResource entry; None when it has neither."""
    problems = resource_problem(resource), resource_legacy_problem(resource)
    return None if problems == (None, None) else problems


def resource_problem(resource: str) -> Problem | None:
    """IAM's format checks for one Resource/NotResource entry: ARN shape, partition, vendor, region, IAM path."""
    if resource == "*":
        return None
    prefix, colon, rest = resource.partition(":")
    if not colon:
        return "INVALID_ARN", msg.arn_format(resource)
    partition, colon, rest = rest.partition(":")
    if partition not in PARTITIONS:
        return "INVALID_PARTITION", msg.invalid_partition(partition, _partition_resource(partition, rest))
    if not colon:
        return "INVALID_ARN_SERVICE", msg.RESOURCE_VENDOR
    if prefix != "arn":
        # IAM does not look at the prefix in the checks above; whether it accepts "foo:aws:s3:::b" is unrecorded.
        # Gatehouse refuses it (it could never match a request) in IAM's words for a resource that is no ARN.
        return "INVALID_ARN_PREFIX", msg.arn_format(resource), "an ARN starts with arn:"
    service, _, rest = rest.partition(":")
    region, _, rest = rest.partition(":")
    _account, _, path = rest.partition(":")
    if service == "iam":
        if region:
            return "INVALID_ARN_REGION", msg.iam_region(resource)
        if path not in ("*", "root") and not path.startswith(IAM_RESOURCE_PREFIXES):
            return "INVALID_ARN_RESOURCE", msg.IAM_RESOURCE_PATH
    elif service == "s3" and region and not path.startswith(S3_REGIONAL_PREFIXES):
        return "INVALID_ARN_REGION", msg.s3_region(resource)
    return None


def resource_legacy_problem(resource: str) -> Problem | None:
    """The legacy parser's view of one Resource/NotResource entry (IAM skips it once a format check has failed)."""
    if resource == "*":
        return None
    if "::" in resource and resource.count(":") < 5:
        return "INVALID_ARN", msg.LEGACY_PARSING, "an ARN with an empty segment needs all six segments"
    parts = resource.split(":", 3)
    if len(parts) < 3 or parts[2] == "":
        return "INVALID_ARN_SERVICE", msg.LEGACY_PARSING, "the ARN names no service"
    return None


# -- Principal -------------------------------------------------------------------------------------------------


def principal_ok(ptype: str, value: str) -> bool:
    """Whether `value` can name a principal of type `ptype` (AWS, Service, Federated, CanonicalUser)."""
    if not value:
        return False
    if ptype == "AWS":
        return value == "*" or bool(_ACCOUNT.match(value)) or (
            bool(_AWS_PRINCIPAL_ARN.match(value)) and not is_wildcard(value))
    if ptype == "Service":
        return value == "*" or bool(_SERVICE.match(value))
    return not is_wildcard(value) or value == "*"


# -- Condition values -------------------------------------------------------------------------------------------


def template_problem(text: str) -> Problem | None:
    """Policy variable syntax (`${...}` closed and well formed): Gatehouse's check, no recorded AWS answer."""
    try:
        parse_template(text, variables=True)
    except VariableSyntaxError as exc:
        return "INVALID_VARIABLE", msg.SYNTAX_ERRORS, str(exc)
    return None


@functools.lru_cache(maxsize=8192)
def condition_value_problem(family: str, value: str, variables: bool) -> Problem | None:
    """One condition value for an operator family: a `Date*` value IAM's date parser cannot read fails legacy
    parsing (LocalStack invalid-64, -72 to -75); the number, IP, Bool and Binary checks are Gatehouse's."""
    if family.startswith("date_"):
        if aws_date(value) is None:
            return "INVALID_CONDITION_DATA_TYPE", msg.LEGACY_PARSING, f"{value} is not a date IAM can read"
        return None
    if variables and "${" in value:
        if family not in VARIABLE_FAMILIES:
            return ("INVALID_VARIABLE_FOR_OPERATOR", msg.SYNTAX_ERRORS,
                    "policy variables cannot be used with this condition operator")
        return template_problem(value)
    check = _VALUE_CHECKS.get(family)
    if check is not None and check(value) is None:
        return "INVALID_CONDITION_DATA_TYPE", msg.SYNTAX_ERRORS, f"invalid value {value} for this condition operator"
    return None


_VALUE_CHECKS: dict[str, Callable[[str], object]] = {
    "numeric_eq": parse_number, "numeric_lt": parse_number, "numeric_le": parse_number,
    "numeric_gt": parse_number, "numeric_ge": parse_number,
    "ip": parse_network, "bool": parse_bool, "null": parse_bool, "binary": parse_base64,
}


def condition_text(value: str | int | float | bool) -> str:
    """How IAM reads a JSON condition value: booleans as true/false, numbers as written."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value) if isinstance(value, float) else str(value)
    return value
