"""The Zoho-compatible API over raw HTTP: how the key may arrive, the error contract, url sources (served by a
loopback test server on an allow-listed port), refusals (a loopback listener that is not allow-listed must see
no request), and what a deleted session looks like everywhere."""
from __future__ import annotations

import hashlib
import http.client
import json
import time
from urllib.parse import urlparse

import pytest
import requests

from api.prizm import V1, Prizm
from api.samples import docx_bytes, pdf_bytes
from unit.test_url_fetch import DocumentServer, Listener

BASE = "/writer/officeapi/v1"
KEY = "key-a"
QUIET = {"office_enabled": "false", "render_workers": 1}  # sessions are tested here, not rendering


@pytest.fixture(scope="module")
def docs():
    server = DocumentServer(pdf=pdf_bytes("served over http for a url preview"))
    yield server
    server.close()


@pytest.fixture(scope="module")
def zoho(docs, tmp_path_factory):
    from conftest import ServerProcess
    env = {"PAGETURN_ZOHO_API_KEYS": "key-a,key-b", "PAGETURN_FETCH_ALLOW": f"127.0.0.1:{docs.port}",
           **{"PAGETURN_" + k.upper(): str(v) for k, v in QUIET.items()}}
    server = ServerProcess(tmp_path_factory.mktemp("data"), env).start()
    yield server
    server.stop()


@pytest.fixture
def listener():
    quiet = Listener()
    yield quiet
    quiet.close()


def preview(server, *, key: str | None = KEY, document: bytes | None = None, filename: str = "upload",
            **fields) -> requests.Response:
    files = {"document": (filename, document)} if document is not None else {}
    params = {"apikey": key} if key is not None else None
    data = {k: v if isinstance(v, str) else json.dumps(v) for k, v in fields.items()}
    if not files:  # still multipart, as the SDKs send it
        files = {k: (None, v) for k, v in data.items()}
        data = {}
    return requests.post(server.url + BASE + "/document/preview", params=params, files=files or None,
                         data=data or None)


def created(response: requests.Response) -> dict:
    assert response.status_code == 200, response.text
    return response.json()


def zoho_error(response: requests.Response, code: int, parameter: str | None = None) -> dict:
    assert response.status_code == 400, (response.status_code, response.text)
    assert response.headers["Content-Type"].startswith("application/json")
    body = response.json()
    assert body["code"] == code, body
    assert isinstance(body["message"], str) and body["message"]
    if parameter is not None:
        assert body.get("parameter_name") == parameter, body
    return body


def raw(server, method: str, target: str, body: bytes | None = None, headers: dict | None = None
        ) -> tuple[int, dict]:
    """A request with its target sent byte for byte (requests would tidy the query)."""
    parsed = urlparse(server.url)
    conn = http.client.HTTPConnection(parsed.hostname, parsed.port, timeout=30)
    conn.request(method, target, body=body, headers=headers or {})
    response = conn.getresponse()
    status, payload = response.status, response.read()
    conn.close()
    return status, json.loads(payload)


# ---- the API key --------------------------------------------------------------------------------------------
def test_trailing_ampersand_and_empty_query_pairs(zoho):
    prepared = requests.Request("POST", zoho.url, files={"document": ("a.pdf", pdf_bytes("trailing &"))}).prepare()
    status, body = raw(zoho, "POST", f"{BASE}/document/preview?apikey={KEY}&", prepared.body,
                       {"Content-Type": prepared.headers["Content-Type"]})
    assert status == 200, body
    for query in (f"?apikey={KEY}&", f"?&apikey={KEY}&&", f"?apikey=&apikey={KEY}"):
        status, info = raw(zoho, "GET", f"{BASE}/sessions/{body['session_id']}{query}")
        assert status == 200 and info["info"]["document_id"] == body["document_id"], (query, info)
    status, info = raw(zoho, "GET", f"{BASE}/sessions/{body['session_id']}?apikey=&")
    assert status == 400 and info["code"] == 1846


def test_key_as_a_form_field(zoho):
    url = zoho.url + BASE + "/document/preview"
    document = ("a.pdf", pdf_bytes("form field key"))
    after = requests.post(url, files=[("document", document), ("apikey", (None, KEY))])  # key after the bytes
    before = requests.post(url, files=[("apikey", (None, KEY)), ("document", document)])
    for response in (after, before):
        session_id = created(response)["session_id"]
        assert requests.get(f"{zoho.url}{BASE}/sessions/{session_id}", data={"apikey": KEY}).status_code == 200
    refused = pdf_bytes("sent with a wrong form key")
    zoho_error(requests.post(url, files=[("document", ("b.pdf", refused)), ("apikey", (None, "key-z"))]), 1846,
               "apikey")
    assert not _blob(zoho, refused).exists()  # the bytes read before the key was known are gone
    session_id = created(after)["session_id"]
    zoho_error(requests.delete(f"{zoho.url}{BASE}/sessions/{session_id}", data={"apikey": "key-b"}), 1833)
    deleted = requests.delete(f"{zoho.url}{BASE}/sessions/{session_id}", data={"apikey": KEY})
    assert deleted.status_code == 200 and deleted.json() == {"session_delete": True, "session_deleted": True}


