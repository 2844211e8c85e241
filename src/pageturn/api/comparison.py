"""PrizmDoc revisionData URL for comparison sessions."""
from __future__ import annotations

from aiohttp import hdrs, web
from aiohttp.web_response import ContentCoding

from ..core.comparison import ContinueTokens, parse_limit, revision_page
from .common import json_response, query_param
from .html5 import PAGES
from .viewing_sessions import SESSIONS

TOKENS = web.AppKey("continue_tokens", ContinueTokens)


def accepts_gzip(request: web.Request) -> bool:
    """Accept-Encoding names gzip (or *) without refusing it with q=0."""
    for item in request.headers.get(hdrs.ACCEPT_ENCODING, "").split(","):
        coding, _, params = item.strip().partition(";")
        if coding.strip().lower() in ("gzip", "x-gzip", "*"):
            quality = params.strip().lower().replace(" ", "")
            return not (quality.startswith("q=") and quality[2:].strip("0.") == "")
    return False


async def revision_data(request: web.Request) -> web.Response:
    session = request.app[SESSIONS].usable(request.match_info["id"])
    limit = parse_limit(query_param(request, "limit"))
    body = await revision_page(request.app[PAGES].documents, request.app[TOKENS], session, limit=limit,
                               token=query_param(request, "continueToken"))
    response = json_response(body, headers={"Cache-Control": "no-store"})
    if accepts_gzip(request):
        response.enable_compression(ContentCoding.gzip)
    return response
