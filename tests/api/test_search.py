"""Server-side search over real HTTP: search tasks on viewing sessions and search contexts."""
from __future__ import annotations

import io
import time
from pathlib import Path

import pytest
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen import canvas

from api.prizm import V1, Prizm
from api.search_client import results, search, start, task, term, wait
from docgen import HELLO, SECOND, make_pdf, make_pdf_pages


@pytest.fixture(scope="module")
def api(server) -> Prizm:
    return Prizm(server.url)


@pytest.fixture(scope="module")
def known(api):
    data, facts = make_pdf()
    return api.session_with(data), facts


def text_endpoint(api: Prizm, sid: str, page: int) -> dict:
    r = api.get(f"/PCCIS/V1/Document/q/{page}-{page}/Text", params={"DocumentID": "u" + sid})
    assert r.status_code == 200, r.text
    return r.json()["pages"][0]


def union(boxes: list[list[float]]) -> tuple[float, float, float, float]:
    left = min(b[0] for b in boxes)
    top = min(b[1] for b in boxes)
    right = max(b[0] + b[2] for b in boxes)
    bottom = max(b[1] + b[3] for b in boxes)
    return left, top, right - left, bottom - top


def rect(r: dict) -> tuple[float, float, float, float]:
    return r["x"], r["y"], r["width"], r["height"]


def close(a, b, tolerance: float = 0.02) -> bool:
    return all(abs(x - y) <= tolerance for x, y in zip(a, b))


def test_plain_term_hits_cover_their_glyphs(api, known):
    sid, _ = known
    hits = search(api, sid, term("pageturn"))
    page0 = text_endpoint(api, sid, 0)
    # "Hello pageturn" and "https://example.com/pageturn", both on page 0, in text order
    assert [(h["pageIndex"], h["text"]) for h in hits] == [(0, "pageturn"), (0, "pageturn")]
    assert [h["startIndex"] for h in hits] == [i for i in range(len(page0["text"]))
                                               if page0["text"].startswith("pageturn", i)]
    first = hits[0]
    assert first["pageData"] == {"width": 595, "height": 842}
    assert first["searchTerm"] == {"termId": "0"}
    assert first["context"] == page0["text"][:first["startIndex"] + 8 + 25].replace("\n", " ")
    assert first["context"][first["startIndexInContext"]:].startswith("pageturn")
    for hit in hits:
        assert len(hit["lineRectangles"]) == 1
        boxes = page0["rectangles"][hit["startIndex"]:hit["startIndex"] + len(hit["text"])]
        assert close(rect(hit["lineRectangles"][0]), union(boxes))   # exactly the Text URL's boxes
        assert close(rect(hit["boundingRectangle"]), union(boxes))
    # and where the glyphs are drawn: "pageturn" after "Hello " at 24 pt Helvetica, baseline 100 pt from the top
    x, y, width, height = rect(first["lineRectangles"][0])
    left = HELLO.left + stringWidth("Hello ", HELLO.font, HELLO.size)
    assert abs(x - left) < 1 and abs(width - stringWidth("pageturn", HELLO.font, HELLO.size)) < 1.5
    assert y <= HELLO.baseline - 0.7 * HELLO.size and y + height >= HELLO.baseline


def test_case_sensitive_and_regular_expression_terms(api, known):
    sid, _ = known
    assert len(search(api, sid, term("hello"))) == 1
    assert search(api, sid, term("hello", caseSensitive=True)) == []
    assert [h["text"] for h in search(api, sid, term("Hello", caseSensitive=True))] == ["Hello"]
    hits = search(api, sid, term(r"\b(Letter|Landscape) page\b", termId="pages"))
    assert [(h["pageIndex"], h["text"], h["searchTerm"]["termId"]) for h in hits] == [
        (1, "Letter page", "pages"), (2, "Landscape page", "pages")]
    # several terms: one list in document order, each hit naming its term
    hits = search(api, sid, term("page", termId="p", caseSensitive=True), term("Letter", termId="L"))
    assert [(h["pageIndex"], h["searchTerm"]["termId"]) for h in hits] == [
        (0, "p"), (0, "p"), (1, "L"), (1, "p"), (2, "p"), (3, "p")]


def test_a_hit_across_two_lines_has_two_rectangles(api, known):
    sid, _ = known
    (hit,) = search(api, sid, term(r"pageturn\s+Second"))
    assert hit["text"] == "pageturn\nSecond" and hit["context"].startswith("Hello pageturn Second")
    page0 = text_endpoint(api, sid, 0)
    start = hit["startIndex"]
    one, two = hit["lineRectangles"]
    assert close(rect(one), union(page0["rectangles"][start:start + 8]))
    assert close(rect(two), union(page0["rectangles"][start + 9:start + 15]))
    assert abs(two["x"] - SECOND.left) < 1 and two["y"] > one["y"] + one["height"] - 1


