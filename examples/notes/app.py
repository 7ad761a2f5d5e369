"""A small notes API protected by Gatehouse: every route is authorized by `gatehouse.asgi.GatehouseAuth`.

Run it (Gatehouse listening at GATEHOUSE_ENDPOINT_URL, the application's credentials in the standard AWS chain):

    NOTES_ACCOUNT=123456789012 uvicorn --factory examples.notes.app:create_app --port 8080

Callers sign their requests with SigV4 for the service `notes` (any AWS SDK can: see README.md).
"""

from __future__ import annotations

import os
import threading
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from gatehouse.asgi import GatehouseAuth

REGION = "us-east-1"
NOTE = f"arn:aws:notes:{REGION}:{{account}}:note/{{id}}"
ROUTES = {
    "GET /notes/{id}": ("notes:GetNote", NOTE),
    "PUT /notes/{id}": ("notes:PutNote", NOTE),
    "DELETE /notes/{id}": ("notes:DeleteNote", NOTE),
}


class Notes:
    """The notes themselves, in memory (the example is about authorization, not storage)."""

    def __init__(self) -> None:
        self._notes: dict[str, dict[str, str]] = {}
        self._lock = threading.Lock()

    async def get(self, request: Request) -> Response:
        with self._lock:
            note = self._notes.get(request.path_params["id"])
        if note is None:
            return JSONResponse({"message": "no such note"}, status_code=404)
        return JSONResponse({**note, "reader": request.scope["state"]["gatehouse"]["principal"]})

    async def put(self, request: Request) -> Response:
        text = (await request.body()).decode("utf-8", "replace")
        author = request.scope["state"]["gatehouse"]["principal"]
        with self._lock:
            self._notes[request.path_params["id"]] = {"id": request.path_params["id"], "text": text,
                                                      "author": author}
        return JSONResponse({"id": request.path_params["id"]}, status_code=201)

    async def delete(self, request: Request) -> Response:
        with self._lock:
            self._notes.pop(request.path_params["id"], None)
        return Response(status_code=204)


async def health(request: Request) -> Response:
    return JSONResponse({"ok": True})


def notes_app(notes: Notes | None = None) -> Starlette:
    notes = notes or Notes()
    return Starlette(routes=[
        Route("/notes/{id}", notes.get, methods=["GET"]),
        Route("/notes/{id}", notes.put, methods=["PUT"]),
        Route("/notes/{id}", notes.delete, methods=["DELETE"]),
        Route("/health", health, methods=["GET"]),
    ])


def create_app(**options: Any) -> GatehouseAuth:
    """The notes API behind the middleware; `options` go to GatehouseAuth (credentials=, cache_ttl=, ...)."""
    options.setdefault("endpoint", os.environ.get("GATEHOUSE_ENDPOINT_URL", "http://127.0.0.1:4599"))
    options.setdefault("account", os.environ.get("NOTES_ACCOUNT"))
    return GatehouseAuth(notes_app(), routes=ROUTES, public=["GET /health"], region=REGION, **options)
