"""The PrizmDoc markup JSON format (`{"marks": [...]}`): validation of every mark type, shared by markup layers,
the markup burner and the redactors.

Validation names the first wrong property (`marks[3].rectangle.x`) and never drops what it does not know:
unknown properties stay in the mark, so a client's own data round-trips. Geometry is checked against the mark's
`pageData` (the page size its coordinates refer to): a mark must lie on its page."""
from __future__ import annotations

import math
import re
from typing import Any

from ..engines.markup.svgpath import path_points
from .errors import InputError, invalid, missing

MARK_TYPES = (
    "EllipseAnnotation", "FreehandAnnotation", "FreehandSignature", "HighlightAnnotation", "ImageStampAnnotation",
    "ImageStampRedaction", "LineAnnotation", "PolylineAnnotation", "RectangleAnnotation", "RectangleRedaction",
    "StampAnnotation", "StampRedaction", "StrikethroughAnnotation", "TextAnnotation", "TextAreaSignature",
    "TextHyperlinkAnnotation", "TextInputSignature", "TextRedaction", "TextSelectionRedaction", "TextSignature",
    "TransparentRectangleRedaction",
)
REDACTION_TYPES = frozenset(t for t in MARK_TYPES if t.endswith("Redaction"))
TEXT_SELECTION_TYPES = frozenset(("HighlightAnnotation", "StrikethroughAnnotation", "TextHyperlinkAnnotation",
                                  "TextSelectionRedaction"))
RECTANGLE_TYPES = frozenset(("EllipseAnnotation", "RectangleAnnotation", "RectangleRedaction", "TextAnnotation",
                             "TextRedaction", "StampAnnotation", "StampRedaction", "ImageStampAnnotation",
                             "ImageStampRedaction", "TextAreaSignature", "TextInputSignature", "TextSignature",
                             "TransparentRectangleRedaction", "FreehandSignature"))
LINE_TYPES = frozenset(("LineAnnotation",))
POINTS_TYPES = frozenset(("PolylineAnnotation",))
PATH_TYPES = frozenset(("FreehandAnnotation", "FreehandSignature"))

MAX_MARKS = 10_000
MAX_TEXT = 100_000
MAX_IMAGE_URL = 4 << 20
EDGE_TOLERANCE = 0.01       # a mark may overhang its page by 1 % (rounding in clients' scaling)
COLOR = re.compile(r"#[0-9A-Fa-f]{6}")
COLOR_PROPS = ("borderColor", "fillColor", "fontColor", "color")
THICKNESS_PROPS = ("borderThickness", "thickness")
STRING_PROPS = ("reason", "text", "label", "selectedText", "fontName", "href", "imageId", "mask", "creationDateTime",
                "modificationDateTime", "horizontalAlignment", "endHeadType")
INTERACTION_MODES = ("Full", "SelectionDisabled")
IMAGE_URL = re.compile(r"data:image/(png|jpeg|gif|bmp|webp);base64,[A-Za-z0-9+/=\s]*")


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


class _Page:
    """The page size a mark's coordinates refer to, and the on-page check."""

    def __init__(self, at: str, value: Any):
        if value is None:
            raise missing(at)
        if not isinstance(value, dict):
            raise invalid(at, "an object {width, height}", received=value)
        for side in ("width", "height"):
            if not _number(value.get(side)) or not 0 < value[side] <= 1e6:
                raise invalid(f"{at}.{side}", "a number greater than 0", received=value.get(side))
        self.width = float(value["width"])
        self.height = float(value["height"])

    def point(self, at: str, x: Any, y: Any) -> None:
        for name, v, side in (("x", x, self.width), ("y", y, self.height)):
            if not _number(v):
                raise invalid(f"{at}.{name}", "a number", received=v)
            if not -side * EDGE_TOLERANCE <= v <= side * (1 + EDGE_TOLERANCE):
                raise invalid(f"{at}.{name}", f"a coordinate on the page (0 to {side:g})", received=v)

    def rectangle(self, at: str, value: Any) -> None:
        if value is None:
            raise missing(at)
        if not isinstance(value, dict):
            raise invalid(at, "an object {x, y, width, height}", received=value)
        for name in ("x", "y", "width", "height"):
            if not _number(value.get(name)):
                raise invalid(f"{at}.{name}", "a number", received=value.get(name))
        if value["width"] < 0 or value["height"] < 0:
            raise invalid(f"{at}.width" if value["width"] < 0 else f"{at}.height", "a number of at least 0")
        self.point(at, value["x"], value["y"])
        self.point(at, value["x"] + value["width"], value["y"] + value["height"])


