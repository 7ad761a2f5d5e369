"""IAM roles: list, create with a trust policy editor (templates for an AWS service, another account, a web
identity provider and SAML), detail tabs (permissions, trust relationships, tags, instance profiles, access
advisor), edit, and delete (after what AWS requires removed first)."""

from __future__ import annotations

from typing import Any

from starlette.responses import Response
from starlette.routing import BaseRoute

from gatehouse.errors import AwsError, InvalidInput

from ..web import BASE, Console, View
from .common import listing, name_of, policy_arn, policy_names, quoted, tag_from_form, try_steps
from .trust_templates import TEMPLATES, all_templates, trust_template

TABS = [("permissions", "Permissions"), ("trust", "Trust relationships"), ("tags", "Tags"),
        ("instance-profiles", "Instance profiles"), ("advisor", "Access Advisor")]


def role_url(name: str, tab: str | None = None) -> str:
    return f"{BASE}/roles/{quoted(name)}" + (f"?tab={tab}" if tab else "")


def _duration(text: str) -> int | None:
    text = text.strip()
    if not text:
        return None
    if not text.isdigit() or len(text) > 6:
        raise InvalidInput("The maximum session duration is a number of seconds (3600 to 43200).")
    return int(text)


def detail(view: View, name: str, *, error: AwsError | None = None, status: int = 200, tab: str | None = None,
           trust_text: str | None = None) -> Response:
    assert view.caller is not None
    role = view.iam("GetRole", RoleName=name)["Role"]
    tab = tab or view.query.get("tab", "permissions")
    tab = tab if tab in dict(TABS) else "permissions"
    data: dict[str, Any] = {}
    if tab == "permissions":
        data["attached"] = view.attempt("ListAttachedRolePolicies", RoleName=name, MaxItems=1000)
        data["inline"] = view.attempt("ListRolePolicies", RoleName=name, MaxItems=1000)
        data["documents"] = {p: view.attempt("GetRolePolicy", RoleName=name, PolicyName=p)
                             for p in (data["inline"].result or {}).get("PolicyNames", [])}
    elif tab == "tags":
        data["tags"] = view.attempt("ListRoleTags", RoleName=name, MaxItems=1000)
    elif tab == "instance-profiles":
        data["profiles"] = view.attempt("ListInstanceProfilesForRole", RoleName=name, MaxItems=1000)
    elif tab == "advisor":
        job = view.attempt("GenerateServiceLastAccessedDetails", Arn=role["Arn"])
        data["advisor"] = (view.attempt("GetServiceLastAccessedDetails", JobId=job.result["JobId"])
                           if job.result else job)
    template = view.query.get("template", "")
    trust = trust_text if trust_text is not None else (
        trust_template(template, view.caller) if template in dict(TEMPLATES)
        else str(role.get("AssumeRolePolicyDocument") or ""))
    return view.render("identities/role.html", section="roles", title=f"Role {name}", role=role, tab=tab, tabs=TABS,
                       trust=trust, templates=all_templates(view.caller), error=error, status=status, **data)


def _act(view: View, name: str, tab: str, action: str, params: dict[str, Any], done: str) -> Response:
    try:
        view.iam(action, **params)
    except AwsError as error:
        return detail(view, name, error=error, status=error.http_status, tab=tab)
    return view.redirect(role_url(name, tab), flash=done)


def _create_form(view: View, *, error: AwsError | None = None, status: int = 200) -> Response:
    assert view.caller is not None
    template = view.query.get("template", "service")
    trust = view.form.get("trust_policy") if "trust_policy" in view.form else trust_template(template,
                                                                                             view.caller)
    return view.render("identities/role_new.html", section="roles", title="Create role", error=error,
                       status=status, f=view.form, trust=trust, templates=all_templates(view.caller))


