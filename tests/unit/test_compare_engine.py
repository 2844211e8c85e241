"""The Word comparison engine: Docxodus redlines, the change list read from them, and where each change lands in
the PDF that LibreOffice renders from the marked redline."""
from __future__ import annotations

import re
import shutil
import subprocess
import zipfile
from collections import Counter
from pathlib import Path

import pytest
from lxml import etree

import comparegen
from pageturn.engines import compare

W = {"w": compare.W_NS}


def redline(pair: comparegen.ComparePair, directory: Path) -> tuple[Path, Path, Path]:
    original, revised = pair.write(directory)
    redlined = directory / f"{pair.name}-redlined.docx"
    compare.compare_docx(original, revised, redlined)
    return original, revised, redlined


def part(docx: Path, name: str) -> etree._Element:
    with zipfile.ZipFile(docx) as archive:
        return etree.fromstring(archive.read(name))


@pytest.mark.parametrize("name", list(comparegen.PAIRS))
def test_each_pair_gives_exactly_its_changes(name, tmp_path):
    pair = comparegen.PAIRS[name]
    original, revised, redlined = redline(pair, tmp_path)
    changes = compare.parse_changes(redlined, original, revised)
    assert Counter(c["type"] for c in changes) == pair.expected, changes
    assert [c["id"] for c in changes] == list(range(len(changes)))
    assert all(c["type"] in compare.CHANGE_TYPES and isinstance(c["text"], str) for c in changes)


def test_identical_documents_have_no_changes(tmp_path):
    original, revised, redlined = redline(comparegen.PAIRS["identical"], tmp_path)
    assert compare.parse_changes(redlined, original, revised) == []


def test_changes_carry_the_changed_text(tmp_path):
    texts = {}
    for name in ("word_inserted", "paragraph_deleted", "word_made_bold", "paragraph_moved",
                 "table_row_inserted_and_deleted", "style_definition_changed"):
        original, revised, redlined = redline(comparegen.PAIRS[name], tmp_path)
        texts[name] = [(c["type"], c["text"]) for c in compare.parse_changes(redlined, original, revised)]
    moved = comparegen.SENTENCES[1]
    assert texts["word_inserted"] == [("contentInserted", "red")]
    assert texts["paragraph_deleted"] == [("contentDeleted", comparegen.SENTENCES[1])]
    assert texts["word_made_bold"] == [("propertyChanged", "thirty")]
    assert texts["paragraph_moved"] == [("contentMovedFrom", moved), ("contentMovedTo", moved)]
    assert texts["table_row_inserted_and_deleted"] == [("contentDeleted", "Pears | 7 | 2.80"),
                                                       ("contentInserted", "Oranges | 18 | 4.40")]
    assert texts["style_definition_changed"] == [("styleDefinitionChanged", "heading 1")]


def test_formatting_marks_that_change_nothing_are_not_changes(tmp_path):
    original, revised, redlined = redline(comparegen.PAIRS["word_made_bold"], tmp_path)
    # the engine marks the untouched runs of the paragraph too, with equal old and new properties
    assert len(part(redlined, compare.DOCUMENT_PART).findall(".//w:rPrChange", W)) > 1
    assert [c["type"] for c in compare.parse_changes(redlined)] == ["propertyChanged"]


def test_long_text_is_shortened(tmp_path):
    pair = comparegen.ComparePair("long", lambda revised: comparegen._plain(
        comparegen.SENTENCES[0], *([comparegen.LOREM * 3] if revised else [])), Counter(contentInserted=1))
    original, revised, redlined = redline(pair, tmp_path)
    [change] = compare.parse_changes(redlined, original, revised)
    assert len(change["text"]) == compare.TEXT_LIMIT and change["text"].endswith("…")