def test_rotated_page_hits_are_in_displayed_units(api, known):
    sid, _ = known
    (hit,) = search(api, sid, term("Rotated"))
    assert hit["pageIndex"] == 3 and hit["pageData"] == {"width": 842, "height": 595}
    page3 = text_endpoint(api, sid, 3)
    assert close(rect(hit["lineRectangles"][0]), union(page3["rectangles"][hit["startIndex"]:hit["startIndex"] + 7]))
    assert hit["lineRectangles"][0]["height"] > hit["lineRectangles"][0]["width"]  # reads downwards


def test_paging_with_small_limits_returns_every_hit_once_in_order(api):
    sid = api.session_with(make_pdf_pages(12, image=False, lines=6))
    pid = start(api, sid, term(r"\bsit\b"), term("amet"))["processId"]
    everything, last = results(api, pid, limit=10_000)
    assert "continueToken" not in last and len(everything) > 20
    keys = [(h["pageIndex"], h["startIndex"]) for h in everything]
    assert keys == sorted(keys) and [h["id"] for h in everything] == list(range(len(everything)))
    for limit in (1, 2, 7):
        paged, _ = results(api, pid, limit=limit)
        assert paged == everything
    # the session-scoped URL answers the same
    assert results(api, pid, limit=5, sid=sid)[0] == everything


def test_results_arrive_while_a_long_document_is_still_searched(api):
    sid = api.session_with(make_pdf_pages(1000, image=False, lines=30))
    info = start(api, sid, term(r"Page \d+"))
    pid = info["processId"]
    assert info["state"] == "processing" and info["input"]["searchTerms"][0]["contextPadding"] == 25
    # wait for the first hits: the task is then still working through the document
    while True:
        now = task(api, pid)
        if now["resultCount"] > 0:
            break
        assert now["state"] == "processing", now
    assert now["state"] == "processing" and now["pagesSearched"] < now["pageCount"] == 1000
    r = api.get(f"/v2/searchTasks/{pid}/results", params={"limit": 5})
    early = r.json()
    assert [h["text"] for h in early["results"]] == [f"Page {n}" for n in range(1, 6)]
    assert early["continueToken"]
    hits, _ = results(api, pid, limit=400)
    assert [h["pageIndex"] for h in hits] == list(range(1000))
    assert task(api, pid)["state"] == "complete" and task(api, pid)["percentComplete"] == 100


def test_second_search_reuses_the_extracted_text(api, server):
    sid = api.session_with(make_pdf_pages(30, image=False, lines=5) + b"\n% reuse")
    first = search(api, sid, term("lorem"))
    files = sorted(Path(server.data_dir).rglob("search/text-*.json"))
    stamps = {p: p.stat().st_mtime_ns for p in files}
    assert len(files) >= 2
    boxes = sorted(Path(server.data_dir).rglob("search/hits-*.txt"))
    assert len(boxes) == len(files)   # the hits' rectangles were read in the same pass as the text, and kept
    stamps.update({p: p.stat().st_mtime_ns for p in boxes})
    assert search(api, sid, term("lorem")) == first
    assert {p: p.stat().st_mtime_ns for p in files + boxes} == stamps   # read, not written again
    # another term on text searched before: its new hits' rectangles are read by a worker and kept too, and
    # hits found both ways have the same rectangles
    wider = search(api, sid, term("lorem ipsum"))
    assert wider and {p for p in boxes if p.stat().st_mtime_ns != stamps[p]}
    fresh_sid = api.session_with(make_pdf_pages(30, image=False, lines=5) + b"\n% reuse, fresh")
    assert [h["lineRectangles"] for h in search(api, fresh_sid, term("lorem ipsum"))] == \
        [h["lineRectangles"] for h in wider]


def catastrophic_pdf(pages: int = 40) -> bytes:
    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer, pagesize=(612, 792))
    for _ in range(pages):
        # (a|aa)+c on 40 letters runs for minutes however fast the machine (on 28 it took 0.5 s here)
        pdf.drawString(72, 700, "a" * 40 + "!")
        pdf.showPage()
    pdf.save()
    return buffer.getvalue()


def test_a_catastrophic_pattern_ends_with_an_error_and_the_server_stays_responsive(api):
    sid = api.session_with(catastrophic_pdf())
    assert search(api, sid, term("plain")) == []  # the text is cached now: the next task goes straight to matching
    pid = start(api, sid, term("plain"), term("(a|aa)+c"))["processId"]
    # the server answers other requests while the pattern runs (each term may take up to 1 s per page)
    answered_while_running = 0
    while True:
        assert api.get("/PCCIS/V1/Service/Current/Health", timeout=5).status_code == 200
        assert text_endpoint(api, sid, 1)["text"].startswith("aaaa")
        if task(api, pid)["state"] != "processing":
            break
        answered_while_running += 1
    assert answered_while_running >= 1
    info = wait(api, pid, timeout=60)
    assert info["state"] == "error" and info["errorCode"] == "SearchTimeout"
    assert info["errorDetails"]["at"] == "input.searchTerms[1].pattern"
    _, last = results(api, pid)
    assert last["errorCode"] == "SearchTimeout" and "continueToken" not in last


