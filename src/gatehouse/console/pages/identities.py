"""Identities: users, groups, roles and instance profiles (filled in below)."""

from __future__ import annotations

from starlette.responses import Response
from starlette.routing import BaseRoute

from ..web import BASE, Console, View


def routes(console: Console) -> list[BaseRoute]:
    @console.page(BASE + "/users")
    def users(view: View) -> Response:
        found = view.all_pages("ListUsers", "Users")
        return view.render("identities/users.html", section="users", title="Users", users=found)

    return [users]