def test_style_changes_the_engine_did_not_mark_are_found_from_the_inputs(tmp_path):
    original, revised, redlined = redline(comparegen.PAIRS["style_definition_changed"], tmp_path)
    # an engine that leaves styles.xml unmarked: strip the marks, keep the revised definitions
    styles = part(redlined, compare.STYLES_PART)
    for mark in styles.xpath("//w:rPrChange | //w:pPrChange", namespaces=W):
        mark.getparent().remove(mark)
    unmarked = tmp_path / "unmarked.docx"
    with zipfile.ZipFile(redlined) as source, zipfile.ZipFile(unmarked, "w") as target:
        for info in source.infolist():
            data = etree.tostring(styles) if info.filename == compare.STYLES_PART else source.read(info)
            target.writestr(info, data)
    assert compare.parse_changes(unmarked) == []
    changes = compare.parse_changes(unmarked, original, revised)
    assert [(c["type"], c["styleId"]) for c in changes] == [("styleDefinitionChanged", "Heading1")]


def test_engine_failure_is_reported(tmp_path):
    bad = tmp_path / "bad.docx"
    bad.write_bytes(b"not a zip file")
    good, _ = comparegen.PAIRS["identical"].write(tmp_path)
    with pytest.raises(compare.CompareError):
        compare.compare_docx(bad, good, tmp_path / "out.docx")


def test_markers_bracket_every_change_and_drop_noise(tmp_path):
    original, revised, redlined = redline(comparegen.PAIRS["word_made_bold"], tmp_path)
    changes = compare.parse_changes(redlined, original, revised)
    marked = tmp_path / "marked.docx"
    compare.add_change_markers(redlined, marked, changes)
    body = part(marked, compare.DOCUMENT_PART)
    names = body.xpath("//w:bookmarkStart/@w:name", namespaces=W)
    assert names == list(compare.marker_names(0))
    # the start marker sits right before the bold run, the end marker right after it
    run = body.xpath("//w:r[w:rPr/w:b]", namespaces=W)[0]
    assert run.getprevious().tag == compare.w("bookmarkEnd") and run.getnext().tag == compare.w("bookmarkStart")
    assert len(body.findall(".//w:rPrChange", W)) == 1
    # the change list must belong to the document it marks
    with pytest.raises(compare.CompareError):
        compare.add_change_markers(redlined, tmp_path / "other.docx", [{"id": 0, "type": "contentDeleted"}])


# ---- on a real LibreOffice rendering ------------------------------------------------------------------------------

needs_soffice = pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice is not installed")


def to_pdf(docs: list[Path], outdir: Path, profile: Path, target: str = compare.PDF_EXPORT_FILTER) -> None:
    subprocess.run(["soffice", f"-env:UserInstallation={profile.as_uri()}", "--headless", "--convert-to", target,
                    "--outdir", str(outdir), *map(str, docs)], check=True, capture_output=True, timeout=240)


@pytest.fixture(scope="module")
def rendered(tmp_path_factory):
    """The page-3 and the 16-page pairs compared, marked and converted by LibreOffice (one soffice run each way:
    with named destinations, and plain for the text fallback)."""
    directory = tmp_path_factory.mktemp("rendered")
    result = {}
    for pair in (comparegen.PAIRS["change_on_page_three"], comparegen.SIXTEEN_PAGES):
        original, revised, redlined = redline(pair, directory)
        changes = compare.parse_changes(redlined, original, revised)
        marked = directory / f"{pair.name}.docx"
        compare.add_change_markers(redlined, marked, changes)
        result[pair.name] = (changes, directory / f"{pair.name}.pdf", directory / "plain" / f"{pair.name}.pdf")
    docs = [directory / f"{name}.docx" for name in result]
    to_pdf(docs, directory, directory / "lo")
    to_pdf(docs, directory / "plain", directory / "lo", target="pdf")
    return result


