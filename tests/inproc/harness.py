"""The in-process tier: the real application (`build_app`) behind aiohttp's test server, in the test's own
event loop, with a clock the test moves. Lifetimes and sweeps then run without waiting; nothing is mocked but
the time of day. No render worker or LibreOffice starts unless a test asks for `engines=True`."""
from __future__ import annotations

import contextlib
import time
from pathlib import Path
from typing import AsyncIterator

from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from pageturn.app import build_app, sweep_once
from pageturn.config import load_settings


class ManualClock:
    """The time of day, starting at the real time and moving only when told (files on disk keep real mtimes,
    so moving forward ages them as the real clock would)."""

    def __init__(self, start: float | None = None):
        self.now = time.time() if start is None else start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class InProcess:
    def __init__(self, client: TestClient, app: web.Application, clock: ManualClock, data_dir: Path):
        self.client = client
        self.app = app
        self.clock = clock
        self.data_dir = data_dir

    async def sweep(self) -> None:
        """One pass of the server's periodic housekeeping, now."""
        await sweep_once(self.app)

    async def create(self, body: dict | None = None) -> str:
        r = await self.client.post("/PCCIS/V1/ViewingSession", json=body if body is not None else {})
        assert r.status == 200, await r.text()
        return (await r.json())["viewingSessionId"]

    async def session_with(self, data: bytes, body: dict | None = None, ext: str | None = None) -> str:
        sid = await self.create(body)
        params = {"FileExtension": ext} if ext else None
        r = await self.client.put(f"/PCCIS/V1/ViewingSession/u{sid}/SourceFile", data=data, params=params)
        assert r.status == 200, await r.text()
        return sid


@contextlib.asynccontextmanager
async def in_process(data_dir: Path, *, engines: bool = False, clock: ManualClock | None = None,
                     **settings: object) -> AsyncIterator[InProcess]:
    """`settings` as the environment gives them (strings such as "20m"); the periodic sweeper is pushed far out,
    so only the test's own `sweep()` calls sweep."""
    values = {"data_dir": str(data_dir), "office_enabled": "false", "render_workers": "1",
              "sweep_interval": "1d", **{k: str(v) for k, v in settings.items()}}
    clock = clock or ManualClock()
    app = build_app(load_settings(overrides=values, environ={}), clock=clock, engines=engines)
    async with TestClient(TestServer(app)) as client:
        yield InProcess(client, app, clock, data_dir)
