"""Watermarks drawn over every page output (SVG, PNG, JPEG, tiles, thumbnails) — never into the source file.

A session's `watermarks` is an array of objects. Three kinds are understood; properties not listed here are
ignored (so objects written for other servers still work), listed ones are checked and a bad value raises
ValueError naming it, e.g. `watermarks[0].fontSize: ...`.

Text, the PrizmDoc example object as written::

    {"type": "text", "text": "jdoe\\nNOT FOR DISTRIBUTION", "opacity": 0.6, "color": "red",
     "fontFamily": "Consolas", "fontSize": "16pt", "fontWeight": "bold",
     "verticalAlign": "bottom", "horizontalAlign": "right"}

    text             required string; "\\n" breaks lines (at most 50 lines, 2000 characters)
    opacity          0..1, default 1
    color            CSS color: a name ("red"), "#rgb", "#rrggbb", "#rrggbbaa", "rgb(...)"; default "black"
    fontFamily       a family name; the nearest installed font is used; default "Arial"
    fontSize         "16pt", "12px" (CSS px, 0.75 pt), "0.5in", "5mm", "1cm", or a number of points; default "12pt"
    fontWeight       "normal", "bold", "bolder", "lighter" or 100..900 (600 and up is bold); default "normal"
    fontStyle        "normal", "italic" or "oblique"; default "normal"
    horizontalAlign  "left", "center" or "right" (also aligns the lines among themselves); default "center"
    verticalAlign    "top", "center" ("middle") or "bottom"; default "center"
    margin           distance kept from the page edges, a length like fontSize; default 0

Diagonal text, across the page centre, rising from bottom-left to top-right::

    {"type": "diagonalText", "text": "CONFIDENTIAL", "color": "#ff0000", "opacity": 0.3}

    text, opacity, color, fontFamily, fontWeight, fontStyle   as for "text"
    fontSize         as for "text", or "auto" (default): as large as fits 80% of the page diagonal
    angle            degrees counter-clockwise from horizontal; default: the angle of the page's diagonal

Image (PNG, JPEG, GIF, WebP or BMP, base64-encoded, at most 8 MB and 4096x4096 pixels)::

    {"type": "image", "data": "<base64>", "opacity": 0.5, "width": "30%",
     "horizontalAlign": "right", "verticalAlign": "top", "margin": "18pt"}

    data             required: base64 of the image file (a "data:image/...;base64," prefix is accepted)
    opacity          0..1, default 1
    width, height    a length like fontSize, or "N%" of the page's width (height: of its height); with one of
                     them the other keeps the image's aspect ratio; with neither the image is shown at 72 dpi,
                     shrunk to fit the page if larger
    horizontalAlign, verticalAlign, margin   as for "text"

Positions are computed in page units (points) once and drawn the same way in raster outputs (Pillow, with
the nearest installed font found by fontconfig) and in SVG (text elements the browser draws with its own font
of that family, aligned by the same anchors).
"""
from __future__ import annotations

import base64
import binascii
import functools
import hashlib
import io
import json
import math
import re
import shutil
import subprocess
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any, Union
from xml.sax.saxutils import escape, quoteattr

from PIL import Image, ImageColor, ImageDraw, ImageFont

from .raster import RasterPlan

MAX_WATERMARKS = 20
MAX_TEXT = 2000
MAX_LINES = 50
MAX_IMAGE_BYTES = 8 * 1024 * 1024
MAX_IMAGE_SIDE = 4096
IMAGE_FORMATS = {"PNG": "image/png", "JPEG": "image/jpeg", "GIF": "image/gif", "WEBP": "image/webp",
                 "BMP": "image/bmp"}