def _point(page: _Page, at: str, value: Any) -> None:
    if value is None:
        raise missing(at)
    if not isinstance(value, dict):
        raise invalid(at, "an object {x, y}", received=value)
    page.point(at, value.get("x"), value.get("y"))


def _strings_map(at: str, value: Any) -> None:
    if value is None:
        return
    if not isinstance(value, dict):
        raise invalid(at, "an object of string values", received=value)
    for key, item in value.items():
        if not isinstance(item, str):
            raise invalid(f"{at}.{key}", "a string", received=item)


def _line_groups(at: str, value: Any) -> None:
    if not isinstance(value, list) or not value:
        raise invalid(at, "a non-empty array of line groups", received=value)
    for g, group in enumerate(value):
        gat = f"{at}[{g}]"
        if not isinstance(group, dict):
            raise invalid(gat, "an object {pageNumber, pageData, lines}", received=group)
        if not _int(group.get("pageNumber")) or group["pageNumber"] < 1:
            raise invalid(f"{gat}.pageNumber", "an integer of at least 1", received=group.get("pageNumber"))
        page = _Page(f"{gat}.pageData", group.get("pageData"))
        lines = group.get("lines")
        if not isinstance(lines, list) or not lines:
            raise invalid(f"{gat}.lines", "a non-empty array of rectangles", received=lines)
        for n, line in enumerate(lines):
            page.rectangle(f"{gat}.lines[{n}]", line)


def validate_mark(mark: Any, at: str, page_count: int | None = None) -> None:
    if not isinstance(mark, dict):
        raise invalid(at, "a mark object", received=mark)
    uid = mark.get("uid")
    if uid is None:
        raise missing(f"{at}.uid")
    if not isinstance(uid, str) or not 0 < len(uid) <= 256:
        raise invalid(f"{at}.uid", "a string of 1 to 256 characters", received=uid)
    kind = mark.get("type")
    if kind is None:
        raise missing(f"{at}.type")
    if kind not in MARK_TYPES:
        raise InputError("InvalidInput", {"in": "body", "at": f"{at}.type", "expected": {"enum": list(MARK_TYPES)},
                                          "received": kind if isinstance(kind, str) else type(kind).__name__})
    number = mark.get("pageNumber")
    if number is None:
        raise missing(f"{at}.pageNumber")
    if not _int(number) or number < 1 or (page_count is not None and number > page_count):
        bound = f" and at most {page_count}" if page_count is not None else ""
        raise invalid(f"{at}.pageNumber", f"an integer of at least 1{bound}", received=number)
    if "interactionMode" in mark and mark["interactionMode"] not in INTERACTION_MODES:
        raise InputError("InvalidInput", {"in": "body", "at": f"{at}.interactionMode",
                                          "expected": {"enum": list(INTERACTION_MODES)}})
    for prop in COLOR_PROPS:
        if prop in mark and not (isinstance(mark[prop], str) and COLOR.fullmatch(mark[prop])):
            raise invalid(f"{at}.{prop}", 'a color "#RRGGBB"', received=mark[prop])
    for prop in THICKNESS_PROPS:
        if prop in mark and (not _number(mark[prop]) or not 0 <= mark[prop] <= 1000):
            raise invalid(f"{at}.{prop}", "a number from 0 to 1000", received=mark[prop])
    if "opacity" in mark and (not _number(mark["opacity"]) or not 0 <= mark["opacity"] <= 255):
        raise invalid(f"{at}.opacity", "a number from 0 to 255", received=mark["opacity"])
    if "fontSize" in mark and (not _number(mark["fontSize"]) or not 0 < mark["fontSize"] <= 1000):
        raise invalid(f"{at}.fontSize", "a number greater than 0", received=mark["fontSize"])
    for prop in STRING_PROPS:
        if prop in mark and mark[prop] is not None and (not isinstance(mark[prop], str) or len(mark[prop]) > MAX_TEXT):
            raise invalid(f"{at}.{prop}", f"a string of at most {MAX_TEXT} characters", received=mark[prop])
    _strings_map(f"{at}.data", mark.get("data"))
    if "conversation" in mark and not isinstance(mark["conversation"], dict):
        raise invalid(f"{at}.conversation", "an object", received=mark["conversation"])
    image_url = mark.get("imageDataUrl")
    if "imageDataUrl" in mark and not (isinstance(image_url, str) and len(image_url) <= MAX_IMAGE_URL
                                       and IMAGE_URL.fullmatch(image_url)):
        raise invalid(f"{at}.imageDataUrl", f"a data:image/...;base64 URL of at most {MAX_IMAGE_URL} characters")

    if kind in TEXT_SELECTION_TYPES:
        _line_groups(f"{at}.lineGroups", mark.get("lineGroups"))
        return
    page = _Page(f"{at}.pageData", mark.get("pageData"))
    if kind in PATH_TYPES and "path" in mark or kind == "FreehandAnnotation":
        path = mark.get("path")
        if path is None:
            raise missing(f"{at}.path")
        if not isinstance(path, str) or len(path) > MAX_TEXT * 10:
            raise invalid(f"{at}.path", "an SVG path string (M, L and C commands)", received=path)
        try:
            subpaths = path_points(path)
        except ValueError as exc:
            raise invalid(f"{at}.path", f"an SVG path string (M, L and C commands): {exc}") from None
        for points in subpaths:
            for x, y in points:
                page.point(f"{at}.path", x, y)
        if kind == "FreehandSignature" and "rectangle" in mark:
            page.rectangle(f"{at}.rectangle", mark["rectangle"])
    elif kind in RECTANGLE_TYPES:
        page.rectangle(f"{at}.rectangle", mark.get("rectangle"))
    elif kind in LINE_TYPES:
        _point(page, f"{at}.startPoint", mark.get("startPoint"))
        _point(page, f"{at}.endPoint", mark.get("endPoint"))
    elif kind in POINTS_TYPES:
        given = mark.get("points")
        if not isinstance(given, list) or len(given) < 2:
            raise invalid(f"{at}.points", "an array of at least two points", received=given)
        for n, point in enumerate(given):
            _point(page, f"{at}.points[{n}]", point)


