"""Matching search terms over page text: compiled patterns, hits with their context, and the rectangles of a
hit from its characters' boxes. Pure functions over strings and numbers (no HTTP, no sessions, no PDFium).

Patterns come from clients and are untrusted. They are compiled with the `regex` module and every match runs
with a timeout, so a pattern that would backtrack for minutes stops after its time budget with
MatchTimeout; the GIL is released while matching (`concurrent=True`), so the server keeps answering."""
from __future__ import annotations

import operator
from dataclasses import dataclass
from typing import NamedTuple, Sequence, TypedDict

import regex

MAX_PATTERN_LENGTH = 1000


class SearchTermError(ValueError):
    """A term's pattern does not compile; `index` names the term."""

    code = "InvalidPattern"

    def __init__(self, index: int, message: str):
        super().__init__(message)
        self.index = index


class MatchTimeout(Exception):
    """A pattern used up its time budget on a page."""

    code = "SearchTimeout"

    def __init__(self, term: int, page: int):
        super().__init__(f"search term {term} took too long on page {page}")
        self.term = term
        self.page = page


@dataclass(frozen=True)
class Term:
    pattern: str
    case_sensitive: bool = False


class Match(NamedTuple):   # a tuple, not a dataclass: a dense term makes tens of thousands, four times faster
    term: int     # index of the term in the task's list
    start: int    # offsets in the page text
    end: int


class Rectangle(TypedDict):
    x: float
    y: float
    width: float
    height: float


def compile_terms(terms: list[Term]) -> list[regex.Pattern]:
    """Compiled patterns, or SearchTermError naming the first term that does not compile."""
    compiled = []
    for index, term in enumerate(terms):
        if len(term.pattern) > MAX_PATTERN_LENGTH:
            raise SearchTermError(index, f"the pattern is longer than {MAX_PATTERN_LENGTH} characters")
        flags = regex.VERSION0 | (0 if term.case_sensitive else regex.IGNORECASE)
        try:
            compiled.append(regex.compile(term.pattern, flags))
        except (regex.error, OverflowError, RecursionError, ValueError) as exc:
            raise SearchTermError(index, f"the pattern is not a valid regular expression: {exc}") from None
    return compiled


_TEXT_ORDER = operator.itemgetter(1, 0, 2)   # start, term, end


def _pattern_spans(text: str, pattern: regex.Pattern, index: int, page: int, timeout: float) -> list[tuple[int, int]]:
    """The (start, end) of a pattern's non-empty matches, in text order, within `timeout` seconds (MatchTimeout
    naming term `index` otherwise); spans read in C (a dense term has tens of thousands)."""
    try:
        return [(start, end) for start, end in map(_span, pattern.finditer(text, timeout=timeout, concurrent=True))
                if end > start]
    except TimeoutError:
        raise MatchTimeout(index, page) from None


_span = regex.Match.span


def find_matches(text: str, patterns: list[regex.Pattern], *, page: int, timeout: float) -> list[Match]:
    """Every non-empty match of every pattern in a page's text, in text order (ties by term order). Each
    pattern gets at most `timeout` seconds over the page: MatchTimeout otherwise."""
    found: list[Match] = []
    if not text:
        return found
    for index, pattern in enumerate(patterns):
        found += [Match(index, start, end) for start, end in _pattern_spans(text, pattern, index, page, timeout)]
    found.sort(key=_TEXT_ORDER)
    return found


def match_spans(text: str, patterns: list[regex.Pattern], *, page: int, timeout: float) -> list[tuple[int, int]]:
    """The distinct (start, end) of find_matches' matches, in text order, without a Match per match."""
    if not text:
        return []
    spans: set[tuple[int, int]] = set()
    for index, pattern in enumerate(patterns):
        spans.update(_pattern_spans(text, pattern, index, page, timeout))
    return sorted(spans)


def context(text: str, start: int, end: int, padding: int) -> tuple[str, int]:
    """The hit with up to `padding` characters either side (line breaks shown as spaces, as in one line of a
    results list), and where the hit starts within it."""
    begin = start - padding if start > padding else 0   # no builtins called: this runs for every hit
    around = text[begin:end + padding]
    return (around.replace("\n", " ") if "\n" in around else around), start - begin