HORIZONTAL = ("left", "center", "right")
VERTICAL = ("top", "center", "bottom")
_UNITS_PT = {"pt": 1.0, "px": 0.75, "in": 72.0, "mm": 72 / 25.4, "cm": 72 / 2.54, "": 1.0}
_LENGTH = re.compile(r"^\s*(\d+(?:\.\d+)?|\.\d+)\s*(pt|px|in|mm|cm|%)?\s*$", re.IGNORECASE)
_MEASURE_PX = 200  # fonts are measured at this size; lengths scale linearly
MAX_GLYPH_PX = 200  # raster text is drawn at most this size and resampled beyond (bounds memory when zoomed)


@dataclass(frozen=True)
class Length:
    value: float
    percent: bool = False  # value is a percentage of the page dimension

    def points(self, page_dimension: float) -> float:
        return self.value * page_dimension / 100 if self.percent else self.value


@dataclass(frozen=True)
class TextWatermark:
    text: str
    diagonal: bool = False
    color: tuple[int, int, int] = (0, 0, 0)
    opacity: float = 1.0
    font_family: str = "Arial"
    font_size: float | None = 12.0      # points; None = auto (diagonal only)
    bold: bool = False
    italic: bool = False
    horizontal: str = "center"
    vertical: str = "center"
    margin: float = 0.0
    angle: float | None = None          # diagonal only; None = along the page diagonal


@dataclass(frozen=True)
class ImageWatermark:
    data: bytes
    mime: str
    pixel_width: int
    pixel_height: int
    opacity: float = 1.0
    width: Length | None = None
    height: Length | None = None
    horizontal: str = "center"
    vertical: str = "center"
    margin: float = 0.0


Watermark = Union[TextWatermark, ImageWatermark]


# ---- parsing ----------------------------------------------------------------------------------------------------

