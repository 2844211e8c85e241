"""PrizmDoc content conversion URLs (`/v2/contentConverters`): HTTP only; the work is core.conversions'."""
from __future__ import annotations


from aiohttp import web

from ..core.conversions import ContentConverters
from ..core.errors import invalid
from .common import json_response, read_json

CONVERTERS = web.AppKey("content_converters", ContentConverters)


async def create(request: web.Request) -> web.Response:
    try:
        body = await read_json(request, allow_empty=False)
    except (ValueError, UnicodeDecodeError):
        raise invalid("", "a JSON body") from None
    answer = request.app[CONVERTERS].create(body, affinity=request.headers.get("Accusoft-Affinity-Token"))
    return json_response(answer)


async def status(request: web.Request) -> web.Response:
    return json_response(request.app[CONVERTERS].get(request.match_info["processId"]))
