"""Office, text and HTML documents through the warm LibreOffice pool, over real HTTP."""
from __future__ import annotations

import io
import time
import zipfile
from pathlib import Path

import pytest
from PIL import Image

from api.prizm import V1, Prizm
from officegen import (corrupt_docx, csv_file, docx_pages, encrypted_docx, html_with_external_image, long_docx,
                       pptx_slides, text_file, xlsx_sheets)
from unit.test_url_fetch import Listener


@pytest.fixture(scope="module")
def api(office_server) -> Prizm:
    return Prizm(office_server.url)


def _bytes(tmp_path: Path, make, *args, name: str = "doc", **kw) -> tuple[bytes, object]:
    path = tmp_path / name
    facts = make(path, *args, **kw)
    return path.read_bytes(), facts


def _text(api, sid, first, last) -> dict[int, str]:
    r = api.get(f"/PCCIS/V1/Document/q/{first}-{last}/Text", params={"DocumentID": "u" + sid}, timeout=180)
    assert r.status_code == 200, (r.status_code, r.headers, r.text[:300])
    return {p["number"]: p.get("text", "") for p in r.json()["pages"]}


def _attributes(api, sid, **params) -> dict:
    r = api.get("/PCCIS/V1/Document/q/Attributes", params={"DocumentID": "u" + sid, **params}, timeout=180)
    assert r.status_code == 200, (r.status_code, r.headers, r.text[:300])
    return r.json()


def test_docx_words_on_the_right_pages(api, tmp_path):
    data, markers = _bytes(tmp_path, docx_pages, 5, tables=True, image=True, name="five.docx")
    sid = api.session_with(data)
    api.post(f"{V1}/u{sid}/Notification/SessionStarted", json={"viewer": "HTML5"})
    assert _attributes(api, sid) == {"pageCount": 5, "pageCountConfidence": 100}
    texts = _text(api, sid, 0, 4)
    for index, marker in enumerate(markers):
        assert marker in texts[index]
        assert all(marker not in texts[other] for other in texts if other != index)
    png = Image.open(io.BytesIO(api.get("/PCCIS/V1/Page/q/0", params={"DocumentID": "u" + sid}).content))
    assert png.size == (1275, 1650) or png.size == (1240, 1754)  # Letter or A4 at 150 dpi


def test_progress_is_estimated_then_exact(api, tmp_path):
    data, _ = _bytes(tmp_path, long_docx, 120, name="long.docx")
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        recorded = "<Pages>" in archive.read("docProps/app.xml").decode()
    sid = api.session_with(data)
    early = _attributes(api, sid, DesiredPageCountConfidence="0")
    assert early["pageCountConfidence"] <= 100 and early["pageCount"] >= 1
    if early["pageCountConfidence"] < 100:
        assert early["pageCountConfidence"] == (50 if recorded else 10)
    final = _attributes(api, sid)
    assert final["pageCountConfidence"] == 100 and final["pageCount"] > 50


def test_xlsx_sheets_match_pages(api, tmp_path):
    data, sheets = _bytes(tmp_path, xlsx_sheets, name="book.xlsx")
    sid = api.session_with(data)
    body = _attributes(api, sid)
    names = [s["name"] for s in body["sheets"]]
    assert names == [name for name, _ in sheets]
    assert sum(s["pageCount"] for s in body["sheets"]) == body["pageCount"]
    blank = body["sheets"][1]
    assert blank["pageCount"] == 0
    texts = _text(api, sid, 0, body["pageCount"] - 1)
    for sheet, (_, words) in zip(body["sheets"], sheets):
        pages = range(sheet["firstPageIndex"], sheet["firstPageIndex"] + sheet["pageCount"])
        for word in words:
            assert any(word in texts[p] for p in pages), (sheet, word)


def test_pptx_one_page_per_slide(api, tmp_path):
    data, titles = _bytes(tmp_path, pptx_slides, 4, name="deck.pptx")
    sid = api.session_with(data)
    assert _attributes(api, sid)["pageCount"] == 4
    texts = _text(api, sid, 0, 3)
    assert all(title in texts[i] for i, title in enumerate(titles))


