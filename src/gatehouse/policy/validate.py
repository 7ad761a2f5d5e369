"""Every grammar rule of the IAM policy language, as a list of located problems in the order IAM checks them.

Validation walks the decoded JSON (not the AST) so that it can report all problems at once, including ones that
would stop an AST from being built. Messages are IAM's `MalformedPolicyDocument` wording (`diagnostics.py`); codes
follow IAM Access Analyzer's check names.

IAM answers with one message: the first check that fails, in this order (LocalStack's AWS-validated
test_iam_policies.snapshot.json, 78 refused and 51 accepted CreatePolicy documents; moto's `policy_validation.py`
models the same order). Every problem is tagged with its `Stage` and the list is sorted by stage, then statement,
then the order of the checks within the statement, so `problems[0]` is IAM's answer:

1. SYNTAX "Syntax errors in policy.": not a JSON object; unknown top-level or statement element; `Version` other
   than 2012-10-17 / 2008-10-17 ("2013-10-17" is a syntax error); `Id` or `Sid` not a string; `Statement` missing,
   empty or not objects; both `Action` and `NotAction` (or `Resource`/`NotResource`); `Effect` missing or not
   allow/deny in any case; Action/Resource not a string or list of strings; `Condition` not an object of objects;
   an unknown condition operator with keys (an empty one, `{"x": {}}`, is accepted), values not strings, numbers,
   booleans or lists of them. A lone syntax error beats everything below, even a missing `Version`.
2. VERSION "Policy document must be version 2012-10-17 or greater.": managed policies (`require_version`) and RCPs
   with no `Version` or "2008-10-17".
3. LEGACY "The policy failed legacy parsing": `Effect` in the wrong case ("denY"); a `Date*` value IAM's date
   parser refuses (`dates.py`); a resource with `::` and fewer than five colons, or with an empty service. The
   resource part stops at the first statement with a RESOURCE_FORMAT problem, as IAM's parser does.
4. SID_FORMAT: in IAM's own policies (identity, boundary, session, trust) a Sid holds only [0-9A-Za-z]
   ("Statement IDs (SID) must be alpha-numeric. ...").
5. SIDS "Statement IDs (SID) in a single policy must be unique." (empty Sids may repeat).
6. ACTIONS "Policy statement must contain actions.": no `Action`/`NotAction`, or an empty list.
7. PRINCIPAL, per kind: an identity policy names one ("Policy document should not specify a principal.", before
   the resource check: terraform#13449); a resource policy or trust policy names none.
8. RESOURCES "Policy statement must contain resources." (none, or an empty list); a trust policy has one.
9. RESOURCE_FORMAT: the first bad resource (a list is read in sorted order) in ARN format, partition, vendor,
   region or IAM path (`elements.resource_problem`).
10. ACTION_FORMAT: vendor prefix, one colon, vendor characters (`elements.action_problem`).
11. KIND: trust policies name only STS role-assumption actions; principal values; SCP and RCP rules.
12. EXTRA: Gatehouse's own checks, which AWS's recorded answers neither confirm nor contradict (condition values
    of numeric, IP, Bool and Binary operators; policy variable syntax); never before any of AWS's.

Rules IAM applies when it stores a policy rather than rules of the grammar are flagged `stored_only` on their
diagnostics: no region in an IAM (or S3 bucket) resource ARN, IAM resource types, and the form of principal values
(wildcards inside ARNs, 12-digit accounts, service names, `"Principal": "*"` in a trust policy). They keep their
place in IAM's order; `parse(..., stored=False)` (the evaluator's and the simulator's reading) reports them as
warnings and decides the document as written, where such an entry simply matches nothing.

Where no recorded answer fixes a check's place (principal and trust rules, SID_FORMAT), it sits with the checks of
its kind; the evidence for each placement is noted in tests/policy/test_aws_wording.py.

What IAM accepts that a stricter reading would refuse: condition keys without a vendor prefix (`{"a": "x"}`),
empty operator blocks and empty value lists, vendors with dots, short ARNs. Invalid JSON is "Syntax errors in
policy." except for trust policies ("This policy contains invalid Json").

Per-kind rules (IAM User Guide "Policy grammar", AWS Organizations "SCP syntax" and "RCP syntax"):
* identity, permissions boundary, session policy: no `Principal`/`NotPrincipal`; `Resource` or `NotResource` needed.
* resource-based policy: `Principal` or `NotPrincipal` needed.
* role trust policy: `Principal` needed (not the bare `"*"`), no `Resource`/`NotResource`, only STS
  role-assumption actions.
* SCP: no `Principal`/`NotPrincipal`.
* RCP: `Version` 2012-10-17, `Principal` is `"*"`, no `NotPrincipal` or `NotAction`; only `Deny` statements, except
  the shape of the AWS managed `RCPFullAWSAccess` policy.
"""

