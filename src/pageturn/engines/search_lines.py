"""A usual search hit's line rectangle straight from PDFium in one pass: the render worker's hot loop.

A word found on an unturned page is a run of upright glyphs on one line, and its one rectangle follows from the
glyphs' origins and loose boxes with a few comparisons, without the rounded per-character boxes that the general
path (search_text._window_boxes, then search.line_rectangles) builds and joins: a dense term has tens of
thousands of hits. `hit_line` gives exactly the numbers of that general path, or None for anything it does not
handle (a turned glyph, a line break or generated white space in the hit, a hit starting with white space, boxes
that may not make one line, a failing PDFium call, unusual numbers); the caller then takes the general path. Any
change to pdf._chars_and_boxes, search_text._window_boxes or search.line_rectangles must be made here too
(tests/unit/test_search_engine.py compares the two paths on many hits)."""
from __future__ import annotations

import ctypes
import math
import re
import struct
from typing import TYPE_CHECKING, Callable

import pypdfium2.raw as pdfium_c

from .pdf import PageGeometry
from .search import Rectangle

if TYPE_CHECKING:
    import _ctypes


def _bare(function: _ctypes.CFuncPtr) -> Callable[..., int]:
    """The PDFium function without ctypes' per-argument conversion (its arguments here are an int and pointers,
    which ctypes passes as they are): about 0.45 instead of 1.1 microseconds a call, three calls a glyph."""
    address = ctypes.cast(function, ctypes.c_void_p).value
    if not address:
        raise ImportError("PDFium's text functions are missing")
    return ctypes.CFUNCTYPE(ctypes.c_int)(address)


_GET_BOX = _bare(pdfium_c.FPDFText_GetLooseCharBox)
_GET_MATRIX = _bare(pdfium_c.FPDFText_GetMatrix)
_GET_ORIGIN = _bare(pdfium_c.FPDFText_GetCharOrigin)
_IS_GENERATED = _bare(pdfium_c.FPDFText_IsGenerated)

# one buffer for what PDFium writes about a glyph, read back in one unpack: FS_RECTF's left, top, right, bottom
# (floats), FS_MATRIX's a, b, c, d (its e, f skipped), the origin's x and y (doubles). The render worker runs one
# job at a time, so one buffer serves every call (as search_text's do).
_BUFFER = ctypes.create_string_buffer(56)
_RECT, _MATRIX = ctypes.byref(_BUFFER, 0), ctypes.byref(_BUFFER, 16)
_ORIGIN_X, _ORIGIN_Y = ctypes.byref(_BUFFER, 40), ctypes.byref(_BUFFER, 48)
_unpack = struct.Struct("=4f4f8x2d").unpack_from

_WHITE_SPACE = re.compile(r"\s")   # what str.isspace() says (the same Unicode table)
_SPACES = frozenset(chr(code) for code in range(0x3000 + 1) if chr(code).isspace())   # none above U+3000
# coordinates beyond this (or not finite) take the general path: the shortcuts below rely on rounding errors
# being far smaller than 0.01
_LIMIT = 1e6
# a glyph whose right edge is this far left of the hit's rightmost edge cannot give the rounded maximum (rounding
# moves an edge by at most 0.005, a width by at most 0.005 more); the same for bottom edges, and for the overlap of
# two boxes (less than 0.02 off in all)
_MARGIN = 0.03


def usable(geometry: PageGeometry) -> bool:
    """Whether hit_line can serve a page: unturned, ordinary numbers."""
    return (geometry.rotation == 0 and -_LIMIT < geometry.left < _LIMIT and -_LIMIT < geometry.top < _LIMIT)


