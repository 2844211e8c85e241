"""Builds the aiohttp application from its parts: storage, domain services, engines' pools and the APIs."""
from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
from pathlib import Path
from typing import Any

from aiohttp import web

from . import __version__, malloc
from .api import (attachments, comparison, content_converters, encryption, html5, markup, markup_layers, observe,
                  ops_routes, probes, routes, search, security, service, viewing_sessions, work_files, zoho)
from .api.errors import error_middleware
from .clock import Clock, system_clock
from .config import Settings
from .core.attachments import Attachments
from .core.content_crypto import ContentKeys
from .core.comparison import Comparer, ContinueTokens, load_secret
from .core.conversions import ContentConverters
from .core.conversions import Limits as ConversionLimits
from .core.documents import Documents
from .core.url_fetch import AllowList, fetch_to_workfile
from .core.initial_pages import InitialPages
from .core.office_preview import OfficePreviews
from .core.markup_layers import MarkupLayers
from .core.markup_service import MarkupService
from .core.processes import Processes
from .core.pages import Pages
from .core.records import WorkFileRecord
from .core.search_contexts import SearchContexts
from .core.search_tasks import SearchTasks
from .core.search_text import DocumentText
from .core.sessions import KIND as SESSION_KIND, TOMBSTONE_SECONDS, ViewingSessions
from .core.workfiles import WorkFiles, iso
from .core.zoho import Tenants, ZohoPreviews, ZohoService
from .core.ids import new_file_id
from .engines.compare.runner import CompareRunner
from .engines import ocr
from .engines.office import OfficePool
from .storage.blobs import CacheStore, HotFiles
from .storage.select import open_stores
from .workers.pool import WorkerPool
from .storage.metadata import MetadataStore, open_store
from .metrics import METRICS, Metrics, TimedPool, watch_pools

log = logging.getLogger(__name__)

SETTINGS = web.AppKey("settings", Settings)
CACHE = web.AppKey("cache", CacheStore)
CLOCK: web.AppKey[Clock] = web.AppKey("clock")
LAST_PRUNE = web.AppKey("last_prune", list)  # [time of the last cache prune]


def _writable(path: Path) -> bool:
    return os.access(path, os.W_OK)


async def sweep_once(app: web.Application) -> None:
    """One pass of the housekeeping the sweeper runs every `sweep_interval` (the tests call it directly)."""
    settings = app[SETTINGS]
    cache = app[CACHE]
    workfiles = app[work_files.WORKFILES]
    await app[viewing_sessions.SESSIONS].sweep()
    app[search.TASKS].sweep()
    app[search.CONTEXTS].sweep()
    app[markup_layers.LAYERS].sweep()
    app[markup.MARKUP].processes.sweep()
    # directory walks and deletions: off the event loop
    await asyncio.to_thread(workfiles.sweep)
    await asyncio.to_thread(workfiles.blobs.clean_tmp, 3600)
    clock = app[CLOCK]
    if clock() - app[LAST_PRUNE][0] > min(600, settings.cache_lifetime / 4):  # a directory walk: not every sweep
        await asyncio.to_thread(cache.prune, "shared", settings.cache_lifetime)
        app[LAST_PRUNE][0] = clock()
    malloc.trim()  # what requests freed goes back to the system (pageturn/malloc.py)


async def _sweeper(app: web.Application) -> None:
    while True:
        await asyncio.sleep(app[SETTINGS].sweep_interval)
        try:
            await sweep_once(app)
        except Exception:  # a failed sweep is retried next time; it must never end the loop
            log.exception("sweep failed")


async def _background(app: web.Application):
    task = asyncio.create_task(_sweeper(app))
    yield
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


def _engines(render_pool: WorkerPool, office: OfficePool | None):
    """Starts the render worker pool and the LibreOffice pool with the app, stops them after it."""
    async def context(app: web.Application):
        await render_pool.start()
        # warming LibreOffice takes seconds: PDFs and images are served meanwhile
        office_start = asyncio.create_task(office.start()) if office is not None else None
        yield
        if office is not None and office_start is not None:
            office_start.cancel()
            with contextlib.suppress(BaseException):
                await office_start
            await office.stop()
        await render_pool.stop()
    return context




