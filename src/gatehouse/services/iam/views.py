"""Entities as the IAM API's output shapes (dicts keyed by AWS member names).

ARNs are rendered in the caller's partition. List views carry fewer members than get views, as AWS's do
(ListUsers returns no tags, ListRoles no boundary or last-used data).
"""

from __future__ import annotations

import urllib.parse
from collections.abc import Iterable
from typing import Any

from gatehouse.model import AccessKey, Group, InstanceProfile, ManagedPolicy, PolicyVersion, Role, Tag, User


def encode_document(document: str) -> str:
    """IAM returns policy documents URL-encoded (RFC 3986); the SDKs decode them."""
    return urllib.parse.quote(document, safe="")


def tags_view(tags: Iterable[Tag]) -> list[dict[str, str]]:
    return [{"Key": t.key, "Value": t.value} for t in tags]


def boundary_view(arn: str | None) -> dict[str, str] | None:
    if not arn:
        return None
    return {"PermissionsBoundaryType": "Policy", "PermissionsBoundaryArn": arn}


def user_view(user: User, partition: str, *, full: bool = False) -> dict[str, Any]:
    out: dict[str, Any] = {"Path": user.path, "UserName": user.name, "UserId": user.user_id,
                           "Arn": user.arn(partition), "CreateDate": user.created}
    if user.password_last_used:
        out["PasswordLastUsed"] = user.password_last_used
    if full:
        out["PermissionsBoundary"] = boundary_view(user.permissions_boundary)
        out["Tags"] = tags_view(user.tags) or None
    return out


def group_view(group: Group, partition: str) -> dict[str, Any]:
    return {"Path": group.path, "GroupName": group.name, "GroupId": group.group_id, "Arn": group.arn(partition),
            "CreateDate": group.created}


def role_view(role: Role, partition: str, *, full: bool = False, basic: bool = False) -> dict[str, Any]:
    """`full`: GetRole's shape (boundary, tags, RoleLastUsed). `basic`: the role as CreateRole, UpdateRoleDescription
    and the Roles of an instance profile show it, without MaxSessionDuration (AWS's answers recorded in LocalStack's
    AWS-validated snapshots, tests/aws/services/iam/test_iam_roles.snapshot.json and
    test_iam_instance_profiles.snapshot.json)."""
    out: dict[str, Any] = {
        "Path": role.path, "RoleName": role.name, "RoleId": role.role_id, "Arn": role.arn(partition),
        "CreateDate": role.created, "AssumeRolePolicyDocument": encode_document(role.trust_policy),
        "Description": role.description, "MaxSessionDuration": None if basic else role.max_session_duration,
    }
    if full:
        out["PermissionsBoundary"] = boundary_view(role.permissions_boundary)
        out["Tags"] = tags_view(role.tags) or None
        last: dict[str, Any] = {}
        if role.last_used:
            last = {"LastUsedDate": role.last_used, "Region": role.last_used_region}
        out["RoleLastUsed"] = last
    return out


def policy_view(policy: ManagedPolicy, partition: str, *, attachments: int = 0, boundary_uses: int = 0,
                tags: bool = False, listing: bool = False, description: bool = True) -> dict[str, Any]:
    """`listing`: the ListPolicies shape, which has no Description ("It is not included in the response to the
    ListPolicies operation": the Policy shape's documentation in the botocore model). `description=False`:
    CreatePolicy's answer, which has none either ("This element is included in the response to the GetPolicy
    operation", ibid.)."""
    out: dict[str, Any] = {
        "PolicyName": policy.name, "PolicyId": policy.policy_id, "Arn": policy.arn(partition), "Path": policy.path,
        "DefaultVersionId": policy.default_version_id, "AttachmentCount": attachments,
        "PermissionsBoundaryUsageCount": boundary_uses, "IsAttachable": True,
        "Description": policy.description if description and not listing else None, "CreateDate": policy.created,
        "UpdateDate": policy.updated,
    }
    if tags:
        out["Tags"] = tags_view(policy.tags) or None
    return out


def with_empty_tags(view: dict[str, Any]) -> dict[str, Any]:
    """GetPolicy, GetInstanceProfile, GetOpenIDConnectProvider and GetSAMLProvider answer `Tags` even when there
    are none (an empty list), unlike GetUser and GetRole (AWS-validated LocalStack snapshots)."""
    if view.get("Tags") is None:
        view["Tags"] = []
    return view


def version_view(version: PolicyVersion, *, document: bool = True) -> dict[str, Any]:
    return {"Document": encode_document(version.document) if document else None, "VersionId": version.version_id,
            "IsDefaultVersion": version.is_default, "CreateDate": version.created}


def key_metadata_view(key: AccessKey, user_name: str | None) -> dict[str, Any]:
    return {"UserName": user_name, "AccessKeyId": key.access_key_id, "Status": key.status, "CreateDate": key.created}


def profile_view(profile: InstanceProfile, partition: str, roles: list[Role], *, tags: bool = False
                 ) -> dict[str, Any]:
    out: dict[str, Any] = {
        "Path": profile.path, "InstanceProfileName": profile.name, "InstanceProfileId": profile.profile_id,
        "Arn": profile.arn(partition), "CreateDate": profile.created,
        "Roles": [role_view(r, partition, basic=True) for r in roles],
    }
    if tags:
        out["Tags"] = tags_view(profile.tags) or None
    return out
