"""Stage 4, locating changes on pages: reads the markers' named destinations in the rendered PDF with PDFium and
turns each start/end pair into pages and rectangles. PDFium runs only in the render workers: the server calls
this through the worker pool's `locate_changes` job (engines/jobs.py), never in its own process."""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Iterator

from .markers import marker_names
from .ooxml import MARKER_PREFIX

@dataclass
class _Char:
    index: int
    char: str
    left: float
    top: float
    right: float
    bottom: float


class _PageText:
    """The characters of one PDF page with top-left-origin boxes, loaded on first use."""

    def __init__(self, pdf: Any, page_index: int):
        import ctypes
        import pypdfium2.raw as raw
        page = pdf[page_index]
        self.height = page.get_height()
        text_page = page.get_textpage()
        self.chars: list[_Char] = []
        for i in range(text_page.count_chars()):
            if raw.FPDFText_IsGenerated(text_page.raw, i) == 1:
                continue
            code = raw.FPDFText_GetUnicode(text_page.raw, i)
            try:
                left, bottom, right, top = text_page.get_charbox(i)
            except Exception:  # PDFium has no box for some characters
                continue
            # glyph boxes hug each letter ("e" is shorter than "g"): span the font's usual ascent and descent
            # from the baseline so that every rectangle of a line has the same height
            size = raw.FPDFText_GetFontSize(text_page.raw, i)
            origin_x, origin_y = ctypes.c_double(), ctypes.c_double()
            if size > 0 and raw.FPDFText_GetCharOrigin(text_page.raw, i, origin_x, origin_y):
                top, bottom = max(top, origin_y.value + 0.8 * size), min(bottom, origin_y.value - 0.22 * size)
            self.chars.append(_Char(i, chr(code) if code else "", left, self.height - top, right,
                                    self.height - bottom))
        text_page.close()
        page.close()

    def position(self, x: float, y_top: float, at_end: bool) -> int | None:
        """Index (into self.chars) of the character that starts (or ends, `at_end`) at the caret (x, y_top)."""
        def edge(c: _Char) -> float:
            return c.right if at_end else c.left

        # the caret's top is the line's top: its characters lie just below it
        below = [i for i, c in enumerate(self.chars)
                 if c.bottom > y_top + 0.5 and c.top - y_top < max(14.0, 1.6 * (c.bottom - c.top))]
        exact = [i for i in below if abs(edge(self.chars[i]) - x) <= 1.0]
        pool = exact or below
        if not pool:
            return None
        return min(pool, key=lambda i: abs(self.chars[i].top - y_top) + abs(edge(self.chars[i]) - x) * 0.2)


def _named_destinations(pdf: Any) -> dict[str, tuple[int, float, float]]:
    """PDF named destinations: name -> (page index, x, y) with y measured from the top of the page."""
    import ctypes
    import pypdfium2.raw as raw
    found: dict[str, tuple[int, float, float]] = {}
    heights: dict[int, float] = {}
    for i in range(raw.FPDF_CountNamedDests(pdf.raw)):
        size = ctypes.c_long(0)
        raw.FPDF_GetNamedDest(pdf.raw, i, None, ctypes.byref(size))
        if size.value <= 0:
            continue
        buffer = ctypes.create_string_buffer(size.value)
        dest = raw.FPDF_GetNamedDest(pdf.raw, i, buffer, ctypes.byref(size))
        if not dest:
            continue
        name = buffer.raw[:size.value].decode("utf-16-le", errors="replace").rstrip("\0")
        if not name.startswith(MARKER_PREFIX):
            continue
        page = raw.FPDFDest_GetDestPageIndex(pdf.raw, dest)
        has_x, has_y, has_zoom = ctypes.c_int(), ctypes.c_int(), ctypes.c_int()
        x, y, zoom = ctypes.c_float(), ctypes.c_float(), ctypes.c_float()
        if page < 0 or not raw.FPDFDest_GetLocationInPage(dest, has_x, has_y, has_zoom, x, y, zoom):
            continue
        if page not in heights:
            heights[page] = pdf[page].get_height()
        found[name] = (page, x.value if has_x.value else 0.0, heights[page] - y.value if has_y.value else 0.0)
    return found


