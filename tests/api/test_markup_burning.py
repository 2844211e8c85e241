"""The markup burner over real HTTP: every mark type drawn (pixels), true redaction proven by text extraction
(pdftotext and PDFium), by the embedded image's pixels and by the absence of the vector shape, the rasterised
fallback, the viewing session's burner, and every error the spec lists."""
from __future__ import annotations

import io

import pikepdf
import pytest

from api.markup_client import (all_stream_bytes, burn, burned_pdf, finish, near, pdfium_text, pdftotext, render,
                               upload, upload_markup)
from api.prizm import Prizm
from docgen import make_pdf_pages
from markupgen import LETTER, every_mark, make_redaction_pdf, make_unknown_font_pdf

REASON = "(G)(6)"   # shares no character with the secret phrase


@pytest.fixture(scope="module")
def prizm(server):
    return Prizm(server.url)


def _box_mark(box, page=1, **extra) -> dict:
    x, y, w, h = box
    return {"uid": f"r{page}-{x}", "type": "RectangleRedaction", "pageNumber": page,
            "rectangle": {"x": x, "y": y, "width": w, "height": h}, "pageData": dict(LETTER), "reason": REASON,
            "fillColor": "#000000", **extra}


def _images(pdf: pikepdf.Pdf, resources, matrix_ok=True):
    """Every image XObject reachable from a resources dictionary (through forms)."""
    found = []
    for _, xobject in (resources.get("/XObject") or {}).items():
        if xobject.get("/Subtype") == "/Image":
            found.append(xobject)
        elif xobject.get("/Subtype") == "/Form" and "/Resources" in xobject:
            found += _images(pdf, xobject.Resources)
    return found


def _path_points(pdf: pikepdf.Pdf, page) -> list[tuple[float, float]]:
    points = []

    def walk(instructions, resources):
        for item in instructions:
            if isinstance(item, pikepdf.ContentStreamInlineImage):
                continue
            op = str(item.operator)
            if op in ("m", "l"):
                points.append(tuple(float(v) for v in item.operands))
            if op == "Do":
                xobject = resources.XObject[str(item.operands[0])]
                if xobject.get("/Subtype") == "/Form":
                    walk(pikepdf.parse_content_stream(xobject), xobject.get("/Resources", resources))

    walk(pikepdf.parse_content_stream(page), page.Resources)
    return points


def test_redaction_removes_text_image_pixels_and_vector_shape(prizm):
    document, facts = make_redaction_pdf()
    before = pdftotext(document, 1)
    assert facts.secret in before                                       # the phrase is there to begin with
    burned = burned_pdf(prizm, document, [_box_mark(facts.box)])

    # text: no extractor finds the phrase, any of its words, or any of its characters inside the box
    for extracted in (pdftotext(burned, 1), pdfium_text(burned, 0)):
        for word in facts.secret.split():
            assert word not in extracted, extracted
        for line in facts.kept_lines:
            assert line in extracted                                    # text elsewhere unchanged
        assert "Before" in extracted and "after" in extracted           # the same line, outside the box
    for inside in (pdftotext(burned, 1, crop=facts.box), pdfium_text(burned, 0, crop=facts.box)):
        assert not set(inside) & set(facts.secret.replace(" ", "")), inside
    assert facts.secret in pdftotext(burned, 2)                         # the other page was not redacted
    with pikepdf.open(io.BytesIO(burned)) as pdf:                       # no object but page 2's content has it
        second = {pdf.pages[1].Contents.objgen}
        for obj in pdf.objects:
            data = (obj.read_bytes() if isinstance(obj, pikepdf.Stream) else b"") + repr(obj).encode()
            if any(word.encode() in data for word in facts.secret.split()):
                assert obj.objgen in second, repr(obj)[:200]

    with pikepdf.open(io.BytesIO(burned)) as pdf:
        page = pdf.pages[0]
        # the image: its pixels under the box are the redaction colour, the rest still green
        images = _images(pdf, page.Resources)
        assert len(images) == 1
        picture = pikepdf.PdfImage(images[0]).as_pil_image().convert("RGB")
        ix, iy, iw, ih = facts.image_rect
        bx, by, bw, bh = facts.box
        for x in range(picture.width):
            for y in range(0, picture.height, 5):
                px, py = ix + (x + 0.5) * iw / picture.width, iy + (y + 0.5) * ih / picture.height
                under = bx <= px <= bx + bw and by <= py <= by + bh
                if under:
                    assert picture.getpixel((x, y)) == (0, 0, 0), (x, y)
                elif not (bx - 2 <= px <= bx + bw + 2 and by - 2 <= py <= by + bh + 2):
                    assert picture.getpixel((x, y)) == (0, 200, 0), (x, y)
        # the vector star is gone from every content stream
        sx, sy, sw, sh = facts.shape_rect
        for x, y in _path_points(pdf, page):
            assert not (sx <= x <= sx + sw and 792 - sy - sh <= y <= 792 - sy), (x, y)
        # nothing outside the pages keeps the text: no document information, no XMP
        assert "/Info" not in pdf.trailer and "/Metadata" not in pdf.Root

    # rendered: black under the box, green where the image is outside it, text above still drawn
    image = render(burned)
    assert near(image.getpixel((int(bx + 3), int(by + 3))), (0, 0, 0), 10)
    assert near(image.getpixel((380, 320)), (0, 200, 0), 10)
    assert REASON in pdftotext(burned, 1, crop=facts.box).replace(" ", "")


