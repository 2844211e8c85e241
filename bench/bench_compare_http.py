"""Comparison over HTTP with a warm server: a generated pair of 16-page Word documents with 20 mixed changes.

For each run, a new viewing session gets the original, then the revised document; from the start of the second
upload it times (a) the last revisionData answer (a client polling as the answers say: continueToken and
continueAfter) and (b) the first comparison page as PNG, both asked for at once, as a viewer does. The pool is
warm: the server is up, LibreOffice has converted an unrelated document and the comparison engine has compared an
unrelated pair. Each run uses serverCaching "none", so nothing is reused from an earlier run.

    .venv/bin/python bench/bench_compare_http.py [--runs 5] [--office-workers 1] [--render-workers 0]
"""
from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

import comparegen  # noqa: E402
from conftest import ServerProcess  # noqa: E402

V1 = "/PCCIS/V1/ViewingSession"
V2 = "/v2/viewingSessions"
TARGET = 2.5


def new_session(base: str) -> str:
    r = requests.post(base + V1, json={"serverCaching": "none"})
    r.raise_for_status()
    return r.json()["viewingSessionId"]


def upload(base: str, sid: str, role: str, data: bytes) -> None:
    requests.put(f"{base}{V2}/{sid}/sourceFile/{role}", data=data).raise_for_status()


def all_changes(base: str, sid: str) -> list[dict]:
    changes, token = [], None
    http = requests.Session()
    while True:
        r = http.get(f"{base}{V2}/{sid}/revisionData", params={"continueToken": token} if token else None,
                     timeout=180)
        r.raise_for_status()
        body = r.json()
        changes += body["changes"]
        token = body.get("continueToken")
        if token is None:
            return changes
        time.sleep(body["continueAfter"] / 1000)


def first_png(base: str, sid: str) -> bytes:
    r = requests.get(base + "/PCCIS/V1/Page/q/0", params={"DocumentID": "u" + sid, "ContentType": "png"},
                     timeout=180)
    r.raise_for_status()
    assert r.content.startswith(b"\x89PNG")
    return r.content


def warm(base: str, directory: Path) -> float:
    """An unrelated Word document converted and shown, and an unrelated pair compared."""
    started = time.perf_counter()
    unrelated = comparegen.PAIRS["word_made_bold"]
    original, revised = unrelated.write(directory / "warm")
    sid = new_session(base)
    r = requests.put(f"{base}{V1}/u{sid}/SourceFile", data=original.read_bytes(), params={"FileExtension": "docx"})
    r.raise_for_status()
    first_png(base, sid)
    sid = new_session(base)
    upload(base, sid, "original", original.read_bytes())
    upload(base, sid, "revised", revised.read_bytes())
    all_changes(base, sid)
    first_png(base, sid)
    return time.perf_counter() - started


def one_run(base: str, original: bytes, revised: bytes) -> tuple[float, float, int]:
    sid = new_session(base)
    upload(base, sid, "original", original)
    timings: dict[str, float] = {}
    found: dict[str, list] = {}

    def timed(name: str, function) -> None:
        result = function(base, sid)
        timings[name] = time.perf_counter() - start
        found[name] = result

    start = time.perf_counter()
    upload(base, sid, "revised", revised)
    threads = [threading.Thread(target=timed, args=("changes", all_changes)),
               threading.Thread(target=timed, args=("png", first_png))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return timings["changes"], timings["png"], len(found["changes"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--office-workers", type=int, default=1)
    parser.add_argument("--render-workers", type=int, default=0, help="0 = one per core")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        directory = Path(scratch)
        original, revised = (p.read_bytes() for p in comparegen.SIXTEEN_PAGES.write(directory / "pair"))
        server = ServerProcess(directory / "data", {"PAGETURN_OFFICE_WORKERS": str(args.office_workers),
                                                    "PAGETURN_RENDER_WORKERS": str(args.render_workers)})
        server.start()
        try:
            print(f"warm-up (unrelated conversion and comparison): {warm(server.url, directory):.2f} s")
            changes_times, png_times = [], []
            for run in range(args.runs):
                to_changes, to_png, count = one_run(server.url, original, revised)
                assert count == sum(comparegen.SIXTEEN_PAGES.expected.values()), count
                changes_times.append(to_changes)
                png_times.append(to_png)
                print(f"run {run + 1}: last revisionData page {to_changes:.2f} s, first page PNG {to_png:.2f} s "
                      f"({count} changes)")
        finally:
            server.stop()
    print(f"16 pages, 20 changes, {args.runs} runs, from the start of the second upload (target {TARGET} s):")
    for label, values in (("last revisionData page", changes_times), ("first comparison page PNG", png_times)):
        print(f"  {label:27} median {statistics.median(values):.2f} s  (min {min(values):.2f}, "
              f"max {max(values):.2f})")


if __name__ == "__main__":
    main()
