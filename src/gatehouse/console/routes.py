"""The console's routes: every page module's, the static assets, and answers for unknown pages, behind the
security headers. `console_routes` is what `app.py` adds to the application's routes.

A page module has `routes(console: Console) -> list[BaseRoute]` (usually `@console.page(...)` functions) and is
listed in `PAGES`.
"""

from __future__ import annotations

from pathlib import Path

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from .deps import ConsoleDeps
from .pages import account, dashboard, identities, me, policies, signin, simulator, trail
from .web import BASE, STATIC, Console, SecurityHeaders

PAGES = (signin, dashboard, identities, me, policies, simulator, account, trail)


def console_app(deps: ConsoleDeps) -> SecurityHeaders:
    console = Console(deps)
    routes: list[BaseRoute] = []
    for module in PAGES:
        routes += module.routes(console)
    routes.append(Mount(STATIC, app=StaticFiles(directory=str(Path(__file__).parent / "static")), name="static"))

    async def unknown(request: Request, exc: Exception) -> Response:
        if isinstance(exc, HTTPException) and exc.status_code == 405:
            return await run_in_threadpool(console._bare, request, "This page does not take that method.", 405)
        return await run_in_threadpool(console.not_found, request)

    app = Starlette(routes=routes, exception_handlers={404: unknown, 405: unknown})
    return SecurityHeaders(app)


def console_routes(deps: ConsoleDeps) -> list[BaseRoute]:
    """`/console` and everything under it, served by the console's own application (full paths: its routes are
    written as the browser sees them)."""
    app = console_app(deps)
    return [Route(BASE, app), Route(BASE + "/{rest:path}", app)]
