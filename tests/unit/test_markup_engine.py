"""The redaction engine on constructed PDFs: composite (Identity-H) fonts, TJ arrays with kerning, text after the
box keeping its place, a form XObject holding text, hidden content outside any box."""
from __future__ import annotations

import pikepdf
import pypdfium2 as pdfium

from pageturn.engines.markup.burn import burn
from pageturn.engines.markup.raster import invisible_font


def _pdf(content: bytes, fonts: dict, xobjects: dict | None = None) -> pikepdf.Pdf:
    pdf = pikepdf.new()
    resources = pikepdf.Dictionary(Font=pikepdf.Dictionary(fonts))
    if xobjects:
        resources.XObject = pikepdf.Dictionary(xobjects)
    pdf.pages.append(pikepdf.Page(pikepdf.Dictionary(Type=pikepdf.Name.Page, MediaBox=[0, 0, 612, 792],
                                                     Resources=resources, Contents=pdf.make_stream(content))))
    return pdf


def _chars(path: str) -> list[tuple[str, float]]:
    """Each character of page 1 with the left edge of its box."""
    document = pdfium.PdfDocument(path)
    textpage = document[0].get_textpage()
    out = []
    for i in range(textpage.count_chars()):
        char = textpage.get_text_range(i, 1)
        if char.strip():
            out.append((char, round(textpage.get_charbox(i)[0], 2)))
    document.close()
    return out


def _redact(tmp_path, pdf: pikepdf.Pdf, box: tuple[float, float, float, float]) -> tuple[str, dict]:
    source, out = tmp_path / "in.pdf", tmp_path / "out.pdf"
    pdf.save(source)
    x, y, w, h = box
    mark = {"uid": "r", "type": "RectangleRedaction", "pageNumber": 1, "rectangle": {"x": x, "y": y, "width": w,
            "height": h}, "pageData": {"width": 612, "height": 792}, "fillColor": "#000000"}
    report = burn(str(source), "pdf", [mark], str(out))
    return str(out), report


def test_composite_font_glyphs_go_and_the_rest_keeps_its_place(tmp_path):
    pdf = pikepdf.new()
    font = invisible_font(pdf)          # Type0, Identity-H, every glyph 1 em wide, Unicode code units as codes
    text = "KEEP SECRET KEEP"
    codes = text.encode("utf-16-be")
    content = b"BT /F1 10 Tf 3 Tr 100 700 Td <" + codes.hex().encode() + b"> Tj ET"
    page = pikepdf.Dictionary(Type=pikepdf.Name.Page, MediaBox=[0, 0, 612, 792],
                              Resources=pikepdf.Dictionary(Font=pikepdf.Dictionary(F1=font)),
                              Contents=pdf.make_stream(content))
    pdf.pages.append(pikepdf.Page(page))
    source = tmp_path / "cid.pdf"
    pdf.save(source)
    before = _chars(str(source))
    # "SECRET" spans 150..210 (glyphs are 10 pt wide); the box covers it, top-left origin
    out, report = _redact(tmp_path, pikepdf.open(source), (149, 82, 62, 14))
    assert report["glyphsRemoved"] == 6 and not report["rasterisedPages"]
    after = _chars(out)
    assert "".join(c for c, _ in after) == "KEEPKEEP"
    assert after == before[:4] + before[10:]           # the same characters at the same places


def test_tj_kerning_and_forms(tmp_path):
    helvetica = pikepdf.Dictionary(Type=pikepdf.Name.Font, Subtype=pikepdf.Name.Type1,
                                   BaseFont=pikepdf.Name.Helvetica)
    pdf = pikepdf.new()
    form = pdf.make_stream(b"BT /F1 12 Tf 0 0 Td (Form hides Secret too) Tj ET")
    form.Type, form.Subtype, form.BBox = pikepdf.Name.XObject, pikepdf.Name.Form, [0, 0, 300, 20]
    form.Resources = pikepdf.Dictionary(Font=pikepdf.Dictionary(F1=helvetica))
    content = (b"BT /F1 12 Tf 72 700 Td [(Kerned) -250 (Secret) 120 (word) ( stays)] TJ ET\n"
               b"q 1 0 0 1 72 600 cm /Fx Do Q")
    page = pikepdf.Dictionary(Type=pikepdf.Name.Page, MediaBox=[0, 0, 612, 792],
                              Resources=pikepdf.Dictionary(Font=pikepdf.Dictionary(F1=helvetica),
                                                           XObject=pikepdf.Dictionary(Fx=form)),
                              Contents=pdf.make_stream(content))
    pdf.pages.append(pikepdf.Page(page))
    source = tmp_path / "tj.pdf"
    pdf.save(source)
    before = _chars(str(source))
    # "Secret" on the first line: Helvetica 12, after "Kerned" (38.7) and a 3 pt kern -> 113.7..148.4 ("word"
    # starts at 146.9, kerned back); on the form's line after "Form hides " (63.3) -> 135.3..170.0
    out, report = _redact(tmp_path, pikepdf.open(source), (113, 88, 34, 14))
    out2, report2 = _redact(tmp_path, pikepdf.open(out), (134, 188, 35, 14))
    assert not report["rasterisedPages"] and not report2["rasterisedPages"]
    text = "".join(c for c, _ in _chars(out2))
    assert "Secret" not in text and "ecre" not in text
    assert text.startswith("Kernedwordstays") and "Formhides" in text and text.endswith("too")
    after = _chars(out2)
    # "wordstays" after the box: the same characters at the same places as before the redaction
    assert after[6:15] == before[12:21] and "".join(c for c, _ in before[12:21]) == "wordstays"
    with pikepdf.open(out2) as result:                 # the original form, with the word, is not in the file
        for obj in result.objects:
            if isinstance(obj, pikepdf.Stream):
                assert b"Secret" not in obj.read_bytes()


def test_paths_inside_a_box_go_and_paths_crossing_it_are_clipped_out(tmp_path):
    pdf = _pdf(b"0 0 1 rg 100 600 20 20 re f\n"            # a square wholly inside the box
               b"1 0 0 RG 4 w 50 610 m 400 610 l S\n"      # a line through the box
               b"0 1 0 rg 300 300 50 50 re f\n", {})        # a square far from it
    out, report = _redact(tmp_path, pdf, (90, 170, 40, 40))   # x 90..130, y(top) 170..210 -> 582..622 up
    assert report["pathsRemoved"] == 1 and report["pathsClipped"] == 1 and not report["rasterisedPages"]
    with pikepdf.open(out) as result:
        ops = [(str(i.operator), [float(v) for v in i.operands]) for i in pikepdf.parse_content_stream(result.pages[0])
               if not isinstance(i, pikepdf.ContentStreamInlineImage)]
    assert ("re", [100, 600, 20, 20]) not in ops and ("re", [300, 300, 50, 50]) in ops
    assert ("m", [50, 610]) in ops and ("W", []) in ops          # the line stays, with a clip around the box
    document = pdfium.PdfDocument(out)
    image = document[0].render(scale=1).to_pil().convert("RGB")
    document.close()
    assert image.getpixel((60, 182)) == (255, 0, 0)             # the line outside the box is still drawn
    assert image.getpixel((325, 467)) == (0, 255, 0)
