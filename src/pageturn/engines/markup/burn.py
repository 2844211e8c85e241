"""Burns marks into a PDF: redactions first remove what they cover (redact.py, or raster.py for a page that
cannot be cleaned object by object), then every mark is drawn into its page (draw.py).

Redacted output also loses what could still hold the redacted text elsewhere in the file: the document
information dictionary and XMP metadata, attachments (embedded and associated files), document JavaScript,
the structure tree (its /ActualText and /Alt), page thumbnails and piece information, hidden optional content
(then /OCProperties), and the annotations and form fields a box touches."""
from __future__ import annotations

import io
import time
from collections import defaultdict
from typing import Any

import pikepdf
import pypdfium2 as pdfium
from PIL import Image

from ..errors import CorruptDocument, PasswordRequired
from .draw import PageCanvas, color, rgb255
from .geometry import Matrix, PageFrame, Rect, intersects, transform_rect
from .raster import rasterise_page
from .redact import Box, NeedsRaster, Stats, clean_page, hidden_groups

RECT_REDACTIONS = ("RectangleRedaction", "TextRedaction", "StampRedaction", "ImageStampRedaction",
                   "TransparentRectangleRedaction")


def _rect(mark: dict[str, Any]) -> tuple[float, float, float, float]:
    r = mark["rectangle"]
    return float(r["x"]), float(r["y"]), float(r["width"]), float(r["height"])


def _user_rect(matrix: Matrix, x: float, y: float, w: float, h: float) -> Rect:
    return transform_rect(matrix, (x, y, x + w, y + h))


def _frames(pdf: pikepdf.Pdf) -> list[PageFrame]:
    return [PageFrame.of(page.obj) for page in pdf.pages]


def _selection_lines(mark: dict[str, Any]) -> list[tuple[int, dict[str, Any], dict[str, Any]]]:
    """(0-based page, pageData, line rectangle) of a text-selection mark."""
    out = []
    for group in mark.get("lineGroups") or []:
        for line in group.get("lines") or []:
            out.append((int(group["pageNumber"]) - 1, group.get("pageData"), line))
    return out


def redaction_boxes(marks: list[dict[str, Any]], frames: list[PageFrame]) -> dict[int, list[Box]]:
    """Per 0-based page, the boxes (user space) whose content must go, with the colour covered pixels take."""
    boxes: dict[int, list[Box]] = defaultdict(list)
    for mark in marks:
        kind = mark["type"]
        if kind in RECT_REDACTIONS:
            page = mark["pageNumber"] - 1
            if 0 <= page < len(frames):
                fill = "#FFFFFF" if kind == "TransparentRectangleRedaction" else "#000000"
                boxes[page].append(Box(_user_rect(frames[page].mark_matrix(mark.get("pageData")), *_rect(mark)),
                                       rgb255(mark.get("fillColor"), fill)))
        elif kind == "TextSelectionRedaction":
            for page, page_data, line in _selection_lines(mark):
                if 0 <= page < len(frames):
                    rect = (float(line["x"]), float(line["y"]), float(line["width"]), float(line["height"]))
                    boxes[page].append(Box(_user_rect(frames[page].mark_matrix(page_data), *rect),
                                           rgb255(mark.get("fillColor"), "#000000")))
    return boxes


