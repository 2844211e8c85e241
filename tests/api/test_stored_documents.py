"""Stored documents never render as active content on the server's origin: every URL that hands out stored bytes
answers with nosniff, a sandboxing CSP, and an `attachment` disposition for every type a browser could run."""
from __future__ import annotations

import pytest
import requests

from api.prizm import V1, Prizm
from api.samples import docx_bytes, pdf_bytes

HTML = b"<!doctype html><html><body><script>document.title = 'ran'</script><p>hello</p></body></html>"
SVG = b'<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><script>alert(1)</script></svg>'
XML = b"<?xml version='1.0'?><root><script xmlns='http://www.w3.org/1999/xhtml'>alert(1)</script></root>"


@pytest.fixture(scope="module")
def api(quiet_server) -> Prizm:
    return Prizm(quiet_server.url)


def assert_inert(r: requests.Response, *, attachment: bool = True) -> None:
    assert r.status_code == 200, r.text
    assert r.headers["X-Content-Type-Options"] == "nosniff"
    csp = r.headers["Content-Security-Policy"]
    assert "sandbox" in csp and "default-src 'none'" in csp
    if attachment:
        assert r.headers["Content-Disposition"].startswith("attachment"), r.headers


def work_file(api: Prizm, data: bytes, ext: str) -> str:
    r = api.post("/PCCIS/V1/WorkFile", params={"FileExtension": ext}, data=data)
    assert r.status_code == 200, r.text
    return r.json()["fileId"]


@pytest.mark.parametrize("data, ext", [(HTML, "html"), (HTML, "htm"), (SVG, "svg"), (XML, "xml"),
                                       (HTML, "txt"), (HTML, "unknownext")])
def test_work_file_of_an_active_type_is_an_attachment(api, data, ext):
    r = api.get(f"/PCCIS/V1/WorkFile/{work_file(api, data, ext)}")
    assert_inert(r)
    assert r.content == data


@pytest.mark.parametrize("data, ext, mime", [(pdf_bytes("inline pdf"), "pdf", "application/pdf")])
def test_work_file_of_a_plain_type_keeps_its_type_and_is_still_sandboxed(api, data, ext, mime):
    r = api.get(f"/PCCIS/V1/WorkFile/{work_file(api, data, ext)}")
    assert_inert(r, attachment=False)
    assert r.headers["Content-Type"] == mime and r.content == data


def test_source_file_of_an_html_document(api):
    sid = api.session_with(HTML, "html")
    r = api.get(f"{V1}/u{sid}/SourceFile")
    assert_inert(r)
    assert r.content == HTML
    # a client-chosen file name cannot turn the disposition into something else
    r = api.get(f"{V1}/u{sid}/SourceFile", params={"ContentDispositionFilename": 'x"; inline; a="'})
    assert_inert(r)
    assert "inline" not in r.headers["Content-Disposition"].split(";")[0]


def test_comparison_downloads(api):
    sid = api.create()
    for role, text in (("original", "first"), ("revised", "second")):
        assert api.put(f"/v2/viewingSessions/{sid}/sourceFile/{role}", data=docx_bytes(text)).status_code == 200
        assert_inert(api.get(f"/v2/viewingSessions/{sid}/sourceFile/{role}"))