def test_a_page_that_cannot_be_cleaned_is_rasterised_with_its_remaining_text(prizm):
    document = make_unknown_font_pdf("Secret words here and more")
    assert "Secret" in pdftotext(document)
    # "Secret" at 72..~130 on the baseline at 792-700 = 92 from the top
    burned = burned_pdf(prizm, document, [_box_mark((68, 70, 60, 30))])
    text = pdftotext(burned)
    assert "Secret" not in text and "Secr" not in text
    assert "here" in text and "more" in text                         # the invisible text layer of the rest
    assert "Secret".encode() not in all_stream_bytes(burned)
    with pikepdf.open(io.BytesIO(burned)) as pdf:
        assert list(pdf.pages[0].Resources.XObject.keys()) == ["/PTPage"]   # the page is one image
    assert near(render(burned).getpixel((70, 72)), (0, 0, 0), 10)


EXPECTED_PIXELS = [
    ("ellipse fill", (80, 65), (0, 255, 0)),
    ("freehand", (175, 70), (0, 0, 255)),
    ("highlight", (120, 124), (255, 255, 0)),
    ("image stamp", (420, 60), (0, 128, 255)),
    ("image stamp redaction", (480, 60), (0, 128, 255)),
    ("line", (120, 230), (255, 0, 255)),
    ("polyline", (275, 230), (0, 128, 0)),
    ("rectangle fill", (450, 230), (255, 192, 203)),
    ("rectangle border", (400, 230), (0, 0, 255)),
    ("rectangle redaction", (43, 303), (0, 0, 0)),
    ("stamp redaction", (353, 303), (0, 0, 0)),
    ("strikethrough", (90, 387), (255, 0, 0)),
    ("text redaction", (403, 463), (0, 0, 0)),
    ("text selection redaction", (43, 542), (0, 0, 0)),
    ("hyperlink underline", (90, 473), (0, 0, 255)),
    ("transparent redaction", (475, 560), (255, 255, 255)),
]


def test_every_mark_type_is_drawn(prizm):
    document = make_pdf_pages(1, image=False, lines=0)
    marks = every_mark()
    burned = burned_pdf(prizm, document, marks)
    image = render(burned)
    for name, (x, y), colour in EXPECTED_PIXELS:  # thin strokes straddle pixel rows: one of the 3x3 suffices
        around = [image.getpixel((x + dx, y + dy)) for dx in (-1, 0, 1) for dy in (-1, 0, 1)]
        assert any(near(p, colour, 40) for p in around), (name, around)
    # text-bearing marks: ink inside their rectangles, and their words extractable
    text = pdftotext(burned)
    for words in ("A note", "APPROVED", "PRIVATE", "Ann Smith", "A.S.", "[withheld]", "(b)(6)"):
        assert words in text, (words, text)
    dark = sum(1 for x in range(200, 350) for y in range(540, 580) if sum(image.getpixel((x, y))) < 200)
    assert dark > 20                                                    # the text signature "Ann"
    with pikepdf.open(io.BytesIO(burned)) as pdf:                       # the hyperlink became a link
        links = [a for a in pdf.pages[0].get("/Annots", []) if a.get("/Subtype") == "/Link"]
        assert [str(a.A.URI) for a in links] == ["https://example.com"]
    # the same marks burn on a rotated page and a page of another size, scaled by pageData
    scaled = [dict(m, pageData={"width": 306, "height": 396}, rectangle={k: v / 2 for k, v in m["rectangle"].items()})
              for m in marks if m["type"] == "RectangleAnnotation"]
    half = render(burned_pdf(prizm, document, scaled))
    assert near(half.getpixel((450, 230)), (255, 192, 203), 40)