def hit_line(page: object, text: str, start: int, end: int, index: int, page_left: float, page_top: float
             ) -> list[Rectangle] | None:
    """The line rectangles of text[start:end] (PDFium characters index.. on a `usable` page whose geometry
    starts at page_left, page_top), as search.line_rectangles gives them over the Text URL's boxes, or None
    when this one-line, upright case does not apply."""
    word = text[start:end]
    white = _WHITE_SPACE.search(word)
    # white space first takes its box from the glyph before the hit; a line break ends a line; a generated
    # space has no glyph of its own
    if white is not None and (white.start() == 0 or "\n" in word or _generated_inside(page, word, index)):
        return None
    get_matrix, get_origin, get_box, unpack = _GET_MATRIX, _GET_ORIGIN, _GET_BOX, _unpack
    buffer, rect, matrix, origin_x, origin_y = _BUFFER, _RECT, _MATRIX, _ORIGIN_X, _ORIGIN_Y
    count = end - start
    lefts = [0.0] * count    # each glyph's left and right edges in PDF space, after tiling
    rights = [0.0] * count
    tops = [0.0] * count     # and its box's top and bottom (PDF space)
    bottoms = [0.0] * count
    least, greatest = _LIMIT, -_LIMIT    # of the left and right edges
    even = True    # all boxes of the first one's top and bottom
    here_x = here_y = here_right = here_height = 0.0    # the glyph before: origin, right edge (not tiled yet)
    for k in range(count):
        i = index + k
        if not (get_matrix(page, i, matrix) and get_origin(page, i, origin_x, origin_y) and get_box(page, i, rect)):
            return None
        left, top, right, bottom, a, b, c, d, x, y = unpack(buffer)
        # pdf._chars_and_boxes's upright test (abs() written out: this runs for every glyph of every hit)
        if not (a > 0 and d > 0 and -1e-3 * a < b < 1e-3 * a and -1e-3 * d < c < 1e-3 * d):
            return None
        tops[k] = top
        bottoms[k] = bottom
        if top != tops[0] or bottom != bottoms[0]:
            even = False
        x_right = x + (right - left)
        if not (-_LIMIT < x < _LIMIT and -_LIMIT < x_right < _LIMIT):
            return None
        if k:
            # the glyph before stretches to this one's origin: pdf._tile_lines inlined, the same expressions
            # (the floats must be identical), abs() written out
            dy = y - here_y
            limit = 0.2 * here_height
            if (not (dy > limit or -dy > limit or x <= here_x)
                    and x - here_x <= 1.5 * (here_right - here_x) + 0.25 * here_height):
                here_right = x
            rights[k - 1] = here_right
            if here_right < least:
                least = here_right
            if here_right > greatest:
                greatest = here_right
        lefts[k] = x
        if x < least:
            least = x
        if x > greatest:
            greatest = x
        here_x, here_y, here_right, here_height = x, y, x_right, top - bottom
    follower = _follower_origin(page, text, end, index + count)
    if follower is not None:
        here_right = _tiled(here_x, here_y, here_right, here_height, *follower)
    rights[-1] = here_right
    least = here_right if here_right < least else least
    greatest = here_right if here_right > greatest else greatest
    return _one_line(lefts, rights, least, greatest, tops, bottoms, even, page_left, page_top)


def _generated_inside(page: object, word: str, index: int) -> bool:
    return any(_IS_GENERATED(page, index + m.start()) == 1 for m in _WHITE_SPACE.finditer(word))


def _tiled(x: float, y: float, right: float, line_height: float, next_x: float, next_y: float) -> float:
    """A glyph's right edge stretched to the origin of the next glyph on its line: pdf._tile_lines, the same
    expressions (float results must be identical), abs() written out."""
    dy = next_y - y
    limit = 0.2 * line_height
    if dy > limit or -dy > limit or next_x <= x:
        return right   # not on the same line, or going backwards
    return next_x if next_x - x <= 1.5 * (right - x) + 0.25 * line_height else right


def _follower_origin(page: object, text: str, end: int, i: int) -> tuple[float, float] | None:
    """The origin of the glyph just after a hit, which the hit's last glyph may stretch to: None after the
    page's end, a line break, generated white space or a glyph that is not upright (pdf._tile_lines then leaves
    the last glyph as it is, also when that glyph is a space and the one after it is upright)."""
    char = text[end:end + 1]
    if not char:
        return None   # the page's end
    if char == "\n" or (char in _SPACES and _IS_GENERATED(page, i) == 1):
        return None
    # the origin is read whether or not the glyph is upright (only its value depends on that)
    if not (_GET_MATRIX(page, i, _MATRIX) and _GET_ORIGIN(page, i, _ORIGIN_X, _ORIGIN_Y)):
        return None
    _, _, _, _, a, b, c, d, x, y = _unpack(_BUFFER)
    if a > 0 and d > 0 and -1e-3 * a < b < 1e-3 * a and -1e-3 * d < c < 1e-3 * d:
        return x, y
    return None