from __future__ import annotations

import re
from enum import IntEnum
from typing import Any

from . import diagnostics as msg
from .diagnostics import Diagnostic
from .elements import (
    PRINCIPAL_TYPES,
    Problem,
    action_problem,
    condition_text,
    condition_value_problem,
    principal_ok,
    resource_problems,
    template_problem,
    trust_action_problem,
)
from .jsontext import JsonPath, JsonSyntaxError, ParsedJson, line_col, parse_json, pointer
from .kinds import PolicyKind
from .operators import parse_operator
from .patterns import split_arn

VERSIONS = ("2012-10-17", "2008-10-17")
TOP_FIELDS = ("Version", "Id", "Statement")
STATEMENT_FIELDS = frozenset({
    "Sid", "Effect", "Principal", "NotPrincipal", "Action", "NotAction", "Resource", "NotResource", "Condition",
})
_SCALARS = (str, int, float, bool)
_ALNUM = re.compile(r"[0-9A-Za-z]*")


class Stage(IntEnum):
    """IAM's check order (see the module docstring): a problem of a lower stage is reported first."""

    SYNTAX = 1
    VERSION = 2
    LEGACY = 3
    SID_FORMAT = 4
    SIDS = 5
    ACTIONS = 6
    PRINCIPAL = 7
    RESOURCES = 8
    RESOURCE_FORMAT = 9
    ACTION_FORMAT = 10
    KIND = 11
    EXTRA = 12


S = Stage


# Resource format problems that are IAM's rules for a stored policy, not the grammar's.
_STORED_ONLY_RESOURCE_CODES = frozenset({"INVALID_ARN_REGION", "INVALID_ARN_RESOURCE"})


def validate(document: str | dict[str, Any], *, kind: PolicyKind = PolicyKind.IDENTITY,
             require_version: bool = False, stored: bool = True) -> list[Diagnostic]:
    """All problems in `document` (JSON text or an already-decoded dict), IAM's answer first; empty when valid.

    `require_version`: the document must say `"Version": "2012-10-17"`, as IAM requires of managed policies
    (CreatePolicy, CreatePolicyVersion) but not of inline ones. `stored=False` reads the document as the evaluator
    does: `stored_only` problems are still listed but do not hide the grammar checks IAM runs after them.
    """
    if isinstance(document, str):
        try:
            parsed = parse_json(document)
        except JsonSyntaxError as exc:
            line, column = line_col(document, exc.offset)
            message = msg.INVALID_JSON if kind is PolicyKind.TRUST else msg.SYNTAX_ERRORS
            return [Diagnostic("JSON_SYNTAX_ERROR", message, "", line, column, str(exc))]
        return validate_parsed(parsed, kind, require_version=require_version, stored=stored)
    return _Validator(None, kind, require_version, stored).run(document)


def validate_parsed(parsed: ParsedJson, kind: PolicyKind, *, require_version: bool = False,
                    stored: bool = True) -> list[Diagnostic]:
    """Validate a document read by `jsontext.parse_json`, locating each problem in the text."""
    validator = _Validator(parsed, kind, require_version, stored)
    for path in parsed.duplicate_keys:
        validator.add(S.SYNTAX, "DUPLICATE_KEY", msg.SYNTAX_ERRORS, path, f"duplicate key {path[-1]}")
    return validator.run(parsed.value)


