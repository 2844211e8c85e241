"""Raster image sources through Pillow: TIFF (every frame is a page), PNG, JPEG, GIF, BMP and WebP (the first
frame is the page).

Page units: an image page measures its pixels at the image's own resolution, in points:
`width_pt = pixel_width * 72 / dpi_x` (and likewise for the height), where the resolution comes from the file
(JFIF/EXIF density, PNG pHYs, TIFF resolution tags) and is 72 dpi when absent or implausible. So a 300 dpi scan of
a letter page is 612 x 792 points like the PDF of that page, and `rasterResolution` scales images exactly as it
scales PDF pages; a plain 72 dpi picture at the default 150 dpi is shown at 150/72 of its pixel size. The info
also carries `pixelWidth`, `pixelHeight` and `dpi` per page for callers that prefer native pixels: rendering
with dpi=None (jobs.render_raster) gives exactly those pixels times the scale, which is what a viewer wants for a
large photo (a 6000 px wide 72 dpi camera picture would otherwise be upscaled past any pixel limit). A fax
TIFF with a non-square resolution (204 x 98 dpi) gets its true aspect ratio in points, and at any given dpi.

EXIF orientation is applied (a JPEG stored 320x200 with Orientation 6 is a 200x320 page). Images with alpha are
flattened on white. An image whose frame has more pixels than `LIMITS.max_image_pixels` raises ImageTooLarge
before it is decoded (this also stops decompression bombs).
"""
from __future__ import annotations

import os
import warnings
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any, cast

import pi_heif
from PIL import Image, ImageOps

from .errors import CorruptDocument, EngineError, ImageTooLarge, PageOutOfRange, UnsupportedDocument
from .formats import PILLOW_DECODERS
from .raster import LIMITS, RasterPlan

FORMATS = PILLOW_DECODERS   # from the one format table (engines/formats.py)
# HEIC/HEIF photos: pi-heif (BSD; its wheels bundle only LGPL libheif and libde265, no GPL encoder) adds Pillow's
# "HEIF" decoder
pi_heif.register_heif_opener()
MULTI_PAGE_FORMATS = ("TIFF",)
MAX_FRAMES = 10_000
DEFAULT_DPI = 72.0
OPEN_IMAGES = 4
_SWAPPING_ORIENTATIONS = (5, 6, 7, 8)  # EXIF orientations that turn the image by 90 degrees


@dataclass(frozen=True)
class FramePage:
    pixel_width: int     # as displayed (after EXIF orientation)
    pixel_height: int
    dpi_x: float
    dpi_y: float

    @property
    def size(self) -> tuple[float, float]:
        return (round(self.pixel_width * 72 / self.dpi_x, 3), round(self.pixel_height * 72 / self.dpi_y, 3))


def _plausible_dpi(value: Any) -> float:
    try:
        dpi = float(value)
    except (TypeError, ValueError):
        return DEFAULT_DPI
    if not 10 <= dpi <= 10_000:
        return DEFAULT_DPI
    # PNG stores whole pixels per metre, so 144 dpi reads back as 143.9992: snap such values to the integer
    return float(round(dpi)) if abs(dpi - round(dpi)) < 0.05 else dpi


def _too_large() -> ImageTooLarge:
    return ImageTooLarge(f"The image has more than {LIMITS.max_image_pixels} pixels, the most this server accepts")


def _check_pixels(width: int, height: int) -> None:
    if width * height > LIMITS.max_image_pixels:
        raise ImageTooLarge(f"The image is {width}x{height} pixels; at most {LIMITS.max_image_pixels} pixels "
                            f"per page are accepted")


# how Pillow says a file is damaged: besides OSError and friends, a TIFF frame without dimensions is a TypeError
DAMAGED = (OSError, ValueError, SyntaxError, EOFError, TypeError, KeyError)


def follow_limits() -> None:
    """Pillow's own bomb check uses the same limit (set when the limits are, so a process's Pillow never keeps a
    limit that is no longer the engine's)."""
    Image.MAX_IMAGE_PIXELS = LIMITS.max_image_pixels


follow_limits()  # the default limits, until a worker's settings arrive