def routes(console: Console) -> list[BaseRoute]:
    @console.page(BASE + "/roles")
    def roles(view: View) -> Response:
        found = listing(view, "ListRoles", "Roles", "RoleName")
        return view.render("identities/roles.html", section="roles", title="Roles", listing=found)

    @console.page(BASE + "/create/role")
    def new_role(view: View) -> Response:
        return _create_form(view)

    @console.page(BASE + "/create/role", methods=["POST"])
    def create_role(view: View) -> Response:
        f = view.form
        name = f.get("role_name").strip()
        try:
            arns = [policy_arn(view, p) for p in policy_names(f.get("policies"))]
            view.iam("CreateRole", RoleName=name, AssumeRolePolicyDocument=f.get("trust_policy"),
                     Path=f.optional("path"), Description=f.optional("description"),
                     MaxSessionDuration=_duration(f.get("max_session_duration")),
                     Tags=tag_from_form(view) or None)
        except AwsError as error:
            return _create_form(view, error=error, status=error.http_status)
        failed = try_steps(view, [("AttachRolePolicy", {"RoleName": name, "PolicyArn": a}) for a in arns])
        if failed is not None:
            return view.redirect(role_url(name), flash=f"Role {name} created, but a policy was not attached: "
                                                       f"{failed.code}: {failed.message}")
        return view.redirect(role_url(name), flash=f"Role {name} created.")

    @console.page(BASE + "/roles/{name}")
    def role(view: View) -> Response:
        return detail(view, name_of(view))

    @console.page(BASE + "/roles/{name}/edit", methods=["POST"])
    def edit_role(view: View) -> Response:
        name, f = name_of(view), view.form
        try:
            view.iam("UpdateRole", RoleName=name, Description=f.get("description"),
                     MaxSessionDuration=_duration(f.get("max_session_duration")))
        except AwsError as error:
            return detail(view, name, error=error, status=error.http_status)
        return view.redirect(role_url(name), flash="Role updated.")

    @console.page(BASE + "/roles/{name}/trust", methods=["POST"])
    def edit_trust(view: View) -> Response:
        name, text = name_of(view), view.form.get("trust_policy")
        try:
            view.iam("UpdateAssumeRolePolicy", RoleName=name, PolicyDocument=text)
        except AwsError as error:
            return detail(view, name, error=error, status=error.http_status, tab="trust", trust_text=text)
        return view.redirect(role_url(name, "trust"), flash="Trust policy saved.")

    @console.page(BASE + "/roles/{name}/delete", methods=["POST"])
    def delete_role(view: View) -> Response:
        """What AWS requires first: out of its instance profiles, policies detached and deleted; then the role."""
        name = name_of(view)
        try:
            steps: list[tuple[str, dict[str, Any]]] = [
                ("RemoveRoleFromInstanceProfile", {"RoleName": name,
                                                   "InstanceProfileName": p["InstanceProfileName"]})
                for p in view.all_pages("ListInstanceProfilesForRole", "InstanceProfiles", RoleName=name)]
            steps += [("DetachRolePolicy", {"RoleName": name, "PolicyArn": p["PolicyArn"]})
                      for p in view.all_pages("ListAttachedRolePolicies", "AttachedPolicies", RoleName=name)]
            steps += [("DeleteRolePolicy", {"RoleName": name, "PolicyName": p})
                      for p in view.all_pages("ListRolePolicies", "PolicyNames", RoleName=name)]
            steps.append(("DeleteRole", {"RoleName": name}))
        except AwsError as error:
            return detail(view, name, error=error, status=error.http_status)
        failed = try_steps(view, steps)
        if failed is not None:
            return detail(view, name, error=failed, status=failed.http_status)
        return view.redirect(BASE + "/roles", flash=f"Role {name} deleted.")

    @console.page(BASE + "/roles/{name}/policies/attach", methods=["POST"])
    def attach(view: View) -> Response:
        name = name_of(view)
        try:
            arn = policy_arn(view, view.form.get("policy"))
        except AwsError as error:
            return detail(view, name, error=error, status=error.http_status)
        return _act(view, name, "permissions", "AttachRolePolicy", {"RoleName": name, "PolicyArn": arn},
                    f"Attached {arn}.")

    @console.page(BASE + "/roles/{name}/policies/detach", methods=["POST"])
    def detach(view: View) -> Response:
        name, arn = name_of(view), view.form.get("policy_arn")
        return _act(view, name, "permissions", "DetachRolePolicy", {"RoleName": name, "PolicyArn": arn},
                    f"Detached {arn}.")

    @console.page(BASE + "/roles/{name}/policies/inline", methods=["POST"])
    def put_inline(view: View) -> Response:
        name, policy = name_of(view), view.form.get("policy_name").strip()
        return _act(view, name, "permissions", "PutRolePolicy",
                    {"RoleName": name, "PolicyName": policy, "PolicyDocument": view.form.get("policy_document")},
                    f"Inline policy {policy} saved.")

    @console.page(BASE + "/roles/{name}/policies/inline/delete", methods=["POST"])
    def delete_inline(view: View) -> Response:
        name, policy = name_of(view), view.form.get("policy_name")
        return _act(view, name, "permissions", "DeleteRolePolicy", {"RoleName": name, "PolicyName": policy},
                    f"Inline policy {policy} deleted.")

    @console.page(BASE + "/roles/{name}/boundary", methods=["POST"])
    def set_boundary(view: View) -> Response:
        name = name_of(view)
        try:
            arn = policy_arn(view, view.form.get("policy"))
        except AwsError as error:
            return detail(view, name, error=error, status=error.http_status)
        return _act(view, name, "permissions", "PutRolePermissionsBoundary",
                    {"RoleName": name, "PermissionsBoundary": arn}, f"Permissions boundary set to {arn}.")

    @console.page(BASE + "/roles/{name}/boundary/delete", methods=["POST"])
    def delete_boundary(view: View) -> Response:
        name = name_of(view)
        return _act(view, name, "permissions", "DeleteRolePermissionsBoundary", {"RoleName": name},
                    "Permissions boundary removed.")

    @console.page(BASE + "/roles/{name}/tags/add", methods=["POST"])
    def add_tag(view: View) -> Response:
        name = name_of(view)
        return _act(view, name, "tags", "TagRole", {"RoleName": name, "Tags": tag_from_form(view)}, "Tag saved.")

    @console.page(BASE + "/roles/{name}/tags/remove", methods=["POST"])
    def remove_tag(view: View) -> Response:
        name = name_of(view)
        return _act(view, name, "tags", "UntagRole", {"RoleName": name, "TagKeys": [view.form.get("tag_key")]},
                    "Tag removed.")

    return [roles, new_role, create_role, role, edit_role, edit_trust, delete_role, attach, detach, put_inline,
            delete_inline, set_boundary, delete_boundary, add_tag, remove_tag]
