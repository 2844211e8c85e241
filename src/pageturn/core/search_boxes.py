"""The character boxes of search hits, kept on disk per batch of pages so a document searched before needs no
PDFium work for its hits' rectangles.

A hit's line rectangles are joined from its characters' boxes (engines.search.line_rectangles). The boxes are
read by a render worker (engines.search_text.hit_boxes, the Text URL's numbers) for the characters of the hits
only: a box pass over every character of a page costs tens of times more than the text itself, so boxes are
not read with the text but as hits need them, and every box read is kept. The file of a batch lives beside
its text (same scope and content key: `serverCaching: "none"` sessions keep theirs private) and holds
(page, offset, left, top, width, height) records as float64, so cached numbers are the very numbers read.
Two tasks adding boxes to one batch at once may each write their own file; the last one wins and the other's
boxes are read again when next needed, never wrong."""
from __future__ import annotations

import asyncio
from array import array
from pathlib import Path
from typing import Sequence

Box = tuple[float, float, float, float]
PageBoxes = dict[int, dict[int, Box]]   # page -> text offset -> box
_FIELDS = 6
MAX_FILE_BYTES = 64 * 1024 * 1024       # a damaged or foreign file is ignored rather than read into memory


def decode(data: bytes) -> PageBoxes:
    values = array("d")
    if len(data) % (8 * _FIELDS) or len(data) > MAX_FILE_BYTES:
        return {}
    values.frombytes(data)
    out: PageBoxes = {}
    for k in range(0, len(values), _FIELDS):
        page, offset, left, top, width, height = values[k:k + _FIELDS]
        out.setdefault(int(page), {})[int(offset)] = (left, top, width, height)
    return out


def encode(boxes: PageBoxes) -> bytes:
    values = array("d")
    for page, chars in boxes.items():
        for offset, box in chars.items():
            values.extend((page, offset, *box))
    return values.tobytes()


async def load(path: Path) -> PageBoxes:
    try:
        return decode(await asyncio.to_thread(path.read_bytes))
    except FileNotFoundError:
        return {}


def cached(boxes: PageBoxes, page: int, start: int, end: int) -> list[Box] | None:
    """The boxes of characters start..end-1 of a page, or None when any of them was never read."""
    chars = boxes.get(page)
    if chars is None:
        return None
    try:
        return [chars[offset] for offset in range(start, end)]
    except KeyError:
        return None


def remember(boxes: PageBoxes, page: int, start: int, span_boxes: Sequence[Sequence[float]]) -> None:
    chars = boxes.setdefault(page, {})
    for offset, box in enumerate(span_boxes, start):
        chars[offset] = (box[0], box[1], box[2], box[3])