def fingerprint(watermarks: Any) -> str:
    """A stable key for a watermark set (sha256 of its canonical JSON): equal sets give equal keys."""
    canonical = json.dumps(watermarks or [], sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def parse_watermarks(value: Any) -> list[Watermark]:
    """Check a `watermarks` array and turn it into watermark objects; ValueError names the first bad field."""
    if value is None:
        return []
    if not isinstance(value, list):
        raise ValueError(f"watermarks: expected an array of watermark objects, got {type(value).__name__}")
    if len(value) > MAX_WATERMARKS:
        raise ValueError(f"watermarks: at most {MAX_WATERMARKS} watermarks, got {len(value)}")
    try:
        key = fingerprint(value)
    except (TypeError, ValueError):
        raise ValueError("watermarks: expected JSON values only") from None
    parsed = _parsed.pop(key, None)
    if parsed is None:
        parsed = tuple(_parse_one(item, f"watermarks[{index}]") for index, item in enumerate(value))
        image_bytes = sum(len(mark.data) for mark in parsed if isinstance(mark, ImageWatermark))
        if image_bytes > MAX_IMAGE_BYTES:
            raise ValueError(f"watermarks: the images add up to more than {MAX_IMAGE_BYTES // (1024 * 1024)} MB")
        while len(_parsed) >= PARSED_SETS:
            _parsed.popitem(last=False)
    _parsed[key] = parsed  # every page of a session parses the same set: keep the last few
    return list(parsed)


PARSED_SETS = 16
_parsed: OrderedDict[str, tuple[Watermark, ...]] = OrderedDict()


def _parse_one(item: Any, where: str) -> Watermark:
    if not isinstance(item, dict):
        raise ValueError(f"{where}: expected an object, got {type(item).__name__}")
    kind = item.get("type")
    if kind in ("text", "diagonalText"):
        return _parse_text(item, where, diagonal=kind == "diagonalText")
    if kind == "image":
        return _parse_image(item, where)
    raise ValueError(f"{where}.type: expected \"text\", \"diagonalText\" or \"image\", got {kind!r}")


def _parse_text(item: dict, where: str, *, diagonal: bool) -> TextWatermark:
    text = item.get("text")
    if not isinstance(text, str):
        raise ValueError(f"{where}.text: expected a non-empty string")
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\t", " ")
    # control characters have no glyph and are not allowed in XML (the SVG overlay)
    text = "".join(ch for ch in text if ch == "\n" or (ch >= " " and ch not in "\x7f\ufffe\uffff"))
    if not text.strip():
        raise ValueError(f"{where}.text: expected a non-empty string")
    if len(text) > MAX_TEXT or text.count("\n") >= MAX_LINES:
        raise ValueError(f"{where}.text: at most {MAX_TEXT} characters on {MAX_LINES} lines")
    size_value = item.get("fontSize", "auto" if diagonal else "12pt")
    if diagonal and isinstance(size_value, str) and size_value.strip().lower() == "auto":
        font_size = None
    else:
        font_size = _length(size_value, f"{where}.fontSize", percent=False, low=1, high=1000).value
    angle = item.get("angle")
    if angle is not None:
        angle = _number(angle, f"{where}.angle", -360, 360)
    return TextWatermark(
        text=text,
        diagonal=diagonal,
        color=_color(item.get("color", "black"), f"{where}.color"),
        opacity=_opacity(item, where),
        font_family=_family(item.get("fontFamily", "Arial"), f"{where}.fontFamily"),
        font_size=font_size,
        bold=_bold(item.get("fontWeight", "normal"), f"{where}.fontWeight"),
        italic=_choice(item.get("fontStyle", "normal"), f"{where}.fontStyle",
                       ("normal", "italic", "oblique")) != "normal",
        horizontal=_choice(item.get("horizontalAlign", "center"), f"{where}.horizontalAlign", HORIZONTAL),
        vertical=_vertical(item.get("verticalAlign", "center"), f"{where}.verticalAlign"),
        margin=_length(item.get("margin", 0), f"{where}.margin", percent=False, low=0, high=5000).value,
        angle=angle,
    )


def _parse_image(item: dict, where: str) -> ImageWatermark:
    data = _image_data(item.get("data"), f"{where}.data")
    try:
        with Image.open(io.BytesIO(data), formats=list(IMAGE_FORMATS)) as image:
            fmt, (width, height) = image.format or "", image.size
    except (OSError, ValueError, Image.DecompressionBombError):
        raise ValueError(f"{where}.data: not a PNG, JPEG, GIF, WebP or BMP image") from None
    if width > MAX_IMAGE_SIDE or height > MAX_IMAGE_SIDE:
        raise ValueError(f"{where}.data: the image is {width}x{height}; at most "
                         f"{MAX_IMAGE_SIDE}x{MAX_IMAGE_SIDE} pixels")
    size = {}
    for name in ("width", "height"):
        if item.get(name) is not None:
            size[name] = _length(item[name], f"{where}.{name}", percent=True, low=0.01, high=100_000)
    return ImageWatermark(
        data=data, mime=IMAGE_FORMATS[fmt], pixel_width=width, pixel_height=height,
        opacity=_opacity(item, where), width=size.get("width"), height=size.get("height"),
        horizontal=_choice(item.get("horizontalAlign", "center"), f"{where}.horizontalAlign", HORIZONTAL),
        vertical=_vertical(item.get("verticalAlign", "center"), f"{where}.verticalAlign"),
        margin=_length(item.get("margin", 0), f"{where}.margin", percent=False, low=0, high=5000).value,
    )


def _image_data(value: Any, where: str) -> bytes:
    if not isinstance(value, str) or not value:
        raise ValueError(f"{where}: expected a base64 string")
    if value.startswith("data:"):
        value = value.partition(",")[2]
    if len(value) > MAX_IMAGE_BYTES * 4 // 3 + 16:
        raise ValueError(f"{where}: the image is larger than {MAX_IMAGE_BYTES // (1024 * 1024)} MB")
    try:
        return base64.b64decode("".join(value.split()), validate=True)
    except (binascii.Error, ValueError):
        raise ValueError(f"{where}: not valid base64") from None


def _number(value: Any, where: str, low: float, high: float) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ValueError(f"{where}: expected a number, got {value!r}")
    if not low <= value <= high:
        raise ValueError(f"{where}: expected a number from {low:g} to {high:g}, got {value!r}")
    return float(value)


def _opacity(item: dict, where: str) -> float:
    return _number(item.get("opacity", 1), f"{where}.opacity", 0, 1)


def _length(value: Any, where: str, *, percent: bool, low: float, high: float) -> Length:
    """A length in points from a number (points) or a string with a unit (pt, px, in, mm, cm; % if allowed)."""
    if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value):
        result = Length(float(value))
    else:
        match = _LENGTH.match(value) if isinstance(value, str) else None
        unit = (match.group(2) or "").lower() if match else ""
        if match is None or (unit == "%" and not percent):
            units = "pt, px, in, mm, cm" + (" or %" if percent else "")
            raise ValueError(f"{where}: expected a number of points or a length with a unit ({units}), "
                             f"like \"16pt\", got {value!r}")
        number = float(match.group(1))
        result = Length(number, True) if unit == "%" else Length(number * _UNITS_PT[unit])
    if not result.percent and not low <= result.value <= high:
        raise ValueError(f"{where}: expected a length from {low:g} to {high:g} points, got {value!r}")
    if result.percent and not 0 < result.value <= 1000:
        raise ValueError(f"{where}: expected a percentage above 0 and at most 1000, got {value!r}")
    return result


