"""CloudTrail's record format, built from what the request path saw (`ApiCall`) or what sign-in decided.

The shape follows CloudTrail's "record contents" reference (eventVersion 1.08): `userIdentity` by principal type
(Root, IAMUser, AssumedRole with `sessionContext.sessionIssuer`, FederatedUser), `eventSource` as
`<service>.amazonaws.com`, `eventType` `AwsApiCall` (or `AwsConsoleSignIn`), `managementEvent` true. A record is
stored as canonical JSON (sorted keys, no spaces): the text the hash chain covers.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from typing import Any

from gatehouse.model import Caller, PrincipalKind
from gatehouse.services.audit.calls import ApiCall
from gatehouse.storage.audit import NO_ACCOUNT, NewEvent

EVENT_VERSION = "1.08"
HIDDEN_USER = "HIDDEN_DUE_TO_SECURITY_REASONS"  # what CloudTrail writes for a sign-in name that names no user

# requestParameters member → the resource type CloudTrail's LookupEvents names (first match is the event's).
_RESOURCES: tuple[tuple[str, str], ...] = (
    ("userName", "AWS::IAM::User"), ("roleName", "AWS::IAM::Role"), ("groupName", "AWS::IAM::Group"),
    ("policyArn", "AWS::IAM::Policy"), ("instanceProfileName", "AWS::IAM::InstanceProfile"),
    ("accessKeyId", "AWS::IAM::AccessKey"), ("serialNumber", "AWS::IAM::MFADevice"),
    ("virtualMFADeviceName", "AWS::IAM::MFADevice"), ("openIDConnectProviderArn", "AWS::IAM::OIDCProvider"),
    ("sAMLProviderArn", "AWS::IAM::SAMLProvider"), ("serverCertificateName", "AWS::IAM::ServerCertificate"),
    ("roleArn", "AWS::IAM::Role"),
)
_SIGNIN_SOURCE = "signin.amazonaws.com"
# One encoder for every record: json.dumps with options builds a new one per call.
_ENCODER = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False, default=str)


def event_time(when: dt.datetime) -> str:
    return when.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def canonical(record: Mapping[str, Any]) -> str:
    """The record's stored text: compact JSON in the record's own (fixed) member order. The chain hashes this text
    as stored, so no re-serialization has to reproduce it."""
    return _ENCODER.encode(record)


def resources(params: Mapping[str, Any] | None) -> list[tuple[str, str]]:
    """(type, name) of each resource the request names, as LookupEvents lists them."""
    found = []
    for member, kind in _RESOURCES:
        value = (params or {}).get(member)
        if isinstance(value, str) and value:
            found.append((kind, value))
    return found


def user_identity(caller: Caller | None, account_id: str | None, access_key_id: str | None) -> dict[str, Any]:
    if caller is None or caller.kind is PrincipalKind.ANONYMOUS:
        ident: dict[str, Any] = {"type": "Unknown" if caller is None else "WebIdentityUser"}
        if account_id:
            ident["accountId"] = account_id
        if access_key_id:
            ident["accessKeyId"] = access_key_id
        return ident
    acct, partition = caller.account_id, caller.partition
    ident = {"principalId": caller.user_id, "arn": caller.arn, "accountId": acct}
    if caller.access_key_id:
        ident["accessKeyId"] = caller.access_key_id
    session = caller.session
    if caller.kind is PrincipalKind.ROOT:
        ident["type"] = "Root"
    elif caller.kind is PrincipalKind.USER:
        ident |= {"type": "IAMUser", "userName": caller.name}
    elif caller.kind is PrincipalKind.ASSUMED_ROLE:
        ident["type"] = "AssumedRole"
        role = session.role_name if session and session.role_name else ""
        issuer = {"type": "Role", "principalId": caller.principal_id or "", "accountId": acct,
                  "arn": f"arn:{partition}:iam::{acct}:role/{role}", "userName": role}
        ident["sessionContext"] = {"sessionIssuer": issuer}
    else:  # federated user
        ident["type"] = "FederatedUser"
        ident["sessionContext"] = {"sessionIssuer": {"type": "IAMUser", "principalId": caller.principal_id or "",
                                                     "accountId": acct}}
    if session is not None:
        context = ident.setdefault("sessionContext", {})
        context["attributes"] = {"creationDate": event_time(session.issued),
                                 "mfaAuthenticated": "true" if session.mfa_authenticated else "false"}
        if session.source_identity:
            context["sourceIdentity"] = session.source_identity
    return ident


def lookup_username(caller: Caller | None) -> str | None:
    """LookupEvents' Username: the IAM user's name, `root`, or the role session's name."""
    if caller is None or caller.kind is PrincipalKind.ANONYMOUS:
        return None
    return caller.name or None


