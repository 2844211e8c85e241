"""What the viewer page can carry about its document so the browser does not ask for it first: the document's
attributes (page count, sheets, its own title) and page 1's attributes, exactly as Document/q/Attributes and
Page/q/0/Attributes answer them. Only what is known at once (or within a short budget) is carried: a document
still converting, or one that needs a password, is left to the viewer's own requests, which report it."""
from __future__ import annotations

import asyncio
import math
from typing import Any, TypedDict

from ..core.pages import Pages
from ..core.records import SessionRecord
from .html5 import document_attributes_body

# how long the viewer page may wait for a document's facts (they are usually ready: the upload opened the
# document); longer, and the scripts that the page names would start later than the requests they replace
BUDGET_SECONDS = 0.08
# page 1's PNG preview is asked for by the viewer page itself, before any script runs, at the size the viewer's
# "auto" zoom shows a page on a desktop screen (its largest, 125 %); the viewer uses it when it is sharp enough
PREVIEW_ZOOM = 1.25
CSS_PX_PER_POINT = 96 / 72


def snap_scale(scale: float) -> float:
    """The viewer's scale steps (page-view.js snapScale: quarter octaves), as its URLs write them."""
    return round(2 ** (math.ceil(math.log2(scale) * 4 - 1e-6) / 4), 4)


def scale_text(scale: float) -> str:
    """A scale as JavaScript's String() writes it (0.8409, 1): the preloaded URL must be the one fetched."""
    return format(scale, "g")


class Preview(TypedDict):
    scale: float


class ViewerFacts(TypedDict, total=False):
    documentAttributes: dict[str, Any]
    firstPageAttributes: dict[str, Any]
    documentTitle: str
    firstPagePreview: Preview


async def _gather(pages: Pages, session: SessionRecord) -> ViewerFacts:
    if session.get("source"):
        progress = pages.documents.progress(session)
        if progress is not None and (not progress.done or progress.error is not None):
            return {}  # converting: the viewer follows the page count as it grows
    elif not (session.get("original") and session.get("revised")):
        return {}
    source, info = await pages.info(session)
    facts: ViewerFacts = {"documentAttributes": document_attributes_body(source, info)}
    title = info.get("title")
    if isinstance(title, str) and title:
        facts["documentTitle"] = title
    if info["pageCount"] > 0:
        attributes = await pages.attributes(session, 0, "svg")
        facts["firstPageAttributes"] = attributes
        dpi = pages.raster_resolution(session)
        if "svg" in attributes["contentType"].split(",") and dpi:
            facts["firstPagePreview"] = {"scale": snap_scale(PREVIEW_ZOOM * CSS_PX_PER_POINT * 72 / dpi)}
    return facts


async def viewer_facts(pages: Pages, session: SessionRecord) -> ViewerFacts:
    """The facts known within the budget; {} otherwise (the work goes on for the viewer's own requests)."""
    task = asyncio.ensure_future(_gather(pages, session))
    task.add_done_callback(lambda done: done.cancelled() or done.exception())  # reported by those requests
    try:
        return await asyncio.wait_for(asyncio.shield(task), BUDGET_SECONDS)
    except Exception:
        return {}
