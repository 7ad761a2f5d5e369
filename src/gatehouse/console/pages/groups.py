"""IAM user groups: list, create (with managed policies), detail tabs (users, permissions, access advisor), add
and remove users, attach and detach policies, inline policies, rename and delete."""

from __future__ import annotations

from typing import Any

from starlette.responses import Response
from starlette.routing import BaseRoute

from gatehouse.errors import AwsError

from ..web import BASE, Console, View
from .common import listing, name_of, policy_arn, policy_names, quoted, try_steps

TABS = [("users", "Users"), ("permissions", "Permissions"), ("advisor", "Access Advisor")]


def group_url(name: str, tab: str | None = None) -> str:
    return f"{BASE}/groups/{quoted(name)}" + (f"?tab={tab}" if tab else "")


def detail(view: View, name: str, *, error: AwsError | None = None, status: int = 200, tab: str | None = None
           ) -> Response:
    got = view.iam("GetGroup", GroupName=name, MaxItems=1000)
    tab = tab or view.query.get("tab", "users")
    tab = tab if tab in dict(TABS) else "users"
    data: dict[str, Any] = {}
    if tab == "users":
        data["all_users"] = view.attempt("ListUsers", MaxItems=1000)
    elif tab == "permissions":
        data["attached"] = view.attempt("ListAttachedGroupPolicies", GroupName=name, MaxItems=1000)
        data["inline"] = view.attempt("ListGroupPolicies", GroupName=name, MaxItems=1000)
        data["documents"] = {p: view.attempt("GetGroupPolicy", GroupName=name, PolicyName=p)
                             for p in (data["inline"].result or {}).get("PolicyNames", [])}
    elif tab == "advisor":
        job = view.attempt("GenerateServiceLastAccessedDetails", Arn=got["Group"]["Arn"])
        data["advisor"] = (view.attempt("GetServiceLastAccessedDetails", JobId=job.result["JobId"])
                           if job.result else job)
    return view.render("identities/group.html", section="groups", title=f"Group {name}", group=got["Group"],
                       members=got.get("Users", []), tab=tab, tabs=TABS, error=error, status=status, **data)


def _act(view: View, name: str, tab: str, action: str, params: dict[str, Any], done: str) -> Response:
    try:
        view.iam(action, **params)
    except AwsError as error:
        return detail(view, name, error=error, status=error.http_status, tab=tab)
    return view.redirect(group_url(name, tab), flash=done)


def _create_form(view: View, *, error: AwsError | None = None, status: int = 200) -> Response:
    return view.render("identities/group_new.html", section="groups", title="Create group", error=error,
                       status=status, f=view.form)