def test_burner_errors(prizm):
    document = upload(prizm, make_pdf_pages(1, image=False, lines=2), "pdf")
    markup = upload_markup(prizm, every_mark()[:1])
    for body, at in [({}, "input"), ({"input": {}}, "input.documentFileId"),
                     ({"input": {"documentFileId": document}}, "input.markupFileId"),
                     ({"input": {"documentFileId": 5, "markupFileId": markup}}, "input.documentFileId"),
                     ({"input": {"documentFileId": document, "markupFileId": markup}, "minSecondsAvailable": "x"},
                      "minSecondsAvailable")]:
        r = prizm.post("/PCCIS/V1/MarkupBurner", json=body)
        assert r.status_code == 480 and r.json()["errorDetails"]["at"] == at, (body, r.text)
    assert prizm.post("/PCCIS/V1/MarkupBurner", data=b"{").status_code == 480

    missing = "A" * 43
    assert burn(prizm, missing, markup)["errorCode"] == "DocumentFileIdDoesNotExist"
    assert burn(prizm, document, missing)["errorCode"] == "MarkupFileIdDoesNotExist"
    bad = upload_markup(prizm, [{"uid": "x", "type": "Nope", "pageNumber": 1}])
    result = burn(prizm, document, bad)
    assert result["state"] == "error" and result["errorCode"] == "InvalidMarkup"
    assert result["errorDetails"]["at"] == "marks[0].type"
    assert burn(prizm, document, upload(prizm, b"<xml/>", "xml"))["errorCode"] == "RedactionError"
    broken = upload(prizm, b"%PDF-1.7\nthis is not a pdf at all", "pdf")
    assert burn(prizm, broken, markup)["errorCode"] == "RedactionError"
    r = prizm.get("/PCCIS/V1/MarkupBurner/" + "B" * 43)
    assert r.status_code == 404 and r.json()["errorCode"] == "NotFound"


@pytest.mark.storages("dir", "s3")
def test_the_sessions_burner_serves_the_burned_document(prizm, forget_local_copies):
    document, facts = make_redaction_pdf()
    # nothing rendered ahead (which would fetch the document again): on S3 the burner reads it through the bucket
    sid = prizm.session_with(document, "pdf", {"startConverting": "none"})
    forget_local_copies()
    r = prizm.post(f"/PCCIS/V1/ViewingSession/u{sid}/MarkupBurner", json={"marks": [_box_mark(facts.box)]})
    assert r.status_code == 200, r.text
    started = r.json()
    assert (started["input"], started["errorCode"], started["output"], started["state"]) == (
        None, None, None, "processing")
    process = started["processId"]
    done = finish(prizm, f"/PCCIS/V1/ViewingSession/u{sid}/MarkupBurner/{process}")
    assert done["state"] == "complete", done
    forget_local_copies()  # and the burned document too
    r = prizm.get(f"/PCCIS/V1/ViewingSession/u{sid}/MarkupBurner/{process}/Document",
                  params={"ContentDispositionFilename": "contract"})
    assert r.status_code == 200 and r.headers["Content-Type"] == "application/pdf"
    assert r.headers["Content-Disposition"].startswith("attachment; filename=contract.pdf")
    assert "Quokka" not in pdftotext(r.content, 1)
    other = prizm.session_with(document, "pdf")                # another session cannot read this process
    assert prizm.get(f"/PCCIS/V1/ViewingSession/u{other}/MarkupBurner/{process}").status_code == 404
    r = prizm.post(f"/PCCIS/V1/ViewingSession/u{sid}/MarkupBurner", json={"marks": [{"uid": "a", "type": "X"}]})
    assert r.status_code == 480 and r.json()["errorCode"] == "InvalidMarkup"


def test_redacted_output_keeps_no_hidden_copy_of_text(prizm):
    from markupgen import make_leaky_pdf
    document = make_leaky_pdf()
    raw_before = all_stream_bytes(document)
    for secret in (b"HiddenSecret", b"attachsecret", b"InfoSecret", b"XmpSecret", b"FieldSecret"):
        assert secret in raw_before
    # the box covers "Visible" (72..~125 at 14 pt, baseline 92 from the top) and the form field
    burned = burned_pdf(prizm, document, [_box_mark((68, 74, 47, 24))])
    raw = all_stream_bytes(burned)
    for secret in (b"HiddenSecret", b"attachsecret", b"InfoSecret", b"XmpSecret", b"FieldSecret", b"Visible"):
        assert secret not in raw, secret
    text = pdftotext(burned)
    assert "text line" in text and "Visible" not in text
    with pikepdf.open(io.BytesIO(burned)) as pdf:
        annots = pdf.pages[0].get("/Annots", [])
        assert [str(a.Subtype) for a in annots] == ["/Link"]            # the link outside the box stays
        assert "/OCProperties" not in pdf.Root and not len(pdf.attachments)


def test_redaction_on_a_rotated_page(prizm):
    from docgen import make_pdf
    document, facts = make_pdf()
    assert "Rotated" in pdftotext(document, 4)
    # page 4 shows 842x595 turned clockwise: "Rotated page" runs downwards from (642, 50)
    box = (628, 40, 40, 140)
    mark = {**_box_mark(box, page=4), "pageData": {"width": 842, "height": 595}}
    burned = burned_pdf(prizm, document, [mark])
    assert "Rotated" not in pdftotext(burned, 4) and "Rotated" not in pdfium_text(burned, 3)
    assert near(render(burned, 3).getpixel((630, 42)), (0, 0, 0), 10)
    assert "Hello pageturn" in pdftotext(burned, 1)
