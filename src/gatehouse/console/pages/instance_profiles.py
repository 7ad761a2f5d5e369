"""Instance profiles: list, create (optionally with its role), detail (its role, tags), add or remove the role,
delete (after removing its role, as AWS requires)."""

from __future__ import annotations

from typing import Any

from starlette.responses import Response
from starlette.routing import BaseRoute

from gatehouse.errors import AwsError

from ..web import BASE, Console, View
from .common import listing, name_of, quoted, tag_from_form, try_steps


def profile_url(name: str) -> str:
    return f"{BASE}/instance-profiles/{quoted(name)}"


def detail(view: View, name: str, *, error: AwsError | None = None, status: int = 200) -> Response:
    profile = view.iam("GetInstanceProfile", InstanceProfileName=name)["InstanceProfile"]
    tags = view.attempt("ListInstanceProfileTags", InstanceProfileName=name, MaxItems=1000)
    roles = view.attempt("ListRoles", MaxItems=1000)
    return view.render("identities/instance_profile.html", section="instance-profiles",
                       title=f"Instance profile {name}", profile=profile, tags=tags, all_roles=roles, error=error,
                       status=status)


def _act(view: View, name: str, action: str, params: dict[str, Any], done: str) -> Response:
    try:
        view.iam(action, **params)
    except AwsError as error:
        return detail(view, name, error=error, status=error.http_status)
    return view.redirect(profile_url(name), flash=done)


def _create_form(view: View, *, error: AwsError | None = None, status: int = 200) -> Response:
    roles = view.attempt("ListRoles", MaxItems=1000)
    return view.render("identities/instance_profile_new.html", section="instance-profiles",
                       title="Create instance profile", error=error, status=status, f=view.form, all_roles=roles)


def routes(console: Console) -> list[BaseRoute]:
    @console.page(BASE + "/instance-profiles")
    def profiles(view: View) -> Response:
        found = listing(view, "ListInstanceProfiles", "InstanceProfiles", "InstanceProfileName")
        return view.render("identities/instance_profiles.html", section="instance-profiles",
                           title="Instance profiles", listing=found)

    @console.page(BASE + "/create/instance-profile")
    def new_profile(view: View) -> Response:
        return _create_form(view)

    @console.page(BASE + "/create/instance-profile", methods=["POST"])
    def create_profile(view: View) -> Response:
        name, role = view.form.get("instance_profile_name").strip(), view.form.optional("role_name")
        try:
            view.iam("CreateInstanceProfile", InstanceProfileName=name, Path=view.form.optional("path"),
                     Tags=tag_from_form(view) or None)
        except AwsError as error:
            return _create_form(view, error=error, status=error.http_status)
        if role:
            failed = try_steps(view, [("AddRoleToInstanceProfile", {"InstanceProfileName": name, "RoleName": role})])
            if failed is not None:
                return view.redirect(profile_url(name), flash=f"Instance profile {name} created, but the role was "
                                                              f"not added: {failed.code}: {failed.message}")
        return view.redirect(profile_url(name), flash=f"Instance profile {name} created.")

    @console.page(BASE + "/instance-profiles/{name}")
    def profile(view: View) -> Response:
        return detail(view, name_of(view))

    @console.page(BASE + "/instance-profiles/{name}/roles/add", methods=["POST"])
    def add_role(view: View) -> Response:
        name, role = name_of(view), view.form.get("role_name")
        return _act(view, name, "AddRoleToInstanceProfile", {"InstanceProfileName": name, "RoleName": role},
                    f"Role {role} added.")

    @console.page(BASE + "/instance-profiles/{name}/roles/remove", methods=["POST"])
    def remove_role(view: View) -> Response:
        name, role = name_of(view), view.form.get("role_name")
        return _act(view, name, "RemoveRoleFromInstanceProfile", {"InstanceProfileName": name, "RoleName": role},
                    f"Role {role} removed.")

    @console.page(BASE + "/instance-profiles/{name}/tags/add", methods=["POST"])
    def add_tag(view: View) -> Response:
        name = name_of(view)
        return _act(view, name, "TagInstanceProfile", {"InstanceProfileName": name, "Tags": tag_from_form(view)},
                    "Tag saved.")

    @console.page(BASE + "/instance-profiles/{name}/tags/remove", methods=["POST"])
    def remove_tag(view: View) -> Response:
        name = name_of(view)
        return _act(view, name, "UntagInstanceProfile",
                    {"InstanceProfileName": name, "TagKeys": [view.form.get("tag_key")]}, "Tag removed.")

    @console.page(BASE + "/instance-profiles/{name}/delete", methods=["POST"])
    def delete_profile(view: View) -> Response:
        name = name_of(view)
        try:
            roles = view.iam("GetInstanceProfile", InstanceProfileName=name)["InstanceProfile"].get("Roles", [])
        except AwsError as error:
            return detail(view, name, error=error, status=error.http_status)
        steps: list[tuple[str, dict[str, Any]]] = [
            ("RemoveRoleFromInstanceProfile", {"InstanceProfileName": name, "RoleName": r["RoleName"]})
            for r in roles]
        steps.append(("DeleteInstanceProfile", {"InstanceProfileName": name}))
        failed = try_steps(view, steps)
        if failed is not None:
            return detail(view, name, error=failed, status=failed.http_status)
        return view.redirect(BASE + "/instance-profiles", flash=f"Instance profile {name} deleted.")

    return [profiles, new_profile, create_profile, profile, add_role, remove_role, add_tag, remove_tag,
            delete_profile]