def _color(value: Any, where: str) -> tuple[int, int, int]:
    if not isinstance(value, str):
        raise ValueError(f"{where}: expected a CSS color string like \"red\" or \"#ff0000\", got {value!r}")
    try:
        rgb = ImageColor.getrgb(value.strip())
    except ValueError:
        raise ValueError(f"{where}: unknown color {value!r}; use a CSS color name or #rrggbb") from None
    return tuple(rgb[:3])  # type: ignore[return-value]


def _family(value: Any, where: str) -> str:
    if not isinstance(value, str) or not value.strip() or len(value) > 200:
        raise ValueError(f"{where}: expected a font family name")
    first = value.split(",")[0].strip().strip("'\"").strip()
    # font names are letters, digits, spaces and a few marks; anything else cannot name a font
    cleaned = re.sub(r"[^\w .&+-]", "", first).strip()
    if not cleaned:
        raise ValueError(f"{where}: expected a font family name, got {value!r}")
    return cleaned


def _bold(value: Any, where: str) -> bool:
    if isinstance(value, str) and value.strip().lower() in ("normal", "lighter"):
        return False
    if isinstance(value, str) and value.strip().lower() in ("bold", "bolder"):
        return True
    try:
        weight = float(value) if not isinstance(value, bool) else math.nan
    except (TypeError, ValueError):
        weight = math.nan
    if not 1 <= weight <= 1000:
        raise ValueError(f"{where}: expected \"normal\", \"bold\" or a weight from 100 to 900, got {value!r}")
    return weight >= 600


def _choice(value: Any, where: str, allowed: tuple[str, ...]) -> str:
    if isinstance(value, str) and value.strip().lower() in allowed:
        return value.strip().lower()
    raise ValueError(f"{where}: expected one of {', '.join(allowed)}, got {value!r}")


def _vertical(value: Any, where: str) -> str:
    if isinstance(value, str) and value.strip().lower() == "middle":
        return "center"
    return _choice(value, where, VERTICAL)


# ---- fonts -------------------------------------------------------------------------------------------------------

@functools.lru_cache(maxsize=64)
def _font_file(family: str, bold: bool, italic: bool) -> str | None:
    """The installed font file nearest to a family and style, by fontconfig; None without fontconfig."""
    fc_match = shutil.which("fc-match")
    if fc_match is None:
        return None
    pattern = f"{family}:weight={200 if bold else 80}:slant={100 if italic else 0}"
    try:
        found = subprocess.run([fc_match, "-f", "%{file}", pattern], capture_output=True, timeout=10,
                               check=True).stdout.decode("utf-8", "replace").strip()
    except (OSError, subprocess.SubprocessError):
        return None
    return found or None


