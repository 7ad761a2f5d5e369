"""The resource registry: Gatehouse's own JSON operations (`gatehouse` service) by which an account registers its
applications' resources, with tags and an optional resource-based policy, for the authorization API to decide
requests on them.

Each operation is authorized as `gatehouse:<Operation>` on the resource's ARN (ListResources on `*`), with the
resource's tags as `aws:ResourceTag/*` and the request's as `aws:RequestTag/*` and `aws:TagKeys`, as AWS services
authorize tagging. Look up, authorize, then report absence: a caller without permission learns nothing about which
resources exist. Every change is one `store.write` unit of work (which bumps the account's revision, so cached
decisions never outlive it).

Resource-based policies are validated as the policy engine validates them (`Principal` required; the first
problem, IAM's answer, is the error, located) and limited to 20,480 characters other than white space, the quota
of most AWS resource policies (S3 bucket policies, SQS queue policies); the document is stored as submitted.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

from gatehouse.errors import (
    InvalidParameterException,
    LimitExceededException,
    MalformedPolicyDocumentException,
    ResourceAlreadyExistsException,
    ResourceNotFoundException,
)
from gatehouse.model import Caller, RegisteredResource, Tag
from gatehouse.policy import PolicyKind, validate
from gatehouse.services.authorization import Authorizer
from gatehouse.services.clock import Clock, whole_seconds
from gatehouse.services.iam.documents import policy_size
from gatehouse.services.operation import operation
from gatehouse.services.request_context import RequestFacts, Target
from gatehouse.services.resources.arns import registrable
from gatehouse.storage.repository import Duplicate, Store, UnitOfWork

RESOURCE_POLICY_MAX = 20480  # characters other than white space (S3's and SQS's quota)
MAX_TAGS = 50
MAX_RESOURCES = 10000  # per account
MAX_RESULTS = 100


def resource_tag_keys(tags: Sequence[Tag]) -> dict[str, Any]:
    return {f"aws:ResourceTag/{t.key}": t.value for t in tags}


def request_tag_keys(tags: Sequence[Tag] = (), keys: Sequence[str] | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {f"aws:RequestTag/{t.key}": t.value for t in tags}
    out["aws:TagKeys"] = list(keys) if keys is not None else [t.key for t in tags]
    return out


def checked_tags(tags: Sequence[dict[str, str]] | None) -> list[Tag]:
    """Tags from a request: keys compared with case, none twice, none with AWS's reserved `aws:` prefix."""
    out: list[Tag] = []
    seen: set[str] = set()
    for item in tags or ():
        key, value = item.get("Key", ""), item.get("Value", "")
        if key in seen:
            raise InvalidParameterException("Duplicate tag keys found.")
        if key.lower().startswith("aws:"):
            raise InvalidParameterException("Tag keys starting with 'aws:' are reserved for internal use.")
        seen.add(key)
        out.append(Tag(key, value))
    if len(out) > MAX_TAGS:
        raise LimitExceededException(f"A resource can have at most {MAX_TAGS} tags.")
    return out


def check_resource_policy(document: str) -> None:
    """MalformedPolicyDocumentException with the engine's first (IAM's) objection, located; or the size quota."""
    if policy_size(document) > RESOURCE_POLICY_MAX:
        raise LimitExceededException(f"Resource-based policies are limited to {RESOURCE_POLICY_MAX} characters "
                                     "other than white space.")
    problems = validate(document, kind=PolicyKind.RESOURCE)
    if problems:
        first = problems[0]
        where = f" (line {first.line}, column {first.column}, {first.path or '/'})" if first.line is not None else ""
        raise MalformedPolicyDocumentException(f"{first.message}{where}")


def resource_view(resource: RegisteredResource) -> dict[str, Any]:
    return {"ResourceArn": resource.arn, "Service": resource.service,
            "Tags": [{"Key": t.key, "Value": t.value} for t in resource.tags],
            "HasPolicy": resource.policy is not None, "CreatedDate": resource.created,
            "LastModifiedDate": resource.updated}


