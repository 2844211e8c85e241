"""PrizmDoc revisionData URL for comparison sessions."""
from __future__ import annotations

from aiohttp import web

from ..core.comparison import ContinueTokens, revision_page
from ..core.errors import invalid
from .common import json_response, query_param
from .errors import v2_route
from .html5 import PAGES
from .viewing_sessions import SESSIONS

TOKENS = web.AppKey("continue_tokens", ContinueTokens)


@v2_route
async def revision_data(request: web.Request) -> web.Response:
    session = request.app[SESSIONS].usable(request.match_info["id"])
    raw = query_param(request, "limit")
    limit = 100
    if raw is not None:
        if not raw.isdigit() or not 0 < int(raw) <= 10_000:
            raise invalid("limit", "an integer greater than 0", where="query", received=raw)
        limit = int(raw)
    body = await revision_page(request.app[PAGES].documents, request.app[TOKENS], session, limit=limit,
                               token=query_param(request, "continueToken"))
    response = json_response(body)
    if "gzip" in request.headers.get("Accept-Encoding", ""):
        response.enable_compression()
    return response


def add_routes(app: web.Application) -> None:
    app.router.add_get("/v2/viewingSessions/{id}/revisionData", revision_data)
