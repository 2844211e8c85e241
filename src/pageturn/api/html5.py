"""PrizmDoc HTML5 viewing URLs: page attributes, SVG/PNG/JPEG pages, tiles, thumbnails and text."""
from __future__ import annotations

import json
import re
from typing import Any

from aiohttp import web

from ..core.documents import PageSource
from ..core.errors import SessionNotFound, invalid
from ..core.pages import RASTER_TYPES, SVG_TYPES, Output, Pages
from ..core.records import SessionRecord
from .common import json_response, query_param
from .encryption import encrypted_response, is_encrypted, require_iv
from .viewing_sessions import SESSIONS

PAGES = web.AppKey("pages", Pages)
NOT_ENCRYPTED = {"Accusoft-Data-Encrypted": "false"}
_NUMBER = re.compile(r"^\d{1,7}$")


def _session(request: web.Request) -> SessionRecord:
    prefixed = query_param(request, "DocumentID")
    if prefixed is None:
        raise SessionNotFound("DocumentID is required")
    sessions = request.app[SESSIONS]
    return sessions.usable(sessions.parse_id(prefixed))


def _int(value: str, at: str, minimum: int = 0) -> int:
    if not _NUMBER.match(value or "") or int(value) < minimum:
        raise invalid(at, f"an integer of at least {minimum}", where="path", received=value)
    return int(value)


def _page(request: web.Request) -> int:
    return _int(request.match_info["page"], "PageNumber")


def _content_type(request: web.Request, default: str, allowed: tuple[str, ...]) -> str:
    value = (query_param(request, "ContentType") or default).lower()
    if value not in allowed:
        raise invalid("ContentType", "one of " + ", ".join(allowed), where="query", received=value)
    return value


def _scale(request: web.Request) -> float:
    raw = query_param(request, "Scale")
    if raw is None:
        return 1.0
    try:
        value = float(raw)
    except ValueError:
        value = float("nan")
    if not 0.01 <= value <= 20:  # also refuses nan and inf
        raise invalid("Scale", "a number from 0.01 to 20", where="query", received=raw)
    return round(value, 4)


def _quality(request: web.Request) -> int:
    raw = query_param(request, "Quality")
    if raw is None:
        return 85
    if not raw.isdigit() or not 1 <= int(raw) <= 100:
        raise invalid("Quality", "an integer from 1 to 100", where="query", received=raw)
    return int(raw)


async def _file(output: Output, request: web.Request, session: SessionRecord) -> web.StreamResponse:
    iv = require_iv(request, session)
    if iv is not None:  # pageContentEncryption: encrypted on the way out, the cache stays in clear
        return await encrypted_response(request, session, iv, data=output.data, path=output.path)
    # a long document's early page is replaced by the whole conversion's: never kept by the browser
    cache = "no-store" if output.provisional else "private, max-age=86400"
    headers = {"Content-Type": output.mime, **NOT_ENCRYPTED, "Cache-Control": cache}
    if output.data is None:  # large: streamed from disk (FileResponse also picks a .gz twin when accepted)
        return web.FileResponse(output.path, headers=headers)
    if output.gzipped is not None and "gzip" in request.headers.get("Accept-Encoding", ""):
        return web.Response(body=output.gzipped, headers={**headers, "Content-Encoding": "gzip",
                                                          "Vary": "Accept-Encoding"})
    return web.Response(body=output.data, headers=headers)


async def document_attributes(request: web.Request) -> web.Response:
    session = _session(request)
    pages = request.app[PAGES]
    raw = query_param(request, "DesiredPageCountConfidence")
    desired = 100
    if raw is not None:
        if not raw.isdigit() or int(raw) > 100:
            raise invalid("DesiredPageCountConfidence", "an integer from 0 to 100", where="query", received=raw)
        desired = int(raw)
    progress = pages.documents.progress(session) if session.get("source") else None
    if progress is not None and progress.error is not None:
        raise progress.error
    if progress is not None and not progress.done and progress.confidence >= desired:
        return json_response({"pageCount": progress.estimate, "pageCountConfidence": progress.confidence})
    source, info = await pages.info(session)  # waits for a conversion, bounded by its timeout
    return json_response(document_attributes_body(source, info))


