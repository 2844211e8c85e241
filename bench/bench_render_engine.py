"""Render engine benchmark: the WorkerPool against bare loops on the same cores, in one run.

Documents (generated): a 50-page text-only PDF (black text: the greyscale case), the 50-page text-and-image PDF of
the other benchmarks (colour), and a 20-page image-heavy PDF (a full-page photo-like image per page).

For each document, rounds alternate between
1. bare: pypdfium2 render + Pillow PNG (zlib level 1), pages split over N `multiprocessing` processes — the design
   before engines.png, and the baseline issue 16 names;
2. pool: `WorkerPool(N).run(doc, "render_raster", ...)` for every page at once (work stealing spreads one document
   over the workers), bytes returned over the pipes, with pageturn's encoder (engines.png);
so each pool round is compared with the bare round next to it (a loaded, shared machine shifts both alike) and
the median of those ratios is printed. The first pool round after the pool starts (workers still importing) is
printed separately from the steady rounds. Every PNG of the first pool round is checked: it decodes to exactly
the pixels of the bare render of the same page (lossless, pixel-identical).

Then per page, one round each: JPEG q85, SVG (pool, and a bare `pdftocairo -svg` per-page loop), text.

Run: .venv/bin/python bench/bench_render_engine.py [--pages 50] [--processes 2] [--rounds 5]
"""
from __future__ import annotations

import argparse
import asyncio
import io
import multiprocessing
import os
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
from docgen import make_pdf_pages, make_text_only_pdf  # noqa: E402

from pageturn.workers.pool import WorkerPool  # noqa: E402

DPI = 150


def make_image_heavy_pdf(pages: int) -> bytes:
    """Pages covered by a noisy photo-like colour image (incompressible, like a scan or a photograph)."""
    import random

    from PIL import Image, ImageFilter
    from reportlab.lib.utils import ImageReader
    from reportlab.pdfgen import canvas
    rng = random.Random(16)
    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer, pagesize=(612, 792), pageCompression=1)
    for page in range(pages):
        noise = Image.frombytes("RGB", (400, 520), rng.randbytes(400 * 520 * 3)).filter(ImageFilter.BoxBlur(2))
        pdf.drawImage(ImageReader(noise), 36, 36, 540, 720)
        pdf.setFont("Helvetica-Bold", 20)
        pdf.drawString(72, 760, f"Photo page {page + 1}")
        pdf.showPage()
    pdf.save()
    return buffer.getvalue()


def _bare(args: tuple[str, list[int]]) -> list[bytes]:
    import pypdfium2 as pdfium
    path, pages = args
    document = pdfium.PdfDocument(path)
    pixels = []
    for index in pages:
        image = document[index].render(scale=DPI / 72, rev_byteorder=True, draw_annots=True).to_pil()
        out = io.BytesIO()
        image.save(out, format="PNG", compress_level=1)
        pixels.append(out.getvalue())
    return pixels


def bare_loop(pool: multiprocessing.pool.Pool, path: str, pages: int, processes: int) -> float:
    chunks = [list(range(i, pages, processes)) for i in range(processes)]
    started = time.perf_counter()
    pool.map(_bare, [(path, chunk) for chunk in chunks])
    return time.perf_counter() - started


def pdftocairo_loop(path: str, pages: int, processes: int) -> float:
    def one(index: int) -> None:
        subprocess.run(["pdftocairo", "-svg", "-f", str(index + 1), "-l", str(index + 1), path, "-"],
                       check=True, capture_output=True)

    started = time.perf_counter()
    with ThreadPoolExecutor(processes) as pool:
        list(pool.map(one, range(pages)))
    return time.perf_counter() - started


async def timed(pool: WorkerPool, path: str, pages: int, job: str, **kwargs) -> tuple[float, list]:
    started = time.perf_counter()
    results = await asyncio.gather(*(pool.run(path, job, path, "pdf", page, **kwargs) for page in range(pages)))
    return time.perf_counter() - started, results


