"""Raster geometry and encoding shared by the PDF and image engines.

Units: a page's size is given in page units (PDF points, 1/72 inch); an output pixel size is
`round(points * dpi / 72 * scale)`. A tile is a rectangle in that scaled pixel space, trimmed at the right and
bottom edges. A thumbnail is the page scaled, keeping its aspect ratio, to fit inside a width x height box.

Every request is checked against `LIMITS` before anything is allocated, so no request can make a worker hold
gigabytes of pixels: the produced region may not exceed `max_output_pixels`.
"""
from __future__ import annotations

import io
import math
from dataclasses import dataclass
from typing import Union

from PIL import Image

from . import png

MAX_SIDE = 65_000                # JPEG cannot encode wider than 65 535 pixels
MAX_VIRTUAL_SIDE = 1_000_000     # a tiled page may be larger than what one answer holds, but not unbounded
FORMATS = ("png", "jpeg")


@dataclass
class Limits:
    max_output_pixels: int = 40_000_000   # one page, tile or thumbnail: about 120 MB of RGB at most
    max_image_pixels: int = 100_000_000   # a source image (one frame) larger than this is refused
    decoded_cache_mb: int = 256           # decoded image pages a worker keeps for its next tiles, in MiB
    png_compress_level: int = 1           # 1-3: fast writer (engines.png, ISA-L); 0 or 4-9: Pillow's zlib at that level
    svg_timeout: float = 60.0             # seconds pdftocairo may take for one page
    svg_memory_mb: int = 2048             # address-space limit of the pdftocairo process / the SVG helper
    svg_helper: bool = True               # SVG from a poppler process that stays loaded (engines.poppler_svg)


LIMITS = Limits()


def configure(**settings: object) -> None:
    """Change limits (in a worker at start-up); unknown names are an error, not silently ignored."""
    for name, value in settings.items():
        if not hasattr(LIMITS, name):
            raise ValueError(f"unknown engine setting {name!r}")
        setattr(LIMITS, name, type(getattr(LIMITS, name))(value))


@dataclass(frozen=True)
class RasterPlan:
    """What to draw: the whole page (page_width x page_height points) scaled to full_width x full_height
    pixels, of which the region (left, top, width, height) is produced. Without a tile it is the whole page."""

    page_width: float
    page_height: float
    full_width: int
    full_height: int
    left: int
    top: int
    width: int
    height: int

    @property
    def is_tile(self) -> bool:
        return (self.left, self.top, self.width, self.height) != (0, 0, self.full_width, self.full_height)

    @property
    def pixels_per_point_x(self) -> float:
        return self.full_width / self.page_width

    @property
    def pixels_per_point_y(self) -> float:
        return self.full_height / self.page_height


def _positive_number(name: str, value: object, low: float, high: float) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ValueError(f"{name} must be a number, got {value!r}")
    if not low <= value <= high:
        raise ValueError(f"{name} must be between {low:g} and {high:g}, got {value!r}")
    return float(value)


def _positive_int(name: str, value: object, low: int = 1, high: int = MAX_VIRTUAL_SIDE) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ValueError(f"{name} must be an integer from {low} to {high}, got {value!r}")
    return value


Dpi = Union[float, tuple[float, float]]


def pixel_size(width_pt: float, height_pt: float, dpi: Dpi, scale: float = 1.0) -> tuple[int, int]:
    """The pixel size of a whole page of width_pt x height_pt points at dpi (one number, or (x, y) for an image
    rendered at its own, possibly non-square, resolution), times scale."""
    dpi_x, dpi_y = (dpi, dpi) if not isinstance(dpi, (tuple, list)) else tuple(dpi)
    dpi_x = _positive_number("dpi", dpi_x, 1, 10_000)
    dpi_y = _positive_number("dpi", dpi_y, 1, 10_000)
    scale = _positive_number("scale", scale, 1e-4, 1e4)
    return (max(1, round(width_pt * dpi_x / 72.0 * scale)), max(1, round(height_pt * dpi_y / 72.0 * scale)))


