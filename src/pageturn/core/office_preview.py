"""The first pages of a long Word document ahead of its whole conversion (issue 16, "large Office documents").

LibreOffice lays out the whole document before it exports page 1 (measured by bench/bench_office_large.py: a
3,000-page .docx takes seconds to load and most of its conversion to lay out), so a long document's first page
used to wait for all of it. Instead, a prefix of the document (engines/office_prefix.py: its first body elements,
every other part as it was) is converted first, in a fraction of a second; its pages before the last
TRAILING_PAGES are the whole document's pages, and they are served (marked provisional) until the whole
conversion is published. The page count meanwhile is an estimate with a confidence below 100.
"""
from __future__ import annotations

import asyncio
import logging
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from ..engines.office_prefix import DOCUMENT, MAX_DOCUMENT_BYTES, MIN_DOCUMENT_BYTES, TRAILING_PAGES

log = logging.getLogger(__name__)

EXTENSIONS = ("docx", "docm", "dotx", "dotm")   # Word's zip formats: the ones a prefix can be cut from
CONFIDENCE = 50     # an estimate extrapolated from the prefix's own layout


class RenderJobs(Protocol):
    async def run(self, affinity_key: str, fn: str, *args: Any, timeout: float | None = None,
                  **kwargs: Any) -> Any: ...


class PrefixConverter(Protocol):
    async def convert(self, source: Path, out: Path, extension: str, *, password: str | None = None,
                      timeout: float | None = None, target: str = "pdf") -> Any: ...


@dataclass
class Preview:
    pdf: Path          # the prefix's PDF (all its pages; only the first `pages` are shown)
    pages: int         # pages that are the whole document's
    estimate: int      # the whole document's page count, extrapolated


class OfficePreviews:
    def __init__(self, jobs: RenderJobs, office: PrefixConverter, *, job_timeout: float, conversion_timeout: float):
        self.jobs = jobs
        self.office = office
        self.job_timeout = job_timeout
        self.conversion_timeout = conversion_timeout

    @staticmethod
    def applies(extension: str, password: str | None) -> bool:
        return extension.lower() in EXTENSIONS and not password

    async def prefix(self, source: Path, work: Path) -> tuple[Path, dict[str, Any]] | None:
        """The prefix document (cut in a render worker: the XML is untrusted), or None when none is made."""
        if not await asyncio.to_thread(_long, source):
            return None  # most documents: no render job queued ahead of their conversion
        dest = work / "prefix.docx"
        try:
            facts = await self.jobs.run(str(source), "docx_prefix", str(source), str(dest), timeout=self.job_timeout)
        except Exception as exc:  # the whole conversion still runs and reports what is wrong with the document
            log.info("no preview for %s: %s", source.name, exc)
            return None
        if not facts.get("made"):
            log.debug("no preview for %s: %s", source.name, facts.get("reason"))
            return None
        return dest, facts

    async def convert(self, prefix: Path, facts: dict[str, Any], work: Path) -> Preview | None:
        out = work / "preview.pdf"
        result = await self.office.convert(prefix, out, "docx", timeout=self.conversion_timeout)
        count = result.page_count or 0
        pages = count - TRAILING_PAGES
        if pages < 1:
            return None
        share = max(1, int(facts.get("keptBytes") or 0)) / max(1, int(facts.get("documentBytes") or 1))
        return Preview(out, pages, max(count, round(count / min(1.0, share))))


def _long(source: Path) -> bool:
    """Whether the document's text part is long enough for a prefix, from the zip's directory alone (the size
    it declares: the render job that cuts it checks again as it reads)."""
    try:
        with zipfile.ZipFile(source) as archive:
            return MIN_DOCUMENT_BYTES <= archive.getinfo(DOCUMENT).file_size <= MAX_DOCUMENT_BYTES
    except (zipfile.BadZipFile, KeyError, OSError, ValueError):
        return False
