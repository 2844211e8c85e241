"""Word comparison over HTTP against a real server: comparison sessions (v2 sourceFile uploads and SourceRef),
revisionData paging and its errors, and the redlined pages served through the HTML5 URLs.

Every pair comes from tests/comparegen.py with the exact change types and counts it must give."""
from __future__ import annotations

import base64
import gzip
import io
import json
import shutil
import subprocess
import time
import zipfile
from collections import Counter
from pathlib import Path

import pytest
import requests
from PIL import Image

import comparegen
from api.prizm import Prizm, error_code
from api.samples import pdf_bytes

V2 = "/v2/viewingSessions"
CHANGE_TYPES = {"contentInserted", "contentDeleted", "propertyChanged", "paragraphNumberChanged",
                "paragraphPropertyChanged", "tablePropertyChanged", "sectionPropertyChanged", "styleDefinitionChanged",
                "contentMovedFrom", "contentMovedTo", "tableCellInserted", "tableCellDeleted", "tableCellsMerged"}
# the pairs the issue names, each with one kind of change
ISSUE_PAIRS = ["word_inserted", "paragraph_deleted", "word_made_bold", "alignment_changed", "list_renumbered",
               "paragraph_moved", "table_row_inserted_and_deleted", "cells_merged", "section_landscape",
               "style_definition_changed"]


@pytest.fixture(scope="module")
def server(office_server):
    return office_server


@pytest.fixture(scope="module")
def api(server) -> Prizm:
    return Prizm(server.url)


@pytest.fixture(scope="module")
def pair_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("pairs")


def pair_bytes(name: str, directory: Path) -> tuple[bytes, bytes]:
    pair = comparegen.SIXTEEN_PAGES if name == "sixteen_pages" else comparegen.PAIRS[name]
    original, revised = pair.write(directory)
    return original.read_bytes(), revised.read_bytes()


def upload(api: Prizm, sid: str, role: str, data: bytes, **params) -> requests.Response:
    return api.put(f"{V2}/{sid}/sourceFile/{role}", data=data, params=params or None)


def comparison(api: Prizm, original: bytes, revised: bytes, body: dict | None = None) -> str:
    sid = api.create(body)
    for role, data in (("original", original), ("revised", revised)):
        r = upload(api, sid, role, data)
        assert r.status_code == 200, (role, r.status_code, r.text)
    return sid


def revision_data(api: Prizm, sid: str, **params) -> requests.Response:
    return api.get(f"{V2}/{sid}/revisionData", params={k: v for k, v in params.items() if v is not None})


def walk(api: Prizm, sid: str, limit: int | None = None, timeout: float = 180) -> tuple[list[dict], list[dict]]:
    """Every change, following continueTokens (waiting continueAfter ms) until an answer has none, as a client
    must. Returns (changes, answers); fails if a change comes twice."""
    changes: list[dict] = []
    answers: list[dict] = []
    token = None
    deadline = time.time() + timeout
    while True:
        r = revision_data(api, sid, limit=limit, continueToken=token)
        assert r.status_code == 200, (r.status_code, r.text)
        body = r.json()
        answers.append(body)
        assert isinstance(body["changes"], list)
        changes += body["changes"]
        token = body.get("continueToken")
        if token is None:
            assert "continueAfter" not in body
            break
        assert isinstance(token, str) and isinstance(body["continueAfter"], (int, float))
        assert time.time() < deadline, "the comparison did not finish in time"
        time.sleep(body["continueAfter"] / 1000)
    ids = [c["id"] for c in changes]
    assert len(ids) == len(set(ids)), f"a change came twice: {ids}"
    return changes, answers


def compared(api: Prizm, name: str, directory: Path, **walk_args) -> tuple[str, list[dict]]:
    sid = comparison(api, *pair_bytes(name, directory))
    return sid, walk(api, sid, **walk_args)[0]


