"""Every grammar rule of the IAM policy language, as a list of located problems.

Validation walks the decoded JSON (not the AST) so that it can report all problems at once, including ones that
would stop an AST from being built. Messages follow IAM's `MalformedPolicyDocument` wording where AWS has one
(see `diagnostics.py`); codes follow IAM Access Analyzer's check names.

Per-kind rules (IAM User Guide "Policy grammar", AWS Organizations "SCP syntax" and "RCP syntax"):
* identity, permissions boundary, session policy: no `Principal`/`NotPrincipal`; `Resource` or `NotResource` needed.
* resource-based policy: `Principal` or `NotPrincipal` needed.
* role trust policy: `Principal` needed, no `Resource`/`NotResource`, only STS role-assumption actions.
* SCP: no `Principal`/`NotPrincipal`.
* RCP: `Version` 2012-10-17, `Principal` is `"*"`, no `NotPrincipal` or `NotAction`; only `Deny` statements, except
  the shape of the AWS managed `RCPFullAWSAccess` policy.
"""

from __future__ import annotations

import functools
import re
from typing import Any

from . import diagnostics as msg
from .diagnostics import Diagnostic
from .jsontext import JsonPath, JsonSyntaxError, ParsedJson, line_col, parse_json, pointer
from .kinds import PolicyKind
from .operators import (
    VARIABLE_FAMILIES,
    parse_base64,
    parse_bool,
    parse_date,
    parse_network,
    parse_number,
    parse_operator,
)
from .patterns import ActionPattern, is_wildcard, split_arn
from .variables import VariableSyntaxError, parse_template

VERSIONS = ("2012-10-17", "2008-10-17")
TOP_FIELDS = ("Version", "Id", "Statement")
STATEMENT_FIELDS = frozenset({
    "Sid", "Effect", "Principal", "NotPrincipal", "Action", "NotAction", "Resource", "NotResource", "Condition",
})
PRINCIPAL_TYPES = ("AWS", "Service", "Federated", "CanonicalUser")
PARTITIONS = frozenset(
    {"aws", "aws-cn", "aws-us-gov", "aws-iso", "aws-iso-b", "aws-iso-e", "aws-iso-f", "aws-eusc", "*"}
)
TRUST_ACTIONS = (
    "sts:assumerole", "sts:assumerolewithsaml", "sts:assumerolewithwebidentity", "sts:tagsession",
    "sts:setsourceidentity", "sts:setcontext",
)
_VENDOR = re.compile(r"^[a-z0-9][a-z0-9-]*$", re.IGNORECASE)
_ACCOUNT = re.compile(r"^\d{12}$")
_AWS_PRINCIPAL_ARN = re.compile(
    r"^arn:[a-z-]+:(?:iam::\d{12}:(?:root|user/.+|role/.+)|sts::\d{12}:(?:assumed-role/[^/]+/.+|federated-user/.+))$"
)
_SERVICE = re.compile(r"^[a-z0-9][a-z0-9.-]*\.amazonaws\.com(?:\.cn)?$|^[a-z0-9][a-z0-9.-]*\.amazon\.com$")


def validate(document: str | dict[str, Any], *, kind: PolicyKind = PolicyKind.IDENTITY) -> list[Diagnostic]:
    """All problems in `document` (JSON text or an already-decoded dict); empty when it is valid."""
    if isinstance(document, str):
        try:
            parsed = parse_json(document)
        except JsonSyntaxError as exc:
            line, column = line_col(document, exc.offset)
            return [Diagnostic("JSON_SYNTAX_ERROR", msg.INVALID_JSON, "", line, column)]
        return validate_parsed(parsed, kind)
    return _Validator(None, kind).run(document)


def validate_parsed(parsed: ParsedJson, kind: PolicyKind) -> list[Diagnostic]:
    """Validate a document read by `jsontext.parse_json`, locating each problem in the text."""
    problems = [
        Diagnostic("DUPLICATE_KEY", f"{msg.SYNTAX_ERRORS} Duplicate key {path[-1]}", pointer(path))
        for path in parsed.duplicate_keys
    ]
    problems += _Validator(parsed, kind).run(parsed.value)
    problems.sort(key=lambda d: (d.line or 0, d.column or 0))
    return problems


