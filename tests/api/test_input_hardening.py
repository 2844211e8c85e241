"""Input the server once took and failed on later: extensions with a trailing newline, unviewable work files
attached by SourceRef, and a data directory readable by other local users."""
from __future__ import annotations

import stat

import pytest

from api.prizm import V1, Prizm, error_code
from api.samples import pdf_bytes


@pytest.fixture(scope="module")
def api(server) -> Prizm:
    return Prizm(server.url)


@pytest.mark.parametrize("extension", ["html\n", "pdf\n", "pdf\r\n", " pdf"])
def test_an_extension_with_a_line_break_or_space_is_refused(api, extension):
    r = api.upload(api.create(), b"<p>hello</p>", extension)
    assert r.status_code == 480 and error_code(r) == "InvalidInput"
    assert r.json()["errorDetails"]["at"] == "FileExtension"
    r = api.post("/PCCIS/V1/WorkFile", data=b"%PDF-1.4", params={"FileExtension": extension})
    assert r.status_code == 480 and error_code(r) == "InvalidInput"


@pytest.mark.parametrize("data,extension", [(b"\x00\x01 no format at all", None), (b"%!PS-Adobe-3.0\n", "ps")])
def test_source_ref_to_an_unviewable_work_file_is_refused_when_attached(api, data, extension):
    r = api.post("/PCCIS/V1/WorkFile", data=data, params={"FileExtension": extension} if extension else None)
    assert r.status_code == 200, r.text
    sid = api.create()
    r = api.put(f"{V1}/u{sid}/SourceRef", json={"refType": "workFile", "fileId": r.json()["fileId"]})
    assert r.status_code == 580 and r.headers["Accusoft-Status-Message"] == "Unrecognized File Format"
    # the session is still free to take a viewable document
    assert api.upload(sid, pdf_bytes()).status_code == 200


def test_the_data_directory_is_private_to_the_server_user(server, api):
    api.session_with(pdf_bytes("private"))
    data_dir = server.data_dir
    assert stat.S_IMODE(data_dir.stat().st_mode) == 0o700
    for path in [data_dir / "metadata.sqlite3", *data_dir.joinpath("blobs").rglob("*")]:
        mode = stat.S_IMODE(path.stat().st_mode)
        assert mode & 0o077 == 0, (path, oct(mode))
