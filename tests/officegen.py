"""Office, text and HTML documents for the LibreOffice engine's tests and benchmark, each built with what it
must look like once converted: which words on which page, which sheet on which pages, how many slides.

python-docx, openpyxl and python-pptx write the Office files; msoffcrypto-tool encrypts one with a password.
"""
from __future__ import annotations

import io
import random
import zipfile
from pathlib import Path

from docx import Document
from docx.enum.text import WD_BREAK
from docx.shared import Inches, Pt
from PIL import Image, ImageDraw

WORDS = ["amber", "basalt", "cobalt", "dahlia", "ember", "fjord", "granite", "harbor", "indigo", "juniper",
         "kestrel", "lagoon", "magnet", "nectar", "orchid", "pebble", "quartz", "raven", "saffron", "tundra"]

FILLER = ("The quarterly review covered production, logistics and the training programme for new staff, and "
          "the committee agreed to revisit the figures once the audit of the northern depot is complete.")


def page_marker(index: int) -> str:
    """A word found on page `index` (0-based) and nowhere else."""
    return f"Marker{WORDS[index % len(WORDS)].capitalize()}{index:03d}"


def png_bytes(width: int = 320, height: int = 200, seed: int = 1) -> bytes:
    """A small PNG with shapes, so an embedded image is real picture data rather than a blank."""
    rng = random.Random(seed)
    image = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(image)
    for _ in range(12):
        x, y = rng.randrange(width), rng.randrange(height)
        colour = tuple(rng.randrange(256) for _ in range(3))
        draw.ellipse((x, y, x + rng.randrange(20, 90), y + rng.randrange(20, 90)), fill=colour)
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


def docx_pages(path: Path, pages: int, *, tables: bool = False, image: bool = False,
               paragraphs_per_page: int = 3) -> list[str]:
    """A Word document of `pages` pages separated by explicit page breaks; returns each page's marker word.
    Short enough per page that nothing overflows onto the next page."""
    document = Document()
    markers = []
    picture = png_bytes() if image else None
    for index in range(pages):
        marker = page_marker(index)
        markers.append(marker)
        document.add_heading(f"Section {index + 1} {marker}", level=1)
        for _ in range(paragraphs_per_page):
            document.add_paragraph(FILLER)
        if tables and index % 2 == 0:
            table = document.add_table(rows=4, cols=3)
            table.style = "Table Grid"
            for r, row in enumerate(table.rows):
                for c, cell in enumerate(row.cells):
                    cell.text = f"R{r}C{c} {WORDS[(r * 3 + c) % len(WORDS)]}"
        if picture is not None and index % 4 == 1:
            document.add_picture(io.BytesIO(picture), width=Inches(2.5))
        if index < pages - 1:
            document.add_paragraph().add_run().add_break(WD_BREAK.PAGE)
    document.save(path)
    return markers


def benchmark_docx(path: Path) -> list[str]:
    """The benchmark's 16-page document: text on every page, tables on every other page, images."""
    return docx_pages(path, 16, tables=True, image=True)


def long_docx(path: Path, pages: int = 400) -> None:
    """A document large enough that converting it takes LibreOffice seconds (for timeout tests)."""
    document = Document()
    style = document.styles["Normal"]
    style.font.size = Pt(9)
    for index in range(pages):
        document.add_heading(f"Chapter {index + 1}", level=2)
        table = document.add_table(rows=12, cols=5)
        table.style = "Table Grid"
        for r, row in enumerate(table.rows):
            for c, cell in enumerate(row.cells):
                cell.text = f"{WORDS[(index + r + c) % len(WORDS)]} {r * c}"
        for _ in range(6):
            document.add_paragraph(FILLER * 2)
    document.save(path)


