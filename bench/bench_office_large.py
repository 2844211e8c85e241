"""Issue 16, large Office documents: how soon the first page of a long Word document arrives after its upload.

For each size (default 300 and 3,000 pages, generated like tests/officegen.py's documents):
  * where LibreOffice's time goes (bench/office_phases.py, through engines/uno_bridge.py's code): load, an
    export of pages 1-5 right after loading, the whole export, pages 1-5 again once laid out;
  * the bare baseline: `soffice --convert-to pdf` of the same file (its profile made beforehand);
  * through a real server (one LibreOffice process per core, the default), rounds alternating between a server
    with the preview (office_preview=true, the default) and one without: from the upload's answer to page 0's
    PNG, the page count and its confidence reported right after page 0, to the final page count, and to the
    last page's PNG. Every upload is new bytes (nothing cached).
Medians of --runs. Prints numbers, never passes or fails on time.

    .venv/bin/python bench/bench_office_large.py [--pages 300,3000] [--runs 3]
"""
from __future__ import annotations

import argparse
import io
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
import zipfile
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
from conftest import ServerProcess  # noqa: E402
import officegen  # noqa: E402
from bench_office import bare_convert  # noqa: E402

V1 = "/PCCIS/V1"
GOAL_FIRST_PAGE = 3.0


def document(pages: int, cache: Path) -> Path:
    path = cache / f"docx-{pages}.docx"
    if not path.exists():
        officegen.docx_pages(path, pages)
    return path


def fresh_bytes(path: Path) -> bytes:
    """The same document as new bytes (a unique comment in its core properties): no cache can answer it."""
    out = io.BytesIO()
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dest:
        for item in src.infolist():
            data = src.read(item)
            if item.filename == "docProps/core.xml":
                end = b"</cp:coreProperties>"
                data = data.replace(end, f"<!-- {uuid.uuid4().hex} -->".encode() + end)
            dest.writestr(item, data)
    return out.getvalue()


def phases(path: Path, scratch: Path) -> dict:
    out = subprocess.run(["/usr/bin/python3", str(ROOT / "bench" / "office_phases.py"), str(path), str(scratch)],
                         capture_output=True, text=True, timeout=900, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def bare_soffice(path: Path, scratch: Path) -> float:
    started = time.perf_counter()
    bare_convert(path, scratch / "soffice-out", scratch / "soffice-profile", 900)
    return time.perf_counter() - started


def through_server(base: str, data: bytes) -> dict:
    http = requests.Session()
    sid = http.post(base + V1 + "/ViewingSession", json={}).json()["viewingSessionId"]
    started = time.perf_counter()
    answer = http.put(f"{base}{V1}/ViewingSession/u{sid}/SourceFile", data=data, params={"FileExtension": "docx"})
    assert answer.status_code == 200, answer.text
    uploaded = time.perf_counter()
    query = {"DocumentID": "u" + sid}
    page = http.get(f"{base}{V1}/Page/q/0", params={**query, "ContentType": "png"}, timeout=600)
    assert page.status_code == 200, page.text
    first = time.perf_counter() - uploaded
    early = http.get(f"{base}{V1}/Document/q/Attributes", params={**query, "DesiredPageCountConfidence": "0"}).json()
    final = http.get(f"{base}{V1}/Document/q/Attributes", params=query, timeout=600).json()
    counted = time.perf_counter() - uploaded
    last = http.get(f"{base}{V1}/Page/q/{final['pageCount'] - 1}", params={**query, "ContentType": "png"},
                    timeout=600)
    assert last.status_code == 200, last.text
    return {"first": first, "count": counted, "last": time.perf_counter() - uploaded, "upload": uploaded - started,
            "early": (early["pageCount"], early["pageCountConfidence"]), "pages": final["pageCount"],
            "provisional": page.headers.get("Cache-Control") == "no-store"}


def median(rows: list[dict], key: str) -> float:
    return statistics.median(row[key] for row in rows)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--pages", default="300,3000")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--cache", type=Path, default=Path(tempfile.gettempdir()) / "pageturn-bench-office-large",
                        help="where the generated documents are kept between runs")
    args = parser.parse_args()
    args.cache.mkdir(parents=True, exist_ok=True)
    sizes = [int(n) for n in args.pages.split(",")]
    print(f"load average at start: {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f} {os.getloadavg()[2]:.2f}")
    with tempfile.TemporaryDirectory(prefix="bench-office-large-") as tmp:
        scratch = Path(tmp)
        docs = {n: document(n, args.cache) for n in sizes}
        for n, path in docs.items():
            facts = phases(path, scratch / f"phases-{n}")
            print(f"{n:>5} pages, LibreOffice through UNO: load {facts['load']:.2f}s, pages 1-5 right after load "
                  f"{facts['export_1_5_after_load']:.2f}s, whole PDF {facts['export_all']:.2f}s, pages 1-5 once "
                  f"laid out {facts['export_1_5_laid_out']:.2f}s ({facts['pages']} pages)")
        for n, path in docs.items():
            bare_soffice(path, scratch)  # the profile is made once, outside the timing
            bare = statistics.median(bare_soffice(path, scratch) for _ in range(max(1, min(args.runs, 2))))
            print(f"{n:>5} pages, bare `soffice --convert-to pdf`: {bare:.2f}s")
        servers = {}
        try:
            for name, preview in (("preview", "true"), ("whole", "false")):
                servers[name] = ServerProcess(scratch / f"server-{name}", {"PAGETURN_OFFICE_PREVIEW": preview},
                                              ).start(timeout=180)
            for n, path in docs.items():
                rows: dict[str, list[dict]] = {name: [] for name in servers}
                for _ in range(args.runs):
                    for name, server in servers.items():  # alternating: both see the same machine
                        rows[name].append(through_server(server.url, fresh_bytes(path)))
                for name, found in rows.items():
                    early = found[-1]["early"]
                    print(f"{n:>5} pages, server {name:>7}: page 0 {median(found, 'first'):.2f}s after upload, "
                          f"final count {median(found, 'count'):.2f}s, last page {median(found, 'last'):.2f}s; "
                          f"reported with page 0: {early[0]} pages at confidence {early[1]}, final {found[-1]['pages']}"
                          f", page 0 provisional: {found[-1]['provisional']}")
                    print("        rounds: page 0 " + " ".join(f"{row['first']:.2f}" for row in found)
                          + "; final count " + " ".join(f"{row['count']:.2f}" for row in found))
                ratio = median(rows["whole"], "first") / median(rows["preview"], "first")
                verdict = "meets" if median(rows["preview"], "first") <= GOAL_FIRST_PAGE else "misses"
                print(f"{n:>5} pages: first page {ratio:.1f}x sooner with the preview; {verdict} the "
                      f"{GOAL_FIRST_PAGE:g} s goal")
        finally:
            for server in servers.values():
                server.stop()
    print(f"load average at end: {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f} {os.getloadavg()[2]:.2f}")


if __name__ == "__main__":
    main()
