"""Service last accessed data from the trail: GenerateServiceLastAccessedDetails, GetServiceLastAccessedDetails and
GetServiceLastAccessedDetailsWithEntities.

The job is computed when it is generated (it reads the tracked entities' events in the trail) and kept in the
database by job id, so any replica answers Get; its status is then COMPLETED at once. The target is a user, a role,
a group or a managed policy, as in AWS: a user's or role's data are its own calls (a role's are the events of its
sessions, `sessionIssuer`); a group's are its members'; a policy's are those of the users and roles it is attached
to, directly or through a group. Beyond AWS, which lists every service the policies allow, the list holds the
services the trail saw the tracked entities use (IAM and STS here); the tracked actions (ACTION_LEVEL) are the
operations they called.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Callable, Iterator
from typing import Any

from gatehouse.errors import InvalidInput, NoSuchEntity
from gatehouse.model import Caller, OwnerKind, Role, User
from gatehouse.services.iam.common import IamBase, IamDeps, listing
from gatehouse.services.operation import operation
from gatehouse.storage.audit import AuditLog, EventQuery
from gatehouse.storage.repository import UnitOfWork

SERVICE_NAMES = {"iam": "AWS Identity and Access Management", "sts": "AWS Security Token Service",
                 "cloudtrail": "AWS CloudTrail", "signin": "AWS Sign-In"}
MAX_EVENTS = 20_000  # the newest events considered per query (one per tracked user, one for all tracked roles)
MAX_TRACKED = 1_000  # entities a group or policy job follows (AWS's own limit on a group's members is 5,000)
Entity = dict[str, str]  # EntityInfo: Arn, Name, Type (USER or ROLE), Id, Path


def _entity(arn: str, account_id: str) -> tuple[str, str]:
    """(kind, name) of a user, role or group ARN of the caller's account."""
    parts = arn.split(":", 5)
    if len(parts) != 6 or parts[0] != "arn" or parts[2] != "iam" or "/" not in parts[5]:
        raise InvalidInput(f"ARN {arn} is not valid.")
    kind, _, rest = parts[5].partition("/")
    if kind not in ("user", "role", "group"):
        raise InvalidInput(f"ARN {arn} is not valid: the target must be a user, group, role or policy.")
    if parts[4] != account_id:
        raise NoSuchEntity(f"The entity {arn} cannot be found.")
    return kind, rest.rsplit("/", 1)[-1]


def _is_policy(arn: str) -> bool:
    parts = arn.split(":", 5)
    return len(parts) == 6 and parts[2] == "iam" and parts[5].startswith("policy/")


def _info(entity: User | Role, partition: str) -> Entity:
    kind, entity_id = ("USER", entity.user_id) if isinstance(entity, User) else ("ROLE", entity.role_id)
    return {"Arn": entity.arn(partition), "Name": entity.name, "Type": kind, "Id": entity_id, "Path": entity.path}


