"""The IAM policy simulator API: the same engine that decides live requests, asked hypothetical questions.

`SimulatePrincipalPolicy` evaluates a user's (with its groups'), a group's or a role's stored policies, plus any
given ones; `SimulateCustomPolicy` evaluates only the given documents. Results come one per action and resource,
with the matched statements' positions, missing context keys and the boundary/organizations details AWS reports.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from gatehouse.errors import InvalidInput, NoSuchEntity
from gatehouse.model import Caller, OwnerKind, Tag
from gatehouse.policy import (
    Decision,
    DecisionKind,
    LabelledPolicy,
    PolicyError,
    PolicyKind,
    PolicySet,
    Principal,
    RequestContext,
    context_keys,
    evaluate,
    parse,
)
from gatehouse.services.authorization import Gathered
from gatehouse.services.iam.common import IamBase
from gatehouse.services.operation import operation
from gatehouse.services.organizations.enforcement import principal_keys
from gatehouse.storage.markers import decode_marker, encode_marker
from gatehouse.storage.repository import StaleMarker, UnitOfWork

_SOURCE_ARN = re.compile(r"arn:(aws[a-z-]*):iam::(\d{12}):(user|group|role)(/(?:[^/]+/)*)([\w+=,.@-]+)\Z")
_DECISIONS = {DecisionKind.ALLOW: "allowed", DecisionKind.EXPLICIT_DENY: "explicitDeny",
              DecisionKind.IMPLICIT_DENY: "implicitDeny"}
_LIST_TYPES = {"stringList", "numericList", "booleanList", "ipList", "binaryList", "dateList"}

# The work one simulator request may ask for, in units of about a microsecond of engine time (see `simulation_cost`).
# AWS documents no such quota; its only client error for these operations is InvalidInput, so that is the answer
# past it, naming MaxItems (a smaller page costs less and the rest comes with the Marker).
SIMULATION_BUDGET = 2_000_000


def simulation_cost(policy_set_parts: Sequence[LabelledPolicy], keys: dict[str, Any], actions: int,
                    pairs: int) -> int:
    """Estimated work of one simulator page: each statement's conditions once per request (policy values x the
    request values they are compared with, weighted by length: glob matching is linear in the text); per distinct
    action, its Action patterns; per action/resource pair, one resource test per statement."""
    lowered = {k.lower(): v for k, v in keys.items()}
    conditions = patterns = statements = 0
    for lp in policy_set_parts:
        for st in lp.policy.policy.statements:
            statements += 1
            patterns += len(st.actions or st.not_actions or ())
            for clause in st.conditions:
                value = lowered.get(clause.key.lower())
                values = [value] if isinstance(value, str) else list(value or ())
                weight = sum(1 + len(v) // 100 for v in values) or 1
                conditions += len(clause.values) * weight
    return conditions + actions * patterns + pairs * statements


def _parse_inputs(documents: Sequence[str] | None, name: str, kind: PolicyKind, authz: Any,
                  ptype: PolicyKind) -> tuple[list[LabelledPolicy], dict[str, tuple[str, str]]]:
    out, sources = [], {}
    for n, document in enumerate(documents or (), start=1):
        try:
            # Read as the simulator evaluates it, not as IAM stores it: storage-time rules do not refuse it.
            policy = parse(document, kind=kind, stored=False)
        except PolicyError as e:
            raise InvalidInput(f"{name}.{n}: {e.message}") from None
        label = f"{name}.{n}"
        out.append(LabelledPolicy(authz.compiler.compile(policy), label, ptype))
        sources[label] = (label, "IAM Policy")
    return out, sources


def _context(entries: Sequence[dict[str, Any]] | None) -> dict[str, Any]:
    keys: dict[str, Any] = {}
    for entry in entries or ():
        name = entry.get("ContextKeyName")
        if not name:  # optional in the model, but an entry means nothing without it (was a KeyError: a 500)
            raise InvalidInput("ContextEntries: every entry needs a ContextKeyName.")
        values = [str(v) for v in entry.get("ContextKeyValues") or ()]
        multi = entry.get("ContextKeyType") in _LIST_TYPES
        keys[name] = values if multi or len(values) != 1 else values[0]
    return keys


def _page_start(marker: str | None) -> int:
    """The position a simulator marker (one we issued: a decimal position) stands for; StaleMarker otherwise."""
    if not marker:
        return 0
    position = decode_marker(marker)
    if not (position.isascii() and position.isdigit() and len(position) <= 12):
        raise StaleMarker(marker)
    return int(position)


class Simulator(IamBase):
    # --- sources -------------------------------------------------------------------------------------------

    def _source(self, tx: UnitOfWork, caller: Caller, action: str, arn: str) -> tuple[Gathered, Principal]:
        m = _SOURCE_ARN.match(arn)
        if not m:
            raise InvalidInput(f"Invalid ARN: {arn}")
        typed_partition, account, kind, _path, name = m.groups()
        partition = caller.partition
        if (typed_partition, account) != (partition, caller.account_id):  # another account's or partition's: none
            self.require(tx, caller, action, arn)
            raise NoSuchEntity(f"The {kind} with name {name} cannot be found.")
        if kind == "user":
            user = self.user_for(tx, caller, action, name)
            principal = Principal.from_arn(user.arn(partition), user_id=user.user_id)
            return self.authz.gather(tx, partition, account, OwnerKind.USER, user.user_id), principal
        if kind == "group":
            group = self.group_for(tx, caller, action, name)
            principal = Principal(f"arn:{partition}:iam::{account}:user/", account, "user")
            return self.authz.gather(tx, partition, account, OwnerKind.GROUP, group.group_id), principal
        role = self.role_for(tx, caller, action, name)
        principal = Principal.from_arn(role.arn(partition), user_id=role.role_id)
        return self.authz.gather(tx, partition, account, OwnerKind.ROLE, role.role_id), principal

    # --- simulation ------------------------------------------------------------------------------------------

    @operation
    def simulate_principal_policy(self, caller: Caller, policy_source_arn: str, action_names: list[str],
                                  policy_input_list: list[str] | None = None,
                                  permissions_boundary_policy_input_list: list[str] | None = None,
                                  resource_arns: list[str] | None = None, resource_policy: str | None = None,
                                  resource_owner: str | None = None, caller_arn: str | None = None,
                                  context_entries: list[dict[str, Any]] | None = None, max_items: int | None = None,
                                  marker: str | None = None, **_: Any) -> dict[str, Any]:
        with self.store.read(caller.account_id) as tx:
            gathered, principal = self._source(tx, caller, "iam:SimulatePrincipalPolicy", policy_source_arn)
            # The account's organization takes part as it does in a real request: its SCPs and its keys.
            view = self.authz.orgs.view(tx, caller.account_id)
            scps = [list(level) for level in self.authz.orgs.scps(view)] if view is not None else []
        extra, sources = _parse_inputs(policy_input_list, "PolicyInputList", PolicyKind.IDENTITY, self.authz,
                                       PolicyKind.IDENTITY)
        boundaries, b_sources = _parse_inputs(permissions_boundary_policy_input_list,
                                              "PermissionsBoundaryPolicyInputList", PolicyKind.BOUNDARY, self.authz,
                                              PolicyKind.BOUNDARY)
        boundary = boundaries[0] if boundaries else gathered.boundary
        return self._simulate(caller, principal, gathered.identity + extra, boundary, scps,
                              {**gathered.sources, **sources, **b_sources}, gathered.tags, action_names,
                              resource_arns, resource_policy, resource_owner, caller_arn, context_entries,
                              max_items, marker, principal_keys(view))

    @operation
    def simulate_custom_policy(self, caller: Caller, policy_input_list: list[str], action_names: list[str],
                               permissions_boundary_policy_input_list: list[str] | None = None,
                               ordered_organization_policy_input_list: list[str] | None = None,
                               resource_arns: list[str] | None = None, resource_policy: str | None = None,
                               resource_owner: str | None = None, caller_arn: str | None = None,
                               context_entries: list[dict[str, Any]] | None = None, max_items: int | None = None,
                               marker: str | None = None, **_: Any) -> dict[str, Any]:
        with self.store.read(caller.account_id) as tx:
            self.require(tx, caller, "iam:SimulateCustomPolicy", "*")
        identity, sources = _parse_inputs(policy_input_list, "PolicyInputList", PolicyKind.IDENTITY, self.authz,
                                          PolicyKind.IDENTITY)
        boundaries, b_sources = _parse_inputs(permissions_boundary_policy_input_list,
                                              "PermissionsBoundaryPolicyInputList", PolicyKind.BOUNDARY, self.authz,
                                              PolicyKind.BOUNDARY)
        scps, s_sources = _parse_inputs(ordered_organization_policy_input_list, "OrderedOrganizationPolicyInputList",
                                        PolicyKind.SCP, self.authz, PolicyKind.SCP)
        principal = Principal(f"arn:{caller.partition}:iam::{caller.account_id}:user/", caller.account_id, "user")
        return self._simulate(caller, principal, identity, boundaries[0] if boundaries else None,
                              [[s] for s in scps], {**sources, **b_sources, **s_sources}, (), action_names,
                              resource_arns, resource_policy, resource_owner, caller_arn, context_entries,
                              max_items, marker)

    def _simulate(self, caller: Caller, principal: Principal, identity: list[LabelledPolicy],
                  boundary: LabelledPolicy | None, scps: list[list[LabelledPolicy]],
                  sources: dict[str, tuple[str, str]], tags: Sequence[Tag], actions: list[str],
                  resources: list[str] | None, resource_policy: str | None, resource_owner: str | None,
                  caller_arn: str | None, entries: list[dict[str, Any]] | None, max_items: int | None,
                  marker: str | None, org_keys: dict[str, Any] | None = None) -> dict[str, Any]:
        resource = None
        if resource_policy:
            if not caller_arn and principal.arn.endswith(":user/"):
                raise InvalidInput("CallerArn is required when ResourcePolicy is specified.")
            try:
                doc = parse(resource_policy, kind=PolicyKind.RESOURCE, stored=False)
            except PolicyError as e:
                raise InvalidInput(f"ResourcePolicy: {e.message}") from None
            resource = LabelledPolicy(self.authz.compiler.compile(doc), "ResourcePolicy", PolicyKind.RESOURCE)
            sources["ResourcePolicy"] = ("ResourcePolicy", "resource")
        if caller_arn:
            try:
                principal = Principal.from_arn(caller_arn)
            except ValueError:
                raise InvalidInput(f"Invalid CallerArn: {caller_arn}") from None
        # Every pair shares the request's keys: each statement's conditions are evaluated once, not once per pair.
        policy_set = PolicySet(identity=identity, boundary=boundary, resource=resource, scps=scps,
                               conditions_once=True)
        keys = self.authz.request_keys(caller, tags)
        keys.pop("aws:userid", None)
        keys.update(org_keys or {})
        keys.update(_context(entries))
        # Only the requested page is evaluated: ActionNames × ResourceArns is unbounded in the model, and
        # deciding every pair to return at most MaxItems of them would let one request occupy the server.
        arns = resources or ["*"]
        total = len(actions) * len(arns)
        start = _page_start(marker)
        limit = max_items or 100
        pairs = max(0, min(start + limit, total) - start)
        page_actions = len({actions[n // len(arns)] for n in range(start, start + pairs, len(arns))}) if pairs else 0
        every = identity + ([boundary] if boundary else []) + [p for level in scps for p in level] + (
            [resource] if resource else [])
        cost = simulation_cost(every, keys, min(page_actions + 1, len(actions)), pairs)
        if cost > SIMULATION_BUDGET:
            raise InvalidInput(f"The simulation is too large to run in one request (an estimated {cost:,} units of "
                               f"work; the limit is {SIMULATION_BUDGET:,}). Ask for fewer results at a time with "
                               "MaxItems and fetch the rest with Marker, or simulate fewer policies or conditions.")
        results = [self._result(policy_set, principal, actions[n // len(arns)], arns[n % len(arns)], resource_owner,
                                keys, sources, boundary, scps)
                   for n in range(start, min(start + limit, total))]
        out: dict[str, Any] = {"EvaluationResults": results, "IsTruncated": start + limit < total}
        if out["IsTruncated"]:
            out["Marker"] = encode_marker(str(start + limit))
        return out

    def _result(self, policy_set: PolicySet, principal: Principal, action: str, arn: str, owner: str | None,
                keys: dict[str, Any], sources: dict[str, tuple[str, str]], boundary: LabelledPolicy | None,
                scps: list[list[LabelledPolicy]]) -> dict[str, Any]:
        ctx = RequestContext(principal, action, arn, resource_account=owner, keys=keys)
        decision = evaluate(policy_set, ctx)
        result: dict[str, Any] = {
            "EvalActionName": action, "EvalResourceName": arn, "EvalDecision": _DECISIONS[decision.kind],
            "MatchedStatements": self._statements(decision, sources),
            "MissingContextValues": list(decision.missing_keys),
        }
        if boundary is not None:
            result["PermissionsBoundaryDecisionDetail"] = {
                "AllowedByPermissionsBoundary": decision.denied_by is not PolicyKind.BOUNDARY}
        if scps:
            result["OrganizationsDecisionDetail"] = {"AllowedByOrganizations": decision.denied_by is not PolicyKind.SCP}
        if policy_set.resource.entries:
            result["EvalDecisionDetails"] = {"ResourcePolicy": _DECISIONS[decision.kind]}
        return result

    @staticmethod
    def _statements(decision: Decision, sources: dict[str, tuple[str, str]]) -> list[dict[str, Any]]:
        out = []
        for m in decision.matched:
            policy_id, policy_type = sources.get(m.policy, (m.policy, "none"))
            item: dict[str, Any] = {"SourcePolicyId": policy_id, "SourcePolicyType": policy_type}
            if m.start:
                item["StartPosition"] = {"Line": m.start.line, "Column": m.start.column}
            if m.end:
                item["EndPosition"] = {"Line": m.end.line, "Column": m.end.column}
            out.append(item)
        return out

    # --- context keys --------------------------------------------------------------------------------------

    @operation
    def get_context_keys_for_custom_policy(self, caller: Caller, policy_input_list: list[str]) -> dict[str, Any]:
        with self.store.read(caller.account_id) as tx:
            self.require(tx, caller, "iam:GetContextKeysForCustomPolicy", "*")
        inputs, _ = _parse_inputs(policy_input_list, "PolicyInputList", PolicyKind.IDENTITY, self.authz,
                                  PolicyKind.IDENTITY)
        return {"ContextKeyNames": context_keys([lp.policy.policy for lp in inputs])}

    @operation
    def get_context_keys_for_principal_policy(self, caller: Caller, policy_source_arn: str,
                                              policy_input_list: list[str] | None = None) -> dict[str, Any]:
        with self.store.read(caller.account_id) as tx:
            gathered, _ = self._source(tx, caller, "iam:GetContextKeysForPrincipalPolicy", policy_source_arn)
        inputs, _ = _parse_inputs(policy_input_list, "PolicyInputList", PolicyKind.IDENTITY, self.authz,
                                  PolicyKind.IDENTITY)
        return {"ContextKeyNames": context_keys([lp.policy.policy for lp in gathered.identity + inputs])}
