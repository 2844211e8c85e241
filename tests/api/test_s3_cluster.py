"""Nodes sharing nothing but Redis and an S3 bucket (a real SeaweedFS), each with its own local directory: a
session made on one is served by another, by a node that starts empty and after the first is killed; racing
uploads of the same bytes leave one object; S3 going away mid-run gives clear errors and no corruption."""
from __future__ import annotations

import os
import signal
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from api.prizm import V1, Prizm, error_code
from api.samples import docx_bytes, known_pdf
from api.search_client import results
from api.test_operations import TOKEN, scrape, value
from conftest import ServerProcess
from docgen import make_pdf_pages


def _wait_for(condition, what: str, timeout: float = 60) -> None:
    deadline = time.time() + timeout
    while not condition():
        if time.time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)


def _page(api: Prizm, sid: str, page: int = 0) -> requests.Response:
    return api.get(f"/PCCIS/V1/Page/q/{page}", params={"DocumentID": "u" + sid, "ContentType": "png"})


def _node(tmp_path, name: str, env: dict[str, str]) -> ServerProcess:
    return ServerProcess(tmp_path / name, {"PAGETURN_RENDER_WORKERS": "1", "PAGETURN_OFFICE_ENABLED": "false",
                                           **env})


def test_any_node_serves_any_session_and_survives_a_node_dying(tmp_path, redis_url, s3):
    prefix = f"cluster-{os.urandom(6).hex()}"
    env = {**s3.server_env(prefix), "PAGETURN_METADATA": redis_url.replace("/0", "/2")}
    # A converts Office documents; B has no LibreOffice at all, so what it serves of one was converted on A
    a = _node(tmp_path, "a", {**env, "PAGETURN_OFFICE_ENABLED": "true", "PAGETURN_OFFICE_WORKERS": "1"}).start()
    b = _node(tmp_path, "b", env).start()
    c = _node(tmp_path, "c", env)
    try:
        node_a, node_b, node_c = Prizm(a.url), Prizm(b.url), Prizm(c.url)
        data = known_pdf() + b"\n% s3 cluster"
        sid = node_a.session_with(data)
        assert node_b.get(f"{V1}/u{sid}/SourceFile").content == data
        r = _page(node_b, sid)
        assert r.status_code == 200 and r.content.startswith(b"\x89PNG")
        text = node_b.get("/PCCIS/V1/Document/q/0-0/Text", params={"DocumentID": "u" + sid}).json()
        assert "Hello pageturn" in text["pages"][0]["text"]
        file_id = node_a.post("/PCCIS/V1/WorkFile", data=b"notes", params={"FileExtension": "txt"}).json()["fileId"]
        assert node_b.get(f"/PCCIS/V1/WorkFile/{file_id}").content == b"notes"

        office_sid = node_a.session_with(docx_bytes("Converted once, on node A"), "docx")
        first = _page(node_a, office_sid)
        assert first.status_code == 200
        _wait_for(lambda: any(k.endswith("/document.pdf") for k in s3.keys(f"{prefix}/cache/")),
                  "the conversion to be published to the bucket")
        r = _page(node_b, office_sid)
        assert r.status_code == 200 and r.content == first.content

        a.stop(signal.SIGKILL)  # the node that made everything dies without cleaning up
        c.start()               # and a node with an empty directory joins
        assert not list((c.data_dir / "blobs").glob("*/*"))
        for survivor in (node_b, node_c):
            assert survivor.get(f"{V1}/u{sid}/SourceFile").content == data
            assert _page(survivor, sid).content.startswith(b"\x89PNG")
            assert survivor.get(f"/PCCIS/V1/WorkFile/{file_id}").content == b"notes"
            assert _page(survivor, office_sid).content == first.content
        assert "converted elsewhere" in b.log() and "converted elsewhere" in c.log()
    finally:
        for node in (a, b, c):
            node.stop()