def line_rectangles(text: str, boxes: Sequence[Sequence[float]], start: int) -> list[Rectangle]:
    """One rectangle per line a hit spans, from its characters' [left, top, width, height] boxes (`boxes[k]` is
    the character at `start + k`). A line ends at a line break or where the next box is not on the same line:
    side by side for horizontal text, one under the other for text turned by 90 or 270 degrees. Zero-size boxes
    (line breaks) add nothing."""
    if boxes and "\n" not in text[start:start + len(boxes)]:
        # the usual hit: glyphs of one run of text, all with the same top and height (so all on one line)
        _, top, _, height = boxes[0]
        if height > 0 and all(b[1] == top and b[3] == height for b in boxes):
            left = min(b[0] for b in boxes)
            right = max(b[0] + b[2] for b in boxes)
            bottom = top + height
            return [{"x": round(left, 2), "y": round(top, 2), "width": round(right - left, 2),
                     "height": round(bottom - top, 2)}]
    lines: list[list[float]] = []   # left, top, right, bottom
    line: list[float] | None = None
    prev: Sequence[float] | None = None
    for k, box in enumerate(boxes):
        left, top, width, height = box
        if start + k < len(text) and text[start + k] == "\n":
            prev = None
            continue
        if width <= 0 and height <= 0:
            continue
        right, bottom = left + width, top + height
        if prev is not None and line is not None and _same_line(prev, left, top, right, bottom):
            if left < line[0]:
                line[0] = left
            if top < line[1]:
                line[1] = top
            if right > line[2]:
                line[2] = right
            if bottom > line[3]:
                line[3] = bottom
        else:
            line = [left, top, right, bottom]
            lines.append(line)
        prev = box
    return [{"x": round(left, 2), "y": round(top, 2), "width": round(right - left, 2),
             "height": round(bottom - top, 2)} for left, top, right, bottom in lines]


def _same_line(a: Sequence[float], left: float, top: float, right: float, bottom: float) -> bool:
    a_left, a_top, a_width, a_height = a
    overlap_y = (bottom if bottom < a_top + a_height else a_top + a_height) - (top if top > a_top else a_top)
    if overlap_y > 0.5 * (a_height if a_height < bottom - top else bottom - top):
        return True
    overlap_x = (right if right < a_left + a_width else a_left + a_width) - (left if left > a_left else a_left)
    return overlap_x > 0.5 * (a_width if a_width < right - left else right - left)


def bounding(rectangles: list[Rectangle]) -> Rectangle | None:
    if not rectangles:
        return None
    if len(rectangles) == 1:  # what the general case gives for one (its numbers are rounded already)
        return dict(rectangles[0])  # type: ignore[return-value]
    left = min(r["x"] for r in rectangles)
    top = min(r["y"] for r in rectangles)
    right = max(r["x"] + r["width"] for r in rectangles)
    bottom = max(r["y"] + r["height"] for r in rectangles)
    return {"x": left, "y": top, "width": round(right - left, 2), "height": round(bottom - top, 2)}


NO_LINES = '"lineRectangles":[]'    # a hit without rectangles (text without boxes) has no boundingRectangle


def _rectangle(r: Rectangle) -> str:
    return f'{{"x":{r["x"]!r},"y":{r["y"]!r},"width":{r["width"]!r},"height":{r["height"]!r}}}'


def geometry(lines: list[Rectangle]) -> str:
    """A hit's boundingRectangle and lineRectangles as the JSON members of a results answer (numbers as json.dumps
    writes them; the bounding rectangle of a one-line hit is that line)."""
    if not lines:
        return NO_LINES
    if len(lines) == 1:
        line = _rectangle(lines[0])
        return f'"boundingRectangle":{line},"lineRectangles":[{line}]'
    around = bounding(lines)
    assert around is not None
    return f'"boundingRectangle":{_rectangle(around)},"lineRectangles":[{",".join(map(_rectangle, lines))}]'
