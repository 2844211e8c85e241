"""OCR over real HTTP with real Tesseract: searchable PDFs from generated scans (`pdftotext` finds the words, the
page image is unchanged, the text lies over the words), and text for viewing scans through the Text endpoint."""
from __future__ import annotations

import io
import subprocess

import pypdfium2 as pdfium
import pytest
from PIL import Image

from api.prizm import Prizm
from convertgen import Converter, ScanWord, make_scan, scan_pdf

LINES = [("Quarterly report shows growth", 300, 400), ("Invoice number 4711 paid", 300, 900),
         ("Delivery address Hamburg", 600, 2400)]


@pytest.fixture(scope="module")
def scan() -> tuple[bytes, list[ScanWord]]:
    return make_scan(LINES)


@pytest.fixture(scope="module")
def conv(office_server) -> Converter:
    return Converter(office_server.url)


def pdftotext(data: bytes, tmp_path) -> str:
    path = tmp_path / "out.pdf"
    path.write_bytes(data)
    out = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True, check=True).stdout
    return " ".join(out.split())  # pdftotext may break an OCR'd line into blocks


def word_boxes(text: str, boxes: list[list[float]], word: str) -> tuple[float, float, float, float]:
    """The union of the character boxes of `word`'s first occurrence (x, y, width, height)."""
    start = text.index(word)
    chosen = boxes[start:start + len(word)]
    left = min(b[0] for b in chosen)
    top = min(b[1] for b in chosen)
    right = max(b[0] + b[2] for b in chosen)
    bottom = max(b[1] + b[3] for b in chosen)
    return left, top, right - left, bottom - top


def assert_over(found: tuple[float, float, float, float], expected: ScanWord, tolerance: float = 4.0) -> None:
    x, y, w, h = found
    ex, ey, ew, eh = expected.box
    # Tesseract's invisible glyphs are evenly spaced over the word: the left edge is exact, the right one within
    # a glyph or so of the ink's
    assert abs(x - ex) < tolerance, (expected.text, found, expected.box)
    assert abs((x + w) - (ex + ew)) < max(tolerance, 0.15 * ew), (expected.text, found, expected.box)
    # the text box covers the ink's vertical middle (boxes are the font's line height, a little taller than ink)
    assert y < ey + eh / 2 < y + h, (expected.text, found, expected.box)


def test_searchable_pdf_from_a_scanned_image(conv, scan, tmp_path):
    png, words = scan
    file_id = conv.upload(png, "png")
    answer = conv.convert({"input": {"sources": [{"fileId": file_id}],
                                     "dest": {"format": "pdf", "pdfOptions": {"ocr": {"language": "english"}}}}})
    data = conv.outputs(answer)[0]
    text = pdftotext(data, tmp_path)
    for line, _, _ in LINES:
        for word in line.split():
            assert word in text, (word, text)
    document = pdfium.PdfDocument(data)
    page = document[0]
    assert (page.get_width(), page.get_height()) == (612, 792)
    # the page image is the scan's own pixels, unchanged
    image = next(page.get_objects(filter=[pdfium.raw.FPDF_PAGEOBJ_IMAGE], max_depth=3))
    embedded = image.get_bitmap().to_pil().convert("L")
    original = Image.open(io.BytesIO(png)).convert("L")
    assert embedded.size == original.size
    assert embedded.tobytes() == original.tobytes()
    # the invisible words lie over the printed ones
    textpage = page.get_textpage()
    chars = textpage.get_text_range()
    boxes = []
    for index in range(textpage.count_chars()):
        left, bottom, right, top = textpage.get_charbox(index, loose=True)
        boxes.append([left, 792 - top, right - left, top - bottom])
    for expected in (w for w in words if w.text in ("Invoice", "Hamburg", "Quarterly")):
        assert_over(word_boxes(chars, boxes, expected.text), expected)
    # and they are invisible: the rendered page is the scan
    from PIL import ImageChops, ImageStat
    shown = page.render(scale=300 / 72).to_pil().convert("L").crop((0, 0) + original.size)
    assert ImageStat.Stat(ImageChops.difference(shown, original)).mean[0] < 1.0