def fit_size(width_pt: float, height_pt: float, max_width: int, max_height: int) -> tuple[int, int]:
    """The largest pixel size with the page's aspect ratio that fits inside max_width x max_height."""
    max_width = _positive_int("thumbnail width", max_width)
    max_height = _positive_int("thumbnail height", max_height)
    ratio = min(max_width / width_pt, max_height / height_pt)
    return (min(max_width, max(1, round(width_pt * ratio))), min(max_height, max(1, round(height_pt * ratio))))


def check_output(width: int, height: int, what: str = "the requested image") -> None:
    """Refuse a produced region over the pixel or side limits, with a message naming the sizes."""
    if width > MAX_SIDE or height > MAX_SIDE:
        raise ValueError(f"{what} would be {width}x{height} pixels; a side may be at most {MAX_SIDE} pixels")
    if width * height > LIMITS.max_output_pixels:
        raise ValueError(f"{what} would be {width}x{height} = {width * height} pixels; "
                         f"at most {LIMITS.max_output_pixels} pixels are produced at once")


def plan(width_pt: float, height_pt: float, *, dpi: Dpi = 150, scale: float = 1.0,
         tile: tuple[int, int, int, int] | list[int] | None = None,
         fit: tuple[int, int] | list[int] | None = None) -> RasterPlan:
    """Check a raster request and say what to draw. `fit` (thumbnail) ignores dpi and scale; `tile` is
    (x, y, width, height) in scaled pixels, trimmed to the page; tile and fit do not combine."""
    if width_pt <= 0 or height_pt <= 0:
        raise ValueError(f"the page has no area ({width_pt}x{height_pt} points)")
    if fit is not None:
        if tile is not None:
            raise ValueError("a thumbnail cannot also be a tile")
        if len(fit) != 2:
            raise ValueError(f"fit must be (width, height), got {fit!r}")
        full_w, full_h = fit_size(width_pt, height_pt, fit[0], fit[1])
    else:
        full_w, full_h = pixel_size(width_pt, height_pt, dpi, scale)
    if full_w > MAX_VIRTUAL_SIDE or full_h > MAX_VIRTUAL_SIDE:
        raise ValueError(f"the scaled page would be {full_w}x{full_h} pixels; "
                         f"a side may be at most {MAX_VIRTUAL_SIDE} pixels")
    left, top, width, height = 0, 0, full_w, full_h
    if tile is not None:
        if len(tile) != 4:
            raise ValueError(f"tile must be (x, y, width, height), got {tile!r}")
        x = _positive_int("tile x", tile[0], 0)
        y = _positive_int("tile y", tile[1], 0)
        w = _positive_int("tile width", tile[2])
        h = _positive_int("tile height", tile[3])
        if x >= full_w or y >= full_h:
            raise ValueError(f"the tile origin ({x}, {y}) is outside the {full_w}x{full_h} page")
        left, top, width, height = x, y, min(w, full_w - x), min(h, full_h - y)
    check_output(width, height, "the tile" if tile is not None else "the page image")
    return RasterPlan(float(width_pt), float(height_pt), full_w, full_h, left, top, width, height)


def encode(image: Image.Image, fmt: str, quality: int = 85) -> bytes:
    """PNG (lossless, level from LIMITS; see engines.png) or JPEG (quality 1-100, baseline)."""
    if fmt == "png":
        return png.encode(image, LIMITS.png_compress_level)
    out = io.BytesIO()
    if fmt == "jpeg":
        quality = _positive_int("quality", quality, 1, 100)
        if image.mode not in ("RGB", "L"):
            image = image.convert("RGB")
        image.save(out, format="JPEG", quality=quality)
    else:
        raise ValueError(f"format must be one of {', '.join(FORMATS)}, got {fmt!r}")
    return out.getvalue()
