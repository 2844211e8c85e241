"""Building output documents from pages of PDF and image sources: one PDF, one multi-page TIFF, headers and
footers, and the OCR text layer. Pure functions over files (no HTTP, no sessions); they run in render worker
processes, so they are bounded by the pool's memory cap and job timeouts.

- PDF pages are copied object by object with pikepdf (qpdf): vector content, fonts and text stay as they were,
  nothing is rasterised. Encrypted sources are opened with their password; the output is not encrypted.
- Image pages are embedded at their own pixels and resolution: a JPEG's bytes as they are (DCTDecode), other
  images losslessly (Flate), bilevel images as 1-bit.
- TIFF pages: bilevel images with CCITT Group 4, everything else with Deflate (lossless).

A part is {"path", "kind": "pdf"|"image", "password", "pages": [0-based indices]}.
"""
from __future__ import annotations

import io
import re
import zlib
from pathlib import Path
from typing import Any, TypedDict

import pikepdf
from PIL import Image, ImageChops, ImageFont, ImageOps

from . import images, pdf
from .errors import CorruptDocument, PageOutOfRange, PasswordRequired, UnsupportedDocument
from .raster import LIMITS, fit_size, pixel_size
from .raster import plan as raster_plan


# streams are copied as they are: compress_streams makes qpdf decode and re-deflate streams it considers
# uncompressed (ASCII85-wrapped images, ~1 s for a scanned page); the streams made here are compressed already
SAVE_OPTIONS: dict[str, Any] = {"compress_streams": False, "stream_decode_level": pikepdf.StreamDecodeLevel.none,
                                "object_stream_mode": pikepdf.ObjectStreamMode.generate}


class Part(TypedDict):
    path: str
    kind: str
    password: str | None
    pages: list[int]


# ---- PDF ----------------------------------------------------------------------------------------------------
def _open_pdf(path: str, password: str | None) -> pikepdf.Pdf:
    try:
        return pikepdf.open(path, password=password or "")
    except pikepdf.PasswordError:
        raise PasswordRequired("Document requires a password" if not password
                               else "The password does not open this document") from None
    except (pikepdf.PdfError, ValueError, OSError) as exc:
        raise CorruptDocument(f"The document is not a readable PDF ({str(exc)[:120]})") from None


def _image_page(out: pikepdf.Pdf, path: str, index: int) -> None:
    """Append one image frame as a page of its own size in points, its pixels unchanged."""
    width_pt, height_pt = images.page_size(path, index)
    with Image.open(path) as source:
        source.seek(index)
        jpeg_as_is = source.format == "JPEG" and source.mode in ("RGB", "L") and \
            (source.getexif().get(0x0112, 1) in (1, None))
        if jpeg_as_is:
            with open(path, "rb") as handle:
                data = handle.read()
            w, h = source.size
            colorspace = pikepdf.Name.DeviceRGB if source.mode == "RGB" else pikepdf.Name.DeviceGray
            stream = pikepdf.Stream(out, data, Type=pikepdf.Name.XObject, Subtype=pikepdf.Name.Image,
                                    Width=w, Height=h, ColorSpace=colorspace, BitsPerComponent=8,
                                    Filter=pikepdf.Name.DCTDecode)
        else:
            frame = ImageOps.exif_transpose(source) if source.format != "TIFF" else source.copy()
            frame = _flat(frame)
            w, h = frame.size
            bits = 1 if frame.mode == "1" else 8
            colorspace = pikepdf.Name.DeviceRGB if frame.mode == "RGB" else pikepdf.Name.DeviceGray
            stream = pikepdf.Stream(out, zlib.compress(frame.tobytes(), 6), Type=pikepdf.Name.XObject,
                                    Subtype=pikepdf.Name.Image, Width=w, Height=h, ColorSpace=colorspace,
                                    BitsPerComponent=bits, Filter=pikepdf.Name.FlateDecode)
    page = out.add_blank_page(page_size=(width_pt, height_pt))
    page.Resources = pikepdf.Dictionary(XObject=pikepdf.Dictionary(Im0=stream))
    page.Contents = out.make_stream(f"q {width_pt:.4f} 0 0 {height_pt:.4f} 0 0 cm /Im0 Do Q".encode())


