"""Page text for search, fast, and the boxes of a few characters: render-worker jobs (PDFium runs only there).

The text is exactly the Text URL's text (engines.pdf.text): PDFium's characters with "\\r\\n" made one "\\n", a
lone "\\r" a "\\n", and characters without a Unicode mapping a U+FFFD. It is read in one call per page instead of
one call per character, about 50 times faster, so a whole document can be searched before the first boxes are
needed. `skips` lists the PDFium indices of the dropped "\\r"s, which maps a text offset back to a character.

Boxes come from the Text URL's own code (engines.pdf._chars_and_boxes) run over a window around each hit, so a
hit's rectangles are the boxes a person selects, in the same units (points, top-left origin, as displayed)."""
from __future__ import annotations

import bisect
import ctypes
import re
from typing import TypedDict

import pypdfium2.raw as pdfium_c

from . import images, pdf
from .search import Rectangle, line_rectangles

_CRLF = re.compile("\r\n")
_SURROGATE = re.compile("[\ud800-\udfff]")
MARGIN_BEFORE = 8   # characters read before a hit that starts with white space: a generated space or line
                    # break takes its box from the glyph before it
MARGIN_AFTER = 2    # characters read after a hit: a glyph's box stretches to the origin of the next one or two


class PageText(TypedDict):
    text: str
    skips: list[int]   # PDFium indices of the "\r" characters left out of `text` (sorted)
    width: float
    height: float


def _normalise(units: str) -> tuple[str, list[int]]:
    """PDFium's characters (one UTF-16 unit each) as the Text URL spells them, and the dropped indices. String
    methods rather than a loop per character: this runs over every character of every page searched."""
    skips = [m.start() for m in _CRLF.finditer(units)] if "\r" in units else []
    text = units.replace("\r\n", "\n").replace("\r", "\n") if skips or "\r" in units else units
    if "\x00" in text:
        text = text.replace("\x00", "\ufffd")
    return _SURROGATE.sub("\ufffd", text), skips


def _pdf_page_text(document: pdf.OpenPdf, index: int) -> PageText:
    page = document.page(index)
    width, height = document.page_size(index)
    textpage = page.get_textpage()
    try:
        count = textpage.count_chars()
        units = ""
        if count > 0:
            buffer = ctypes.create_string_buffer((count + 1) * 2)
            written = pdfium_c.FPDFText_GetText(textpage, 0, count,
                                                ctypes.cast(buffer, ctypes.POINTER(ctypes.c_ushort)))
            units = buffer.raw[:max(0, written - 1) * 2].decode("utf-16-le", "surrogatepass")
        if len(units) != count:
            # characters outside the BMP (two UTF-16 units for one character): read them one by one, as the
            # Text URL does, so offsets stay character offsets
            units = "".join(_unit(pdfium_c.FPDFText_GetUnicode(textpage, i)) for i in range(count))
    finally:
        textpage.close()
    text, skips = _normalise(units)
    return {"text": text, "skips": skips, "width": width, "height": height}


def _unit(code: int) -> str:
    return "\x00" if code == 0 or code > 0x10FFFF else chr(code)  # lone surrogates stay, _normalise maps them


def page_texts(path: str, kind: str, first: int, last: int, *, password: str | None = None) -> list[PageText]:
    """The text of pages first..last (inclusive). Raster pages have no text layer: empty text (no OCR)."""
    if kind == "pdf":
        document = pdf.open_pdf(path, password)
        last = min(last, document.page_count - 1)
        return [_pdf_page_text(document, index) for index in range(first, last + 1)]
    out: list[PageText] = []
    count = images.info(path)["pageCount"]
    for index in range(first, min(last, count - 1) + 1):
        width, height = images.page_size(path, index)
        out.append({"text": "", "skips": [], "width": width, "height": height})
    return out


def _char_index(skips: list[int], offset: int) -> int:
    """The PDFium index of the character at `offset` in the page text."""
    index = offset
    # each skipped "\r" before the character shifts it by one; skips are PDFium indices, so walk them in order
    for skipped in skips:
        if skipped <= index:
            index += 1
        else:
            break
    return index


def hit_boxes(path: str, kind: str, requests: list[tuple[int, list[tuple[int, int]], list[int], str]], *,
              password: str | None = None) -> list[list[list[list[float]]]]:
    """For each (page, spans, skips, text) request: for each (start, end) span of that page's text, one
    [left, top, width, height] box per character, as the Text URL gives them (`skips` and `text` from
    page_texts)."""
    if kind != "pdf":
        return [[[] for _ in spans] for _, spans, _, _ in requests]
    document = pdf.open_pdf(path, password)
    return [_page_boxes(document, page, spans, skips, text) for page, spans, skips, text in requests]


def _page_boxes(document: pdf.OpenPdf, page: int, spans: list[tuple[int, int]], skips: list[int],
                text: str) -> list[list[list[float]]]:
    geometry = document.geometry(page)
    textpage = document.page(page).get_textpage()
    try:
        out = []
        for start, end in spans:
            first_char, last_char = _char_index(skips, start), _char_index(skips, max(start, end - 1))
            # a glyph's own box needs nothing before it; only white space (possibly generated) does
            before = MARGIN_BEFORE if start < len(text) and text[start].isspace() else 0
            window = range(max(0, first_char - before), last_char + 1 + MARGIN_AFTER)
            chars, boxes = pdf._chars_and_boxes(textpage, geometry, window)
            # the window's text offset: its first character's offset (dropped "\r"s before it do not count)
            window_offset = window.start - bisect.bisect_left(skips, window.start)
            wanted = boxes[start - window_offset:end - window_offset]
            out.append([[round(v, 2) for v in box] for box in wanted])
        return out
    finally:
        textpage.close()


def hit_rectangles(path: str, kind: str, requests: list[tuple[int, list[tuple[int, int]], list[int], str]], *,
                   password: str | None = None) -> list[list[list[Rectangle]]]:
    """As hit_boxes, but each span's boxes already joined into one rectangle per line (engines.search), so the
    server receives a few numbers per hit and does no geometry itself."""
    boxes = hit_boxes(path, kind, requests, password=password)
    return [[line_rectangles(text, span_boxes, start) for (start, _), span_boxes in zip(spans, page_boxes)]
            for (_, spans, _, text), page_boxes in zip(requests, boxes)]