def _viewing_ocr_language(settings: Settings) -> str | None:
    """Tesseract's languages for pages without a text layer, or None (ocr off, or no language installed).
    Languages that are not installed are left out, with a warning, rather than failing every page."""
    if settings.ocr not in ("auto", "off"):
        raise ValueError(f"ocr must be auto or off, not {settings.ocr!r}")
    if settings.ocr == "off":
        return None
    wanted = "+".join(settings.ocr_languages) or "eng"
    resolved = ocr.resolve_language(wanted)
    if resolved is None:
        resolved = "+".join(code for code in settings.ocr_languages if ocr.resolve_language(code)) or None
        log.warning("OCR languages %s are not all installed; using %s", wanted, resolved or "none (OCR is off)")
    return resolved


def _started_and_stopped(converters: ContentConverters):
    async def context(_app: web.Application):
        await converters.start()
        yield
        await converters.stop()
    return context


def build_app(settings: Settings, *, clock: Clock = system_clock, engines: bool = True) -> web.Application:
    """`clock` gives the time of day to every service (the tests move it); `engines` False starts no render
    worker and no LibreOffice (for tests of sessions and lifetimes only: pages then cannot be rendered)."""
    data_dir = settings.data_dir.resolve()
    data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    data_dir.chmod(0o700)  # documents and records are private to the server's user
    store = open_store(settings.metadata, data_dir)
    stores = open_stores(settings, data_dir, clock)  # the data directory, or S3 with it as this node's cache
    blobs, cache = stores.blobs, stores.cache
    hot = HotFiles(budget=settings.memory_cache_size)

    # engines' pools: built here, started and stopped with the app (_engines)
    render_pool = WorkerPool(settings.effective_render_workers, job_timeout=settings.render_timeout,
                             settings={"max_image_pixels": settings.max_image_pixels,
                                       "log_format": settings.log_format},
                             memory_limit_mb=settings.render_max_memory_mb)
    office = None
    if settings.office_enabled:
        office = OfficePool(settings.effective_office_workers, timeout=settings.office_timeout,
                            max_conversions=settings.office_max_conversions,
                            max_memory_mb=settings.office_max_memory_mb, queue_limit=settings.office_queue_limit,
                            work_dir=data_dir / "office", nice=settings.office_nice)

    # the domain
    workfiles = WorkFiles(store, blobs, lifetime=settings.workfile_lifetime, max_size=settings.max_upload_size,
                          clock=clock)
    comparer = None
    if office is not None:  # the redlined document is rendered by LibreOffice
        runner = CompareRunner(blobs.tmp, workers=settings.compare_workers, queue_limit=settings.compare_queue_limit,
                               timeout=settings.compare_timeout, max_memory_mb=settings.compare_max_memory_mb)
        comparer = Comparer(blobs, office, render_pool, runner, conversion_timeout=settings.office_timeout)
    metrics = Metrics()
    mail_attachments = Attachments(workfiles, store)   # first listener: picks the attachment a session views
    previews = None  # a long Word document's first pages ahead of its whole conversion
    if office is not None and settings.office_preview:
        previews = OfficePreviews(render_pool, office, job_timeout=settings.render_timeout,
                                  conversion_timeout=settings.office_timeout)
    documents = Documents(blobs, cache, office=office, comparer=comparer, conversion_timeout=settings.office_timeout,
                          on_scope_removed=(hot.forget_under,), locks=store, on_converted=metrics.converted,
                          select_part=mail_attachments.select, previews=previews)
    pages = Pages(documents, TimedPool(render_pool, metrics), cache, hot, render_timeout=settings.render_timeout,
                  on_cache_lookup=metrics.cache_lookup, ocr_language=_viewing_ocr_language(settings))
    converters = ContentConverters(
        store, workfiles, scratch_root=blobs.tmp,
        limits=ConversionLimits(concurrency=max(1, settings.convert_workers), queue_limit=settings.convert_queue_limit,
                                timeout=settings.convert_timeout, max_pages=settings.convert_max_pages,
                                max_output=settings.max_upload_size, lifetime=settings.convert_lifetime,
                                render_timeout=settings.render_timeout, office_timeout=settings.office_timeout),
        pool=render_pool, office=office,
        exclusive=not str(settings.metadata).startswith(("redis://", "rediss://", "unix://")))
    # markup layers hear from the sessions when a private session's data goes
    layers = MarkupLayers(store, lifetime=settings.workfile_lifetime, clock=clock)
    sessions = ViewingSessions(store, workfiles, lifetime=settings.session_lifetime,
                               listeners=(mail_attachments, documents, InitialPages(pages), layers), clock=clock)
    # burning and redaction parse documents in the render workers, with a longer timeout than one page's
    markup_service = MarkupService(workfiles, documents, render_pool, office, Processes(store, clock=clock),
                                   job_timeout=settings.render_timeout * 5,
                                   conversion_timeout=settings.office_timeout)

    zoho_service = ZohoService(
        previews=ZohoPreviews(sessions, lifetime=settings.zoho_session_lifetime),
        tenants=Tenants(settings.zoho_api_keys), workfiles=workfiles, allow=AllowList.parse(settings.fetch_allow),
        fetch_timeout=settings.fetch_timeout, max_size=min(settings.max_upload_size, workfiles.max_size),
        public_url=settings.public_url, sweep_interval=settings.sweep_interval,
        allowed_hosts=settings.allowed_hosts)

    app = web.Application(middlewares=[error_middleware], client_max_size=settings.max_upload_size)
    security.install(app, settings.frame_ancestors)
    app[SETTINGS] = settings
    app[viewing_sessions.TENANTS] = zoho_service.tenants
    app[CACHE] = cache
    app[CLOCK] = clock
    app[LAST_PRUNE] = [0.0]
    app[viewing_sessions.SESSIONS] = sessions

    async def fetch(url: str, **where: Any) -> WorkFileRecord:  # documentSource "http": limits from settings
        return await fetch_to_workfile(url, workfiles, allow=settings.fetch_allow, timeout=settings.fetch_timeout,
                                       max_size=settings.max_upload_size, **where)

    app[viewing_sessions.URL_FETCHER] = fetch
    app[work_files.WORKFILES] = workfiles
    app[html5.PAGES] = pages
    app[markup_layers.LAYERS] = layers
    app[markup.MARKUP] = markup_service
    app[attachments.ATTACHMENTS] = mail_attachments
    secret = load_secret(data_dir / "secret.key")
    app[comparison.TOKENS] = ContinueTokens(secret)
    app[encryption.CONTENT_KEYS] = ContentKeys(secret)   # per-session keys of pageContentEncryption
    search_text = DocumentText(pages)  # search: tasks and contexts share the per-content text cache
    search_tasks = SearchTasks(store, search_text, app[comparison.TOKENS], sessions)
    app[search.TASKS] = search_tasks
    app[search.CONTEXTS] = SearchContexts(store, search_text, workfiles, lifetime=settings.workfile_lifetime)
    app[service.HEALTH_CHECKS] = [("metadata", store.ping), ("data_dir", lambda: _writable(data_dir)),
                                  ("render_workers", render_pool.healthy), ("storage", stores.healthy)]
    if office is not None:
        app[service.HEALTH_CHECKS].append(("office", office.healthy))
    app[service.INSTANCE] = {"version": __version__, "startTime": iso(clock()), "instanceId": new_file_id()[:16],
                             "hostname": socket.gethostname(), "pid": os.getpid()}
    # operations: probes, metrics, request ids and access logs (api/probes.py, api/observe.py, metrics.py)
    app[METRICS] = metrics
    observe.install(app, access_log_enabled=settings.access_log)
    readiness = [("storage", probes.storage_writable(data_dir)), ("metadata", store.ping),
                 ("render_pool", render_pool.healthy), ("blob_store", stores.healthy)]
    if office is not None:
        readiness.append(("office_pool", office.healthy))
    probes.install(app, readiness, metrics_token=settings.metrics_token, metrics_public=not settings.metrics_port)
    if settings.metrics_port:
        probes.serve_metrics_on(app, settings.metrics_host, settings.metrics_port)
    watch_pools(metrics, render_pool, office)
    metrics.add_gauge("pageturn_live_sessions", "viewing sessions not yet expired (all nodes sharing the store)",
                      lambda: store.count(SESSION_KIND, clock() + TOMBSTONE_SECONDS))
    metrics.watch_disk({"cache": data_dir / "cache", "blobs": data_dir / "blobs"})
    if engines:
        app.cleanup_ctx.append(_engines(render_pool, office))
    app.cleanup_ctx.append(_background)
    app.on_cleanup.append(lambda _app: search_tasks.close())  # running searches stop with the server
    # after the pools' context: interrupted conversion processes resume once the pools run
    app[content_converters.CONVERTERS] = converters
    app.cleanup_ctx.append(_started_and_stopped(converters))
    background = stores.background
    if background is not None:  # S3: the bucket's health probe and the local cache's trimming
        app.cleanup_ctx.append(lambda _app: background())
    app.on_cleanup.append(lambda _app: _close(store))

    routes.add_routes(app)
    ops_routes.add_routes(app)
    zoho.setup(app, zoho_service)
    return app


async def _close(store: MetadataStore) -> None:
    store.close()