class ResourceRegistry:
    """RegisterResource, DeregisterResource, GetResource, ListResources, PutResourcePolicy, GetResourcePolicy,
    DeleteResourcePolicy, TagResource, UntagResource."""

    def __init__(self, store: Store, authz: Authorizer, clock: Clock) -> None:
        self.store = store
        self.authz = authz
        self.clock = clock

    def _found(self, tx: UnitOfWork, caller: Caller, action: str, arn: str,
               extra: dict[str, Any] | None = None) -> RegisteredResource:
        """Look up, authorize on the ARN (with its tags), then report absence."""
        parsed = registrable(arn, caller.account_id, caller.partition)
        resource = tx.resources.get(parsed.arn)
        keys = resource_tag_keys(resource.tags) if resource else {}
        keys.update(extra or {})
        self.authz.require(tx, caller, f"gatehouse:{action}", Target(parsed.arn), facts=RequestFacts(extra=keys))
        if resource is None:
            raise ResourceNotFoundException(f"Resource {arn} is not registered.")
        return resource

    @operation
    def register_resource(self, caller: Caller, resource_arn: str, tags: list[dict[str, str]] | None = None,
                          policy: str | None = None, **_: Any) -> dict[str, Any]:
        parsed = registrable(resource_arn, caller.account_id, caller.partition)
        new_tags = checked_tags(tags)
        if policy is not None:
            check_resource_policy(policy)
        now = whole_seconds(self.clock)
        resource = RegisteredResource(caller.account_id, parsed.arn, parsed.service, tuple(new_tags), policy, now,
                                      now)
        try:
            with self.store.write(caller.account_id) as tx:
                self.authz.require(tx, caller, "gatehouse:RegisterResource", Target(parsed.arn),
                                   facts=RequestFacts(extra=request_tag_keys(new_tags)))
                if tx.resources.get(parsed.arn) is not None:
                    raise ResourceAlreadyExistsException(f"Resource {parsed.arn} is already registered.")
                if tx.resources.count() >= MAX_RESOURCES:
                    raise LimitExceededException(f"An account can register at most {MAX_RESOURCES} resources.")
                tx.resources.insert(resource)
        except Duplicate:
            raise ResourceAlreadyExistsException(f"Resource {parsed.arn} is already registered.") from None
        return {"Resource": resource_view(resource)}

    @operation
    def deregister_resource(self, caller: Caller, resource_arn: str, **_: Any) -> dict[str, Any]:
        with self.store.write(caller.account_id) as tx:
            resource = self._found(tx, caller, "DeregisterResource", resource_arn)
            tx.resources.delete(resource.arn)
        return {}

    @operation
    def get_resource(self, caller: Caller, resource_arn: str, **_: Any) -> dict[str, Any]:
        with self.store.read(caller.account_id) as tx:
            resource = self._found(tx, caller, "GetResource", resource_arn)
        return {"Resource": resource_view(resource)}

    @operation
    def list_resources(self, caller: Caller, service: str | None = None, max_results: int | None = None,
                       next_token: str | None = None, **_: Any) -> dict[str, Any]:
        with self.store.read(caller.account_id) as tx:
            self.authz.require(tx, caller, "gatehouse:ListResources", "*")
            page = tx.resources.page(service, next_token, max_results or MAX_RESULTS)
        out: dict[str, Any] = {"Resources": [resource_view(r) for r in page.items]}
        if page.marker:
            out["NextToken"] = page.marker
        return out

    @operation
    def put_resource_policy(self, caller: Caller, resource_arn: str, policy: str, **_: Any) -> dict[str, Any]:
        check_resource_policy(policy)
        with self.store.write(caller.account_id) as tx:
            resource = self._found(tx, caller, "PutResourcePolicy", resource_arn)
            tx.resources.update(dataclasses.replace(resource, policy=policy, updated=whole_seconds(self.clock)))
        return {"ResourceArn": resource.arn}

    @operation
    def get_resource_policy(self, caller: Caller, resource_arn: str, **_: Any) -> dict[str, Any]:
        with self.store.read(caller.account_id) as tx:
            resource = self._found(tx, caller, "GetResourcePolicy", resource_arn)
        if resource.policy is None:
            raise ResourceNotFoundException(f"Resource {resource.arn} has no resource-based policy.")
        return {"ResourceArn": resource.arn, "Policy": resource.policy}

    @operation
    def delete_resource_policy(self, caller: Caller, resource_arn: str, **_: Any) -> dict[str, Any]:
        with self.store.write(caller.account_id) as tx:
            resource = self._found(tx, caller, "DeleteResourcePolicy", resource_arn)
            if resource.policy is None:
                raise ResourceNotFoundException(f"Resource {resource.arn} has no resource-based policy.")
            tx.resources.update(dataclasses.replace(resource, policy=None, updated=whole_seconds(self.clock)))
        return {}

    @operation
    def tag_resource(self, caller: Caller, resource_arn: str, tags: list[dict[str, str]], **_: Any) -> dict[str, Any]:
        new_tags = checked_tags(tags)
        with self.store.write(caller.account_id) as tx:
            resource = self._found(tx, caller, "TagResource", resource_arn, request_tag_keys(new_tags))
            by_key = {t.key: t for t in resource.tags}
            by_key.update({t.key: t for t in new_tags})
            if len(by_key) > MAX_TAGS:
                raise LimitExceededException(f"A resource can have at most {MAX_TAGS} tags.")
            tx.resources.update(dataclasses.replace(resource, tags=tuple(by_key.values()),
                                                    updated=whole_seconds(self.clock)))
        return {}

    @operation
    def untag_resource(self, caller: Caller, resource_arn: str, tag_keys: list[str], **_: Any) -> dict[str, Any]:
        with self.store.write(caller.account_id) as tx:
            resource = self._found(tx, caller, "UntagResource", resource_arn, request_tag_keys(keys=tag_keys))
            drop = set(tag_keys)
            tx.resources.update(dataclasses.replace(resource, tags=tuple(t for t in resource.tags if t.key not in drop),
                                                    updated=whole_seconds(self.clock)))
        return {}

