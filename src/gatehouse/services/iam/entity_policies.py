"""Policies held by users, groups and roles: inline policies (Put/Get/Delete/List) and managed-policy
attachments (Attach/Detach/ListAttached). One implementation serves the three owner kinds."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from gatehouse.errors import LimitExceeded, NoSuchEntity
from gatehouse.model import Caller, InlinePolicy, ManagedPolicy, OwnerKind
from gatehouse.services.iam.common import IamBase
from gatehouse.services.iam.policy_refs import default_document, lookup_policy, parse_policy_arn
from gatehouse.services.iam.roles import protect
from gatehouse.services.iam.views import encode_document
from gatehouse.services.operation import operation
from gatehouse.services.request_context import RequestFacts
from gatehouse.storage.markers import decode_marker, encode_marker
from gatehouse.storage.repository import UnitOfWork

MAX_ATTACHED = 10


@dataclass(frozen=True)
class _Owner:
    kind: OwnerKind
    id: str
    name: str


class EntityPolicies(IamBase):
    # --- owners ----------------------------------------------------------------------------------------------

    def _owner(self, tx: UnitOfWork, caller: Caller, kind: OwnerKind, action: str, name: str, *, change: bool,
               facts: RequestFacts | None = None) -> _Owner:
        if kind is OwnerKind.USER:
            u = self.user_for(tx, caller, action, name, facts)
            return _Owner(kind, u.user_id, u.name)
        if kind is OwnerKind.GROUP:
            g = self.group_for(tx, caller, action, name, facts)
            return _Owner(kind, g.group_id, g.name)
        r = self.role_for(tx, caller, action, name, facts)
        if change:
            protect(r)
        return _Owner(kind, r.role_id, r.name)

    # --- inline ----------------------------------------------------------------------------------------------

    def _put(self, caller: Caller, kind: OwnerKind, noun: str, name: str, policy_name: str, document: str
             ) -> dict[str, Any]:
        with self.store.write(caller.account_id) as tx:
            owner = self._owner(tx, caller, kind, f"iam:Put{noun}Policy", name, change=True)
            others = [p.document for p in tx.inline.all_for(kind, owner.id) if p.name != policy_name]
            self.deps.documents.check_inline(document, kind.value, owner.name, others)
            tx.inline.put(InlinePolicy(kind, owner.id, policy_name, document))
            self.deps.documents.check_stored(tx)
        return {}

    def _get(self, caller: Caller, kind: OwnerKind, noun: str, name: str, policy_name: str) -> dict[str, Any]:
        with self.store.read(caller.account_id) as tx:
            owner = self._owner(tx, caller, kind, f"iam:Get{noun}Policy", name, change=False)
            policy = tx.inline.get(kind, owner.id, policy_name)
        if policy is None:
            raise NoSuchEntity(f"The {noun.lower()} policy with name {policy_name} cannot be found.")
        return {f"{noun}Name": owner.name, "PolicyName": policy.name,
                "PolicyDocument": encode_document(policy.document)}

    def _delete(self, caller: Caller, kind: OwnerKind, noun: str, name: str, policy_name: str) -> dict[str, Any]:
        with self.store.write(caller.account_id) as tx:
            owner = self._owner(tx, caller, kind, f"iam:Delete{noun}Policy", name, change=True)
            if tx.inline.get(kind, owner.id, policy_name) is None:
                raise NoSuchEntity(f"The {noun.lower()} policy with name {policy_name} cannot be found.")
            tx.inline.delete(kind, owner.id, policy_name)
        return {}

    def _list(self, caller: Caller, kind: OwnerKind, noun: str, name: str, marker: str | None,
              max_items: int | None) -> dict[str, Any]:
        with self.store.read(caller.account_id) as tx:
            owner = self._owner(tx, caller, kind, f"iam:List{noun}Policies", name, change=False)
            page = tx.inline.names(kind, owner.id, marker, max_items or 100)
        out: dict[str, Any] = {"PolicyNames": page.items, "IsTruncated": page.is_truncated}
        if page.marker:
            out["Marker"] = page.marker
        return out

    # --- attachments -----------------------------------------------------------------------------------------

    def _named_policy(self, tx: UnitOfWork, caller: Caller, policy_arn: str) -> tuple[ManagedPolicy | None, str]:
        """The policy a request names, looked up before authorization, and the ARN `iam:PolicyARN` holds: the
        policy's own, or (when it names nothing) the text sent, which then changes nothing."""
        found = lookup_policy(tx, self.deps.managed, caller.partition, caller.account_id, policy_arn)
        return (found[0], found[0].arn(caller.partition)) if found else (None, policy_arn)

    def _attach(self, caller: Caller, kind: OwnerKind, noun: str, name: str, policy_arn: str) -> dict[str, Any]:
        with self.store.write(caller.account_id) as tx:
            policy, canonical = self._named_policy(tx, caller, policy_arn)
            owner = self._owner(tx, caller, kind, f"iam:Attach{noun}Policy", name, change=True,
                                facts=RequestFacts(policy_arn=canonical))
            if policy is None:
                parse_policy_arn(policy_arn)
                raise NoSuchEntity(f"Policy {policy_arn} does not exist or is not attachable.")
            if tx.attachments.is_attached(kind, owner.id, policy.account_id, policy.policy_id):
                return {}
            if len(tx.attachments.for_owner(kind, owner.id)) >= MAX_ATTACHED:
                raise LimitExceeded(f"Cannot exceed quota for PoliciesPer{noun}: {MAX_ATTACHED}")
            tx.attachments.attach(kind, owner.id, policy.account_id, policy.policy_id)
        return {}

    def _detach(self, caller: Caller, kind: OwnerKind, noun: str, name: str, policy_arn: str) -> dict[str, Any]:
        with self.store.write(caller.account_id) as tx:
            policy, canonical = self._named_policy(tx, caller, policy_arn)
            owner = self._owner(tx, caller, kind, f"iam:Detach{noun}Policy", name, change=True,
                                facts=RequestFacts(policy_arn=canonical))
            if policy is None:
                parse_policy_arn(policy_arn)
            if policy is None or not tx.attachments.is_attached(kind, owner.id, policy.account_id, policy.policy_id):
                raise NoSuchEntity(f"Policy {policy_arn} was not found.")
            tx.attachments.detach(kind, owner.id, policy.account_id, policy.policy_id)
        return {}

    def _list_attached(self, caller: Caller, kind: OwnerKind, noun: str, name: str, path_prefix: str | None,
                       marker: str | None, max_items: int | None) -> dict[str, Any]:
        prefix = path_prefix or "/"
        with self.store.read(caller.account_id) as tx:
            owner = self._owner(tx, caller, kind, f"iam:ListAttached{noun}Policies", name, change=False)
            rows = []
            for policy_account, policy_id in tx.attachments.for_owner(kind, owner.id):
                found = default_document(tx, self.deps.managed, policy_account, policy_id)
                if found and found[0].path.startswith(prefix):
                    rows.append(found[0])
        rows.sort(key=lambda p: (p.name.lower(), p.account_id))
        keyed = [(f"{p.name.lower()}\x00{p.account_id}", p) for p in rows]
        if marker:
            after = decode_marker(marker)
            keyed = [k for k in keyed if k[0] > after]
        limit = max_items or 100
        out: dict[str, Any] = {
            "AttachedPolicies": [{"PolicyName": p.name, "PolicyArn": p.arn(caller.partition)} for _, p in
                                 keyed[:limit]],
            "IsTruncated": len(keyed) > limit,
        }
        if len(keyed) > limit:
            out["Marker"] = encode_marker(keyed[limit - 1][0])
        return out

    # --- the operations, as AWS names them ------------------------------------------------------------------

    @operation
    def put_user_policy(self, caller: Caller, user_name: str, policy_name: str, policy_document: str
                        ) -> dict[str, Any]:
        return self._put(caller, OwnerKind.USER, "User", user_name, policy_name, policy_document)

    @operation
    def put_group_policy(self, caller: Caller, group_name: str, policy_name: str, policy_document: str
                         ) -> dict[str, Any]:
        return self._put(caller, OwnerKind.GROUP, "Group", group_name, policy_name, policy_document)

    @operation
    def put_role_policy(self, caller: Caller, role_name: str, policy_name: str, policy_document: str
                        ) -> dict[str, Any]:
        return self._put(caller, OwnerKind.ROLE, "Role", role_name, policy_name, policy_document)

    @operation
    def get_user_policy(self, caller: Caller, user_name: str, policy_name: str) -> dict[str, Any]:
        return self._get(caller, OwnerKind.USER, "User", user_name, policy_name)

    @operation
    def get_group_policy(self, caller: Caller, group_name: str, policy_name: str) -> dict[str, Any]:
        return self._get(caller, OwnerKind.GROUP, "Group", group_name, policy_name)

    @operation
    def get_role_policy(self, caller: Caller, role_name: str, policy_name: str) -> dict[str, Any]:
        return self._get(caller, OwnerKind.ROLE, "Role", role_name, policy_name)

    @operation
    def delete_user_policy(self, caller: Caller, user_name: str, policy_name: str) -> dict[str, Any]:
        return self._delete(caller, OwnerKind.USER, "User", user_name, policy_name)

    @operation
    def delete_group_policy(self, caller: Caller, group_name: str, policy_name: str) -> dict[str, Any]:
        return self._delete(caller, OwnerKind.GROUP, "Group", group_name, policy_name)

    @operation
    def delete_role_policy(self, caller: Caller, role_name: str, policy_name: str) -> dict[str, Any]:
        return self._delete(caller, OwnerKind.ROLE, "Role", role_name, policy_name)

    @operation
    def list_user_policies(self, caller: Caller, user_name: str, marker: str | None = None,
                           max_items: int | None = None) -> dict[str, Any]:
        return self._list(caller, OwnerKind.USER, "User", user_name, marker, max_items)

    @operation
    def list_group_policies(self, caller: Caller, group_name: str, marker: str | None = None,
                            max_items: int | None = None) -> dict[str, Any]:
        return self._list(caller, OwnerKind.GROUP, "Group", group_name, marker, max_items)

    @operation
    def list_role_policies(self, caller: Caller, role_name: str, marker: str | None = None,
                           max_items: int | None = None) -> dict[str, Any]:
        return self._list(caller, OwnerKind.ROLE, "Role", role_name, marker, max_items)

    @operation
    def attach_user_policy(self, caller: Caller, user_name: str, policy_arn: str) -> dict[str, Any]:
        return self._attach(caller, OwnerKind.USER, "User", user_name, policy_arn)

    @operation
    def attach_group_policy(self, caller: Caller, group_name: str, policy_arn: str) -> dict[str, Any]:
        return self._attach(caller, OwnerKind.GROUP, "Group", group_name, policy_arn)

    @operation
    def attach_role_policy(self, caller: Caller, role_name: str, policy_arn: str) -> dict[str, Any]:
        return self._attach(caller, OwnerKind.ROLE, "Role", role_name, policy_arn)

    @operation
    def detach_user_policy(self, caller: Caller, user_name: str, policy_arn: str) -> dict[str, Any]:
        return self._detach(caller, OwnerKind.USER, "User", user_name, policy_arn)

    @operation
    def detach_group_policy(self, caller: Caller, group_name: str, policy_arn: str) -> dict[str, Any]:
        return self._detach(caller, OwnerKind.GROUP, "Group", group_name, policy_arn)

    @operation
    def detach_role_policy(self, caller: Caller, role_name: str, policy_arn: str) -> dict[str, Any]:
        return self._detach(caller, OwnerKind.ROLE, "Role", role_name, policy_arn)

    @operation
    def list_attached_user_policies(self, caller: Caller, user_name: str, path_prefix: str | None = None,
                                    marker: str | None = None, max_items: int | None = None) -> dict[str, Any]:
        return self._list_attached(caller, OwnerKind.USER, "User", user_name, path_prefix, marker, max_items)

    @operation
    def list_attached_group_policies(self, caller: Caller, group_name: str, path_prefix: str | None = None,
                                     marker: str | None = None, max_items: int | None = None) -> dict[str, Any]:
        return self._list_attached(caller, OwnerKind.GROUP, "Group", group_name, path_prefix, marker, max_items)

    @operation
    def list_attached_role_policies(self, caller: Caller, role_name: str, path_prefix: str | None = None,
                                    marker: str | None = None, max_items: int | None = None) -> dict[str, Any]:
        return self._list_attached(caller, OwnerKind.ROLE, "Role", role_name, path_prefix, marker, max_items)