def validate_marks(marks: Any, at: str = "marks", page_count: int | None = None) -> list[dict[str, Any]]:
    if marks is None:
        raise missing(at)
    if not isinstance(marks, list):
        raise invalid(at, "an array of marks", received=marks)
    if len(marks) > MAX_MARKS:
        raise invalid(at, f"at most {MAX_MARKS} marks", received=len(marks))
    seen: set[str] = set()
    for i, mark in enumerate(marks):
        validate_mark(mark, f"{at}[{i}]", page_count)
        if mark["uid"] in seen:
            raise invalid(f"{at}[{i}].uid", "a uid no other mark of the layer has", received=mark["uid"])
        seen.add(mark["uid"])
    return marks


def validate_markup(body: Any, page_count: int | None = None) -> list[dict[str, Any]]:
    """A markup file (`{"marks": [...]}`) -> its marks, or InputError naming what is wrong."""
    if not isinstance(body, dict):
        raise invalid("", 'a JSON object {"marks": [...]}', received=body)
    return validate_marks(body.get("marks"), "marks", page_count)


def validate_layer(body: Any, page_count: int | None = None) -> dict[str, Any]:
    """A markup layer: `{"name", "comments", "data", "marks"}` plus whatever else the client keeps there."""
    if not isinstance(body, dict):
        raise invalid("", 'a JSON object {"name", "marks", ...}', received=body)
    name = body.get("name", "")
    if not isinstance(name, str) or len(name) > 1000:
        raise invalid("name", "a string of at most 1000 characters", received=name)
    owner = body.get("owner")
    if owner is not None and (not isinstance(owner, str) or len(owner) > 256):
        raise invalid("owner", "a string of at most 256 characters", received=body["owner"])
    comments = body.get("comments", [])
    if not isinstance(comments, list) or len(comments) > MAX_MARKS:
        raise invalid("comments", f"an array of at most {MAX_MARKS} comments", received=comments)
    for i, comment in enumerate(comments):
        if not isinstance(comment, dict):
            raise invalid(f"comments[{i}]", "an object {markUid, text, ...}", received=comment)
        for prop in ("markUid", "text", "creationDateTime"):
            if prop in comment and not (isinstance(comment[prop], str) and len(comment[prop]) <= MAX_TEXT):
                raise invalid(f"comments[{i}].{prop}", "a string", received=comment[prop])
    _strings_map("data", body.get("data"))
    validate_marks(body.get("marks", []), "marks", page_count)
    return body