def document_attributes_body(source: PageSource, info: dict[str, Any]) -> dict[str, Any]:
    """Document/q/Attributes once the page count is certain (the viewer page carries the same answer)."""
    body: dict[str, Any] = {"pageCount": info["pageCount"], "pageCountConfidence": 100}
    if info.get("title"):
        body["documentTitle"] = info["title"]  # the PDF's (or Office document's) own title, for the viewer
    if source.sheets:
        body["sheets"] = source.sheets
    return body


async def page_attributes(request: web.Request) -> web.Response:
    session = _session(request)
    content_type = _content_type(request, "svg", SVG_TYPES + RASTER_TYPES)
    # never encrypted itself; its header says whether the page's content will be
    return json_response(await request.app[PAGES].attributes(session, _page(request), content_type),
                         headers={"Accusoft-Data-Encrypted": "true" if is_encrypted(session) else "false"})


async def page(request: web.Request) -> web.StreamResponse:
    session = _session(request)
    require_iv(request, session)  # an encrypted session's content is never rendered for a request without iv
    pages = request.app[PAGES]
    number = _page(request)
    content_type = _content_type(request, "png", SVG_TYPES + RASTER_TYPES)
    if content_type in SVG_TYPES:
        output = await pages.svg(session, number)
        if output is None:
            return json_response(await pages.svg_unavailable(session, number))
        return await _file(output, request, session)
    return await _file(await pages.raster(session, number, fmt=content_type, scale=_scale(request),
                                          quality=_quality(request)), request, session)


async def tile(request: web.Request) -> web.StreamResponse:
    session = _session(request)
    require_iv(request, session)  # an encrypted session's content is never rendered for a request without iv
    info = request.match_info
    box = (_int(info["x"], "X"), _int(info["y"], "Y"), _int(info["w"], "Width", 1), _int(info["h"], "Height", 1))
    content_type = _content_type(request, "png", RASTER_TYPES)
    return await _file(await request.app[PAGES].raster(session, _page(request), fmt=content_type,
                                                       scale=_scale(request), quality=_quality(request), tile=box),
                       request, session)


async def thumbnail(request: web.Request) -> web.StreamResponse:
    session = _session(request)
    require_iv(request, session)  # an encrypted session's content is never rendered for a request without iv
    width_text, _, height_text = request.match_info["size"].partition("x")
    width, height = _int(width_text, "Width", 1), _int(height_text, "Height", 1)
    if width > 4000 or height > 4000:
        raise invalid("Width", "a thumbnail box of at most 4000x4000", where="path")
    content_type = _content_type(request, "png", RASTER_TYPES)
    return await _file(await request.app[PAGES].raster(session, _page(request), fmt=content_type,
                                                       quality=_quality(request), fit=(width, height)),
                       request, session)


async def text(request: web.Request) -> web.Response:
    session = _session(request)
    first = _int(request.match_info["first"], "PageNumberBegin")
    last = _int(request.match_info["last"], "PageNumberEnd")
    if last - first > 1000:
        raise invalid("PageNumberEnd", "a range of at most 1000 pages", where="path")
    iv = require_iv(request, session)
    pages = await request.app[PAGES].text(session, first, last)
    if iv is not None:
        return await encrypted_response(request, session, iv, data=json.dumps(
            {"pages": pages}, separators=(",", ":"), ensure_ascii=False).encode("utf-8"))
    response = json_response({"pages": pages}, headers=NOT_ENCRYPTED)
    if "gzip" in request.headers.get("Accept-Encoding", ""):
        response.enable_compression()
    return response


async def license_client_viewer(request: web.Request) -> web.Response:
    # documented: deprecated, no longer functions and answers 500
    return json_response({"errorCode": "InternalError", "errorDetails": {"message": "Deprecated"}}, 500)
