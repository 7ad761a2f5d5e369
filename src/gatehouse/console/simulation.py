"""The policy simulator page's work: a form's answers → a SimulatePrincipalPolicy or SimulateCustomPolicy request,
and its results → what the page shows (the decision per action and resource, why, and each matched statement
inside the text of the policy it belongs to).

The decision is the API's own (the same operations, called as the signed-in principal), never recomputed here. For
a principal's stored policies the matched statement's text is read with the caller's own permissions
(GetUserPolicy, GetPolicyVersion, ...), only for the policies a result names; a policy the caller may not read is
shown by name and position only.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from gatehouse.errors import AwsError

from .policy_text import Line, document_text, statement_view

Call = Callable[[str, str, Mapping[str, Any]], dict[str, Any]]  # (service, action, params) as the signed-in caller

PRINCIPAL_KINDS = ("user", "group", "role")
CONTEXT_TYPES = ("string", "stringList", "numeric", "numericList", "boolean", "booleanList", "ip", "ipList",
                 "binary", "binaryList", "date", "dateList")
MAX_ACTIONS, MAX_RESOURCES, MAX_POLICIES, MAX_CONTEXT = 50, 20, 10, 20
_DECISION_WORDS = {"allowed": "Allowed", "explicitDeny": "Denied (explicit deny)",
                   "implicitDeny": "Denied (implicitly: nothing allows it)"}


@dataclass
class SimulationForm:
    """The simulator form's answers, as typed."""

    mode: str = "principal"  # "principal" or "custom"
    principal_kind: str = "user"
    principal_name: str = ""
    policies: list[str] = field(default_factory=list)  # pasted documents (custom mode)
    actions: list[str] = field(default_factory=list)
    resources: list[str] = field(default_factory=list)
    context: list[tuple[str, str, str]] = field(default_factory=list)  # (key, type, comma-separated values)
    resource_policy: str = ""  # a resource-based policy to evaluate with the identity's (S3 bucket policy, ...)
    caller_arn: str = ""  # who calls, when a resource policy is given (required for pasted policies)
    resource_owner: str = ""  # the account that owns the resources (an account id or ARN)

    @classmethod
    def from_fields(cls, fields: Mapping[str, Any], lists: Callable[[str], list[str]]) -> SimulationForm:
        """From a submitted form: `fields` single values, `lists(name)` every value of a repeated field."""
        keys, types, values = lists("context_key"), lists("context_type"), lists("context_values")
        context = [(k.strip(), (types[n] if n < len(types) else "string"), (values[n] if n < len(values) else ""))
                   for n, k in enumerate(keys) if k.strip()]
        return cls(mode="custom" if fields.get("mode") == "custom" else "principal",
                   principal_kind=str(fields.get("principal_kind") or "user"),
                   principal_name=str(fields.get("principal_name") or "").strip(),
                   policies=[p for p in lists("policy") if p.strip()],
                   actions=_words(lists("actions")), resources=_words(lists("resources")), context=context,
                   resource_policy=str(fields.get("resource_policy") or ""),
                   caller_arn=str(fields.get("caller_arn") or "").strip(),
                   resource_owner=str(fields.get("resource_owner") or "").strip())


def _words(values: Sequence[str]) -> list[str]:
    """Actions or resources typed one per line, or separated by commas or spaces."""
    out: list[str] = []
    for value in values:
        for word in value.replace(",", " ").split():
            if word not in out:
                out.append(word)
    return out


class FormProblem(ValueError):
    """The form cannot be simulated as filled in; the message says what to fix."""


