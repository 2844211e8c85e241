"""The conversion engines and input rules without a server: page ranges, tokens, PDF and TIFF assembly, OCR word
boxes."""
from __future__ import annotations

import io

import pikepdf
import pypdfium2 as pdfium
import pytest
from PIL import Image

from api.samples import encrypted_pdf, known_pdf
from pageturn.core.conversion_input import PageRange, pages_text, parse_pages, resolve_pages
from pageturn.core.errors import InputError
from pageturn.engines import assemble, convert_jobs
from pageturn.engines.errors import PasswordRequired, PageOutOfRange


def test_page_ranges_parse_resolve_and_print():
    assert parse_pages("", "x") is None
    assert parse_pages(" 2, 4-9, 12- ", "x") == [PageRange(2, 2), PageRange(4, 9), PageRange(12, None)]
    for bad in ("0", "2-1", "x", "1;2", "1-2-3", "-"):
        with pytest.raises(InputError) as caught:
            parse_pages(bad, "input.sources[0].pages")
        assert caught.value.error_code == "InvalidPageSyntax"
        assert caught.value.details["at"] == "input.sources[0].pages"
    assert resolve_pages(parse_pages("3,1-2,5-", "x"), 6) == ([2, 0, 1, 4, 5], [])
    assert resolve_pages(parse_pages("5-7", "x"), 5) == ([4], [6, 7])
    assert resolve_pages(parse_pages("9-", "x"), 5) == ([], [9])
    assert len(resolve_pages(parse_pages("1-999999999", "x"), 2)[1]) == 100  # bounded
    assert pages_text([0, 1, 2, 4, 6, 7]) == "1-3,5,7-8"
    assert pages_text([]) == ""


def test_page_tokens():
    assert assemble.expand_tokens("Page {{pageNumber}} of {{pageCount}}", 3, 9) == "Page 3 of 9"
    assert assemble.expand_tokens("{{pageNumber+4000,10}}", 2, 9) == "0000004002"
    assert assemble.expand_tokens("{{ pageNumber - 1 }}", 2, 9) == "1"
    assert assemble.TOKEN.fullmatch("{{pageNumbers}}") is None


def _texts(path) -> list[str]:
    document = pdfium.PdfDocument(str(path))
    return [document[i].get_textpage().get_text_range() for i in range(len(document))]


def test_build_pdf_combines_pages_in_order_keeping_text(tmp_path):
    (tmp_path / "k.pdf").write_bytes(known_pdf())
    (tmp_path / "e.pdf").write_bytes(encrypted_pdf("pw"))
    Image.new("RGB", (300, 150), "blue").save(tmp_path / "i.png", dpi=(150, 150))
    parts = [{"path": str(tmp_path / "e.pdf"), "kind": "pdf", "password": "pw", "pages": [1]},
             {"path": str(tmp_path / "i.png"), "kind": "image", "password": None, "pages": [0]},
             {"path": str(tmp_path / "k.pdf"), "kind": "pdf", "password": None, "pages": [2, 0]}]
    out = tmp_path / "out.pdf"
    assert assemble.build_pdf(parts, str(out)) == {"pageCount": 4}
    texts = _texts(out)
    assert "secret content 2" in texts[0] and texts[1] == "" and "Rotated page" in texts[2]
    assert "Hello pageturn" in texts[3]
    with pikepdf.open(out) as result:
        assert not result.is_encrypted
        assert [float(v) for v in result.pages[1].mediabox] == [0, 0, 144, 72]
        assert int(result.pages[2].obj.Rotate) == 90
    with pytest.raises(PasswordRequired):
        assemble.build_pdf([{**parts[0], "password": "wrong"}], str(out))
    with pytest.raises(PageOutOfRange):
        assemble.build_pdf([{**parts[2], "pages": [3]}], str(out))


def test_tiff_pages_keep_their_own_compression(tmp_path):
    bilevel, colour = Image.new("1", (80, 60), 1), Image.new("RGB", (50, 40), "red")
    bilevel.save(tmp_path / "a.tif", compression="group4")
    colour.save(tmp_path / "b.tif", compression="tiff_adobe_deflate")
    assemble.join_tiffs([str(tmp_path / "a.tif"), str(tmp_path / "b.tif")], str(tmp_path / "all.tif"))
    joined = Image.open(tmp_path / "all.tif")
    seen = []
    for index in range(joined.n_frames):
        joined.seek(index)
        seen.append((joined.mode, joined.size, joined.info["compression"]))
    assert seen == [("1", (80, 60), "group4"), ("RGB", (50, 40), "tiff_adobe_deflate")]