class _Validator:
    def __init__(self, parsed: ParsedJson | None, kind: PolicyKind) -> None:
        self.parsed = parsed
        self.kind = kind
        self.problems: list[Diagnostic] = []
        self.variables = True
        self.principal_forbidden = kind.principal_forbidden
        self.principal_required = kind.principal_required
        self.resource_forbidden = kind.resource_forbidden
        self.rcp = kind is PolicyKind.RCP
        self.trust = kind is PolicyKind.TRUST

    def add(self, code: str, message: str, path: JsonPath) -> None:
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
        self.problems.append(Diagnostic(code, message, pointer(path), line, column))

    def run(self, doc: Any) -> list[Diagnostic]:
        if not isinstance(doc, dict):
            self.add("JSON_SYNTAX_ERROR", msg.SYNTAX_ERRORS, ())
            return self.problems
        for key in doc:
            if key not in TOP_FIELDS:
                self.add("INVALID_POLICY_ELEMENT", f"Has prohibited field {key}", (key,))
        self.version(doc)
        if "Id" in doc and not isinstance(doc["Id"], str):
            self.add("DATA_TYPE_MISMATCH", msg.SYNTAX_ERRORS, ("Id",))
        statements = doc.get("Statement")
        if statements is None:
            where: JsonPath = ("Statement",) if "Statement" in doc else ()
            self.add("MISSING_STATEMENT", "Missing required field Statement", where)
            return self.problems
        if isinstance(statements, dict):
            items: list[tuple[JsonPath, Any]] = [(("Statement",), statements)]
        elif isinstance(statements, list):
            items = [(("Statement", i), s) for i, s in enumerate(statements)]
            if not items:
                self.add("MISSING_STATEMENT", "Missing required field Statement", ("Statement",))
        else:
            self.add("DATA_TYPE_MISMATCH", msg.SYNTAX_ERRORS, ("Statement",))
            return self.problems
        sids: dict[str, JsonPath] = {}
        for path, statement in items:
            self.statement(statement, path)
            sid = statement.get("Sid") if isinstance(statement, dict) else None
            if isinstance(sid, str) and sid:
                if sid in sids:
                    self.add("UNIQUE_SIDS_REQUIRED", msg.UNIQUE_SIDS, (*path, "Sid"))
                sids[sid] = path
        return self.problems

    def version(self, doc: dict[str, Any]) -> None:
        version = doc.get("Version")
        if version is None:
            self.variables = False
            if self.kind is PolicyKind.RCP:
                self.add("MISSING_VERSION", msg.VERSION_2012, ())
            return
        if not isinstance(version, str):
            self.add("DATA_TYPE_MISMATCH", msg.SYNTAX_ERRORS, ("Version",))
        elif version not in VERSIONS:
            self.add("INVALID_VERSION", msg.LEGACY_PARSING, ("Version",))
        elif version != "2012-10-17":
            self.variables = False
            if self.kind is PolicyKind.RCP:
                self.add("INVALID_VERSION", msg.VERSION_2012, ("Version",))

    def statement(self, st: Any, path: JsonPath) -> None:
        if not isinstance(st, dict):
            self.add("DATA_TYPE_MISMATCH", msg.SYNTAX_ERRORS, path)
            return
        if not STATEMENT_FIELDS.issuperset(st):
            for key in st:
                if key not in STATEMENT_FIELDS:
                    self.add("INVALID_POLICY_ELEMENT", f"Has prohibited field {key}", (*path, key))
        if "Sid" in st and not isinstance(st["Sid"], str):
            self.add("DATA_TYPE_MISMATCH", msg.SYNTAX_ERRORS, (*path, "Sid"))
        effect = st.get("Effect")
        if effect is None:
            self.add("MISSING_EFFECT", "Missing required field Effect", path)
        elif effect not in ("Allow", "Deny"):
            self.add("INVALID_EFFECT", f"Invalid effect: {effect}", (*path, "Effect"))
        self.principals(st, path)
        self.actions(st, path)
        self.resources(st, path)
        if "Condition" in st:
            self.conditions(st["Condition"], (*path, "Condition"))
        if self.rcp and effect == "Allow" and not _is_rcp_full_access(st):
            self.add("RCP_SYNTAX_ERROR_ALLOW", "RCPs support only the Deny effect (Allow is reserved for "
                     "RCPFullAWSAccess).", (*path, "Effect"))

    # -- Principal -------------------------------------------------------------------------------------------

    def principals(self, st: dict[str, Any], path: JsonPath) -> None:
        has_p, has_np = "Principal" in st, "NotPrincipal" in st
        if not (has_p or has_np or self.principal_required):
            return
        if self.principal_forbidden:
            for key in ("Principal", "NotPrincipal"):
                if key in st:
                    if self.kind is PolicyKind.SCP:
                        self.add("SCP_SYNTAX_ERROR_PRINCIPAL", f"Has prohibited field {key}", (*path, key))
                    else:
                        self.add("UNSUPPORTED_PRINCIPAL", msg.NO_PRINCIPAL_ALLOWED, (*path, key))
            return
        if has_p and has_np:
            self.add("UNSUPPORTED_ELEMENT_COMBINATION", msg.SYNTAX_ERRORS, (*path, "NotPrincipal"))
        if self.principal_required and not (has_p or has_np):
            self.add("MISSING_PRINCIPAL", "Missing required field Principal", path)
        if self.rcp:
            if has_np:
                self.add("RCP_SYNTAX_ERROR_PRINCIPAL", "Has prohibited field NotPrincipal", (*path, "NotPrincipal"))
            if has_p and st["Principal"] not in ("*", {"AWS": "*"}):
                self.add("RCP_SYNTAX_ERROR_PRINCIPAL", 'RCP statements must specify "Principal": "*".',
                         (*path, "Principal"))
        for key in ("Principal", "NotPrincipal"):
            if key in st:
                self.principal_value(st[key], (*path, key))

    def principal_value(self, value: Any, path: JsonPath) -> None:
        if value == "*":
            return
        if not isinstance(value, dict) or not value:
            self.add("INVALID_PRINCIPAL_FORMAT", "Invalid principal in policy", path)
            return
        for ptype, entries in value.items():
            if ptype not in PRINCIPAL_TYPES:
                self.add("INVALID_PRINCIPAL_KEY", f'Invalid principal in policy: "{ptype}"', (*path, ptype))
                continue
            values = entries if isinstance(entries, list) else [entries]
            if not values or not all(isinstance(v, str) for v in values):
                self.add("DATA_TYPE_MISMATCH", msg.SYNTAX_ERRORS, (*path, ptype))
                continue
            for i, v in enumerate(values):
                where = (*path, ptype, i) if isinstance(entries, list) else (*path, ptype)
                if not _principal_ok(ptype, v):
                    label = "SERVICE" if ptype == "Service" else ptype
                    self.add("INVALID_PRINCIPAL_FORMAT", f'Invalid principal in policy: "{label}":"{v}"', where)

    # -- Action ----------------------------------------------------------------------------------------------

    def actions(self, st: dict[str, Any], path: JsonPath) -> None:
        has_a, has_na = "Action" in st, "NotAction" in st
        if has_a and has_na:
            self.add("UNSUPPORTED_ELEMENT_COMBINATION", msg.SYNTAX_ERRORS, (*path, "NotAction"))
        if not (has_a or has_na):
            self.add("MISSING_ACTION", msg.MUST_CONTAIN_ACTIONS, path)
            return
        if self.rcp and has_na:
            self.add("RCP_SYNTAX_ERROR_NOTACTION", "Has prohibited field NotAction", (*path, "NotAction"))
        key = "Action" if has_a else "NotAction"
        value = st[key]
        if isinstance(value, str):
            problem = _action_problem(value, self.trust)
            if problem is not None:
                self.add(*problem, (*path, key))
            return
        for where, action in self.string_list(value, (*path, key), msg.MUST_CONTAIN_ACTIONS, "MISSING_ACTION"):
            self.action(action, where)

    def action(self, action: str, path: JsonPath) -> None:
        problem = _action_problem(action, self.trust)
        if problem is not None:
            self.add(*problem, path)

    # -- Resource --------------------------------------------------------------------------------------------

    def resources(self, st: dict[str, Any], path: JsonPath) -> None:
        has_r, has_nr = "Resource" in st, "NotResource" in st
        if self.resource_forbidden:
            for key in ("Resource", "NotResource"):
                if key in st:
                    # No full stop: AWS's words for UpdateAssumeRolePolicy (LocalStack's AWS-validated snapshots).
                    self.add("UNSUPPORTED_ELEMENT", f"Has prohibited field {key}", (*path, key))
            return
        if has_r and has_nr:
            self.add("UNSUPPORTED_ELEMENT_COMBINATION", msg.SYNTAX_ERRORS, (*path, "NotResource"))
        if not (has_r or has_nr):
            self.add("MISSING_RESOURCE", msg.MUST_CONTAIN_RESOURCES, path)
            return
        key = "Resource" if has_r else "NotResource"
        value = st[key]
        if isinstance(value, str):
            problem = _resource_problem(value, self.variables)
            if problem is not None:
                self.add(*problem, (*path, key))
            return
        for where, resource in self.string_list(value, (*path, key), msg.MUST_CONTAIN_RESOURCES,
                                                "MISSING_RESOURCE"):
            self.resource(resource, where)

    def resource(self, resource: str, path: JsonPath) -> None:
        problem = _resource_problem(resource, self.variables)
        if problem is not None:
            self.add(*problem, path)

    # -- Condition -------------------------------------------------------------------------------------------

    def conditions(self, block: Any, path: JsonPath) -> None:
        if not isinstance(block, dict):
            self.add("DATA_TYPE_MISMATCH", msg.SYNTAX_ERRORS, path)
            return
        for op_text, entries in block.items():
            op_path = (*path, op_text)
            op = parse_operator(op_text)
            if op is None:
                self.add("INVALID_CONDITION_OPERATOR", f"{msg.SYNTAX_ERRORS} Invalid condition operator {op_text}",
                         op_path)
                continue
            if not isinstance(entries, dict) or not entries:
                self.add("DATA_TYPE_MISMATCH", msg.SYNTAX_ERRORS, op_path)
                continue
            for key, raw in entries.items():
                key_path = (*op_path, key)
                if ":" not in key:
                    self.add("INVALID_CONDITION_KEY_FORMAT", msg.VENDOR_REQUIRED, key_path)
                values = raw if isinstance(raw, list) else [raw]
                if not values or not all(isinstance(v, str | int | float | bool) for v in values):
                    self.add("DATA_TYPE_MISMATCH", msg.SYNTAX_ERRORS, key_path)
                    continue
                for i, value in enumerate(values):
                    where = (*key_path, i) if isinstance(raw, list) else key_path
                    self.condition_value(op.family, condition_text(value), where)

    def condition_value(self, family: str, value: str, path: JsonPath) -> None:
        problem = _condition_value_problem(family, value, self.variables)
        if problem is not None:
            self.add(*problem, path)

    # -- helpers ---------------------------------------------------------------------------------------------

    def string_list(self, value: Any, path: JsonPath, empty_message: str, empty_code: str
                    ) -> list[tuple[JsonPath, str]]:
        if isinstance(value, str):
            return [(path, value)]
        if isinstance(value, list):
            if not value:
                self.add(empty_code, empty_message, path)
                return []
            out = []
            for i, item in enumerate(value):
                if isinstance(item, str):
                    out.append(((*path, i), item))
                else:
                    self.add("DATA_TYPE_MISMATCH", msg.SYNTAX_ERRORS, (*path, i))
            return out
        self.add("DATA_TYPE_MISMATCH", msg.SYNTAX_ERRORS, path)
        return []


