"""A long Word document over real HTTP (issue 16): its first page comes from a quick conversion of its beginning
while the whole document converts, marked as provisional, and is the same page as the whole document's."""
from __future__ import annotations

import io

import pypdfium2
import pytest
from PIL import Image

from api.prizm import Prizm
from officegen import docx_pages

PAGES = 700   # word/document.xml past the 512 kB under which a document is converted whole at once


@pytest.fixture(scope="module")
def long_docx(tmp_path_factory) -> tuple[bytes, list[str]]:
    path = tmp_path_factory.mktemp("long") / "long.docx"
    markers = docx_pages(path, PAGES)
    return path.read_bytes(), markers


def _get(api: Prizm, path: str, sid: str, **params):
    r = api.get(path, params={"DocumentID": "u" + sid, **params}, timeout=300)
    assert r.status_code == 200, (r.status_code, r.text[:300])
    return r


def _texts(pdf_path) -> list[str]:
    pdf = pypdfium2.PdfDocument(str(pdf_path))
    try:
        return [pdf[i].get_textpage().get_text_range() for i in range(len(pdf))]
    finally:
        pdf.close()


def test_first_page_before_the_whole_conversion(make_server, long_docx):
    data, markers = long_docx
    # one LibreOffice process: the beginning's conversion is in line before the whole document's, and with
    # startConverting "none" both start with the page request, so page 0 is the preview's whatever the timing
    server = make_server(render_workers=1)
    api = Prizm(server.url)
    sid = api.session_with(data, "docx", body={"startConverting": "none"})
    early = _get(api, "/PCCIS/V1/Page/q/0", sid, ContentType="png")
    assert early.headers["Cache-Control"] == "no-store"        # provisional: the browser must not keep it
    estimate = _get(api, "/PCCIS/V1/Document/q/Attributes", sid, DesiredPageCountConfidence="0").json()
    if estimate["pageCountConfidence"] < 100:                  # still converting: an estimate, said to be one
        assert estimate["pageCountConfidence"] == 50 and estimate["pageCount"] > 2

    # a page past the preview's waits for the whole document, and is its page
    past = _get(api, f"/PCCIS/V1/Page/q/{PAGES - 1}", sid, ContentType="png")
    assert past.headers["Cache-Control"] != "no-store"
    final = _get(api, "/PCCIS/V1/Document/q/Attributes", sid).json()
    assert final == {"pageCount": PAGES, "pageCountConfidence": 100}
    late = _get(api, "/PCCIS/V1/Page/q/0", sid, ContentType="png")
    assert late.headers["Cache-Control"] != "no-store"
    assert Image.open(io.BytesIO(early.content)).tobytes() == Image.open(io.BytesIO(late.content)).tobytes()
    last = _get(api, f"/PCCIS/V1/Document/q/{PAGES - 1}-{PAGES - 1}/Text", sid).json()["pages"][0]["text"]
    assert markers[-1] in last

    # every page the preview offered is the whole document's page, word for word
    converted = server.data_dir / "cache" / "shared" / "converted"
    (directory,) = [d for d in converted.iterdir() if (d / "preview.pdf").exists()]
    preview, whole = _texts(directory / "preview.pdf"), _texts(directory / "document.pdf")
    shown = len(preview) - 2
    assert shown > 5 and preview[:shown] == whole[:shown]
    assert markers[0] in preview[0]


def test_without_the_preview_the_first_page_waits_for_the_whole(make_server, long_docx):
    data, _ = long_docx
    server = make_server(render_workers=1, office_preview="false")
    api = Prizm(server.url)
    sid = api.session_with(data, "docx", body={"startConverting": "none"})
    assert _get(api, "/PCCIS/V1/Page/q/0", sid, ContentType="png").headers["Cache-Control"] != "no-store"
    assert _get(api, "/PCCIS/V1/Document/q/Attributes", sid, DesiredPageCountConfidence="0").json() == {
        "pageCount": PAGES, "pageCountConfidence": 100}
