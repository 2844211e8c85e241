"""Builds the aiohttp application from its parts: storage, domain services, engines' pools and the APIs."""
from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
from pathlib import Path

from aiohttp import web

from . import __version__
from .api import service, viewer, viewing_sessions, work_files
from .api.errors import error_middleware
from .config import Settings
from .core.sessions import ViewingSessions
from .core.workfiles import WorkFiles, iso
from .core.ids import new_file_id
from .storage.blobs import BlobStore, CacheStore
from .storage.metadata import SqliteMetadataStore, now

log = logging.getLogger(__name__)

SETTINGS = web.AppKey("settings", Settings)
CACHE = web.AppKey("cache", CacheStore)


def _writable(path: Path) -> bool:
    return os.access(path, os.W_OK)


async def _sweeper(app: web.Application) -> None:
    settings = app[SETTINGS]
    sessions = app[viewing_sessions.SESSIONS]
    workfiles = app[work_files.WORKFILES]
    while True:
        await asyncio.sleep(settings.sweep_interval)
        try:
            await sessions.sweep()
            workfiles.sweep()
            workfiles.blobs.clean_tmp(older_than=3600)
        except Exception:  # a failed sweep is retried next time; it must never end the loop
            log.exception("sweep failed")


async def _background(app: web.Application):
    task = asyncio.create_task(_sweeper(app))
    yield
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


def build_app(settings: Settings) -> web.Application:
    data_dir = settings.data_dir.resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    store = SqliteMetadataStore(data_dir / "metadata.sqlite3")
    blobs = BlobStore(data_dir)
    cache = CacheStore(data_dir / "cache", blobs.tmp)
    workfiles = WorkFiles(store, blobs, lifetime=settings.workfile_lifetime, max_size=settings.max_upload_size)
    sessions = ViewingSessions(store, workfiles, lifetime=settings.session_lifetime)

    app = web.Application(middlewares=[error_middleware], client_max_size=settings.max_upload_size)
    app[SETTINGS] = settings
    app[CACHE] = cache
    app[viewing_sessions.SESSIONS] = sessions
    app[work_files.WORKFILES] = workfiles
    app[service.HEALTH_CHECKS] = [("metadata", store.ping), ("data_dir", lambda: _writable(data_dir))]
    app[service.INSTANCE] = {"version": __version__, "startTime": iso(now()), "instanceId": new_file_id()[:16],
                             "hostname": socket.gethostname(), "pid": os.getpid()}
    app.cleanup_ctx.append(_background)
    app.on_cleanup.append(lambda _app: _close(store))

    viewing_sessions.add_routes(app)
    work_files.add_routes(app)
    service.add_routes(app)
    viewer.add_routes(app)
    return app


async def _close(store: SqliteMetadataStore) -> None:
    store.close()
