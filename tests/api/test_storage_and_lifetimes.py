"""Restarts, concurrent uploads, size limits and clean shutdown, against real server processes (lifetimes and
expiry are tested in process with a moving clock: tests/inproc/test_lifetimes.py)."""
from __future__ import annotations

import concurrent.futures
import signal
import threading
import time

import requests

from api.prizm import V1, Prizm
from api.samples import pdf_bytes


def test_restart_keeps_sessions_and_work_files(make_server):
    server = make_server()
    api = Prizm(server.url)
    data = pdf_bytes("survives restarts")
    sid = api.session_with(data, body={"tenantId": "persist"})
    stopped = api.session_with(data)
    api.post(f"{V1}/u{stopped}/Notification/SessionStopped", json={"httpStatus": 418, "endUserMessage": "Gone"})
    file_id = api.post("/PCCIS/V1/WorkFile", data=b"notes", params={"FileExtension": "txt"}).json()["fileId"]
    server.restart()
    assert api.get(f"{V1}/u{sid}").json()["tenantId"] == "persist"
    assert api.get(f"{V1}/u{sid}/SourceFile").content == data
    assert api.get(f"/PCCIS/V1/WorkFile/{file_id}").content == b"notes"
    assert api.status_line(f"{V1}/u{stopped}")[0] == "HTTP/1.1 418 Gone"


def test_twenty_concurrent_uploads_read_back_identical(server):
    same = pdf_bytes("same bytes", pages=3)
    documents = [same if i % 2 else pdf_bytes(f"document {i}", pages=2) for i in range(20)]

    def one(data: bytes) -> tuple[bytes, bytes]:
        client = Prizm(server.url)
        sid = client.session_with(data)
        return data, client.get(f"{V1}/u{sid}/SourceFile").content

    with concurrent.futures.ThreadPoolExecutor(20) as pool:
        results = list(pool.map(one, documents))
    assert all(sent == got for sent, got in results)
    blobs = {p.name for p in (server.data_dir / "blobs").glob("*/*")}
    import hashlib
    assert hashlib.sha256(same).hexdigest() in blobs  # identical uploads are stored once, under their hash
    assert not list((server.data_dir / "tmp").iterdir())


def test_oversize_upload_answers_413_and_leaves_nothing(make_server):
    server = make_server(max_upload_size="100k")
    api = Prizm(server.url)
    sid = api.create()
    before = {p.name for p in (server.data_dir / "blobs").glob("*/*")}

    def stream():  # chunked, so the server only learns the size while reading
        for _ in range(40):
            yield b"%PDF-1.4 " + b"x" * 8000

    r = requests.put(f"{server.url}{V1}/u{sid}/SourceFile", data=stream())
    assert r.status_code == 413
    assert "limit" in r.json()["errorDetails"]["message"]
    r = requests.put(f"{server.url}{V1}/u{sid}/SourceFile", data=b"%PDF-1.4" + b"x" * 200_000)
    assert r.status_code == 413
    assert {p.name for p in (server.data_dir / "blobs").glob("*/*")} == before
    assert not list((server.data_dir / "tmp").iterdir())
    assert api.upload(sid, pdf_bytes()).status_code == 200  # the session is still usable


def test_sigterm_lets_an_in_flight_upload_finish(make_server):
    server = make_server()
    api = Prizm(server.url)
    sid = api.create()
    data = pdf_bytes("slow upload", pages=5)
    result: dict = {}

    def slow():
        for i in range(0, len(data), 1000):
            time.sleep(0.05)
            yield data[i:i + 1000]

    def upload():
        result["status"] = requests.put(f"{server.url}{V1}/u{sid}/SourceFile", data=slow()).status_code

    thread = threading.Thread(target=upload)
    thread.start()
    time.sleep(0.3)
    server.proc.send_signal(signal.SIGTERM)
    thread.join(30)
    assert result.get("status") == 200
    assert server.proc.wait(30) == 0
    server.start()
    assert api.get(f"{V1}/u{sid}/SourceFile").content == data
