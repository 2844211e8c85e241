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
import json
import re
import struct
from typing import Callable, TypedDict, TypeVar

import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c
import regex

from . import images, pdf, search_lines
from .search import MatchTimeout, Rectangle, Term, compile_terms, geometry, line_rectangles, match_spans

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


def _pdf_page_text(document: pdf.OpenPdf, index: int, patterns: list[regex.Pattern] | None = None,
                   timeout: float = 0.0) -> tuple[PageText, list[SpanRectangles] | None]:
    """A page's text and, with `patterns`, the line rectangles of each of their matches, read from the same
    loaded text page (loading it is most of the cost of either). None when a pattern ran out of time."""
    page = document.page(index)
    width, height = document.page_size(index)
    textpage = page.get_textpage()
    hits: list[SpanRectangles] | None = None
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
        elif "\ufffe" in units:
            # the bulk read gives U+FFFE where PDFium marks a hyphen it found at a line end (the Text URL's
            # character one by one is "\x02" there): those few are read as the Text URL reads them
            units = "".join(_unit(pdfium_c.FPDFText_GetUnicode(textpage, i)) if unit == "\ufffe" else unit
                            for i, unit in enumerate(units))
        text, skips = _normalise(units)
        if patterns:
            try:
                spans: list[tuple[int, int]] | None = match_spans(text, patterns, page=index, timeout=timeout)
            except MatchTimeout:
                spans = None
            if spans is not None:
                hits = [(start, end, lines) for (start, end), lines
                        in zip(spans, _spans_rectangles(document, index, textpage, spans, skips, text))]
    finally:
        textpage.close()
    return {"text": text, "skips": skips, "width": width, "height": height}, hits


def _unit(code: int) -> str:
    return "\x00" if code == 0 or code > 0x10FFFF else chr(code)  # lone surrogates stay, _normalise maps them


def page_texts(path: str, kind: str, first: int, last: int, *, password: str | None = None) -> list[PageText]:
    """The text of pages first..last (inclusive). Raster pages have no text layer: empty text (no OCR)."""
    if kind == "pdf":
        document = pdf.open_pdf(path, password)
        last = min(last, document.page_count - 1)
        return [_pdf_page_text(document, index)[0] for index in range(first, last + 1)]
    out: list[PageText] = []
    count = images.info(path)["pageCount"]
    for index in range(first, min(last, count - 1) + 1):
        width, height = images.page_size(path, index)
        out.append({"text": "", "skips": [], "width": width, "height": height})
    return out


SpanRectangles = tuple[int, int, list[Rectangle]]   # a match's start and end in the page text, its rectangles


class TextsAndHits(TypedDict):
    texts: list[PageText]
    hits: list[list[SpanRectangles] | None]   # per page


def page_texts_and_hits(path: str, kind: str, first: int, last: int, terms: list[tuple[str, bool]],
                        timeout: float, *, password: str | None = None) -> TextsAndHits:
    """page_texts, and the line rectangles of what `terms` (pattern, case sensitive) match on each page, for
    a search of a document whose text is not cached yet: one pass, each page's text loaded once. The caller
    matches the text itself (its own time budget and errors); a page whose matching ran out of time here gets
    None, and so do the pages after it (the pattern is slow: no more time is spent on it here)."""
    if kind != "pdf":
        texts = page_texts(path, kind, first, last, password=password)
        return {"texts": texts, "hits": [None] * len(texts)}
    document = pdf.open_pdf(path, password)
    last = min(last, document.page_count - 1)
    patterns: list[regex.Pattern] | None = compile_terms([Term(p, c) for p, c in terms])
    out: TextsAndHits = {"texts": [], "hits": []}
    for index in range(first, last + 1):
        text, hits = _pdf_page_text(document, index, patterns, timeout)
        out["texts"].append(text)
        out["hits"].append(hits)
        if hits is None:
            patterns = None
    return out


class SearchBatch(TypedDict):
    """What the server needs of a batch of pages it searches for the first time, ready to keep and splice."""
    texts: list[PageText]
    json: bytes                                       # `texts` as the server's cache file holds them
    hits: list[list[tuple[int, int, str]] | None]     # per page: each span's geometry (search.geometry)


def search_batch(path: str, kind: str, first: int, last: int, terms: list[tuple[str, bool]], timeout: float, *,
                 password: str | None = None) -> SearchBatch:
    """page_texts_and_hits (no hits without terms), with the texts encoded and each hit's rectangles formatted as
    a results answer carries them: that work is done here, on every worker at once, rather than in the server."""
    both = page_texts_and_hits(path, kind, first, last, terms, timeout, password=password)
    return {"texts": both["texts"],
            "json": json.dumps(both["texts"], separators=(",", ":"), ensure_ascii=False).encode(),
            "hits": [None if hits is None else [(start, end, geometry(lines)) for start, end, lines in hits]
                     for hits in both["hits"]]}