def identical(pngs: list[bytes], path: str) -> bool:
    """Every page decodes to the pixels PDFium draws for it (compared as RGB)."""
    from PIL import Image

    from pageturn.engines import pdf, raster
    for page, data in enumerate(pngs):
        width, height = pdf.page_size(path, page)
        drawn = pdf.render(path, page, raster.plan(width, height, dpi=DPI))
        if Image.open(io.BytesIO(data)).convert("RGB").tobytes() != drawn.tobytes():
            return False
    return True


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pages", type=int, default=50)
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    n, p = args.pages, args.processes
    directory = Path(tempfile.mkdtemp(prefix="pageturn-bench-"))
    documents = {"text-only": (make_text_only_pdf(n), n), "text+image": (make_pdf_pages(n), n),
                 "image-heavy": (make_image_heavy_pdf(max(1, n * 2 // 5)), max(1, n * 2 // 5))}
    print(f"# render engine: {DPI} dpi PNG, {p} processes, {os.cpu_count()} cores, "
          f"load average at start {os.getloadavg()[0]:.1f}; median of {args.rounds} rounds")

    async def run_all() -> None:
        with multiprocessing.get_context("spawn").Pool(p) as bare_pool:
            for name, (data, pages) in documents.items():
                path = str(directory / f"{name}.pdf")
                Path(path).write_bytes(data)
                bare_pool.map(_bare, [(path, [0])] * p)  # imports and first open out of the timing
                pool = WorkerPool(p, job_timeout=300)
                await pool.start()
                try:
                    cold, pngs = await timed(pool, path, pages, "render_raster", dpi=DPI, fmt="png")
                    bare_cold = bare_loop(bare_pool, path, pages, p)
                    ratios, bare_rates, pool_rates = [], [], []
                    for _ in range(args.rounds):
                        bare = bare_loop(bare_pool, path, pages, p)
                        ours, _ = await timed(pool, path, pages, "render_raster", dpi=DPI, fmt="png")
                        bare_rates.append(pages / bare)
                        pool_rates.append(pages / ours)
                        ratios.append(bare / ours)
                    same = identical(pngs, path)
                    print(f"\n## {name}: {pages} pages ({len(data) // 1024} KiB)")
                    print(f"  bare pypdfium2 + Pillow level 1  {statistics.median(bare_rates):7.1f} pages/s")
                    print(f"  WorkerPool (engines.png)         {statistics.median(pool_rates):7.1f} pages/s"
                          f"  = {statistics.median(ratios):.2f}x bare (median of per-round ratios; "
                          f"range {min(ratios):.2f}-{max(ratios):.2f})")
                    print(f"  first round after pool start     {pages / cold:7.1f} pages/s"
                          f"  = {bare_cold / cold:.2f}x the bare round after it")
                    print(f"  PNG bytes per page: pool {sum(map(len, pngs)) // pages // 1024} KiB, "
                          f"Pillow level 1 {sum(map(len, _bare((path, list(range(pages)))))) // pages // 1024} KiB;"
                          f" pixel-identical to PDFium's render: {'yes' if same else 'NO'}")
                    if name == "text+image":
                        jpeg, _ = await timed(pool, path, pages, "render_raster", dpi=DPI, fmt="jpeg", quality=85)
                        svg_rounds, cairo_rounds = [], []
                        for _ in range(max(1, args.rounds // 2)):
                            cairo_rounds.append(pdftocairo_loop(path, pages, p))
                            svg_rounds.append((await timed(pool, path, pages, "render_svg"))[0])
                        text, _ = await timed(pool, path, pages, "page_text")
                        svg_ratio = statistics.median(c / s for c, s in zip(cairo_rounds, svg_rounds))
                        print(f"  JPEG q85 (pool, one round)       {pages / jpeg:7.1f} pages/s")
                        print(f"  SVG pool                         {pages / statistics.median(svg_rounds):7.1f} "
                              f"pages/s = {svg_ratio:.2f}x bare pdftocairo -svg per page "
                              f"({pages / statistics.median(cairo_rounds):.1f} pages/s, {p} at a time)")
                        print(f"  text + boxes + links (one round) {pages / text:7.1f} pages/s")
                finally:
                    await pool.stop()

    asyncio.run(run_all())
    print(f"\nload average at end {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
