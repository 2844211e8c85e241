"""The content conversion API (`/v2/contentConverters`) over real HTTP against a real server, with LibreOffice and
the render pool: every destination from PDF, Word, Excel and multi-frame TIFF sources, checked by opening the
results; combined sources, page ranges, passwords, headers and footers, and every refusal."""
from __future__ import annotations

import io
import subprocess
import zipfile
from pathlib import Path

import pypdfium2 as pdfium
import pytest
from lxml import etree
from PIL import Image

from api.samples import encrypted_pdf, known_pdf, pdf_bytes
from convertgen import Converter
from docgen import FRAME_COLORS, make_tiff
from officegen import corrupt_docx, docx_pages, encrypted_docx, xlsx_sheets

TIFF_SIZES = [(300, 200), (200, 300), (150, 150)]   # at 100 dpi: 216x144, 144x216, 108x108 points


@pytest.fixture(scope="module")
def conv(office_server) -> Converter:
    return Converter(office_server.url)


@pytest.fixture(scope="module")
def sources(conv, tmp_path_factory) -> dict[str, tuple[str, object]]:
    tmp = tmp_path_factory.mktemp("sources")
    docx_path, xlsx_path = tmp / "doc.docx", tmp / "book.xlsx"
    markers = docx_pages(docx_path, 3)
    sheets = xlsx_sheets(xlsx_path)
    return {
        "pdf": (conv.upload(known_pdf(), "pdf"), None),
        "docx": (conv.upload(docx_path.read_bytes(), "docx"), markers),
        "xlsx": (conv.upload(xlsx_path.read_bytes(), "xlsx"), sheets),
        "tiff": (conv.upload(make_tiff(TIFF_SIZES, dpi=100), "tif"), None),
    }


# ---- opening results --------------------------------------------------------------------------------------------
def pdf_pages(data: bytes, password: str | None = None) -> list[tuple[tuple[float, float], str]]:
    """(displayed size in points, text) of every page."""
    document = pdfium.PdfDocument(data, password=password)
    pages = []
    for index in range(len(document)):
        page = document[index]
        textpage = page.get_textpage()
        pages.append(((round(page.get_width(), 1), round(page.get_height(), 1)), textpage.get_text_range()))
    return pages


def tiff_frames(data: bytes) -> list[Image.Image]:
    image = Image.open(io.BytesIO(data))
    frames = []
    for index in range(image.n_frames):
        image.seek(index)
        frame = image.copy()
        frame.info["compression"] = image.info.get("compression")
        frames.append(frame)
    return frames


def svg_size(data: bytes) -> tuple[float, float]:
    root = etree.fromstring(data, etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=True))
    assert root.tag.endswith("svg")
    return float(root.get("width").rstrip("pt")), float(root.get("height").rstrip("pt"))


def start_all(conv: Converter, file_id: str, dests: list[str]) -> dict[str, str]:
    """Start one process per destination at once (they run side by side), {dest: processId}."""
    return {dest: conv.start({"input": {"sources": [{"fileId": file_id}], "dest": {"format": dest}}})["processId"]
            for dest in dests}


