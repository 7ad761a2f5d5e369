"""Located policy problems, worded like IAM's `MalformedPolicyDocument` messages.

A problem is data, not a bare string: a code (the IAM Access Analyzer check name where one exists, so tools can
filter), the message a caller would see from AWS, the JSON path of the offending element, when the policy came as
text the line and column, and a `detail` saying what exactly is wrong when AWS's message is generic ("Syntax errors
in policy."). `validate` returns every problem, in the order IAM checks them, so the first is the one IAM reports
(see `validate.py`); `parse` raises `PolicyError` carrying them all.

The messages below are AWS's, verbatim; where each was recorded is noted beside it. "LocalStack" means its
AWS-validated snapshot tests (tests/aws/services/iam/*.snapshot.json in localstack/localstack).
"""

from __future__ import annotations

from dataclasses import dataclass

# Messages AWS IAM returns with MalformedPolicyDocument, reused verbatim.
INVALID_JSON = "This policy contains invalid Json"  # trust policies (CreateRole, UpdateAssumeRolePolicy)
SYNTAX_ERRORS = "Syntax errors in policy."  # CreatePolicy, also for text that is not JSON (LocalStack invalid-0)
LEGACY_PARSING = "The policy failed legacy parsing"
NO_PRINCIPAL_ALLOWED = "Policy document should not specify a principal."  # PutRolePolicy (terraform#13449)
MISSING_PRINCIPAL = "Missing required field Principal"  # resource-based policies (S3 PutBucketPolicy)
MUST_CONTAIN_ACTIONS = "Policy statement must contain actions."
MUST_CONTAIN_RESOURCES = "Policy statement must contain resources."
VENDOR_REQUIRED = "Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc."
ONE_COLON = "Actions/Condition can contain only one colon."
UNIQUE_SIDS = "Statement IDs (SID) in a single policy must be unique."
# CreatePolicy through CloudFormation (aws-cloudformation/cfn-lint#708, #1376) and the console (Wolox/carthage_cache#22,
# where it came before the duplicate-Sid error for the same document).
ALPHANUMERIC_SIDS = ("Statement IDs (SID) must be alpha-numeric. Check that your input satisfies the regular "
                     "expression [0-9A-Za-z]*")
VERSION_2012 = "Policy document must be version 2012-10-17 or greater."
RESOURCE_VENDOR = "Resource vendor must be fully qualified and cannot contain regexes."
IAM_RESOURCE_PATH = ('IAM resource path must either be "*", root, or start with user/, federated-user/, role/, '
                     "group/, instance-profile/, mfa/, server-certificate/, policy/, sms-mfa/, saml-provider/, "
                     "oidc-provider/, report/, access-report/.")  # LocalStack invalid-35
# Trust policies. The first is UpdateAssumeRolePolicy's answer to "sts:InvalidAction" (LocalStack
# test_iam_roles.snapshot.json); the longer "Trust Policy statement actions can only be ..." is moto's invention.
TRUST_ACTIONS_ONLY = "AssumeRole policy may only specify STS AssumeRole actions."
# CreateRole with a statement naming no principal (terraform-aws-modules/terraform-aws-iam#47,
# cloudposse/terraform-aws-cloudwatch-logs#7) and with `"Principal": "*"` (aws/aws-cdk#5732).
TRUST_NO_PRINCIPALS = ("Invalid principal in policy: com.amazon.balsa.error.InvalidPolicyException: The passed in "
                       "policy has a statement with no principals!")
TRUST_STAR_PRINCIPAL = 'AssumeRolepolicy contained an invalid principal: "STAR":"*".'


def arn_format(resource: str) -> str:
    return f'Resource {resource} must be in ARN format or "*".'


def invalid_partition(partition: str, resource: str) -> str:
    return f'Partition "{partition}" is not valid for resource "{resource}".'


def iam_region(resource: str) -> str:
    return f"IAM resource {resource} cannot contain region information."  # LocalStack invalid-55


def s3_region(resource: str) -> str:
    return f"Resource {resource} can not contain region information."  # LocalStack invalid-56 ("can not")


def invalid_vendor(vendor: str) -> str:
    return f"Vendor {vendor} is not valid"  # no full stop (LocalStack invalid-13)


def prohibited_field(name: str) -> str:
    return f"Has prohibited field {name}"  # no full stop (UpdateAssumeRolePolicy, LocalStack)


@dataclass(frozen=True, slots=True)
class Diagnostic:
    """One problem in a policy document."""

    code: str
    message: str
    path: str = ""
    line: int | None = None
    column: int | None = None
    detail: str = ""
    # A rule IAM applies when it stores a policy (CreatePolicy, PutUserPolicy, CreateRole, ...), not part of the
    # grammar: a document that breaks only such rules can still be evaluated (`parse(..., stored=False)`).
    stored_only: bool = False

    def __str__(self) -> str:
        where = self.path or "/"
        if self.line is not None:
            where = f"{self.line}:{self.column}: {where}"
        detail = f" ({self.detail})" if self.detail else ""
        return f"{where}: {self.message}{detail} [{self.code}]"


class PolicyError(Exception):
    """A policy document that cannot be used; `.diagnostics` lists every problem found."""

    def __init__(self, diagnostics: list[Diagnostic]) -> None:
        self.diagnostics = list(diagnostics)
        first = self.diagnostics[0] if self.diagnostics else None
        super().__init__(str(first) if first else "invalid policy")

    @property
    def message(self) -> str:
        """The message of the first problem: what IAM would put in MalformedPolicyDocument."""
        return self.diagnostics[0].message if self.diagnostics else SYNTAX_ERRORS