def _draw(canvas: PageCanvas, mark: dict[str, Any]) -> None:
    """One mark in its page coordinates (the canvas's matrix is set by the caller)."""
    kind = mark["type"]
    opacity = mark.get("opacity")
    if kind in ("RectangleAnnotation", "EllipseAnnotation"):
        x, y, w, h = _rect(mark)
        draw = canvas.rect if kind == "RectangleAnnotation" else canvas.ellipse
        draw(x, y, w, h, fill=color(mark.get("fillColor"), None), stroke=color(mark.get("borderColor"), "#000000"),
             width=float(mark.get("borderThickness", 1)), opacity=opacity)
    elif kind in ("RectangleRedaction", "TextRedaction", "StampRedaction"):
        x, y, w, h = _rect(mark)
        canvas.rect(x, y, w, h, fill=color(mark.get("fillColor"), "#000000"),
                    stroke=color(mark.get("borderColor"), None), width=float(mark.get("borderThickness", 0) or 0))
        words = mark.get("reason") if kind == "RectangleRedaction" else mark.get("text") if kind == "TextRedaction" \
            else mark.get("label")
        size = float(mark["fontSize"]) if isinstance(mark.get("fontSize"), (int, float)) else None
        canvas.text_box(words or "", x, y, w, h, fill=color(mark.get("fontColor"), "#FFFFFF"), size=size,
                        align=mark.get("horizontalAlignment") or "Center", valign="middle")
    elif kind == "ImageStampRedaction" or kind == "ImageStampAnnotation":
        x, y, w, h = _rect(mark)
        if kind == "ImageStampRedaction":
            canvas.rect(x, y, w, h, fill=color(mark.get("fillColor"), "#000000"))
        if isinstance(mark.get("imageDataUrl"), str):
            canvas.image(mark["imageDataUrl"], x, y, w, h)
    elif kind == "TransparentRectangleRedaction":
        x, y, w, h = _rect(mark)
        canvas.rect(x, y, w, h, fill=(1.0, 1.0, 1.0))  # the content is gone; the area shows blank paper
    elif kind == "StampAnnotation":
        x, y, w, h = _rect(mark)
        ink = color(mark.get("color"), "#FF0000")
        canvas.rect(x, y, w, h, stroke=ink, width=2)
        canvas.text_box(mark.get("label") or "", x, y, w, h, fill=ink, align="Center", valign="middle")
    elif kind == "TextAnnotation":
        x, y, w, h = _rect(mark)
        canvas.rect(x, y, w, h, fill=color(mark.get("fillColor"), None), stroke=color(mark.get("borderColor"), None),
                    width=float(mark.get("borderThickness", 1)), opacity=opacity)
        size = float(mark["fontSize"]) if isinstance(mark.get("fontSize"), (int, float)) else 12.0
        canvas.text_box(mark.get("text") or "", x, y, w, h, fill=color(mark.get("fontColor"), "#000000"), size=size,
                        align=mark.get("horizontalAlignment") or "Left")
    elif kind in ("TextSignature", "TextInputSignature", "TextAreaSignature"):
        x, y, w, h = _rect(mark)
        ink = color(mark.get("color") or mark.get("fontColor"), "#000000")
        canvas.text_box(mark.get("text") or "", x, y, w, h, fill=ink, align=mark.get("horizontalAlignment") or "Left",
                        valign="middle")
    elif kind in ("FreehandAnnotation", "FreehandSignature") and isinstance(mark.get("path"), str):
        canvas.svg_path(mark["path"], stroke=color(mark.get("color"), "#000000"),
                        width=float(mark.get("thickness", 2)), opacity=opacity)
    elif kind == "LineAnnotation":
        start = (float(mark["startPoint"]["x"]), float(mark["startPoint"]["y"]))
        end = (float(mark["endPoint"]["x"]), float(mark["endPoint"]["y"]))
        ink = color(mark.get("color"), "#000000")
        width = float(mark.get("thickness", 2))
        canvas.polyline([start, end], stroke=ink, width=width, opacity=opacity)
        head = str(mark.get("endHeadType") or "None")
        if head != "None":
            canvas.arrow_head(start, end, color_=ink, width=width, filled="Filled" in head, opacity=opacity)
    elif kind == "PolylineAnnotation":
        points = [(float(p["x"]), float(p["y"])) for p in mark["points"]]
        canvas.polyline(points, stroke=color(mark.get("color"), "#000000"), width=float(mark.get("thickness", 2)),
                        opacity=opacity)


