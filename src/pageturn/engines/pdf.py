"""PDF pages through PDFium (pypdfium2): page sizes, raster renders, text with a box per character, and links.

Page units are PDF points of the page as displayed: the crop box, turned by the page's /Rotate, with the origin at
its top-left corner. SVG output (engines.svg) uses the same units.

PDFium is not thread-safe: these functions run only inside a render worker process, one job at a time. Open
documents (and their last pages) are kept in a small LRU per process, so jobs routed to the same worker reuse the
parsed document.
"""
from __future__ import annotations

import ctypes
import os
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c
from PIL import Image

from .errors import CorruptDocument, EngineError, PageOutOfRange, PasswordRequired, UnsupportedDocument
from .raster import RasterPlan

OPEN_DOCUMENTS = 4          # documents kept open per worker
OPEN_PAGES = 3              # pages kept loaded per document
LINK_SCHEMES = ("http", "https", "mailto", "ftp", "tel")  # javascript:, file:, data: links are never offered
_RENDER_FLAGS = pdfium_c.FPDF_ANNOT | pdfium_c.FPDF_REVERSE_BYTE_ORDER


@dataclass(frozen=True)
class PageGeometry:
    """Maps PDF user space to displayed page units (top-left origin, after /Rotate)."""

    left: float
    bottom: float
    right: float
    top: float
    rotation: int  # clockwise degrees: 0, 90, 180, 270

    @property
    def size(self) -> tuple[float, float]:
        width, height = self.right - self.left, self.top - self.bottom
        return (height, width) if self.rotation in (90, 270) else (width, height)

    def point(self, x: float, y: float) -> tuple[float, float]:
        u, v = x - self.left, self.top - y          # unrotated, top-left origin
        width, height = self.right - self.left, self.top - self.bottom
        if self.rotation == 90:
            return height - v, u
        if self.rotation == 180:
            return width - u, height - v
        if self.rotation == 270:
            return v, width - u
        return u, v

    def rect(self, left: float, bottom: float, right: float, top: float) -> tuple[float, float, float, float]:
        """A PDF rectangle as (x, y, width, height) on the displayed page."""
        x0, y0 = self.point(left, bottom)
        x1, y1 = self.point(right, top)
        return min(x0, x1), min(y0, y1), abs(x1 - x0), abs(y1 - y0)


class OpenPdf:
    """One open document with its last few loaded pages."""

    def __init__(self, path: str, password: str | None):
        self.path = path
        try:
            self.pdf = pdfium.PdfDocument(path, password=password)
        except FileNotFoundError:
            raise EngineError("The document file is missing") from None
        except pdfium.PdfiumError as exc:
            raise _open_error(exc.err_code, password) from None
        self.page_count = len(self.pdf)
        self.encrypted = pdfium_c.FPDF_GetSecurityHandlerRevision(self.pdf) != -1
        try:
            self.pdf.init_forms()  # so filled-in form fields show in renders
        except pdfium.PdfiumError:
            pass
        self._pages: OrderedDict[int, pdfium.PdfPage] = OrderedDict()
        self._decrypted: int | None = None   # a memfd holding the decrypted copy

    def check_page(self, index: int) -> None:
        if isinstance(index, bool) or not isinstance(index, int) or not 0 <= index < self.page_count:
            raise PageOutOfRange(f"Page {index} is outside the document (pages 0 to {self.page_count - 1})")

    def page(self, index: int) -> pdfium.PdfPage:
        self.check_page(index)
        page = self._pages.pop(index, None)
        if page is None:
            try:
                page = self.pdf[index]
            except pdfium.PdfiumError:
                raise CorruptDocument(f"Page {index} of the document cannot be read") from None
            while len(self._pages) >= OPEN_PAGES:
                self._pages.popitem(last=False)[1].close()
        self._pages[index] = page
        return page

    def geometry(self, index: int) -> PageGeometry:
        page = self.page(index)
        box = pdfium_c.FS_RECTF()
        if not pdfium_c.FPDF_GetPageBoundingBox(page, box):
            raise CorruptDocument(f"Page {index} has no valid page box")
        return PageGeometry(box.left, box.bottom, box.right, box.top, page.get_rotation() % 360)

    def page_size(self, index: int) -> tuple[float, float]:
        """The displayed size in points, without loading the page's content."""
        self.check_page(index)
        try:
            width, height = self.pdf.get_page_size(index)
        except pdfium.PdfiumError:  # a broken page tree: the document's fault, not the renderer's
            raise CorruptDocument(f"Page {index} of the document cannot be read") from None
        return round(width, 3), round(height, 3)

    def decrypted_copy(self) -> int:
        """A file descriptor of a private unencrypted copy, for tools that would otherwise need the password on
        their command line (they read it as /dev/fd/N). The copy lives in memory (memfd): it is never on a disk
        and goes with this process, even when the process is killed."""
        if self._decrypted is None:
            fd = os.memfd_create("pageturn-decrypted", 0)
            try:
                with open(fd, "wb", closefd=False) as target:
                    self.pdf.save(target, flags=pdfium_c.FPDF_REMOVE_SECURITY)
            except Exception:
                os.close(fd)
                raise CorruptDocument("The document could not be decrypted") from None
            self._decrypted = fd
        return self._decrypted

    def close(self) -> None:
        for page in self._pages.values():
            page.close()
        self._pages.clear()
        self.pdf.close()
        if self._decrypted is not None:
            os.close(self._decrypted)
            self._decrypted = None


