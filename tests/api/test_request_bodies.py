"""Request bodies as real clients send them: a JSON body split across TCP writes, a session body carrying a
large image watermark, a client that goes away mid-upload (logged quietly, no traceback), and DELETE of a
session that is already gone."""
from __future__ import annotations

import base64
import io
import json
import os
import socket
import time

import pytest
from PIL import Image

from api.prizm import V1, Prizm
from api.samples import pdf_bytes
from conftest import QUIET



@pytest.fixture(scope="module")
def server(tmp_path_factory):
    from conftest import ServerProcess
    env = {"PAGETURN_" + k.upper(): str(v) for k, v in {**QUIET, "log_level": "debug"}.items()}
    server = ServerProcess(tmp_path_factory.mktemp("data"), env).start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def api(server) -> Prizm:
    return Prizm(server.url)


def _connect(server) -> socket.socket:
    return socket.create_connection(("127.0.0.1", server.port), timeout=30)


def _response(sock: socket.socket) -> tuple[int, bytes]:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        assert chunk, data
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = int(next(line.split(b":")[1] for line in head.split(b"\r\n") if line.lower().startswith(
        b"content-length:")))
    while len(body) < length:
        body += sock.recv(65536)
    return int(head.split()[1]), body


def test_a_json_body_whose_rest_arrives_later(server):
    """The server answers only after the second write: it waited for the whole body instead of refusing."""
    body = json.dumps({"serverCaching": "none"}).encode()
    with _connect(server) as sock:
        sock.sendall(b"POST /PCCIS/V1/ViewingSession HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json"
                     b"\r\nContent-Length: %d\r\n\r\n" % len(body) + body[:5])
        sock.settimeout(1.0)
        try:
            early = sock.recv(65536)  # before the fix: an immediate 480 "not JSON"
        except socket.timeout:
            early = b""
        assert early == b"", early
        sock.settimeout(30)
        sock.sendall(body[5:])
        status, answer = _response(sock)
    assert status == 200, answer


def _noise_png(target: int) -> bytes:
    side = int((target / 3) ** 0.5) + 1
    image = Image.frombytes("RGB", (side, side), os.urandom(side * side * 3))
    buffer = io.BytesIO()
    image.save(buffer, "PNG", compress_level=0)
    return buffer.getvalue()


def test_a_session_body_with_a_large_image_watermark(api):
    png = _noise_png(2 << 20)
    assert len(png) > 2 << 20
    watermark = {"type": "image", "data": base64.b64encode(png).decode(), "opacity": 0.5}
    sid = api.create({"watermarks": [watermark]})
    assert api.get(f"{V1}/u{sid}").json()["watermarks"][0]["opacity"] == 0.5


def test_a_client_that_goes_away_is_logged_quietly(server):
    with _connect(server) as sock:
        sock.sendall(b"POST /PCCIS/V1/WorkFile?FileExtension=pdf HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                     b"Content-Length: 10000000\r\n\r\n" + b"%PDF-1.4\n" + b"x" * 200_000)
        # wait for the server to be reading the body (the upload's temp file exists) before going away
        deadline = time.time() + 20
        while not list((server.data_dir / "tmp").glob("*")) and time.time() < deadline:
            time.sleep(0.02)
    deadline = time.time() + 20
    while "client went away" not in server.log() and time.time() < deadline:
        time.sleep(0.05)
    log = server.log()
    assert "client went away during POST /PCCIS/V1/WorkFile" in log
    assert "Traceback" not in log and " ERROR " not in log


def test_delete_of_a_deleted_session_is_404(api):
    sid = api.session_with(pdf_bytes(), body={"serverCaching": "none"})
    assert api.delete(f"{V1}/u{sid}").status_code == 204
    assert api.delete(f"{V1}/u{sid}").status_code == 404
