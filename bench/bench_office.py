"""LibreOffice conversion: the warm pool against a cold `soffice --convert-to`, on the generated 16-page Word
document (text, tables, images). Prints numbers and ratios, never passes or fails on time.

  * first page: convert + render page 1 to PNG (pypdfium2, 150 dpi), warm pool vs cold soffice with a fresh
    profile (and, for reference, cold soffice reusing a profile);
  * throughput: documents per second with the default pool of 2 processes vs a pool of 1;
  * resident memory of each warm soffice.

    .venv/bin/python bench/bench_office.py [--runs 3] [--docs 8]
"""
from __future__ import annotations

import argparse
import asyncio
import io
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

import officegen  # noqa: E402
import pypdfium2 as pdfium  # noqa: E402

from pageturn.engines.office import OfficePool  # noqa: E402

FIRST_PAGE_TARGET = 2.5
THROUGHPUT_TARGET = 1.5


def render_first_page(pdf_path: Path) -> int:
    """Page 1 as a 150 dpi PNG; returns the PNG's size (so the work cannot be skipped)."""
    pdf = pdfium.PdfDocument(str(pdf_path))
    try:
        image = pdf[0].render(scale=150 / 72).to_pil()
    finally:
        pdf.close()
    buffer = io.BytesIO()
    image.save(buffer, "PNG", compress_level=1)
    return len(buffer.getvalue())


def bare_convert(src: Path, out_dir: Path, profile: Path, timeout: float) -> Path:
    """`soffice --convert-to pdf` of `src` into an emptied `out_dir`, with its own user profile: the bare
    LibreOffice baseline. The PDF's path."""
    shutil.rmtree(out_dir, ignore_errors=True)
    subprocess.run(["soffice", "--headless", "--norestore", f"-env:UserInstallation={profile.as_uri()}",
                    "--convert-to", "pdf", "--outdir", str(out_dir), str(src)],
                   check=True, capture_output=True, timeout=timeout)
    return out_dir / (src.stem + ".pdf")


def cold_first_page(src: Path, scratch: Path, profile: Path) -> float:
    started = time.perf_counter()
    render_first_page(bare_convert(src, scratch / "cold-out", profile, 300))
    return time.perf_counter() - started


async def warm_first_page(pool: OfficePool, src: Path, scratch: Path) -> float:
    out = scratch / "warm.pdf"
    started = time.perf_counter()
    await pool.convert(src, out, "docx")
    await asyncio.to_thread(render_first_page, out)
    return time.perf_counter() - started


async def throughput(size: int, src: Path, scratch: Path, docs: int) -> tuple[float, list]:
    pool = OfficePool(size, work_dir=scratch / f"pool-{size}")
    await pool.start()
    try:
        await pool.convert(src, scratch / "prime.pdf", "docx")  # every process has converted once before timing
        started = time.perf_counter()
        await asyncio.gather(*(pool.convert(src, scratch / f"t{size}-{i}.pdf", "docx") for i in range(docs)))
        elapsed = time.perf_counter() - started
        return docs / elapsed, [p["rss_mb"] for p in pool.stats()["processes"]]
    finally:
        await pool.stop()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="repetitions of each first-page measurement")
    parser.add_argument("--docs", type=int, default=8, help="documents converted for each throughput figure")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as name:
        scratch = Path(name)
        src = scratch / "sixteen.docx"
        officegen.benchmark_docx(src)

        pool = OfficePool(2, work_dir=scratch / "pool-first")
        started = time.perf_counter()
        await pool.start()
        print(f"pool of 2 started and warmed up in {time.perf_counter() - started:.2f} s "
              f"(isolation: {pool.stats()['isolation']})")
        try:
            await warm_first_page(pool, src, scratch)  # the pool has served requests before, as in a server
            warm = [await warm_first_page(pool, src, scratch) for _ in range(args.runs)]
            rss = [p["rss_mb"] for p in pool.stats()["processes"]]
        finally:
            await pool.stop()

        fresh = []
        for run in range(args.runs):
            fresh.append(await asyncio.to_thread(cold_first_page, src, scratch, scratch / f"fresh-profile-{run}"))
        reused_profile = scratch / "reused-profile"
        await asyncio.to_thread(cold_first_page, src, scratch, reused_profile)  # creates the profile
        reused = [await asyncio.to_thread(cold_first_page, src, scratch, reused_profile) for _ in range(args.runs)]

        one, _ = await throughput(1, src, scratch, args.docs)
        two, rss_two = await throughput(2, src, scratch, args.docs)

    warm_s, fresh_s, reused_s = statistics.median(warm), statistics.median(fresh), statistics.median(reused)
    print(f"\n16-page docx, convert + render page 1 (median of {args.runs}):")
    print(f"  warm pool                          {warm_s:6.3f} s")
    print(f"  cold soffice, fresh profile        {fresh_s:6.3f} s   -> warm is {fresh_s / warm_s:4.1f}x faster "
          f"(target >= {FIRST_PAGE_TARGET}x)")
    print(f"  cold soffice, existing profile     {reused_s:6.3f} s   -> warm is {reused_s / warm_s:4.1f}x faster")
    print(f"\nthroughput, {args.docs} documents submitted at once:")
    print(f"  pool of 1                          {one:6.2f} docs/s")
    print(f"  pool of 2                          {two:6.2f} docs/s   -> {two / one:4.2f}x one process "
          f"(target >= {THROUGHPUT_TARGET}x)")
    print("\nresident memory of each warm soffice:")
    print("  after first-page runs              " + ", ".join(f"{r:.0f} MB" for r in rss if r is not None))
    print("  after throughput runs (pool of 2)  " + ", ".join(f"{r:.0f} MB" for r in rss_two if r is not None))


if __name__ == "__main__":
    asyncio.run(main())