def _draw_selection(canvas: PageCanvas, mark: dict[str, Any], line: dict[str, Any], first: bool,
                    to_user: Matrix) -> None:
    kind = mark["type"]
    x, y, w, h = float(line["x"]), float(line["y"]), float(line["width"]), float(line["height"])
    if kind == "HighlightAnnotation":
        canvas.rect(x, y, w, h, fill=color(mark.get("fillColor"), "#FFFF00"), multiply=True)
    elif kind == "StrikethroughAnnotation":
        thickness = float(mark.get("thickness", 1))
        # the viewer's underline is a strike-through drawn at the foot of the line (markup JSON has no underline)
        at = y + h - thickness if (mark.get("data") or {}).get("pageturnStyle") == "underline" else y + h / 2
        canvas.polyline([(x, at), (x + w, at)], stroke=color(mark.get("color"), "#FF0000"), width=thickness)
    elif kind == "TextHyperlinkAnnotation":
        canvas.polyline([(x, y + h - 1), (x + w, y + h - 1)], stroke=color(mark.get("fillColor"), "#0000FF"),
                        width=max(2.0, h / 12))
        href = mark.get("href")
        if isinstance(href, str) and href.lower().startswith(("http://", "https://", "mailto:")):
            canvas.links.append((_user_rect(to_user, x, y, w, h), href))
    elif kind == "TextSelectionRedaction":
        canvas.rect(x, y, w, h, fill=color(mark.get("fillColor"), "#000000"))
        if first:
            canvas.text_box(mark.get("reason") or "", x, y, w, h, fill=color(mark.get("fontColor"), "#FFFFFF"),
                            align="Center", valign="middle", padding=0.5)


def _remove_touched_annotations(pdf: pikepdf.Pdf, page: pikepdf.Page, boxes: list[Box]) -> int:
    annots = page.obj.get("/Annots")
    if not isinstance(annots, pikepdf.Array):
        return 0
    kept, removed = pikepdf.Array(), []
    for annot in annots:
        try:
            rect = tuple(float(v) for v in annot.Rect)
            area = (min(rect[0], rect[2]), min(rect[1], rect[3]), max(rect[0], rect[2]), max(rect[1], rect[3]))
        except (AttributeError, TypeError, ValueError, KeyError):
            kept.append(annot)
            continue
        if any(intersects(area, b.rect) for b in boxes):
            removed.append(annot)
        else:
            kept.append(annot)
    if removed:
        page.obj.Annots = kept
        _drop_fields(pdf, removed)
    return len(removed)


def _drop_fields(pdf: pikepdf.Pdf, widgets: list[Any]) -> None:
    try:
        fields = pdf.Root.AcroForm.Fields
    except (AttributeError, KeyError):
        return
    gone = {w.objgen for w in widgets if w.is_indirect}

    def keep(field: Any) -> bool:
        if field.is_indirect and field.objgen in gone:
            return False
        kids = field.get("/Kids")
        if isinstance(kids, pikepdf.Array):
            remaining = pikepdf.Array([k for k in kids if keep(k)])
            if not len(remaining):
                return False
            field.Kids = remaining
        return True

    pdf.Root.AcroForm.Fields = pikepdf.Array([f for f in fields if keep(f)])


def _scrub_document(pdf: pikepdf.Pdf) -> None:
    """What could hold redacted text outside the pages' content."""
    root = pdf.Root
    for key in ("/Metadata", "/StructTreeRoot", "/MarkInfo", "/PieceInfo", "/SpiderInfo", "/OCProperties", "/AF",
                "/Collection"):
        if key in root:
            del root[key]
    if "/Names" in root:
        for key in ("/EmbeddedFiles", "/JavaScript"):
            if key in root.Names:
                del root.Names[key]
    if "/Info" in pdf.trailer:
        del pdf.trailer["/Info"]
    for page in pdf.pages:
        for key in ("/Metadata", "/PieceInfo", "/Thumb", "/StructParents", "/AF"):
            if key in page.obj:
                del page.obj[key]
        annots = page.obj.get("/Annots")
        if isinstance(annots, pikepdf.Array):  # file attachments carry their files
            page.obj.Annots = pikepdf.Array([a for a in annots if str(a.get("/Subtype", "")) != "/FileAttachment"])


