"""Lossless PNG encoding at the speed of the renderer.

Pillow's PNG writer spends most of a page's time in zlib and in its per-row adaptive filter search: about ten times
what PDFium needs to draw a 150-dpi text page. This writer produces the same pixels faster:

- a page whose pixels are all grey (R = G = B everywhere: text, line art, scans) is written as an 8-bit greyscale
  PNG, one third of the bytes to compress; it decodes to exactly the same RGB values;
- rows are not filtered (filter type 0): on rendered pages the filter search costs more than it saves;
- deflate is ISA-L's (package `isal`), several times faster than zlib at its fastest level for a similar size.

Only 8-bit RGB and L images take this path, at levels 1-3 (ISA-L's levels); anything else, or a machine without
`isal`, goes through Pillow unchanged.
"""
from __future__ import annotations

import importlib
import io
import struct
import zlib
from collections.abc import Iterator
from types import ModuleType

from PIL import Image, ImageChops

isal_zlib: ModuleType | None
try:
    isal_zlib = importlib.import_module("isal.isal_zlib")
except ImportError:  # the package is a declared dependency; without it pages are still correct, only slower
    isal_zlib = None

FAST_LEVELS = (1, 2, 3)
_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_COLOUR_TYPE = {"L": 0, "RGB": 2}


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(data, zlib.crc32(kind)))


STRIP_BYTES = 1 << 20  # pixels are copied, tested and compressed about this many bytes at a time


def _strips(image: Image.Image) -> Iterator[Image.Image]:
    """The image in horizontal strips of about STRIP_BYTES: a page's pixels are never copied whole (at scale 2 a
    page is 25 MB; whole copies for the grey test, the mode change and the filter bytes made a worker peak at
    four times that)."""
    width, height = image.size
    rows = max(1, STRIP_BYTES // max(1, width * len(image.getbands())))
    for top in range(0, height, rows):
        yield image.crop((0, top, width, min(height, top + rows)))


def _strip_is_grey(strip: Image.Image) -> bool:
    red, green, blue = strip.split()
    return (ImageChops.difference(red, green).getbbox() is None
            and ImageChops.difference(green, blue).getbbox() is None)


def is_grey(image: Image.Image) -> bool:
    """True when an RGB image's three channels are byte for byte equal (so mode L loses nothing)."""
    return all(_strip_is_grey(strip) for strip in _strips(image))


def _rows(data: bytes, stride: int, height: int) -> bytes:
    """The image's scanlines, each preceded by its filter type byte 0 (none)."""
    view = memoryview(data)
    parts: list[bytes | memoryview] = []
    for start in range(0, stride * height, stride):
        parts.append(b"\0")
        parts.append(view[start:start + stride])
    return b"".join(parts)


def fast_png(image: Image.Image, level: int) -> bytes:
    """An 8-bit PNG of an RGB or L image without filtering, deflated by ISA-L at level 1-3, strip by strip."""
    assert isal_zlib is not None and image.mode in _COLOUR_TYPE
    mode = "L" if image.mode == "L" or is_grey(image) else "RGB"
    stride = image.width * (1 if mode == "L" else 3)
    header = struct.pack(">IIBBBBB", image.width, image.height, 8, _COLOUR_TYPE[mode], 0, 0, 0)
    compressor = isal_zlib.compressobj(level)
    parts = []
    for strip in _strips(image):
        if strip.mode != mode:  # a grey RGB page: its first channel is the grey
            strip = strip.getchannel(0)
        parts.append(compressor.compress(_rows(strip.tobytes(), stride, strip.height)))
    parts.append(compressor.flush())
    return (_SIGNATURE + _chunk(b"IHDR", header) + _chunk(b"IDAT", b"".join(parts))
            + _chunk(b"IEND", b""))


def encode(image: Image.Image, level: int) -> bytes:
    """A lossless PNG of the image; `level` is a zlib-style compression level (0 = stored, 9 = smallest)."""
    if isal_zlib is not None and level in FAST_LEVELS and image.mode in _COLOUR_TYPE:
        return fast_png(image, level)
    out = io.BytesIO()
    image.save(out, format="PNG", compress_level=level)
    return out.getvalue()
