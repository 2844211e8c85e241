"""Issue 12 benchmark: the content conversion API and OCR against bare baselines measured in the same run.

  1. 16-page docx -> PDF through `/v2/contentConverters` (POST to complete, polling every 5 ms) vs the same
     conversion through a warm LibreOffice pool directly (no HTTP): API overhead (target <= 10 %);
  2. 50-page PDF -> PNG pages through the API vs the HTML5 page endpoint's uncached rate on the same server (all
     50 pages requested at once): pages/s (target >= 0.9x);
  3. OCR of a 10-page 300-dpi scan into a searchable PDF through the API vs the bare `tesseract` command on the same
     page images (PNG), as many at once as the server has render workers (target >= 0.9x); the scan as a
     multi-page bilevel G4 TIFF (what scanners send) and as an image-only PDF (ReportLab stores its pages as RGB,
     so each must be decoded: the cost shows); and the first OCR'd page's text in the viewer (upload + Text of
     page 0) vs one bare `tesseract` run on that page (target <= 2x).

Prints numbers and ratios, never passes or fails on time.

    .venv/bin/python bench/bench_convert.py [--runs 3] [--only docx|png|ocr]
"""
from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import io

import requests
from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
from conftest import ServerProcess  # noqa: E402
from convertgen import Converter, make_scan, scan_pdf  # noqa: E402
from docgen import make_pdf_pages  # noqa: E402
import officegen  # noqa: E402

WORKERS = 2
# a client's poll interval adds half of itself to what it measures, on average: polled often, so that what is
# measured is the server's time, not the client's choice
POLL_SECONDS = 0.005


def timed_convert(conv: Converter, body: dict) -> float:
    started = time.perf_counter()
    process_id = conv.start(body)["processId"]
    while True:
        answer = conv.status(process_id).json()
        if answer["state"] != "processing":
            break
        time.sleep(POLL_SECONDS)
    elapsed = time.perf_counter() - started
    assert answer["state"] == "complete", answer
    return elapsed


class DirectOffice:
    """A warm LibreOffice pool of one process in this process, converting without HTTP (the baseline), kept alive
    beside the server so its runs alternate with the API's under the same machine load."""

    def __init__(self, scratch: Path):
        from pageturn.engines.office import OfficePool
        self.loop = asyncio.new_event_loop()
        self.pool = OfficePool(1, work_dir=scratch / "direct-pool")
        self.scratch = scratch
        self.loop.run_until_complete(self.pool.start())

    def convert(self, src: Path, name: str) -> float:
        started = time.perf_counter()
        self.loop.run_until_complete(self.pool.convert(src, self.scratch / name, "docx"))
        return time.perf_counter() - started

    def close(self) -> None:
        self.loop.run_until_complete(self.pool.stop())
        self.loop.close()


def html5_pages_per_second(base: str, data: bytes, pages: int) -> float:
    http = requests.Session()
    sid = http.post(base + "/PCCIS/V1/ViewingSession", json={}).json()["viewingSessionId"]
    assert http.put(f"{base}/PCCIS/V1/ViewingSession/u{sid}/SourceFile", data=data).status_code == 200
    http.get(base + "/PCCIS/V1/Document/q/Attributes", params={"DocumentID": "u" + sid})

    def one(page: int) -> int:
        r = requests.get(f"{base}/PCCIS/V1/Page/q/{page}", params={"DocumentID": "u" + sid, "ContentType": "png"})
        assert r.status_code == 200
        return len(r.content)

    started = time.perf_counter()
    with ThreadPoolExecutor(16) as threads:
        list(threads.map(one, range(pages)))
    return pages / (time.perf_counter() - started)


def bare_tesseract(images: list[Path], parallel: int) -> float:
    def one(path: Path) -> None:
        subprocess.run(["tesseract", str(path), str(path.with_suffix("")), "-l", "eng", "--dpi", "300",
                        "-c", "textonly_pdf=1", "pdf"], check=True, capture_output=True,
                       env={**os.environ, "OMP_THREAD_LIMIT": "1"})
    started = time.perf_counter()
    with ThreadPoolExecutor(parallel) as threads:
        list(threads.map(one, images))
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--only", choices=("docx", "png", "ocr"), help="run one of the three measurements")
    args = parser.parse_args()
    wanted = {args.only} if args.only else {"docx", "png", "ocr"}
    with tempfile.TemporaryDirectory() as name:
        scratch = Path(name)
        server = ServerProcess(scratch / "data", {"PAGETURN_OFFICE_WORKERS": "1",
                                                  "PAGETURN_RENDER_WORKERS": str(WORKERS)}).start()
        try:
            conv = Converter(server.url)
            api_docx: list[float] = []
            direct: list[float] = []
            api_png: list[float] = []
            html5_png: list[float] = []
            ocr_api: list[float] = []
            ocr_pdf: list[float] = []
            ocr_bare: list[float] = []
            first_text: list[float] = []
            bare_one: list[float] = []
            if "docx" in wanted:
                measure_docx(conv, scratch, args.runs, api_docx, direct)
            if "png" in wanted:
                measure_png(conv, server.url, args.runs, api_png, html5_png)
            if "ocr" in wanted:
                measure_ocr(conv, server.url, scratch, args.runs, ocr_api, ocr_pdf, ocr_bare, first_text, bare_one)
        finally:
            server.stop()
    report(args.runs, api_docx, direct, api_png, html5_png, ocr_api, ocr_pdf, ocr_bare, first_text, bare_one)


