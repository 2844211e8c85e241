"""The prefix of a long Word document (engines/office_prefix.py): where it is cut, which section properties the
cut section keeps, and the documents it refuses to cut because their first pages would differ."""
from __future__ import annotations

import zipfile
from pathlib import Path

from docx import Document
from docx.enum.section import WD_SECTION
from docx.oxml import parse_xml
from docx.shared import Inches

from bombgen import docx_bomb
from officegen import FILLER, docx_pages
from pageturn.engines.office_prefix import docx_prefix

W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
FIELD = f'<w:fldSimple xmlns:w="{W}" w:instr=" {{}} \\* MERGEFORMAT"><w:r><w:t>1</w:t></w:r></w:fldSimple>'


def _cut(src: Path, tmp_path: Path, **kw) -> tuple[dict, Path]:
    dest = tmp_path / "prefix.docx"
    return docx_prefix(str(src), str(dest), **{"min_document_bytes": 0, "budget": 3000, **kw}), dest


def test_the_first_body_elements_are_kept_with_every_other_part(tmp_path):
    src = tmp_path / "long.docx"
    docx_pages(src, 40)
    facts, dest = _cut(src, tmp_path)
    assert facts["made"] and 0 < facts["keptBytes"] < facts["documentBytes"]
    original, prefix = Document(str(src)), Document(str(dest))
    kept = [p.text for p in prefix.paragraphs]
    assert 0 < len(kept) < len(original.paragraphs)
    assert kept == [p.text for p in original.paragraphs][:len(kept)]
    assert prefix.element.body[-1].tag == f"{{{W}}}sectPr"
    with zipfile.ZipFile(src) as a, zipfile.ZipFile(dest) as b:
        assert set(a.namelist()) == set(b.namelist())
        assert all(a.read(n) == b.read(n) for n in a.namelist() if n != "word/document.xml")


def test_the_cut_section_keeps_its_own_properties(tmp_path):
    document = Document()
    document.sections[0].page_width = Inches(7)      # the first section: 7 inches wide
    for index in range(30):
        document.add_paragraph(f"first section {index} {FILLER}")
    later = document.add_section(WD_SECTION.NEW_PAGE)
    later.page_width = Inches(11)                    # the last one (the body's own sectPr): 11 inches
    for index in range(30):
        document.add_paragraph(f"second section {index} {FILLER}")
    src = tmp_path / "sections.docx"
    document.save(str(src))
    facts, dest = _cut(src, tmp_path)
    assert facts["made"]
    prefix = Document(str(dest))
    assert all(p.text.startswith("first section") for p in prefix.paragraphs)
    assert [s.page_width for s in prefix.sections] == [Inches(7)]


def _with_footer_field(path: Path, instruction: str) -> None:
    document = Document()
    document.sections[0].footer.paragraphs[0]._p.append(parse_xml(FIELD.format(instruction)))
    for index in range(60):
        document.add_paragraph(f"{index} {FILLER}")
    document.save(str(path))


def test_a_page_count_in_the_footer_is_refused(tmp_path):
    src = tmp_path / "numpages.docx"
    _with_footer_field(src, "NUMPAGES")
    facts, dest = _cut(src, tmp_path)
    assert not facts["made"] and "NUMPAGES" in facts["reason"] and not dest.exists()
    _with_footer_field(src, "PAGE")                  # the page's own number is the same in both
    assert _cut(src, tmp_path)[0]["made"]


def test_a_reference_in_the_first_pages_is_refused(tmp_path):
    document = Document()
    for index in range(60):
        paragraph = document.add_paragraph(f"{index} {FILLER}")
        if index == 2:
            paragraph._p.append(parse_xml(FIELD.format("PAGEREF _Toc1 \\h")))
    src = tmp_path / "pageref.docx"
    document.save(str(src))
    facts, _ = _cut(src, tmp_path)
    assert not facts["made"] and "PAGEREF" in facts["reason"]


def test_small_documents_and_other_files_are_left_whole(tmp_path):
    src = tmp_path / "short.docx"
    docx_pages(src, 3)
    assert docx_prefix(str(src), str(tmp_path / "p.docx")) == {"made": False, "reason": "small document"}
    assert _cut(src, tmp_path, budget=10**9)[0] == {"made": False, "reason": "small document"}
    other = tmp_path / "other.docx"
    other.write_bytes(b"\xd0\xcf\x11\xe0 an encrypted Word file is an OLE container, not a zip")
    assert not _cut(other, tmp_path)[0]["made"]


def _complex_field(instruction: str, cached: str) -> list[str]:
    """A field as Word writes most: begin, code, separate, its saved result, end (each in its own run)."""
    return [f'<w:r xmlns:w="{W}"><w:fldChar w:fldCharType="begin"/></w:r>',
            f'<w:r xmlns:w="{W}"><w:instrText xml:space="preserve"> {instruction} </w:instrText></w:r>',
            f'<w:r xmlns:w="{W}"><w:fldChar w:fldCharType="separate"/></w:r>',
            f'<w:r xmlns:w="{W}"><w:t>{cached}</w:t></w:r>',
            f'<w:r xmlns:w="{W}"><w:fldChar w:fldCharType="end"/></w:r>']


def test_a_table_of_contents_is_kept_but_a_reference_outside_it_is_not(tmp_path):
    """LibreOffice shows a TOC's saved page numbers (the PAGEREFs in its result) but computes a PAGEREF or REF
    elsewhere, which in a prefix points at a bookmark that is not there."""
    def build(extra_ref: bool) -> Path:
        document = Document()
        toc = document.add_paragraph()
        begin, code, separate, _, end = _complex_field('TOC \\o "1-3" \\h \\z \\u', "")
        for xml in (begin, code, separate, *_complex_field("PAGEREF _Toc9 \\h", "12")):
            toc._p.append(parse_xml(xml))
        document.add_paragraph("Chapter nine")                  # the TOC's second line
        document.add_paragraph()._p.append(parse_xml(end))      # a TOC spans paragraphs: it ends here
        if extra_ref:
            see = document.add_paragraph("See ")
            for xml in _complex_field("REF _Toc9 \\h", "Chapter nine"):
                see._p.append(parse_xml(xml))
        for index in range(60):
            document.add_paragraph(f"{index} {FILLER}")
        path = tmp_path / f"toc-{extra_ref}.docx"
        document.save(str(path))
        return path

    assert _cut(build(False), tmp_path)[0]["made"]
    facts, _ = _cut(build(True), tmp_path)
    assert not facts["made"] and "REF" in facts["reason"]


def test_bombs_are_not_copied(tmp_path):
    """A part that inflates far past the file's size stops the copy (the disk is not filled), and a text part
    declaring gigabytes is not read at all."""
    src = tmp_path / "long.docx"
    docx_pages(src, 40)
    with zipfile.ZipFile(src, "a", zipfile.ZIP_DEFLATED) as archive, \
            archive.open("word/media/zeros.bin", "w", force_zip64=True) as member:
        for _ in range(80):
            member.write(bytes(1 << 20))   # 80 MiB of zeros: about 80 kB zipped
    facts, dest = _cut(src, tmp_path)
    assert facts == {"made": False, "reason": "its parts inflate past the copy's budget"} and not dest.exists()
    bomb = tmp_path / "bomb.docx"
    bomb.write_bytes(docx_bomb(2 << 30))
    assert _cut(bomb, tmp_path)[0] == {"made": False, "reason": "word/document.xml is too large"}
