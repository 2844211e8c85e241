"""Comparison bombs against a real server (issue 11): a pair of ~150 KB Word documents whose redline takes
minutes of CPU must end with a clear 580 within `compare_timeout`, leave no .NET files in the system temp
directory, never hold the server's threads (unrelated conversions keep going while bombs run), and comparisons
beyond `compare_queue_limit` answer 580 ServerBusy."""
from __future__ import annotations

import io
import os
import random
import time
import zipfile
from pathlib import Path

import pytest
import requests
from docx import Document

from api.prizm import Prizm, error_code
from conftest import ServerProcess

V2 = "/v2/viewingSessions"
TIMEOUT = 15
# the server's default thread pool (asyncio.to_thread) has this many threads: as many bombs fill it
DEFAULT_POOL_THREADS = min(32, (os.cpu_count() or 1) + 4)


def _bomb_document(seed: int, paragraphs: int = 7000) -> bytes:
    """Thousands of short paragraphs of random words: the engine aligns paragraphs in quadratic time, so two of
    these with different seeds take minutes of CPU (5000 paragraphs measured 42 s) though each is ~150 KB."""
    rnd = random.Random(seed)
    document = Document()
    for _ in range(paragraphs):
        document.add_paragraph(" ".join(f"w{rnd.randrange(400)}" for _ in range(10)))
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def _variant(data: bytes, n: int) -> bytes:
    """The same document with a distinct extra part: other bytes, so no two sessions share one comparison."""
    buffer = io.BytesIO(data)
    with zipfile.ZipFile(buffer, "a") as archive:
        archive.writestr(f"customXml/pageturn-test-{n}.xml", f"<x>{n}</x>")
    return buffer.getvalue()


@pytest.fixture(scope="module")
def bomb() -> tuple[bytes, bytes]:
    return _bomb_document(1), _bomb_document(2)


@pytest.fixture(scope="module")
def system_tmp(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("systemtmp")


@pytest.fixture(scope="module")
def server(tmp_path_factory, system_tmp):
    # TMPDIR is the server's system temp directory: whatever a comparison leaves behind shows up here
    server = ServerProcess(tmp_path_factory.mktemp("limits"), {
        "PAGETURN_OFFICE_WORKERS": "1", "PAGETURN_RENDER_WORKERS": "1", "PAGETURN_COMPARE_WORKERS": "1",
        "PAGETURN_COMPARE_QUEUE_LIMIT": str(DEFAULT_POOL_THREADS - 1), "PAGETURN_COMPARE_TIMEOUT": f"{TIMEOUT}s",
        "TMPDIR": str(system_tmp)}).start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def api(server) -> Prizm:
    return Prizm(server.url)


def _compare(api: Prizm, original: bytes, revised: bytes) -> str:
    sid = api.create()
    for role, data in (("original", original), ("revised", revised)):
        r = api.put(f"{V2}/{sid}/sourceFile/{role}", data=data)
        assert r.status_code == 200, (role, r.status_code, r.text)
    return sid


def _pipes(directory: Path) -> list[str]:
    return [p.name for p in directory.rglob("*") if p.name.startswith(("clr-debug-pipe", "dotnet-diagnostic"))]


@pytest.fixture(scope="module")
def bomb_run(api, bomb, system_tmp):
    """One bomb on an idle server: its answer, how long it took, and the .NET files seen meanwhile."""
    started = time.monotonic()
    sid = _compare(api, *bomb)
    seen: set[str] = set()
    deadline = started + TIMEOUT + 60
    while True:
        seen.update(_pipes(system_tmp))
        r = api.get(f"{V2}/{sid}/revisionData", timeout=30)
        if r.status_code != 200 or time.monotonic() > deadline:
            break
        time.sleep(r.json()["continueAfter"] / 1000)
    return {"response": r, "elapsed": time.monotonic() - started, "seen": seen, "sid": sid}


def test_a_comparison_bomb_ends_with_a_clear_580_within_its_timeout(api, bomb_run):
    r = bomb_run["response"]
    assert r.status_code == 580, (r.status_code, r.text[:300])
    assert error_code(r) == "InternalError"
    assert f"longer than {TIMEOUT} s" in r.json()["errorDetails"]["message"]
    # the deadline plus uploading and starting the process; the bomb itself needs minutes
    assert bomb_run["elapsed"] < TIMEOUT + 20, bomb_run["elapsed"]
    page = api.get("/PCCIS/V1/Page/q/0", params={"DocumentID": "u" + bomb_run["sid"]}, timeout=30)
    assert page.status_code == 580 and error_code(page) == "ConversionFailed"


def test_the_engine_leaves_nothing_in_the_system_temp_directory(bomb_run, system_tmp):
    assert not bomb_run["seen"], f"seen while the comparison ran: {sorted(bomb_run['seen'])}"
    assert not _pipes(system_tmp)
    assert not list(system_tmp.iterdir())
    assert bomb_run["response"].status_code == 580


def _attributes(api: Prizm, sid: str, timeout: float) -> requests.Response | None:
    try:
        return api.get("/PCCIS/V1/Document/q/Attributes", params={"DocumentID": "u" + sid}, timeout=timeout)
    except requests.Timeout:
        return None


def test_bombs_never_stall_other_work_and_a_full_queue_answers_server_busy(api, bomb, bomb_run):
    # as many bombs as the server's default thread pool has threads: 1 runs, the others wait in its queue
    sids = [_compare(api, _variant(bomb[0], n), _variant(bomb[1], n)) for n in range(DEFAULT_POOL_THREADS)]
    one_more = _compare(api, _variant(bomb[0], 99), _variant(bomb[1], 99))
    busy = _attributes(api, one_more, 60)

    # an unrelated document converts meanwhile (LibreOffice and the default thread pool stay free)
    started = time.monotonic()
    sid = api.session_with("An unrelated document converted while comparisons run.".encode(), "txt")
    unrelated = _attributes(api, sid, 60)
    unrelated_seconds = time.monotonic() - started

    assert busy is not None and busy.status_code == 580 and error_code(busy) == "ServerBusy", \
        busy if busy is None else (busy.status_code, busy.text[:300])
    assert unrelated is not None and unrelated.status_code == 200 and unrelated.json()["pageCount"] == 1, \
        f"the unrelated document waited {unrelated_seconds:.0f} s"
    assert unrelated_seconds < 30
    assert api.get("/PCCIS/V1/Page/q/0", params={"DocumentID": "u" + sid}, timeout=30).status_code == 200

    # and the bombs end one after another, each with its clear error
    first = api.get("/PCCIS/V1/Page/q/0", params={"DocumentID": "u" + sids[0]}, timeout=TIMEOUT + 60)
    assert first.status_code == 580 and error_code(first) == "ConversionFailed"
    assert "longer than" in first.json()["errorDetails"]["message"]
