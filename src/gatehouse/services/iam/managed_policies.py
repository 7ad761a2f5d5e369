"""Customer managed policies with versions (at most five), and read access to AWS managed ones."""

from __future__ import annotations

import dataclasses
from typing import Any

from gatehouse.errors import DeleteConflict, EntityAlreadyExists, InvalidInput, LimitExceeded, NoSuchEntity
from gatehouse.model import Caller, ManagedPolicy, OwnerKind, PolicyVersion
from gatehouse.services import ids
from gatehouse.services.clock import whole_seconds
from gatehouse.services.iam.aws_managed import AWS
from gatehouse.services.iam.common import (
    Finder,
    IamBase,
    checked_tags,
    short_page,
    tag_page,
)
from gatehouse.services.iam.views import policy_view, version_view, with_empty_tags
from gatehouse.services.operation import operation
from gatehouse.services.request_context import RequestFacts
from gatehouse.storage.markers import decode_marker, encode_marker
from gatehouse.storage.repository import Duplicate, UnitOfWork

MAX_VERSIONS = 5
MAX_POLICIES = 1500


class ManagedPolicies(IamBase):
    # --- look-up ---------------------------------------------------------------------------------------------

    def customer_policy_for(self, tx: UnitOfWork, caller: Caller, action: str, policy_arn: str, *,
                            missing: str | None = None, facts: RequestFacts | None = None) -> ManagedPolicy:
        policy = self.policy_for(tx, caller, action, policy_arn, missing=missing, facts=facts)
        if policy.aws_managed:
            raise InvalidInput(f"The policy {policy_arn} is an AWS managed policy and cannot be modified.")
        return policy

    def counts(self, tx: UnitOfWork, policy: ManagedPolicy) -> dict[str, int]:
        suffix = arn_suffix(policy.arn("aws"))
        return {"attachments": tx.attachments.count_of(policy.account_id, policy.policy_id),
                "boundary_uses": tx.attachments.boundary_usage(suffix)}

    # --- policies --------------------------------------------------------------------------------------------

    @operation
    def create_policy(self, caller: Caller, policy_name: str, policy_document: str, path: str | None = None,
                      description: str | None = None, tags: list[dict[str, str]] | None = None) -> dict[str, Any]:
        path = path or "/"
        new_tags = checked_tags(tags, OwnerKind.POLICY)
        with self.store.write(caller.account_id) as tx:
            self.require(tx, caller, "iam:CreatePolicy", self.arn(caller, f"policy{path}{policy_name}"),
                         RequestFacts(tags=new_tags))
            if tx.policies.get(policy_name):
                raise EntityAlreadyExists(f"A policy called {policy_name} already exists. Duplicate names are not "
                                          "allowed.")
            self.deps.documents.check_managed(policy_document)
            if tx.accounts.counts().policies >= MAX_POLICIES:
                raise LimitExceeded(f"Cannot exceed quota for PoliciesPerAccount: {MAX_POLICIES}")
            now = whole_seconds(self.deps.clock)
            policy = ManagedPolicy(account_id=caller.account_id, policy_id=ids.unique_id(ids.Prefix.POLICY),
                                   name=policy_name, path=path, default_version_id="v1", created=now, updated=now,
                                   description=description, next_version=2, tags=tuple(new_tags))
            try:
                tx.policies.insert(policy, PolicyVersion("v1", policy_document, True, now))
            except Duplicate:
                raise EntityAlreadyExists(f"A policy called {policy_name} already exists. Duplicate names are not "
                                          "allowed.") from None
            tx.tags.replace(OwnerKind.POLICY, policy.policy_id, new_tags)
            self.deps.documents.check_stored(tx)
        return {"Policy": policy_view(policy, caller.partition, tags=True, description=False)}

    @operation
    def get_policy(self, caller: Caller, policy_arn: str) -> dict[str, Any]:
        with self.store.read(caller.account_id) as tx:
            policy = self.policy_for(tx, caller, "iam:GetPolicy", policy_arn)
            if not policy.aws_managed:
                policy = dataclasses.replace(policy, tags=tx.tags.get(OwnerKind.POLICY, policy.policy_id))
            n = self.counts(tx, policy)
        return {"Policy": with_empty_tags(policy_view(policy, caller.partition, attachments=n["attachments"],
                                                      boundary_uses=n["boundary_uses"], tags=True))}

    @operation
    def delete_policy(self, caller: Caller, policy_arn: str) -> dict[str, Any]:
        with self.store.write(caller.account_id) as tx:
            policy = self.customer_policy_for(tx, caller, "iam:DeletePolicy", policy_arn)
            uses = self.counts(tx, policy)  # a permissions boundary in use blocks deletion as an attachment does
            if uses["attachments"] or uses["boundary_uses"]:
                raise DeleteConflict("Cannot delete a policy attached to entities.")
            if len(tx.policies.versions(policy.policy_id)) > 1:
                raise DeleteConflict("This policy has more than one version. Before you delete a policy, you must "
                                     "delete the policy's versions. The default version is deleted with the policy.")
            tx.tags.replace(OwnerKind.POLICY, policy.policy_id, [])
            tx.policies.delete(policy.policy_id)
        return {}

    @operation
    def list_policies(self, caller: Caller, scope: str | None = None, only_attached: bool | None = None,
                      path_prefix: str | None = None, policy_usage_filter: str | None = None,
                      marker: str | None = None, max_items: int | None = None) -> dict[str, Any]:
        """AWS managed and local policies in one name-ordered listing, filtered in memory (at most 1,500
        local policies per account)."""
        scope = scope or "All"
        prefix = path_prefix or "/"
        with self.store.read(caller.account_id) as tx:
            self.require(tx, caller, "iam:ListPolicies", self.arn(caller, f"policy{prefix}"))
            attached = tx.attachments.counts()
            boundaries = tx.attachments.boundary_usages()
            candidates: list[ManagedPolicy] = []
            if scope in ("All", "AWS"):
                candidates += self.deps.managed.all()
            if scope in ("All", "Local"):
                candidates += list(tx.policies.all())
        after = decode_marker(marker) if marker else None
        rows = []
        for p in candidates:  # some 1,600 with the AWS managed ones: cheap tests first
            if not p.path.startswith(prefix):
                continue
            key = f"{p.name.lower()}\x00{p.account_id}"
            if after is not None and key <= after:
                continue
            n_attached = attached.get((p.account_id, p.policy_id), 0)
            n_boundary = boundaries.get(arn_suffix(p.arn("aws")), 0) if boundaries else 0
            if only_attached and not (n_attached or n_boundary):
                continue
            if policy_usage_filter == "PermissionsPolicy" and only_attached and not n_attached:
                continue
            if policy_usage_filter == "PermissionsBoundary" and only_attached and not n_boundary:
                continue
            rows.append((key, p, n_attached, n_boundary))
        rows.sort(key=lambda r: r[0])
        limit = max_items or 100
        out: dict[str, Any] = {
            "Policies": [policy_view(p, caller.partition, attachments=a, boundary_uses=b, listing=True)
                         for _, p, a, b in rows[:limit]],
            "IsTruncated": len(rows) > limit,
        }
        if len(rows) > limit:
            out["Marker"] = encode_marker(rows[limit - 1][0])
        return out

    # --- versions --------------------------------------------------------------------------------------------

    @operation
    def create_policy_version(self, caller: Caller, policy_arn: str, policy_document: str,
                              set_as_default: bool | None = None) -> dict[str, Any]:
        with self.store.write(caller.account_id) as tx:
            policy = self.customer_policy_for(tx, caller, "iam:CreatePolicyVersion", policy_arn)
            self.deps.documents.check_managed(policy_document)
            if len(tx.policies.versions(policy.policy_id)) >= MAX_VERSIONS:
                raise LimitExceeded("A managed policy can have up to 5 versions. Before you create a new version, "
                                    "you must delete an existing version.")
            now = whole_seconds(self.deps.clock)
            version = PolicyVersion(f"v{policy.next_version}", policy_document, bool(set_as_default), now)
            tx.policies.add_version(policy.policy_id, version)
            self.deps.documents.check_stored(tx)
            updated = dataclasses.replace(policy, next_version=policy.next_version + 1, updated=now)
            if set_as_default:
                updated = dataclasses.replace(updated, default_version_id=version.version_id)
            tx.policies.update(updated)
        return {"PolicyVersion": version_view(version, document=False)}

    @operation
    def get_policy_version(self, caller: Caller, policy_arn: str, version_id: str) -> dict[str, Any]:
        with self.store.read(caller.account_id) as tx:
            policy = self.policy_for(tx, caller, "iam:GetPolicyVersion", policy_arn,
                                     missing=missing_version(policy_arn, version_id))
            version = self.version_of(tx, policy, policy_arn, version_id)
        return {"PolicyVersion": version_view(version)}

    def version_of(self, tx: UnitOfWork, policy: ManagedPolicy, policy_arn: str, version_id: str) -> PolicyVersion:
        if policy.aws_managed:
            version = self.deps.managed.version(policy, version_id)
        else:
            version = tx.policies.version(policy.policy_id, version_id)
        if version is None:
            raise NoSuchEntity(missing_version(policy_arn, version_id))
        return version

    @operation
    def list_policy_versions(self, caller: Caller, policy_arn: str, marker: str | None = None,
                             max_items: int | None = None) -> dict[str, Any]:
        with self.store.read(caller.account_id) as tx:
            policy = self.policy_for(tx, caller, "iam:ListPolicyVersions", policy_arn)
            if policy.aws_managed:
                versions = self.deps.managed.versions(policy)
            else:
                versions = tx.policies.versions(policy.policy_id)
        return short_page("Versions", [version_view(v, document=False) for v in versions], marker, max_items)

    @operation
    def delete_policy_version(self, caller: Caller, policy_arn: str, version_id: str) -> dict[str, Any]:
        with self.store.write(caller.account_id) as tx:
            policy = self.customer_policy_for(tx, caller, "iam:DeletePolicyVersion", policy_arn,
                                              missing=missing_version(policy_arn, version_id))
            version = self.version_of(tx, policy, policy_arn, version_id)
            if version.is_default:
                raise DeleteConflict("Cannot delete the default version of a policy.")
            tx.policies.delete_version(policy.policy_id, version_id)
        return {}

    @operation
    def set_default_policy_version(self, caller: Caller, policy_arn: str, version_id: str) -> dict[str, Any]:
        with self.store.write(caller.account_id) as tx:
            policy = self.customer_policy_for(tx, caller, "iam:SetDefaultPolicyVersion", policy_arn,
                                              missing=missing_version(policy_arn, version_id))
            self.version_of(tx, policy, policy_arn, version_id)
            tx.policies.set_default(policy.policy_id, version_id, whole_seconds(self.deps.clock))
        return {}

    # --- who uses a policy -----------------------------------------------------------------------------------

    @operation
    def list_entities_for_policy(self, caller: Caller, policy_arn: str, entity_filter: str | None = None,
                                 path_prefix: str | None = None, policy_usage_filter: str | None = None,
                                 marker: str | None = None, max_items: int | None = None) -> dict[str, Any]:
        prefix = path_prefix or "/"
        wanted = {"User", "Role", "Group"} if entity_filter in (None, "LocalManagedPolicy", "AWSManagedPolicy") \
            else {entity_filter}
        found: dict[tuple[str, str], dict[str, str]] = {}  # (kind, name key) -> member view

        def add(kind: str, name: str, path: str, view: dict[str, str]) -> None:
            if kind in wanted and path.startswith(prefix):
                found[(kind, name.lower())] = view

        with self.store.read(caller.account_id) as tx:
            # AWS words this NoSuchEntity as attaching does ("... does not exist or is not attachable."), not as
            # GetPolicy does ("... was not found."); evidence in tests/fidelity/test_errors.py.
            policy = self.policy_for(tx, caller, "iam:ListEntitiesForPolicy", policy_arn,
                                     missing=f"Policy {policy_arn} does not exist or is not attachable.")
            if policy_usage_filter != "PermissionsBoundary":
                for kind, owner_id in tx.attachments.owners_of(policy.account_id, policy.policy_id):
                    if kind is OwnerKind.USER and (u := tx.users.by_id(owner_id)):
                        add("User", u.name, u.path, {"UserName": u.name, "UserId": u.user_id})
                    elif kind is OwnerKind.GROUP and (g := tx.groups.by_id(owner_id)):
                        add("Group", g.name, g.path, {"GroupName": g.name, "GroupId": g.group_id})
                    elif kind is OwnerKind.ROLE and (r := tx.roles.by_id(owner_id)):
                        add("Role", r.name, r.path, {"RoleName": r.name, "RoleId": r.role_id})
            if policy_usage_filter != "PermissionsPolicy":
                suffix = arn_suffix(policy.arn("aws"))
                for u in tx.users.all():
                    if u.permissions_boundary and arn_suffix(u.permissions_boundary) == suffix:
                        add("User", u.name, u.path, {"UserName": u.name, "UserId": u.user_id})
                for r in tx.roles.all():
                    if r.permissions_boundary and arn_suffix(r.permissions_boundary) == suffix:
                        add("Role", r.name, r.path, {"RoleName": r.name, "RoleId": r.role_id})
        rows = sorted((f"{kind}\x00{key}", kind, view) for (kind, key), view in found.items())
        if marker:
            after = decode_marker(marker)
            rows = [r for r in rows if r[0] > after]
        limit = max_items or 100
        page = rows[:limit]
        out: dict[str, Any] = {
            "PolicyGroups": [v for _, k, v in page if k == "Group"],
            "PolicyUsers": [v for _, k, v in page if k == "User"],
            "PolicyRoles": [v for _, k, v in page if k == "Role"],
            "IsTruncated": len(rows) > limit,
        }
        if len(rows) > limit:
            out["Marker"] = encode_marker(page[-1][0])
        return out

    # --- tags ------------------------------------------------------------------------------------------------

    def _tagged_policy(self, caller: Caller, arn: str) -> Finder:
        return lambda tx, action, facts: self.customer_policy_for(tx, caller, action, arn, facts=facts).policy_id

    @operation
    def tag_policy(self, caller: Caller, policy_arn: str, tags: list[dict[str, str]]) -> dict[str, Any]:
        return self.tag_entity(caller, OwnerKind.POLICY, "iam:TagPolicy",
                               self._tagged_policy(caller, policy_arn), tags)

    @operation
    def untag_policy(self, caller: Caller, policy_arn: str, tag_keys: list[str]) -> dict[str, Any]:
        return self.untag_entity(caller, OwnerKind.POLICY, "iam:UntagPolicy", self._tagged_policy(caller, policy_arn),
                                 tag_keys)

    @operation
    def list_policy_tags(self, caller: Caller, policy_arn: str, marker: str | None = None,
                         max_items: int | None = None) -> dict[str, Any]:
        with self.store.read(caller.account_id) as tx:
            policy = self.policy_for(tx, caller, "iam:ListPolicyTags", policy_arn)
            tags = () if policy.account_id == AWS else tx.tags.get(OwnerKind.POLICY, policy.policy_id)
        # In key order, by code point ("A" before "a"), whatever order they were added in: LocalStack's AWS-validated
        # test_iam_policies.snapshot.json lists a policy created with tags a, A as A, a.
        return tag_page(sorted(tags, key=lambda t: t.key), marker, max_items)


def missing_version(policy_arn: str, version_id: str) -> str:
    """AWS words a missing policy and a missing version of it alike in the version operations ("Policy ... version
    v1 does not exist or is not attachable." for GetPolicyVersion and SetDefaultPolicyVersion on a policy that does
    not exist: LocalStack's AWS-validated test_iam_policies.snapshot.json)."""
    return f"Policy {policy_arn} version {version_id} does not exist or is not attachable."


def arn_suffix(arn: str) -> str:
    """An ARN without its partition: boundaries compare equal across partitions."""
    return arn.split(":", 2)[2] if arn.count(":") >= 2 else arn