def _open_error(code: int | None, password: str | None) -> EngineError:
    if code == pdfium_c.FPDF_ERR_PASSWORD:
        return PasswordRequired("Document requires a password" if not password
                                else "The password does not open this document")
    if code == pdfium_c.FPDF_ERR_SECURITY:
        return UnsupportedDocument("The document uses an unsupported security scheme")
    if code == pdfium_c.FPDF_ERR_FILE:
        return EngineError("The document file cannot be read")
    return CorruptDocument("The document is not a readable PDF")


_documents: OrderedDict[tuple, OpenPdf] = OrderedDict()


def open_pdf(path: str, password: str | None = None) -> OpenPdf:
    """The open document for (path, password), from this process's LRU when the file has not changed."""
    try:
        stat = os.stat(path)
    except OSError:
        raise EngineError("The document file is missing") from None
    key = (os.path.realpath(path), password or None, stat.st_mtime_ns, stat.st_size)
    document = _documents.pop(key, None)
    if document is None:
        document = OpenPdf(path, password or None)
        while len(_documents) >= OPEN_DOCUMENTS:
            _documents.popitem(last=False)[1].close()
    _documents[key] = document
    return document


def close_all() -> None:
    while _documents:
        _documents.popitem()[1].close()


# ---- jobs ------------------------------------------------------------------------------------------------------

def info(path: str, password: str | None = None) -> dict[str, Any]:
    document = open_pdf(path, password)
    pages = []
    for index in range(document.page_count):
        width, height = document.page_size(index)
        pages.append({"width": width, "height": height})
    result: dict[str, Any] = {"pageCount": document.page_count, "pages": pages}
    title = _title(document)
    if title:
        result["title"] = title  # the viewer's name for a document opened without one
    return result


# what PDF writers put in Title when the author gave none (ReportLab: "untitled"): no name at all is better
_PLACEHOLDER_TITLES = frozenset({"untitled", "(untitled)", "untitled document", "no title", "title", "document",
                                 "unknown", "anonymous", "none"})


def _title(document: OpenPdf) -> str:
    """The Info dictionary's Title (LibreOffice writes an Office document's own title there), one line, short."""
    try:
        raw = document.pdf.get_metadata_value("Title")
    except (pdfium.PdfiumError, KeyError, ValueError):
        return ""
    title = " ".join(str(raw or "").split())[:200]
    return "" if title.lower() in _PLACEHOLDER_TITLES else title


def page_size(path: str, page: int, password: str | None = None) -> tuple[float, float]:
    return open_pdf(path, password).page_size(page)