def test_bad_input_is_480_naming_the_term(api, known):
    sid, _ = known
    url = f"/v2/viewingSessions/{sid}/searchTasks"
    r = api.post(url, json={"input": {"searchTerms": [term("fine"), term("(unclosed")]}})
    assert r.status_code == 480
    assert r.json()["errorCode"] == "InvalidInputForSimpleTerm"
    assert r.json()["errorDetails"]["at"] == "input.searchTerms[1].pattern"
    r = api.post(url, json={"input": {"searchTerms": [{"type": "simple"}]}})
    assert (r.status_code, r.json()["errorCode"]) == (480, "MissingInputForSimpleTerm")
    r = api.post(url, json={"input": {"searchTerms": [term("x", contextPadding=-1)]}})
    assert r.json()["errorDetails"]["at"] == "input.searchTerms[0].contextPadding"
    r = api.post(url, json={"input": {"searchTerms": []}})
    assert (r.status_code, r.json()["errorCode"]) == (480, "InvalidInput")
    r = api.post(url, json={"input": {}})
    assert (r.status_code, r.json()["errorCode"]) == (480, "MissingInput")
    assert api.post(url, data=b"not json").status_code == 480
    r = api.post("/v2/viewingSessions/nosuchsession0000000/searchTasks", json={"input": {"searchTerms": [term("x")]}})
    assert r.status_code == 404
    empty = api.create()
    r = api.post(f"/v2/viewingSessions/{empty}/searchTasks", json={"input": {"searchTerms": [term("x")]}})
    assert (r.status_code, r.json()["errorCode"]) == (480, "DocumentNotProvidedYet")


def test_tokens_limits_and_unknown_tasks(api, known):
    sid, _ = known
    pid = start(api, sid, term("page"))["processId"]
    wait(api, pid)
    r = api.get(f"/v2/searchTasks/{pid}/results", params={"limit": 1})
    token = r.json()["continueToken"]
    other = start(api, sid, term("page"))["processId"]
    assert api.get(f"/v2/searchTasks/{other}/results", params={"continueToken": token}).status_code == 480
    assert api.get(f"/v2/searchTasks/{pid}/results", params={"continueToken": token[:-2] + "AA"}).status_code == 480
    assert api.get(f"/v2/searchTasks/{pid}/results", params={"limit": "0"}).status_code == 480
    assert api.get("/v2/searchTasks/unknownunknownunknown").status_code == 404
    assert api.get(f"/v2/viewingSessions/{api.create()}/searchTasks/{pid}").status_code == 404  # not its session


def test_deleting_a_task_and_ending_its_session(api):
    sid = api.session_with(make_pdf_pages(400, image=False, lines=10) + b"\n% delete")
    pid = start(api, sid, term("lorem"))["processId"]
    assert api.delete(f"/v2/searchTasks/{pid}").status_code == 204
    assert api.get(f"/v2/searchTasks/{pid}").status_code == 404
    pid = start(api, sid, term("lorem"))["processId"]
    api.post(f"{V1}/u{sid}/Notification/SessionStopped", json={"httpStatus": 410, "endUserMessage": "Gone now"})
    # the task's session ended: the task answers with the session's own status from now on
    deadline = time.monotonic() + 10
    while api.get(f"/v2/searchTasks/{pid}").status_code == 200:
        assert time.monotonic() < deadline
    r = api.get(f"/v2/searchTasks/{pid}/results")
    assert r.status_code == 410 and r.reason == "Gone now"


def test_image_pages_are_pages_without_text(api):
    from api.samples import png_image
    sid = api.session_with(png_image())
    pid = start(api, sid, term("anything"))["processId"]
    hits, last = results(api, pid)
    assert hits == [] and last["pagesWithoutText"] == [0]