@functools.lru_cache(maxsize=128)
def _font(family: str, bold: bool, italic: bool, size_px: float) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    path = _font_file(family, bold, italic)
    if path is not None:
        try:
            return ImageFont.truetype(path, size=max(1.0, size_px))
        except OSError:
            pass
    return ImageFont.load_default(size=max(1.0, size_px))


def _generic_family(family: str) -> str:
    name = family.lower()
    if any(word in name for word in ("mono", "consol", "courier", "code", "menlo")):
        return "monospace"
    if any(word in name for word in ("times", "serif", "georgia", "garamond", "cambria")) and "sans" not in name:
        return "serif"
    return "sans-serif"


# ---- layout in points -----------------------------------------------------------------------------------------

@dataclass(frozen=True)
class TextLayout:
    size: float                                    # font size, points
    lines: tuple[tuple[str, float, float], ...]    # (text, anchor x, baseline y) in points
    anchor: str                                    # "start", "middle" or "end": where x sits on each line
    box: tuple[float, float, float, float]         # left, top, right, bottom of the text block, points
    rotation: float = 0.0                          # degrees counter-clockwise about `center`
    center: tuple[float, float] = (0.0, 0.0)


def _measure(mark: TextWatermark) -> tuple[list[str], list[float], float, float]:
    """Lines, their widths, ascent and descent, all per point of font size."""
    font = _font(mark.font_family, mark.bold, mark.italic, _MEASURE_PX)
    lines = mark.text.split("\n")
    widths = [font.getlength(line) / _MEASURE_PX for line in lines]
    ascent: float
    descent: float
    if isinstance(font, ImageFont.FreeTypeFont):
        ascent, descent = font.getmetrics()
    else:
        ascent, descent = _MEASURE_PX * 0.8, _MEASURE_PX * 0.2
    return lines, widths, ascent / _MEASURE_PX, descent / _MEASURE_PX


def layout_text(mark: TextWatermark, page_width: float, page_height: float) -> TextLayout:
    lines, widths, ascent, descent = _measure(mark)
    line_height = ascent + descent
    if mark.diagonal:
        angle = mark.angle if mark.angle is not None else math.degrees(math.atan2(page_height, page_width))
        size = mark.font_size
        if size is None:
            diagonal = math.hypot(page_width, page_height)
            size = min(0.8 * diagonal / max(max(widths), 1e-6),
                       0.5 * min(page_width, page_height) / (line_height * len(lines)))
        block_w, block_h = max(widths) * size, line_height * size * len(lines)
        cx, cy = page_width / 2, page_height / 2
        top = cy - block_h / 2
        placed = tuple((line, cx, top + (i * line_height + ascent) * size) for i, line in enumerate(lines))
        return TextLayout(size, placed, "middle", (cx - block_w / 2, top, cx + block_w / 2, top + block_h),
                          angle, (cx, cy))
    size = mark.font_size or 12.0
    block_w, block_h = max(widths) * size, line_height * size * len(lines)
    left = {"left": mark.margin, "center": (page_width - block_w) / 2,
            "right": page_width - mark.margin - block_w}[mark.horizontal]
    top = {"top": mark.margin, "center": (page_height - block_h) / 2,
           "bottom": page_height - mark.margin - block_h}[mark.vertical]
    x, anchor = {"left": (left, "start"), "center": (left + block_w / 2, "middle"),
                 "right": (left + block_w, "end")}[mark.horizontal]
    placed = tuple((line, x, top + (i * line_height + ascent) * size) for i, line in enumerate(lines))
    return TextLayout(size, placed, anchor, (left, top, left + block_w, top + block_h))