def api_record(call: ApiCall, found: list[tuple[str, str]] | None = None) -> dict[str, Any]:
    account = call.caller.account_id if call.caller and call.caller.account_id else call.account_id
    record: dict[str, Any] = {
        "eventVersion": EVENT_VERSION,
        "userIdentity": user_identity(call.caller, call.account_id, call.access_key_id),
        "eventTime": event_time(call.time),
        "eventSource": f"{call.service}.amazonaws.com",
        "eventName": call.operation,
        "awsRegion": call.region,
        "sourceIPAddress": call.source_ip,
        "userAgent": call.user_agent,
        "requestParameters": dict(call.request_parameters) if call.request_parameters is not None else None,
        "responseElements": dict(call.response_elements) if call.response_elements is not None else None,
        "requestID": call.request_id,
        "eventID": call.event_id,
        "readOnly": call.read_only,
        "eventType": "AwsApiCall",
        "managementEvent": True,
        "recipientAccountId": account or "",
        "eventCategory": "Management",
    }
    if call.error_code:
        record["errorCode"] = call.error_code
        record["errorMessage"] = call.error_message or ""
    found = resources(call.request_parameters) if found is None else found
    if found:
        record["resources"] = [{"type": kind, "ARN" if name.startswith("arn:") else "name": name}
                               for kind, name in found]
    return record


def api_event(call: ApiCall) -> NewEvent:
    found = resources(call.request_parameters)
    record = api_record(call, found)
    account = record["recipientAccountId"] or NO_ACCOUNT
    return NewEvent(chain=account, event_id=call.event_id, event_time=call.time, event_name=call.operation,
                    event_source=record["eventSource"], read_only=call.read_only,
                    username=lookup_username(call.caller), access_key_id=call.access_key_id or None,
                    resource_type=found[0][0] if found else None, resource_name=found[0][1] if found else None,
                    record=canonical(record))


def signin_event(*, event_id: str, request_id: str, when: dt.datetime, account_id: str | None, user_arn: str | None,
                 principal_id: str | None, user_name: str | None, root: bool, outcome: str, mfa_used: bool,
                 source_ip: str, user_agent: str, error_message: str | None) -> NewEvent:
    """A ConsoleLogin event as CloudTrail writes it. A name that names nobody is recorded as CloudTrail records it
    (`HIDDEN_DUE_TO_SECURITY_REASONS`): the text typed may be a password typed in the wrong field."""
    if root:
        ident: dict[str, Any] = {"type": "Root", "principalId": account_id or "", "arn": user_arn or "",
                                 "accountId": account_id or "", "accessKeyId": ""}
        name: str | None = "root"
    elif user_arn:
        ident = {"type": "IAMUser", "principalId": principal_id or "", "arn": user_arn, "accountId": account_id or "",
                 "accessKeyId": "", "userName": user_name or ""}
        name = user_name
    else:
        ident = {"type": "IAMUser", "accountId": account_id or "", "accessKeyId": "", "userName": HIDDEN_USER}
        name = HIDDEN_USER
    success = outcome == "Success"
    record: dict[str, Any] = {
        "eventVersion": EVENT_VERSION, "userIdentity": ident, "eventTime": event_time(when),
        "eventSource": _SIGNIN_SOURCE, "eventName": "ConsoleLogin", "awsRegion": "us-east-1",
        "sourceIPAddress": source_ip, "userAgent": user_agent, "requestParameters": None,
        "responseElements": {"ConsoleLogin": "Success" if success else "Failure"},
        "additionalEventData": {"MobileVersion": "No", "MFAUsed": "Yes" if mfa_used else "No"},
        "eventID": event_id, "requestID": request_id, "readOnly": False, "eventType": "AwsConsoleSignIn",
        "managementEvent": True, "recipientAccountId": account_id or "", "eventCategory": "Management",
    }
    if not success:
        record["errorMessage"] = error_message or "Failed authentication"
    return NewEvent(chain=account_id or NO_ACCOUNT, event_id=event_id, event_time=when, event_name="ConsoleLogin",
                    event_source=_SIGNIN_SOURCE, read_only=False, username=name, access_key_id=None,
                    resource_type=None, resource_name=None, record=canonical(record))