def page_count(api: Prizm, sid: str) -> int:
    r = api.get("/PCCIS/V1/Document/q/Attributes", params={"DocumentID": "u" + sid})
    assert r.status_code == 200, r.text
    assert r.json()["pageCountConfidence"] == 100
    return r.json()["pageCount"]


def page_text(api: Prizm, sid: str, page: int) -> dict:
    r = api.get(f"/PCCIS/V1/Document/q/{page}-{page}/Text", params={"DocumentID": "u" + sid})
    assert r.status_code == 200, r.text
    [found] = [p for p in r.json()["pages"] if p["number"] == page]
    return found


# ---- the change list --------------------------------------------------------------------------------------------

@pytest.mark.parametrize("name", ISSUE_PAIRS)
def test_each_pair_gives_exactly_its_changes(api, pair_dir, name):
    sid, changes = compared(api, name, pair_dir)
    assert Counter(c["type"] for c in changes) == comparegen.PAIRS[name].expected, changes
    assert [c["id"] for c in changes] == list(range(len(changes)))  # unique, in document order
    pages = page_count(api, sid)
    for change in changes:
        assert change["type"] in CHANGE_TYPES
        assert isinstance(change["endPageIndex"], int) and 0 <= change["endPageIndex"] < pages
        # the documented extensions
        assert isinstance(change["text"], str)  # empty for changes without text (a section's page setup)
        assert 0 <= change["startPageIndex"] <= change["endPageIndex"]
        assert isinstance(change["rectangles"], list)


def test_changes_carry_their_text_and_place(api, pair_dir):
    _, changes = compared(api, "table_row_inserted_and_deleted", pair_dir)
    assert [(c["type"], c["text"]) for c in changes] == [("contentDeleted", "Pears | 7 | 2.80"),
                                                         ("contentInserted", "Oranges | 18 | 4.40")]
    deleted, inserted = (c["rectangles"] for c in changes)
    assert deleted and inserted
    # the deleted row is drawn above the inserted one
    assert max(r["y"] for r in deleted) < min(r["y"] for r in inserted)


def test_identical_documents_have_no_changes(api, pair_dir):
    sid = comparison(api, *pair_bytes("identical", pair_dir))
    changes, answers = walk(api, sid)
    assert changes == []
    assert answers[-1] == {"changes": []}
    assert page_count(api, sid) == 1


def test_a_doc_pair(api, pair_dir, tmp_path):
    """.doc files are first turned into .docx by LibreOffice, then compared like any pair."""
    if shutil.which("soffice") is None:
        pytest.skip("soffice is not installed")
    original, revised = comparegen.PAIRS["word_inserted"].write(tmp_path)
    profile = (tmp_path / "lo-profile").as_uri()
    subprocess.run(["soffice", f"-env:UserInstallation={profile}", "--headless", "--convert-to", "doc",
                    "--outdir", str(tmp_path / "doc"), str(original), str(revised)],
                   check=True, capture_output=True, timeout=180)
    doc_original = (tmp_path / "doc" / original.with_suffix(".doc").name).read_bytes()
    doc_revised = (tmp_path / "doc" / revised.with_suffix(".doc").name).read_bytes()
    assert doc_original.startswith(b"\xd0\xcf\x11\xe0")  # an OLE2 compound file: Word 97-2003
    sid = comparison(api, doc_original, doc_revised)
    changes, _ = walk(api, sid)
    assert [(c["type"], c["text"]) for c in changes] == [("contentInserted", "red")]
    r = api.get(f"{V2}/{sid}/sourceFile/original")
    assert r.headers["Content-Type"].startswith("application/msword") and r.content == doc_original