def test_ocr_word_boxes_span_the_run_of_each_word():
    # Tesseract's run for "ab " is three evenly spaced glyphs of pitch 10 starting at x=100
    text = "ab cd"
    boxes = [[100, 0, 10, 12], [110, 0, 10, 12], [120, 0, 10, 12], [140, 0, 10, 12], [150, 0, 10, 12]]
    spread = convert_jobs._even_words(text, boxes)
    assert spread[0] == [100, 0, 15, 12] and spread[1] == [115, 0, 15, 12]   # "ab" spans 100..130
    assert spread[2][0] == 130                                              # the space starts at its end
    assert spread[3:] == boxes[3:]                                           # the last word is as it was


def test_svg_of_an_image_page_holds_it_in_points(tmp_path):
    Image.new("RGB", (200, 100), "green").save(tmp_path / "g.png", dpi=(144, 144))
    svg = convert_jobs.svg_of_image(str(tmp_path / "g.png"), 0)
    assert b'width="100.000pt" height="50.000pt"' in svg and b"data:image/png;base64," in svg
    png = svg.split(b"base64,")[1].split(b'"')[0]
    import base64
    assert Image.open(io.BytesIO(base64.b64decode(png))).size == (200, 100)


def _words(pdf_path) -> list[tuple[str, tuple[float, ...]]]:
    import subprocess

    from lxml import etree
    xml = subprocess.run(["pdftotext", "-bbox", str(pdf_path), "-"], capture_output=True, check=True).stdout
    tree = etree.fromstring(xml, etree.XMLParser(recover=True))
    return [(w.text, tuple(round(float(w.get(k)), 1) for k in ("xMin", "yMin", "xMax", "yMax")))
            for w in tree.iter("{*}word")]


def test_ocr_kept_engine_writes_the_same_layer_as_the_command(tmp_path, monkeypatch):
    from convertgen import make_scan
    from pageturn.engines import ocr

    png, _ = make_scan([("Quarterly invoice paid", 200, 300)], dpi=200, page=(1700, 2200))
    image = Image.open(io.BytesIO(png))
    picture = tmp_path / ("page" + ocr.picture_suffix(image.mode))
    image.save(picture, "PPM")
    assert picture.suffix == ".pbm"
    ocr.text_only_pdf(picture, "eng", 200, tmp_path / "kept.pdf", timeout=60)
    engine = ocr._Kept.api
    assert engine is not None and ocr._Kept.language == "eng"
    ocr.text_only_pdf(picture, "eng", 200, tmp_path / "again.pdf", timeout=60)
    assert ocr._Kept.api is engine  # loaded once, kept for the next page
    monkeypatch.setattr(ocr._Kept, "binding", False)  # as without tesserocr: the `tesseract` command
    ocr.text_only_pdf(picture, "eng", 200, tmp_path / "command.pdf", timeout=60)
    kept, command = _words(tmp_path / "kept.pdf"), _words(tmp_path / "command.pdf")
    assert [w for w, _ in kept] == ["Quarterly", "invoice", "paid"]
    assert kept == command == _words(tmp_path / "again.pdf")
    with pdfium.PdfDocument(str(tmp_path / "kept.pdf")) as pdf:
        assert pdf[0].get_size() == (612, 792)  # the image's size at its 200 dpi


def test_ocr_past_its_deadline_fails_and_leaves_no_layer(tmp_path):
    from convertgen import make_scan
    from pageturn.engines import ocr
    from pageturn.engines.errors import OcrFailed

    png, _ = make_scan([("Quarterly invoice paid", 200, 300)], dpi=200, page=(1700, 2200))
    picture = tmp_path / "page.pbm"
    Image.open(io.BytesIO(png)).save(picture, "PPM")
    with pytest.raises(OcrFailed, match="longer than"):
        ocr.text_only_pdf(picture, "eng", 200, tmp_path / "late.pdf", timeout=0.001)
    assert not (tmp_path / "late.pdf").exists()
    ocr.text_only_pdf(picture, "eng", 200, tmp_path / "next.pdf", timeout=60)  # the kept engine still works
    assert [w for w, _ in _words(tmp_path / "next.pdf")] == ["Quarterly", "invoice", "paid"]