def _flat(frame: Image.Image) -> Image.Image:
    """1-bit, 8-bit grey or RGB on white (transparency composited, palettes expanded)."""
    if frame.mode in ("1", "L", "RGB"):
        return frame
    if frame.mode in ("RGBA", "LA", "PA") or (frame.mode == "P" and "transparency" in frame.info):
        rgba = frame.convert("RGBA")
        background = Image.new("RGB", rgba.size, "white")
        background.paste(rgba, mask=rgba.getchannel("A"))
        return background
    if frame.mode in ("I;16", "I;16B", "I;16L", "I", "F"):
        return frame.convert("L")
    return frame.convert("RGB")


def build_pdf(parts: list[Part], out: str, *, header: dict | None = None, footer: dict | None = None
              ) -> dict[str, Any]:
    """Write the parts' pages in order into one PDF at `out`; returns {"pageCount"}."""
    target = pikepdf.new()
    opened: list[pikepdf.Pdf] = []
    try:
        for part in parts:
            if part["kind"] == "pdf":
                source = _open_pdf(part["path"], part.get("password"))
                opened.append(source)
                count = len(source.pages)
                for index in part["pages"]:
                    if not 0 <= index < count:
                        raise PageOutOfRange(f"Page {index + 1} is past the end of the document ({count} pages)")
                    target.pages.append(source.pages[index])
            elif part["kind"] == "image":
                for index in part["pages"]:
                    _image_page(target, part["path"], index)
            else:
                raise UnsupportedDocument(f"unknown part kind {part['kind']!r}")
        if header or footer:
            decorate(target, header, footer)
        target.remove_unreferenced_resources()
        target.save(out, **SAVE_OPTIONS)
        return {"pageCount": len(target.pages)}
    finally:
        target.close()
        for source in opened:
            source.close()


def add_text_layers(pdf_path: str, layers: dict[int, str], out: str) -> dict[str, Any]:
    """Lay each text-only page (engines.ocr) over page `index` of `pdf_path`, scaled onto the page as shown
    (qpdf compensates the page's /Rotate), and write the result to `out`."""
    document = _open_pdf(pdf_path, None)
    texts: list[pikepdf.Pdf] = []
    try:
        for index, layer_path in sorted(layers.items()):
            layer = _open_pdf(layer_path, None)
            texts.append(layer)
            page = document.pages[index]
            page.add_overlay(layer.pages[0], pikepdf.Rectangle(*page.trimbox))
        document.save(out, **SAVE_OPTIONS)
        return {"pageCount": len(document.pages)}
    finally:
        document.close()
        for layer in texts:
            layer.close()


# ---- headers and footers ----------------------------------------------------------------------------------------
# The PDF standard fonts need no embedding; their widths are measured with the metric-compatible Liberation fonts.
FONTS = {
    "helvetica": ("Helvetica", "LiberationSans-Regular.ttf"),
    "arial": ("Helvetica", "LiberationSans-Regular.ttf"),
    "liberation sans": ("Helvetica", "LiberationSans-Regular.ttf"),
    "sans-serif": ("Helvetica", "LiberationSans-Regular.ttf"),
    "times": ("Times-Roman", "LiberationSerif-Regular.ttf"),
    "times new roman": ("Times-Roman", "LiberationSerif-Regular.ttf"),
    "liberation serif": ("Times-Roman", "LiberationSerif-Regular.ttf"),
    "serif": ("Times-Roman", "LiberationSerif-Regular.ttf"),
    "courier": ("Courier", "LiberationMono-Regular.ttf"),
    "courier new": ("Courier", "LiberationMono-Regular.ttf"),
    "liberation mono": ("Courier", "LiberationMono-Regular.ttf"),
    "monospace": ("Courier", "LiberationMono-Regular.ttf"),
}
_FONT_DIRS = ("/usr/share/fonts/truetype/liberation2", "/usr/share/fonts/truetype/liberation")
TOKEN = re.compile(r"\{\{\s*(pageNumber|pageCount)\s*(?:([+-])\s*(\d+))?\s*(?:,\s*(\d+))?\s*\}\}")
MARGIN = 18.0  # points between the page edge and the first header or last footer line
SIDE_MARGIN = 36.0


