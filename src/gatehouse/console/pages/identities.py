"""Identities: users, groups, roles and instance profiles, one module each; this gathers their routes."""

from __future__ import annotations

from starlette.routing import BaseRoute

from ..web import Console
from . import groups, instance_profiles, roles, users


def routes(console: Console) -> list[BaseRoute]:
    return (users.routes(console) + groups.routes(console) + roles.routes(console)
            + instance_profiles.routes(console))