Problem = tuple[str, str]


@functools.lru_cache(maxsize=8192)
def _action_problem(action: str, trust: bool) -> Problem | None:
    """(code, message) for a bad Action/NotAction entry; a pure function of its text, so cached."""
    if action != "*":
        if ":" not in action:
            return "INVALID_ACTION", msg.VENDOR_REQUIRED
        if action.count(":") > 1:
            return "INVALID_ACTION", msg.ONE_COLON
        vendor = action.split(":", 1)[0]
        if not _VENDOR.match(vendor.replace("*", "a").replace("?", "a")):
            return "INVALID_SERVICE", f"Vendor {vendor} is not valid"
    if trust:
        matcher = ActionPattern(action)
        if not any(matcher.matches(a) for a in TRUST_ACTIONS):
            # AWS's words for a trust policy naming "sts:InvalidAction" (LocalStack's AWS-validated
            # test_iam_roles.snapshot.json); the longer "Trust Policy statement actions can only be ..." is moto's.
            return "INVALID_ACTION", "AssumeRole policy may only specify STS AssumeRole actions."
    return None


@functools.lru_cache(maxsize=8192)
def _resource_problem(resource: str, variables: bool) -> Problem | None:
    if resource == "*":
        return None
    split = split_arn(resource)
    if not resource.startswith("arn:") or split is None:
        return "INVALID_ARN", f'Resource {resource} must be in ARN format or "*".'
    _, partition, service, *_ = resource.split(":", 5)
    if partition not in PARTITIONS:
        return "INVALID_PARTITION", f'Partition "{partition}" is not valid for resource "{resource}".'
    if not service:
        return "INVALID_ARN_SERVICE", msg.RESOURCE_VENDOR
    return _template_problem(split[1], variables)


