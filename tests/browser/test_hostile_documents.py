"""Uploaded HTML and SVG documents opened in a real browser through every URL that hands out stored bytes run no
script on pageturn's origin: opened directly, framed, or embedded by a page on the same origin. A script that
ran would write to the origin's localStorage (where the viewer keeps what it knows) and call back home."""
from __future__ import annotations

import pytest
import requests
from playwright.sync_api import Error as PlaywrightError

V1 = "/PCCIS/V1/ViewingSession"
CALLBACK = "/hostile-callback"
HTML = (b"<!doctype html><html><body><p>hostile</p><script>localStorage.setItem('ran', 'html');"
        b"fetch('" + CALLBACK.encode() + b"?html')</script><img src=x onerror=\"localStorage.setItem('ran', "
        b"'handler')\"></body></html>")
SVG = (b'<svg xmlns="http://www.w3.org/2000/svg" width="40" height="40" onload="localStorage.setItem(\'ran\', '
       b'\'svg-onload\')"><script>localStorage.setItem("ran", "svg"); fetch("' + CALLBACK.encode() + b'?svg")'
       b'</script><rect width="40" height="40"/></svg>')
PROBE_PAGE = "/hostile-probe-page"  # served by the test (route) on the server's own origin


@pytest.fixture(scope="module")
def hostile_urls(server) -> list[str]:
    """Every download URL, each holding an HTML or SVG document."""
    http = requests.Session()
    urls = []
    for data, ext in ((HTML, "html"), (SVG, "svg"), (HTML, "xml"), (SVG, "txt")):
        r = http.post(server.url + "/PCCIS/V1/WorkFile", params={"FileExtension": ext}, data=data)
        assert r.status_code == 200, r.text
        urls.append(f"/PCCIS/V1/WorkFile/{r.json()['fileId']}")
    sid = http.post(server.url + V1, json={}).json()["viewingSessionId"]
    assert http.put(f"{server.url}{V1}/u{sid}/SourceFile", params={"FileExtension": "html"},
                    data=HTML).status_code == 200
    urls.append(f"{V1}/u{sid}/SourceFile")
    urls.append(f"{V1}/u{sid}/SourceFile?ContentDispositionFilename=page")
    # the v2 downloads hold Word documents only (anything else is refused at upload), and answer the same way
    from api.samples import docx_bytes
    pair = http.post(server.url + V1, json={}).json()["viewingSessionId"]
    for role in ("original", "revised"):
        assert http.put(f"{server.url}/v2/viewingSessions/{pair}/sourceFile/{role}",
                        data=docx_bytes(role)).status_code == 200
        urls.append(f"/v2/viewingSessions/{pair}/sourceFile/{role}")
    return urls


def _probe(page, server, callbacks: list[str]) -> None:
    page.route(server.url + PROBE_PAGE, lambda route: route.fulfill(
        status=200, content_type="text/html", body="<!doctype html><title>probe</title><body></body>"))
    page.on("request", lambda request: callbacks.append(request.url) if CALLBACK in request.url else None)
    page.goto(server.url + PROBE_PAGE)
    page.evaluate("localStorage.clear()")


def _ran(page) -> str | None:
    return page.evaluate("localStorage.getItem('ran')")


def test_opened_directly_they_download_and_run_nothing(page, server, hostile_urls):
    callbacks: list[str] = []
    _probe(page, server, callbacks)
    for url in hostile_urls:
        with page.expect_download() as download:
            try:
                page.goto(server.url + url)
            except PlaywrightError as exc:  # Chromium reports an attachment navigation as an aborted load
                assert "Download is starting" in str(exc) or "ERR_ABORTED" in str(exc), exc
        assert download.value.suggested_filename, url
        page.goto(server.url + PROBE_PAGE)
        assert _ran(page) is None, url
    assert callbacks == []


def test_framed_on_the_origin_they_download_and_run_nothing(page, server, hostile_urls):
    callbacks: list[str] = []
    _probe(page, server, callbacks)
    for url in hostile_urls:
        # a frame on the same origin would run the document's script if it rendered: it must download instead
        with page.expect_download() as download:
            page.evaluate("""url => { const frame = document.createElement("iframe"); frame.src = url;
                                      document.body.append(frame); }""", url)
        download.value.cancel()
        assert _ran(page) is None, url
    # as images (browsers run no script in <img>, whatever the type): loaded and still nothing ran
    for url in hostile_urls:
        page.evaluate("""url => new Promise(resolve => { const image = new Image();
                         image.onload = image.onerror = resolve; image.src = url; })""", url)
    assert _ran(page) is None
    assert callbacks == []
