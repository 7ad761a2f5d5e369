"""OffboardUser (Gatehouse's own operation, `gatehouse` service): everything AWS makes you remove before
DeleteUser, then the user, in one request and so in one transaction.

Each step is the IAM use case of that step (DeleteAccessKey, DetachUserPolicy, ...) called with the request's
caller, so it is authorized exactly as the call made on its own would be, and is noted with `record_step`: the
request path's single exit records one event per step (the same event the call on its own would leave) before
the OffboardUser event, in the commit of the request's writes. Inside the trail's request scope every write
joins one transaction, so a step that fails (AccessDenied, a conflict) undoes all of them: the user is either
gone with everything attached or untouched.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from gatehouse.model import Caller
from gatehouse.services.audit.calls import record_step
from gatehouse.services.operation import is_operation, operation

# AWS member name -> keyword argument of the use cases
_ARGUMENTS = {"UserName": "user_name", "AccessKeyId": "access_key_id", "CertificateId": "certificate_id",
              "SSHPublicKeyId": "ssh_public_key_id", "ServiceSpecificCredentialId": "service_specific_credential_id",
              "SerialNumber": "serial_number", "PolicyName": "policy_name", "PolicyArn": "policy_arn",
              "GroupName": "group_name", "Marker": "marker"}

_OPERATIONS = {
    "GetLoginProfile": "get_login_profile", "DeleteLoginProfile": "delete_login_profile",
    "ListAccessKeys": "list_access_keys", "DeleteAccessKey": "delete_access_key",
    "ListSigningCertificates": "list_signing_certificates", "DeleteSigningCertificate": "delete_signing_certificate",
    "ListSSHPublicKeys": "list_ssh_public_keys", "DeleteSSHPublicKey": "delete_ssh_public_key",
    "ListServiceSpecificCredentials": "list_service_specific_credentials",
    "DeleteServiceSpecificCredential": "delete_service_specific_credential",
    "ListMFADevices": "list_mfa_devices", "DeactivateMFADevice": "deactivate_mfa_device",
    "DeleteVirtualMFADevice": "delete_virtual_mfa_device",
    "ListUserPolicies": "list_user_policies", "DeleteUserPolicy": "delete_user_policy",
    "ListAttachedUserPolicies": "list_attached_user_policies", "DetachUserPolicy": "detach_user_policy",
    "ListGroupsForUser": "list_groups_for_user", "RemoveUserFromGroup": "remove_user_from_group",
    "GetUser": "get_user", "DeleteUser": "delete_user",
}


class Offboarding:
    """The `gatehouse` service's OffboardUser, over the IAM use cases the router serves."""

    def __init__(self, iam: Sequence[object]) -> None:
        calls: dict[str, Callable[..., dict[str, Any]]] = {}
        for name, attribute in _OPERATIONS.items():
            found = [m for obj in iam if callable(m := getattr(obj, attribute, None)) and is_operation(m)]
            if len(found) != 1:
                raise ValueError(f"OffboardUser needs exactly one use case for iam:{name}, found {len(found)}")
            calls[name] = found[0]
        self._calls = calls

    def _call(self, caller: Caller, name: str, params: Mapping[str, Any]) -> dict[str, Any]:
        return self._calls[name](caller, **{_ARGUMENTS[k]: v for k, v in params.items()})

    def _all(self, caller: Caller, name: str, key: str, user_name: str) -> list[Any]:
        """Every item of an IAM list (Marker/IsTruncated), read as the caller (so authorized as that List*)."""
        items: list[Any] = []
        params: dict[str, Any] = {"UserName": user_name}
        while True:
            page = self._call(caller, name, params)
            items.extend(page.get(key) or [])
            if not page.get("IsTruncated") or not page.get("Marker"):
                return items
            params["Marker"] = page["Marker"]

    def plan(self, caller: Caller, user_name: str) -> list[tuple[str, str, dict[str, Any]]]:
        """(operation, what it removes, its parameters) in AWS's documented order for deleting a user."""
        from gatehouse.errors import NoSuchEntity

        user = {"UserName": user_name}
        self._call(caller, "GetUser", user)  # NoSuchEntity for nobody, before anything else is asked
        steps: list[tuple[str, str, dict[str, Any]]] = []
        try:
            self._call(caller, "GetLoginProfile", user)
            steps.append(("DeleteLoginProfile", "console password", user))
        except NoSuchEntity:
            pass
        for k in self._all(caller, "ListAccessKeys", "AccessKeyMetadata", user_name):
            steps.append(("DeleteAccessKey", f"access key {k['AccessKeyId']}",
                          {**user, "AccessKeyId": k["AccessKeyId"]}))
        for c in self._all(caller, "ListSigningCertificates", "Certificates", user_name):
            steps.append(("DeleteSigningCertificate", f"signing certificate {c['CertificateId']}",
                          {**user, "CertificateId": c["CertificateId"]}))
        for k in self._all(caller, "ListSSHPublicKeys", "SSHPublicKeys", user_name):
            steps.append(("DeleteSSHPublicKey", f"SSH key {k['SSHPublicKeyId']}",
                          {**user, "SSHPublicKeyId": k["SSHPublicKeyId"]}))
        for c in self._all(caller, "ListServiceSpecificCredentials", "ServiceSpecificCredentials", user_name):
            steps.append(("DeleteServiceSpecificCredential",
                          f"{c['ServiceName']} credential {c['ServiceSpecificCredentialId']}",
                          {**user, "ServiceSpecificCredentialId": c["ServiceSpecificCredentialId"]}))
        for d in self._all(caller, "ListMFADevices", "MFADevices", user_name):
            serial = d["SerialNumber"]
            steps.append(("DeactivateMFADevice", f"MFA device {serial}", {**user, "SerialNumber": serial}))
            if ":mfa/" in serial:  # virtual (a hardware serial is no ARN): AWS keeps it until it is deleted
                steps.append(("DeleteVirtualMFADevice", f"virtual MFA device {serial}", {"SerialNumber": serial}))
        for p in self._all(caller, "ListUserPolicies", "PolicyNames", user_name):
            steps.append(("DeleteUserPolicy", f"inline policy {p}", {**user, "PolicyName": p}))
        for p in self._all(caller, "ListAttachedUserPolicies", "AttachedPolicies", user_name):
            steps.append(("DetachUserPolicy", f"managed policy {p['PolicyArn']}",
                          {**user, "PolicyArn": p["PolicyArn"]}))
        for g in self._all(caller, "ListGroupsForUser", "Groups", user_name):
            steps.append(("RemoveUserFromGroup", f"group {g['GroupName']}", {**user, "GroupName": g["GroupName"]}))
        steps.append(("DeleteUser", f"user {user_name}", user))
        return steps

    @operation
    def offboard_user(self, caller: Caller, user_name: str, dry_run: bool | None = None) -> dict[str, Any]:
        steps = self.plan(caller, user_name)
        if not dry_run:
            for name, _target, params in steps:
                self._call(caller, name, params)  # an error here leaves the request's scope: everything rolls back
                record_step("iam", name, params)
        return {"UserName": user_name, "Deleted": not dry_run,
                "Steps": [{"Operation": name, "Target": target} for name, target, _ in steps]}