def corrupt_docx(path: Path) -> None:
    """A .docx whose ZIP directory is cut off: it starts like a Word file but cannot be opened."""
    buffer = io.BytesIO()
    docx_pages(buffer, 2)  # type: ignore[arg-type]  # python-docx saves to file objects too
    data = buffer.getvalue()
    path.write_bytes(data[: len(data) // 2])


def broken_xml_docx(path: Path) -> None:
    """A complete ZIP whose main document part is not XML."""
    buffer = io.BytesIO()
    docx_pages(buffer, 1)  # type: ignore[arg-type]
    with zipfile.ZipFile(buffer) as source, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            data = source.read(item.filename)
            if item.filename == "word/document.xml":
                data = b"<w:document this is not xml" + bytes(range(256)) * 4
            target.writestr(item, data)


def encrypted_docx(path: Path, password: str, pages: int = 2) -> list[str]:
    """A Word document protected by `password` (Office's standard agile encryption)."""
    import msoffcrypto.format.ooxml  # test dependency: msoffcrypto-tool

    buffer = io.BytesIO()
    markers = docx_pages(buffer, pages)  # type: ignore[arg-type]
    buffer.seek(0)
    with open(path, "wb") as out:
        msoffcrypto.format.ooxml.OOXMLFile(buffer).encrypt(password, out)
    return markers


def xlsx_sheets(path: Path) -> list[tuple[str, list[str]]]:
    """A workbook of three sheets: 'Budget' long enough for several pages, 'Blank' empty, 'Summary' short.
    Returns (sheet name, words that appear on it) in sheet order."""
    from openpyxl import Workbook

    workbook = Workbook()
    budget = workbook.active
    budget.title = "Budget"
    budget_words = ["BudgetTopRow", "BudgetBottomRow"]
    budget.append(["Item", "Amount", "Note"])
    budget.append([budget_words[0], 1, "first"])
    for row in range(3, 150):
        budget.append([f"line {row}", row * 10, WORDS[row % len(WORDS)]])
    budget.append([budget_words[1], 999, "last"])
    workbook.create_sheet("Blank")
    summary = workbook.create_sheet("Summary")
    summary_words = ["SummaryTotal"]
    summary.append([summary_words[0], "=SUM(Budget!B2:B151)"])
    for sheet in (budget, summary):
        sheet.column_dimensions["A"].width = 24  # wide enough that the words are not cut off on the page
    workbook.save(path)
    return [("Budget", budget_words), ("Blank", []), ("Summary", summary_words)]


def pptx_slides(path: Path, count: int) -> list[str]:
    """A presentation of `count` slides, each with a distinct title word; returns the titles."""
    from pptx import Presentation

    presentation = Presentation()
    titles = []
    for index in range(count):
        slide = presentation.slides.add_slide(presentation.slide_layouts[1])
        title = f"Slide{WORDS[index % len(WORDS)].capitalize()}{index}"
        titles.append(title)
        slide.shapes.title.text = title
        slide.placeholders[1].text = FILLER
    presentation.save(path)
    return titles


TEXT_SAMPLE = "Crème brûlée for Zoë\nNaïve façade, déjà vu\nPrice: 42 €\n"
LATIN1_SAMPLE = "Crème brûlée for Zoë\nNaïve façade, déjà vu\nPrice: 42 £\n"


def text_file(path: Path, text: str, encoding: str) -> None:
    """`encoding`: 'utf-8', 'utf-8-sig', 'utf-16' (with BOM, as Python writes it), 'latin-1' or 'cp1252'."""
    path.write_bytes(text.encode(encoding))


def csv_file(path: Path, rows: list[list[str]], delimiter: str = ",") -> None:
    import csv

    with open(path, "w", newline="", encoding="utf-8") as handle:
        csv.writer(handle, delimiter=delimiter).writerows(rows)


def html_with_external_image(path: Path, image_url: str, *, stylesheet_url: str | None = None) -> str:
    """An HTML page that references an image (and optionally a stylesheet) at the given URLs; returns its
    visible marker text."""
    marker = "HtmlMarkerHeading"
    link = f'<link rel="stylesheet" href="{stylesheet_url}">' if stylesheet_url else ""
    path.write_text(
        f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>t</title>{link}</head><body>"
        f"<h1>{marker}</h1><p>Paragraph with <b>bold</b> text.</p>"
        f"<img src=\"{image_url}\" width=\"200\" height=\"100\" alt=\"remote\">"
        f"<table border='1'><tr><td>cell one</td><td>cell two</td></tr></table>"
        f"</body></html>", encoding="utf-8")
    return marker


def docx_with_linked_image(path: Path, image_url: str) -> str:
    """A Word document whose only picture is linked, not embedded: Word (and LibreOffice, given the chance)
    loads it from `image_url` when showing the page. Returns the document's marker text."""
    import re

    marker = "LinkedImageMarker"
    buffer = io.BytesIO()
    document = Document()
    document.add_paragraph(marker)
    document.add_picture(io.BytesIO(png_bytes()), width=Inches(3))
    document.save(buffer)
    with zipfile.ZipFile(buffer) as source, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            if item.filename.startswith("word/media/"):
                continue
            data = source.read(item.filename)
            if item.filename == "word/_rels/document.xml.rels":
                data = re.sub(rb'Target="media/[^"]+"', f'Target="{image_url}" TargetMode="External"'.encode(), data)
            elif item.filename == "word/document.xml":
                data = data.replace(b"r:embed=", b"r:link=")
            target.writestr(item, data)
    return marker