def layout_image(mark: ImageWatermark, page_width: float, page_height: float) -> tuple[float, float, float, float]:
    """(left, top, width, height) in points."""
    aspect = mark.pixel_height / mark.pixel_width
    if mark.width is not None and mark.height is not None:
        width, height = mark.width.points(page_width), mark.height.points(page_height)
    elif mark.width is not None:
        width = mark.width.points(page_width)
        height = width * aspect
    elif mark.height is not None:
        height = mark.height.points(page_height)
        width = height / aspect
    else:
        width, height = float(mark.pixel_width), float(mark.pixel_height)
        shrink = min(1.0, (page_width - 2 * mark.margin) / width, (page_height - 2 * mark.margin) / height)
        width, height = width * max(shrink, 0.01), height * max(shrink, 0.01)
    left = {"left": mark.margin, "center": (page_width - width) / 2,
            "right": page_width - mark.margin - width}[mark.horizontal]
    top = {"top": mark.margin, "center": (page_height - height) / 2,
           "bottom": page_height - mark.margin - height}[mark.vertical]
    return left, top, width, height


# ---- raster ------------------------------------------------------------------------------------------------------

_PILLOW_ANCHOR = {"start": "ls", "middle": "ms", "end": "rs"}


def draw_watermarks(image: Image.Image, watermarks: list[Watermark], plan: RasterPlan) -> Image.Image:
    """Draw watermarks onto `image`, the region `plan` describes of the page, and return it (RGB)."""
    if not watermarks:
        return image
    if image.mode != "RGB":
        image = image.convert("RGB")
    elif image.readonly:
        image = image.copy()
    for mark in watermarks:
        if isinstance(mark, TextWatermark):
            _draw_text(image, mark, plan)
        else:
            _draw_image(image, mark, plan)
    return image


def _with_opacity(mask: Image.Image, opacity: float) -> Image.Image:
    if opacity >= 1:
        return mask
    lut = [round(v * opacity) for v in range(256)]
    return mask.point(lut)