def render(path: str, page: int, plan: RasterPlan, password: str | None = None) -> Image.Image:
    """The plan's region of the page, RGB on white. A tile is rendered by offsetting the whole page's transform,
    so tiles line up pixel for pixel with the full page."""
    document = open_pdf(path, password)
    pdf_page = document.page(page)
    bitmap = pdfium.PdfBitmap.new_native(plan.width, plan.height, pdfium_c.FPDFBitmap_BGR, rev_byteorder=True)
    bitmap.fill_rect((255, 255, 255, 255), 0, 0, plan.width, plan.height)
    args = (bitmap, pdf_page, -plan.left, -plan.top, plan.full_width, plan.full_height, 0, _RENDER_FLAGS)
    pdfium_c.FPDF_RenderPageBitmap(*args)
    if document.pdf.formenv:
        pdfium_c.FPDF_FFLDraw(document.pdf.formenv, *args)
    return bitmap.to_pil()


def _round(value: float) -> float:
    return round(value, 2)


def text(path: str, page: int, password: str | None = None) -> dict[str, Any]:
    """The page's text with exactly one [left, top, width, height] box per character (points, top-left origin),
    and its URI links as PrizmDoc DocumentHyperlink markup.

    Boxes are advance width x font line height (PDFium's loose boxes), which select cleanly. Line breaks PDFium
    infers ("\\r\\n") become one "\\n" with a zero-width box at the end of the line; inferred spaces between
    words span the gap to the next word."""
    document = open_pdf(path, password)
    geometry = document.geometry(page)
    width, height = document.page_size(page)
    pdf_page = document.page(page)
    textpage = pdf_page.get_textpage()
    try:
        chars, boxes = _chars_and_boxes(textpage, geometry)
    finally:
        textpage.close()
    return {"number": page, "text": "".join(chars), "width": width, "height": height,
            "rectangles": [[_round(v) for v in box] for box in boxes],
            "markup": links(document, page, geometry)}


def _chars_and_boxes(textpage: pdfium.PdfTextPage, geometry: PageGeometry, window: range | None = None
                     ) -> tuple[list[str], list[list[float]]]:
    """Characters and their displayed boxes. Work happens in PDF space first: for upright text a glyph spans
    from its origin to the next glyph's origin (so boxes tile a line without gaps or overlaps, whatever the
    glyph's ink), vertically the font's line height (PDFium's loose box).

    `window` limits the work to a range of PDFium character indices (search computes the boxes of its hits
    only); the characters just outside a window get approximate boxes, so callers leave a margin."""
    count = textpage.count_chars()
    first = 0 if window is None else max(0, window.start)
    stop = count if window is None else min(count, window.stop)
    codes = [pdfium_c.FPDFText_GetUnicode(textpage, i) for i in range(first, min(stop + 1, count))]
    rect, matrix = pdfium_c.FS_RECTF(), pdfium_c.FS_MATRIX()
    origin_x, origin_y = ctypes.c_double(), ctypes.c_double()
    chars: list[str] = []
    rects: list[list[float]] = []                        # left, bottom, right, top in PDF space
    origins: list[tuple[float, float] | None] = []       # glyph origin of upright glyphs, else None
    for i, code in enumerate(codes[:stop - first], first):
        if code == 0x0D and i + 1 < count and codes[i + 1 - first] == 0x0A:
            continue  # "\r\n" becomes the single "\n" that follows
        char = "\n" if code == 0x0D else _char(code)
        if char == "\n" or pdfium_c.FPDFText_IsGenerated(textpage, i) == 1:
            # PDFium puts these at the previous glyph's origin with no size: start them at its end instead
            prev = rects[-1] if rects else [0.0, 0.0, 0.0, 0.0]
            rects.append([prev[2], prev[1], prev[2], prev[3]])
            origins.append(None)
        else:
            if not pdfium_c.FPDFText_GetLooseCharBox(textpage, i, rect):
                rect.left = rect.right = rect.bottom = rect.top = 0.0
            left, bottom, right, top = rect.left, rect.bottom, rect.right, rect.top
            upright = (pdfium_c.FPDFText_GetMatrix(textpage, i, matrix) and matrix.a > 0 and matrix.d > 0
                       and abs(matrix.b) < 1e-3 * matrix.a and abs(matrix.c) < 1e-3 * matrix.d
                       and pdfium_c.FPDFText_GetCharOrigin(textpage, i, origin_x, origin_y))
            if upright:
                x = origin_x.value
                rects.append([x, bottom, x + (right - left), top])
                origins.append((x, origin_y.value))
            else:
                rects.append([left, bottom, right, top])
                origins.append(None)
        chars.append(char)
    _tile_lines(chars, rects, origins)
    return chars, [list(geometry.rect(*r)) for r in rects]


