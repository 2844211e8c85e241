"""documentSource "http": the server downloads externalId itself, within the address rules."""
from __future__ import annotations

from api.prizm import V1, Prizm
from api.samples import pdf_bytes
from unit.test_url_fetch import DocumentServer


def test_http_source_from_an_allowed_loopback_port(make_server):
    data = pdf_bytes("fetched by the server")
    docs = DocumentServer(data)
    try:
        server = make_server(fetch_allow=f"127.0.0.1:{docs.port}")
        api = Prizm(server.url)
        r = api.post(V1, json={"documentSource": "http", "externalId": f"http://127.0.0.1:{docs.port}/doc.pdf"})
        assert r.status_code == 200, r.text
        sid = r.json()["viewingSessionId"]
        assert api.get(f"{V1}/u{sid}/SourceFile").content == data
    finally:
        docs.close()


def test_http_source_to_loopback_is_refused_without_the_allow_list(make_server):
    docs = DocumentServer(pdf_bytes())
    try:
        server = make_server()
        api = Prizm(server.url)
        r = api.post(V1, json={"documentSource": "http", "externalId": f"http://127.0.0.1:{docs.port}/doc.pdf"})
        assert r.status_code == 480
        assert r.json()["errorCode"] == "UrlFetchFailed"
        assert docs.requests == []
    finally:
        docs.close()
