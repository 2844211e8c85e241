"""Zoho sessions on the PrizmDoc URLs: export or print off refuses the document's bytes on every URL, and ending
a Zoho session there needs its tenant's key. With no public_url, links are made only for a Host this server was
really reached at (or a configured name), never for whatever Host a client sends."""
from __future__ import annotations

import http.client
import json

import pytest
import requests

from api.prizm import V1, Prizm
from api.samples import pdf_bytes
from conftest import QUIET

BASE = "/writer/officeapi/v1"


@pytest.fixture(scope="module")
def zoho(tmp_path_factory):
    from conftest import ServerProcess
    env = {"PAGETURN_ZOHO_API_KEYS": "key-a,key-b", "PAGETURN_ALLOWED_HOSTS": "docs.example",
           **{"PAGETURN_" + k.upper(): str(v) for k, v in QUIET.items()}}
    server = ServerProcess(tmp_path_factory.mktemp("data"), env).start()
    yield server
    server.stop()


def preview(server, permissions: dict | None = None, host: str | None = None) -> requests.Response:
    data = {"permissions": json.dumps(permissions)} if permissions is not None else {}
    headers = {"Host": host} if host else {}
    return requests.post(server.url + BASE + "/document/preview", params={"apikey": "key-a"}, data=data,
                         files={"document": ("a.pdf", pdf_bytes("zoho restricted"))}, headers=headers)


def session(server, permissions: dict | None = None) -> str:
    r = preview(server, permissions)
    assert r.status_code == 200, r.text
    return r.json()["session_id"]


@pytest.mark.parametrize("permissions", [{"document.export": False}, {"document.print": False},
                                         {"document.export": "false", "document.print": True}])
def test_export_or_print_off_refuses_the_bytes_everywhere(zoho, permissions):
    api = Prizm(zoho.url)
    sid = session(zoho, permissions)
    assert api.get(f"{V1}/u{sid}").status_code == 200  # the session itself is fine to view
    assert api.get(f"{V1}/u{sid}/SourceFile").status_code == 403
    assert api.get(f"{V1}/u{sid}/FileId").status_code == 403  # the work file id would download the same bytes
    assert api.get("/PCCIS/V1/Document/q/Attributes", params={"DocumentID": f"u{sid}"}).status_code == 200


def test_unrestricted_preview_still_downloads(zoho):
    api = Prizm(zoho.url)
    sid = session(zoho, {"document.export": True, "document.print": True})
    assert api.get(f"{V1}/u{sid}/SourceFile").status_code == 200
    file_id = api.get(f"{V1}/u{sid}/FileId").json()["fileId"]
    assert api.get(f"/PCCIS/V1/WorkFile/{file_id}").status_code == 200


def test_ending_a_zoho_session_through_prizmdoc_needs_its_key(zoho):
    api = Prizm(zoho.url)
    sid = session(zoho)
    for params in (None, {"apikey": "key-b"}, {"apikey": "not-a-key"}):
        assert api.delete(f"{V1}/u{sid}", params=params).status_code == 403
        assert api.post(f"{V1}/u{sid}/Notification/SessionStopped", params=params, json={}).status_code == 403
        assert api.post(f"{V1}/u{sid}/Notification/SessionErrored", params=params, json={}).status_code == 403
        assert api.post(f"{V1}/u{sid}/Replacement", params=params, json={"password": None}).status_code == 403
        assert api.get(f"{V1}/u{sid}").status_code == 200
    assert api.delete(f"{V1}/u{sid}", params={"apikey": "key-a"}).status_code == 204
    other = session(zoho)
    assert api.post(f"{V1}/u{other}/Notification/SessionStopped", params={"apikey": "key-a"},
                    json={"httpStatus": 410}).status_code == 200
    assert api.get(f"{V1}/u{other}").status_code == 410


def test_plain_sessions_need_no_key(zoho):
    api = Prizm(zoho.url)
    sid = api.session_with(pdf_bytes(), body={"serverCaching": "none"})
    assert api.delete(f"{V1}/u{sid}").status_code == 204


def _get(server, path: str, host: str) -> tuple[int, dict, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    conn.request("GET", path, headers={"Host": host})
    response = conn.getresponse()
    result = response.status, dict(response.getheaders()), response.read()
    conn.close()
    return result


def test_a_foreign_host_header_is_not_echoed(zoho):
    r = preview(zoho, host="evil.example")
    assert r.status_code == 400 and r.json()["code"] == 1831 and r.json()["parameter_name"] == "Host", r.text
    assert "evil" not in r.text
    sid = session(zoho)
    status, headers, body = _get(zoho, f"{BASE}/documents/{sid}/preview", f"evil.example:{zoho.port}")
    assert status == 400 and b"evil" not in body and "Location" not in headers
    status, headers, _ = _get(zoho, f"{BASE}/documents/{sid}/preview", f"127.0.0.1:{zoho.port + 1}")
    assert status == 400  # the right address with another port is not where we were reached either


@pytest.mark.parametrize("host", ["127.0.0.1:{port}", "localhost:{port}", "docs.example", "DOCS.example:8443"])
def test_hosts_this_server_answers_for(zoho, host):
    host = host.format(port=zoho.port)
    r = preview(zoho, host=host)
    assert r.status_code == 200, r.text
    assert r.json()["preview_url"].startswith(f"http://{host}{BASE}/documents/")
    status, headers, _ = _get(zoho, f"{BASE}/documents/{r.json()['session_id']}/preview", host)
    assert status == 302 and headers["Location"].startswith(f"http://{host}/viewer/")


def test_public_url_wins_over_any_host(make_server):
    server = make_server(zoho_api_keys="key-a", public_url="https://viewer.example/", **QUIET)
    r = preview(server, host="evil.example")
    assert r.status_code == 200 and r.json()["preview_url"].startswith("https://viewer.example" + BASE)


def test_a_hostile_zoho_document_name_stays_inert_in_the_viewer_page(zoho):
    name = '<!--<script>alert(1)</script></script><script>alert(2)</script>'
    r = requests.post(zoho.url + BASE + "/document/preview", params={"apikey": "key-a"},
                      data={"document_info": json.dumps({"document_name": name})},
                      files={"document": ("a.pdf", pdf_bytes("named"))})
    assert r.status_code == 200, r.text
    page = requests.get(f"{zoho.url}/viewer/{r.json()['session_id']}").text
    start = page.index('<script id="pageturn-config"')
    payload = page[page.index(">", start) + 1:page.index("</script>", start)]
    assert "<" not in payload and ">" not in payload
    assert json.loads(payload)["documentName"] == name