HitRequest = tuple[int, list[tuple[int, int]], list[int], str]   # page, spans, skips, text (from page_texts)
T = TypeVar("T")


def _each_page(path: str, kind: str, requests: list[HitRequest], password: str | None,
               spans_of: Callable[[pdf.OpenPdf, int, pdfium.PdfTextPage, list[tuple[int, int]], list[int], str],
                                  list[list[T]]]) -> list[list[list[T]]]:
    """`spans_of` each request's page (a list per span), its text page loaded once; an empty list per span of a
    document without text (raster pages)."""
    if kind != "pdf":
        return [[[] for _ in spans] for _, spans, _, _ in requests]
    document = pdf.open_pdf(path, password)
    out = []
    for page, spans, skips, text in requests:
        textpage = document.page(page).get_textpage()
        try:
            out.append(spans_of(document, page, textpage, spans, skips, text))
        finally:
            textpage.close()
    return out


def hit_boxes(path: str, kind: str, requests: list[HitRequest], *,
              password: str | None = None) -> list[list[list[list[float]]]]:
    """For each (page, spans, skips, text) request: for each (start, end) span of that page's text, one
    [left, top, width, height] box per character, as the Text URL gives them (`skips` and `text` from
    page_texts)."""
    return _each_page(path, kind, requests, password, _spans_boxes)


def _spans_boxes(document: pdf.OpenPdf, page: int, textpage: pdfium.PdfTextPage, spans: list[tuple[int, int]],
                 skips: list[int], text: str) -> list[list[list[float]]]:
    geometry = document.geometry(page)
    raw, count = textpage.raw, textpage.count_chars()
    dropped_at = _dropped_at(skips)
    return [_span_boxes(raw, geometry, count, start, end, skips, dropped_at, text) for start, end in spans]


def _spans_rectangles(document: pdf.OpenPdf, page: int, textpage: pdfium.PdfTextPage,
                      spans: list[tuple[int, int]], skips: list[int], text: str) -> list[list[Rectangle]]:
    """Each span's line rectangles: search_lines' one pass for a usual hit (most of them), else its characters'
    boxes joined by line_rectangles. Both give the same numbers."""
    geometry = document.geometry(page)
    raw, count = textpage.raw, textpage.count_chars()
    dropped_at = _dropped_at(skips)
    fast = search_lines.usable(geometry)
    page_left, page_top, size = geometry.left, geometry.top, len(text)
    out: list[list[Rectangle]] = [[] for _ in spans]
    for k, (start, end) in enumerate(spans):
        lines = None
        if fast and start < end <= size:
            lines = search_lines.hit_line(raw, text, start, end, _char_index(dropped_at, start), page_left, page_top)
        if lines is None:
            lines = line_rectangles(text, _span_boxes(raw, geometry, count, start, end, skips, dropped_at, text),
                                    start)
        out[k] = lines
    return out


def _dropped_at(skips: list[int]) -> list[int]:
    """The text offset at which each dropped "\\r" was (see _char_index)."""
    return [skipped - k for k, skipped in enumerate(skips)]


def _char_index(dropped_at: list[int], offset: int) -> int:
    """The PDFium index of the character at `offset` in the page text: the offset plus the dropped "\\r"s at or
    before it (by bisection: pages have many line breaks)."""
    return offset + bisect.bisect_right(dropped_at, offset)


def _span_boxes(raw: object, geometry: pdf.PageGeometry, count: int, start: int, end: int, skips: list[int],
                dropped_at: list[int], text: str) -> list[list[float]]:
    last = max(start, end - 1)
    first_char, last_char = _char_index(dropped_at, start), _char_index(dropped_at, last)
    # a glyph's own box needs nothing before it; only white space (possibly generated) does
    before = MARGIN_BEFORE if start < len(text) and text[start].isspace() else 0
    window = range(max(0, first_char - before), min(count, last_char + 1 + MARGIN_AFTER))
    # the window's text offset: its first character's offset (dropped "\r"s before it do not count)
    window_offset = window.start - bisect.bisect_left(skips, window.start)
    return _window_boxes(raw, geometry, window, skips, text, start - window_offset, end - window_offset)


_RECT, _MATRIX = pdfium_c.FS_RECTF(), pdfium_c.FS_MATRIX()
_unpack_4f = struct.Struct("4f").unpack_from   # FS_RECTF's left, top, right, bottom; FS_MATRIX's a, b, c, d
_ORIGIN_X, _ORIGIN_Y = ctypes.c_double(), ctypes.c_double()