def _tile_lines(chars: list[str], rects: list[list[float]], origins: list[tuple[float, float] | None]) -> None:
    """Stretch each upright glyph to the origin of the next one on its line, and inferred spaces over the gap
    between the words they separate."""
    for k, here in enumerate(origins):
        if here is None:
            continue
        j, space = k + 1, None
        if j < len(chars) and origins[j] is None and chars[j] == " ":
            space, j = j, j + 1
        there = origins[j] if j < len(chars) else None
        if there is None:
            continue
        (x0, y0), (x1, y1) = here, there
        left, bottom, right, top = rects[k]
        line_height = top - bottom
        if abs(y1 - y0) > 0.2 * line_height or x1 <= x0:
            continue  # not on the same line, or going backwards
        if space is None:
            if x1 - x0 <= 1.5 * (right - left) + 0.25 * line_height:
                rects[k][2] = x1
        elif x1 > right and x1 - x0 < 20 * line_height:
            rects[space] = [right, bottom, x1, top]


def _char(code: int) -> str:
    if code == 0 or 0xD800 <= code <= 0xDFFF or code > 0x10FFFF:
        return "\ufffd"  # no Unicode mapping, or a lone surrogate: keep the place, one box, valid JSON
    return chr(code)


def links(document: OpenPdf, page: int, geometry: PageGeometry | None = None) -> list[dict[str, Any]]:
    """URI link annotations of a page in the spec's markup shape (only web, mail, ftp and tel links)."""
    geometry = geometry or document.geometry(page)
    pdf_page = document.page(page)
    position = ctypes.c_int(0)
    link = pdfium_c.FPDF_LINK()
    rect = pdfium_c.FS_RECTF()
    found = []
    while pdfium_c.FPDFLink_Enumerate(pdf_page, position, link):
        action = pdfium_c.FPDFLink_GetAction(link)
        if not action or pdfium_c.FPDFAction_GetType(action) != pdfium_c.PDFACTION_URI:
            continue
        size = pdfium_c.FPDFAction_GetURIPath(document.pdf, action, None, 0)
        if size <= 1 or size > 8192:
            continue
        buffer = ctypes.create_string_buffer(size)
        pdfium_c.FPDFAction_GetURIPath(document.pdf, action, buffer, size)
        href = _safe_href(buffer.value.decode("utf-8", "replace"))
        if href is None or not pdfium_c.FPDFLink_GetAnnotRect(link, rect):
            continue
        x, y, w, h = geometry.rect(min(rect.left, rect.right), min(rect.bottom, rect.top),
                                   max(rect.left, rect.right), max(rect.bottom, rect.top))
        found.append({
            "changeType": "Add",
            "markType": "DocumentHyperlink",
            "properties": {
                "href": href,
                "rectangle": {"x": _round(x), "y": _round(y), "width": _round(w), "height": _round(h)},
                "borderThickness": 0,
                "borderHorizontalRadius": 0,
                "borderVerticalRadius": 0,
                "borderOpacity": 255,
            },
        })
    return found


def _safe_href(uri: str) -> str | None:
    """The link target if it is a web, mail, ftp or phone address ("www.x" gets http://); None otherwise."""
    uri = "".join(ch for ch in uri.strip() if ch >= " " and ch != "\x7f")
    if uri.lower().startswith("www."):
        uri = "http://" + uri
    try:
        scheme = urlsplit(uri).scheme.lower()
    except ValueError:
        return None
    return uri if scheme in LINK_SCHEMES else None