@pytest.mark.parametrize("encoding", ["utf-16", "latin-1"])
def test_text_in_two_encodings(api, tmp_path, encoding):
    line = "Grüße aus Köln — naïve café"
    if encoding == "latin-1":
        line = "Grüße aus Köln, naïve café"
    data, _ = _bytes(tmp_path, text_file, line, encoding, name="notes.txt")
    sid = api.create()
    r = api.upload(sid, data)
    assert r.status_code == 580 and r.headers["Accusoft-Status-Message"] == "Unrecognized File Format"
    assert api.upload(sid, data, "txt").status_code == 200
    assert line in _text(api, sid, 0, 0)[0]


def test_csv_as_a_table(api, tmp_path):
    rows = [["Region", "Units"], ["North", "1200"], ["South", "950"]]
    data, _ = _bytes(tmp_path, csv_file, rows, name="t.csv")
    sid = api.session_with(data, "csv")
    text = _text(api, sid, 0, 0)[0]
    assert "North" in text and "1200" in text and "," not in text.replace(", ", "")


def test_html_external_image_is_never_fetched(api, tmp_path):
    listener = Listener()
    try:
        url = f"http://127.0.0.1:{listener.port}/pixel.png"
        data, visible = _bytes(tmp_path, html_with_external_image, url, name="page.html")
        sid = api.session_with(data, "html")
        assert visible in _text(api, sid, 0, 0)[0]
        time.sleep(0.5)
        assert listener.connections == 0
    finally:
        listener.close()


def test_corrupt_docx_fails_clearly_and_the_pool_keeps_working(api, tmp_path):
    data, _ = _bytes(tmp_path, corrupt_docx, name="bad.docx")
    sid = api.session_with(data, "docx")
    r = api.get("/PCCIS/V1/Page/q/0", params={"DocumentID": "u" + sid}, timeout=180)
    assert r.status_code == 580 and r.json()["errorCode"] == "ConversionFailed"
    good, markers = _bytes(tmp_path, docx_pages, 1, name="good.docx")
    ok = api.session_with(good)
    assert markers[0] in _text(api, ok, 0, 0)[0]


def test_password_protected_docx(api, tmp_path):
    data, words = _bytes(tmp_path, encrypted_docx, "open-sesame", name="locked.docx")
    sid = api.session_with(data, "docx")
    r = api.get("/PCCIS/V1/Page/q/0", params={"DocumentID": "u" + sid}, timeout=180)
    assert r.status_code == 480 and r.headers["Accusoft-Status-Number"] == "4001"
    new = api.post(f"{V1}/u{sid}/Replacement", json={"password": "open-sesame"}).json()["viewingSessionId"]
    assert words[0] in _text(api, new, 0, 0)[0]


def test_second_session_on_same_bytes_reuses_the_conversion(api, tmp_path, office_server):
    data, markers = _bytes(tmp_path, docx_pages, 2, name="twice.docx")
    first = api.session_with(data)
    _attributes(api, first)
    converted = list((office_server.data_dir / "cache" / "shared" / "converted").iterdir())
    second = api.session_with(data)
    # no conversion to wait for: even a request that accepts an estimate gets the final count at once
    assert _attributes(api, second, DesiredPageCountConfidence="0") == {"pageCount": 2, "pageCountConfidence": 100}
    assert list((office_server.data_dir / "cache" / "shared" / "converted").iterdir()) == converted


def test_conversion_past_its_timeout_is_killed_and_the_next_succeeds(make_server, tmp_path):
    server = make_server(office_timeout="1s", render_workers=1)
    api = Prizm(server.url)
    data, _ = _bytes(tmp_path, long_docx, 600, name="huge.docx")
    sid = api.session_with(data)
    r = api.get("/PCCIS/V1/Document/q/Attributes", params={"DocumentID": "u" + sid}, timeout=180)
    assert r.status_code == 580 and "longer than 1 s" in r.json()["errorDetails"]["message"]
    small, markers = _bytes(tmp_path, docx_pages, 1, name="small.docx")
    ok = api.session_with(small)
    assert markers[0] in _text(api, ok, 0, 0)[0]