def _rectangles(pieces: Iterable[tuple[int, list[_Char]]]) -> list[dict]:
    """One rectangle per line (or table cell) of consecutive characters."""
    rectangles: list[dict] = []
    for page_index, chars in pieces:
        current: list[float] | None = None
        for c in chars:
            if not c.char.strip() or c.right <= c.left:
                continue
            same_line = current is not None and c.top < current[3] and c.bottom > current[1] \
                and current[0] - 1 <= c.left <= current[2] + 12
            if same_line and current is not None:
                current[0], current[1] = min(current[0], c.left), min(current[1], c.top)
                current[2], current[3] = max(current[2], c.right), max(current[3], c.bottom)
            else:
                if current is not None:
                    rectangles.append(_rect(page_index, current))
                current = [c.left, c.top, c.right, c.bottom]
        if current is not None:
            rectangles.append(_rect(page_index, current))
    return rectangles


def _rect(page_index: int, box: list[float]) -> dict:
    return {"pageIndex": page_index, "x": round(box[0], 2), "y": round(box[1], 2),
            "width": round(box[2] - box[0], 2), "height": round(box[3] - box[1], 2)}


def locate_changes(changes: list[dict], pdf_path: Path | str) -> list[dict]:
    """For each change (same order): {"startPageIndex", "endPageIndex", "rectangles": [{pageIndex, x, y, width,
    height}]} in PDF points from the top-left corner of the page, as the Text API measures."""
    import pypdfium2 as pdfium
    pdf = pdfium.PdfDocument(str(pdf_path))
    try:
        pages: dict[int, _PageText] = {}

        def page_text(index: int) -> _PageText:
            if index not in pages:
                pages[index] = _PageText(pdf, index)
            return pages[index]

        destinations = _named_destinations(pdf)
        if not destinations and changes:
            return _locate_by_text(changes, [page_text(i) for i in range(len(pdf))])
        located = []
        previous_page = 0
        for change in changes:
            start_name, end_name = marker_names(change["id"])
            start, end = destinations.get(start_name), destinations.get(end_name)
            if start is None or end is None:
                located.append({"startPageIndex": previous_page, "endPageIndex": previous_page, "rectangles": []})
                continue
            pieces = _between(page_text, start, end)
            located.append({"startPageIndex": start[0], "endPageIndex": max(start[0], end[0]),
                            "rectangles": _rectangles(pieces)})
            previous_page = end[0]
        return located
    finally:
        pdf.close()


def _between(page_text, start: tuple[int, float, float], end: tuple[int, float, float]) -> Iterator[
        tuple[int, list[_Char]]]:
    """The characters from the start caret to the end caret, page by page, in the page's text order."""
    first_page, last_page = start[0], max(start[0], end[0])
    for index in range(first_page, last_page + 1):
        text = page_text(index)
        begin = 0
        stop = len(text.chars) - 1
        if index == first_page:
            found = text.position(start[1], start[2], at_end=False)
            begin = found if found is not None else len(text.chars)
        if index == last_page:
            found = text.position(end[1], end[2], at_end=True)
            stop = found if found is not None else -1
        if begin <= stop:
            yield index, text.chars[begin:stop + 1]


def _locate_by_text(changes: list[dict], pages: list[_PageText]) -> list[dict]:
    """Fallback without destinations: each change's text searched in the document text after the previous one
    (whitespace ignored). Changes without text, or not found, take the page of the change before."""
    stream = [(p, c) for p, page in enumerate(pages) for c in page.chars if c.char.strip()]
    haystack = "".join(c.char for _, c in stream)
    cursor, previous_page, located = 0, 0, []
    for change in changes:
        needle = re.sub(r"\s+", "", (change.get("text") or "").rstrip("…").replace(" | ", ""))
        at = haystack.find(needle, cursor) if needle and change["type"] != "styleDefinitionChanged" else -1
        if at < 0:
            located.append({"startPageIndex": previous_page, "endPageIndex": previous_page, "rectangles": []})
            continue
        span = stream[at:at + len(needle)]
        by_page: dict[int, list[_Char]] = {}
        for page_index, char in span:
            by_page.setdefault(page_index, []).append(char)
        located.append({"startPageIndex": span[0][0], "endPageIndex": span[-1][0],
                        "rectangles": _rectangles(by_page.items())})
        cursor, previous_page = at + len(needle), span[-1][0]
    return located