# ---- every destination from each kind of source -------------------------------------------------------------------
def test_pdf_source_to_every_destination(conv, sources):
    file_id, _ = sources["pdf"]
    started = start_all(conv, file_id, ["pdf", "tiff", "png", "jpeg", "svg"])
    pdf = conv.wait(started["pdf"])
    assert pdf["output"]["results"][0]["pageCount"] == 3
    assert pdf["output"]["results"][0]["sources"] == [{"fileId": file_id, "pages": "1-3"}]
    pages = pdf_pages(conv.outputs(pdf)[0])
    assert [size for size, _ in pages] == [(612, 792), (842, 595), (792, 612)]  # rotation kept
    assert "Hello pageturn" in pages[0][1] and "Landscape page" in pages[1][1]   # vector text, not pixels
    frames = tiff_frames(conv.outputs(conv.wait(started["tiff"]))[0])
    assert [f.size for f in frames] == [(2550, 3300), (3508, 2479), (3300, 2550)]  # 300 dpi
    assert all(f.info["compression"] == "tiff_adobe_deflate" for f in frames)
    assert frames[0].convert("L").getpixel((350 * 300 // 72, 350 * 300 // 72)) < 40  # the black box
    for dest, magic in (("png", b"\x89PNG"), ("jpeg", b"\xff\xd8")):
        answer = conv.wait(started[dest])
        assert [r["sources"][0]["pages"] for r in answer["output"]["results"]] == ["1", "2", "3"]
        outputs = conv.outputs(answer)
        assert all(o.startswith(magic) for o in outputs)
        assert Image.open(io.BytesIO(outputs[0])).size == (1275, 1650)  # 150 dpi
    svgs = conv.outputs(conv.wait(started["svg"]))
    assert [svg_size(s) for s in svgs] == [(612, 792), (842, 595), (792, 612)]
    assert b"<svg" in svgs[0]


def test_docx_source_to_every_destination(conv, sources):
    file_id, markers = sources["docx"]
    started = start_all(conv, file_id, ["pdf", "tiff", "png", "jpeg", "svg", "docx"])
    pages = pdf_pages(conv.outputs(conv.wait(started["pdf"]))[0])
    assert len(pages) == 3
    for (size, text), marker in zip(pages, markers):
        assert marker in text
        assert size in ((612, 792), (595.3, 841.9))
    assert len(tiff_frames(conv.outputs(conv.wait(started["tiff"]))[0])) == 3
    for dest in ("png", "jpeg", "svg"):
        assert len(conv.outputs(conv.wait(started[dest]))) == 3
    docx = conv.wait(started["docx"])
    data = conv.outputs(docx)[0]
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        body = archive.read("word/document.xml").decode()
    assert all(marker in body for marker in markers)


def test_xlsx_source_to_every_destination(conv, sources):
    file_id, sheets = sources["xlsx"]
    started = start_all(conv, file_id, ["pdf", "tiff", "png", "jpeg", "svg"])
    pdf = conv.wait(started["pdf"])
    count = pdf["output"]["results"][0]["pageCount"]
    pages = pdf_pages(conv.outputs(pdf)[0])
    assert count == len(pages) >= 2
    everything = "".join(text for _, text in pages)
    assert "BudgetTopRow" in everything and "SummaryTotal" in everything
    assert len(tiff_frames(conv.outputs(conv.wait(started["tiff"]))[0])) == count
    for dest in ("png", "jpeg", "svg"):
        assert len(conv.outputs(conv.wait(started[dest]))) == count
    refused = conv.post({"input": {"sources": [{"fileId": file_id}], "dest": {"format": "docx"}}})
    assert refused.status_code == 480 and refused.json()["errorCode"] == "UnsupportedSourceFileFormat"
    assert "xlsx" in refused.json()["errorDetails"]["message"] and "docx" in refused.json()["errorDetails"]["message"]


def test_multiframe_tiff_to_every_destination(conv, sources):
    file_id, _ = sources["tiff"]
    started = start_all(conv, file_id, ["pdf", "tiff", "png", "jpeg", "svg"])
    pdf_data = conv.outputs(conv.wait(started["pdf"]))[0]
    assert [size for size, _ in pdf_pages(pdf_data)] == [(216, 144), (144, 216), (108, 108)]
    document = pdfium.PdfDocument(pdf_data)
    for index, (width, height) in enumerate(TIFF_SIZES):  # embedded at their own pixels, losslessly
        image = next(document[index].get_objects(filter=[pdfium.raw.FPDF_PAGEOBJ_IMAGE]))
        pil = image.get_bitmap().to_pil()
        assert pil.size == (width, height)
        assert pil.convert("RGB").getpixel((width // 2, height // 2)) == FRAME_COLORS[index]
    frames = tiff_frames(conv.outputs(conv.wait(started["tiff"]))[0])
    assert [f.size for f in frames] == TIFF_SIZES
    assert [f.convert("RGB").getpixel((5, 5)) for f in frames] == FRAME_COLORS[:3]
    pngs = conv.outputs(conv.wait(started["png"]))
    assert [Image.open(io.BytesIO(p)).size for p in pngs] == TIFF_SIZES
    assert Image.open(io.BytesIO(pngs[1])).convert("RGB").getpixel((10, 10)) == FRAME_COLORS[1]
    jpegs = conv.outputs(conv.wait(started["jpeg"]))
    assert [Image.open(io.BytesIO(j)).format for j in jpegs] == ["JPEG"] * 3
    svgs = conv.outputs(conv.wait(started["svg"]))
    assert [svg_size(s) for s in svgs] == [(216, 144), (144, 216), (108, 108)]
    assert b"data:image/png;base64," in svgs[0]


def test_max_width_and_height_fit_pages_keeping_their_aspect(conv, sources):
    pdf_id, _ = sources["pdf"]
    answer = conv.convert({"input": {"sources": [{"fileId": pdf_id}],
                                     "dest": {"format": "png", "pngOptions": {"maxWidth": "300px"}}}})
    sizes = [Image.open(io.BytesIO(o)).size for o in conv.outputs(answer)]
    assert sizes[0] == (300, 388) and sizes[1][0] == 300 and sizes[2][0] == 300
    tiff_id, _ = sources["tiff"]
    answer = conv.convert({"input": {"sources": [{"fileId": tiff_id}],
                                     "dest": {"format": "tiff", "tiffOptions": {"maxHeight": "150px"}}}})
    assert [f.size for f in tiff_frames(conv.outputs(answer)[0])] == [(225, 150), (100, 150), (150, 150)]
    answer = conv.convert({"input": {"sources": [{"fileId": tiff_id}],
                                     "dest": {"format": "jpeg", "jpegOptions": {"maxWidth": "1000px",
                                                                                "maxHeight": "100px"}}}})
    assert [Image.open(io.BytesIO(o)).size for o in conv.outputs(answer)] == [(150, 100), (67, 100), (100, 100)]


def test_bilevel_tiff_pages_use_group4(conv):
    page = Image.new("1", (800, 600), 1)
    page.paste(0, (100, 100, 300, 300))
    buffer = io.BytesIO()
    page.save(buffer, "TIFF", compression="group4", dpi=(200, 200))
    file_id = conv.upload(buffer.getvalue(), "tif")
    frames = tiff_frames(conv.outputs(conv.convert({"input": {"sources": [{"fileId": file_id}],
                                                              "dest": {"format": "tiff"}}}))[0])
    assert frames[0].mode == "1" and frames[0].info["compression"] == "group4"
    assert frames[0].getpixel((200, 200)) == 0 and frames[0].getpixel((500, 500)) == 255


# ---- combining, ranges, passwords, headers ------------------------------------------------------------------------
@pytest.mark.storages("dir", "s3")
def test_three_sources_of_different_formats_combine_in_order(conv, sources, forget_local_copies):
    forget_local_copies()  # on S3: the sources are read through the bucket
    docx_id, markers = sources["docx"]
    tiff_id, _ = sources["tiff"]
    pdf_id, _ = sources["pdf"]
    body = {"input": {"sources": [{"fileId": docx_id, "pages": "2"}, {"fileId": tiff_id},
                                  {"fileId": pdf_id, "pages": "2-"}], "dest": {"format": "pdf"}}}
    started = conv.start(body)
    assert started["input"]["sources"][1] == {"fileId": tiff_id, "pages": ""}
    assert started["input"]["dest"] == {"format": "pdf", "pdfOptions": {"forceOneFilePerPage": False}}
    answer = conv.wait(started["processId"])
    forget_local_copies()  # and the output was stored there too
    result = answer["output"]["results"][0]
    assert result["pageCount"] == 6
    assert result["sources"] == [{"fileId": docx_id, "pages": "2"}, {"fileId": tiff_id, "pages": "1-3"},
                                 {"fileId": pdf_id, "pages": "2-3"}]
    pages = pdf_pages(conv.outputs(answer)[0])
    assert markers[1] in pages[0][1] and markers[0] not in pages[0][1]
    assert [size for size, _ in pages[1:4]] == [(216, 144), (144, 216), (108, 108)]
    assert "Landscape page" in pages[4][1] and "Rotated page" in pages[5][1]


def test_page_ranges(conv):
    file_id = conv.upload(pdf_bytes("Numbered", pages=10), "pdf")
    answer = conv.convert({"input": {"sources": [{"fileId": file_id, "pages": "2, 4-5, 9-"}],
                                     "dest": {"format": "pdf"}}})
    assert answer["output"]["results"][0]["sources"][0]["pages"] == "2,4-5,9-10"
    texts = [text for _, text in pdf_pages(conv.outputs(answer)[0])]
    assert [t.strip() for t in texts] == ["Numbered 2", "Numbered 4", "Numbered 5", "Numbered 9", "Numbered 10"]
    # one file per page: pages past the end are per-result NoSuchPage items, not a failed process
    answer = conv.convert({"input": {"sources": [{"fileId": file_id, "pages": "9-11"}],
                                     "dest": {"format": "pdf", "pdfOptions": {"forceOneFilePerPage": True}}}})
    results = answer["output"]["results"]
    assert answer["state"] == "complete"
    assert [r["sources"][0]["pages"] for r in results] == ["9", "10", "11"]
    assert [r.get("errorCode") for r in results] == [None, None, "NoSuchPage"]
    assert pdf_pages(conv.download(results[1]["fileId"]))[0][1].strip() == "Numbered 10"
    # a range past the end of a combined output fails the process, naming the source
    answer = conv.convert({"input": {"sources": [{"fileId": file_id, "pages": "12"}], "dest": {"format": "tiff"}}})
    assert answer["state"] == "error" and answer["errorCode"] == "CouldNotConvert"
    assert answer["output"]["results"] == [{"errorCode": "NoSuchPage", "sources": [{"fileId": file_id,
                                                                                    "pages": "12"}]}]
    for bad in ("0", "3-1", "a", "1,,2", "-3", ",".join(["1"] * 10_001)):
        r = conv.post({"input": {"sources": [{"fileId": file_id, "pages": bad}], "dest": {"format": "pdf"}}})
        assert r.status_code == 480 and r.json()["errorCode"] == "InvalidPageSyntax", bad
        assert r.json()["errorDetails"]["at"] == "input.sources[0].pages"
    # png/jpeg/svg ignore `pages` (and do not echo it), as the original does
    started = conv.start({"input": {"sources": [{"fileId": file_id, "pages": "2"}], "dest": {"format": "png"}}})
    assert "pages" not in started["input"]["sources"][0]
    assert len(conv.wait(started["processId"])["output"]["results"]) == 10


def test_password_protected_sources(conv, tmp_path):
    file_id = conv.upload(encrypted_pdf("open sesame"), "pdf")
    body = {"input": {"sources": [{"fileId": file_id, "password": "open sesame"}], "dest": {"format": "pdf"}}}
    started = conv.start(body)
    assert "password" not in started["input"]["sources"][0]
    answer = conv.wait(started["processId"])
    assert "password" not in str(answer)
    pages = pdf_pages(conv.outputs(answer)[0])  # the output is not encrypted
    assert [text.strip() for _, text in pages] == ["secret content 1", "secret content 2"]
    for wrong in ({"password": "nope"}, {}):
        answer = conv.convert({"input": {"sources": [{"fileId": file_id, **wrong}], "dest": {"format": "png"}}})
        assert answer["state"] == "error" and answer["errorCode"] == "CouldNotConvert"
        assert answer["output"]["results"][0]["errorCode"] == "InvalidPassword"
    docx = tmp_path / "secret.docx"
    markers = encrypted_docx(docx, "pw123")
    office_id = conv.upload(docx.read_bytes(), "docx")
    answer = conv.convert({"input": {"sources": [{"fileId": office_id, "password": "pw123"}],
                                     "dest": {"format": "pdf"}}})
    assert markers[0] in pdf_pages(conv.outputs(answer)[0])[0][1]
    answer = conv.convert({"input": {"sources": [{"fileId": office_id, "password": "bad"}],
                                     "dest": {"format": "pdf"}}})
    assert answer["output"]["results"][0]["errorCode"] == "InvalidPassword"


def test_header_and_footer_lines_with_page_tokens(conv, sources, tmp_path):
    file_id, _ = sources["pdf"]
    body = {"input": {"sources": [{"fileId": file_id}], "dest": {
        "format": "pdf",
        "header": {"lines": [["Left", "Page {{pageNumber}} of {{pageCount}}", "Right"]], "fontSize": "10pt"},
        "footer": {"lines": [["", "", "BATES{{pageNumber+4000,10}}"]], "color": "#FF0000",
                   "fontFamily": "Courier"}}}}
    answer = conv.convert(body)
    assert answer["input"]["dest"]["header"]["fontFamily"] == "Helvetica"
    out = tmp_path / "decorated.pdf"
    out.write_bytes(conv.outputs(answer)[0])
    text = subprocess.run(["pdftotext", "-layout", str(out), "-"], capture_output=True, text=True).stdout
    pages = text.split("\f")
    for number in (1, 2, 3):
        assert f"Page {number} of 3" in pages[number - 1]
        assert f"BATES{4000 + number:010d}" in pages[number - 1]
    assert "Hello pageturn" in pages[0]
    # the header sits at the top of the page as displayed, also on the rotated page (rendered as shown)
    document = pdfium.PdfDocument(out.read_bytes())
    for index in (0, 2):
        shown = document[index].render(scale=1).to_pil().convert("L")
        assert shown.crop((0, 0, shown.width, 36)).getextrema()[0] < 128, index       # header ink at the top
        assert shown.crop((0, 36, shown.width, 60)).getextrema()[0] > 200, index      # and only there
    tiff = conv.convert({"input": {"sources": [{"fileId": file_id}], "dest": {
        "format": "tiff", "footer": {"lines": [["{{pageNumber}}"]], "fontSize": "30pt"}}}})
    frames = tiff_frames(conv.outputs(tiff)[0])
    assert len(frames) == 3
    corner = frames[0].convert("L").crop((0, 3300 - 300, 600, 3300))
    assert corner.getextrema()[0] < 100  # the footer's page number is drawn in the bottom-left corner
    missing_font = conv.convert({"input": {"sources": [{"fileId": file_id}], "dest": {
        "format": "pdf", "header": {"lines": [["x"]], "fontFamily": "Comic Sans Nope"}}}})
    assert missing_font["state"] == "error"
    assert missing_font["output"]["results"][0]["errorCode"] == "RequestedHeaderOrFooterFontIsNotAvailable"


# ---- refusals ---------------------------------------------------------------------------------------------------
def test_malformed_input_answers_480_naming_the_property(conv, sources):
    pdf_id, _ = sources["pdf"]
    docx_id, _ = sources["docx"]
    one = [{"fileId": pdf_id}]
    cases = [
        ({"nothing": 1}, "MissingInput", "input"),
        ({"input": {"dest": {"format": "pdf"}}}, "MissingInput", "input.sources"),
        ({"input": {"sources": [], "dest": {"format": "pdf"}}}, "InvalidInput", "input.sources"),
        ({"input": {"sources": one}}, "MissingInput", "input.dest"),
        ({"input": {"sources": one, "dest": {"format": "gif"}}}, "InvalidInput", "input.dest.format"),
        ({"input": {"sources": [{"fileId": pdf_id}, {"fileId": "nope"}], "dest": {"format": "pdf"}}},
         "WorkFileDoesNotExist", "input.sources[1].fileId"),
        ({"input": {"sources": [{"pages": "1"}], "dest": {"format": "pdf"}}}, "MissingInput",
         "input.sources[0].fileId"),
        ({"input": {"sources": [{"fileId": pdf_id}, {"fileId": pdf_id}], "dest": {"format": "png"}}},
         "MultipleSourcesAreNotSupportedForThisDestinationFormat", "input.sources"),
        ({"input": {"sources": one, "dest": {"format": "png", "pngOptions": {"maxWidth": "wide"}}}},
         "InvalidDimensionValue", "input.dest.pngOptions.maxWidth"),
        ({"input": {"sources": one, "dest": {"format": "tiff", "tiffOptions": {"maxHeight": 300}}}},
         "InvalidDimensionValue", "input.dest.tiffOptions.maxHeight"),
        ({"input": {"sources": one, "dest": {"format": "pdf", "pdfOptions": {"forceOneFilePerPage": "yes"}}}},
         "InvalidInput", "input.dest.pdfOptions.forceOneFilePerPage"),
        ({"input": {"sources": one, "dest": {"format": "docx"}}}, "UnsupportedSourceFileFormat",
         "input.sources[0].fileId"),
        ({"input": {"sources": one, "dest": {"format": "png", "header": {"lines": [["a"]]}}}},
         "UnsupportedDestinationFormatWhenUsingHeaderOrFooter", "input.dest.format"),
        ({"input": {"sources": [{"fileId": pdf_id, "pages": "1"}], "dest": {"format": "pdf",
                                                                             "header": {"lines": [["a"]]}}}},
         "PagesPropertyNotSupportedWhenUsingHeaderOrFooter", "input.sources[0].pages"),
        ({"input": {"sources": [{"fileId": pdf_id}, {"fileId": docx_id}], "dest": {
            "format": "pdf", "footer": {"lines": [["a"]]}}}},
         "MultipleSourceDocumentsNotSupportedWhenUsingHeaderOrFooter", "input.sources"),
        ({"input": {"sources": one, "dest": {"format": "pdf", "pdfOptions": {"forceOneFilePerPage": True},
                                              "header": {"lines": [["a"]]}}}},
         "ForceOneFilePerPageNotSupportedWhenUsingHeaderOrFooter", "input.dest.pdfOptions.forceOneFilePerPage"),
        ({"input": {"sources": one, "dest": {"format": "pdf", "header": {"lines": [["a", "b", "{{page}}"]]}}}},
         "UnrecognizedExpression", "input.dest.header.lines[0][2]"),
        ({"input": {"sources": one, "dest": {"format": "pdf", "footer": {"lines": [["a"]], "fontSize": "big"}}}},
         "InvalidInput", "input.dest.footer.fontSize"),
        ({"input": {"sources": one, "dest": {"format": "pdf", "footer": {"lines": [["a"]], "color": "red"}}}},
         "InvalidInput", "input.dest.footer.color"),
        ({"input": {"sources": one, "dest": {"format": "pdf"}}, "minSecondsAvailable": -5}, "InvalidInput",
         "minSecondsAvailable"),
    ]
    for body, code, at in cases:
        r = conv.post(body)
        assert r.status_code == 480, (body, r.status_code, r.text)
        assert r.json()["errorCode"] == code, (body, r.text)
        assert r.json()["errorDetails"]["at"] == at, (body, r.text)
    r = conv.post({"input": {"sources": one, "dest": {"format": "gif"}}})
    assert r.json()["errorDetails"]["expected"] == {"enum": ["pdf", "tiff", "png", "jpeg", "svg", "docx"]}
    r = conv.http.post(conv.base + "/v2/contentConverters", data=b"{not json")
    assert r.status_code == 480 and r.json()["errorCode"] == "InvalidInput"


def test_unknown_process_is_404(conv):
    for process_id in ("A" * 43, "nope", "..%2F..%2Fetc"):
        assert conv.status(process_id).status_code == 404


def test_broken_sources_end_in_error_and_the_server_stays_healthy(conv, tmp_path, office_server):
    broken_pdf = conv.upload(b"%PDF-1.7\n1 0 obj << /Type /Catalog >> garbage", "pdf")
    docx = tmp_path / "corrupt.docx"
    corrupt_docx(docx)
    broken_docx = conv.upload(docx.read_bytes(), "docx")
    broken_png = conv.upload(b"\x89PNG\r\n\x1a\n" + b"\x00" * 64, "png")
    for file_id, dest in ((broken_pdf, "pdf"), (broken_pdf, "png"), (broken_docx, "pdf"), (broken_png, "tiff")):
        answer = conv.convert({"input": {"sources": [{"fileId": file_id}], "dest": {"format": dest}}})
        assert answer["state"] == "error", answer
        assert answer["errorCode"] == "CouldNotConvert"
        assert answer["output"]["results"][0]["errorCode"] == "CorruptSourceFile", answer
        assert answer["output"]["results"][0]["sources"][0]["fileId"] == file_id
    assert conv.http.get(conv.base + "/PCCIS/V1/Service/Current/Health").status_code == 200
    # nothing of any process is left in the temporary directories
    assert not [p.name for p in (office_server.data_dir / "tmp").iterdir() if p.name.startswith("convert-")]
    assert not list(Path("/tmp").glob("pageturn-ocr-*"))


def test_expiry_and_min_seconds_available(conv, sources):
    pdf_id, _ = sources["pdf"]
    token = conv.http.get(f"{conv.base}/PCCIS/V1/WorkFile/{pdf_id}/Info").json()["affinityToken"]
    r = conv.post({"input": {"sources": [{"fileId": pdf_id}], "dest": {"format": "pdf"}},
                   "minSecondsAvailable": 86400}, headers={"Accusoft-Affinity-Token": token})
    assert r.status_code == 200
    started = r.json()
    assert started["minSecondsAvailable"] == 86400
    assert started["affinityToken"] == token   # the input's affinity, as clients copy it onto later requests
    from datetime import datetime, timezone
    expires = datetime.strptime(started["expirationDateTime"], "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=timezone.utc)
    assert (expires - datetime.now(timezone.utc)).total_seconds() > 86000
    answer = conv.wait(started["processId"])
    info = conv.http.get(f"{conv.base}/PCCIS/V1/WorkFile/{answer['output']['results'][0]['fileId']}/Info").json()
    created = datetime.strptime(info["createdTime"], "%Y-%m-%dT%H:%M:%S.%fZ")
    expiry = datetime.strptime(info["expirationTime"], "%Y-%m-%dT%H:%M:%S.%fZ")
    assert (expiry - created).total_seconds() >= 86400
    assert info["fileExtension"] == "pdf" and info["mimeType"] == "application/pdf"
