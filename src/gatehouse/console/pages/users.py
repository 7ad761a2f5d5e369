"""IAM users: list, create, detail tabs (permissions, groups, tags, security credentials, access advisor), edit
and delete; passwords, access keys (the secret shown once) and virtual MFA devices (QR code and seed)."""

from __future__ import annotations

import base64
from typing import Any

from starlette.responses import Response
from starlette.routing import BaseRoute

from gatehouse.errors import AwsError

from ..web import BASE, Console, View
from .common import listing, name_of, policy_arn, policy_names, quoted, tag_from_form, try_steps

TABS = [("permissions", "Permissions"), ("groups", "Groups"), ("tags", "Tags"),
        ("security", "Security credentials"), ("advisor", "Access Advisor")]


def user_url(name: str, tab: str | None = None) -> str:
    return f"{BASE}/users/{quoted(name)}" + (f"?tab={tab}" if tab else "")


def _create_form(view: View, *, error: AwsError | None = None, status: int = 200) -> Response:
    groups = view.attempt("ListGroups", MaxItems=1000)
    return view.render("identities/user_new.html", section="users", title="Create user", error=error, status=status,
                       groups=(groups.result or {}).get("Groups", []), groups_problem=groups.problem, f=view.form)


def detail(view: View, name: str, *, error: AwsError | None = None, status: int = 200, **extra: Any) -> Response:
    user = view.iam("GetUser", UserName=name)["User"]
    tab = extra.pop("tab", None) or view.query.get("tab", "permissions")
    tab = tab if tab in dict(TABS) else "permissions"
    data: dict[str, Any] = {}
    if tab == "permissions":
        data["attached"] = view.attempt("ListAttachedUserPolicies", UserName=name, MaxItems=1000)
        data["inline"] = view.attempt("ListUserPolicies", UserName=name, MaxItems=1000)
        data["member_of"] = view.attempt("ListGroupsForUser", UserName=name, MaxItems=1000)
        data["documents"] = {p: view.attempt("GetUserPolicy", UserName=name, PolicyName=p)
                             for p in (data["inline"].result or {}).get("PolicyNames", [])}
    elif tab == "groups":
        data["member_of"] = view.attempt("ListGroupsForUser", UserName=name, MaxItems=1000)
        data["all_groups"] = view.attempt("ListGroups", MaxItems=1000)
    elif tab == "tags":
        data["tags"] = view.attempt("ListUserTags", UserName=name, MaxItems=1000)
    elif tab == "security":
        data["login"] = view.attempt("GetLoginProfile", UserName=name)
        keys = view.attempt("ListAccessKeys", UserName=name)
        data["keys"] = keys
        data["last_used"] = {k["AccessKeyId"]: view.attempt("GetAccessKeyLastUsed", AccessKeyId=k["AccessKeyId"])
                             for k in (keys.result or {}).get("AccessKeyMetadata", [])}
        data["mfa"] = view.attempt("ListMFADevices", UserName=name)
    elif tab == "advisor":
        job = view.attempt("GenerateServiceLastAccessedDetails", Arn=user["Arn"])
        data["advisor"] = (view.attempt("GetServiceLastAccessedDetails", JobId=job.result["JobId"])
                           if job.result else job)
    return view.render("identities/user.html", section="users", title=f"User {name}", user=user, tab=tab,
                       tabs=TABS, error=error, status=status, **data, **extra)


def _act(view: View, name: str, tab: str, action: str, params: dict[str, Any], done: str) -> Response:
    """One change from a detail tab: back to the tab with a message, or the tab again with the refusal."""
    try:
        view.iam(action, **params)
    except AwsError as error:
        return detail(view, name, error=error, status=error.http_status, tab=tab)
    return view.redirect(user_url(name, tab), flash=done)


