"""Marks of every type of the markup JSON format, and PDFs made to be redacted: text, an image and a vector shape
under one box, text elsewhere that must survive."""
from __future__ import annotations

import base64
import io
from dataclasses import dataclass

from PIL import Image
from reportlab.lib.utils import ImageReader
from reportlab.pdfgen import canvas

LETTER = {"width": 612, "height": 792}
PNG_STAMP = "data:image/png;base64," + base64.b64encode(
    (lambda b: (Image.new("RGB", (8, 8), (0, 128, 255)).save(b, "PNG"), b.getvalue())[1])(io.BytesIO())).decode()


def _base(uid: str, kind: str, page: int = 1) -> dict:
    return {"uid": uid, "type": kind, "pageNumber": page, "interactionMode": "Full",
            "creationDateTime": "2026-12-01T10:00:00.000Z", "modificationDateTime": "2026-12-01T10:00:00.000Z",
            "data": {"author": "Ann"}, "conversation": {"data": {}}}


def _rect(uid: str, kind: str, x: float, y: float, w: float, h: float, **props) -> dict:
    return {**_base(uid, kind), "rectangle": {"x": x, "y": y, "width": w, "height": h}, "pageData": dict(LETTER),
            **props}


def _selection(uid: str, kind: str, x: float, y: float, w: float, h: float, **props) -> dict:
    return {**_base(uid, kind), "startIndex": 0, "textLength": 5, "selectedText": "Hello",
            "lineGroups": [{"pageNumber": 1, "pageData": dict(LETTER), "startIndex": 0, "textLength": 5,
                            "lines": [{"x": x, "y": y, "width": w, "height": h}]}], **props}


def every_mark() -> list[dict]:
    """One mark of each of the 21 types, spread over a letter page so that each has its own area."""
    return [
        _rect("m-ellipse", "EllipseAnnotation", 40, 40, 80, 50, borderColor="#FF0000", borderThickness=3,
              fillColor="#00FF00", opacity=255),
        {**_base("m-freehand", "FreehandAnnotation"), "path": "M150,50 L200,90 L240,50", "color": "#0000FF",
         "thickness": 4, "opacity": 255, "pageData": dict(LETTER)},
        {**_base("m-freesig", "FreehandSignature"), "path": "M300,50 C320,20 340,80 360,50", "color": "#000000",
         "thickness": 2, "rectangle": {"x": 290, "y": 20, "width": 80, "height": 70}, "pageData": dict(LETTER)},
        _selection("m-highlight", "HighlightAnnotation", 40, 120, 100, 14, fillColor="#FFFF00"),
        _rect("m-imagestamp", "ImageStampAnnotation", 400, 40, 40, 40, imageDataUrl=PNG_STAMP, imageId="img1"),
        _rect("m-imageredact", "ImageStampRedaction", 460, 40, 40, 40, imageDataUrl=PNG_STAMP, imageId="img1"),
        {**_base("m-line", "LineAnnotation"), "startPoint": {"x": 40, "y": 200}, "endPoint": {"x": 200, "y": 260},
         "color": "#FF00FF", "thickness": 3, "opacity": 255, "endHeadType": "FilledTriangle",
         "pageData": dict(LETTER)},
        {**_base("m-polyline", "PolylineAnnotation"), "points": [{"x": 250, "y": 200}, {"x": 300, "y": 260},
                                                                 {"x": 350, "y": 200}],
         "color": "#008000", "thickness": 2, "opacity": 255, "pageData": dict(LETTER)},
        _rect("m-rect", "RectangleAnnotation", 400, 200, 100, 60, borderColor="#0000FF", borderThickness=2,
              fillColor="#FFC0CB", opacity=255),
        _rect("m-redact", "RectangleRedaction", 40, 300, 120, 40, reason="(b)(6)", fillColor="#000000",
              borderColor="#000000", borderThickness=1, fontColor="#FFFFFF"),
        _rect("m-stamp", "StampAnnotation", 200, 300, 120, 40, label="APPROVED", color="#FF0000"),
        _rect("m-stampredact", "StampRedaction", 350, 300, 120, 40, label="PRIVATE"),
        _selection("m-strike", "StrikethroughAnnotation", 40, 380, 100, 14, color="#FF0000", thickness=2),
        _rect("m-text", "TextAnnotation", 200, 380, 150, 40, text="A note", fontColor="#000000",
              fontName="Arial", fontSize=12, fontStyle=[], horizontalAlignment="Left", borderColor="#000000",
              borderThickness=1, fillColor="#FFFFFF", opacity=255, maxLength=0),
        _rect("m-textareasig", "TextAreaSignature", 400, 380, 150, 40, text="Ann Smith", fontName="Arial",
              fontColor="#000080"),
        _selection("m-link", "TextHyperlinkAnnotation", 40, 460, 100, 14, href="https://example.com",
                   fillColor="#0000FF"),
        _rect("m-inputsig", "TextInputSignature", 200, 460, 150, 40, text="A.S.", fontName="Arial",
              fontColor="#000000", maxLength=0, mask=""),
        _rect("m-textredact", "TextRedaction", 400, 460, 150, 40, text="[withheld]", fontColor="#FFFFFF",
              fontName="Arial", fontSize=10, maxLength=0, horizontalAlignment="Center"),
        _selection("m-selredact", "TextSelectionRedaction", 40, 540, 100, 14, reason="(b)(4)"),
        _rect("m-textsig", "TextSignature", 200, 540, 150, 40, text="Ann", fontName="Arial", color="#000000",
              horizontalAlignment="Left"),
        _rect("m-transparent", "TransparentRectangleRedaction", 400, 540, 150, 40),
    ]


