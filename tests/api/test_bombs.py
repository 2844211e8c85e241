"""Memory bombs against a real server: each small file inflates to gigabytes when parsed. Each must end its job
with a clear 580 DocumentTooComplex within its timeout, with no engine process above its memory cap (peak
resident memory of every render worker and soffice, read from /proc while the bomb runs), and the server
healthy and serving afterwards.

The server here runs with caps lower than the defaults (so the bombs hit them sooner): render workers 1024 MiB
of address space, LibreOffice 400 MiB resident. Without caps these same files took a render worker to 3.2 GB
and a soffice past 2.4 GB within 90 s (and on)."""
from __future__ import annotations

import io
import os
import threading
import time

import pytest
from PIL import Image

import bombgen
import docgen
import officegen
from api.prizm import Prizm

RENDER_CAP_MB = 1024
OFFICE_CAP_MB = 400
# the soffice watch reads its memory every 0.1 s: it may pass its cap by what it grows in that time
OFFICE_SLACK_MB = 64
HEALTH = "/PCCIS/V1/Service/Current/Health"


class PeakMemory:
    """Samples the resident memory (and its high-water mark) of every process below the server, by name."""

    def __init__(self, root: int):
        self.root = root
        self.peaks: dict[int, tuple[str, float]] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> "PeakMemory":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._stop.is_set():
            self.sample()
            self._stop.wait(0.05)

    def sample(self) -> None:
        parents: dict[int, int] = {}
        for entry in os.listdir("/proc"):
            if entry.isdigit():
                try:
                    with open(f"/proc/{entry}/stat") as handle:
                        parents[int(entry)] = int(handle.read().rsplit(")", 1)[1].split()[1])
                except (OSError, ValueError, IndexError):
                    continue
        for pid in parents:
            ancestor = parents.get(pid)
            while ancestor and ancestor != self.root:
                ancestor = parents.get(ancestor)
            if ancestor != self.root:
                continue
            try:
                with open(f"/proc/{pid}/status") as handle:
                    fields = dict(line.split(":", 1) for line in handle if ":" in line)
                with open(f"/proc/{pid}/cmdline", "rb") as handle:
                    command = handle.read()
            except OSError:
                continue
            if "VmHWM" not in fields:
                continue
            name = ("soffice" if fields["Name"].strip() == "soffice.bin"
                    else "render-worker" if b"pageturn.workers.worker" in command else fields["Name"].strip())
            peak = int(fields["VmHWM"].split()[0]) / 1024
            self.peaks[pid] = (name, max(peak, self.peaks.get(pid, ("", 0.0))[1]))

    def peak(self, name: str) -> float:
        return max((mb for kind, mb in self.peaks.values() if kind == name), default=0.0)


@pytest.fixture(scope="module")
def bomb_server(tmp_path_factory):
    from conftest import ServerProcess

    server = ServerProcess(tmp_path_factory.mktemp("bombs"), {
        "PAGETURN_RENDER_WORKERS": "1", "PAGETURN_OFFICE_WORKERS": "1",
        "PAGETURN_RENDER_MAX_MEMORY_MB": str(RENDER_CAP_MB), "PAGETURN_OFFICE_MAX_MEMORY_MB": str(OFFICE_CAP_MB),
        "PAGETURN_RENDER_TIMEOUT": "120", "PAGETURN_OFFICE_TIMEOUT": "180"}).start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def api(bomb_server) -> Prizm:
    return Prizm(bomb_server.url)


def _assert_still_serving(api: Prizm) -> None:
    """Healthy, and a normal document renders (on a fresh worker if the bomb's was replaced)."""
    deadline = time.monotonic() + 120
    while api.get(HEALTH).status_code != 200:
        assert time.monotonic() < deadline, "the server did not become healthy again"
        time.sleep(0.2)
    sid = api.session_with(docgen.make_pdf()[0] + b"\n% after a bomb " + str(time.time()).encode())
    r = api.get("/PCCIS/V1/Page/q/0", params={"DocumentID": "u" + sid, "Scale": "0.3"}, timeout=120)
    assert r.status_code == 200, r.text
    assert Image.open(io.BytesIO(r.content)).width > 0


def _assert_too_complex(r, started: float, timeout: float) -> None:
    assert r.status_code == 580, (r.status_code, r.text[:300])
    assert r.json()["errorCode"] == "DocumentTooComplex", r.text[:300]
    assert time.monotonic() - started < timeout


def test_pdf_whose_page_content_inflates_to_gigabytes(api, bomb_server):
    sid = api.session_with(bombgen.pdf_content_bomb(2 << 30))
    started = time.monotonic()
    with PeakMemory(bomb_server.proc.pid) as memory:
        r = api.get("/PCCIS/V1/Page/q/0", params={"DocumentID": "u" + sid}, timeout=150)
    _assert_too_complex(r, started, 130)
    assert 0 < memory.peak("render-worker") <= RENDER_CAP_MB, memory.peaks
    _assert_still_serving(api)


def test_png_under_the_pixel_limit_that_decodes_to_gigabytes(api, bomb_server):
    # 14000 x 14000 RGBA = 196 million pixels, under max_image_pixels (200 million): 784 MB decoded, more to
    # flatten; a tile needs the whole decoded image
    sid = api.session_with(bombgen.png_rgba(14_000), "png")
    r = api.get("/PCCIS/V1/Document/q/Attributes", params={"DocumentID": "u" + sid}, timeout=120)
    assert r.status_code == 200, r.text  # reading its size does not decode it
    started = time.monotonic()
    with PeakMemory(bomb_server.proc.pid) as memory:
        r = api.get("/PCCIS/V1/Page/q/0/Tile/0/0/512/512", params={"DocumentID": "u" + sid}, timeout=150)
    _assert_too_complex(r, started, 130)
    assert 0 < memory.peak("render-worker") <= RENDER_CAP_MB, memory.peaks
    _assert_still_serving(api)


def test_docx_whose_text_part_inflates_to_gigabytes(api, bomb_server, tmp_path):
    sid = api.session_with(bombgen.docx_bomb(2 << 30))
    started = time.monotonic()
    with PeakMemory(bomb_server.proc.pid) as memory:
        r = api.get("/PCCIS/V1/Document/q/Attributes", params={"DocumentID": "u" + sid}, timeout=240)
    _assert_too_complex(r, started, 200)
    assert 0 < memory.peak("soffice") <= OFFICE_CAP_MB + OFFICE_SLACK_MB, memory.peaks
    _assert_still_serving(api)
    # LibreOffice was replaced: a normal document converts
    path = tmp_path / "normal.docx"
    officegen.docx_pages(path, 1)
    sid = api.session_with(path.read_bytes())
    r = api.get("/PCCIS/V1/Document/q/Attributes", params={"DocumentID": "u" + sid}, timeout=240)
    assert r.status_code == 200 and r.json()["pageCount"] == 1, r.text
