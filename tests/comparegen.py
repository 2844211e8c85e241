"""Pairs of Word documents for the comparison engine, each with the exact change list it must produce.

Every pair is built twice from one description, once as the original and once as the revised version, so the
two documents differ only where the pair says. python-docx writes the documents; where it has no API (numbering
instances, cell merges, styles) the XML is edited with lxml through python-docx's element tree.
"""
from __future__ import annotations

import copy
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from docx import Document
from docx.document import Document as WordDocument
from docx.enum.section import WD_ORIENT
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_BREAK
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Pt, RGBColor

LOREM = ("Shareholders approved the annual report after a long discussion about the dividend policy and the "
         "budget for the coming year, which includes new investments in the northern plant.")

# Sentences distinct enough that a diff never aligns one with another by accident.
SENTENCES = [
    "The committee met on Tuesday to review the quarterly figures.",
    "Revenue grew in every region except the coastal markets.",
    "A new warehouse opened near the river in early spring.",
    "Staff turnover fell to its lowest level in a decade.",
    "The board asked for a detailed plan before the summer break.",
    "Customers praised the faster delivery times in the survey.",
    "Energy costs remain the largest risk for the next year.",
    "Two suppliers were replaced after repeated quality problems.",
    "The audit found no material weakness in internal controls.",
    "Marketing will focus on younger buyers in the autumn campaign.",
    "The pension fund returned slightly more than its benchmark.",
    "Legal counsel reviewed every contract signed since January.",
]


@dataclass(frozen=True)
class ComparePair:
    name: str
    build: Callable[[bool], WordDocument]  # build(revised) -> the original (False) or revised (True) document
    expected: Counter                  # change type -> exact count
    note: str = ""

    def write(self, directory: Path) -> tuple[Path, Path]:
        directory.mkdir(parents=True, exist_ok=True)
        original, revised = directory / f"{self.name}-original.docx", directory / f"{self.name}-revised.docx"
        # written once: a docx's zip entries carry the time they were written, so a second save a second later
        # gives other bytes (and another comparison) for the same pair
        if not (original.exists() and revised.exists()):
            self.build(False).save(original)
            self.build(True).save(revised)
        return original, revised


def _plain(*texts: str) -> WordDocument:
    document = Document()
    for text in texts:
        document.add_paragraph(text)
    return document


# ---- one pair per kind of change ------------------------------------------------------------------------------

def word_inserted(revised: bool) -> WordDocument:
    return _plain(SENTENCES[0], "The quick brown " + ("red " if revised else "") + "fox jumps over the lazy dog.",
                  SENTENCES[1])


def paragraph_deleted(revised: bool) -> WordDocument:
    texts = [SENTENCES[0], SENTENCES[1], SENTENCES[2]]
    if revised:
        del texts[1]
    return _plain(*texts)


def word_made_bold(revised: bool) -> WordDocument:
    document = _plain(SENTENCES[0])
    paragraph = document.add_paragraph("Payment is due within ")
    paragraph.add_run("thirty").bold = revised
    paragraph.add_run(" days of the invoice date.")
    document.add_paragraph(SENTENCES[1])
    return document


def alignment_changed(revised: bool) -> WordDocument:
    document = _plain(SENTENCES[0], SENTENCES[1], SENTENCES[2])
    if revised:
        document.paragraphs[1].alignment = WD_ALIGN_PARAGRAPH.CENTER
    return document


def _numbering_instance(document: WordDocument, abstract_id: str, start_override: int | None) -> str:
    """Adds a w:num for an abstract numbering (optionally restarting at start_override); returns its numId."""
    numbering = document.part.numbering_part.element
    ids = [int(n.get(qn("w:numId"))) for n in numbering.findall(qn("w:num"))]
    num_id = str(max(ids, default=0) + 1)
    num = OxmlElement("w:num")
    num.set(qn("w:numId"), num_id)
    abstract = OxmlElement("w:abstractNumId")
    abstract.set(qn("w:val"), abstract_id)
    num.append(abstract)
    if start_override is not None:
        override = OxmlElement("w:lvlOverride")
        override.set(qn("w:ilvl"), "0")
        start = OxmlElement("w:startOverride")
        start.set(qn("w:val"), str(start_override))
        override.append(start)
        num.append(override)
    numbering.append(num)
    return num_id