def routes(console: Console) -> list[BaseRoute]:
    @console.page(BASE + "/groups")
    def groups(view: View) -> Response:
        found = listing(view, "ListGroups", "Groups", "GroupName")
        return view.render("identities/groups.html", section="groups", title="User groups", listing=found)

    @console.page(BASE + "/create/group")
    def new_group(view: View) -> Response:
        return _create_form(view)

    @console.page(BASE + "/create/group", methods=["POST"])
    def create_group(view: View) -> Response:
        name = view.form.get("group_name").strip()
        try:
            arns = [policy_arn(view, p) for p in policy_names(view.form.get("policies"))]
            view.iam("CreateGroup", GroupName=name, Path=view.form.optional("path"))
        except AwsError as error:
            return _create_form(view, error=error, status=error.http_status)
        failed = try_steps(view, [("AttachGroupPolicy", {"GroupName": name, "PolicyArn": a}) for a in arns])
        if failed is not None:
            return view.redirect(group_url(name, "permissions"),
                                 flash=f"Group {name} created, but a policy was not attached: {failed.code}: "
                                       f"{failed.message}")
        return view.redirect(group_url(name), flash=f"Group {name} created.")

    @console.page(BASE + "/groups/{name}")
    def group(view: View) -> Response:
        return detail(view, name_of(view))

    @console.page(BASE + "/groups/{name}/edit", methods=["POST"])
    def edit_group(view: View) -> Response:
        name = name_of(view)
        new_name = view.form.optional("new_group_name")
        try:
            view.iam("UpdateGroup", GroupName=name, NewGroupName=new_name if new_name != name else None,
                     NewPath=view.form.optional("new_path"))
        except AwsError as error:
            return detail(view, name, error=error, status=error.http_status)
        return view.redirect(group_url(new_name or name), flash="Group updated.")

    @console.page(BASE + "/groups/{name}/delete", methods=["POST"])
    def delete_group(view: View) -> Response:
        """What AWS's console does: remove the members, detach and delete the policies, then the group."""
        name = name_of(view)
        try:
            members = view.iam("GetGroup", GroupName=name, MaxItems=1000).get("Users", [])
            steps: list[tuple[str, dict[str, Any]]] = [
                ("RemoveUserFromGroup", {"GroupName": name, "UserName": u["UserName"]}) for u in members]
            steps += [("DetachGroupPolicy", {"GroupName": name, "PolicyArn": p["PolicyArn"]})
                      for p in view.all_pages("ListAttachedGroupPolicies", "AttachedPolicies", GroupName=name)]
            steps += [("DeleteGroupPolicy", {"GroupName": name, "PolicyName": p})
                      for p in view.all_pages("ListGroupPolicies", "PolicyNames", GroupName=name)]
            steps.append(("DeleteGroup", {"GroupName": name}))
        except AwsError as error:
            return detail(view, name, error=error, status=error.http_status)
        failed = try_steps(view, steps)
        if failed is not None:
            return detail(view, name, error=failed, status=failed.http_status)
        return view.redirect(BASE + "/groups", flash=f"Group {name} deleted.")

    @console.page(BASE + "/groups/{name}/users/add", methods=["POST"])
    def add_user(view: View) -> Response:
        name, user = name_of(view), view.form.get("user_name")
        return _act(view, name, "users", "AddUserToGroup", {"GroupName": name, "UserName": user},
                    f"Added {user} to the group.")

    @console.page(BASE + "/groups/{name}/users/remove", methods=["POST"])
    def remove_user(view: View) -> Response:
        name, user = name_of(view), view.form.get("user_name")
        return _act(view, name, "users", "RemoveUserFromGroup", {"GroupName": name, "UserName": user},
                    f"Removed {user} from the group.")

    @console.page(BASE + "/groups/{name}/policies/attach", methods=["POST"])
    def attach(view: View) -> Response:
        name = name_of(view)
        try:
            arn = policy_arn(view, view.form.get("policy"))
        except AwsError as error:
            return detail(view, name, error=error, status=error.http_status, tab="permissions")
        return _act(view, name, "permissions", "AttachGroupPolicy", {"GroupName": name, "PolicyArn": arn},
                    f"Attached {arn}.")

    @console.page(BASE + "/groups/{name}/policies/detach", methods=["POST"])
    def detach(view: View) -> Response:
        name, arn = name_of(view), view.form.get("policy_arn")
        return _act(view, name, "permissions", "DetachGroupPolicy", {"GroupName": name, "PolicyArn": arn},
                    f"Detached {arn}.")

    @console.page(BASE + "/groups/{name}/policies/inline", methods=["POST"])
    def put_inline(view: View) -> Response:
        name, policy = name_of(view), view.form.get("policy_name").strip()
        return _act(view, name, "permissions", "PutGroupPolicy",
                    {"GroupName": name, "PolicyName": policy, "PolicyDocument": view.form.get("policy_document")},
                    f"Inline policy {policy} saved.")

    @console.page(BASE + "/groups/{name}/policies/inline/delete", methods=["POST"])
    def delete_inline(view: View) -> Response:
        name, policy = name_of(view), view.form.get("policy_name")
        return _act(view, name, "permissions", "DeleteGroupPolicy", {"GroupName": name, "PolicyName": policy},
                    f"Inline policy {policy} deleted.")

    return [groups, new_group, create_group, group, edit_group, delete_group, add_user, remove_user, attach, detach,
            put_inline, delete_inline]