def text_in(pdf_path: Path, rectangle: dict) -> str:
    import pypdfium2 as pdfium
    pdf = pdfium.PdfDocument(str(pdf_path))
    page = pdf[rectangle["pageIndex"]]
    height = page.get_height()
    x, y, w, h = rectangle["x"], rectangle["y"], rectangle["width"], rectangle["height"]
    text = page.get_textpage().get_text_bounded(x - 0.5, height - y - h, x + w + 0.5, height - y)
    pdf.close()
    return text


@needs_soffice
def test_change_on_page_three_is_located_there(rendered):
    changes, pdf_path, _ = rendered["change_on_page_three"]
    [place] = compare.locate_changes(changes, pdf_path)
    assert place["startPageIndex"] == place["endPageIndex"] == 2
    [rectangle] = place["rectangles"]
    assert rectangle["pageIndex"] == 2
    assert 72 <= rectangle["x"] < 300 and 72 <= rectangle["y"] < 400 and 5 < rectangle["height"] < 20
    assert text_in(pdf_path, rectangle).strip() == comparegen.PAGE3_INSERTED_WORD


def coloured_pixels(pdf_path: Path, rectangle: dict, dx: float = 0, width: float | None = None) -> int:
    """Pixels clearly not grey inside a rectangle (shifted by dx points), rendered at 144 dpi."""
    import pypdfium2 as pdfium
    pdf = pdfium.PdfDocument(str(pdf_path))
    image = pdf[rectangle["pageIndex"]].render(scale=2).to_pil().convert("RGB")
    pdf.close()
    x, y = rectangle["x"] + dx, rectangle["y"]
    w, h = width if width is not None else rectangle["width"], rectangle["height"]
    data = image.crop((int(x * 2), int(y * 2), int((x + w) * 2), int((y + h) * 2))).tobytes()
    return sum(1 for i in range(0, len(data), 3) if max(data[i:i + 3]) - min(data[i:i + 3]) > 60)


@needs_soffice
def test_tracked_changes_are_painted_in_colour(rendered):
    """LibreOffice's PDF shows inserted and deleted text in the author's colour; unchanged text stays black."""
    changes, pdf_path, _ = rendered["change_on_page_three"]
    [place] = compare.locate_changes(changes, pdf_path)
    rectangle = place["rectangles"][0]
    assert coloured_pixels(pdf_path, rectangle) > 20
    # "The manager" just left of the insertion is unchanged, plain black text
    assert coloured_pixels(pdf_path, rectangle, dx=-60, width=55) == 0
    changes, pdf_path, _ = rendered["sixteen_pages"]
    for change, place in zip(changes, compare.locate_changes(changes, pdf_path)):
        if change["type"] in ("contentInserted", "contentDeleted"):
            assert coloured_pixels(pdf_path, place["rectangles"][0]) > 20, change


@needs_soffice
def test_sixteen_page_changes_land_on_their_chapters_pages(rendered):
    changes, pdf_path, _ = rendered["sixteen_pages"]
    places = compare.locate_changes(changes, pdf_path)
    expected_pages = sorted([page for page, _ in comparegen.SIXTEEN_PAGE_EDITS]
                            + list(comparegen.SIXTEEN_PAGE_ADDED_NOTES) + list(comparegen.SIXTEEN_PAGE_REMOVED_NOTES))
    assert [p["endPageIndex"] for p in places] == expected_pages
    for change, place in zip(changes, places):
        assert place["rectangles"], change
        if change["type"] in ("contentInserted", "contentDeleted", "propertyChanged"):
            found = " ".join(text_in(pdf_path, r).strip() for r in place["rectangles"])
            assert re.sub(r"\s+", " ", found) == change["text"]


@needs_soffice
def test_without_destinations_changes_are_found_by_their_text(rendered):
    changes, _, plain_pdf = rendered["change_on_page_three"]
    [place] = compare.locate_changes(changes, plain_pdf)
    assert place["endPageIndex"] == 2
    assert text_in(plain_pdf, place["rectangles"][0]).strip() == comparegen.PAGE3_INSERTED_WORD