def expand_tokens(text: str, number: int, count: int) -> str:
    """{{pageNumber}}, {{pageCount}} and the Bates form {{pageNumber+4000,10}} (offset, zero-padded width)."""
    def replace(match: re.Match) -> str:
        value = number if match.group(1) == "pageNumber" else count
        if match.group(3):
            value += int(match.group(3)) * (1 if match.group(2) == "+" else -1)
        width = int(match.group(4)) if match.group(4) else 0
        return str(value).zfill(width)
    return TOKEN.sub(replace, text)


def _measure(font_file: str) -> ImageFont.FreeTypeFont | None:
    for directory in _FONT_DIRS:
        path = Path(directory) / font_file
        if path.is_file():
            return ImageFont.truetype(str(path), 1000)
    return None


def _pdf_string(text: str) -> bytes:
    raw = text.encode("cp1252", "replace")
    return b"(" + raw.replace(b"\\", b"\\\\").replace(b"(", b"\\(").replace(b")", b"\\)") + b")"


def _rotation_matrix(page: pikepdf.Page) -> tuple[str, float, float]:
    """A `cm` from displayed coordinates (bottom-left origin, after /Rotate) into user space, and the displayed
    width and height."""
    llx, lly, urx, ury = (float(v) for v in page.cropbox)
    rotation = int(page.obj.get("/Rotate", 0)) % 360
    w, h = urx - llx, ury - lly
    if rotation == 90:
        return f"0 1 -1 0 {urx:.4f} {lly:.4f} cm", h, w
    if rotation == 180:
        return f"-1 0 0 -1 {urx:.4f} {ury:.4f} cm", w, h
    if rotation == 270:
        return f"0 -1 1 0 {llx:.4f} {ury:.4f} cm", h, w
    return f"1 0 0 1 {llx:.4f} {lly:.4f} cm", w, h


def decorate(document: pikepdf.Pdf, header: dict | None, footer: dict | None) -> None:
    """Draw header and footer lines ([left, center, right] triples with page tokens) on every page."""
    count = len(document.pages)
    fonts: dict[str, pikepdf.Dictionary] = {}
    for number, page in enumerate(document.pages, start=1):
        matrix, width, height = _rotation_matrix(page)
        ops = [b"q", matrix.encode()]
        for spec, top in ((header, True), (footer, False)):
            if not spec:
                continue
            base, font_file = FONTS[spec["fontFamily"].lower()]
            size = float(spec["fontSize"])
            measure = _measure(font_file)
            red, green, blue = spec["color"]
            ops.append(f"{red / 255:.3f} {green / 255:.3f} {blue / 255:.3f} rg".encode())
            lines = spec["lines"]
            leading = size * 1.2
            for row, triple in enumerate(lines):
                if top:
                    baseline = height - MARGIN - size * 0.8 - row * leading
                else:
                    baseline = MARGIN + size * 0.2 + (len(lines) - 1 - row) * leading
                for column, text in enumerate(triple[:3]):
                    text = expand_tokens(text or "", number, count)
                    if not text:
                        continue
                    text_width = (measure.getlength(text) / 1000 * size) if measure else len(text) * size * 0.5
                    x = (SIDE_MARGIN, (width - text_width) / 2, width - SIDE_MARGIN - text_width)[column]
                    ops.append(b"BT /PTHF" + base.encode().replace(b"-", b"") + f" {size:.2f} Tf {x:.3f} "
                               f"{baseline:.3f} Td ".encode() + _pdf_string(text) + b" Tj ET")
            if base not in fonts:
                fonts[base] = pikepdf.Dictionary(Type=pikepdf.Name.Font, Subtype=pikepdf.Name.Type1,
                                                 BaseFont=pikepdf.Name("/" + base),
                                                 Encoding=pikepdf.Name.WinAnsiEncoding)
            resources = page.obj.get("/Resources")
            if resources is None:
                page.obj.Resources = resources = pikepdf.Dictionary()
            if "/Font" not in resources:
                resources.Font = pikepdf.Dictionary()
            resources.Font[pikepdf.Name("/PTHF" + base.replace("-", ""))] = document.make_indirect(fonts[base])
        ops.append(b"Q")
        # the page's own content may leave the graphics state changed: wrap it so our lines start clean
        page.contents_add(document.make_stream(b"q"), prepend=True)
        page.contents_add(document.make_stream(b"Q\n" + b"\n".join(ops)))


