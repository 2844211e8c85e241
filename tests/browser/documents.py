"""Documents for the viewer tests, with the facts the browser must show (PDF points, top-left origin)."""
from __future__ import annotations

import io
from dataclasses import dataclass

from reportlab.pdfgen import canvas

from docgen import HELLO, LINK, LINK_TEXT, TextFact

SEARCH_WORD = "marmalade"
ON_LETTER_PAGE = TextFact(f"Letter page about {SEARCH_WORD} only", 50, 80, 16)
ON_LANDSCAPE_PAGE = TextFact(f"Landscape: {SEARCH_WORD} and more {SEARCH_WORD.upper()}", 60, 300, 18)
SEARCH_COUNT = 3  # matching ignores case
BLACK_BOX = (300, 400, 100, 50)


@dataclass(frozen=True)
class ThreePages:
    data: bytes
    sizes: tuple[tuple[int, int], ...]


def three_page_pdf() -> ThreePages:
    """0: A4 portrait with "Hello pageturn", a URL link and a black box; 1: letter with the search word once;
    2: A4 landscape with it twice (once in capitals)."""
    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer, pagesize=(595, 842))

    def text(fact: TextFact, height: float) -> None:
        pdf.setFont(fact.font, fact.size)
        pdf.drawString(fact.left, height - fact.baseline, fact.text)

    for fact in (HELLO, LINK_TEXT):
        text(fact, 842)
    x, y, w, h = BLACK_BOX
    pdf.rect(x, 842 - y - h, w, h, stroke=0, fill=1)
    lx, ly, lw, lh = LINK.rect
    pdf.linkURL(LINK.href, (lx, 842 - ly - lh, lx + lw, 842 - ly), relative=0, thickness=0)
    pdf.showPage()

    pdf.setPageSize((612, 792))
    text(ON_LETTER_PAGE, 792)
    pdf.showPage()

    pdf.setPageSize((842, 595))
    text(ON_LANDSCAPE_PAGE, 595)
    pdf.showPage()
    pdf.save()
    return ThreePages(buffer.getvalue(), ((595, 842), (612, 792), (842, 595)))


def word_box(fact: TextFact, word: str) -> tuple[float, float, float, float]:
    """Where a word of a line shows: left, top, width, height (points; top/height span the font size)."""
    from reportlab.pdfbase.pdfmetrics import stringWidth

    start = fact.text.index(word)
    left = fact.left + stringWidth(fact.text[:start], fact.font, fact.size)
    width = stringWidth(word, fact.font, fact.size)
    return left, fact.baseline - fact.size * 0.8, width, fact.size