def test_a_sourceref_comparison_of_two_work_files(api, pair_dir):
    original, revised = pair_bytes("paragraph_deleted", pair_dir)
    ids = {}
    for role, data in (("original", original), ("revised", revised)):
        r = api.post("/PCCIS/V1/WorkFile", data=data, params={"FileExtension": "docx"})
        assert r.status_code == 200, r.text
        ids[role] = r.json()["fileId"]
    sid = api.create()
    r = api.put(f"/PCCIS/V1/ViewingSession/u{sid}/SourceRef", json={
        "refType": "comparison",
        "original": {"refType": "workFile", "fileId": ids["original"]},
        "revised": {"refType": "workFile", "fileId": ids["revised"]}})
    assert r.status_code == 200, r.text
    changes, _ = walk(api, sid)
    assert [(c["type"], c["text"]) for c in changes] == [("contentDeleted", comparegen.SENTENCES[1])]
    assert api.get(f"{V2}/{sid}/sourceFile/revised").content == revised


def test_walking_every_change_with_limit_one(api, pair_dir):
    sid, everything = compared(api, "sixteen_pages", pair_dir)
    assert Counter(c["type"] for c in everything) == comparegen.SIXTEEN_PAGES.expected
    one_by_one, answers = walk(api, sid, limit=1)
    assert all(len(a["changes"]) <= 1 for a in answers)
    assert len([a for a in answers if a["changes"]]) == len(everything) == 20
    assert one_by_one == everything  # same changes, same order, same content
    assert [c["id"] for c in one_by_one] == sorted({c["id"] for c in one_by_one})
    # the pages run in document order too
    ends = [c["endPageIndex"] for c in everything]
    assert ends == sorted(ends) and ends[-1] == page_count(api, sid) - 1 == 15
    # a page of 7, then the rest
    first = revision_data(api, sid, limit=7).json()
    assert [c["id"] for c in first["changes"]] == list(range(7)) and first["continueAfter"] == 0
    rest = revision_data(api, sid, limit=100, continueToken=first["continueToken"]).json()
    assert [c["id"] for c in rest["changes"]] == list(range(7, 20)) and "continueToken" not in rest


def _invalid_input(r: requests.Response, at: str) -> None:
    assert r.status_code == 480, (r.status_code, r.text)
    assert error_code(r) == "InvalidInput"
    assert r.json()["errorDetails"]["at"] == at


def test_tokens_are_bound_to_their_session_and_cannot_be_forged(api, pair_dir):
    pair = pair_bytes("list_renumbered", pair_dir)  # written once: a zip stores its entries' write time
    sid = comparison(api, *pair)
    changes = walk(api, sid)[0]
    other = comparison(api, *pair)  # same documents, another session
    # the comparison ran once for this pair of documents: the other session has every change at once
    assert walk(api, other)[1] == [{"changes": changes}]
    assert len(changes) == 3
    token = revision_data(api, sid, limit=1).json()["continueToken"]
    assert [c["id"] for c in revision_data(api, sid, continueToken=token).json()["changes"]] == [1, 2]

    _invalid_input(revision_data(api, other, continueToken=token), "continueToken")
    raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
    skipped = base64.urlsafe_b64encode((2).to_bytes(4, "big") + raw[4:]).decode().rstrip("=")  # offset 2, old MAC
    flipped = base64.urlsafe_b64encode(raw[:-1] + bytes([raw[-1] ^ 1])).decode().rstrip("=")
    for forged in (skipped, flipped, "abc", "x" * 5000, token + "A", "%%%"):
        _invalid_input(revision_data(api, sid, continueToken=forged), "continueToken")
    # the real token still works after the refusals
    assert [c["id"] for c in revision_data(api, sid, continueToken=token).json()["changes"]] == [1, 2]


@pytest.mark.parametrize("limit", ["0", "-1", "abc", "1.5", "+3", "²", "0x10", "00"])
def test_limit_must_be_an_integer_greater_than_zero(api, pair_dir, limit):
    sid = api.create()
    _invalid_input(revision_data(api, sid, limit=limit), "limit")


def test_a_huge_limit_is_served(api, pair_dir):
    sid, changes = compared(api, "word_inserted", pair_dir)
    body = revision_data(api, sid, limit="9" * 40).json()
    assert body == {"changes": changes}