class ServiceLastAccessed(IamBase):
    def __init__(self, deps: IamDeps, log: AuditLog, flush: Callable[[], object] | None = None) -> None:
        """`flush` (the trail's) appends what this process has queued first, so a job sees the calls just made."""
        super().__init__(deps)
        self.log = log
        self.flush = flush

    @operation
    def generate_service_last_accessed_details(self, caller: Caller, arn: str,
                                               granularity: str | None = None) -> dict[str, Any]:
        with self.deps.store.read(caller.account_id) as tx:  # authorized as the entity found, with its tags
            tracked = self._tracked(tx, caller, arn)
        if self.flush is not None:
            self.flush()
        services, seen = self._services(caller.account_id, tracked, granularity == "ACTION_LEVEL")
        now = self.deps.clock().replace(microsecond=0)
        job_id = str(uuid.uuid4())
        self.log.save_job(job_id, caller.account_id, now, json.dumps(
            {"JobType": granularity or "SERVICE_LEVEL", "Services": services, "Tracked": tracked, "Seen": seen}))
        return {"JobId": job_id}

    def _tracked(self, tx: UnitOfWork, caller: Caller, arn: str) -> list[Entity]:
        """The users and roles whose calls the job reports, after authorizing the target by its own ARN."""
        action = "iam:GenerateServiceLastAccessedDetails"
        if _is_policy(arn):
            policy = self.policy_for(tx, caller, action, arn)
            found: dict[str, Entity] = {}
            for kind, owner_id in tx.attachments.owners_of(policy.account_id, policy.policy_id):
                if kind is OwnerKind.USER and (user := tx.users.by_id(owner_id)):
                    found.setdefault(user.user_id, _info(user, caller.partition))
                elif kind is OwnerKind.ROLE and (role := tx.roles.by_id(owner_id)):
                    found.setdefault(role.role_id, _info(role, caller.partition))
                elif kind is OwnerKind.GROUP:
                    for member in _members(tx, owner_id):
                        found.setdefault(member.user_id, _info(member, caller.partition))
            return sorted(found.values(), key=lambda e: (e["Type"], e["Name"].lower()))[:MAX_TRACKED]
        entity_kind, name = _entity(arn, caller.account_id)
        if entity_kind == "user":
            return [_info(self.user_for(tx, caller, action, name), caller.partition)]
        if entity_kind == "role":
            return [_info(self.role_for(tx, caller, action, name), caller.partition)]
        group = self.group_for(tx, caller, action, name)
        return [_info(member, caller.partition) for member in _members(tx, group.group_id)][:MAX_TRACKED]

    def _events(self, account_id: str, tracked: list[Entity]) -> Iterator[tuple[Entity, dict[str, Any]]]:
        """(entity, record) of every API call a tracked entity made, from the newest events of the trail."""
        users = {e["Arn"]: e for e in tracked if e["Type"] == "USER"}
        roles = {e["Name"]: e for e in tracked if e["Type"] == "ROLE"}
        queries = [EventQuery(chain=account_id, attribute="username", value=e["Name"], limit=MAX_EVENTS)
                   for e in users.values()]
        if roles:
            queries.append(EventQuery(chain=account_id, limit=MAX_EVENTS))
        for query in queries:
            for event in self.log.lookup(query):
                record = json.loads(event.record)
                if record.get("eventType") != "AwsApiCall":
                    continue
                ident = record.get("userIdentity") or {}
                issuer_of = (ident.get("sessionContext") or {}).get("sessionIssuer") or {}
                # a role's sessions only: a federated user's issuer is an IAM user, who may share a role's name
                issuer = issuer_of.get("arn") if issuer_of.get("type") == "Role" else None
                entity = (roles.get(issuer.rsplit("/", 1)[-1]) if issuer and query.attribute is None
                          else users.get(ident.get("arn", "")) if query.attribute else None)
                if entity is not None:
                    yield entity, record

    def _services(self, account_id: str, tracked: list[Entity], actions: bool
                  ) -> tuple[list[dict[str, Any]], dict[str, dict[str, str]]]:
        """ServicesLastAccessed, and per service the time each tracked entity last used it (by ARN)."""
        latest: dict[str, dict[str, Any]] = {}
        seen: dict[str, dict[str, str]] = {}
        for entity, record in self._events(account_id, tracked):
            namespace = str(record.get("eventSource", "")).split(".", 1)[0]
            when, region, arn = str(record.get("eventTime")), record.get("awsRegion"), entity["Arn"]
            by_entity = seen.setdefault(namespace, {})
            if when > by_entity.get(arn, ""):
                by_entity[arn] = when
            entry = latest.setdefault(namespace, {
                "ServiceName": SERVICE_NAMES.get(namespace, namespace), "ServiceNamespace": namespace,
                "LastAuthenticated": when, "LastAuthenticatedEntity": arn, "LastAuthenticatedRegion": region,
                "_actions": {}})
            if when > entry["LastAuthenticated"]:
                entry.update(LastAuthenticated=when, LastAuthenticatedEntity=arn, LastAuthenticatedRegion=region)
            name = record.get("eventName")
            if actions and when > entry["_actions"].get(name, {}).get("LastAccessedTime", ""):
                entry["_actions"][name] = {"ActionName": name, "LastAccessedEntity": arn, "LastAccessedTime": when,
                                           "LastAccessedRegion": region}
        out = []
        for namespace in sorted(latest):
            entry = latest[namespace]
            tracked_actions = entry.pop("_actions")
            entry["TotalAuthenticatedEntities"] = len(seen[namespace])
            if actions:
                entry["TrackedActionsLastAccessed"] = [tracked_actions[k] for k in sorted(tracked_actions)]
            out.append(entry)
        return out, seen

    def _job(self, caller: Caller, action: str, job_id: str) -> tuple[dt.datetime, dict[str, Any]]:
        with self.deps.store.read(caller.account_id) as tx:
            self.deps.authz.require(tx, caller, action, "*")
        found = self.log.job(job_id, caller.account_id)
        if found is None:
            raise NoSuchEntity(f"No job with id {job_id} exists.")
        created, content = found
        return created, json.loads(content)

    @operation
    def get_service_last_accessed_details(self, caller: Caller, job_id: str, max_items: int | None = None,
                                          marker: str | None = None) -> dict[str, Any]:
        created, job = self._job(caller, "iam:GetServiceLastAccessedDetails", job_id)
        services = [_dated(s) for s in job["Services"]]
        result: dict[str, Any] = {"JobStatus": "COMPLETED", "JobType": job["JobType"], "JobCreationDate": created,
                                  "JobCompletionDate": created}
        return result | _page("ServicesLastAccessed", services, max_items, marker)

    @operation
    def get_service_last_accessed_details_with_entities(self, caller: Caller, job_id: str, service_namespace: str,
                                                        max_items: int | None = None, marker: str | None = None
                                                        ) -> dict[str, Any]:
        """The tracked entities that used one service, the most recent first, then those that did not."""
        created, job = self._job(caller, "iam:GetServiceLastAccessedDetailsWithEntities", job_id)
        seen: dict[str, str] | None = job.get("Seen", {}).get(service_namespace)
        details: list[dict[str, Any]] = []
        if seen is not None:
            for entity in job.get("Tracked", []):
                when = seen.get(entity["Arn"])
                details.append({"EntityInfo": entity, **({"LastAuthenticated": _parse(when)} if when else {})})
            never = dt.datetime.min.replace(tzinfo=dt.UTC)
            details.sort(key=lambda d: d.get("LastAuthenticated") or never, reverse=True)
        result: dict[str, Any] = {"JobStatus": "COMPLETED", "JobCreationDate": created, "JobCompletionDate": created}
        return result | _page("EntityDetailsList", details, max_items, marker)


def _members(tx: UnitOfWork, group_id: str) -> Iterator[User]:
    """Every member of a group, page by page."""
    marker: str | None = None
    while True:
        page = tx.groups.members(group_id, listing(None, marker, 1000))
        yield from page.items
        if page.marker is None:
            return
        marker = page.marker


def _page(key: str, items: list[dict[str, Any]], max_items: int | None, marker: str | None) -> dict[str, Any]:
    """One page of a finished job's list; the marker is the index of the next item."""
    start = int(marker) if marker and marker.isdigit() else 0
    size = max_items or 100
    out: dict[str, Any] = {key: items[start:start + size], "IsTruncated": start + size < len(items)}
    if out["IsTruncated"]:
        out["Marker"] = str(start + size)
    return out


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
