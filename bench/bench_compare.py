"""Times the Word comparison step on the 16-page pair with 20 mixed changes: compare_docx (the Docxodus process)
plus parse_changes, median of a few runs. With --pdf it also times marking, one LibreOffice conversion of the
marked redline (a cold soffice here; the server keeps one warm) and locate_changes.

    .venv/bin/python bench/bench_compare.py [--runs 5] [--pdf]
"""
from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

import comparegen  # noqa: E402
from pageturn.engines import compare  # noqa: E402


def timed(function, *args, **kwargs):
    start = time.perf_counter()
    result = function(*args, **kwargs)
    return time.perf_counter() - start, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--pdf", action="store_true", help="also time marking, conversion and locating")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        directory = Path(scratch)
        original, revised = comparegen.SIXTEEN_PAGES.write(directory)
        redlined = directory / "redlined.docx"
        compare.redline_binary()  # extracting the engine is a one-time cost, not part of a comparison
        totals, engine_times, parse_times = [], [], []
        for _ in range(args.runs):
            engine_time, _ = timed(compare.compare_docx, original, revised, redlined)
            parse_time, changes = timed(compare.parse_changes, redlined, original, revised)
            engine_times.append(engine_time)
            parse_times.append(parse_time)
            totals.append(engine_time + parse_time)
        print(f"16 pages, {len(changes)} changes, {args.runs} runs")
        print(f"compare_docx   median {statistics.median(engine_times) * 1000:7.0f} ms"
              f"  (min {min(engine_times) * 1000:.0f}, max {max(engine_times) * 1000:.0f})")
        print(f"parse_changes  median {statistics.median(parse_times) * 1000:7.1f} ms")
        print(f"compare step   median {statistics.median(totals) * 1000:7.0f} ms")
        if args.pdf and shutil.which("soffice"):
            marked = directory / "marked.docx"
            mark_time, _ = timed(compare.add_change_markers, redlined, marked, changes)
            convert_time, _ = timed(subprocess.run, [
                "soffice", f"-env:UserInstallation={(directory / 'lo').as_uri()}", "--headless", "--convert-to",
                compare.PDF_EXPORT_FILTER, "--outdir", str(directory), str(marked)], capture_output=True, timeout=240)
            locate_time, places = timed(compare.locate_changes, changes, directory / "marked.pdf")
            print(f"add_change_markers      {mark_time * 1000:7.1f} ms")
            print(f"soffice (cold) to PDF   {convert_time * 1000:7.0f} ms")
            print(f"locate_changes          {locate_time * 1000:7.1f} ms"
                  f"  ({sum(1 for p in places if p['rectangles'])}/{len(places)} with rectangles)")


if __name__ == "__main__":
    main()