def request_for(form: SimulationForm, partition: str, account_id: str) -> tuple[str, dict[str, Any]]:
    """The operation and its parameters (AWS member names) for the form."""
    if not form.actions:
        raise FormProblem("Enter at least one action, for example iam:CreateUser.")
    if len(form.actions) > MAX_ACTIONS or len(form.resources) > MAX_RESOURCES:
        raise FormProblem(f"Simulate at most {MAX_ACTIONS} actions and {MAX_RESOURCES} resources at a time.")
    if len(form.policies) > MAX_POLICIES or len(form.context) > MAX_CONTEXT:
        raise FormProblem(f"Paste at most {MAX_POLICIES} policies and {MAX_CONTEXT} context keys.")
    params: dict[str, Any] = {"ActionNames": form.actions, "MaxItems": 1000}
    if form.resources:
        params["ResourceArns"] = form.resources
    if form.context:
        entries = []
        for key, kind, raw in form.context:
            if kind not in CONTEXT_TYPES:
                raise FormProblem(f"Context key {key}: choose a type from the list.")
            values = [v.strip() for v in raw.split(",")] if kind.endswith("List") else [raw.strip()]
            entries.append({"ContextKeyName": key, "ContextKeyType": kind,
                            "ContextKeyValues": [v for v in values if v]})
        params["ContextEntries"] = entries
    if form.resource_policy.strip():
        params["ResourcePolicy"] = form.resource_policy
    if form.caller_arn:
        params["CallerArn"] = form.caller_arn
    if form.resource_owner:
        params["ResourceOwner"] = form.resource_owner
    if form.mode == "custom":
        if not form.policies:
            raise FormProblem("Paste at least one policy document to simulate.")
        return "SimulateCustomPolicy", {**params, "PolicyInputList": form.policies}
    if form.principal_kind not in PRINCIPAL_KINDS:
        raise FormProblem("Choose a user, a group or a role.")
    if not form.principal_name:
        raise FormProblem(f"Enter the name of the {form.principal_kind} to simulate.")
    params["PolicySourceArn"] = f"arn:{partition}:iam::{account_id}:{form.principal_kind}/{form.principal_name}"
    return "SimulatePrincipalPolicy", params


@dataclass(frozen=True)
class ShownStatement:
    """One matched statement: which policy it is in, where, and that policy's lines with the statement marked."""

    policy_id: str
    policy_type: str
    start: tuple[int, int] | None
    end: tuple[int, int] | None
    lines: list[Line] | None  # None: the policy's text could not be read by the caller
    effect: str  # "Allow", "Deny" or "" when unknown
    indented: bool = False  # `lines` are the document re-indented (stored compact), the statement marked there
    sid: str = ""


@dataclass(frozen=True)
class ShownResult:
    action: str
    resource: str
    decision: str  # allowed, explicitDeny, implicitDeny (as the API says)
    decision_words: str
    reason: str
    statements: list[ShownStatement]
    missing_context: list[str]
    boundary_allows: bool | None
    organizations_allow: bool | None


def shown_results(results: Sequence[Mapping[str, Any]], texts: Mapping[tuple[str, str], str]) -> list[ShownResult]:
    """The API's EvaluationResults as the page shows them; `texts` holds each named policy's document, keyed by
    (SourcePolicyType, SourcePolicyId)."""
    out = []
    for r in results:
        statements = []
        for m in r.get("MatchedStatements") or ():
            key = (m.get("SourcePolicyType", ""), m.get("SourcePolicyId", ""))
            start = _position(m.get("StartPosition"))
            end = _position(m.get("EndPosition"))
            text = texts.get(key)
            shown = statement_view(text, start, end) if text is not None else None
            statements.append(ShownStatement(key[1], key[0], start, end, shown.lines if shown else None,
                                             shown.effect if shown else "", bool(shown and shown.indented),
                                             shown.sid if shown else ""))
        boundary = (r.get("PermissionsBoundaryDecisionDetail") or {}).get("AllowedByPermissionsBoundary")
        orgs = (r.get("OrganizationsDecisionDetail") or {}).get("AllowedByOrganizations")
        decision = r.get("EvalDecision", "implicitDeny")
        out.append(ShownResult(r.get("EvalActionName", ""), r.get("EvalResourceName", ""), decision,
                               _DECISION_WORDS.get(decision, decision), _reason(r, statements, boundary, orgs),
                               statements, list(r.get("MissingContextValues") or ()), boundary, orgs))
    return out


def _position(value: Any) -> tuple[int, int] | None:
    if isinstance(value, Mapping) and "Line" in value:
        return int(value["Line"]), int(value.get("Column", 1))
    return None


