"""Renders a session's first pages as soon as it starts or gets its document (a sessions listener)."""
from __future__ import annotations

import asyncio

from .pages import Pages
from .records import SessionRecord
from .sessions import SessionListener


class InitialPages(SessionListener):
    """Listens to sessions: renders the first pages as soon as a session starts or gets its document."""

    def __init__(self, pages: Pages):
        self.pages = pages
        self._tasks: set[asyncio.Task[None]] = set()

    def _schedule(self, session: SessionRecord) -> None:
        props = session["props"]
        if props.get("startConverting") == "none":
            return
        count = max(int(props.get("countOfInitialPages") or 0), 1)
        self._track(asyncio.create_task(self.pages.prepare(session, count)))

    @staticmethod
    def _has_document(session: SessionRecord) -> bool:
        return bool(session.get("source") or (session.get("original") and session.get("revised")))

    async def session_started(self, session: SessionRecord) -> None:
        if self._has_document(session):
            self._schedule(session)

    async def source_attached(self, session: SessionRecord) -> None:
        if session.get("started") or session["props"].get("countOfInitialPages"):
            self._schedule(session)
        elif session["props"].get("startConverting") != "none" and session.get("source"):
            # open the document now: the first page request then needs one render job, not two
            self._track(asyncio.create_task(self._warm(session)))

    async def _warm(self, session: SessionRecord) -> None:
        try:
            await self.pages.info(session)
        except Exception:
            pass  # the requests that follow report the error

    def _track(self, task: asyncio.Task) -> None:
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