def _draw_text(image: Image.Image, mark: TextWatermark, plan: RasterPlan) -> None:
    """Draw only what falls inside the produced region, so memory stays bounded by the region (a tile of a
    hugely zoomed page never allocates the whole page) and every tile computes its pixels exactly as the whole
    page does (tiles stitch seamlessly). Glyphs are rasterized at most MAX_GLYPH_PX high and resampled beyond."""
    layout = layout_text(mark, plan.page_width, plan.page_height)
    kx, ky = plan.pixels_per_point_x, plan.pixels_per_point_y
    size_px = layout.size * ky
    if size_px < 1:
        return  # thinner than a pixel: nothing visible to draw
    ratio = min(1.0, MAX_GLYPH_PX / size_px)   # mask pixels per page pixel
    font = _font(mark.font_family, mark.bold, mark.italic, round(size_px * ratio * 2) / 2)
    mx, my = kx * ratio, ky * ratio             # mask pixels per point
    left, top, right, bottom = layout.box
    pad = math.ceil(size_px * ratio * 0.5) + 2  # glyphs may overhang their advance box
    block = (math.floor(left * mx) - pad, math.floor(top * my) - pad,
             math.ceil(right * mx) + pad, math.ceil(bottom * my) + pad)   # in mask pixels
    region = (plan.left, plan.top, plan.left + image.width, plan.top + image.height)   # in page pixels
    if not layout.rotation and ratio == 1:
        area = _intersect(block, region)
        if area is not None:
            mask = _with_opacity(_text_mask(layout, font, mx, my, area), mark.opacity)
            image.paste(mark.color, (area[0] - plan.left, area[1] - plan.top, area[2] - plan.left,
                                     area[3] - plan.top), mask)
        return
    # Turned about c and scaled by ratio: page pixel p shows mask pixel q = ratio * (c + R^-1 (p - c)). Render
    # the mask only where the region maps to (plus the resampling filter's reach), then resample it into place.
    cx, cy = layout.center[0] * kx, layout.center[1] * ky
    angle = math.radians(layout.rotation)
    cos, sin = math.cos(angle), math.sin(angle)

    def to_mask(x: float, y: float) -> tuple[float, float]:
        return (ratio * (cx + cos * (x - cx) - sin * (y - cy)), ratio * (cy + sin * (x - cx) + cos * (y - cy)))

    corners = [to_mask(x, y) for x in (region[0], region[2]) for y in (region[1], region[3])]
    reach = (math.floor(min(x for x, _ in corners)) - 3, math.floor(min(y for _, y in corners)) - 3,
             math.ceil(max(x for x, _ in corners)) + 3, math.ceil(max(y for _, y in corners)) + 3)
    area = _intersect(block, reach)
    if area is None:
        return
    # where the text block lands on the page: only that part of the region is resampled
    def to_page(u: float, v: float) -> tuple[float, float]:
        x, y = u / ratio - cx, v / ratio - cy
        return cx + cos * x + sin * y, cy - sin * x + cos * y

    landed = [to_page(u, v) for u in (block[0], block[2]) for v in (block[1], block[3])]
    target = _intersect((math.floor(min(x for x, _ in landed)) - 2, math.floor(min(y for _, y in landed)) - 2,
                         math.ceil(max(x for x, _ in landed)) + 2, math.ceil(max(y for _, y in landed)) + 2),
                        region)
    if target is None:
        return
    mask = _text_mask(layout, font, mx, my, area)
    # Pillow's affine transform maps output (u, v) to input coordinates: target pixels to mask-area pixels
    origin_x, origin_y = to_mask(target[0], target[1])
    data = (ratio * cos, -ratio * sin, origin_x - area[0], ratio * sin, ratio * cos, origin_y - area[1])
    size = (target[2] - target[0], target[3] - target[1])
    placed = mask.transform(size, Image.Transform.AFFINE, data, resample=Image.Resampling.BILINEAR)
    if placed.getbbox() is not None:
        x0, y0 = target[0] - plan.left, target[1] - plan.top
        image.paste(mark.color, (x0, y0, x0 + size[0], y0 + size[1]), _with_opacity(placed, mark.opacity))


def _intersect(a: tuple[int, int, int, int], b: tuple[int, int, int, int]) -> tuple[int, int, int, int] | None:
    box = (max(a[0], b[0]), max(a[1], b[1]), min(a[2], b[2]), min(a[3], b[3]))
    return box if box[0] < box[2] and box[1] < box[3] else None


def _text_mask(layout: TextLayout, font: ImageFont.FreeTypeFont | ImageFont.ImageFont, kx: float, ky: float,
               area: tuple[int, int, int, int]) -> Image.Image:
    """An L mask of the text lines over `area` (whole-page pixels), the text at full coverage."""
    mask = Image.new("L", (area[2] - area[0], area[3] - area[1]), 0)
    draw = ImageDraw.Draw(mask)
    for text, x, baseline in layout.lines:
        draw.text((x * kx - area[0], baseline * ky - area[1]), text, fill=255, font=font,
                  anchor=_PILLOW_ANCHOR[layout.anchor])
    return mask


DECODED_IMAGES = 4
_decoded_images: OrderedDict[str, Image.Image] = OrderedDict()


def _decoded(data: bytes) -> Image.Image:
    """The watermark image as RGBA, decoded once per process for the last few images."""
    key = hashlib.sha256(data).hexdigest()
    image = _decoded_images.pop(key, None)
    if image is None:
        with Image.open(io.BytesIO(data), formats=list(IMAGE_FORMATS)) as source:
            source.load()
            image = source.convert("RGBA")
        while len(_decoded_images) >= DECODED_IMAGES:
            _decoded_images.popitem(last=False)
    _decoded_images[key] = image
    return image