def _reason(r: Mapping[str, Any], statements: Sequence[ShownStatement], boundary: bool | None,
            orgs: bool | None) -> str:
    action, resource = r.get("EvalActionName", ""), r.get("EvalResourceName", "")
    decision = r.get("EvalDecision")
    named = ", ".join((f"statement {s.sid} of " if s.sid else "") + s.policy_id
                      + (f" (line {s.start[0]})" if s.start else "") for s in statements)
    if decision == "allowed":
        return f"{action} on {resource} is allowed by {named or 'a matching statement'}."
    if decision == "explicitDeny":
        return (f"{action} on {resource} is denied by an explicit Deny in {named or 'a policy'}; an explicit deny "
                "overrides every Allow.")
    why = [f"No statement allows {action} on {resource}, so it is denied by default (implicit deny)."]
    if boundary is False:
        why.append("The permissions boundary does not allow it.")
    if orgs is False:
        why.append("An organization policy (SCP) does not allow it.")
    if r.get("MissingContextValues"):
        why.append("Some conditions need context values that were not given: "
                   + ", ".join(r["MissingContextValues"]) + ".")
    return " ".join(why)


def policy_texts(call: Call, form: SimulationForm, results: Sequence[Mapping[str, Any]]) -> dict[tuple[str, str], str]:
    """The text of every policy a result names: pasted ones from the form, stored ones read as the caller."""
    texts = {("IAM Policy", f"PolicyInputList.{n}"): doc for n, doc in enumerate(form.policies, start=1)
             if form.mode == "custom"}
    if form.resource_policy.strip():
        texts[("resource", "ResourcePolicy")] = form.resource_policy
    wanted = {(m.get("SourcePolicyType", ""), m.get("SourcePolicyId", ""))
              for r in results for m in r.get("MatchedStatements") or ()} - set(texts)
    if not wanted or form.mode == "custom":
        return texts
    reader = _StoredPolicies(call, form.principal_kind, form.principal_name)
    for kind, policy_id in sorted(wanted):
        try:
            text = reader.text(kind, policy_id)
        except AwsError:
            text = None  # the caller may simulate but not read it: shown by name and position only
        if text is not None:
            texts[(kind, policy_id)] = text
    return texts


_NOUN = {"user": "User", "group": "Group", "role": "Role"}


class _StoredPolicies:
    """A principal's stored policies, read as the caller, only as far as a look-up needs."""

    def __init__(self, call: Call, kind: str, name: str) -> None:
        self.call, self.kind, self.name = call, kind, name
        self._owners: list[tuple[str, str]] | None = None

    def owners(self) -> list[tuple[str, str]]:
        """(kind, name) of the principal and, for a user, its groups: whoever may hold a matched policy."""
        if self._owners is None:
            owners = [(self.kind, self.name)]
            if self.kind == "user":
                groups = self.call("iam", "ListGroupsForUser", {"UserName": self.name, "MaxItems": 1000})
                owners += [("group", g["GroupName"]) for g in groups.get("Groups") or ()]
            self._owners = owners
        return self._owners

    def text(self, policy_type: str, policy_id: str) -> str | None:
        if policy_type in _NOUN:  # an inline policy of that kind of owner
            for kind, name in self.owners():
                if kind != policy_type:
                    continue
                noun = _NOUN[kind]
                try:
                    got = self.call("iam", f"Get{noun}Policy", {f"{noun}Name": name, "PolicyName": policy_id})
                except AwsError as e:
                    if e.code == "NoSuchEntity":
                        continue
                    raise
                return document_text(got["PolicyDocument"])
            return None
        if policy_id.startswith("arn:"):  # a managed policy named by its ARN (a permissions boundary)
            return self._managed(policy_id)
        for kind, name in self.owners():  # a managed policy attached to one of them
            noun = _NOUN[kind]
            attached = self.call("iam", f"ListAttached{noun}Policies", {f"{noun}Name": name, "MaxItems": 1000})
            for p in attached.get("AttachedPolicies") or ():
                if p["PolicyName"] == policy_id:
                    return self._managed(p["PolicyArn"])
        return None

    def _managed(self, arn: str) -> str:
        policy = self.call("iam", "GetPolicy", {"PolicyArn": arn})["Policy"]
        version = self.call("iam", "GetPolicyVersion", {"PolicyArn": arn, "VersionId": policy["DefaultVersionId"]})
        return document_text(version["PolicyVersion"]["Document"])