@dataclass(frozen=True)
class RedactionFacts:
    secret: str
    box: tuple[float, float, float, float]       # x, y, width, height, top-left origin, points
    image_rect: tuple[float, float, float, float]
    shape_rect: tuple[float, float, float, float]
    kept_lines: tuple[str, ...]


SECRET = "Zebra Quokka 4711"


def make_redaction_pdf() -> tuple[bytes, RedactionFacts]:
    """A letter page: a line of text whose middle phrase is secret, with a green image and a blue vector star
    under that phrase, and other lines of text above and below. The box covers the phrase, a part of the image
    and the whole star."""
    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer, pagesize=(612, 792), pageCompression=1)
    pdf.setFont("Helvetica", 14)
    pdf.drawString(72, 792 - 100, "Public heading stays here")
    # the image and the star first, the phrase on top
    image = Image.new("RGB", (100, 60), (0, 200, 0))
    pdf.drawImage(ImageReader(image), 200, 792 - 330, 200, 120)         # x 200..400, y(top) 210..330
    pdf.setFillColorRGB(0, 0, 1)
    star = pdf.beginPath()
    star.moveTo(170, 792 - 250)
    star.lineTo(190, 792 - 290)
    star.lineTo(150, 792 - 265)
    star.lineTo(190, 792 - 265)
    star.lineTo(150, 792 - 290)
    star.close()
    pdf.drawPath(star, stroke=0, fill=1)                                   # x 150..190, y(top) 250..290
    pdf.setFillColorRGB(0, 0, 0)
    pdf.setFont("Helvetica", 14)
    pdf.drawString(72, 792 - 240, "Before " + SECRET + " after")
    pdf.drawString(72, 792 - 420, "Closing line survives")
    pdf.showPage()
    pdf.setFont("Times-Roman", 12)
    pdf.drawString(72, 700, "Second page mentions " + SECRET + " too")
    pdf.showPage()
    pdf.save()
    from reportlab.pdfbase.pdfmetrics import stringWidth
    left = 72 + stringWidth("Before ", "Helvetica", 14)
    width = stringWidth(SECRET, "Helvetica", 14)
    box = (left - 1, 225.0, width + 2, 70.0)           # covers the phrase's line and the star; part of the image
    return buffer.getvalue(), RedactionFacts(SECRET, box, (200, 210, 200, 120), (150, 250, 40, 40),
                                             ("Public heading stays here", "Closing line survives"))


