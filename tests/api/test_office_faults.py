"""A LibreOffice process killed in the middle of a conversion costs that conversion only: the document is not
remembered as broken, and the next request converts it."""
from __future__ import annotations

import os
import signal
import threading
from pathlib import Path

from api.prizm import Prizm
from officegen import long_docx


def _soffice_pids(data_dir: Path) -> list[int]:
    """The soffice processes of this server (their profile lives under its data directory)."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            cmdline = Path(f"/proc/{entry}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if "soffice.bin" in cmdline and str(data_dir) in cmdline:
            found.append(int(entry))
    return found


def test_a_killed_converter_is_not_remembered_as_a_broken_document(make_server, tmp_path):
    # a loaded CI machine is slow; no preview: the kill must land on the whole document's conversion
    server = make_server(office_workers=1, render_workers=1, office_timeout="10m", office_preview="false")
    api = Prizm(server.url)
    path = tmp_path / "long.docx"
    long_docx(path, pages=500)
    sid = api.session_with(path.read_bytes())  # the conversion starts with the upload
    attributes = {"DocumentID": "u" + sid}
    estimate = api.get("/PCCIS/V1/Document/q/Attributes",
                       params={**attributes, "DesiredPageCountConfidence": "0"}).json()
    assert estimate["pageCountConfidence"] < 100, "the conversion must still be running for this test"

    answers: list = []
    waiting = threading.Thread(target=lambda: answers.append(api.get(
        "/PCCIS/V1/Document/q/Attributes", params={**attributes, "DesiredPageCountConfidence": "100"},
        timeout=300)))
    waiting.start()
    pids = _soffice_pids(server.data_dir)
    assert pids, "no LibreOffice process found"
    for pid in pids:
        os.kill(pid, signal.SIGKILL)
    waiting.join(300)
    first = answers[0]
    if first.status_code == 580:  # the kill landed mid-conversion (the usual case): a clear 580 for that try
        assert first.json()["errorCode"] == "ConversionFailed"
    # the same document converts on the next request, once a new LibreOffice is up
    r = api.get("/PCCIS/V1/Document/q/Attributes", params={**attributes, "DesiredPageCountConfidence": "100"},
                timeout=300)
    assert r.status_code == 200, (r.status_code, r.text)
    assert r.json()["pageCountConfidence"] == 100 and r.json()["pageCount"] >= 300
    assert first.status_code == 580, "the kill came too late to test anything: the conversion had finished"