def measure_docx(conv: Converter, scratch: Path, runs: int, api_docx: list[float], direct: list[float]) -> None:
    src = scratch / "sixteen.docx"
    officegen.benchmark_docx(src)
    docx_id = conv.upload(src.read_bytes(), "docx")
    body = {"input": {"sources": [{"fileId": docx_id}], "dest": {"format": "pdf"}}}
    direct_pool = DirectOffice(scratch)
    try:
        timed_convert(conv, body)  # both office processes have converted before, as in a running server
        direct_pool.convert(src, "prime.pdf")
        for run in range(runs):  # alternating, so both see the same machine load
            api_docx.append(timed_convert(conv, body))
            direct.append(direct_pool.convert(src, f"direct-{run}.pdf"))
    finally:
        direct_pool.close()


def measure_png(conv: Converter, base: str, runs: int, api_png: list[float], html5_png: list[float]) -> None:
    for run in range(runs):
        data = make_pdf_pages(50) + f"\n% run {run}".encode()
        pdf_id = conv.upload(data, "pdf")
        elapsed = timed_convert(conv, {"input": {"sources": [{"fileId": pdf_id}], "dest": {"format": "png"}}})
        api_png.append(50 / elapsed)
        html5_png.append(html5_pages_per_second(base, data + b"\n% html5", 50))


def measure_ocr(conv: Converter, base: str, scratch: Path, runs: int, ocr_api: list[float], ocr_pdf: list[float],
                ocr_bare: list[float], first_text: list[float], bare_one: list[float]) -> None:
    pngs = [make_scan([(f"Page {n} quarterly report shows growth", 300, 400),
                       ("Invoice number 4711 paid in full", 300, 900),
                       ("Delivery address Hamburg harbour", 600, 2400)])[0] for n in range(10)]
    images = []
    for n, png in enumerate(pngs):
        path = scratch / f"scan-{n}.png"
        path.write_bytes(png)
        images.append(path)
    scan = scan_pdf(pngs)
    frames = [Image.open(io.BytesIO(png)) for png in pngs]
    buffer = io.BytesIO()
    frames[0].save(buffer, "TIFF", save_all=True, append_images=frames[1:], compression="group4", dpi=(300, 300))
    tiff = buffer.getvalue()
    ocr = {"format": "pdf", "pdfOptions": {"ocr": {"language": "english"}}}
    for run in range(runs):
        tiff_id = conv.upload(tiff, "tif")
        ocr_api.append(10 / timed_convert(conv, {"input": {"sources": [{"fileId": tiff_id}], "dest": ocr}}))
        ocr_bare.append(10 / bare_tesseract(images, WORKERS))
        scan_id = conv.upload(scan + f"\n% run {run}".encode(), "pdf")
        ocr_pdf.append(10 / timed_convert(conv, {"input": {"sources": [{"fileId": scan_id}], "dest": ocr}}))
        http = requests.Session()
        started = time.perf_counter()
        sid = http.post(base + "/PCCIS/V1/ViewingSession", json={}).json()["viewingSessionId"]
        http.put(f"{base}/PCCIS/V1/ViewingSession/u{sid}/SourceFile", data=scan + f"\n% view {run}".encode())
        text = http.get(base + "/PCCIS/V1/Document/q/0-0/Text", params={"DocumentID": "u" + sid})
        first_text.append(time.perf_counter() - started)
        assert "Invoice" in text.json()["pages"][0]["text"]
        bare_one.append(bare_tesseract(images[:1], 1))


def report(runs: int, api_docx: list[float], direct: list[float], api_png: list[float], html5_png: list[float],
           ocr_api: list[float], ocr_pdf: list[float], ocr_bare: list[float], first_text: list[float],
           bare_one: list[float]) -> None:
    med = statistics.median
    print(f"median of {runs} runs, server with {WORKERS} render workers and 1 LibreOffice process; "
          f"load average {os.getloadavg()[0]:.2f}\n")
    if api_docx:
        print(f"1. 16-page docx -> pdf: API {med(api_docx):.3f} s, warm pool directly {med(direct):.3f} s "
              f"-> overhead {100 * (med(api_docx) / med(direct) - 1):+.1f} % (target <= 10 %)")
    if api_png:
        print(f"2. 50-page pdf -> png: API {med(api_png):.1f} pages/s, HTML5 page endpoint uncached "
              f"{med(html5_png):.1f} pages/s -> {med(api_png) / med(html5_png):.2f}x (target >= 0.9x)")
    if ocr_api:
        print(f"3. OCR, 10-page 300-dpi scan -> searchable pdf: API {med(ocr_api):.2f} pages/s from a G4 TIFF, "
              f"{med(ocr_pdf):.2f} pages/s from an image-only PDF; bare tesseract x{WORKERS} {med(ocr_bare):.2f} "
              f"pages/s -> {med(ocr_api) / med(ocr_bare):.2f}x / {med(ocr_pdf) / med(ocr_bare):.2f}x "
              f"(target >= 0.9x)")
        print(f"   first OCR'd page's text in the viewer {med(first_text):.2f} s, bare tesseract on one page "
              f"{med(bare_one):.2f} s -> {med(first_text) / med(bare_one):.2f}x (target <= 2x)")


if __name__ == "__main__":
    main()
