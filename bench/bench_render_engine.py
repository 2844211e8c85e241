"""Render engine benchmark: the WorkerPool against a bare pypdfium2 loop and poppler's pdftoppm, in one run.

All three render every page of the same generated 50-page text-and-image PDF at 150 dpi to PNG, on the same
number of processes (default 2):

1. bare: pypdfium2 render + Pillow PNG (zlib level 1), pages split over N `multiprocessing` processes;
2. pool: `WorkerPool(N).run(doc, "render_raster", ...)` for every page at once (one document: work stealing
   spreads it over the workers), bytes returned over the pipes;
3. pdftoppm: one `pdftoppm -png -r 150 -f k -l k` process per page, N at a time.

Then the pool's other jobs per page (JPEG q85, SVG, text) for reference. Numbers only; nothing passes or fails.

Run: .venv/bin/python bench/bench_render_engine.py [--pages 50] [--processes 2] [--rounds 3]
"""
from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "src"))
from docgen import make_pdf_pages  # noqa: E402

from pageturn.workers.pool import WorkerPool  # noqa: E402

DPI = 150


def _bare(args: tuple[str, list[int]]) -> int:
    import io

    import pypdfium2 as pdfium
    path, pages = args
    document = pdfium.PdfDocument(path)
    total = 0
    for index in pages:
        image = document[index].render(scale=DPI / 72, rev_byteorder=True).to_pil()
        out = io.BytesIO()
        image.save(out, format="PNG", compress_level=1)
        total += len(out.getvalue())
    return total


def bare_loop(path: str, pages: int, processes: int) -> float:
    chunks = [list(range(i, pages, processes)) for i in range(processes)]
    with multiprocessing.get_context("spawn").Pool(processes) as pool:
        pool.map(_bare, [(path, [0])] * processes)  # imports and first open out of the timing
        started = time.perf_counter()
        pool.map(_bare, [(path, chunk) for chunk in chunks])
        return time.perf_counter() - started


def pdftoppm_loop(path: str, pages: int, processes: int) -> float:
    out = tempfile.mkdtemp()

    def one(index: int) -> None:
        subprocess.run(["pdftoppm", "-png", "-r", str(DPI), "-f", str(index + 1), "-l", str(index + 1), path,
                        f"{out}/p{index}"], check=True)

    started = time.perf_counter()
    with ThreadPoolExecutor(processes) as pool:
        list(pool.map(one, range(pages)))
    return time.perf_counter() - started


async def pool_loops(path: str, pages: int, processes: int, rounds: int) -> dict[str, list[float]]:
    pool = WorkerPool(processes, job_timeout=120)
    await pool.start()
    results: dict[str, list[float]] = {"png": [], "jpeg": [], "svg": [], "text": []}
    try:
        await asyncio.gather(*(pool.run(f"warm{i}", "render_raster", path, "pdf", 0, dpi=DPI, fmt="png")
                               for i in range(processes * 2)))

        async def timed(job: str, **kwargs) -> float:
            started = time.perf_counter()
            await asyncio.gather(*(pool.run(path, job, path, "pdf", page, **kwargs) for page in range(pages)))
            return time.perf_counter() - started

        for _ in range(rounds):
            results["png"].append(await timed("render_raster", dpi=DPI, fmt="png"))
        results["jpeg"].append(await timed("render_raster", dpi=DPI, fmt="jpeg", quality=85))
        results["svg"].append(await timed("render_svg"))
        results["text"].append(await timed("page_text"))
    finally:
        await pool.stop()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pages", type=int, default=50)
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as directory:
        path = str(Path(directory) / "bench.pdf")
        Path(path).write_bytes(make_pdf_pages(args.pages))
        n, p = args.pages, args.processes

        bare = [bare_loop(path, n, p) for _ in range(args.rounds)]
        pool = asyncio.run(pool_loops(path, n, p, args.rounds))
        poppler = [pdftoppm_loop(path, n, p) for _ in range(args.rounds)]

    def rate(seconds: list[float]) -> float:
        return n / statistics.median(seconds)

    print(f"{n} pages, {DPI} dpi PNG (zlib level 1), {p} processes, median of {args.rounds} rounds")
    print(f"  bare pypdfium2 loop     {rate(bare):7.1f} pages/s  ({statistics.median(bare):.2f} s)")
    print(f"  WorkerPool              {rate(pool['png']):7.1f} pages/s  ({statistics.median(pool['png']):.2f} s)"
          f"  = {rate(pool['png']) / rate(bare) * 100:.0f}% of bare")
    print(f"  pdftoppm per page       {rate(poppler):7.1f} pages/s  ({statistics.median(poppler):.2f} s)"
          f"  = {rate(poppler) / rate(bare) * 100:.0f}% of bare")
    print("WorkerPool, other outputs (one round):")
    print(f"  JPEG q85                {rate(pool['jpeg']):7.1f} pages/s")
    print(f"  SVG (pdftocairo)        {rate(pool['svg']):7.1f} pages/s")
    print(f"  text + boxes + links    {rate(pool['text']):7.1f} pages/s")


if __name__ == "__main__":
    main()