def _one_line(lefts: list[float], rights: list[float], least: float, greatest: float, tops: list[float],
              bottoms: list[float], even: bool, page_left: float, page_top: float) -> list[Rectangle] | None:
    """line_rectangles over the boxes the Text URL would give these glyphs (edges in PDF space; the least and
    greatest left or right edge given; `even`: all tops equal, all bottoms too) when they make one line, with a
    few roundings per hit instead of four per glyph; None when they might not. Its left is the least rounded box
    left: rounding is monotonic, so it is the rounding of the least edge. Its right is the greatest sum of a
    rounded box left and rounded width: computed as the Text URL does for the glyphs that can give it, those
    reaching within _MARGIN of the greatest edge. Some of line_rectangles' roundings are left out because they
    cannot change a number: rounding a number rounded to 2 decimals again gives it back (also its sign), and so
    does rounding (top + height) - top for rounded numbers below _LIMIT (the sum and difference err by far less
    than 0.005)."""
    if even:
        top, bottom = tops[0], bottoms[0]
        if not (-_LIMIT < top < _LIMIT and -_LIMIT < bottom < _LIMIT):
            return None
        key = (page_top, top, bottom)
        line_top, line_height = _VERTICALS[key] if key in _VERTICALS else _vertical(page_top, top, bottom)
        if not line_height > 0:
            return None   # line_rectangles leaves out boxes without height or width
    else:
        vertical = _line_top_bottom(tops, bottoms, page_top)
        if vertical is None:
            return None
        line_top, line_bottom = vertical
        line_height = round(line_bottom - line_top, 2)
    left = round(least - page_left, 2)
    if left == 0:
        return None   # 0.0 or -0.0: min() over the boxes keeps the first of equals, whose sign is not known here
    threshold = greatest - _MARGIN
    right = -math.inf
    for glyph_left, glyph_right in zip(lefts, rights):
        if glyph_left < threshold and glyph_right < threshold:
            continue
        x0, x1 = glyph_left - page_left, glyph_right - page_left
        edge = round(x1 if x1 < x0 else x0, 2) + round(x1 - x0 if x1 > x0 else x0 - x1, 2)
        if edge > right:
            right = edge
    return [{"x": left, "y": line_top, "width": round(right - left, 2), "height": line_height}]


def _line_top_bottom(tops: list[float], bottoms: list[float], page_top: float) -> tuple[float, float] | None:
    """The top and bottom of the line line_rectangles makes of boxes with these tops and bottoms (PDF space);
    None unless each box has a height and clearly overlaps the box before by more than half the lower of the two
    (search._same_line's first test; what it would decide in a close case, or by width, is left to the general
    path). The same shortcuts as for the left and right edges: the line's top is the rounding of the highest box
    top (rounding is monotonic), its bottom the greatest sum of a rounded box top and rounded height, computed for
    the boxes reaching within _MARGIN of the lowest bottom."""
    highest = lowest = before_high = before_low = 0.0   # in page units: the box's top and bottom, unrounded
    for k in range(len(tops)):
        top, bottom = tops[k], bottoms[k]
        if not (-_LIMIT < bottom and bottom + 0.01 < top < _LIMIT):
            return None   # unusual numbers, or a box whose rounded height may be 0 (line_rectangles may leave it out)
        high, low = page_top - top, page_top - bottom
        if k:
            # the rounded numbers differ from these by less than 0.02 in all
            overlap = (low if low < before_low else before_low) - (high if high > before_high else before_high)
            lower = before_low - before_high if before_low - before_high < low - high else low - high
            if not overlap - 0.5 * lower > _MARGIN:
                return None
            if high < highest:
                highest = high
            if low > lowest:
                lowest = low
        else:
            highest, lowest = high, low
        before_high, before_low = high, low
    line_top = round(highest, 2)
    if line_top == 0:
        return None   # 0.0 or -0.0: as for the left edge
    threshold = lowest - _MARGIN
    line_bottom = -math.inf
    for top, bottom in zip(tops, bottoms):
        high, low = page_top - top, page_top - bottom
        if low < threshold:
            continue
        edge = round(high, 2) + round(low - high, 2)
        if edge > line_bottom:
            line_bottom = edge
    return line_top, line_bottom


# (page top, glyph box top, bottom) -> the rounded box top and height: lines sit at the same heights on page after
# page, and a rounding costs about half a microsecond
_VERTICALS: dict[tuple[float, float, float], tuple[float, float]] = {}


def _vertical(page_top: float, top: float, bottom: float) -> tuple[float, float]:
    """A box's rounded top and height in page units, as _window_boxes computes them (abs() written out: the
    same float, negation is exact), remembered."""
    key = (page_top, top, bottom)
    if key in _VERTICALS:
        return _VERTICALS[key]
    if len(_VERTICALS) >= 4096:
        _VERTICALS.clear()
    y0, y1 = page_top - bottom, page_top - top
    found = _VERTICALS[key] = round(y1 if y1 < y0 else y0, 2), round(y1 - y0 if y1 > y0 else y0 - y1, 2)
    return found
