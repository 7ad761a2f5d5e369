"""Located policy problems, worded like IAM's `MalformedPolicyDocument` messages.

A problem is data, not a bare string: a code (the IAM Access Analyzer check name where one exists, so tools can
filter), the message a caller would see from AWS, the JSON path of the offending element, and, when the policy came
as text, the line and column. `validate` returns every problem; `parse` raises `PolicyError` carrying them all.
"""

from __future__ import annotations

from dataclasses import dataclass

# Messages AWS IAM returns with MalformedPolicyDocument, reused verbatim where AWS has one.
INVALID_JSON = "This policy contains invalid Json"
SYNTAX_ERRORS = "Syntax errors in policy."
LEGACY_PARSING = "The policy failed legacy parsing"
NO_PRINCIPAL_ALLOWED = "Policy document should not specify a principal."
MUST_CONTAIN_ACTIONS = "Policy statement must contain actions."
MUST_CONTAIN_RESOURCES = "Policy statement must contain resources."
VENDOR_REQUIRED = "Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc."
ONE_COLON = "Actions/Condition can contain only one colon."
UNIQUE_SIDS = "Statement IDs (SID) in a single policy must be unique."
VERSION_2012 = "Policy document must be version 2012-10-17 or greater."
RESOURCE_VENDOR = "Resource vendor must be fully qualified and cannot contain regexes."


@dataclass(frozen=True, slots=True)
class Diagnostic:
    """One problem in a policy document."""

    code: str
    message: str
    path: str = ""
    line: int | None = None
    column: int | None = None

    def __str__(self) -> str:
        where = self.path or "/"
        if self.line is not None:
            where = f"{self.line}:{self.column}: {where}"
        return f"{where}: {self.message} [{self.code}]"


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