def _template_problem(text: str, variables: bool) -> Problem | None:
    try:
        parse_template(text, variables=variables)
    except VariableSyntaxError as exc:
        return "INVALID_VARIABLE", f"{msg.SYNTAX_ERRORS} {exc}"
    return None


@functools.lru_cache(maxsize=8192)
def _condition_value_problem(family: str, value: str, variables: bool) -> Problem | None:
    if variables and "${" in value:
        if family not in VARIABLE_FAMILIES:
            return ("INVALID_VARIABLE_FOR_OPERATOR",
                    f"{msg.SYNTAX_ERRORS} Policy variables cannot be used with this condition operator")
        return _template_problem(value, variables)
    check = _VALUE_CHECKS.get(family)
    if check is not None and check(value) is None:
        return "INVALID_CONDITION_DATA_TYPE", f"{msg.SYNTAX_ERRORS} Invalid value {value} for this condition operator"
    return None


_VALUE_CHECKS = {
    "numeric_eq": parse_number, "numeric_lt": parse_number, "numeric_le": parse_number,
    "numeric_gt": parse_number, "numeric_ge": parse_number,
    "date_eq": parse_date, "date_lt": parse_date, "date_le": parse_date, "date_gt": parse_date,
    "date_ge": parse_date, "ip": parse_network, "bool": parse_bool, "null": parse_bool,
    "binary": parse_base64,
}


def condition_text(value: str | int | float | bool) -> str:
    """How IAM reads a JSON condition value: booleans as true/false, numbers as written."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value) if isinstance(value, float) else str(value)
    return value


def _principal_ok(ptype: str, value: str) -> bool:
    if not value:
        return False
    if ptype == "AWS":
        return value == "*" or bool(_ACCOUNT.match(value)) or (
            bool(_AWS_PRINCIPAL_ARN.match(value)) and not is_wildcard(value))
    if ptype == "Service":
        return value == "*" or bool(_SERVICE.match(value))
    if ptype == "Federated":
        return not is_wildcard(value) or value == "*"
    return not is_wildcard(value) or value == "*"


def _is_rcp_full_access(st: dict[str, Any]) -> bool:
    return (st.get("Principal") in ("*", {"AWS": "*"}) and st.get("Action") in ("*", ["*"])
            and st.get("Resource") in ("*", ["*"]) and "Condition" not in st)