def _renders(url: str) -> float:
    """Render jobs this node ran (pages, SVG, text), from its /metrics."""
    samples = scrape(url)
    return sum(value(samples, "pageturn_render_duration_seconds_count", job=job)
               for job in ("render_raster", "render_svg", "page_text", "page_text_ocr"))


def test_a_node_started_empty_serves_output_rendered_elsewhere_without_rendering(tmp_path, redis_url, s3):
    prefix = f"shared-{os.urandom(6).hex()}"
    env = {**s3.server_env(prefix), "PAGETURN_METADATA": redis_url.replace("/0", "/5"),
           "PAGETURN_METRICS_TOKEN": TOKEN}
    a, c = _node(tmp_path, "a", env).start(), _node(tmp_path, "c", env)
    try:
        node_a = Prizm(a.url)
        sid = node_a.session_with(make_pdf_pages(3, lines=5))
        doc = {"DocumentID": "u" + sid}
        pngs = [_page(node_a, sid, page).content for page in range(3)]
        svg = node_a.get("/PCCIS/V1/Page/q/1", params={**doc, "ContentType": "svgb"}).content
        text = node_a.get("/PCCIS/V1/Document/q/0-2/Text", params=doc).json()
        assert _renders(a.url) >= 7
        # published in the background: 3 PNG, 3 pages of text, 1 SVG and its gzip twin (and whatever A rendered
        # ahead on its own)
        wanted = {f"{page}/{kind}" for page in range(3) for kind in ("page.png", "text")} | {"1/page.svg", "1/gz"}

        def published() -> bool:
            names = {key.split("/pages/", 1)[1].split("/", 1)[1] for key in s3.keys(f"{prefix}/cache/")
                     if "/pages/" in key}
            found = {f"{name.split('/')[0]}/{'gz' if name.endswith('.gz') else name.split('/')[1].split('-')[0]}"
                     for name in names}
            return wanted <= found
        _wait_for(published, "the rendered output to be published")

        a.stop(signal.SIGKILL)  # the node that rendered everything dies
        c.start()               # and one with an empty data directory takes its sessions
        assert not list((c.data_dir / "cache").rglob("page*"))
        node_c = Prizm(c.url)
        assert [_page(node_c, sid, page).content for page in range(3)] == pngs
        assert node_c.get("/PCCIS/V1/Page/q/1", params={**doc, "ContentType": "svgb"}).content == svg
        assert list((c.data_dir / "cache").rglob("page.svg-*.gz"))  # with its gzip twin
        assert node_c.get("/PCCIS/V1/Document/q/0-2/Text", params=doc).json() == text
        samples = scrape(c.url)
        assert _renders(c.url) == 0, "the empty node rendered what the bucket had"
        assert value(samples, "pageturn_page_cache_lookups_total", result="shared") >= 7
        assert value(samples, "pageturn_page_cache_lookups_total", result="miss") == 0
        # from now on its own cache answers
        assert _page(node_c, sid, 0).content == pngs[0]
        assert value(scrape(c.url), "pageturn_page_cache_lookups_total", result="hit") >= 1
    finally:
        for node in (a, c):
            node.stop()


