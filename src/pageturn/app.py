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
from .api import comparison, content_converters, html5, service, viewer, viewing_sessions, work_files, zoho
from .api.errors import error_middleware
from .config import Settings
from .core.comparison import Comparer, ContinueTokens, load_secret
from .core.documents import Documents
from .core.url_fetch import fetch_to_workfile
from .core.pages import Pages
from .core.sessions import ViewingSessions
from .core.workfiles import WorkFiles, iso
from .core.ids import new_file_id
from .storage.blobs import BlobStore, CacheStore
from .storage.metadata import MetadataStore, now, open_store

log = logging.getLogger(__name__)

SETTINGS = web.AppKey("settings", Settings)
CACHE = web.AppKey("cache", CacheStore)


def _writable(path: Path) -> bool:
    return os.access(path, os.W_OK)


async def _sweeper(app: web.Application) -> None:
    settings = app[SETTINGS]
    sessions = app[viewing_sessions.SESSIONS]
    workfiles = app[work_files.WORKFILES]
    cache = app[CACHE]
    last_prune = 0.0
    while True:
        await asyncio.sleep(settings.sweep_interval)
        try:
            await sessions.sweep()
            workfiles.sweep()
            workfiles.blobs.clean_tmp(older_than=3600)
            if now() - last_prune > min(600, settings.cache_lifetime / 4):  # a directory walk: not every sweep
                await asyncio.to_thread(cache.prune, "shared", settings.cache_lifetime)
                last_prune = now()
        except Exception:  # a failed sweep is retried next time; it must never end the loop
            log.exception("sweep failed")


async def _background(app: web.Application):
    task = asyncio.create_task(_sweeper(app))
    yield
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


def _engines(settings: Settings, data_dir: Path, documents: Documents, pages: Pages):
    """Starts the render worker pool and the LibreOffice pool with the app, stops them after it."""
    async def context(app: web.Application):
        from .workers.pool import WorkerPool
        pages.pool = WorkerPool(settings.effective_render_workers, job_timeout=settings.render_timeout,
                                settings={"max_image_pixels": settings.max_image_pixels})
        await pages.pool.start()
        office_start = None
        if settings.office_enabled:
            from .engines.office import OfficePool
            documents.office = OfficePool(
                settings.effective_office_workers, timeout=settings.office_timeout,
                max_conversions=settings.office_max_conversions, max_memory_mb=settings.office_max_memory_mb,
                queue_limit=settings.office_queue_limit, work_dir=data_dir / "office")
            # warming LibreOffice takes seconds: PDFs and images are served meanwhile
            office_start = asyncio.create_task(documents.office.start())
        yield
        if office_start is not None:
            office_start.cancel()
            with contextlib.suppress(BaseException):
                await office_start
            await documents.office.stop()
        await pages.pool.stop()
    return context


def _render_pool_alive(pages: Pages) -> bool:
    # a worker being replaced shows as None for a moment; the pool is down only when none is running
    return pages.pool is not None and any(pid is not None for pid in pages.pool.worker_pids())


def _office_alive(documents: Documents) -> bool:
    """Healthy while at least one LibreOffice process is up or (re)starting, as during warm-up."""
    office = documents.office
    if office is None:
        return False
    states = [p["state"] for p in office.stats()["processes"]]
    return not states or any(state not in ("failed", "stopped") for state in states)


def build_app(settings: Settings) -> web.Application:
    data_dir = settings.data_dir.resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    store = open_store(settings.metadata, data_dir)
    blobs = BlobStore(data_dir)
    cache = CacheStore(data_dir / "cache", blobs.tmp)
    workfiles = WorkFiles(store, blobs, lifetime=settings.workfile_lifetime, max_size=settings.max_upload_size)
    sessions = ViewingSessions(store, workfiles, lifetime=settings.session_lifetime)
    documents = Documents(blobs, cache, conversion_timeout=settings.office_timeout)
    pages = Pages(documents, None, cache, render_timeout=settings.render_timeout)
    sessions.listeners += [documents, html5.InitialPages(pages)]
    documents.on_scope_removed.append(pages.hot.forget_under)
    documents.comparer = Comparer(blobs, documents, pages)

    app = web.Application(middlewares=[error_middleware], client_max_size=settings.max_upload_size)
    app[SETTINGS] = settings
    app[CACHE] = cache
    app[viewing_sessions.SESSIONS] = sessions
    app[viewing_sessions.URL_FETCHER] = functools.partial(
        fetch_to_workfile, workfiles=workfiles, allow=settings.fetch_allow, timeout=settings.fetch_timeout,
        max_size=settings.max_upload_size)
    app[work_files.WORKFILES] = workfiles
    app[html5.PAGES] = pages
    app[comparison.TOKENS] = ContinueTokens(load_secret(data_dir / "secret.key"))
    app[service.HEALTH_CHECKS] = [("metadata", store.ping), ("data_dir", lambda: _writable(data_dir)),
                                  ("render_workers", lambda: _render_pool_alive(pages))]
    if settings.office_enabled:
        app[service.HEALTH_CHECKS].append(("office", lambda: _office_alive(documents)))
    app[service.INSTANCE] = {"version": __version__, "startTime": iso(now()), "instanceId": new_file_id()[:16],
                             "hostname": socket.gethostname(), "pid": os.getpid()}
    app.cleanup_ctx.append(_engines(settings, data_dir, documents, pages))
    app.cleanup_ctx.append(_background)
    content_converters.setup(app, settings, store=store, workfiles=workfiles, blobs=blobs, pages=pages,
                             documents=documents)
    app.on_cleanup.append(lambda _app: _close(store))

    viewing_sessions.add_routes(app)
    html5.add_routes(app)
    comparison.add_routes(app)
    work_files.add_routes(app)
    service.add_routes(app)
    viewer.add_routes(app)
    zoho.setup(app, settings)
    return app


async def _close(store: MetadataStore) -> None:
    store.close()
