"""What every IAM use case shares: dependencies, look-up-then-authorize helpers, paging, tags, limits.

Order inside an operation: look the target up, authorize against its real ARN (so a caller without permission
learns nothing about existence), then report a missing target, then validate and change. Changes happen in
one `store.write` unit of work, so a rejected request changes nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from gatehouse.errors import AwsError, InvalidInput, LimitExceeded, NoSuchEntity, ValidationError
from gatehouse.model import Caller, Group, InstanceProfile, ManagedPolicy, OwnerKind, Page, Role, Tag, User, make_arn
from gatehouse.services.authorization import Authorizer
from gatehouse.services.clock import Clock
from gatehouse.services.iam.aws_managed import AwsManagedPolicies
from gatehouse.services.iam.documents import PolicyDocuments
from gatehouse.services.iam.policy_refs import find_policy, lookup_policy, parse_policy_arn
from gatehouse.services.iam.views import tags_view
from gatehouse.services.request_context import RequestFacts, Target
from gatehouse.services.secretbox import SecretBox
from gatehouse.storage.repository import Listing, Store, UnitOfWork

MAX_TAGS = 50
E = TypeVar("E")
DEFAULT_MAX_ITEMS = 100


@dataclass(frozen=True)
class IamDeps:
    store: Store
    authz: Authorizer
    box: SecretBox
    documents: PolicyDocuments
    managed: AwsManagedPolicies
    clock: Clock


def listing(path_prefix: str | None = None, marker: str | None = None, max_items: int | None = None) -> Listing:
    return Listing(path_prefix=path_prefix or "/", after=marker, limit=max_items or DEFAULT_MAX_ITEMS)


def page_result(key: str, page: Page[Any], render: Callable[[Any], Any]) -> dict[str, Any]:
    out: dict[str, Any] = {key: [render(item) for item in page.items], "IsTruncated": page.is_truncated}
    if page.marker:
        out["Marker"] = page.marker
    return out


def tag_key_of(kind: OwnerKind, key: str) -> str:
    """The form of `key` two tags of `kind` are compared in: lower-cased where AWS ignores case (users and roles),
    as given everywhere else (`OwnerKind.tag_keys_ignore_case`)."""
    return key.lower() if kind.tag_keys_ignore_case else key


def checked_tags(tags: Sequence[dict[str, str]] | None, kind: OwnerKind) -> list[Tag]:
    """Tags from a request for an entity of `kind`: no key twice (as that kind compares keys), none reserved by AWS
    (the `aws:` prefix in any case)."""
    out: list[Tag] = []
    seen: set[str] = set()
    for item in tags or ():
        key, value = item.get("Key", ""), item.get("Value", "")
        if tag_key_of(kind, key) in seen:
            # AWS adds the case note only where keys are case insensitive: a policy's duplicate is answered with the
            # bare sentence (LocalStack's AWS-validated test_iam_policies.snapshot.json, "err-duplicate-keys").
            raise InvalidInput("Duplicate tag keys found. Please note that Tag keys are case insensitive."
                               if kind.tag_keys_ignore_case else "Duplicate tag keys found.")
        if key.lower().startswith("aws:"):
            raise InvalidInput("Tag keys starting with 'aws:' are reserved for internal use.")
        seen.add(tag_key_of(kind, key))
        out.append(Tag(key, value))
    return out


def merged_tags(existing: Sequence[Tag], new: Sequence[Tag], kind: OwnerKind) -> list[Tag]:
    """TagX semantics: a new value replaces the tag with the same key (compared as `kind` compares keys)."""
    by_key = {tag_key_of(kind, t.key): t for t in existing}
    for t in new:
        by_key[tag_key_of(kind, t.key)] = t
    if len(by_key) > MAX_TAGS:
        # AWS's wording names neither the limit nor the entity (TagOpenIDConnectProvider past 50 tags, recorded in
        # LocalStack's AWS-validated test_iam_oidc.snapshot.json).
        raise LimitExceeded("The number of tags has reached the maximum limit.")
    return list(by_key.values())


def without_tags(existing: Sequence[Tag], keys: Sequence[str], kind: OwnerKind) -> list[Tag]:
    """UntagX: drops the tags whose keys match one of `keys` as `kind` compares keys (UntagPolicy of `a` leaves
    `A`)."""
    drop = {tag_key_of(kind, k) for k in keys}
    return [t for t in existing if tag_key_of(kind, t.key) not in drop]


def short_page(key: str, items: Sequence[Any], marker: str | None, max_items: int | None) -> dict[str, Any]:
    """A listing that is small by quota (a user's keys, a policy's versions, an entity's tags), paged in memory
    by position with AWS's Marker/IsTruncated semantics: Marker is present exactly when IsTruncated is true."""
    if marker and not (marker.isascii() and marker.isdigit()):  # isdigit() alone accepts "²", which int() refuses
        raise ValidationError("Invalid Marker.")
    start = int(marker) if marker else 0
    limit = max_items or DEFAULT_MAX_ITEMS
    out: dict[str, Any] = {key: list(items[start:start + limit]), "IsTruncated": start + limit < len(items)}
    if out["IsTruncated"]:
        out["Marker"] = str(start + limit)
    return out


def tag_page(tags: Sequence[Tag], marker: str | None, max_items: int | None) -> dict[str, Any]:
    """Tags are few (at most 50): paged in memory by position."""
    return short_page("Tags", tags_view(tags), marker, max_items)


# Finds a taggable entity, authorized for `action` with what the request says (its tags); returns its id.
Finder = Callable[[UnitOfWork, str, RequestFacts], str]


class IamBase:
    """Shared helpers for the IAM use-case classes."""

    def __init__(self, deps: IamDeps) -> None:
        self.deps = deps
        self.store = deps.store
        self.authz = deps.authz

    # --- authorization ---------------------------------------------------------------------------------------

    def require(self, tx: UnitOfWork, caller: Caller, action: str, resource: str | Target,
                facts: RequestFacts | None = None) -> None:
        self.authz.require(tx, caller, action, resource, facts=facts)

    def arn(self, caller: Caller, resource: str) -> str:
        return make_arn(caller.partition, "iam", caller.account_id, resource)

    # --- look up, authorize, then report absence -----------------------------------------------------------

    @staticmethod
    def target(tx: UnitOfWork, kind: OwnerKind, owner_id: str | None, arn: str, boundary: str | None = None
               ) -> Target:
        """What an action on an entity of `kind` is authorized on: its canonical ARN (or, when `owner_id` is None
        because nothing was found, the ARN it would have), with its tags and current boundary."""
        tags = (lambda: tx.tags.get(kind, owner_id)) if owner_id is not None else None
        return Target(arn, kind, tags, boundary)

    def authorized(self, tx: UnitOfWork, caller: Caller, action: str, entity: E | None, target: Target,
                   missing: AwsError, facts: RequestFacts | None = None) -> E:
        """Authorize `action` on the entity's real ARN (or the one it would have), and only then report that it is
        missing: a caller without permission learns nothing about existence."""
        self.require(tx, caller, action, target, facts)
        if entity is None:
            raise missing
        return entity

    def user_for(self, tx: UnitOfWork, caller: Caller, action: str, name: str, facts: RequestFacts | None = None
                 ) -> User:
        user = tx.users.get(name)
        target = (self.target(tx, OwnerKind.USER, user.user_id, user.arn(caller.partition), user.permissions_boundary)
                  if user else self.target(tx, OwnerKind.USER, None, self.arn(caller, f"user/{name}")))
        return self.authorized(tx, caller, action, user, target,
                               NoSuchEntity(f"The user with name {name} cannot be found."), facts)

    def group_for(self, tx: UnitOfWork, caller: Caller, action: str, name: str, facts: RequestFacts | None = None
                  ) -> Group:
        group = tx.groups.get(name)
        target = Target(group.arn(caller.partition) if group else self.arn(caller, f"group/{name}"), OwnerKind.GROUP)
        return self.authorized(tx, caller, action, group, target,
                               NoSuchEntity(f"The group with name {name} cannot be found."), facts)

    def role_for(self, tx: UnitOfWork, caller: Caller, action: str, name: str, facts: RequestFacts | None = None
                 ) -> Role:
        role = tx.roles.get(name)
        target = (self.target(tx, OwnerKind.ROLE, role.role_id, role.arn(caller.partition), role.permissions_boundary)
                  if role else self.target(tx, OwnerKind.ROLE, None, self.arn(caller, f"role/{name}")))
        return self.authorized(tx, caller, action, role, target,
                               NoSuchEntity(f"The role with name {name} cannot be found."), facts)

    def policy_for(self, tx: UnitOfWork, caller: Caller, action: str, policy_arn: str, *, missing: str | None = None,
                   facts: RequestFacts | None = None) -> ManagedPolicy:
        """The policy `policy_arn` names, authorized by its own ARN (whatever case or form the caller typed), with
        its tags; when it names nothing, authorized as typed, then NoSuchEntity."""
        found = find_policy(tx, self.deps.managed, caller.partition, caller.account_id, policy_arn)
        policy = found[0] if found else None
        if policy is None:
            target = self.target(tx, OwnerKind.POLICY, None, policy_arn)
        else:
            target = self.target(tx, OwnerKind.POLICY, None if policy.aws_managed else policy.policy_id,
                                 policy.arn(caller.partition))
        return self.authorized(tx, caller, action, policy, target,
                               NoSuchEntity(missing or f"Policy {policy_arn} was not found."), facts)

    def profile_for(self, tx: UnitOfWork, caller: Caller, action: str, name: str, facts: RequestFacts | None = None
                    ) -> InstanceProfile:
        profile = tx.profiles.get(name)
        target = (self.target(tx, OwnerKind.INSTANCE_PROFILE, profile.profile_id, profile.arn(caller.partition))
                  if profile else self.target(tx, OwnerKind.INSTANCE_PROFILE, None,
                                              self.arn(caller, f"instance-profile/{name}")))
        return self.authorized(tx, caller, action, profile, target,
                               NoSuchEntity(f"Instance Profile {name} cannot be found."), facts)

    # --- TagX / UntagX / ListXTags, the same for every taggable entity ----------------------------------------

    def tag_entity(self, caller: Caller, kind: OwnerKind, action: str, find: Finder,
                   tags: list[dict[str, str]]) -> dict[str, Any]:
        new = checked_tags(tags, kind)
        with self.store.write(caller.account_id) as tx:
            owner_id = find(tx, action, RequestFacts(tags=new))
            tx.tags.replace(kind, owner_id, merged_tags(tx.tags.get(kind, owner_id), new, kind))
        return {}

    def untag_entity(self, caller: Caller, kind: OwnerKind, action: str, find: Finder, tag_keys: list[str]
                     ) -> dict[str, Any]:
        with self.store.write(caller.account_id) as tx:
            owner_id = find(tx, action, RequestFacts(tag_keys=list(tag_keys)))
            tx.tags.replace(kind, owner_id, without_tags(tx.tags.get(kind, owner_id), tag_keys, kind))
        return {}

    def list_entity_tags(self, caller: Caller, kind: OwnerKind, action: str, find: Finder, marker: str | None,
                         max_items: int | None) -> dict[str, Any]:
        with self.store.read(caller.account_id) as tx:
            return tag_page(tx.tags.get(kind, find(tx, action, RequestFacts())), marker, max_items)

    def boundary_for(self, tx: UnitOfWork, caller: Caller, arn: str | None) -> str | None:
        """The canonical ARN of the permissions boundary a request names (None: none named, or it names nothing);
        looked up before authorization, so `iam:PermissionsBoundary` holds the policy found, not the text sent."""
        if not arn:
            return None
        found = lookup_policy(tx, self.deps.managed, caller.partition, caller.account_id, arn)
        return found[0].arn(caller.partition) if found else None

    @staticmethod
    def check_boundary(arn: str, found: str | None) -> str:
        """After authorization: the boundary to store, or AWS's error for one that names nothing."""
        if found is None:
            parse_policy_arn(arn)
            raise NoSuchEntity(f"Scope ARN: {arn} does not exist or is not attachable.")
        return found

    def own_user_name(self, caller: Caller, user_name: str | None) -> str | None:
        """Operations whose UserName defaults to the caller's own user (None for the root user)."""
        if user_name:
            return user_name
        if caller.is_root:
            return None
        if caller.principal_id is None or caller.kind.value != "user":
            # AWS answers ValidationError here (not InvalidInput); its exact wording is quoted by terraform-provider-aws
            # (internal/service/iam/access_key.go, the importer's comment) and by `aws iam get-user` under SSO.
            raise ValidationError("Must specify userName when calling with non-User credentials")
        return caller.name

