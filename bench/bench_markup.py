"""Issue 14 benchmark: burning redactions and saving/reloading a large markup layer, through a real server.

Prints (1) seconds to burn 20 redactions (found by a redaction creator over a 50-page text PDF, spread over its
pages) with POST /PCCIS/V1/MarkupBurner until the output is ready, and the share of redacted pages that had to
be rasterised (goal 0 for text-and-vector pages), read from the burner's log line; (2) the time to save a layer
of 500 marks (POST /MarkupLayers) and to read it back (GET), medians of several runs.

Run: .venv/bin/python bench/bench_markup.py [--runs 5]
"""
from __future__ import annotations

import argparse
import ast
import json
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
from conftest import ServerProcess  # noqa: E402
from docgen import make_pdf_pages  # noqa: E402
from markupgen import every_mark  # noqa: E402


def finish(http: requests.Session, url: str) -> dict:
    while True:
        body = http.get(url).json()
        if body["state"] != "processing":
            return body
        time.sleep(0.02)


def upload(http: requests.Session, base: str, data: bytes, ext: str) -> str:
    return http.post(f"{base}/PCCIS/V1/WorkFile", params={"FileExtension": ext}, data=data).json()["fileId"]


def burn_bench(http: requests.Session, server: ServerProcess, runs: int) -> None:
    base = server.url
    pdf = make_pdf_pages(50, image=False, lines=40)
    file_id = upload(http, base, pdf, "pdf")
    # the word "Page" heads every page: its first 20 matches, one per page on pages 1..20 ... spread wider
    creator = http.post(f"{base}/v2/redactionCreators", json={"input": {"source": {"fileId": file_id}, "rules": [
        {"find": {"type": "regex", "pattern": r"Page \d+"}, "redactWith": {"type": "RectangleRedaction"}}]}}).json()
    marks = json.loads(http.get(f"{base}/PCCIS/V1/WorkFile/" + finish(
        http, f"{base}/v2/redactionCreators/{creator['processId']}")["output"]["markupFileId"]).content)["marks"]
    chosen = marks[::max(1, len(marks) // 20)][:20]
    markup = upload(http, base, json.dumps({"marks": chosen}).encode(), "json")
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        process = http.post(f"{base}/PCCIS/V1/MarkupBurner", json={"input": {"documentFileId": file_id,
                                                                           "markupFileId": markup}}).json()
        result = finish(http, f"{base}/PCCIS/V1/MarkupBurner/{process['processId']}")
        times.append(time.perf_counter() - started)
        assert result["state"] == "complete", result
    reports = [ast.literal_eval(m) for m in re.findall(r"burned \d+ marks: (\{.*\})", server.log())]
    report = reports[-1]
    pages = len({m["pageNumber"] for m in chosen})
    print(f"burn 20 redactions into a 50-page text PDF: median {statistics.median(times):.2f} s "
          f"(min {min(times):.2f} s, {runs} runs); redacted pages {pages}, rasterised "
          f"{len(report['rasterisedPages'])} ({len(report['rasterisedPages']) / pages:.0%}); "
          f"glyphs removed {report['glyphsRemoved']}; engine {report['seconds']:.2f} s")


def layer_bench(http: requests.Session, server: ServerProcess, runs: int) -> None:
    base = server.url
    pdf = make_pdf_pages(3, image=False, lines=10)
    sid = http.post(f"{base}/PCCIS/V1/ViewingSession", json={}).json()["viewingSessionId"]
    http.put(f"{base}/PCCIS/V1/ViewingSession/u{sid}/SourceFile", params={"FileExtension": "pdf"}, data=pdf)
    template = every_mark()
    marks = []
    for i in range(500):
        mark = dict(template[i % len(template)])
        mark["uid"] = f"m{i}"
        marks.append(mark)
    body = {"name": "Bench", "owner": "bench", "marks": marks}
    size = len(json.dumps(body))
    saves, loads = [], []
    for _ in range(runs):
        started = time.perf_counter()
        r = http.post(f"{base}/MarkupLayers/u{sid}", json=body)
        saves.append(time.perf_counter() - started)
        assert r.status_code == 201, r.text
        started = time.perf_counter()
        got = http.get(f"{base}/MarkupLayers/u{sid}/{r.json()['layerRecordId']}").json()
        loads.append(time.perf_counter() - started)
        assert len(got["marks"]) == 500
    print(f"layer of 500 marks ({size / 1e6:.2f} MB JSON): save median {statistics.median(saves) * 1000:.0f} ms, "
          f"reload median {statistics.median(loads) * 1000:.0f} ms ({runs} runs)")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        server = ServerProcess(Path(tmp) / "data", {"PAGETURN_OFFICE_ENABLED": "false"}).start()
        try:
            http = requests.Session()
            burn_bench(http, server, args.runs)
            layer_bench(http, server, args.runs)
        finally:
            server.stop()


if __name__ == "__main__":
    main()
