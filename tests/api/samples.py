"""Small source documents for the session tests, generated on the fly."""
from __future__ import annotations

import io

from docx import Document
from reportlab.pdfgen import canvas


def pdf_bytes(text: str = "Hello pageturn", pages: int = 1) -> bytes:
    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer, pagesize=(612, 792))
    for n in range(pages):
        pdf.drawString(72, 720, f"{text} {n + 1}")
        pdf.showPage()
    pdf.save()
    return buffer.getvalue()


def docx_bytes(*paragraphs: str) -> bytes:
    document = Document()
    for text in paragraphs or ("Hello pageturn",):
        document.add_paragraph(text)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


# A PDF whose content the tests know exactly (PDF points, top-left origin in the facts below).
KNOWN_TEXT = "Hello pageturn"
KNOWN_FONT_SIZE = 24
KNOWN_TEXT_X = 72
KNOWN_TEXT_BASELINE_FROM_TOP = 100
BLACK_BOX = (300, 300, 100, 100)  # x, y, width, height from the top-left of page 0
LINK_HREF = "https://example.com/docs"
LINK_RECT = (72, 200, 150, 20)


def known_pdf() -> bytes:
    """Page 0: letter with known text, a black box and a link; page 1: A4 landscape; page 2: letter rotated 90."""
    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer, pagesize=(612, 792))
    pdf.setFont("Helvetica", KNOWN_FONT_SIZE)
    pdf.drawString(KNOWN_TEXT_X, 792 - KNOWN_TEXT_BASELINE_FROM_TOP, KNOWN_TEXT)
    x, y, w, h = BLACK_BOX
    pdf.rect(x, 792 - y - h, w, h, fill=1, stroke=0)
    lx, ly, lw, lh = LINK_RECT
    pdf.setFont("Helvetica", 12)
    pdf.drawString(lx, 792 - ly - lh + 5, "Read the docs")
    pdf.linkURL(LINK_HREF, (lx, 792 - ly - lh, lx + lw, 792 - ly), relative=0)
    pdf.showPage()
    pdf.setPageSize((842, 595))
    pdf.setFont("Helvetica", 18)
    pdf.drawString(72, 500, "Landscape page")
    pdf.showPage()
    pdf.setPageSize((612, 792))
    pdf.drawString(72, 700, "Rotated page")
    pdf.showPage()
    pdf.save()
    from pypdf import PdfReader, PdfWriter
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(buffer.getvalue())))
    writer.pages[2].rotate(90)  # /Rotate only: displayed as 792 x 612
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def encrypted_pdf(password: str) -> bytes:
    from pypdf import PdfReader, PdfWriter
    writer = PdfWriter()
    for page in PdfReader(io.BytesIO(pdf_bytes("secret content", pages=2))).pages:
        writer.add_page(page)
    writer.encrypt(password, algorithm="AES-128")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def png_image(width: int = 400, height: int = 300) -> bytes:
    from PIL import Image, ImageDraw
    image = Image.new("RGB", (width, height), "white")
    ImageDraw.Draw(image).rectangle((0, 0, width // 2, height // 2), fill="black")
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()
