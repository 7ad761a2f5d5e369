"""Service last accessed data from the trail: GenerateServiceLastAccessedDetails / GetServiceLastAccessedDetails.

The job is computed when it is generated (it reads the entity's events in the trail) and kept in the database by
job id, so any replica answers Get; its status is then COMPLETED at once. An IAM user's calls are its own events;
a role's are the events of its sessions (`sessionIssuer`). Beyond AWS, which lists every service the entity's
policies allow, the list holds the services the trail saw the entity use (IAM and STS here); the tracked actions
(ACTION_LEVEL) are the operations it called.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from typing import Any

from gatehouse.errors import InvalidInput, NoSuchEntity
from gatehouse.model import Caller, Role, User
from gatehouse.services.iam.common import IamBase, IamDeps
from gatehouse.services.operation import operation
from gatehouse.storage.audit import AuditLog, EventQuery

SERVICE_NAMES = {"iam": "AWS Identity and Access Management", "sts": "AWS Security Token Service",
                 "cloudtrail": "AWS CloudTrail", "signin": "AWS Sign-In"}
MAX_EVENTS = 20_000  # the newest events of the entity considered


def _entity(arn: str, account_id: str) -> tuple[str, str]:
    """(kind, name) of a user or role ARN of the caller's account."""
    parts = arn.split(":", 5)
    if len(parts) != 6 or parts[0] != "arn" or parts[2] != "iam" or "/" not in parts[5]:
        raise InvalidInput(f"ARN {arn} is not valid.")
    kind, _, rest = parts[5].partition("/")
    if kind not in ("user", "role"):
        raise InvalidInput(f"ARN {arn} is not valid: only users and roles are tracked here.")
    if parts[4] != account_id:
        raise NoSuchEntity(f"The entity {arn} cannot be found.")
    return kind, rest.rsplit("/", 1)[-1]


class ServiceLastAccessed(IamBase):
    def __init__(self, deps: IamDeps, log: AuditLog) -> None:
        super().__init__(deps)
        self.log = log

    @operation
    def generate_service_last_accessed_details(self, caller: Caller, arn: str,
                                               granularity: str | None = None) -> dict[str, Any]:
        kind, name = _entity(arn, caller.account_id)
        action = "iam:GenerateServiceLastAccessedDetails"
        with self.deps.store.read(caller.account_id) as tx:  # authorized as the entity found, with its tags
            found: User | Role = (self.user_for(tx, caller, action, name) if kind == "user"
                                  else self.role_for(tx, caller, action, name))
        target = found.arn(caller.partition)
        services = self._services(caller.account_id, kind, target, found.name, granularity == "ACTION_LEVEL")
        now = self.deps.clock().replace(microsecond=0)
        job_id = str(uuid.uuid4())
        self.log.save_job(job_id, caller.account_id, now, json.dumps(
            {"JobType": granularity or "SERVICE_LEVEL", "Services": services}))
        return {"JobId": job_id}

    def _services(self, account_id: str, kind: str, arn: str, name: str, actions: bool) -> list[dict[str, Any]]:
        query = (EventQuery(chain=account_id, attribute="username", value=name, limit=MAX_EVENTS) if kind == "user"
                 else EventQuery(chain=account_id, limit=MAX_EVENTS))
        latest: dict[str, dict[str, Any]] = {}
        for event in self.log.lookup(query):  # newest first: the first seen per service and action is the latest
            record = json.loads(event.record)
            ident = record.get("userIdentity") or {}
            who = ident.get("arn") if kind == "user" else (
                (ident.get("sessionContext") or {}).get("sessionIssuer") or {}).get("arn")
            same = who == arn if kind == "user" else (who or "").rsplit("/", 1)[-1] == name
            if not same or record.get("eventType") != "AwsApiCall":
                continue
            namespace = str(record.get("eventSource", "")).split(".", 1)[0]
            when = record.get("eventTime")
            entry = latest.setdefault(namespace, {
                "ServiceName": SERVICE_NAMES.get(namespace, namespace), "ServiceNamespace": namespace,
                "LastAuthenticated": when, "LastAuthenticatedEntity": arn,
                "LastAuthenticatedRegion": record.get("awsRegion"), "TotalAuthenticatedEntities": 1,
                "_actions": {}})
            if actions:
                entry["_actions"].setdefault(record.get("eventName"), {
                    "ActionName": record.get("eventName"), "LastAccessedEntity": arn, "LastAccessedTime": when,
                    "LastAccessedRegion": record.get("awsRegion")})
        out = []
        for namespace in sorted(latest):
            entry = latest[namespace]
            tracked = entry.pop("_actions")
            if actions:
                entry["TrackedActionsLastAccessed"] = [tracked[k] for k in sorted(tracked)]
            out.append(entry)
        return out

    @operation
    def get_service_last_accessed_details(self, caller: Caller, job_id: str, max_items: int | None = None,
                                          marker: str | None = None) -> dict[str, Any]:
        with self.deps.store.read(caller.account_id) as tx:
            self.deps.authz.require(tx, caller, "iam:GetServiceLastAccessedDetails", "*")
        found = self.log.job(job_id, caller.account_id)
        if found is None:
            raise NoSuchEntity(f"No job with id {job_id} exists.")
        created, content = found
        job = json.loads(content)
        services = [_dated(s) for s in job["Services"]]
        start = int(marker) if marker and marker.isdigit() else 0
        size = max_items or 100
        page = services[start:start + size]
        result: dict[str, Any] = {"JobStatus": "COMPLETED", "JobType": job["JobType"], "JobCreationDate": created,
                                  "JobCompletionDate": created, "ServicesLastAccessed": page,
                                  "IsTruncated": start + size < len(services)}
        if result["IsTruncated"]:
            result["Marker"] = str(start + size)
        return result


def _dated(service: dict[str, Any]) -> dict[str, Any]:
    """Timestamps back from their stored text."""
    out = dict(service)
    if out.get("LastAuthenticated"):
        out["LastAuthenticated"] = _parse(out["LastAuthenticated"])
    if "TrackedActionsLastAccessed" in out:
        out["TrackedActionsLastAccessed"] = [
            {**a, "LastAccessedTime": _parse(a["LastAccessedTime"])} if a.get("LastAccessedTime") else a
            for a in out["TrackedActionsLastAccessed"]]
    return out


def _parse(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