def _draw_image(image: Image.Image, mark: ImageWatermark, plan: RasterPlan) -> None:
    left, top, width, height = layout_image(mark, plan.page_width, plan.page_height)
    kx, ky = plan.pixels_per_point_x, plan.pixels_per_point_y
    x0, y0 = round(left * kx), round(top * ky)
    w, h = max(1, round(width * kx)), max(1, round(height * ky))
    tx, ty = x0 - plan.left, y0 - plan.top
    if tx >= image.width or ty >= image.height or tx + w <= 0 or ty + h <= 0:
        return
    # only the part inside the produced region is resized, so a large watermark on a small tile stays cheap
    cx0, cy0 = max(0, -tx), max(0, -ty)
    cx1, cy1 = min(w, image.width - tx), min(h, image.height - ty)
    source = _decoded(mark.data)
    sx, sy = source.width / w, source.height / h
    part = source.resize((cx1 - cx0, cy1 - cy0), Image.Resampling.LANCZOS,
                         box=(cx0 * sx, cy0 * sy, cx1 * sx, cy1 * sy))
    alpha = _with_opacity(part.getchannel("A"), mark.opacity)
    image.paste(part.convert("RGB"), (tx + cx0, ty + cy0), alpha)


# ---- SVG ----------------------------------------------------------------------------------------------------------

def _num(value: float) -> str:
    return f"{value:.3f}".rstrip("0").rstrip(".") or "0"


def svg_overlay(watermarks: list[Watermark], page_width: float, page_height: float) -> str:
    """SVG elements (in page units, i.e. a viewBox in points) drawing the watermarks; "" without any."""
    parts = []
    for mark in watermarks:
        if isinstance(mark, TextWatermark):
            parts.append(_svg_text(mark, page_width, page_height))
        else:
            parts.append(_svg_image(mark, page_width, page_height))
    if not parts:
        return ""
    return '<g class="pageturn-watermarks" pointer-events="none">' + "".join(parts) + "</g>"


def _svg_text(mark: TextWatermark, page_width: float, page_height: float) -> str:
    layout = layout_text(mark, page_width, page_height)
    color = "#%02x%02x%02x" % mark.color
    family = f"'{mark.font_family}', {_generic_family(mark.font_family)}"
    attributes = [f'fill="{color}"', f"font-family={quoteattr(family)}", f'font-size="{_num(layout.size)}"',
                  f'text-anchor="{layout.anchor}"']
    if mark.opacity < 1:
        attributes.append(f'opacity="{_num(mark.opacity)}"')
    if mark.bold:
        attributes.append('font-weight="bold"')
    if mark.italic:
        attributes.append('font-style="italic"')
    if layout.rotation:
        attributes.append(f'transform="rotate({_num(-layout.rotation)} {_num(layout.center[0])} '
                          f'{_num(layout.center[1])})"')
    lines = "".join(f'<text x="{_num(x)}" y="{_num(y)}" xml:space="preserve">{escape(text)}</text>'
                    for text, x, y in layout.lines if text)
    return f"<g {' '.join(attributes)}>{lines}</g>"


def _svg_image(mark: ImageWatermark, page_width: float, page_height: float) -> str:
    left, top, width, height = layout_image(mark, page_width, page_height)
    mime, data = mark.mime, mark.data
    if mime == "image/bmp":  # not every browser shows BMP inside SVG
        out = io.BytesIO()
        _decoded(data).save(out, format="PNG")
        mime, data = "image/png", out.getvalue()
    href = f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"
    opacity = f' opacity="{_num(mark.opacity)}"' if mark.opacity < 1 else ""
    return (f'<image x="{_num(left)}" y="{_num(top)}" width="{_num(width)}" height="{_num(height)}" '
            f'preserveAspectRatio="none"{opacity} xlink:href="{href}"/>')
