"""Content conversion processes as records: a restart never leaves one `processing` forever, limits end
processes in clear errors, and two nodes on one Redis share them (and take over from a node that died)."""
from __future__ import annotations

import io
import random
import signal
import time

import pytest
from PIL import Image

from convertgen import Converter, make_scan, scan_pdf

SLOW_PAGES = 6  # OCR of a 300-dpi page takes about a second on one core here: long enough to interrupt


@pytest.fixture(scope="module")
def slow_pdf() -> bytes:
    pages = [make_scan([(f"Page number {n} of the scan", 300, 400 + 40 * n)])[0] for n in range(SLOW_PAGES)]
    return scan_pdf(pages)


def ocr_body(file_id: str) -> dict:
    return {"input": {"sources": [{"fileId": file_id}],
                      "dest": {"format": "pdf", "pdfOptions": {"ocr": {"language": "english"}}}}}


def wait_for(conv: Converter, process_id: str, condition, timeout: float = 120) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        answer = conv.status(process_id).json()
        if condition(answer):
            return answer
        assert time.monotonic() < deadline, answer
        time.sleep(0.05)


def test_restart_during_a_running_process_resumes_it(make_server, slow_pdf):
    server = make_server(office_enabled="false", render_workers=1)
    conv = Converter(server.url)
    file_id = conv.upload(slow_pdf, "pdf")
    process_id = conv.start(ocr_body(file_id))["processId"]
    seen = wait_for(conv, process_id, lambda a: a["state"] != "processing" or a["percentComplete"] > 0)
    assert seen["state"] == "processing" and 0 < seen["percentComplete"] < 100  # real progress, not 0 then 100
    server.stop(signal.SIGKILL)   # the node dies mid-process, without any chance to clean up
    server.start()
    answer = conv.wait(process_id)
    assert answer["state"] == "complete", answer
    assert answer["output"]["results"][0]["pageCount"] == SLOW_PAGES
    data = conv.download(answer["output"]["results"][0]["fileId"])
    assert data.startswith(b"%PDF")
    assert not [p for p in (server.data_dir / "tmp").iterdir() if p.name.startswith("convert-")]


def test_a_process_interrupted_twice_ends_in_error(make_server, slow_pdf):
    server = make_server(office_enabled="false", render_workers=1)
    conv = Converter(server.url)
    file_id = conv.upload(slow_pdf, "pdf")
    process_id = conv.start(ocr_body(file_id))["processId"]
    server.stop(signal.SIGKILL)
    server.start()               # resumed at start-up (second attempt) ...
    server.stop(signal.SIGKILL)  # ... and interrupted again
    server.start()
    answer = conv.wait(process_id)
    assert answer["state"] == "error" and answer["errorCode"] == "ProcessInterrupted", answer
    assert "stopped" in answer["errorDetails"]["message"]


def _noise_jpeg(side: int) -> bytes:
    rng = random.Random(7)
    image = Image.frombytes("RGB", (side, side), bytes(rng.getrandbits(8) for _ in range(side * side * 3)))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=40)
    return out.getvalue()


def test_limits_end_processes_in_clear_errors(make_server, slow_pdf):
    server = make_server(office_enabled="false", render_workers=1, convert_max_pages=SLOW_PAGES,
                         convert_workers=1, convert_queue_limit=0, max_upload_size="3M")
    conv = Converter(server.url)
    too_long = conv.upload(scan_pdf([make_scan([("x", 10, 10)])[0]] * (SLOW_PAGES + 1)), "pdf")
    answer = conv.convert({"input": {"sources": [{"fileId": too_long}], "dest": {"format": "tiff"}}})
    assert answer["state"] == "error" and answer["errorCode"] == "TooManyPages", answer
    noise = _noise_jpeg(1200)
    assert len(noise) < 3 << 20
    big = conv.upload(noise, "jpg")
    answer = conv.convert({"input": {"sources": [{"fileId": big}], "dest": {"format": "tiff"}}})
    assert answer["state"] == "error" and answer["errorCode"] == "OutputTooLarge", answer
    # one process at a time and none waiting: a second one while the first runs is refused at once
    first = conv.start(ocr_body(conv.upload(slow_pdf, "pdf")))["processId"]
    refused = conv.post({"input": {"sources": [{"fileId": big}], "dest": {"format": "png"}}})
    assert refused.status_code == 580 and refused.json()["errorCode"] == "ServerTooBusy"
    assert conv.wait(first)["state"] == "complete"
    small = {"format": "jpeg", "jpegOptions": {"maxWidth": "600px"}}
    assert conv.convert({"input": {"sources": [{"fileId": big}], "dest": small}})["state"] == "complete"
    assert not [p for p in (server.data_dir / "tmp").iterdir() if p.name.startswith("convert-")]


def test_a_process_over_its_time_is_stopped(make_server, slow_pdf):
    server = make_server(office_enabled="false", render_workers=1, convert_timeout="1s")
    conv = Converter(server.url)
    answer = conv.convert(ocr_body(conv.upload(slow_pdf, "pdf")))
    assert answer["state"] == "error" and answer["errorCode"] == "ProcessTimedOut", answer
    # the stopped job's worker is killed and replaced; meanwhile a short process may still be refused for time,
    # but the server recovers and converts again
    quick = conv.upload(scan_pdf([make_scan([("x", 10, 10)])[0]]), "pdf")
    states = []
    for _ in range(30):
        states.append(conv.convert({"input": {"sources": [{"fileId": quick}], "dest": {"format": "pdf"}}}))
        if states[-1]["state"] == "complete":
            break
    assert states[-1]["state"] == "complete", states[-1]
    assert all(s["errorCode"] == "ProcessTimedOut" for s in states[:-1])
    assert server.proc.poll() is None
    assert not [p for p in (server.data_dir / "tmp").iterdir() if p.name.startswith("convert-")]


def test_two_nodes_on_one_redis_share_processes(two_nodes, slow_pdf):
    a, b = two_nodes
    node_a, node_b = Converter(a.url), Converter(b.url)
    file_id = node_a.upload(slow_pdf, "pdf")
    process_id = node_a.start(ocr_body(file_id))["processId"]
    running = node_b.status(process_id).json()    # the other node answers while it runs
    assert running["processId"] == process_id and running["state"] in ("processing", "complete")
    answer = node_b.wait(process_id)
    assert answer["state"] == "complete"
    assert node_b.download(answer["output"]["results"][0]["fileId"]).startswith(b"%PDF")
    # the node running a process dies: another node takes it over once its heartbeat stops
    process_id = node_a.start(ocr_body(file_id))["processId"]
    a.stop(signal.SIGKILL)
    answer = node_b.wait(process_id, timeout=180)
    assert answer["state"] == "complete", answer
    assert answer["output"]["results"][0]["pageCount"] == SLOW_PAGES