class OpenImage:
    """An opened (not yet decoded) image file and the size of each of its pages."""

    def __init__(self, path: str):
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("error", Image.DecompressionBombWarning)
                self.image = Image.open(path, formats=FORMATS)
        except FileNotFoundError:
            raise EngineError("The document file is missing") from None
        except (Image.DecompressionBombError, Image.DecompressionBombWarning):
            raise _too_large() from None
        except Image.UnidentifiedImageError:
            raise UnsupportedDocument("The file is not a TIFF, PNG, JPEG, GIF, BMP or WebP image") from None
        except DAMAGED:
            raise CorruptDocument("The image is damaged and cannot be read") from None
        try:
            frames = getattr(self.image, "n_frames", 1) if self.image.format in MULTI_PAGE_FORMATS else 1
        except DAMAGED:
            self.image.close()
            raise CorruptDocument("The image is damaged and cannot be read") from None
        if frames > MAX_FRAMES:
            self.image.close()
            raise UnsupportedDocument(f"The image has {frames} pages; at most {MAX_FRAMES} are supported")
        self.path = path
        self.page_count = max(1, frames)
        self._pages: dict[int, FramePage] = {}

    def _seek(self, index: int) -> None:
        if not 0 <= index < self.page_count or isinstance(index, bool):
            raise PageOutOfRange(f"Page {index} is outside the image (pages 0 to {self.page_count - 1})")
        try:
            if self.image.tell() != index:
                self.image.seek(index)
        except DAMAGED:
            raise CorruptDocument(f"Page {index} of the image cannot be read") from None

    def page(self, index: int) -> FramePage:
        found = self._pages.get(index)
        if found is None:
            self._seek(index)
            width, height = self.image.size
            dpi = self.image.info.get("dpi") or (DEFAULT_DPI, DEFAULT_DPI)
            dpi_x, dpi_y = _plausible_dpi(dpi[0]), _plausible_dpi(dpi[1] if len(dpi) > 1 else dpi[0])
            if self._orientation() in _SWAPPING_ORIENTATIONS:
                width, height, dpi_x, dpi_y = height, width, dpi_y, dpi_x
            found = self._pages[index] = FramePage(width, height, dpi_x, dpi_y)
        return found

    def _orientation(self) -> int:
        try:
            if self.image.format == "PNG":
                # Pillow's PNG getexif decodes the whole image to look for an eXIf chunk after the pixels: only
                # one before them is read, so this open (cached) image never holds decoded pixels
                exif = Image.Exif()
                if self.image.info.get("exif"):
                    exif.load(self.image.info["exif"])
                return int(exif.get(0x0112, 1))
            return int(self.image.getexif().get(0x0112, 1))
        except Exception:  # a damaged EXIF block is ignored, as viewers do
            return 1

    def decode(self, index: int) -> Image.Image:
        """The page as an RGB (or L) image, oriented, alpha flattened on white. Decoded from a handle of its
        own, so the pixels live only in what this returns (the byte-bounded cache below decides how long)."""
        self._seek(index)
        _check_pixels(*self.image.size)
        orientation = self._orientation()
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("error", Image.DecompressionBombWarning)
                image = Image.open(self.path, formats=FORMATS)
                if index:
                    image.seek(index)
                image.load()  # a single-frame file is closed by this; a TIFF's stays open for its frames
                if orientation != 1:
                    frame = ImageOps.exif_transpose(image)
                elif self.page_count > 1:
                    frame = image.copy()
                else:
                    frame = image  # no copy: a 14000 px square RGBA page is 784 MB
                if frame is not image:
                    image.close()
        except FileNotFoundError:
            raise EngineError("The document file is missing") from None
        except (Image.DecompressionBombError, Image.DecompressionBombWarning):
            raise _too_large() from None
        except DAMAGED:
            raise CorruptDocument(f"Page {index} of the image cannot be decoded") from None
        return _to_display_mode(frame)

    def close(self) -> None:
        self.image.close()


