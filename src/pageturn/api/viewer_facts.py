"""What the viewer page can carry about its document so the browser does not ask for it first: the document's
attributes (page count, sheets, its own title) and page 1's attributes, exactly as Document/q/Attributes and
Page/q/0/Attributes answer them. Only what is known at once (or within a short budget) is carried: a document
still converting, or one that needs a password, is left to the viewer's own requests, which report it."""
from __future__ import annotations

import asyncio
from typing import Any, TypedDict

from ..core.pages import Pages
from ..core.records import SessionRecord

# how long the viewer page may wait for a document's facts (they are usually ready: the upload opened the
# document); longer, and the scripts that the page names would start later than the requests they replace
BUDGET_SECONDS = 0.08


class ViewerFacts(TypedDict, total=False):
    documentAttributes: dict[str, Any]
    firstPageAttributes: dict[str, Any]
    documentTitle: str


async def _gather(pages: Pages, session: SessionRecord) -> ViewerFacts:
    if session.get("source"):
        progress = pages.documents.progress(session)
        if progress is not None and (not progress.done or progress.error is not None):
            return {}  # converting: the viewer follows the page count as it grows
    elif not (session.get("original") and session.get("revised")):
        return {}
    source, info = await pages.info(session)
    document: dict[str, Any] = {"pageCount": info["pageCount"], "pageCountConfidence": 100}
    if source.sheets:
        document["sheets"] = source.sheets
    facts: ViewerFacts = {"documentAttributes": document}
    title = info.get("title")
    if isinstance(title, str) and title:
        facts["documentTitle"] = title
    if info["pageCount"] > 0:
        facts["firstPageAttributes"] = await pages.attributes(session, 0, "svg")
    return facts


async def viewer_facts(pages: Pages, session: SessionRecord) -> ViewerFacts:
    """The facts known within the budget; {} otherwise (the work goes on for the viewer's own requests)."""
    task = asyncio.ensure_future(_gather(pages, session))
    task.add_done_callback(lambda done: done.cancelled() or done.exception())  # reported by those requests
    try:
        return await asyncio.wait_for(asyncio.shield(task), BUDGET_SECONDS)
    except Exception:
        return {}