def _docx_with_a_large_picture() -> bytes:
    """A Word document whose PDF is a few MB (a noise picture does not compress): its upload to the bucket takes
    long enough that a node taking the lock the moment the converting node let go would find nothing there."""
    import io

    from docx import Document
    from docx.shared import Inches
    from PIL import Image
    picture = io.BytesIO()
    Image.frombytes("RGB", (1100, 1100), os.urandom(1100 * 1100 * 3)).save(picture, "PNG", compress_level=1)
    document = Document()
    document.add_paragraph("Converted once for the whole cluster")
    document.add_picture(io.BytesIO(picture.getvalue()), width=Inches(5))
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def test_two_nodes_asked_for_the_same_office_document_at_once_convert_it_once(tmp_path, redis_url, s3):
    prefix = f"once-{os.urandom(6).hex()}"
    env = {**s3.server_env(prefix), "PAGETURN_METADATA": redis_url.replace("/0", "/6"),
           "PAGETURN_METRICS_TOKEN": TOKEN, "PAGETURN_OFFICE_ENABLED": "true", "PAGETURN_OFFICE_WORKERS": "1"}
    nodes = [_node(tmp_path, name, env).start() for name in ("a", "b")]
    try:
        apis = [Prizm(node.url) for node in nodes]
        data = _docx_with_a_large_picture()
        with ThreadPoolExecutor(2) as pool:  # each upload starts its node's conversion
            sids = list(pool.map(lambda api: api.session_with(data, "docx"), apis))
            first = list(pool.map(_page, apis, sids))
        assert [r.status_code for r in first] == [200, 200], [r.text for r in first]
        assert first[0].content == first[1].content
        conversions = [value(scrape(node.url), "pageturn_conversion_duration_seconds_count", kind="office",
                             outcome="ok") for node in nodes]
        assert sorted(conversions) == [0, 1], conversions
        assert "converted elsewhere" in nodes[conversions.index(0)].log()
    finally:
        for node in nodes:
            node.stop()


@pytest.mark.parametrize("size", [200_000, 3 << 20], ids=["single-put", "multipart"])
def test_sixteen_uploads_of_the_same_bytes_from_two_nodes_leave_one_object(tmp_path, redis_url, s3, size):
    prefix = f"race-{os.urandom(6).hex()}"
    env = {**s3.server_env(prefix), "PAGETURN_METADATA": redis_url.replace("/0", "/3"),
           "PAGETURN_S3_MULTIPART_THRESHOLD": "1M"}
    a, b = _node(tmp_path, "a", env).start(), _node(tmp_path, "b", env).start()
    try:
        data = os.urandom(size)
        urls = [a.url, b.url] * 8

        def upload(url: str) -> requests.Response:
            return requests.post(f"{url}/PCCIS/V1/WorkFile", data=data, params={"FileExtension": "bin"}, timeout=60)

        with ThreadPoolExecutor(16) as pool:
            answers = list(pool.map(upload, urls))
        assert [r.status_code for r in answers] == [200] * 16
        assert len(s3.keys(f"{prefix}/blobs/")) == 1
        for i, r in enumerate(answers):  # each read back, from the node that did not store it
            other = urls[i + 1 - 2 * (i % 2)]
            assert requests.get(f"{other}/PCCIS/V1/WorkFile/{r.json()['fileId']}").content == data
    finally:
        a.stop()
        b.stop()


@pytest.fixture
def own_s3(tmp_path):
    """An S3 server this test alone stops and starts."""
    from s3server import SeaweedS3
    server = SeaweedS3(tmp_path / "seaweedfs").start()
    yield server
    server.stop()


def test_s3_stopped_mid_run_clear_errors_cached_reads_and_recovery(tmp_path, own_s3):
    node = _node(tmp_path, "node", own_s3.server_env("outage")).start()
    api = Prizm(node.url)
    health = f"{node.url}/PCCIS/V1/Service/Current/Health"
    try:
        data = known_pdf() + b"\n% before the outage"
        sid = api.session_with(data)
        page = _page(api, sid).content
        before = sorted(own_s3.keys("outage/blobs/"))

        own_s3.stop()
        _wait_for(lambda: requests.get(health).status_code == 500, "health to report the outage", 30)
        assert "storage" in requests.get(health).text
        r = api.post("/PCCIS/V1/WorkFile", data=b"not acknowledged", params={"FileExtension": "txt"})
        assert r.status_code == 503 and error_code(r) == "StorageUnavailable"
        other = api.create()
        r = api.put(f"{V1}/u{other}/SourceFile", data=known_pdf() + b"\n% during the outage")
        assert r.status_code == 503 and error_code(r) == "StorageUnavailable"
        # what this node has cached keeps being served
        assert _page(api, sid).content == page
        assert api.get(f"{V1}/u{sid}/SourceFile").content == data
        assert not list((node.data_dir / "tmp").iterdir())

        own_s3.start()
        _wait_for(lambda: requests.get(health).status_code == 200, "health to report recovery", 30)
        assert sorted(own_s3.keys("outage/blobs/")) == before  # nothing half-written appeared
        r = api.post("/PCCIS/V1/WorkFile", data=b"after the outage", params={"FileExtension": "txt"})
        assert r.status_code == 200
        assert api.get(f"/PCCIS/V1/WorkFile/{r.json()['fileId']}").content == b"after the outage"
        assert len(own_s3.keys("outage/blobs/")) == len(before) + 1
    finally:
        node.stop()


