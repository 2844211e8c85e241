"""The jobs a render worker runs: the only functions the worker pool may call (see `JOBS`).

Each job takes the path of a page source and its kind — "pdf" (PDFium, pdftocairo for SVG) or "image" (Pillow) —
and returns plain data: bytes of an encoded page, or a dict. Page numbers are 0-based. Sizes are in page units
(points; see engines.pdf and engines.images). Results travel back to the server over the worker's pipe as bytes;
nothing is written to disk here, so the caller decides where output is cached.

Failures raise engines.errors classes (PasswordRequired, PageOutOfRange, CorruptDocument, ImageTooLarge, ...)
for document problems and ValueError for bad request parameters (scale, tile, watermarks, limits).
"""
from __future__ import annotations

import os
from typing import Any, Callable

from . import images, office_prefix, pdf, poppler_svg, raster, search_text, svg
from .errors import SvgNotAvailable
from .watermark import draw_watermarks, parse_watermarks

KINDS = ("pdf", "image")


def configure(**settings: Any) -> None:
    """Set engine limits in this process (called once when a worker starts); see raster.Limits."""
    raster.configure(**settings)
    images.follow_limits()


def _kind(kind: str) -> str:
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {', '.join(KINDS)}, got {kind!r}")
    return kind


def _page_size(path: str, kind: str, page: int, password: str | None) -> tuple[float, float]:
    if _kind(kind) == "pdf":
        return pdf.page_size(path, page, password)
    return images.page_size(path, page)


def document_info(path: str, kind: str, password: str | None = None) -> dict[str, Any]:
    """{"pageCount": n, "pages": [{"width": w, "height": h}, ...]} in page units (image pages add pixelWidth,
    pixelHeight and dpi). Opening a protected PDF without its password raises PasswordRequired."""
    if _kind(kind) == "pdf":
        return pdf.info(path, password)
    return images.info(path)


def render_raster(path: str, kind: str, page: int, *, password: str | None = None, dpi: float | None = 150,
                  scale: float = 1.0, fmt: str = "png", quality: int = 85,
                  tile: tuple[int, int, int, int] | None = None, fit: tuple[int, int] | None = None,
                  watermarks: list[dict] | None = None) -> bytes:
    """A PNG or JPEG of a page: the whole page at dpi x scale, a tile (x, y, width, height in those scaled
    pixels, trimmed at the page's right and bottom edges), or a thumbnail fitting inside fit = (width, height).
    Watermarks (the session's raw array) are drawn on whichever of these is produced.

    dpi=None means the source's own resolution: for an image page its native pixels (times scale), whatever
    resolution its file declares (see document_info's pixelWidth/pixelHeight/dpi); for a PDF 150."""
    if fmt not in raster.FORMATS:
        raise ValueError(f"format must be one of {', '.join(raster.FORMATS)}, got {fmt!r}")
    marks = parse_watermarks(watermarks)
    width, height = _page_size(path, kind, page, password)
    resolution = dpi if dpi is not None else images.page_dpi(path, page) if kind == "image" else 150
    plan = raster.plan(width, height, dpi=resolution, scale=scale, tile=list(tile) if tile else None,
                       fit=list(fit) if fit else None)
    if kind == "pdf":
        image = pdf.render(path, page, plan, password)
    else:
        image = images.render(path, page, plan)
    image = draw_watermarks(image, marks, plan)
    return raster.encode(image, fmt, quality)


def render_svg(path: str, kind: str, page: int, *, password: str | None = None,
               watermarks: list[dict] | None = None) -> bytes:
    """SVG of a PDF page in points with the watermarks on top; raster sources raise SvgNotAvailable."""
    if _kind(kind) != "pdf":
        raise SvgNotAvailable()
    return svg.render(path, page, password, parse_watermarks(watermarks))


def page_text(path: str, kind: str, page: int, *, password: str | None = None) -> dict[str, Any]:
    """{"number", "text", "width", "height", "rectangles", "markup"} as the spec's Text URL answers per page.
    Raster sources have no text layer: their text is empty (no OCR)."""
    if _kind(kind) == "pdf":
        return pdf.text(path, page, password)
    width, height = images.page_size(path, page)
    return {"number": page, "text": "", "width": width, "height": height, "rectangles": [], "markup": []}


def locate_changes(pdf_path: str, changes: list[dict]) -> list[dict]:
    """Where each change of a comparison lands in its rendered PDF (engines.compare.locate_changes; PDFium, so it
    runs here and not in the server process)."""
    from .compare import locate_changes as locate  # imported on first use: most workers never compare

    return locate(changes, pdf_path)


def burn_markup(path: str, kind: str, marks: list[dict], out_path: str, *, password: str | None = None,
                dpi: float = 150.0) -> dict[str, Any]:
    """Burns validated markup into the document and writes the PDF to out_path (engines.markup.burn)."""
    from .markup.burn import burn  # imported on first use: most workers never burn

    return burn(path, kind, marks, out_path, password=password, dpi=dpi)


def find_redactions(path: str, kind: str, rules: list[dict], *, password: str | None = None) -> list[dict]:
    """Redaction marks at every match of the rules' patterns (engines.markup.text)."""
    from .markup.text import find_redactions as find

    return find(path, kind, rules, password=password)


def redacted_text(path: str, kind: str, marks: list[dict], *, line_ending: str = "\n",
                  password: str | None = None) -> str:
    """The document's plain text with what the redaction marks cover replaced (engines.markup.text)."""
    from .markup.text import redacted_text as text

    return text(path, kind, marks, line_ending=line_ending, password=password)


def ping() -> dict[str, Any]:
    """A worker's health check: answers at once with its process id."""
    return {"pid": os.getpid()}


def close_documents() -> None:
    """Close every document this process keeps open (its caches)."""
    pdf.close_all()
    images.close_all()
    poppler_svg.close()  # its documents too (the SVG helper process starts again on the next SVG page)


JOBS: dict[str, Callable[..., Any]] = {
    "document_info": document_info,
    "render_raster": render_raster,
    "render_svg": render_svg,
    "page_text": page_text,
    "locate_changes": locate_changes,
    "search_batch": search_text.search_batch,
    "search_hit_geometries": search_text.hit_geometries,
    "burn_markup": burn_markup,
    "find_redactions": find_redactions,
    "redacted_text": redacted_text,
    "ping": ping,
    "close_documents": close_documents,
    "docx_prefix": office_prefix.docx_prefix,   # the first pages of a long .docx, converted ahead of the whole
}

# conversion API and OCR jobs (their own module, see engines.convert_jobs)
from .convert_jobs import JOBS as _CONVERT_JOBS  # noqa: E402

JOBS.update(_CONVERT_JOBS)
