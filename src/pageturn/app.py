"""Builds the aiohttp application from its parts: storage, domain services, engines' pools and the APIs."""
from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import os
import socket
from pathlib import Path

from aiohttp import web

from . import __version__
from .api import comparison, html5, routes, security, service, viewing_sessions, work_files, zoho
from .api.errors import error_middleware
from .clock import Clock, system_clock
from .config import Settings
from .core.comparison import Comparer, ContinueTokens, load_secret
from .core.documents import Documents
from .core.url_fetch import AllowList, fetch_to_workfile
from .core.initial_pages import InitialPages
from .core.pages import Pages
from .core.sessions import ViewingSessions
from .core.workfiles import WorkFiles, iso
from .core.zoho import Tenants, ZohoPreviews, ZohoService
from .core.ids import new_file_id
from .engines.compare.runner import CompareRunner
from .engines.office import OfficePool
from .storage.blobs import CacheStore, HotFiles
from .storage.select import open_stores
from .workers.pool import WorkerPool
from .storage.metadata import MetadataStore, open_store

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
    # directory walks and deletions: off the event loop
    await asyncio.to_thread(workfiles.sweep)
    await asyncio.to_thread(workfiles.blobs.clean_tmp, 3600)
    clock = app[CLOCK]
    if clock() - app[LAST_PRUNE][0] > min(600, settings.cache_lifetime / 4):  # a directory walk: not every sweep
        await asyncio.to_thread(cache.prune, "shared", settings.cache_lifetime)
        app[LAST_PRUNE][0] = clock()


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




def build_app(settings: Settings, *, clock: Clock = system_clock, engines: bool = True) -> web.Application:
    """`clock` gives the time of day to every service (the tests move it); `engines` False starts no render
    worker and no LibreOffice (for tests of sessions and lifetimes only: pages then cannot be rendered)."""
    data_dir = settings.data_dir.resolve()
    data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    data_dir.chmod(0o700)  # documents and records are private to the server's user
    store = open_store(settings.metadata, data_dir)
    stores = open_stores(settings, data_dir, clock)  # the data directory, or S3 with it as this node's cache
    blobs, cache = stores.blobs, stores.cache
    hot = HotFiles()

    # engines' pools: built here, started and stopped with the app (_engines)
    render_pool = WorkerPool(settings.effective_render_workers, job_timeout=settings.render_timeout,
                             settings={"max_image_pixels": settings.max_image_pixels},
                             memory_limit_mb=settings.render_max_memory_mb)
    office = None
    if settings.office_enabled:
        office = OfficePool(settings.effective_office_workers, timeout=settings.office_timeout,
                            max_conversions=settings.office_max_conversions,
                            max_memory_mb=settings.office_max_memory_mb, queue_limit=settings.office_queue_limit,
                            work_dir=data_dir / "office")

    # the domain
    workfiles = WorkFiles(store, blobs, lifetime=settings.workfile_lifetime, max_size=settings.max_upload_size,
                          clock=clock)
    comparer = None
    if office is not None:  # the redlined document is rendered by LibreOffice
        runner = CompareRunner(blobs.tmp, workers=settings.compare_workers, queue_limit=settings.compare_queue_limit,
                               timeout=settings.compare_timeout, max_memory_mb=settings.compare_max_memory_mb)
        comparer = Comparer(blobs, office, render_pool, runner, conversion_timeout=settings.office_timeout)
    documents = Documents(blobs, cache, office=office, comparer=comparer, conversion_timeout=settings.office_timeout,
                          on_scope_removed=(hot.forget_under,))
    pages = Pages(documents, render_pool, cache, hot, render_timeout=settings.render_timeout)
    sessions = ViewingSessions(store, workfiles, lifetime=settings.session_lifetime,
                               listeners=(documents, InitialPages(pages)), clock=clock)

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
    app[viewing_sessions.URL_FETCHER] = functools.partial(
        fetch_to_workfile, workfiles=workfiles, allow=settings.fetch_allow, timeout=settings.fetch_timeout,
        max_size=settings.max_upload_size)
    app[work_files.WORKFILES] = workfiles
    app[html5.PAGES] = pages
    app[comparison.TOKENS] = ContinueTokens(load_secret(data_dir / "secret.key"))
    app[service.HEALTH_CHECKS] = [("metadata", store.ping), ("data_dir", lambda: _writable(data_dir)),
                                  ("render_workers", render_pool.healthy), ("storage", stores.healthy)]
    if office is not None:
        app[service.HEALTH_CHECKS].append(("office", office.healthy))
    app[service.INSTANCE] = {"version": __version__, "startTime": iso(clock()), "instanceId": new_file_id()[:16],
                             "hostname": socket.gethostname(), "pid": os.getpid()}
    if engines:
        app.cleanup_ctx.append(_engines(render_pool, office))
    app.cleanup_ctx.append(_background)
    background = stores.background
    if background is not None:  # S3: the bucket's health probe and the local cache's trimming
        app.cleanup_ctx.append(lambda _app: background())
    app.on_cleanup.append(lambda _app: _close(store))

    routes.add_routes(app)
    zoho.setup(app, zoho_service)
    return app


async def _close(store: MetadataStore) -> None:
    store.close()
