"""Account-wide IAM operations: alias, summary, authorization details, STS preferences."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

from gatehouse.errors import EntityAlreadyExists, NoSuchEntity, ValidationError
from gatehouse.model import Caller, OwnerKind
from gatehouse.services.iam.aws_managed import AWS
from gatehouse.services.iam.common import IamBase, listing
from gatehouse.services.iam.documents import INLINE_MAX, MANAGED_POLICY_MAX, TRUST_POLICY_MAX
from gatehouse.services.iam.entity_policies import MAX_ATTACHED
from gatehouse.services.iam.groups import MAX_GROUPS, MAX_GROUPS_PER_USER
from gatehouse.services.iam.instance_profiles import MAX_INSTANCE_PROFILES
from gatehouse.services.iam.managed_policies import MAX_POLICIES, MAX_VERSIONS, arn_suffix
from gatehouse.services.iam.policy_refs import default_document
from gatehouse.services.iam.roles import MAX_ROLES
from gatehouse.services.iam.trust import shown
from gatehouse.services.iam.users import MAX_USERS
from gatehouse.services.iam.views import (
    boundary_view,
    encode_document,
    policy_view,
    profile_view,
    tags_view,
    version_view,
)
from gatehouse.services.operation import operation
from gatehouse.storage.markers import decode_marker, encode_marker
from gatehouse.storage.repository import Duplicate, UnitOfWork


class AccountOps(IamBase):
    # --- alias -----------------------------------------------------------------------------------------------

    @operation
    def create_account_alias(self, caller: Caller, account_alias: str) -> dict[str, Any]:
        if account_alias.isdigit() and len(account_alias) == 12:
            # "it cannot be a 12 digit number" (IAM User Guide, IAM and AWS STS quotas, IAM name requirements).
            # The model's pattern lets it through. The first sentence is AWS's for invalid aliases; the second is
            # ours (AWS's exact wording for this case is unconfirmed).
            raise ValidationError("The specified value for accountAlias is invalid. It cannot be a 12-digit number.")
        taken = EntityAlreadyExists(f"The account alias {account_alias} already exists.")
        try:
            with self.store.write(caller.account_id) as tx:
                self.require(tx, caller, "iam:CreateAccountAlias", "*")
                other = tx.accounts.by_alias(account_alias)
                if other and other.account_id != caller.account_id:
                    raise taken
                tx.accounts.set_alias(account_alias)
        except Duplicate:
            # Writers of different accounts run concurrently: another account claimed the alias first.
            raise taken from None
        return {}

    @operation
    def delete_account_alias(self, caller: Caller, account_alias: str) -> dict[str, Any]:
        with self.store.write(caller.account_id) as tx:
            self.require(tx, caller, "iam:DeleteAccountAlias", "*")
            account = tx.accounts.get(caller.account_id)
            if account is None or account.alias != account_alias:
                raise NoSuchEntity(f"The account alias {account_alias} cannot be found.")
            tx.accounts.set_alias(None)
        return {}

    @operation
    def list_account_aliases(self, caller: Caller, marker: str | None = None, max_items: int | None = None
                             ) -> dict[str, Any]:
        with self.store.read(caller.account_id) as tx:
            self.require(tx, caller, "iam:ListAccountAliases", "*")
            account = tx.accounts.get(caller.account_id)
        return {"AccountAliases": [account.alias] if account and account.alias else [], "IsTruncated": False}

    # --- preferences and summary -----------------------------------------------------------------------------

    @operation
    def set_security_token_service_preferences(self, caller: Caller, global_endpoint_token_version: str
                                               ) -> dict[str, Any]:
        with self.store.write(caller.account_id) as tx:
            self.require(tx, caller, "iam:SetSecurityTokenServicePreferences", "*")
            tx.accounts.set_sts_token_version(global_endpoint_token_version)
        return {}

    @operation
    def get_account_summary(self, caller: Caller) -> dict[str, Any]:
        with self.store.read(caller.account_id) as tx:
            self.require(tx, caller, "iam:GetAccountSummary", "*")
            n = tx.accounts.counts()
            account = tx.accounts.get(caller.account_id)
            root_password = tx.logins.root() is not None
        token_version = 2 if account and account.sts_global_token_version == "v2Token" else 1
        return {"SummaryMap": {
            "Users": n.users, "UsersQuota": MAX_USERS, "Groups": n.groups, "GroupsQuota": MAX_GROUPS,
            "Roles": n.roles, "RolesQuota": MAX_ROLES, "Policies": n.policies, "PoliciesQuota": MAX_POLICIES,
            "InstanceProfiles": n.instance_profiles, "InstanceProfilesQuota": MAX_INSTANCE_PROFILES,
            "ServerCertificates": n.server_certificates, "ServerCertificatesQuota": 20,
            "MFADevices": n.mfa_devices, "MFADevicesInUse": n.mfa_devices_in_use, "Providers": n.providers,
            "AccountMFAEnabled": n.account_mfa_enabled, "AccountAccessKeysPresent": 1 if n.root_access_keys else 0,
            "AccountSigningCertificatesPresent": 1 if n.root_signing_certificates else 0, "AccessKeysPerUserQuota": 2,
            # AWS answers AccountPasswordPresent too (LocalStack's AWS-validated test_iam_account_summary snapshot)
            "AccountPasswordPresent": 1 if root_password else 0,
            "SigningCertificatesPerUserQuota": 2, "GroupsPerUserQuota": MAX_GROUPS_PER_USER,
            "AttachedPoliciesPerUserQuota": MAX_ATTACHED, "AttachedPoliciesPerGroupQuota": MAX_ATTACHED,
            "AttachedPoliciesPerRoleQuota": MAX_ATTACHED, "UserPolicySizeQuota": INLINE_MAX["user"],
            "GroupPolicySizeQuota": INLINE_MAX["group"], "RolePolicySizeQuota": INLINE_MAX["role"],
            "PolicySizeQuota": MANAGED_POLICY_MAX, "AssumeRolePolicySizeQuota": TRUST_POLICY_MAX,
            "PolicyVersionsInUse": n.policy_versions_in_use, "PolicyVersionsInUseQuota": 10000,
            "VersionsPerPolicyQuota": MAX_VERSIONS, "GlobalEndpointTokenVersion": token_version,
        }}

    # --- authorization details -------------------------------------------------------------------------------

    @operation
    def get_account_authorization_details(self, caller: Caller, filter: list[str] | None = None,
                                          marker: str | None = None, max_items: int | None = None
                                          ) -> dict[str, Any]:
        wanted = set(filter or ("User", "Role", "Group", "LocalManagedPolicy", "AWSManagedPolicy"))
        # Every entity is listed (one row each) but only the page's details are built: their cost (documents,
        # versions, attachments, tags) is what grows with the account, and MaxItems (at most 1,000) bounds it.
        with self.store.read(caller.account_id) as tx:
            self.require(tx, caller, "iam:GetAccountAuthorizationDetails", "*")
            items: list[tuple[str, Callable[[], dict[str, Any]]]] = []
            if "User" in wanted:
                items += [("UserDetailList", partial(self._user_detail, tx, caller, u)) for u in tx.users.all()]
            if "Group" in wanted:
                items += [("GroupDetailList", partial(self._group_detail, tx, caller, g)) for g in tx.groups.all()]
            if "Role" in wanted:
                items += [("RoleDetailList", partial(self._role_detail, tx, caller, r))
                          for r in shown(tx, tx.roles.all())]
            items += [("Policies", p) for p in self._policy_details(tx, caller, wanted)]
            position = decode_marker(marker) if marker else "0"
            # another listing's marker is not ours (isascii: str.isdigit() alone accepts "²", which int() refuses)
            start = int(position) if position.isascii() and position.isdigit() else -1
            if start < 0 or start > len(items):
                raise ValidationError("Invalid Marker.")
            limit = max_items or 100
            out: dict[str, Any] = {"UserDetailList": [], "GroupDetailList": [], "RoleDetailList": [], "Policies": []}
            for key, detail in items[start:start + limit]:
                out[key].append(detail())
        out["IsTruncated"] = start + limit < len(items)
        if out["IsTruncated"]:
            out["Marker"] = encode_marker(str(start + limit))
        return out

    def _inline(self, tx: UnitOfWork, kind: OwnerKind, owner_id: str) -> list[dict[str, str]]:
        return [{"PolicyName": p.name, "PolicyDocument": encode_document(p.document)}
                for p in tx.inline.all_for(kind, owner_id)]

    def _attached(self, tx: UnitOfWork, caller: Caller, kind: OwnerKind, owner_id: str) -> list[dict[str, str]]:
        out = []
        for policy_account, policy_id in tx.attachments.for_owner(kind, owner_id):
            found = default_document(tx, self.deps.managed, policy_account, policy_id)
            if found:
                out.append({"PolicyName": found[0].name, "PolicyArn": found[0].arn(caller.partition)})
        return sorted(out, key=lambda p: p["PolicyName"].lower())

    def _user_detail(self, tx: UnitOfWork, caller: Caller, u: Any) -> dict[str, Any]:
        groups = [g.name for g in (tx.groups.by_id(gid) for gid in tx.groups.ids_for_user(u.user_id)) if g]
        return {"Path": u.path, "UserName": u.name, "UserId": u.user_id, "Arn": u.arn(caller.partition),
                "CreateDate": u.created, "UserPolicyList": self._inline(tx, OwnerKind.USER, u.user_id),
                "GroupList": sorted(groups, key=str.lower),
                "AttachedManagedPolicies": self._attached(tx, caller, OwnerKind.USER, u.user_id),
                "PermissionsBoundary": boundary_view(u.permissions_boundary),
                "Tags": tags_view(tx.tags.get(OwnerKind.USER, u.user_id))}

    def _group_detail(self, tx: UnitOfWork, caller: Caller, g: Any) -> dict[str, Any]:
        return {"Path": g.path, "GroupName": g.name, "GroupId": g.group_id, "Arn": g.arn(caller.partition),
                "CreateDate": g.created, "GroupPolicyList": self._inline(tx, OwnerKind.GROUP, g.group_id),
                "AttachedManagedPolicies": self._attached(tx, caller, OwnerKind.GROUP, g.group_id)}

    def _role_detail(self, tx: UnitOfWork, caller: Caller, r: Any) -> dict[str, Any]:
        profiles = tx.profiles.for_role(r.role_id, listing(max_items=1000)).items
        last: dict[str, Any] = {"LastUsedDate": r.last_used, "Region": r.last_used_region} if r.last_used else {}
        return {"Path": r.path, "RoleName": r.name, "RoleId": r.role_id, "Arn": r.arn(caller.partition),
                "CreateDate": r.created, "AssumeRolePolicyDocument": encode_document(r.trust_policy),
                "InstanceProfileList": [profile_view(p, caller.partition, [r]) for p in profiles],
                "RolePolicyList": self._inline(tx, OwnerKind.ROLE, r.role_id),
                "AttachedManagedPolicies": self._attached(tx, caller, OwnerKind.ROLE, r.role_id),
                "PermissionsBoundary": boundary_view(r.permissions_boundary),
                "Tags": tags_view(tx.tags.get(OwnerKind.ROLE, r.role_id)), "RoleLastUsed": last}

    def _policy_details(self, tx: UnitOfWork, caller: Caller, wanted: set[str]
                        ) -> list[Callable[[], dict[str, Any]]]:
        counts = tx.attachments.counts()
        boundaries = tx.attachments.boundary_usages()
        out: list[Callable[[], dict[str, Any]]] = []

        def local(p: Any) -> dict[str, Any]:
            view = policy_view(p, caller.partition, attachments=counts.get((p.account_id, p.policy_id), 0),
                               boundary_uses=boundaries.get(arn_suffix(p.arn("aws")), 0))
            view["PolicyVersionList"] = [version_view(v) for v in tx.policies.versions(p.policy_id)]
            return view

        def managed(m: Any, n: int, b: int) -> dict[str, Any]:
            view = policy_view(m, caller.partition, attachments=n, boundary_uses=b)
            view["PolicyVersionList"] = [version_view(v) for v in self.deps.managed.versions(m)]
            return view

        if "LocalManagedPolicy" in wanted:
            out += [partial(local, p) for p in tx.policies.all()]
        if "AWSManagedPolicy" in wanted:
            for m in self.deps.managed.all():
                n = counts.get((AWS, m.policy_id), 0)
                b = boundaries.get(arn_suffix(m.arn("aws")), 0) if boundaries else 0
                if n or b:
                    out.append(partial(managed, m, n, b))
        return out