def _insert_num_pr(p_pr, num_pr) -> None:
    style = p_pr.find(qn("w:pStyle"))
    if style is not None:
        style.addnext(num_pr)
    else:
        p_pr.insert(0, num_pr)


def _numbered_abstract(document: WordDocument) -> str:
    """The abstractNumId behind the 'List Number' style of python-docx's default template."""
    numbering = document.part.numbering_part.element
    style = document.styles["List Number"].element
    num_id = style.find(qn("w:pPr")).find(qn("w:numPr")).find(qn("w:numId")).get(qn("w:val"))
    for num in numbering.findall(qn("w:num")):
        if num.get(qn("w:numId")) == num_id:
            return num.find(qn("w:abstractNumId")).get(qn("w:val"))
    raise LookupError("List Number has no numbering instance")


def list_renumbered(revised: bool) -> WordDocument:
    """A three-item numbered list; the revised list restarts at 5 through a new numbering instance (numId)."""
    document = _plain(SENTENCES[0])
    abstract = _numbered_abstract(document)
    num_id = _numbering_instance(document, abstract, 5 if revised else None)
    for text in ("Prepare the agenda for the meeting", "Send the minutes to every member",
                 "Book the large room for the next session"):
        _insert_list_item(document.add_paragraph(text), num_id)
    document.add_paragraph(SENTENCES[1])
    return document


def _insert_list_item(paragraph, num_id: str, level: int = 0) -> None:
    p_pr = paragraph._p.get_or_add_pPr()
    num_pr = OxmlElement("w:numPr")
    ilvl = OxmlElement("w:ilvl")
    ilvl.set(qn("w:val"), str(level))
    num = OxmlElement("w:numId")
    num.set(qn("w:val"), num_id)
    num_pr.append(ilvl)
    num_pr.append(num)
    _insert_num_pr(p_pr, num_pr)


def list_item_indented(revised: bool) -> WordDocument:
    """The middle item of a numbered list moves one level down (its w:ilvl changes)."""
    document = _plain(SENTENCES[0])
    num_id = _numbering_instance(document, _numbered_abstract(document), None)
    for i, text in enumerate(("Prepare the agenda for the meeting", "Send the minutes to every member",
                              "Book the large room for the next session")):
        _insert_list_item(document.add_paragraph(text), num_id, level=1 if revised and i == 1 else 0)
    return document


def paragraph_moved(revised: bool) -> WordDocument:
    texts = SENTENCES[:5]
    if revised:
        texts = [texts[0], texts[2], texts[3], texts[1], texts[4]]
    return _plain(*texts)


def _table(document: WordDocument, rows: list[list[str]]):
    table = document.add_table(rows=len(rows), cols=len(rows[0]))
    table.style = "Table Grid"
    for r, cells in enumerate(rows):
        for c, text in enumerate(cells):
            table.cell(r, c).text = text
    return table


TABLE_ROWS = [["Item", "Quantity", "Price"], ["Apples", "12", "3.10"], ["Pears", "7", "2.80"],
              ["Plums", "30", "5.25"], ["Cherries", "4", "9.90"]]


def table_row_inserted_and_deleted(revised: bool) -> WordDocument:
    rows = [list(r) for r in TABLE_ROWS]
    if revised:
        del rows[2]                                   # Pears goes
        rows.insert(3, ["Oranges", "18", "4.40"])     # Oranges comes after Plums
    document = _plain(SENTENCES[0])
    _table(document, rows)
    document.add_paragraph(SENTENCES[1])
    return document


def _drop_empty_paragraphs(cell) -> None:
    """python-docx's merge keeps the swallowed cell's (empty) paragraph; Word drops it."""
    for paragraph in cell.paragraphs[1:]:
        if not paragraph.text:
            paragraph._p.getparent().remove(paragraph._p)


