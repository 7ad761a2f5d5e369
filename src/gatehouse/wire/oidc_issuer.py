"""The public documents of Gatehouse's outbound token issuers (OpenID Connect Discovery 1.0, section 4; RFC 7517),
served without authentication: relying parties fetch them to verify tokens from GetWebIdentityToken.

    GET <issuer path>/.well-known/openid-configuration
    GET <issuer path>/.well-known/jwks.json

The issuer path is `/accounts/<account id>` after the public URL's own path, and the documents are served there
only: not under any other prefix, where a relying party could be shown one account's keys at a path it takes for
another issuer. Without a configured issuer base nothing is routed.
"""

from __future__ import annotations

from typing import Any, Protocol

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route


class IssuerDocuments(Protocol):
    @property
    def path_prefix(self) -> str | None: ...
    def discovery(self, account_id: str) -> dict[str, Any] | None: ...
    def jwks(self, account_id: str) -> dict[str, Any] | None: ...


_CACHE = {"Cache-Control": "public, max-age=300"}


def issuer_routes(documents: IssuerDocuments) -> list[Route]:
    # Plain (sync) endpoints: Starlette runs them in a worker thread, off the event loop, as they read storage.
    def discovery(request: Request) -> Response:
        return _answer(documents.discovery(request.path_params["account"]))

    def keys(request: Request) -> Response:
        return _answer(documents.jwks(request.path_params["account"]))

    prefix = documents.path_prefix
    if prefix is None:
        return []
    return [Route(f"{prefix}/accounts/{{account}}/.well-known/openid-configuration", discovery, methods=["GET"]),
            Route(f"{prefix}/accounts/{{account}}/.well-known/jwks.json", keys, methods=["GET"])]


def _answer(document: dict[str, Any] | None) -> Response:
    if document is None:
        return JSONResponse({"error": "not_found"}, status_code=404)
    return JSONResponse(document, headers=_CACHE)
