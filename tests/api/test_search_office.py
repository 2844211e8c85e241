"""Search in Office documents (their converted pages) and across two nodes sharing Redis, over real HTTP."""
from __future__ import annotations

from pathlib import Path

import pytest

from api.prizm import Prizm
from api.search_client import results, search, start, term, wait
from docgen import make_pdf_pages
from officegen import docx_pages, page_marker, xlsx_sheets


@pytest.fixture(scope="module")
def api(office_server) -> Prizm:
    return Prizm(office_server.url)


def text_of(api: Prizm, sid: str, page: int) -> dict:
    r = api.get(f"/PCCIS/V1/Document/q/{page}-{page}/Text", params={"DocumentID": "u" + sid}, timeout=180)
    assert r.status_code == 200, r.text
    return r.json()["pages"][0]


def test_search_in_a_docx_session(api, tmp_path: Path):
    markers = docx_pages(tmp_path / "doc.docx", 4)
    sid = api.session_with((tmp_path / "doc.docx").read_bytes())
    hits = search(api, sid, term("Marker\\w+"))
    assert [(h["pageIndex"], h["text"]) for h in hits] == [(i, m) for i, m in enumerate(markers)]
    page2 = text_of(api, sid, 2)
    hit = hits[2]
    assert page2["text"][hit["startIndex"]:hit["startIndex"] + len(hit["text"])] == page_marker(2)
    boxes = page2["rectangles"][hit["startIndex"]:hit["startIndex"] + len(hit["text"])]
    (line,) = hit["lineRectangles"]
    assert abs(line["x"] - min(b[0] for b in boxes)) < 0.02
    assert abs(line["x"] + line["width"] - max(b[0] + b[2] for b in boxes)) < 0.02
    assert hit["pageData"]["width"] == pytest.approx(page2["width"])


def test_search_in_an_xlsx_session(api, tmp_path: Path):
    sheets = xlsx_sheets(tmp_path / "book.xlsx")
    sid = api.session_with((tmp_path / "book.xlsx").read_bytes())
    words = [w for _, ws in sheets for w in ws]
    hits = search(api, sid, *[term(w, caseSensitive=True, termId=w) for w in words])
    found = [h["searchTerm"]["termId"] for h in hits]
    assert found == words   # sheet order, top to bottom
    pages = [h["pageIndex"] for h in hits]
    assert pages == sorted(pages) and pages[-1] > pages[0]
    assert all(h["lineRectangles"] for h in hits)


def test_cluster_task_on_one_node_results_from_the_other(two_nodes):
    a, b = two_nodes
    node_a, node_b = Prizm(a.url), Prizm(b.url)
    sid = node_a.session_with(make_pdf_pages(200, image=False, lines=8))
    pid = start(node_a, sid, term(r"Page \d+"))["processId"]
    hits, last = results(node_b, pid, limit=37)
    assert [h["text"] for h in hits] == [f"Page {n}" for n in range(1, 201)]
    assert wait(node_b, pid)["state"] == "complete"
    # a token from one node is good on the other (one secret in the shared data directory)
    r = node_a.get(f"/v2/searchTasks/{pid}/results", params={"limit": 10})
    more = node_b.get(f"/v2/searchTasks/{pid}/results", params={"continueToken": r.json()["continueToken"],
                                                                "limit": 5}).json()["results"]
    assert [h["id"] for h in more] == [10, 11, 12, 13, 14]
    assert node_b.delete(f"/v2/searchTasks/{pid}").status_code == 204
    assert node_a.get(f"/v2/searchTasks/{pid}").status_code == 404