def cells_merged(revised: bool) -> WordDocument:
    """Two cells of the last row merge side by side (the right one was empty)."""
    document = _plain(SENTENCES[0])
    table = _table(document, [["Region", "North", "South"], ["Sales", "1200", "900"], ["Notes", "steady", ""]])
    if revised:
        _drop_empty_paragraphs(table.cell(2, 1).merge(table.cell(2, 2)))
    document.add_paragraph(SENTENCES[1])
    return document


def cells_merged_vertically(revised: bool) -> WordDocument:
    """Two cells of one column merge top to bottom (the lower one was empty)."""
    document = _plain(SENTENCES[0])
    table = _table(document, [["A", "top", "x"], ["B", "", "y"], ["C", "z", "w"]])
    if revised:
        _drop_empty_paragraphs(table.cell(0, 1).merge(table.cell(1, 1)))
    document.add_paragraph(SENTENCES[1])
    return document


def cell_inserted(revised: bool) -> WordDocument:
    """The second row gains a fourth cell (python-docx cannot add one cell: the XML is edited)."""
    document = _plain(SENTENCES[0])
    table = _table(document, [["Region", "North", "South"], ["Sales", "1200", "900"]])
    if revised:
        row = table.rows[1]._tr
        cell = copy.deepcopy(row.findall(qn("w:tc"))[-1])
        for text in cell.iter(qn("w:t")):
            text.text = "77"
        row.append(cell)
    document.add_paragraph(SENTENCES[1])
    return document


def table_property_changed(revised: bool) -> WordDocument:
    document = _plain(SENTENCES[0])
    table = _table(document, TABLE_ROWS[:3])
    if revised:
        table.alignment = WD_TABLE_ALIGNMENT.CENTER
    document.add_paragraph(SENTENCES[1])
    return document


def section_landscape(revised: bool) -> WordDocument:
    document = _plain(SENTENCES[0], SENTENCES[1])
    if revised:
        section = document.sections[0]
        section.orientation = WD_ORIENT.LANDSCAPE
        section.page_width, section.page_height = section.page_height, section.page_width
    return document


def style_definition_changed(revised: bool) -> WordDocument:
    document = Document()
    document.add_heading("Annual report", level=1)
    document.add_paragraph(SENTENCES[0])
    if revised:
        font = document.styles["Heading 1"].font
        font.color.rgb = RGBColor(0xC0, 0x00, 0x00)
        font.size = Pt(20)
    return document


def header_changed(revised: bool) -> WordDocument:
    document = _plain(SENTENCES[0], SENTENCES[1])
    document.sections[0].header.paragraphs[0].text = "Confidential draft" if revised else "Confidential"
    return document


def identical(revised: bool) -> WordDocument:
    document = Document()
    document.add_heading("Identical documents", level=1)
    for text in SENTENCES[:4]:
        document.add_paragraph(text)
    _table(document, TABLE_ROWS[:3])
    return document


PAGE3_INSERTED_WORD = "urgently"


def change_on_page_three(revised: bool) -> WordDocument:
    """Three pages split by explicit page breaks; one word is inserted in the middle of page 3."""
    document = Document()
    for page in range(3):
        document.add_paragraph(f"Page {page + 1} opening line.")
        for text in SENTENCES[page * 3:page * 3 + 3]:
            document.add_paragraph(text)
        if page == 2:
            document.add_paragraph("The manager " + (PAGE3_INSERTED_WORD + " " if revised else "") +
                                   "requested a revised schedule for the project.")
        if page < 2:
            document.add_paragraph().add_run().add_break(WD_BREAK.PAGE)
    return document


# ---- the benchmark pair: 16 pages, about twenty mixed changes --------------------------------------------------

# (page, paragraph) -> what the revision does there
SIXTEEN_PAGE_EDITS: dict[tuple[int, int], str] = {
    (0, 1): "insert", (2, 3): "insert", (4, 0): "insert", (7, 2): "insert", (10, 4): "insert", (14, 1): "insert",
    (1, 2): "delete", (6, 4): "delete", (9, 1): "delete", (13, 3): "delete",
    (3, 0): "bold", (8, 2): "bold", (12, 4): "bold",
    (5, 1): "align", (11, 3): "align", (15, 0): "align",
}
SIXTEEN_PAGE_ADDED_NOTES = (5, 12)     # chapters that gain a closing paragraph
SIXTEEN_PAGE_REMOVED_NOTES = (3, 9)    # chapters that lose one


