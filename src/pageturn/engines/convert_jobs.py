"""Render-worker jobs for the conversion API and OCR (merged into engines.jobs.JOBS).

They write their output to a path the caller chose (a private scratch directory) rather than sending it back
over the worker's pipe: outputs can be large documents. Page numbers are 0-based.
"""
from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any, Callable

from . import assemble, images, ocr, pdf

OCR_DPI = 300           # resolution PDF pages are rendered at for recognition
OCR_TIMEOUT_SHARE = 0.9  # of the job's time budget (its pool timeout): tesseract stops before the worker is killed


def _layer(path: str, kind: str, page: int, out: Path, *, language: str, password: str | None,
           timeout: float) -> tuple[float, float]:
    """Recognise a page and write its text-only PDF page to `out`; returns the page's size in points."""
    image, resolution = assemble.page_image(path, kind, page, password=password, dpi=OCR_DPI, grey=True)
    scratch = out.parent
    suffix = ocr.picture_suffix(image.mode)
    picture = scratch / (out.stem + suffix)
    try:
        if suffix == ".png":
            image.save(picture, "PNG", compress_level=1, dpi=resolution)
        else:
            image.save(picture, "PPM")  # PBM for 1-bit, PGM for grey: written and read with no codec
        ocr.text_only_pdf(picture, language, resolution[0], out, timeout=timeout)
    finally:
        picture.unlink(missing_ok=True)
    return pdf.page_size(path, page, password) if kind == "pdf" else images.page_size(path, page)


def ocr_layer(path: str, kind: str, page: int, out: str, *, language: str, password: str | None = None,
              budget: float = 60, skip_if_text: bool = True) -> dict[str, Any]:
    """The text layer of one page for a searchable PDF, written to `out`; {"skipped": True} when the page
    already has text of its own (it is searchable as it is)."""
    if skip_if_text and kind == "pdf" and assemble.pdf_page_has_text(path, page):
        return {"skipped": True}
    _layer(path, kind, page, Path(out), language=language, password=password, timeout=budget * OCR_TIMEOUT_SHARE)
    return {"skipped": False}


def _has_images(path: str, page: int, password: str | None) -> bool:
    import pypdfium2.raw as pdfium_c
    pdf_page = pdf.open_pdf(path, password).page(page)
    return any(True for _ in pdf_page.get_objects(filter=[pdfium_c.FPDF_PAGEOBJ_IMAGE], max_depth=3))


def page_text_ocr(path: str, kind: str, page: int, *, password: str | None = None, language: str = "eng",
                  budget: float = 60, scratch: str | None = None) -> dict[str, Any]:
    """engines.jobs.page_text, with the words of a page that has no text layer but has images recognised by OCR:
    the same shape, per-character boxes in the same page units."""
    from .jobs import page_text
    result = page_text(path, kind, page, password=password)
    if result["text"].strip() or (kind == "pdf" and not _has_images(path, page, password)):
        return result
    work = Path(scratch) if scratch else ocr.scratch_dir()  # the caller's directory, which it removes
    try:
        layer = work / "layer.pdf"
        width, height = _layer(path, kind, page, layer, language=language, password=password,
                               timeout=budget * OCR_TIMEOUT_SHARE)
        found = pdf.text(str(layer), 0)
        pdf.close_all()  # the layer file is removed below: no open handle may outlive it
        sx, sy = width / found["width"], height / found["height"]
        result["text"] = found["text"]
        rectangles = _even_words(found["text"], found["rectangles"])
        result["rectangles"] = [[round(x * sx, 2), round(y * sy, 2), round(w * sx, 2), round(h * sy, 2)]
                                for x, y, w, h in rectangles]
        return result
    finally:
        if scratch is None:
            shutil.rmtree(work, ignore_errors=True)


def _even_words(text: str, rectangles: list[list[float]]) -> list[list[float]]:
    """Tesseract stretches each word *with its trailing space* over the word's ink (one run of evenly spaced
    invisible glyphs), so read as they are the characters would end one glyph short of the ink. Spread a word
    followed by a space over the width of its run instead, and start the space at the word's end."""
    boxes = [list(r) for r in rectangles]
    start = 0
    while start < len(text):
        if text[start].isspace():
            start += 1
            continue
        end = start
        while end < len(text) and not text[end].isspace():
            end += 1
        count = end - start
        followed = end < len(text) and text[end] == " "
        if count >= 1 and followed:
            first, space = boxes[start], boxes[end]
            pitch = (space[0] - first[0]) / count
            if pitch > 0 and abs(space[1] - first[1]) < 0.5 * max(first[3], 1):  # the same upright line
                pitch = pitch * (count + 1) / count
                for k in range(count):
                    boxes[start + k][0] = first[0] + k * pitch
                    boxes[start + k][2] = pitch
                word_end = first[0] + count * pitch
                right = max(space[0] + space[2], word_end)
                space[0], space[2] = word_end, right - word_end
        start = end
    return boxes


def build_pdf(parts: list, out: str, *, header: dict | None = None, footer: dict | None = None) -> dict[str, Any]:
    return assemble.build_pdf(parts, out, header=header, footer=footer)


def add_text_layers(pdf_path: str, layers: dict, out: str) -> dict[str, Any]:
    return assemble.add_text_layers(pdf_path, {int(k): v for k, v in layers.items()}, out)


def tiff_page(path: str, kind: str, page: int, out: str, *, password: str | None = None, dpi: float = 300,
              max_size: tuple = (None, None)) -> dict[str, Any]:
    return assemble.tiff_page(path, kind, page, out, password=password, dpi=dpi, max_size=tuple(max_size))


def join_tiffs(paths: list[str], out: str) -> dict[str, Any]:
    return assemble.join_tiffs(paths, out)


def svg_of_image(path: str, page: int, *, max_size: tuple = (None, None)) -> bytes:
    image, _ = assemble.page_image(path, "image", page, max_size=tuple(max_size))
    width, height = images.page_size(path, page)
    return assemble.svg_for_image(assemble.image_bytes(image.convert("RGB") if image.mode == "1" else image,
                                                       "PNG"), width, height)


JOBS: dict[str, Callable[..., Any]] = {
    "ocr_layer": ocr_layer,
    "page_text_ocr": page_text_ocr,
    "build_pdf": build_pdf,
    "add_text_layers": add_text_layers,
    "tiff_page": tiff_page,
    "join_tiffs": join_tiffs,
    "svg_of_image": svg_of_image,
}