def test_a_bad_key_stops_before_the_url_is_fetched(zoho, docs):
    before = len(docs.requests)
    zoho_error(preview(zoho, key="key-z", url=docs.url + "/doc.pdf"), 1846)
    zoho_error(requests.post(zoho.url + BASE + "/document/preview",
                             files={"url": (None, docs.url + "/doc.pdf"), "apikey": (None, "key-z")}), 1846)
    zoho_error(preview(zoho, key=None, url=docs.url + "/doc.pdf"), 1846)
    assert len(docs.requests) == before


# ---- the error contract ---------------------------------------------------------------------------------------
def test_json_fields_compact_or_spaced(zoho):
    for permissions in ('{"document.print":false,"document.export":true}',
                        '{ "document.print" : false , "document.export" : "true" }'):
        created(preview(zoho, document=pdf_bytes(), permissions=permissions,
                        document_info='{ "document_name" : "Spaced" }', lang="en"))


@pytest.mark.parametrize("fields, code, parameter", [
    ({"permissions": "{document.print: false}"}, 1831, "permissions"),
    ({"permissions": "[true]"}, 1831, "permissions"),
    ({"permissions": '{"document.print": "sometimes"}'}, 1831, "permissions"),
    ({"permissions": '{"document.teleport": true}'}, 1832, "permissions"),
    ({"document_info": '{"document_name": '}, 1831, "document_info"),
    ({"document_info": '{"document_name": "x", "folder": "y"}'}, 1832, "document_info"),
    ({"lang": "not a language"}, 1831, "lang"),
    ({"mode": "edit"}, 1832, "mode"),
])
def test_bad_fields(zoho, fields, code, parameter):
    zoho_error(preview(zoho, document=pdf_bytes(), **fields), code, parameter)


def test_bad_documents(zoho, docs):
    zoho_error(preview(zoho), 1837, "document")
    zoho_error(preview(zoho, document_info='{"document_name": "no document"}'), 1837, "document")
    zoho_error(preview(zoho, document=pdf_bytes(), url=docs.url + "/doc.pdf"), 1831, "url")
    zoho_error(preview(zoho, document=b""), 1831, "document")
    zoho_error(preview(zoho, document=b"\x00\x01 no format at all", filename="data.bin"), 1852, "document")
    url = zoho.url + BASE + "/document/preview"
    twice = [("document", ("a.pdf", pdf_bytes())), ("document", ("b.pdf", pdf_bytes()))]
    zoho_error(requests.post(url, params={"apikey": KEY}, files=twice), 1831, "document")


def test_a_text_file_needs_its_extension(zoho):
    body = created(preview(zoho, document=b"just some notes\n", filename="notes.txt"))
    info = requests.get(f"{zoho.url}{BASE}/documents/{body['document_id']}", params={"apikey": KEY}).json()
    assert (info["document_type"], info["document_name"]) == ("txt", "notes")
    zoho_error(preview(zoho, document=b"just some notes\n", filename="upload"), 1852)


def test_every_failure_under_the_prefix_is_zoho_json(zoho):
    unknown = "A" * 86
    cases = [
        ("get", f"/sessions/{unknown}", {}, 1846),                          # no key
        ("get", f"/sessions/{unknown}", {"apikey": KEY}, 1833),
        ("delete", f"/sessions/{unknown}", {"apikey": KEY}, 1833),
        ("get", "/sessions/..%2F..%2Fmetadata", {"apikey": KEY}, 1833),
        ("get", f"/documents/{unknown}", {"apikey": KEY}, 1844),
        ("delete", f"/documents/{unknown}", {"apikey": KEY}, 1844),
        ("get", f"/documents/{unknown}/preview", {}, 1833),
        ("get", "/document/preview", {"apikey": KEY}, 1838),                # wrong method
        ("put", f"/sessions/{unknown}", {"apikey": KEY}, 1838),
        ("post", "/documents", {"apikey": KEY}, 1838),                      # an API this server lacks
        ("get", "", {}, 1838),
    ]
    for method, path, params, code in cases:
        zoho_error(requests.request(method, zoho.url + BASE + path, params=params), code)


