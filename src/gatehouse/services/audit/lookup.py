"""CloudTrail's LookupEvents over the trail: the caller's account's events, newest first, filtered by at most one
lookup attribute and a time window, paged by an opaque NextToken. Authorized as `cloudtrail:LookupEvents` on `*`
(CloudTrail's event history has no resource-level permissions)."""

from __future__ import annotations

import base64
import datetime as dt
import json
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from gatehouse.errors import AwsError
from gatehouse.model import Caller
from gatehouse.services.audit.records import resources
from gatehouse.services.authorization import Authorizer
from gatehouse.services.operation import operation
from gatehouse.storage.audit import AuditLog, EventQuery, StoredEvent
from gatehouse.storage.repository import Store

# AttributeKey → the trail's column (CloudTrail's LookupAttributeKey enum, less the ones it keeps for its own use).
_ATTRIBUTES = {"EventId": "event_id", "EventName": "event_name", "ReadOnly": "read_only", "Username": "username",
               "ResourceType": "resource_type", "ResourceName": "resource_name", "EventSource": "event_source",
               "AccessKeyId": "access_key_id"}
DEFAULT_RESULTS, MAX_RESULTS = 50, 50


class InvalidLookupAttributesException(AwsError):
    code, http_status = "InvalidLookupAttributesException", 400


class InvalidTimeRangeException(AwsError):
    code, http_status = "InvalidTimeRangeException", 400


class InvalidMaxResultsException(AwsError):
    code, http_status = "InvalidMaxResultsException", 400


class InvalidNextTokenException(AwsError):
    code, http_status = "InvalidNextTokenException", 400


class InvalidEventCategoryException(AwsError):
    code, http_status = "InvalidEventCategoryException", 400


def _token(seq: int, fingerprint: str) -> str:
    return base64.urlsafe_b64encode(json.dumps([seq, fingerprint]).encode()).decode()


def _untoken(token: str, fingerprint: str) -> int:
    """The page's continuation; a token made for another query (or not made here) is refused, as CloudTrail does."""
    try:
        seq, made_for = json.loads(base64.urlsafe_b64decode(token.encode()))
        if made_for == fingerprint and isinstance(seq, int) and seq > 0:
            return seq
    except (ValueError, TypeError):
        pass
    raise InvalidNextTokenException("Invalid NextToken.")


class CloudTrailLookup:
    """`flush` (the trail's) appends what this process has queued before a lookup reads: a caller sees its own
    reads, refusals and sign-ins at once (other replicas' within their flush interval, a quarter of a second)."""

    def __init__(self, log: AuditLog, store: Store, authz: Authorizer,
                 flush: Callable[[], object] | None = None) -> None:
        self.log = log
        self.store = store
        self.authz = authz
        self.flush = flush

    @operation
    def lookup_events(self, caller: Caller, lookup_attributes: Sequence[Mapping[str, str]] | None = None,
                      start_time: dt.datetime | None = None, end_time: dt.datetime | None = None,
                      event_category: str | None = None, max_results: int | None = None,
                      next_token: str | None = None) -> dict[str, Any]:
        with self.store.read(caller.account_id) as tx:
            self.authz.require(tx, caller, "cloudtrail:LookupEvents", "*")
        if event_category not in (None, "insight"):
            raise InvalidEventCategoryException("Event category is invalid.")
        if event_category == "insight":  # no Insights events here
            return {"Events": []}
        attributes = list(lookup_attributes or [])
        if len(attributes) > 1:
            raise InvalidLookupAttributesException("You cannot specify more than one lookup attribute.")
        attribute, value = None, None
        if attributes:
            key, raw = attributes[0].get("AttributeKey", ""), attributes[0].get("AttributeValue", "")
            if key not in _ATTRIBUTES:
                raise InvalidLookupAttributesException(f"The attribute key {key} is not valid.")
            attribute = _ATTRIBUTES[key]
            value = raw.lower() == "true" if key == "ReadOnly" else raw
        if max_results is not None and not 1 <= max_results <= MAX_RESULTS:
            raise InvalidMaxResultsException("MaxResults must be between 1 and 50.")
        if start_time and end_time and start_time > end_time:
            raise InvalidTimeRangeException("Start time must be before the end time.")
        limit = max_results or DEFAULT_RESULTS
        if self.flush is not None:
            self.flush()
        fingerprint = json.dumps([attribute, str(value), str(start_time), str(end_time)])
        before = _untoken(next_token, fingerprint) if next_token else None
        found = self.log.lookup(EventQuery(chain=caller.account_id, start=start_time, end=end_time,
                                           attribute=attribute, value=value, before_seq=before, limit=limit + 1))
        result: dict[str, Any] = {"Events": [_event(e) for e in found[:limit]]}
        if len(found) > limit:
            result["NextToken"] = _token(found[limit - 1].seq, fingerprint)
        return result


def _event(e: StoredEvent) -> dict[str, Any]:
    record = json.loads(e.record)
    ident = record.get("userIdentity") or {}
    out: dict[str, Any] = {"EventId": e.event_id, "EventName": record.get("eventName", ""),
                           "ReadOnly": "true" if record.get("readOnly") else "false", "EventTime": e.event_time,
                           "EventSource": record.get("eventSource", ""), "CloudTrailEvent": e.record}
    if ident.get("accessKeyId"):
        out["AccessKeyId"] = ident["accessKeyId"]
    name = ident.get("userName") or (ident.get("arn", "").rsplit("/", 1)[-1] if ident.get("arn") else None)
    if ident.get("type") == "Root":
        name = "root"
    if name:
        out["Username"] = name
    out["Resources"] = [{"ResourceType": kind, "ResourceName": rname}
                        for kind, rname in resources(record.get("requestParameters"))]
    return out