def _to_display_mode(image: Image.Image) -> Image.Image:
    if image.mode in ("RGB", "L"):
        return image
    if image.mode == "1":
        return image.convert("L")
    if image.mode in ("I;16", "I;16B", "I;16L", "I;16N", "I", "F"):
        # 16-bit and float greys: scale the used range to 8 bits instead of clipping everything to white
        image = image.convert("F")
        low, high = cast(tuple[float, float], image.getextrema())  # one band: (min, max)
        span = (high - low) or 1.0
        return image.point(lambda v: (v - low) * 255.0 / span).convert("L")
    if image.mode == "P":
        image = image.convert("RGBA" if "transparency" in image.info else "RGB")
    if image.mode in ("RGBA", "LA", "PA", "RGBa", "La"):
        if image.mode != "RGBA":
            image = image.convert("RGBA")
        background = Image.new("RGB", image.size, (255, 255, 255))
        background.paste(image, mask=image.getchannel("A"))
        image.close()  # the RGBA pixels go now rather than when the caller lets go
        return background
    return image.convert("RGB")  # CMYK, YCbCr, LAB, ...


_open: OrderedDict[tuple, OpenImage] = OrderedDict()   # headers only: a few KB each
_decoded: OrderedDict[tuple, Image.Image] = OrderedDict()


def _image_bytes(image: Image.Image) -> int:
    return image.width * image.height * len(image.getbands())


def open_image(path: str) -> OpenImage:
    try:
        stat = os.stat(path)
    except OSError:
        raise EngineError("The document file is missing") from None
    key = (os.path.realpath(path), stat.st_mtime_ns, stat.st_size)
    found = _open.pop(key, None)
    if found is None:
        found = OpenImage(path)
        while len(_open) >= OPEN_IMAGES:
            _open.popitem(last=False)[1].close()
    _open[key] = found
    return found


def _decoded_page(path: str, page: int) -> Image.Image:
    stat = os.stat(path)
    key = (os.path.realpath(path), stat.st_mtime_ns, stat.st_size, page)
    image = _decoded.pop(key, None)
    if image is None:
        image = open_image(path).decode(page)
    # bounded by bytes: one huge frame must not sit beside others; a frame over the whole budget is not kept
    budget = LIMITS.decoded_cache_mb * 1024 * 1024
    size = _image_bytes(image)
    while _decoded and sum(map(_image_bytes, _decoded.values())) + size > budget:
        _decoded.popitem(last=False)
    if size <= budget:
        _decoded[key] = image
    return image


def close_all() -> None:
    _decoded.clear()
    while _open:
        _open.popitem()[1].close()


# ---- jobs ------------------------------------------------------------------------------------------------------

def info(path: str) -> dict[str, Any]:
    image = open_image(path)
    pages = []
    for index in range(image.page_count):
        frame = image.page(index)
        width, height = frame.size
        pages.append({"width": width, "height": height, "pixelWidth": frame.pixel_width,
                      "pixelHeight": frame.pixel_height, "dpi": [frame.dpi_x, frame.dpi_y]})
    return {"pageCount": image.page_count, "pages": pages}


def page_size(path: str, page: int) -> tuple[float, float]:
    return open_image(path).page(page).size


def page_dpi(path: str, page: int) -> tuple[float, float]:
    """The resolution (x, y) at which the page's points are its native pixels."""
    frame = open_image(path).page(page)
    return frame.pixel_width * 72 / frame.size[0], frame.pixel_height * 72 / frame.size[1]


def render(path: str, page: int, plan: RasterPlan) -> Image.Image:
    """The plan's region of the page scaled to the plan's full size (Lanczos), RGB or L."""
    source = _decoded_page(path, page)
    if (plan.width, plan.height) == source.size and not plan.is_tile:
        return source.copy()  # the decoded page stays cached: callers may draw on what they get
    sx, sy = source.width / plan.full_width, source.height / plan.full_height
    box = (plan.left * sx, plan.top * sy, (plan.left + plan.width) * sx, (plan.top + plan.height) * sy)
    # reducing_gap makes big downscales fast (a box reduce first) with no visible loss
    return source.resize((plan.width, plan.height), Image.Resampling.LANCZOS, box=box, reducing_gap=3.0)