# ---- raster pages -----------------------------------------------------------------------------------------------
def _is_grey(image: Image.Image) -> bool:
    if image.mode != "RGB":
        return image.mode in ("L", "1")
    red, green, blue = image.split()
    return ImageChops.difference(red, green).getbbox() is None and \
        ImageChops.difference(green, blue).getbbox() is None


def page_image(path: str, kind: str, page: int, *, password: str | None = None, dpi: float = 300,
               max_size: tuple[int | None, int | None] = (None, None), grey: bool = False
               ) -> tuple[Image.Image, tuple[float, float]]:
    """A page as an image (1-bit, grey or RGB) and its resolution: PDF pages rendered at `dpi`, image pages at
    their own pixels; either shrunk (never enlarged) to fit max_size. `grey` (for recognition, which reads
    grey anyway) turns colour into grey at once instead of checking whether it is grey."""
    width_pt, height_pt = pdf.page_size(path, page, password) if kind == "pdf" else images.page_size(path, page)
    if kind == "image":
        native = images.page_dpi(path, page)
        full = pixel_size(width_pt, height_pt, native, 1.0)
    else:
        full = pixel_size(width_pt, height_pt, dpi, 1.0)
    box_w, box_h = max_size
    if (box_w and full[0] > box_w) or (box_h and full[1] > box_h):
        full = fit_size(width_pt, height_pt, box_w or full[0], box_h or full[1])
    plan = raster_plan(width_pt, height_pt, fit=full)
    scanned = _sole_image(path, page, password, grey) if kind == "pdf" else None
    if scanned is not None:
        # a scanned page: its own pixels, as they are (faster than rendering, and no resampling)
        image = scanned
        if (box_w and image.width > box_w) or (box_h and image.height > box_h):
            target = fit_size(width_pt, height_pt, box_w or image.width, box_h or image.height)
            image = image.convert("L" if image.mode == "1" else image.mode).resize(
                target, Image.Resampling.LANCZOS, reducing_gap=3.0)
    elif kind == "pdf":
        image = pdf.render(path, page, plan, password)
        if _is_grey(image):
            image = image.convert("L")
    else:
        bilevel = None
        with Image.open(path) as source:
            source.seek(page)
            if source.mode == "1":
                upright = ImageOps.exif_transpose(source)
                if upright.size == (plan.full_width, plan.full_height):
                    bilevel = upright  # a bilevel scan at its own size stays bilevel (G4), no 8-bit round trip
        image = bilevel if bilevel is not None else images.render(path, page, plan)
    resolution = (image.width * 72 / width_pt, image.height * 72 / height_pt)
    return image, resolution