def test_searchable_pdf_from_an_image_only_pdf_keeps_its_pages(conv, scan, tmp_path):
    png, _ = scan
    blank = make_scan([("Second page text", 300, 300)])[0]
    file_id = conv.upload(scan_pdf([png, blank]), "pdf")
    started = conv.start({"input": {"sources": [{"fileId": file_id}],
                                    "dest": {"format": "pdf", "pdfOptions": {"ocr": {"language": "eng"}}}}})
    assert started["input"]["dest"]["pdfOptions"]["ocr"] == {"language": "eng"}
    answer = conv.wait(started["processId"])
    assert answer["output"]["results"][0]["pageCount"] == 2
    text = pdftotext(conv.outputs(answer)[0], tmp_path)
    assert "Invoice number 4711" in text and "Second page text" in text
    # a page that already has text is left as it is (no doubled words)
    file_id = conv.upload(scan_pdf([png]), "pdf")
    first = conv.outputs(conv.convert({"input": {"sources": [{"fileId": file_id}], "dest": {
        "format": "pdf", "pdfOptions": {"ocr": {"language": "eng"}}}}}))[0]
    again_id = conv.upload(first, "pdf")
    second = conv.outputs(conv.convert({"input": {"sources": [{"fileId": again_id}], "dest": {
        "format": "pdf", "pdfOptions": {"ocr": {"language": "eng"}}}}}))[0]
    assert pdftotext(second, tmp_path).count("Invoice") == 1


def test_other_installed_languages_and_unknown_ones(conv, scan):
    png, _ = scan
    file_id = conv.upload(png, "png")
    for language in ("german", "fra", "spanish", "italian", "portuguese", "dutch", "eng+deu"):
        r = conv.post({"input": {"sources": [{"fileId": file_id}],
                                 "dest": {"format": "pdf", "pdfOptions": {"ocr": {"language": language}}}}})
        assert r.status_code == 200, (language, r.text)
    answer = conv.wait(r.json()["processId"])
    assert answer["state"] == "complete"
    r = conv.post({"input": {"sources": [{"fileId": file_id}],
                             "dest": {"format": "pdf", "pdfOptions": {"ocr": {"language": "klingon"}}}}})
    assert r.status_code == 480
    details = r.json()["errorDetails"]
    assert r.json()["errorCode"] == "InvalidInput" and details["at"] == "input.dest.pdfOptions.ocr.language"
    assert details["received"] == "klingon" and "klingon" in details["message"]
    for installed in ("english", "german", "french", "spanish", "italian", "portuguese", "dutch", "eng", "deu"):
        assert installed in details["expected"]["enum"]


def test_viewing_a_scan_gives_its_words_with_boxes(office_server, scan):
    png, words = scan
    api = Prizm(office_server.url)
    sid = api.session_with(png, "png")
    r = api.get("/PCCIS/V1/Document/q/0-0/Text", params={"DocumentID": "u" + sid}, timeout=120)
    assert r.status_code == 200, r.text
    page = r.json()["pages"][0]
    assert (page["width"], page["height"]) == (612, 792)   # the same units as the page attributes
    assert "Invoice number 4711 paid" in page["text"]
    assert len(page["rectangles"]) == len(page["text"])    # one box per character, as for native text
    for expected in (w for w in words if w.text in ("Quarterly", "4711", "Hamburg")):
        assert_over(word_boxes(page["text"], page["rectangles"], expected.text), expected)
    # a scanned PDF page (an image, no text layer) too, with boxes in points of the PDF page
    sid = api.session_with(scan_pdf([png]), "pdf")
    r = api.get("/PCCIS/V1/Document/q/0-0/Text", params={"DocumentID": "u" + sid}, timeout=120)
    page = r.json()["pages"][0]
    assert "Delivery address Hamburg" in page["text"]
    for expected in (w for w in words if w.text in ("Delivery", "growth")):
        assert_over(word_boxes(page["text"], page["rectangles"], expected.text), expected)
    # a PDF with its own text is not OCR'd: its text is its own
    sid = api.session_with(_text_pdf(), "pdf")
    r = api.get("/PCCIS/V1/Document/q/0-0/Text", params={"DocumentID": "u" + sid}, timeout=120)
    assert r.json()["pages"][0]["text"].strip() == "Native words only"


def _text_pdf() -> bytes:
    from reportlab.pdfgen import canvas
    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer, pagesize=(612, 792))
    pdf.drawString(72, 700, "Native words only")
    pdf.showPage()
    pdf.save()
    return buffer.getvalue()


def test_viewing_ocr_can_be_turned_off(make_server, scan):
    png, _ = scan
    server = make_server(ocr="off", office_enabled="false", render_workers=1)
    api = Prizm(server.url)
    sid = api.session_with(png, "png")
    page = api.get("/PCCIS/V1/Document/q/0-0/Text", params={"DocumentID": "u" + sid}).json()["pages"][0]
    assert page["text"] == "" and page["rectangles"] == []