@pytest.mark.storages("dir", "s3")
def test_search_contexts_from_a_work_file_and_from_uploaded_text(api, forget_local_copies):
    data, _ = make_pdf()
    file_id = api.post("/PCCIS/V1/WorkFile", data=data, params={"FileExtension": "pdf"}).json()["fileId"]
    forget_local_copies()  # on S3: read back through the bucket
    r = api.post("/v2/searchContexts", json={"input": {"documentIdentifier": "doc-1", "source": "workFile",
                                                       "fileId": file_id}})
    assert r.status_code == 200, r.text
    cid = r.json()["contextId"]
    deadline = time.monotonic() + 60
    while (context := api.get(f"/v2/searchContexts/{cid}").json())["state"] == "processing":
        assert time.monotonic() < deadline
    assert context["state"] == "complete" and context["pageCount"] == 4
    pages = api.get(f"/v2/searchContexts/{cid}/records", params={"pages": "0-"}).json()["pages"]
    assert [p["text"] for p in pages][1] == "Letter page" and len(pages) == 4
    assert api.get(f"/v2/searchContexts/{cid}/records", params={"pages": "2-2"}).json()["pages"] == [
        {"text": "Landscape page"}]
    r = api.post("/v2/searchTasks", json={"input": {"contextId": cid, "searchTerms": [term("landscape")]}})
    assert r.status_code == 200, r.text
    hits, _ = results(api, r.json()["processId"])
    assert [(h["pageIndex"], h["text"]) for h in hits] == [(2, "Landscape")] and hits[0]["lineRectangles"]

    cid = api.post("/v2/searchContexts", json={"input": {"documentIdentifier": "doc-2", "source": "upload"}}
                   ).json()["contextId"]
    assert api.put(f"/v2/searchContexts/{cid}/records", json={"pages": [{"text": "first page"}]}).status_code == 200
    assert api.put(f"/v2/searchContexts/{cid}/records", json={"pages": [{"text": "second page here"}]}).ok
    r = api.post("/v2/searchTasks", json={"input": {"contextId": cid, "searchTerms": [term("page")]}})
    assert (r.status_code, r.json()["errorCode"]) == (480, "InvalidInput")   # not completed yet
    assert api.post(f"/v2/searchContexts/{cid}/completed").json()["state"] == "complete"
    pid = api.post("/v2/searchTasks", json={"input": {"contextId": cid, "searchTerms": [term("page")]}}
                   ).json()["processId"]
    hits, _ = results(api, pid)
    assert [(h["pageIndex"], h["startIndex"], h["lineRectangles"]) for h in hits] == [(0, 6, []), (1, 7, [])]
    assert api.delete(f"/v2/searchContexts/{cid}").status_code == 204
    assert api.get(f"/v2/searchContexts/{cid}").status_code == 404
    r = api.post("/v2/searchTasks", json={"input": {"contextId": "nosuchcontext000000", "searchTerms": [term("x")]}})
    assert (r.status_code, r.json()["errorDetails"]["at"]) == (480, "input.contextId")


def test_a_document_that_needs_a_password(api):
    from api.samples import encrypted_pdf
    sid = api.session_with(encrypted_pdf("pw"))
    info = wait(api, start(api, sid, term("secret"))["processId"])
    assert (info["state"], info["errorCode"]) == ("error", "PasswordRequired")
    sid = api.session_with(encrypted_pdf("pw"), body={"password": "pw"})
    assert [h["text"] for h in search(api, sid, term("secret"))] == ["secret", "secret"]


def test_results_of_an_encrypted_session_are_encrypted_like_its_text(api, known):
    import base64
    import json
    import os
    import re

    from pageturn.core.content_crypto import decrypt

    plain_sid, _ = known
    data, _ = make_pdf()
    sid = api.session_with(data, body={"pageContentEncryption": True})
    page = api.get(f"/viewer/{sid}").text
    config = json.loads(re.search(r'<script id="pageturn-config" type="application/json">(.*?)</script>', page,
                                  re.S).group(1))
    key = base64.b64decode(config["encryption"]["key"])
    expected = search(api, plain_sid, term("pageturn"))
    assert expected

    pid = start(api, sid, term("pageturn"))["processId"]
    assert wait(api, pid)["state"] == "complete"   # a task's state is not content: plain
    for path in (f"/v2/viewingSessions/{sid}/searchTasks/{pid}/results", f"/v2/searchTasks/{pid}/results"):
        refused = api.get(path)   # as the session's Text: never in clear, refused without an iv
        assert refused.status_code == 480 and refused.json()["errorDetails"]["at"] == "iv", refused.text
        assert "pageturn" not in refused.text
        iv = os.urandom(16)
        r = api.get(path, params={"iv": base64.urlsafe_b64encode(iv).decode().rstrip("=")})
        assert r.status_code == 200 and r.headers["Accusoft-Data-Encrypted"] == "true"
        assert b"pageturn" not in r.content and b"lineRectangles" not in r.content
        content_key = decrypt(key, iv, base64.b64decode(r.headers["Accusoft-Data-SK"]))
        body = json.loads(decrypt(content_key, iv, r.content))
        assert "continueToken" not in body
        assert [{k: v for k, v in hit.items()} for hit in body["results"]] == expected
    # another session's task is still not reachable through this session's URL, iv or not
    assert api.get(f"/v2/viewingSessions/{plain_sid}/searchTasks/{pid}/results",
                   params={"iv": "A" * 22}).status_code == 404