def _sole_image(path: str, page: int, password: str | None, grey: bool = False) -> Image.Image | None:
    """The pixels of a page that is nothing but one upright image covering it (a scan), else None. Grey images
    come back as L, and as 1-bit when they hold only black and white."""
    import pypdfium2 as pdfium
    document = pdf.open_pdf(path, password)
    pdf_page = document.page(page)
    if pdf_page.get_rotation() % 360:
        return None
    objects = list(pdf_page.get_objects(max_depth=1))
    if len(objects) != 1 or not isinstance(objects[0], pdfium.PdfImage):
        return None
    image = objects[0]
    matrix = image.get_matrix()
    if abs(matrix.b) > 1e-6 or abs(matrix.c) > 1e-6 or matrix.a <= 0 or matrix.d <= 0:
        return None  # rotated, skewed or mirrored: render it instead
    left, bottom, right, top = image.get_bounds()
    box = pdf_page.get_bbox()
    if max(abs(left - box[0]), abs(bottom - box[1]), abs(right - box[2]), abs(top - box[3])) > 1.0:
        return None
    width, height = image.get_px_size()
    _check_pixels(width, height)
    try:
        pixels = image.get_bitmap(render=False).to_pil()
    except pdfium.PdfiumError:
        return None
    pixels = _flat(pixels)
    if grey and pixels.mode == "RGB":
        pixels = pixels.convert("L")
    if _is_grey(pixels):
        pixels = pixels.convert("L")
        histogram = pixels.histogram()
        if not any(histogram[1:255]):
            pixels = pixels.convert("1", dither=Image.Dither.NONE)
    return pixels


def _check_pixels(width: int, height: int) -> None:
    if width * height > LIMITS.max_image_pixels:
        from .errors import ImageTooLarge
        raise ImageTooLarge()


def tiff_page(path: str, kind: str, page: int, out: str, *, password: str | None = None, dpi: float = 300,
              max_size: tuple[int | None, int | None] = (None, None)) -> dict[str, Any]:
    """Write one page as a single-page TIFF (G4 when bilevel, Deflate otherwise) to `out`."""
    image, resolution = page_image(path, kind, page, password=password, dpi=dpi, max_size=max_size)
    image.save(out, "TIFF", compression=_tiff_compression(image),
               dpi=(round(resolution[0]), round(resolution[1])))
    return {"width": image.width, "height": image.height}


def _tiff_compression(image: Image.Image) -> str:
    return "group4" if image.mode == "1" else "tiff_adobe_deflate"


def join_tiffs(paths: list[str], out: str) -> dict[str, Any]:
    """Concatenate single-page TIFFs into one multi-page TIFF, each page with its own compression (Pillow's
    save_all would apply one compression to every page, and G4 only encodes 1-bit pages)."""
    from PIL import TiffImagePlugin
    if not paths:
        raise ValueError("no pages")
    with TiffImagePlugin.AppendingTiffWriter(out, new=True) as writer:
        for name in paths:
            with Image.open(name) as frame:
                frame.load()
                frame.save(writer, "TIFF", compression=_tiff_compression(frame), dpi=frame.info.get("dpi", (72, 72)))
            writer.newFrame()
    return {"pageCount": len(paths)}


def svg_for_image(png: bytes, width_pt: float, height_pt: float) -> bytes:
    """An SVG page (in points) showing a raster page: SVG of an image source."""
    import base64
    data = base64.b64encode(png).decode("ascii")
    return (f'<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" '
            f'width="{width_pt:.3f}pt" height="{height_pt:.3f}pt" viewBox="0 0 {width_pt:.3f} {height_pt:.3f}">'
            f'<image width="{width_pt:.3f}" height="{height_pt:.3f}" preserveAspectRatio="none" '
            f'xlink:href="data:image/png;base64,{data}"/></svg>').encode()


def pdf_page_has_text(path: str, page: int) -> bool:
    document = pdf.open_pdf(path, None)
    textpage = document.page(page).get_textpage()
    try:
        return bool(textpage.get_text_range().strip())
    finally:
        textpage.close()


def image_bytes(image: Image.Image, fmt: str) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt)
    return buffer.getvalue()