def make_pages_with(lines_per_page: list[list[str]], font: str = "Helvetica", size: float = 12) -> bytes:
    """Letter pages with the given lines of text, from the top."""
    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer, pagesize=(612, 792), pageCompression=1)
    for lines in lines_per_page:
        pdf.setFont(font, size)
        for n, line in enumerate(lines):
            pdf.drawString(72, 720 - n * 20, line)
        pdf.showPage()
    pdf.save()
    return buffer.getvalue()


def make_unknown_font_pdf(text: str = "Secret words here and more") -> bytes:
    """A page whose text uses a font with no widths and no standard metrics: it cannot be cleaned glyph by glyph
    and must be rasterised."""
    import pikepdf

    pdf = pikepdf.new()
    font = pikepdf.Dictionary(Type=pikepdf.Name.Font, Subtype=pikepdf.Name.Type1,
                              BaseFont=pikepdf.Name("/MysteryGrotesk"), Encoding=pikepdf.Name.WinAnsiEncoding)
    content = f"BT /F1 16 Tf 72 700 Td ({text}) Tj ET".encode()
    page = pikepdf.Dictionary(Type=pikepdf.Name.Page, MediaBox=[0, 0, 612, 792],
                              Resources=pikepdf.Dictionary(Font=pikepdf.Dictionary(F1=font)),
                              Contents=pdf.make_stream(content))
    pdf.pages.append(pikepdf.Page(page))
    out = io.BytesIO()
    pdf.save(out)
    return out.getvalue()


def make_leaky_pdf() -> bytes:
    """A page with what could keep redacted text outside the visible content: content in a layer hidden by
    default, an attachment, document information, XMP metadata, and a form field whose value sits under the
    box; plus a link outside the box that must stay."""
    import pikepdf

    pdf = pikepdf.new()
    font = pikepdf.Dictionary(Type=pikepdf.Name.Font, Subtype=pikepdf.Name.Type1, BaseFont=pikepdf.Name.Helvetica)
    hidden = pdf.make_indirect(pikepdf.Dictionary(Type=pikepdf.Name.OCG, Name=pikepdf.String("Hidden notes")))
    content = (b"BT /F1 14 Tf 72 700 Td (Visible text line) Tj ET\n"
               b"/OC /oc1 BDC BT /F1 12 Tf 72 500 Td (HiddenSecret words) Tj ET EMC\n")
    resources = pikepdf.Dictionary(Font=pikepdf.Dictionary(F1=font), Properties=pikepdf.Dictionary(oc1=hidden))
    widget = pdf.make_indirect(pikepdf.Dictionary(
        Type=pikepdf.Name.Annot, Subtype=pikepdf.Name.Widget, FT=pikepdf.Name.Tx, T=pikepdf.String("name"),
        V=pikepdf.String("FieldSecret"), Rect=[70, 690, 130, 715]))
    link = pdf.make_indirect(pikepdf.Dictionary(
        Type=pikepdf.Name.Annot, Subtype=pikepdf.Name.Link, Rect=[72, 100, 200, 120],
        A=pikepdf.Dictionary(S=pikepdf.Name.URI, URI=pikepdf.String("https://example.com/kept"))))
    page = pikepdf.Dictionary(Type=pikepdf.Name.Page, MediaBox=[0, 0, 612, 792], Resources=resources,
                              Contents=pdf.make_stream(content), Annots=[widget, link])
    pdf.pages.append(pikepdf.Page(page))
    widget.P = pdf.pages[0].obj
    pdf.Root.OCProperties = pikepdf.Dictionary(OCGs=[hidden], D=pikepdf.Dictionary(OFF=[hidden]))
    pdf.Root.AcroForm = pikepdf.Dictionary(Fields=[widget])
    pdf.attachments["notes.txt"] = pikepdf.AttachedFileSpec(pdf, b"attachsecret inside", mime_type="text/plain")
    with pdf.open_metadata(set_pikepdf_as_editor=False, update_docinfo=False) as meta:
        meta["dc:title"] = "XmpSecret title"
    pdf.docinfo["/Subject"] = "InfoSecret subject"
    out = io.BytesIO()
    pdf.save(out)
    return out.getvalue()
