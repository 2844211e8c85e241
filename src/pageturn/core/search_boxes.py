"""The line rectangles of search hits, kept on disk per batch of pages so a document searched before needs no
PDFium work (and no geometry) for its hits.

A hit's line rectangles are joined from its characters' boxes (the Text URL's numbers) by a render worker
(engines.search_text), for the characters of hits only: a box pass over every character of a page costs tens of
times more than the text itself (measured: about 37 times on the benchmark's pages), so boxes are not read with
the text but as hits need them, and every hit's rectangles are kept, keyed by the hit's page and character
span. The file of a batch lives beside its text (same scope and content key: `serverCaching: "none"` sessions
keep theirs private and lose them with the session). Each hit is kept as the JSON members a results answer
carries (`"boundingRectangle":{...},"lineRectangles":[...]`, as engines.search.geometry writes them), one line
per hit after its page and span: a second search splices that text in and formats no number again. Two tasks
adding to one batch at once may each write the file; the last one wins and the other's spans are computed again
when next needed, never wrong."""
from __future__ import annotations

import asyncio
import re
from pathlib import Path

PageHits = dict[str, str]   # key(page, start, end) -> the hit's geometry as JSON members
MAX_FILE_BYTES = 16 * 1024 * 1024   # per batch of pages (a term matching every character of 25 dense pages
                                    # needs about 10 MB); a bigger file is neither written nor read
# a line of the file: its key and its members; read by one regular expression, in C, as a search reads
# thousands; a line that is not one is left out (that hit is computed again)
_LINE = re.compile(r'^(\d+ \d+ \d+) ("boundingRectangle":\{[^\n]*\]|"lineRectangles":\[\])$', re.MULTILINE)


def key(page: int, start: int, end: int) -> str:
    """A hit's key: its page and its span in the page text."""
    return f"{page} {start} {end}"


def decode(data: bytes) -> PageHits:
    """The hits of a file written by encode (nothing from a file too big or not text)."""
    if len(data) > MAX_FILE_BYTES:
        return {}
    try:
        return dict(_LINE.findall(data.decode("utf-8")))
    except UnicodeDecodeError:
        return {}


def encode(hits: PageHits) -> bytes:
    return "".join(f"{k} {members}\n" for k, members in hits.items()).encode("utf-8")


async def load(path: Path) -> PageHits:
    try:
        return decode(await asyncio.to_thread(path.read_bytes))
    except FileNotFoundError:
        return {}
