"""The viewer's pages as the server sends them: landing page, per-session config, static files."""
from __future__ import annotations

import html
import json
import re

import pytest
import requests

from api.prizm import V1, Prizm
from api.samples import docx_bytes, pdf_bytes

STORAGES = ("dir", "s3")  # every test here runs on the directory store and on S3 (conftest.storage)


@pytest.fixture(scope="module")
def api(server) -> Prizm:
    return Prizm(server.url)


def _config(api, sid: str) -> dict:
    r = api.get(f"/viewer/{sid}")
    assert r.status_code == 200 and r.headers["Content-Type"].startswith("text/html")
    match = re.search(r'<script id="pageturn-config" type="application/json">(.*?)</script>', r.text, re.S)
    return json.loads(match.group(1))


def test_landing_page_and_static_files(api):
    r = api.get("/")
    assert r.status_code == 200 and "<html" in r.text.lower()
    scripts = re.findall(r'src="([^"]+\.js(?:\?v=[0-9a-f]+)?)"', api.get(f"/viewer/{api.create()}").text)
    assert scripts and all(not s.startswith("http") for s in scripts)  # nothing from a CDN
    for script in scripts:
        assert api.get(script if script.startswith("/") else "/viewer/" + script).status_code == 200


def test_session_config_has_mode_permissions_and_name(api):
    sid = api.session_with(pdf_bytes(), body={"attachmentDisplayName": "Quarterly </script> report"})
    config = _config(api, sid)
    assert config["viewingSessionId"] == sid and config["mode"] == "view"
    assert config["permissions"] == {"print": True, "download": True}
    assert config["documentName"] == "Quarterly </script> report"  # escaped inside the page, intact in JSON
    pair = api.create()
    api.put(f"/v2/viewingSessions/{pair}/sourceFile/original", data=docx_bytes("a"))
    assert _config(api, pair)["mode"] == "compare"


def test_unusable_session_config_carries_its_message(api):
    sid = api.session_with(pdf_bytes())
    api.post(f"{V1}/u{sid}/Notification/SessionStopped", json={"httpStatus": 418, "endUserMessage": "Gone for tea"})
    assert _config(api, sid)["error"] == {"status": 418, "message": "Gone for tea"}


@pytest.mark.parametrize("path", ["/viewer/static/../../app.py", "/viewer/static/%2e%2e/%2e%2e/app.py",
                                  "/viewer/..%2f..%2fapp.py"])
def test_no_path_traversal_out_of_the_viewer(api, path):
    r = requests.get(api.base + path)
    assert r.status_code in (400, 403, 404)
    assert "build_app" not in r.text


def _titled_pdf(title: str) -> bytes:
    import io

    from reportlab.pdfgen import canvas

    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer, pagesize=(595, 842))
    pdf.setTitle(title)
    pdf.drawString(72, 720, "titled")
    pdf.showPage()
    pdf.save()
    return buffer.getvalue()


def test_the_viewer_page_carries_the_first_answers_once_the_document_is_open(api):
    sid = api.session_with(_titled_pdf("Board   minutes\n2026"), "pdf")
    document = api.get("/PCCIS/V1/Document/q/Attributes", params={"DocumentID": "u" + sid}).json()
    assert document == {"pageCount": 1, "pageCountConfidence": 100, "documentTitle": "Board minutes 2026"}
    first = api.get("/PCCIS/V1/Page/q/0/Attributes", params={"DocumentID": "u" + sid, "ContentType": "svgb"}).json()
    page = api.get(f"/viewer/{sid}").text
    config = _config(api, sid)
    # exactly what the two endpoints answer, so the viewer need not ask them
    assert config["documentAttributes"] == document and config["firstPageAttributes"] == first
    assert config["documentTitle"] == "Board minutes 2026"
    # page 1's PNG preview is the page's first request, at a scale the viewer's URLs use
    preload = html.unescape(re.search(r'<link rel="preload" as="fetch" crossorigin="anonymous" href="([^"]+)">',
                                      page).group(1))
    scale = float(re.search(r"[?&]Scale=([0-9.]+)", preload).group(1))
    assert config["firstPagePreview"] == {"scale": scale} and "/Page/q/0?" in preload
    image = api.get(preload)
    assert image.status_code == 200 and image.headers["Content-Type"] == "image/png"


def test_an_encrypted_session_gets_no_preview_preload(api):
    sid = api.session_with(pdf_bytes(), "pdf", body={"pageContentEncryption": True})
    api.get("/PCCIS/V1/Document/q/Attributes", params={"DocumentID": "u" + sid})
    page = api.get(f"/viewer/{sid}").text
    assert "firstPageAttributes" in page and 'rel="preload"' not in page  # its content needs an iv per request


def test_static_files_are_revalidated_and_the_bundle_kept_a_year(api):
    r = api.get("/viewer/static/js/api.js")
    assert r.status_code == 200 and r.headers["Cache-Control"] == "no-cache"
    assert "ETag" in r.headers or "Last-Modified" in r.headers
    again = api.get("/viewer/static/js/api.js", headers={"If-Modified-Since": r.headers["Last-Modified"]})
    assert again.status_code == 304
    page = api.get(f"/viewer/{api.create()}").text
    bundled = re.findall(r'src="(static/dist/viewer\.js\?v=[0-9a-f]+)"', page)
    if not bundled:  # the sources: the bundle is not built here (scripts/build_viewer.py, needs esbuild)
        assert 'src="static/js/viewer.js"' in page
        return
    r = api.get("/viewer/" + bundled[0])
    assert r.status_code == 200 and r.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    assert "javascript" in r.headers["Content-Type"]
