"""What the Organizations API answers with: ARNs of an organization's entities, the output shapes, and pages
(MaxResults up to 20, an opaque NextToken bound to the listing)."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Sequence
from typing import Any, TypeVar

from gatehouse.model import Account
from gatehouse.organization import AccountRequest, OrgAccount, OrgPolicy, OrgShape, OrgUnit
from gatehouse.services.organizations import errors as e
from gatehouse.services.organizations.enforcement import policy_arn

T = TypeVar("T")
MAX_RESULTS = 20


# --- paging ----------------------------------------------------------------------------------------------------


def page(member: str, items: Sequence[T], next_token: str | None, max_results: int | None,
         fingerprint: str) -> dict[str, Any]:
    """One page of `items` (MaxResults 1-20, default 20) with an opaque NextToken bound to the listing."""
    if max_results is not None and not 1 <= max_results <= MAX_RESULTS:
        raise e.InvalidInputException("MAX_VALUE_EXCEEDED", "You provided a value that is too large.")
    start = untoken(next_token, fingerprint) if next_token else 0
    limit = max_results or MAX_RESULTS
    out: dict[str, Any] = {member: list(items[start:start + limit])}
    if start + limit < len(items):
        out["NextToken"] = base64.urlsafe_b64encode(json.dumps([start + limit, fingerprint]).encode()).decode()
    return out


def untoken(token: str, fingerprint: str) -> int:
    try:
        offset, made_for = json.loads(base64.urlsafe_b64decode(token.encode()))
        if made_for == fingerprint and isinstance(offset, int) and offset > 0:
            return offset
    except (ValueError, TypeError, binascii.Error):
        pass
    raise e.InvalidInputException("INVALID_NEXT_TOKEN", "You specified an invalid value for nextToken. You must get "
                                                        "the value from the response to a previous call to the API.")


# --- ARNs and views --------------------------------------------------------------------------------------------


def base_arn(shape: OrgShape, partition: str) -> str:
    return f"arn:{partition}:organizations::{shape.org.management_account_id}"


def account_arn(shape: OrgShape, account_id: str, partition: str) -> str:
    return f"{base_arn(shape, partition)}:account/{shape.org.org_id}/{account_id}"


def unit_arn(shape: OrgShape, ou_id: str, partition: str) -> str:
    return f"{base_arn(shape, partition)}:ou/{shape.org.org_id}/{ou_id}"


def root_arn(shape: OrgShape, root_id: str, partition: str) -> str:
    return f"{base_arn(shape, partition)}:root/{shape.org.org_id}/{root_id}"


def parent_arn(shape: OrgShape, parent_id: str, partition: str) -> str:
    if parent_id.startswith("r-"):
        return root_arn(shape, parent_id, partition)
    return unit_arn(shape, parent_id, partition)


def target_arn(shape: OrgShape, target_id: str, partition: str) -> str:
    return account_arn(shape, target_id, partition) if target_id.isdigit() else parent_arn(shape, target_id,
                                                                                             partition)


def entity_policy_arn(shape: OrgShape, policy_id: str, partition: str) -> str:
    policy = shape.policies.get(policy_id)
    if policy is not None:
        return policy_arn(shape, policy_id, policy.policy_type, policy.aws_managed, partition)
    return f"{base_arn(shape, partition)}:policy/{shape.org.org_id}/*/{policy_id}"


def account_name(account: Account) -> str:
    return account.alias or account.account_id


def organization_view(shape: OrgShape, partition: str) -> dict[str, Any]:
    org = shape.org
    management = shape.accounts.get(org.management_account_id)
    out: dict[str, Any] = {
        "Id": org.org_id, "Arn": org.arn(partition), "FeatureSet": org.feature_set,
        "MasterAccountArn": account_arn(shape, org.management_account_id, partition),
        "MasterAccountId": org.management_account_id,
        "AvailablePolicyTypes": [{"Type": t, "Status": "ENABLED"} for t in org.policy_types]}
    if management is not None and management.email:
        out["MasterAccountEmail"] = management.email
    return out


def root_view(shape: OrgShape, partition: str) -> dict[str, Any]:
    return {"Id": shape.org.root_id, "Arn": shape.org.root_arn(partition), "Name": "Root",
            "PolicyTypes": [{"Type": t, "Status": "ENABLED"} for t in shape.org.policy_types]}


def unit_view(shape: OrgShape, unit: OrgUnit, partition: str) -> dict[str, Any]:
    return {"Id": unit.ou_id, "Arn": unit_arn(shape, unit.ou_id, partition), "Name": unit.name,
            "Path": "/".join((shape.org.org_id, *shape.path(unit.parent_id), unit.ou_id)) + "/"}


def account_view(shape: OrgShape, account: OrgAccount, partition: str) -> dict[str, Any]:
    out: dict[str, Any] = {"Id": account.account_id, "Arn": account_arn(shape, account.account_id, partition),
                           "Name": account.name, "Status": account.status, "State": account.status,
                           "JoinedMethod": account.joined_method, "JoinedTimestamp": account.joined,
                           "Paths": [shape.org_path(account.account_id) + account.account_id + "/"]}
    if account.email:
        out["Email"] = account.email
    return out


def status_view(request: AccountRequest) -> dict[str, Any]:
    out: dict[str, Any] = {"Id": request.request_id, "AccountName": request.account_name, "State": request.state,
                           "RequestedTimestamp": request.requested}
    if request.completed:
        out["CompletedTimestamp"] = request.completed
    if request.account_id:
        out["AccountId"] = request.account_id
    if request.failure_reason:
        out["FailureReason"] = request.failure_reason
    return out


def summary(shape: OrgShape, policy: OrgPolicy, partition: str) -> dict[str, Any]:
    return {"Id": policy.policy_id,
            "Arn": policy_arn(shape, policy.policy_id, policy.policy_type, policy.aws_managed, partition),
            "Name": policy.name, "Description": policy.description, "Type": policy.policy_type,
            "AwsManaged": policy.aws_managed}


def policy_view(shape: OrgShape, policy: OrgPolicy, partition: str) -> dict[str, Any]:
    return {"PolicySummary": summary(shape, policy, partition), "Content": policy.content}


def target_view(shape: OrgShape, target_id: str, partition: str) -> dict[str, Any]:
    if target_id == shape.org.root_id:
        return {"TargetId": target_id, "Arn": shape.org.root_arn(partition), "Name": "Root", "Type": "ROOT"}
    if target_id in shape.units:
        return {"TargetId": target_id, "Arn": unit_arn(shape, target_id, partition),
                "Name": shape.units[target_id].name, "Type": "ORGANIZATIONAL_UNIT"}
    return {"TargetId": target_id, "Arn": account_arn(shape, target_id, partition),
            "Name": shape.accounts[target_id].name, "Type": "ACCOUNT"}
