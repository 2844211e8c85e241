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
