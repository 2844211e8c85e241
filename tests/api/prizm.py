"""A thin PrizmDoc client for the tests: real HTTP, nothing mocked."""
from __future__ import annotations

import http.client
from urllib.parse import urlparse

import requests

V1 = "/PCCIS/V1/ViewingSession"


class Prizm:
    def __init__(self, base: str):
        self.base = base
        self.http = requests.Session()

    def create(self, body: dict | None = None, **kw) -> str:
        r = self.http.post(self.base + V1, json=body if body is not None else {}, **kw)
        assert r.status_code == 200, r.text
        return r.json()["viewingSessionId"]

    def upload(self, sid: str, data: bytes, ext: str | None = None) -> requests.Response:
        params = {"FileExtension": ext} if ext else None
        return self.http.put(f"{self.base}{V1}/u{sid}/SourceFile", data=data, params=params)

    def session_with(self, data: bytes, ext: str | None = None, body: dict | None = None) -> str:
        sid = self.create(body)
        r = self.upload(sid, data, ext)
        assert r.status_code == 200, (r.status_code, r.headers, r.text)
        return sid

    def get(self, path: str, **kw) -> requests.Response:
        return self.http.get(self.base + path, **kw)

    def post(self, path: str, **kw) -> requests.Response:
        return self.http.post(self.base + path, **kw)

    def put(self, path: str, **kw) -> requests.Response:
        return self.http.put(self.base + path, **kw)

    def delete(self, path: str, **kw) -> requests.Response:
        return self.http.delete(self.base + path, **kw)

    def status_line(self, path: str) -> tuple[str, dict]:
        """The raw status line as sent (requests hides the reason phrase's exact bytes)."""
        parsed = urlparse(self.base)
        conn = http.client.HTTPConnection(parsed.hostname, parsed.port, timeout=10)
        conn.request("GET", path)
        response = conn.getresponse()
        line = f"HTTP/1.1 {response.status} {response.reason}"
        headers = dict(response.getheaders())
        response.read()
        conn.close()
        return line, headers


def error_code(r: requests.Response) -> str:
    return r.json()["errorCode"]


def document_text(api: Prizm, sid: str) -> str:
    """The text of every page of a session's document (waiting for its conversion), pages joined by newlines."""
    r = api.get("/PCCIS/V1/Document/q/Attributes", params={"DocumentID": "u" + sid}, timeout=180)
    assert r.status_code == 200, (r.status_code, r.text[:300])
    count = r.json()["pageCount"]
    r = api.get(f"/PCCIS/V1/Document/q/0-{count - 1}/Text", params={"DocumentID": "u" + sid}, timeout=180)
    assert r.status_code == 200, (r.status_code, r.headers, r.text[:300])
    return "\n".join(p.get("text", "") for p in r.json()["pages"])