def test_end_page_index_of_a_change_on_page_three(api, pair_dir):
    sid, changes = compared(api, "change_on_page_three", pair_dir)
    assert page_count(api, sid) == 3
    [change] = changes
    word = comparegen.PAGE3_INSERTED_WORD
    assert (change["type"], change["text"], change["startPageIndex"], change["endPageIndex"]) == \
        ("contentInserted", word, 2, 2)
    [box] = change["rectangles"]
    assert box["pageIndex"] == 2
    # the rectangle covers the word where the Text API puts it
    text = page_text(api, sid, 2)
    start = text["text"].index(word)
    first, last = text["rectangles"][start], text["rectangles"][start + len(word) - 1]
    word_left, word_right, word_middle = first[0], last[0] + last[2], first[1] + first[3] / 2
    assert abs(box["x"] - word_left) < 3 and abs(box["x"] + box["width"] - word_right) < 3
    assert box["y"] < word_middle < box["y"] + box["height"]


# ---- refusals and errors ----------------------------------------------------------------------------------------

def test_a_pdf_cannot_be_compared(api, pair_dir):
    original, _ = pair_bytes("word_inserted", pair_dir)
    sid = api.create()
    assert upload(api, sid, "original", original).status_code == 200
    r = upload(api, sid, "revised", pdf_bytes("not a Word document"))
    assert r.status_code == 480 and error_code(r) == "UnsupportedFormatForComparison"
    # even when it claims to be one
    r = upload(api, sid, "revised", pdf_bytes("not a Word document"), FileExtension="docx")
    assert r.status_code == 480 and error_code(r) == "UnsupportedFormatForComparison"
    # the same through SourceRef
    pdf_file = api.post("/PCCIS/V1/WorkFile", data=pdf_bytes("a work file"), params={"FileExtension": "pdf"})
    word_file = api.post("/PCCIS/V1/WorkFile", data=original, params={"FileExtension": "docx"})
    r = api.put(f"/PCCIS/V1/ViewingSession/u{api.create()}/SourceRef", json={
        "refType": "comparison", "original": {"refType": "workFile", "fileId": word_file.json()["fileId"]},
        "revised": {"refType": "workFile", "fileId": pdf_file.json()["fileId"]}})
    assert r.status_code == 480 and error_code(r) == "UnsupportedFormatForComparison"


def test_revision_data_of_sessions_that_are_not_comparisons(api, pair_dir):
    assert revision_data(api, "NoSuchSession0123456789abcdefghijklmnopqrstuvwxyz").status_code == 404
    viewing = api.session_with(pdf_bytes("a single document"))
    _invalid_input(revision_data(api, viewing), "viewingSessionId")
    # documents still to come: the answer says to ask again
    waiting = api.create()
    original, revised = pair_bytes("word_inserted", pair_dir)
    for role, data in (("original", original), ("revised", revised)):
        body = revision_data(api, waiting).json()
        assert body["changes"] == [] and body["continueAfter"] > 0 and body["continueToken"]
        assert upload(api, waiting, role, data).status_code == 200
    changes, _ = walk(api, waiting)
    assert [c["type"] for c in changes] == ["contentInserted"]


def test_gzip_when_asked(api, pair_dir):
    sid, changes = compared(api, "word_made_bold", pair_dir)
    asked = revision_data_raw(api, sid, "gzip, deflate")
    assert asked.headers.get("Content-Encoding") == "gzip"
    assert json.loads(gzip.decompress(asked.raw.read())) == {"changes": changes}
    plain = revision_data_raw(api, sid, "identity")
    assert "Content-Encoding" not in plain.headers
    assert plain.json() == {"changes": changes}


def revision_data_raw(api: Prizm, sid: str, accept_encoding: str) -> requests.Response:
    return requests.get(f"{api.base}{V2}/{sid}/revisionData", headers={"Accept-Encoding": accept_encoding},
                        stream=True)


