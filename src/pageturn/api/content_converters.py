"""PrizmDoc content conversion URLs (`/v2/contentConverters`): HTTP only; the work is core.conversions'."""
from __future__ import annotations

import logging

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


def add_routes(app: web.Application) -> None:
    app.router.add_post("/v2/contentConverters", create)
    app.router.add_get("/v2/contentConverters/{processId}", status)


def lifecycle(converters: ContentConverters):
    """cleanup_ctx entry: resume interrupted processes once the pools are up; stop running ones at shutdown."""
    async def context(_app: web.Application):
        await converters.start()
        yield
        await converters.stop()
    return context


def setup(app: web.Application, settings, *, store, workfiles, blobs, pages, documents) -> None:
    """Wires the conversion service and viewing OCR into the app (called by app.build_app after the pools'
    cleanup context is registered, so processes are resumed once the pools run)."""
    from ..core.conversions import Limits
    from ..engines import ocr

    if settings.ocr not in ("auto", "off"):
        raise ValueError(f"ocr must be auto or off, not {settings.ocr!r}")
    converters = ContentConverters(
        store, workfiles, scratch_root=blobs.tmp,
        limits=Limits(concurrency=max(1, settings.convert_workers), queue_limit=settings.convert_queue_limit,
                      timeout=settings.convert_timeout, max_pages=settings.convert_max_pages,
                      max_output=settings.max_upload_size, lifetime=settings.convert_lifetime,
                      render_timeout=settings.render_timeout, office_timeout=settings.office_timeout),
        pool_getter=lambda: pages.pool, office_getter=lambda: documents.office,
        exclusive=not str(settings.metadata).startswith(("redis://", "rediss://", "unix://")))
    app[CONVERTERS] = converters
    app.cleanup_ctx.append(lifecycle(converters))
    if settings.ocr == "auto":
        # languages that are not installed are left out (with a warning) rather than failing every page
        wanted = "+".join(settings.ocr_languages) or "eng"
        pages.ocr_language = ocr.resolve_language(wanted)
        if pages.ocr_language is None:
            usable = [code for code in settings.ocr_languages if ocr.resolve_language(code)]
            pages.ocr_language = "+".join(usable) or None
            logging.getLogger(__name__).warning("OCR languages %s are not all installed; using %s", wanted,
                                                pages.ocr_language or "none (viewing OCR is off)")
    add_routes(app)