# ---- url sources ------------------------------------------------------------------------------------------------
def test_url_source_from_an_allow_listed_loopback_port(zoho, docs):
    body = created(preview(zoho, url=docs.url + "/doc.pdf"))
    assert Prizm(zoho.url).get(f"{V1}/u{body['session_id']}/SourceFile").content == docs.pdf
    info = requests.get(f"{zoho.url}{BASE}/documents/{body['document_id']}", params={"apikey": KEY}).json()
    assert (info["document_name"], info["document_type"]) == ("doc", "pdf")
    body = created(preview(zoho, url=docs.url + "/notes.txt", document_info={"document_name": "Notes"}))
    info = requests.get(f"{zoho.url}{BASE}/documents/{body['document_id']}", params={"apikey": KEY}).json()
    assert (info["document_name"], info["document_type"]) == ("Notes", "txt")  # Content-Type: text/plain


def test_url_redirects(zoho, docs):
    created(preview(zoho, url=docs.url + "/hop/5"))
    message = zoho_error(preview(zoho, url=docs.url + "/hop/6"), 1831, "url")["message"]
    assert "more than 5" in message


def test_loopback_not_on_the_allow_list_is_refused_without_a_request(zoho, docs, listener):
    for url in (f"http://127.0.0.1:{listener.port}/doc.pdf", f"http://localhost:{listener.port}/doc.pdf",
                docs.url + f"/to?port={listener.port}"):
        message = zoho_error(preview(zoho, url=url), 1831, "url")["message"]
        assert "loopback" in message and "fetch_allow" in message, message
    time.sleep(0.3)
    assert listener.connections == 0


def test_url_failures(zoho, docs):
    assert "404" in zoho_error(preview(zoho, url=docs.url + "/status/404"), 1831, "url")["message"]
    zoho_error(preview(zoho, url=docs.url + "/blob"), 1852, "url")
    zoho_error(preview(zoho, url="file:///etc/passwd"), 1831, "url")
    zoho_error(preview(zoho, url="not a url"), 1831, "url")


def test_size_and_time_limits(make_server, docs):
    server = make_server(zoho_api_keys=KEY, fetch_allow=f"127.0.0.1:{docs.port}", max_upload_size="100k",
                         fetch_timeout="1s", **QUIET)
    for path in ("/big?size=200000", "/big?size=200000&chunked=1"):
        assert "larger" in zoho_error(preview(server, url=docs.url + path), 1831, "url")["message"]
    zoho_error(preview(server, document=b"%PDF-1.4 " + b"x" * 200_000), 1831, "document")
    started = time.monotonic()
    assert "in time" in zoho_error(preview(server, url=docs.url + "/slow?seconds=4"), 1831, "url")["message"]
    assert time.monotonic() - started < 3
    assert not list((server.data_dir / "tmp").iterdir())


# ---- lifetimes and deletion ---------------------------------------------------------------------------------------
def _blob(server, data: bytes):
    digest = hashlib.sha256(data).hexdigest()
    return server.data_dir / "blobs" / digest[:2] / digest


def test_a_deleted_session_fails_cleanly_everywhere(zoho):
    data = docx_bytes("deleted everywhere")
    body = created(preview(zoho, document=data, filename="letter.docx",
                           permissions={"document.print": False, "document.export": True}))
    session_id, preview_url = body["session_id"], body["preview_url"]
    opened = requests.get(preview_url, allow_redirects=False)
    assert opened.status_code == 302 and opened.headers["Location"] == f"{zoho.url}/viewer/{session_id}"
    page = requests.get(preview_url)
    assert page.status_code == 200 and page.url == f"{zoho.url}/viewer/{session_id}"
    config = _viewer_config(page.text)
    assert config["permissions"]["print"] is False and config["permissions"]["download"] is True
    assert "error" not in config
    assert _blob(zoho, data).exists()

    assert requests.delete(f"{zoho.url}{BASE}/sessions/{session_id}", params={"apikey": KEY}).status_code == 200
    assert not _blob(zoho, data).exists()
    prizm = Prizm(zoho.url)
    for path in (f"{V1}/u{session_id}", f"{V1}/u{session_id}/SourceFile", f"{V1}/u{session_id}/FileId",
                 f"/PCCIS/V1/Page/q/0?DocumentID=u{session_id}&ContentType=png"):
        assert prizm.status_line(path)[0] == "HTTP/1.1 403 The session is invalid or has expired", path
    assert _viewer_config(requests.get(preview_url).text)["error"]["status"] == 403
    zoho_error(requests.delete(f"{zoho.url}{BASE}/sessions/{session_id}", params={"apikey": KEY}), 1833)


def _viewer_config(html: str) -> dict:
    start = html.index('<script id="pageturn-config" type="application/json">')
    start = html.index(">", start) + 1
    return json.loads(html[start:html.index("</script>", start)])