def _window_boxes(textpage: object, geometry: pdf.PageGeometry, window: range, skips: list[int], text: str,
                  first: int, stop: int) -> list[list[float]]:
    """The boxes of characters first..stop-1 of a window, exactly as pdf._chars_and_boxes(textpage, geometry,
    window) computes them (rounded as the Text URL does), with half its PDFium calls: the characters come from
    the page text already read (a dropped "\r" is in `skips`), PDFium is asked whether a character was
    generated only for white space (it generates spaces and line breaks only), and only the wanted boxes are
    turned into page units. Any change to pdf._chars_and_boxes must be made here too
    (tests/unit/test_search_engine.py compares the two on every character)."""
    get_box, get_matrix, get_origin = (pdfium_c.FPDFText_GetLooseCharBox, pdfium_c.FPDFText_GetMatrix,
                                       pdfium_c.FPDFText_GetCharOrigin)
    rect, matrix, origin_x, origin_y = _RECT, _MATRIX, _ORIGIN_X, _ORIGIN_Y
    chars: list[str] = []
    rects: list[list[float]] = []                        # left, bottom, right, top in PDF space
    origins: list[tuple[float, float] | None] = []
    add_char, add_rect, add_origin = chars.append, rects.append, origins.append
    skip_at = bisect.bisect_left(skips, window.start)
    next_skip = skips[skip_at] if skip_at < len(skips) else -1
    offset = window.start - skip_at
    for i in window:
        if i == next_skip:
            skip_at += 1
            next_skip = skips[skip_at] if skip_at < len(skips) else -1
            continue  # "\r\n" becomes the single "\n" that follows
        char = text[offset]
        offset += 1
        after = len(chars) - stop   # >= 0 past the wanted characters: only their origins matter (tiling)
        if after == 1 and not (chars[stop] == " " and origins[stop] is None):
            break   # the last wanted glyph tiles to the next one's origin; a second one only past a space
        if char == "\n" or (char.isspace() and pdfium_c.FPDFText_IsGenerated(textpage, i) == 1):
            prev = rects[-1] if rects else [0.0, 0.0, 0.0, 0.0]
            add_rect([prev[2], prev[1], prev[2], prev[3]])
            add_origin(None)
            add_char(char)
            continue
        # the matrix's a, b, c, d read in one go (the float32 fields, as ctypes would give them one by one)
        upright = get_matrix(textpage, i, matrix)
        if upright:
            a, b, c, d = _unpack_4f(matrix)
            upright = (a > 0 and d > 0 and abs(b) < 1e-3 * a and abs(c) < 1e-3 * d
                       and get_origin(textpage, i, origin_x, origin_y))
        if after >= 0:
            add_rect([0.0, 0.0, 0.0, 0.0])   # never returned, and no wanted box is made from it
            add_origin((origin_x.value, origin_y.value) if upright else None)
        else:
            if get_box(textpage, i, rect):
                left, top, right, bottom = _unpack_4f(rect)
            else:
                left = top = right = bottom = 0.0
            if upright:
                x = origin_x.value
                add_rect([x, bottom, x + (right - left), top])
                add_origin((x, origin_y.value))
            else:
                add_rect([left, bottom, right, top])
                add_origin(None)
        add_char(char)
    pdf._tile_lines(chars, rects, origins)
    if geometry.rotation:
        return [[round(v, 2) for v in geometry.rect(*r)] for r in rects[first:stop]]
    # geometry.rect of an unturned page, its very arithmetic inlined (this runs for every character of every hit)
    page_left, page_top = geometry.left, geometry.top
    out = []
    for left, bottom, right, top in rects[first:stop]:
        x0, y0, x1, y1 = left - page_left, page_top - bottom, right - page_left, page_top - top
        out.append([round(x1 if x1 < x0 else x0, 2), round(y1 if y1 < y0 else y0, 2),
                    round(abs(x1 - x0), 2), round(abs(y1 - y0), 2)])
    return out


def hit_rectangles(path: str, kind: str, requests: list[HitRequest], *,
                   password: str | None = None) -> list[list[list[Rectangle]]]:
    """As hit_boxes, but each span's boxes already joined into one rectangle per line (engines.search), so the
    server receives a few numbers per hit and does no geometry itself."""
    return _each_page(path, kind, requests, password, _spans_rectangles)


def hit_geometries(path: str, kind: str, requests: list[HitRequest], *,
                   password: str | None = None) -> list[list[str]]:
    """hit_rectangles formatted as a results answer carries them (search.geometry), here rather than in the
    server."""
    return [list(map(geometry, page)) for page in hit_rectangles(path, kind, requests, password=password)]
