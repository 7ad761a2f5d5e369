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
from gatehouse.model import Caller, Group, InstanceProfile, OwnerKind, Page, Role, Tag, User, make_arn
from gatehouse.services.authorization import Authorizer
from gatehouse.services.clock import Clock
from gatehouse.services.iam.aws_managed import AwsManagedPolicies
from gatehouse.services.iam.documents import PolicyDocuments
from gatehouse.services.iam.policy_refs import find_policy
from gatehouse.services.iam.views import tags_view
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


# Finds a taggable entity, authorized for `action` with the request's tag context; returns its id.
Finder = Callable[[UnitOfWork, str, dict[str, Any]], str]


def request_tag_context(tags: Sequence[Tag]) -> dict[str, Any]:
    ctx: dict[str, Any] = {f"aws:RequestTag/{t.key}": t.value for t in tags}
    if tags:
        ctx["aws:TagKeys"] = [t.key for t in tags]
    return ctx


class IamBase:
    """Shared helpers for the IAM use-case classes."""

    def __init__(self, deps: IamDeps) -> None:
        self.deps = deps
        self.store = deps.store
        self.authz = deps.authz

    # --- authorization ---------------------------------------------------------------------------------------

    def require(self, tx: UnitOfWork, caller: Caller, action: str, resource: str,
                resource_tags: Callable[[], Sequence[Tag]] | None = None, **context: Any) -> None:
        self.authz.require(tx, caller, action, resource, resource_tags=resource_tags, context=context)

    def arn(self, caller: Caller, resource: str) -> str:
        return make_arn(caller.partition, "iam", caller.account_id, resource)

    # --- look up, authorize, then report absence -----------------------------------------------------------

    def authorized(self, tx: UnitOfWork, caller: Caller, action: str, entity: E | None, resource: str,
                   kind: OwnerKind, entity_id: Callable[[E], str], missing: AwsError, **context: Any) -> E:
        """Authorize `action` on the entity's real ARN (or the one it would have), with its tags when it exists,
        and only then report that it is missing: a caller without permission learns nothing about existence."""
        tags = (lambda: tx.tags.get(kind, entity_id(entity))) if entity is not None else None
        self.require(tx, caller, action, resource, resource_tags=tags, **context)
        if entity is None:
            raise missing
        return entity

    def user_for(self, tx: UnitOfWork, caller: Caller, action: str, name: str, **context: Any) -> User:
        user = tx.users.get(name)
        return self.authorized(tx, caller, action, user,
                               user.arn(caller.partition) if user else self.arn(caller, f"user/{name}"),
                               OwnerKind.USER, lambda u: u.user_id,
                               NoSuchEntity(f"The user with name {name} cannot be found."), **context)

    def group_for(self, tx: UnitOfWork, caller: Caller, action: str, name: str, **context: Any) -> Group:
        group = tx.groups.get(name)
        resource = group.arn(caller.partition) if group else self.arn(caller, f"group/{name}")
        self.require(tx, caller, action, resource, **context)
        if group is None:
            raise NoSuchEntity(f"The group with name {name} cannot be found.")
        return group

    def role_for(self, tx: UnitOfWork, caller: Caller, action: str, name: str, **context: Any) -> Role:
        role = tx.roles.get(name)
        return self.authorized(tx, caller, action, role,
                               role.arn(caller.partition) if role else self.arn(caller, f"role/{name}"),
                               OwnerKind.ROLE, lambda r: r.role_id,
                               NoSuchEntity(f"The role with name {name} cannot be found."), **context)

    def profile_for(self, tx: UnitOfWork, caller: Caller, action: str, name: str, **context: Any
                    ) -> InstanceProfile:
        profile = tx.profiles.get(name)
        resource = profile.arn(caller.partition) if profile else self.arn(caller, f"instance-profile/{name}")
        return self.authorized(tx, caller, action, profile, resource,
                               OwnerKind.INSTANCE_PROFILE, lambda p: p.profile_id,
                               NoSuchEntity(f"Instance Profile {name} cannot be found."), **context)

    # --- TagX / UntagX / ListXTags, the same for every taggable entity ----------------------------------------

    def tag_entity(self, caller: Caller, kind: OwnerKind, action: str, find: Finder,
                   tags: list[dict[str, str]]) -> dict[str, Any]:
        new = checked_tags(tags, kind)
        with self.store.write(caller.account_id) as tx:
            owner_id = find(tx, action, request_tag_context(new))
            tx.tags.replace(kind, owner_id, merged_tags(tx.tags.get(kind, owner_id), new, kind))
        return {}

    def untag_entity(self, caller: Caller, kind: OwnerKind, action: str, find: Finder, tag_keys: list[str]
                     ) -> dict[str, Any]:
        with self.store.write(caller.account_id) as tx:
            owner_id = find(tx, action, {"aws:TagKeys": list(tag_keys)})
            tx.tags.replace(kind, owner_id, without_tags(tx.tags.get(kind, owner_id), tag_keys, kind))
        return {}

    def list_entity_tags(self, caller: Caller, kind: OwnerKind, action: str, find: Finder, marker: str | None,
                         max_items: int | None) -> dict[str, Any]:
        with self.store.read(caller.account_id) as tx:
            return tag_page(tx.tags.get(kind, find(tx, action, {})), marker, max_items)

    def check_boundary(self, tx: UnitOfWork, caller: Caller, arn: str) -> None:
        if find_policy(tx, self.deps.managed, caller.account_id, arn) is None:
            raise NoSuchEntity(f"Scope ARN: {arn} does not exist or is not attachable.")

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