def _broken_docx() -> bytes:
    """Bytes that are a Word document by their content types, with a body no XML parser can read."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", (
            '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/'
            'content-types"><Default Extension="xml" ContentType="application/xml"/><Override PartName="/word/'
            'document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.'
            'main+xml"/></Types>'))
        archive.writestr("word/document.xml", "<w:document this is not xml")
    return buffer.getvalue()


def test_an_engine_failure_is_an_internal_error(api, pair_dir):
    original, _ = pair_bytes("word_inserted", pair_dir)
    sid = comparison(api, original, _broken_docx())
    deadline = time.time() + 120
    while True:
        r = revision_data(api, sid)
        if r.status_code != 200:
            break
        assert r.json()["changes"] == [] and time.time() < deadline
        time.sleep(r.json()["continueAfter"] / 1000)
    assert r.status_code == 580 and error_code(r) == "InternalError"
    assert r.json()["errorDetails"]["message"]
    assert revision_data(api, sid).status_code == 580  # and it stays so
    assert api.get("/PCCIS/V1/Page/q/0", params={"DocumentID": "u" + sid}).status_code == 580


# ---- the redlined pages ------------------------------------------------------------------------------------------

def _coloured(image: Image.Image, box: tuple[int, int, int, int]) -> int:
    """Pixels of a clear colour (not black, white or grey) in box."""
    data = image.crop(box).tobytes()
    return sum(1 for r, g, b in zip(data[0::3], data[1::3], data[2::3]) if max(r, g, b) - min(r, g, b) > 80)


def _pixels(box: dict, scale: float, pad: float = 2) -> tuple[int, int, int, int]:
    return (int((box["x"] - pad) * scale), int((box["y"] - pad) * scale),
            int((box["x"] + box["width"] + pad) * scale), int((box["y"] + box["height"] + pad) * scale))


def test_the_comparison_pages_render_with_the_changes_marked(api, pair_dir):
    sid, changes = compared(api, "word_inserted", pair_dir)
    assert page_count(api, sid) == 1
    r = api.get("/PCCIS/V1/Page/q/0", params={"DocumentID": "u" + sid, "ContentType": "png"})
    assert r.status_code == 200 and r.headers["Content-Type"] == "image/png"
    image = Image.open(io.BytesIO(r.content)).convert("RGB")
    text = page_text(api, sid, 0)
    scale = image.width / text["width"]
    assert "The quick brown red fox" in text["text"]
    [inserted] = changes[0]["rectangles"]
    assert _coloured(image, _pixels(inserted, scale)) > 30  # the inserted word is drawn in the revision colour
    # an unchanged sentence is not
    start = text["text"].index(comparegen.SENTENCES[0])
    left, top, _, height = text["rectangles"][start]
    right = text["rectangles"][start + len(comparegen.SENTENCES[0]) - 1]
    unchanged = {"x": left, "y": top, "width": right[0] + right[2] - left, "height": height}
    assert _coloured(image, _pixels(unchanged, scale, pad=0)) == 0
    # SVG pages and thumbnails come from the same redlined document
    assert api.get("/PCCIS/V1/Page/q/0", params={"DocumentID": "u" + sid, "ContentType": "svg"}).status_code == 200
    assert api.get("/PCCIS/V1/Page/q/0/120x160", params={"DocumentID": "u" + sid}).status_code == 200


def test_deleted_text_stays_visible_on_the_page(api, pair_dir):
    sid, [deleted] = compared(api, "paragraph_deleted", pair_dir)
    assert comparegen.SENTENCES[1] in page_text(api, sid, 0)["text"]
    r = api.get("/PCCIS/V1/Page/q/0", params={"DocumentID": "u" + sid, "ContentType": "png"})
    image = Image.open(io.BytesIO(r.content)).convert("RGB")
    scale = image.width / page_text(api, sid, 0)["width"]
    assert deleted["rectangles"]
    assert all(_coloured(image, _pixels(box, scale)) > 30 for box in deleted["rectangles"])