class _Validator:
    def __init__(self, parsed: ParsedJson | None, kind: PolicyKind, require_version: bool,
                 stored: bool = True) -> None:
        self.parsed = parsed
        self.stored = stored
        self.kind = kind
        self.require_version = require_version or kind is PolicyKind.RCP
        self.problems: list[tuple[int, int, int, Diagnostic]] = []
        self.variables = True
        self.resource_format_failed = False
        self.principal_forbidden = kind.principal_forbidden
        self.principal_required = kind.principal_required
        self.resource_forbidden = kind.resource_forbidden
        self.rcp = kind is PolicyKind.RCP
        self.trust = kind is PolicyKind.TRUST
        self.alphanumeric_sids = kind.alphanumeric_sids

    def add(self, stage: Stage, code: str, message: str, path: JsonPath, detail: str = "", *,
            stored_only: bool = False) -> None:
        line = column = None
        if self.parsed is not None:
            span = None
            probe = path
            while span is None and probe:
                span = self.parsed.spans.get(probe)
                probe = probe[:-1]
            span = span or self.parsed.spans.get(())
            if span is not None:
                line, column = self.parsed.line_col(span[0])
        statement = path[1] if len(path) > 1 and path[0] == "Statement" and isinstance(path[1], int) else -1
        self.problems.append((stage, statement, len(self.problems),
                              Diagnostic(code, message, pointer(path), line, column, detail, stored_only)))

    def problem(self, stage: Stage, problem: Problem, path: JsonPath, *, stored_only: bool = False) -> None:
        self.add(stage, problem[0], problem[1], path, problem[2] if len(problem) > 2 else "",
                 stored_only=stored_only)

    def result(self) -> list[Diagnostic]:
        if len(self.problems) > 1:
            self.problems.sort(key=lambda p: p[:3])
        return [p[3] for p in self.problems]

    # -- document --------------------------------------------------------------------------------------------

    def run(self, doc: Any) -> list[Diagnostic]:
        if not isinstance(doc, dict):
            self.add(S.SYNTAX, "JSON_SYNTAX_ERROR", msg.SYNTAX_ERRORS, (), "a policy is a JSON object")
            return self.result()
        for key in doc:
            if key not in TOP_FIELDS:
                self.add(S.SYNTAX, "INVALID_POLICY_ELEMENT", msg.SYNTAX_ERRORS, (key,), f"unknown element {key}")
        self.version(doc)
        if "Id" in doc and not isinstance(doc["Id"], str):
            self.add(S.SYNTAX, "DATA_TYPE_MISMATCH", msg.SYNTAX_ERRORS, ("Id",), "Id must be a string")
        statements = doc.get("Statement")
        if isinstance(statements, dict):
            items: list[tuple[JsonPath, Any]] = [(("Statement",), statements)]
        elif isinstance(statements, list) and statements:
            items = [(("Statement", i), s) for i, s in enumerate(statements)]
        else:
            code = "MISSING_STATEMENT" if statements is None or statements == [] else "DATA_TYPE_MISMATCH"
            where: JsonPath = ("Statement",) if "Statement" in doc else ()
            self.add(S.SYNTAX, code, msg.SYNTAX_ERRORS, where, "Statement must be an object or a non-empty list")
            return self.result()
        sids: set[str] = set()
        for path, statement in items:
            self.statement(statement, path)
            sid = statement.get("Sid") if isinstance(statement, dict) else None
            if isinstance(sid, str) and sid:
                if sid in sids:
                    self.add(S.SIDS, "UNIQUE_SIDS_REQUIRED", msg.UNIQUE_SIDS, (*path, "Sid"))
                sids.add(sid)
        return self.result()

    def version(self, doc: dict[str, Any]) -> None:
        version = doc.get("Version")
        if version is None:
            self.variables = False
            if "Version" in doc:
                self.add(S.SYNTAX, "INVALID_VERSION", msg.SYNTAX_ERRORS, ("Version",), "Version must be a string")
            elif self.require_version:
                self.add(S.VERSION, "MISSING_VERSION", msg.VERSION_2012, ())
        elif version not in VERSIONS:
            self.add(S.SYNTAX, "INVALID_VERSION", msg.SYNTAX_ERRORS, ("Version",),
                     "Version is 2012-10-17 or 2008-10-17")
        elif version != "2012-10-17":
            self.variables = False
            if self.require_version:
                self.add(S.VERSION, "INVALID_VERSION", msg.VERSION_2012, ("Version",))

    # -- statement -------------------------------------------------------------------------------------------

    def statement(self, st: Any, path: JsonPath) -> None:
        if not isinstance(st, dict):
            self.add(S.SYNTAX, "DATA_TYPE_MISMATCH", msg.SYNTAX_ERRORS, path, "a statement is a JSON object")
            return
        if not STATEMENT_FIELDS.issuperset(st):
            for key in st:
                if key not in STATEMENT_FIELDS:
                    self.add(S.SYNTAX, "INVALID_POLICY_ELEMENT", msg.SYNTAX_ERRORS, (*path, key),
                             f"unknown element {key}")
        if "Sid" in st:
            sid = st["Sid"]
            if not isinstance(sid, str):
                self.add(S.SYNTAX, "DATA_TYPE_MISMATCH", msg.SYNTAX_ERRORS, (*path, "Sid"), "Sid must be a string")
            elif self.alphanumeric_sids and not _ALNUM.fullmatch(sid):
                self.add(S.SID_FORMAT, "INVALID_SID", msg.ALPHANUMERIC_SIDS, (*path, "Sid"))
        self.effect(st, path)
        for first, second in (("Action", "NotAction"), ("Resource", "NotResource"), ("Principal", "NotPrincipal")):
            if first in st and second in st:
                self.add(S.SYNTAX, "UNSUPPORTED_ELEMENT_COMBINATION", msg.SYNTAX_ERRORS, (*path, second),
                         f"{first} and {second} cannot both be present")
        self.principals(st, path)
        self.actions(st, path)
        self.resources(st, path)
        if "Condition" in st:
            self.conditions(st["Condition"], (*path, "Condition"))
        if self.rcp and st.get("Effect") == "Allow" and not _is_rcp_full_access(st):
            self.add(S.KIND, "RCP_SYNTAX_ERROR_ALLOW", "RCPs support only the Deny effect (Allow is reserved for "
                     "RCPFullAWSAccess).", (*path, "Effect"))

    def effect(self, st: dict[str, Any], path: JsonPath) -> None:
        if "Effect" not in st:
            self.add(S.SYNTAX, "MISSING_EFFECT", msg.SYNTAX_ERRORS, path, "Effect is required")
            return
        effect = st["Effect"]
        if effect in ("Allow", "Deny"):
            return
        if isinstance(effect, str) and effect.lower() in ("allow", "deny"):
            # IAM's syntax check ignores case, its legacy parser does not (LocalStack invalid-63).
            self.add(S.LEGACY, "INVALID_EFFECT", msg.LEGACY_PARSING, (*path, "Effect"),
                     f"Effect is Allow or Deny, not {effect}")
        else:
            self.add(S.SYNTAX, "INVALID_EFFECT", msg.SYNTAX_ERRORS, (*path, "Effect"),
                     f"invalid effect: {effect}")

    # -- Principal -------------------------------------------------------------------------------------------

    def principals(self, st: dict[str, Any], path: JsonPath) -> None:
        has_p, has_np = "Principal" in st, "NotPrincipal" in st
        if not (has_p or has_np or self.principal_required):
            return
        if self.principal_forbidden:
            for key in ("Principal", "NotPrincipal"):
                if key in st:
                    if self.kind is PolicyKind.SCP:
                        self.add(S.PRINCIPAL, "SCP_SYNTAX_ERROR_PRINCIPAL", msg.prohibited_field(key), (*path, key))
                    else:
                        self.add(S.PRINCIPAL, "UNSUPPORTED_PRINCIPAL", msg.NO_PRINCIPAL_ALLOWED, (*path, key))
            return
        if self.principal_required and not (has_p or has_np):
            message = msg.TRUST_NO_PRINCIPALS if self.trust else msg.MISSING_PRINCIPAL
            self.add(S.PRINCIPAL, "MISSING_PRINCIPAL", message, path)
        if self.rcp:
            if has_np:
                self.add(S.KIND, "RCP_SYNTAX_ERROR_PRINCIPAL", msg.prohibited_field("NotPrincipal"),
                         (*path, "NotPrincipal"))
            if has_p and st["Principal"] not in ("*", {"AWS": "*"}):
                self.add(S.KIND, "RCP_SYNTAX_ERROR_PRINCIPAL", 'RCP statements must specify "Principal": "*".',
                         (*path, "Principal"))
        for key in ("Principal", "NotPrincipal"):
            if key in st:
                self.principal_value(st[key], (*path, key))

    def principal_value(self, value: Any, path: JsonPath) -> None:
        if value == "*":
            if self.trust:
                self.add(S.KIND, "INVALID_PRINCIPAL_FORMAT", msg.TRUST_STAR_PRINCIPAL, path,
                         'a trust policy names everyone as {"AWS": "*"}', stored_only=True)
            return
        if not isinstance(value, dict) or not value:
            self.add(S.KIND, "INVALID_PRINCIPAL_FORMAT", "Invalid principal in policy", path)
            return
        for ptype, entries in value.items():
            if ptype not in PRINCIPAL_TYPES:
                self.add(S.KIND, "INVALID_PRINCIPAL_KEY", f'Invalid principal in policy: "{ptype}"', (*path, ptype))
                continue
            values = entries if isinstance(entries, list) else [entries]
            if not values or not all(isinstance(v, str) for v in values):
                self.add(S.SYNTAX, "DATA_TYPE_MISMATCH", msg.SYNTAX_ERRORS, (*path, ptype),
                         "principals are a string or a list of strings")
                continue
            for i, v in enumerate(values):
                where = (*path, ptype, i) if isinstance(entries, list) else (*path, ptype)
                if not principal_ok(ptype, v):
                    label = "SERVICE" if ptype == "Service" else ptype
                    self.add(S.KIND, "INVALID_PRINCIPAL_FORMAT", f'Invalid principal in policy: "{label}":"{v}"',
                             where, stored_only=True)

    # -- Action ----------------------------------------------------------------------------------------------

    def actions(self, st: dict[str, Any], path: JsonPath) -> None:
        has_a, has_na = "Action" in st, "NotAction" in st
        if not (has_a or has_na):
            self.add(S.ACTIONS, "MISSING_ACTION", msg.MUST_CONTAIN_ACTIONS, path)
            return
        if self.rcp and has_na:
            self.add(S.KIND, "RCP_SYNTAX_ERROR_NOTACTION", msg.prohibited_field("NotAction"), (*path, "NotAction"))
        key = "Action" if has_a else "NotAction"
        for where, action in self.string_list(st[key], (*path, key), S.ACTIONS, "MISSING_ACTION",
                                              msg.MUST_CONTAIN_ACTIONS):
            problem = action_problem(action)
            if problem is not None:
                self.problem(S.ACTION_FORMAT, problem, where)
            elif self.trust:
                problem = trust_action_problem(action)
                if problem is not None:
                    self.problem(S.KIND, problem, where)

    # -- Resource --------------------------------------------------------------------------------------------

    def resources(self, st: dict[str, Any], path: JsonPath) -> None:
        has_r, has_nr = "Resource" in st, "NotResource" in st
        if self.resource_forbidden:
            for key in ("Resource", "NotResource"):
                if key in st:
                    # No full stop: AWS's words for UpdateAssumeRolePolicy (LocalStack's AWS-validated snapshots).
                    self.add(S.RESOURCES, "UNSUPPORTED_ELEMENT", msg.prohibited_field(key), (*path, key))
            return
        if not (has_r or has_nr):
            self.add(S.RESOURCES, "MISSING_RESOURCE", msg.MUST_CONTAIN_RESOURCES, path)
            return
        key = "Resource" if has_r else "NotResource"
        entries = self.string_list(st[key], (*path, key), S.RESOURCES, "MISSING_RESOURCE",
                                   msg.MUST_CONTAIN_RESOURCES)
        found = None
        for where, resource in entries:
            problems = resource_problems(resource)
            if problems is not None:
                found = found or []
                found.append((resource, where, problems))
            if self.variables and "${" in resource:
                split = split_arn(resource)
                if split is not None:
                    self.variable_syntax(split[1], where)
        if found is not None:
            self.resource_found(found)

    def resource_found(self, found: list[tuple[str, JsonPath, tuple[Problem | None, Problem | None]]]) -> None:
        """IAM checks the format of every entry (a list in sorted order, reporting the first bad one: LocalStack
        invalid-25), then, unless some format check has failed in this or an earlier statement, legacy-parses
        them (invalid-25 has a legacy problem too, and IAM reports the partition)."""
        formats = sorted((resource, where, problems[0]) for resource, where, problems in found if problems[0])
        failed = False
        for _, where, problem in formats:
            stored_only = problem[0] in _STORED_ONLY_RESOURCE_CODES
            self.problem(S.RESOURCE_FORMAT, problem, where, stored_only=stored_only)
            failed = failed or self.stored or not stored_only
        self.resource_format_failed = self.resource_format_failed or failed
        if not self.resource_format_failed:
            for _, where, problems in found:
                if problems[1] is not None:
                    self.problem(S.LEGACY, problems[1], where)

    # -- Condition -------------------------------------------------------------------------------------------

    def conditions(self, block: Any, path: JsonPath) -> None:
        if not isinstance(block, dict):
            self.add(S.SYNTAX, "DATA_TYPE_MISMATCH", msg.SYNTAX_ERRORS, path, "Condition must be an object")
            return
        for op_text, entries in block.items():
            op_path = (*path, op_text)
            if not isinstance(entries, dict):
                self.add(S.SYNTAX, "DATA_TYPE_MISMATCH", msg.SYNTAX_ERRORS, op_path,
                         "a condition operator takes an object of keys and values")
                continue
            if not entries:  # IAM accepts an empty block, whatever its operator (LocalStack valid-17, -19, -31)
                continue
            op = parse_operator(op_text)
            if op is None:
                self.add(S.SYNTAX, "INVALID_CONDITION_OPERATOR", msg.SYNTAX_ERRORS, op_path,
                         f"unknown condition operator {op_text}")
                continue
            family = op.family
            for key, raw in entries.items():
                if raw.__class__ is str:  # the common case, checked without building paths
                    problem = condition_value_problem(family, raw, self.variables)
                    if problem is not None:
                        self.problem(S.LEGACY if problem[1] == msg.LEGACY_PARSING else S.EXTRA, problem,
                                     (*op_path, key))
                    continue
                key_path = (*op_path, key)
                values = raw if isinstance(raw, list) else (raw,)
                if not all(isinstance(v, _SCALARS) for v in values):
                    self.add(S.SYNTAX, "DATA_TYPE_MISMATCH", msg.SYNTAX_ERRORS, key_path,
                             "condition values are strings, numbers, booleans or lists of them")
                    continue
                for i, value in enumerate(values):
                    where = (*key_path, i) if isinstance(raw, list) else key_path
                    problem = condition_value_problem(family, condition_text(value), self.variables)
                    if problem is not None:
                        self.problem(S.LEGACY if problem[1] == msg.LEGACY_PARSING else S.EXTRA, problem, where)

    def variable_syntax(self, text: str, path: JsonPath) -> None:
        problem = template_problem(text)
        if problem is not None:
            self.problem(S.EXTRA, problem, path)

    # -- helpers ---------------------------------------------------------------------------------------------

    def string_list(self, value: Any, path: JsonPath, empty_stage: Stage, empty_code: str, empty_message: str
                    ) -> list[tuple[JsonPath, str]]:
        """The entries of an Action/Resource element (a string or a list of strings)."""
        if isinstance(value, str):
            return [(path, value)]
        if isinstance(value, list):
            if not value:
                self.add(empty_stage, empty_code, empty_message, path)
                return []
            out = []
            for i, item in enumerate(value):
                if isinstance(item, str):
                    out.append(((*path, i), item))
                else:
                    self.add(S.SYNTAX, "DATA_TYPE_MISMATCH", msg.SYNTAX_ERRORS, (*path, i),
                             "entries are strings")
            return out
        self.add(S.SYNTAX, "DATA_TYPE_MISMATCH", msg.SYNTAX_ERRORS, path, "a string or a list of strings")
        return []


def _is_rcp_full_access(st: dict[str, Any]) -> bool:
    return (st.get("Principal") in ("*", {"AWS": "*"}) and st.get("Action") in ("*", ["*"])
            and st.get("Resource") in ("*", ["*"]) and "Condition" not in st)