def open_document(path: str, kind: str, password: str | None) -> tuple[pikepdf.Pdf, str]:
    """The document as a PDF (an image source becomes a one-page-per-frame PDF) and the path PDFium reads."""
    if kind == "image":
        with Image.open(path) as picture:
            frames = []
            for index in range(getattr(picture, "n_frames", 1)):
                picture.seek(index)
                frames.append(picture.convert("RGB"))
            buffer = io.BytesIO()
            frames[0].save(buffer, "PDF", save_all=True, append_images=frames[1:], resolution=72.0)
        return pikepdf.open(io.BytesIO(buffer.getvalue())), ""
    try:
        return pikepdf.open(path, password=password or ""), path
    except pikepdf.PasswordError:
        raise PasswordRequired() from None
    except pikepdf.PdfError as exc:
        raise CorruptDocument(f"The PDF cannot be read: {str(exc)[:200]}") from None


def burn(path: str, kind: str, marks: list[dict[str, Any]], out_path: str, *, password: str | None = None,
         dpi: float = 150.0) -> dict[str, Any]:
    """Writes the document with `marks` burned in to `out_path`; returns what was done, for logs and benchmarks:
    {"pageCount", "redactedPages", "rasterisedPages": [0-based], "glyphsRemoved", "imagesChanged", "pathsRemoved",
    "pathsClipped", "seconds"}."""
    started = time.monotonic()
    pdf, pdfium_path = open_document(path, kind, password)
    source: pdfium.PdfDocument | None = None
    try:
        frames = _frames(pdf)
        boxes = redaction_boxes(marks, frames)
        hidden = hidden_groups(pdf)
        stats = Stats()
        counter = [0]
        rasterised: list[int] = []
        redacting = bool(boxes) or any(m["type"] in RECT_REDACTIONS or m["type"] == "TextSelectionRedaction"
                                       for m in marks)
        pages_to_clean = set(boxes) | (set(range(len(pdf.pages))) if hidden and redacting else set())
        for index in sorted(pages_to_clean):
            page = pdf.pages[index]
            page_boxes = boxes.get(index, [])
            try:
                clean_page(pdf, page, page_boxes, hidden, stats, counter)
            except NeedsRaster:
                if source is None:
                    source = pdfium.PdfDocument(pdfium_path or _bytes(pdf), password=password)
                rasterise_page(pdf, page, source, index, page_boxes, dpi)
                rasterised.append(index)
            _remove_touched_annotations(pdf, page, page_boxes)

        by_page: dict[int, list[tuple[dict[str, Any], dict[str, Any] | None, bool]]] = defaultdict(list)
        for mark in marks:
            if mark["type"] in ("HighlightAnnotation", "StrikethroughAnnotation", "TextHyperlinkAnnotation",
                                "TextSelectionRedaction"):
                for n, (page_index, page_data, line) in enumerate(_selection_lines(mark)):
                    by_page[page_index].append(({**mark, "_line": line, "_first": n == 0}, page_data, True))
            else:
                by_page[mark["pageNumber"] - 1].append((mark, mark.get("pageData"), False))
        for index, items in sorted(by_page.items()):
            if not 0 <= index < len(pdf.pages):
                continue
            page = pdf.pages[index]
            canvas = PageCanvas(pdf, frames[index])
            for mark, data, is_line in items:
                matrix = frames[index].mark_matrix(data)
                canvas.begin(matrix)
                if is_line:
                    _draw_selection(canvas, mark, mark["_line"], mark["_first"], matrix)
                else:
                    _draw(canvas, mark)
                canvas.end()
            canvas.apply(page)

        if redacting:
            _scrub_document(pdf)
        pdf.remove_unreferenced_resources()
        pdf.save(out_path, compress_streams=True, object_stream_mode=pikepdf.ObjectStreamMode.generate,
                 encryption=False, linearize=False)
        return {"pageCount": len(pdf.pages), "redactedPages": len(boxes), "rasterisedPages": rasterised,
                "glyphsRemoved": stats.glyphs_removed, "imagesChanged": stats.images_changed,
                "pathsRemoved": stats.paths_removed, "pathsClipped": stats.paths_clipped,
                "hiddenRemoved": stats.hidden_removed, "seconds": round(time.monotonic() - started, 3)}
    finally:
        if source is not None:
            source.close()
        pdf.close()


def _bytes(pdf: pikepdf.Pdf) -> bytes:
    buffer = io.BytesIO()
    pdf.save(buffer)
    return buffer.getvalue()