def test_a_comparison_made_on_one_node_continues_on_another(tmp_path, redis_url, s3):
    """The redlined document is published to the bucket, and the secret signing continue tokens is shared
    through it: a token given by A is honoured by B, which has no LibreOffice and so converted nothing."""
    import comparegen
    prefix = f"compare-{os.urandom(6).hex()}"
    env = {**s3.server_env(prefix), "PAGETURN_METADATA": redis_url.replace("/0", "/4")}
    a = _node(tmp_path, "a", {**env, "PAGETURN_OFFICE_ENABLED": "true", "PAGETURN_OFFICE_WORKERS": "1"}).start()
    b = _node(tmp_path, "b", env).start()
    try:
        node_a, node_b = Prizm(a.url), Prizm(b.url)
        original, revised = comparegen.PAIRS["list_renumbered"].write(tmp_path / "pair")
        sid = node_a.create()
        for role, path in (("original", original), ("revised", revised)):
            r = node_a.put(f"/v2/viewingSessions/{sid}/sourceFile/{role}", data=path.read_bytes())
            assert r.status_code == 200, r.text
        _wait_for(lambda: node_a.get(f"/v2/viewingSessions/{sid}/revisionData",
                                     params={"limit": 1}).json().get("changes"), "the first change on A", 180)
        token = node_a.get(f"/v2/viewingSessions/{sid}/revisionData", params={"limit": 1}).json()["continueToken"]
        _wait_for(lambda: any(k.endswith("/document.pdf") for k in s3.keys(f"{prefix}/cache/")),
                  "the redlined document to be published", 60)
        rest = node_b.get(f"/v2/viewingSessions/{sid}/revisionData", params={"continueToken": token})
        assert rest.status_code == 200, rest.text
        assert [c["id"] for c in rest.json()["changes"]] == [1, 2]
        assert "converted elsewhere" in b.log()
    finally:
        a.stop()
        b.stop()


def test_a_search_context_of_uploaded_text_is_seen_by_every_node(tmp_path, redis_url, s3):
    env = {**s3.server_env(f"records-{os.urandom(6).hex()}"), "PAGETURN_METADATA": redis_url.replace("/0", "/7")}
    a, b = _node(tmp_path, "a", env).start(), _node(tmp_path, "b", env)
    try:
        b.start()
        node_a, node_b = Prizm(a.url), Prizm(b.url)
        cid = node_a.post("/v2/searchContexts", json={"input": {"documentIdentifier": "d", "source": "upload"}}
                          ).json()["contextId"]
        assert node_a.put(f"/v2/searchContexts/{cid}/records", json={"pages": [{"text": "first page"}]}).ok
        assert node_b.put(f"/v2/searchContexts/{cid}/records", json={"pages": [{"text": "second page"}]}).ok
        assert node_a.post(f"/v2/searchContexts/{cid}/completed").json()["pageCount"] == 2
        assert node_b.get(f"/v2/searchContexts/{cid}/records").json()["pages"] == [
            {"text": "first page"}, {"text": "second page"}]
        pid = node_b.post("/v2/searchTasks", json={"input": {"contextId": cid, "searchTerms": [
            {"type": "simple", "pattern": "page"}]}}).json()["processId"]
        hits, _ = results(node_a, pid)
        assert [(h["pageIndex"], h["startIndex"]) for h in hits] == [(0, 6), (1, 7)]
    finally:
        a.stop()
        b.stop()
