"""The line rectangles of search hits, kept on disk per batch of pages so a document searched before needs no
PDFium work (and no geometry) for its hits.

A hit's line rectangles are joined from its characters' boxes (the Text URL's numbers) by a render worker
(engines.search_text), for the characters of hits only: a box pass over every character of a page costs tens of
times more than the text itself (measured: about 37 times on the benchmark's pages), so boxes are not read with
the text but as hits need them, and every hit's rectangles are kept, keyed by the hit's page and character
span. The file of a batch lives beside its text (same scope and content key: `serverCaching: "none"` sessions
keep theirs private and lose them with the session) and holds float64 records (page, start, end, count, then
x, y, width, height per rectangle), so cached numbers are the very numbers computed. Two tasks adding to one
batch at once may each write the file; the last one wins and the other's spans are computed again when next
needed, never wrong."""
from __future__ import annotations

import asyncio
from array import array
from pathlib import Path

from ..engines.search import Rectangle

Span = tuple[int, int]
PageHits = dict[int, dict[Span, list[Rectangle]]]   # page -> (start, end) -> line rectangles
MAX_FILE_BYTES = 16 * 1024 * 1024   # per batch of pages (a term matching every character of 25 dense pages
                                    # needs about 6 MB); a bigger file is neither written nor read
MAX_LINES = 10_000                  # rectangles of one hit, as a sanity bound when reading


def decode(data: bytes) -> PageHits:
    if len(data) % 8 or len(data) > MAX_FILE_BYTES:
        return {}
    values = array("d")
    values.frombytes(data)
    out: PageHits = {}
    k, size = 0, len(values)
    while k + 4 <= size:
        page, start, end, count = int(values[k]), int(values[k + 1]), int(values[k + 2]), int(values[k + 3])
        k += 4
        if not 0 <= count <= MAX_LINES or k + 4 * count > size:
            return {}
        out.setdefault(page, {})[(start, end)] = [
            {"x": values[j], "y": values[j + 1], "width": values[j + 2], "height": values[j + 3]}
            for j in range(k, k + 4 * count, 4)]
        k += 4 * count
    return out


def encode(hits: PageHits) -> bytes:
    values = array("d")
    for page, spans in hits.items():
        for (start, end), lines in spans.items():
            values.extend((page, start, end, len(lines)))
            for r in lines:
                values.extend((r["x"], r["y"], r["width"], r["height"]))
    return values.tobytes()


async def load(path: Path) -> PageHits:
    try:
        return decode(await asyncio.to_thread(path.read_bytes))
    except FileNotFoundError:
        return {}