def sixteen_pages(revised: bool) -> WordDocument:
    """16 pages (explicit page breaks), each a heading and five long paragraphs; the revision makes 20 changes."""
    document = Document()
    for page in range(16):
        document.add_heading(f"Chapter {page + 1}", level=2)
        for line in range(5):
            edit = SIXTEEN_PAGE_EDITS.get((page, line)) if revised else None
            words = [f"Paragraph {line + 1} of chapter {page + 1}:", *SENTENCES[(page + line) % 12].split()]
            if edit == "insert":
                words.insert(4, "additionally")
            elif edit == "delete":
                del words[3]
            paragraph = document.add_paragraph()
            if SIXTEEN_PAGE_EDITS.get((page, line)) == "bold":
                paragraph.add_run(" ".join(words[:3]) + " ")
                paragraph.add_run(words[3]).bold = revised
                paragraph.add_run(" " + " ".join(words[4:]) + " " + LOREM)
            else:
                paragraph.add_run(" ".join(words) + " " + LOREM)
            if edit == "align":
                paragraph.alignment = WD_ALIGN_PARAGRAPH.RIGHT
        if revised and page in SIXTEEN_PAGE_ADDED_NOTES:
            document.add_paragraph(f"An added note closes chapter {page + 1} with a short remark.")
        if not revised and page in SIXTEEN_PAGE_REMOVED_NOTES:
            document.add_paragraph(f"A removed note closes chapter {page + 1} with a short remark.")
        if page < 15:
            document.add_paragraph().add_run().add_break(WD_BREAK.PAGE)
    return document


def _sixteen_page_expected() -> Counter:
    kinds = Counter(SIXTEEN_PAGE_EDITS.values())
    return Counter(contentInserted=kinds["insert"] + len(SIXTEEN_PAGE_ADDED_NOTES),
                   contentDeleted=kinds["delete"] + len(SIXTEEN_PAGE_REMOVED_NOTES),
                   propertyChanged=kinds["bold"], paragraphPropertyChanged=kinds["align"])


PAIRS: dict[str, ComparePair] = {p.name: p for p in [
    ComparePair("word_inserted", word_inserted, Counter(contentInserted=1)),
    ComparePair("paragraph_deleted", paragraph_deleted, Counter(contentDeleted=1)),
    ComparePair("word_made_bold", word_made_bold, Counter(propertyChanged=1)),
    ComparePair("alignment_changed", alignment_changed, Counter(paragraphPropertyChanged=1)),
    ComparePair("list_renumbered", list_renumbered, Counter(paragraphNumberChanged=3),
                "each of the three items moves to a new numbering instance"),
    ComparePair("list_item_indented", list_item_indented, Counter(paragraphNumberChanged=1)),
    ComparePair("paragraph_moved", paragraph_moved, Counter(contentMovedFrom=1, contentMovedTo=1)),
    ComparePair("table_row_inserted_and_deleted", table_row_inserted_and_deleted,
                Counter(contentInserted=1, contentDeleted=1), "a whole row counts as one change"),
    ComparePair("cells_merged", cells_merged, Counter(tableCellsMerged=1)),
    ComparePair("cells_merged_vertically", cells_merged_vertically, Counter(tableCellsMerged=1)),
    ComparePair("cell_inserted", cell_inserted, Counter(tableCellInserted=1)),
    ComparePair("table_property_changed", table_property_changed, Counter(tablePropertyChanged=1)),
    ComparePair("section_landscape", section_landscape, Counter(sectionPropertyChanged=1)),
    ComparePair("style_definition_changed", style_definition_changed, Counter(styleDefinitionChanged=1)),
    ComparePair("header_changed", header_changed, Counter(contentInserted=1)),
    ComparePair("identical", identical, Counter()),
    ComparePair("change_on_page_three", change_on_page_three, Counter(contentInserted=1)),
]}

SIXTEEN_PAGES = ComparePair("sixteen_pages", sixteen_pages, _sixteen_page_expected())