def routes(console: Console) -> list[BaseRoute]:
    @console.page(BASE + "/users")
    def users(view: View) -> Response:
        found = listing(view, "ListUsers", "Users", "UserName")
        return view.render("identities/users.html", section="users", title="Users", listing=found)

    @console.page(BASE + "/create/user")
    def new_user(view: View) -> Response:
        return _create_form(view)

    @console.page(BASE + "/create/user", methods=["POST"])
    def create_user(view: View) -> Response:
        f = view.form
        name = f.get("user_name").strip()
        try:
            view.iam("CreateUser", UserName=name, Path=f.optional("path"), Tags=tag_from_form(view) or None)
        except AwsError as error:
            return _create_form(view, error=error, status=error.http_status)
        steps: list[tuple[str, dict[str, Any]]] = []
        if f.get("console_access") and f.get("password"):
            steps.append(("CreateLoginProfile", {"UserName": name, "Password": f.get("password"),
                                                 "PasswordResetRequired": bool(f.get("password_reset_required"))}))
        steps += [("AddUserToGroup", {"UserName": name, "GroupName": g}) for g in f.getlist("groups") if g]
        try:
            steps += [("AttachUserPolicy", {"UserName": name, "PolicyArn": policy_arn(view, p)})
                      for p in policy_names(f.get("policies"))]
        except AwsError as error:
            return view.redirect(user_url(name), flash=f"User {name} created, but: {error.message}")
        failed = try_steps(view, steps)
        if failed is not None:
            return view.redirect(user_url(name), flash=f"User {name} created, but not everything asked for: "
                                                       f"{failed.code}: {failed.message}")
        return view.redirect(user_url(name), flash=f"User {name} created.")

    @console.page(BASE + "/users/{name}")
    def user(view: View) -> Response:
        return detail(view, name_of(view))

    @console.page(BASE + "/users/{name}/edit", methods=["POST"])
    def edit_user(view: View) -> Response:
        name = name_of(view)
        new_name = view.form.optional("new_user_name")
        try:
            view.iam("UpdateUser", UserName=name, NewUserName=new_name if new_name != name else None,
                     NewPath=view.form.optional("new_path"))
        except AwsError as error:
            return detail(view, name, error=error, status=error.http_status)
        return view.redirect(user_url(new_name or name), flash="User updated.")

    @console.page(BASE + "/users/{name}/delete", methods=["POST"])
    def delete_user(view: View) -> Response:
        name = name_of(view)
        try:  # Gatehouse's OffboardUser: everything attached, then the user, in one transaction
            view.call("gatehouse", "OffboardUser", {"UserName": name})
        except AwsError as error:
            return detail(view, name, error=error, status=error.http_status)
        return view.redirect(BASE + "/users", flash=f"User {name} deleted.")

    @console.page(BASE + "/users/{name}/groups/add", methods=["POST"])
    def add_to_group(view: View) -> Response:
        name, group = name_of(view), view.form.get("group_name")
        return _act(view, name, "groups", "AddUserToGroup", {"UserName": name, "GroupName": group},
                    f"Added to group {group}.")

    @console.page(BASE + "/users/{name}/groups/remove", methods=["POST"])
    def remove_from_group(view: View) -> Response:
        name, group = name_of(view), view.form.get("group_name")
        return _act(view, name, "groups", "RemoveUserFromGroup", {"UserName": name, "GroupName": group},
                    f"Removed from group {group}.")

    @console.page(BASE + "/users/{name}/policies/attach", methods=["POST"])
    def attach(view: View) -> Response:
        name = name_of(view)
        try:
            arn = policy_arn(view, view.form.get("policy"))
        except AwsError as error:
            return detail(view, name, error=error, status=error.http_status)
        return _act(view, name, "permissions", "AttachUserPolicy", {"UserName": name, "PolicyArn": arn},
                    f"Attached {arn}.")

    @console.page(BASE + "/users/{name}/policies/detach", methods=["POST"])
    def detach(view: View) -> Response:
        name, arn = name_of(view), view.form.get("policy_arn")
        return _act(view, name, "permissions", "DetachUserPolicy", {"UserName": name, "PolicyArn": arn},
                    f"Detached {arn}.")

    @console.page(BASE + "/users/{name}/policies/inline", methods=["POST"])
    def put_inline(view: View) -> Response:
        name, policy = name_of(view), view.form.get("policy_name").strip()
        return _act(view, name, "permissions", "PutUserPolicy",
                    {"UserName": name, "PolicyName": policy, "PolicyDocument": view.form.get("policy_document")},
                    f"Inline policy {policy} saved.")

    @console.page(BASE + "/users/{name}/policies/inline/delete", methods=["POST"])
    def delete_inline(view: View) -> Response:
        name, policy = name_of(view), view.form.get("policy_name")
        return _act(view, name, "permissions", "DeleteUserPolicy", {"UserName": name, "PolicyName": policy},
                    f"Inline policy {policy} deleted.")

    @console.page(BASE + "/users/{name}/boundary", methods=["POST"])
    def set_boundary(view: View) -> Response:
        name = name_of(view)
        try:
            arn = policy_arn(view, view.form.get("policy"))
        except AwsError as error:
            return detail(view, name, error=error, status=error.http_status)
        return _act(view, name, "permissions", "PutUserPermissionsBoundary",
                    {"UserName": name, "PermissionsBoundary": arn}, f"Permissions boundary set to {arn}.")

    @console.page(BASE + "/users/{name}/boundary/delete", methods=["POST"])
    def delete_boundary(view: View) -> Response:
        name = name_of(view)
        return _act(view, name, "permissions", "DeleteUserPermissionsBoundary", {"UserName": name},
                    "Permissions boundary removed.")

    @console.page(BASE + "/users/{name}/tags/add", methods=["POST"])
    def add_tag(view: View) -> Response:
        name = name_of(view)
        return _act(view, name, "tags", "TagUser", {"UserName": name, "Tags": tag_from_form(view)}, "Tag saved.")

    @console.page(BASE + "/users/{name}/tags/remove", methods=["POST"])
    def remove_tag(view: View) -> Response:
        name = name_of(view)
        return _act(view, name, "tags", "UntagUser", {"UserName": name, "TagKeys": [view.form.get("tag_key")]},
                    "Tag removed.")

    @console.page(BASE + "/users/{name}/password", methods=["POST"])
    def set_password(view: View) -> Response:
        name, f = name_of(view), view.form
        params = {"UserName": name, "Password": f.get("password"),
                  "PasswordResetRequired": bool(f.get("password_reset_required"))}
        action = "UpdateLoginProfile" if f.get("exists") else "CreateLoginProfile"
        return _act(view, name, "security", action, params,
                    "Console password set." + (" The user must change it at next sign-in."
                                               if params["PasswordResetRequired"] else ""))

    @console.page(BASE + "/users/{name}/password/delete", methods=["POST"])
    def delete_password(view: View) -> Response:
        name = name_of(view)
        return _act(view, name, "security", "DeleteLoginProfile", {"UserName": name}, "Console access removed.")

    @console.page(BASE + "/users/{name}/access-keys/create", methods=["POST"])
    def create_key(view: View) -> Response:
        name = name_of(view)
        try:
            key = view.iam("CreateAccessKey", UserName=name)["AccessKey"]
        except AwsError as error:
            return detail(view, name, error=error, status=error.http_status, tab="security")
        # Shown once, in this answer only (never in a URL, a cookie or a later page).
        return view.render("identities/access_key.html", section="users", title="Access key created",
                           user_name=name, key=key)

    @console.page(BASE + "/users/{name}/access-keys/status", methods=["POST"])
    def key_status(view: View) -> Response:
        name, key, status = name_of(view), view.form.get("access_key_id"), view.form.get("status")
        return _act(view, name, "security", "UpdateAccessKey",
                    {"UserName": name, "AccessKeyId": key, "Status": status}, f"Access key {key} is now {status}.")

    @console.page(BASE + "/users/{name}/access-keys/delete", methods=["POST"])
    def delete_key(view: View) -> Response:
        name, key = name_of(view), view.form.get("access_key_id")
        return _act(view, name, "security", "DeleteAccessKey", {"UserName": name, "AccessKeyId": key},
                    f"Access key {key} deleted.")

    @console.page(BASE + "/users/{name}/mfa/create", methods=["POST"])
    def create_mfa(view: View) -> Response:
        name = name_of(view)
        device = view.form.get("device_name").strip() or name
        try:
            made = view.iam("CreateVirtualMFADevice", VirtualMFADeviceName=device)["VirtualMFADevice"]
        except AwsError as error:
            return detail(view, name, error=error, status=error.http_status, tab="security")
        png = made.get("QRCodePNG") or b""
        qr = "data:image/png;base64," + base64.b64encode(png if isinstance(png, bytes) else png.encode()).decode()
        seed = made.get("Base32StringSeed") or ""
        return view.render("identities/mfa.html", section="users", title="Assign MFA device", user_name=name,
                           serial=made["SerialNumber"], qr=qr,
                           seed=seed.decode() if isinstance(seed, bytes) else seed)

    @console.page(BASE + "/users/{name}/mfa/enable", methods=["POST"])
    def enable_mfa(view: View) -> Response:
        name, f = name_of(view), view.form
        serial = f.get("serial_number")
        try:
            view.iam("EnableMFADevice", UserName=name, SerialNumber=serial,
                     AuthenticationCode1=f.get("code1").strip(), AuthenticationCode2=f.get("code2").strip())
        except AwsError as error:  # the device stays unassigned: the user tries the codes again, or starts over
            return view.render("identities/mfa.html", section="users", title="Assign MFA device", user_name=name,
                               serial=serial, qr=None, seed=None, error=error, status=error.http_status)
        return view.redirect(user_url(name, "security"), flash=f"MFA device {serial} assigned.")

    @console.page(BASE + "/users/{name}/mfa/remove", methods=["POST"])
    def remove_mfa(view: View) -> Response:
        name, serial = name_of(view), view.form.get("serial_number")
        try:
            if view.form.get("assigned"):
                view.iam("DeactivateMFADevice", UserName=name, SerialNumber=serial)
            if ":mfa/" in serial:
                view.iam("DeleteVirtualMFADevice", SerialNumber=serial)
        except AwsError as error:
            return detail(view, name, error=error, status=error.http_status, tab="security")
        return view.redirect(user_url(name, "security"), flash=f"MFA device {serial} removed.")

    return [users, new_user, create_user, user, edit_user, delete_user, add_to_group, remove_from_group, attach,
            detach, put_inline, delete_inline, set_boundary, delete_boundary, add_tag, remove_tag, set_password,
            delete_password, create_key, key_status, delete_key, create_mfa, enable_mfa, remove_mfa]
