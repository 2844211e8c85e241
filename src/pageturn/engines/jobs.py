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

from . import images, pdf, poppler_svg, raster, svg
from .errors import SvgNotAvailable
from .watermark import draw_watermarks, parse_watermarks

KINDS = ("pdf", "image")


def configure(**settings: Any) -> None:
    """Set engine limits in this process (called once when a worker starts); see raster.Limits."""
    raster.configure(**settings)


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
    if dpi is None:
        dpi = images.page_dpi(path, page) if kind == "image" else 150
    plan = raster.plan(width, height, dpi=dpi, scale=scale, tile=tuple(tile) if tile else None,
                       fit=tuple(fit) if fit else None)
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
    "ping": ping,
    "close_documents": close_documents,
}
