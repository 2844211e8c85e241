"""PrizmDoc markup-layer URLs (`/MarkupLayers/u{viewingSessionId}[/{layerRecordId}]`): HTTP to MarkupLayers."""
from __future__ import annotations

import logging

from aiohttp import web

from ..core.errors import DomainError, invalid
from ..core.markup_layers import MarkupLayers
from ..core.records import SessionRecord
from .common import json_response, read_json
from .html5 import PAGES
from .viewing_sessions import SESSIONS

log = logging.getLogger(__name__)

LAYERS = web.AppKey("markup_layers", MarkupLayers)
MAX_LAYER_BYTES = 32 << 20   # 10,000 marks with image stamps


async def _page_count(request: web.Request, session: SessionRecord) -> int | None:
    """The document's page count when it is ready now (a PDF, or an Office document already converted):
    then a mark's page number is checked against it. A conversion still running is not waited for."""
    pages = request.app[PAGES]
    try:
        if await pages.documents.page_source(session, wait=False) is None:
            return None
        _, info = await pages.info(session)
        return int(info["pageCount"])
    except DomainError:
        return None


async def _body(request: web.Request):
    try:
        return await read_json(request, allow_empty=False, max_bytes=MAX_LAYER_BYTES)
    except (ValueError, UnicodeDecodeError):
        raise invalid("", "a markup layer in JSON") from None


def _layers(request: web.Request) -> tuple[MarkupLayers, SessionRecord]:
    layers = request.app[LAYERS]
    return layers, layers.session(request.app[SESSIONS], request.match_info["sid"])


async def list_layers(request: web.Request) -> web.Response:
    layers, session = _layers(request)
    return json_response(layers.list(session))


async def create(request: web.Request) -> web.Response:
    if request.headers.get("X-HTTP-Method-Override", "").upper() == "PUT":
        raise invalid("X-HTTP-Method-Override", "PUT only on a layer's own URL", where="header")
    layers, session = _layers(request)
    body = await _body(request)
    record = layers.create(session, body, await _page_count(request, session))
    return json_response({"layerRecordId": record["layerRecordId"]}, status=201)


async def read(request: web.Request) -> web.Response:
    layers, session = _layers(request)
    return json_response(layers.get(session, request.match_info["layerRecordId"])["layer"])


async def replace(request: web.Request) -> web.Response:
    layers, session = _layers(request)
    body = await _body(request)
    record = layers.replace(session, request.match_info["layerRecordId"], body, await _page_count(request, session))
    return json_response({"layerRecordId": record["layerRecordId"]})


async def post_to_layer(request: web.Request) -> web.Response:
    """The viewer control updates a layer by POST with `X-HTTP-Method-Override: PUT`."""
    if request.headers.get("X-HTTP-Method-Override", "").upper() != "PUT":
        raise web.HTTPMethodNotAllowed("POST", ["GET", "PUT", "DELETE"])
    return await replace(request)


async def delete(request: web.Request) -> web.Response:
    layers, session = _layers(request)
    layers.delete(session, request.match_info["layerRecordId"])
    return web.Response(status=204)

