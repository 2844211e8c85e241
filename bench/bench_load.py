"""Load: concurrent viewers over many sessions on one real server, reading the way the web viewer reads.

Each viewer opens one of the sessions (document attributes, first page's attributes, four thumbnails), then
reads on: for each page its attributes and its SVG, the text of every fourth page range, now and then a PNG at
zoom or a jump to another page, with a random pause between pages (mean `--think`). Sessions hold distinct
documents (mostly 10-page PDFs, some 6-page Word documents converted by LibreOffice), uploaded just before the
viewers start, so the first reads render and later ones come from the cache. Prints latency percentiles over all
requests and per kind, the error count (anything but 2xx, or no answer) and the resident memory of the server
and its worker processes at start and end.

Run: .venv/bin/python bench/bench_load.py [--viewers 200] [--sessions 50] [--duration 120] [--think 1]
"""
from __future__ import annotations

import argparse
import asyncio
import collections
import json
import os
import random
import statistics
import sys
import tempfile
import time
import zipfile
from pathlib import Path

import aiohttp

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
from conftest import ServerProcess  # noqa: E402
from docgen import make_pdf_pages  # noqa: E402
from fuzz.procmem import mib, tree_cpu_seconds, tree_memory  # noqa: E402
from officegen import docx_pages  # noqa: E402

V1 = "/PCCIS/V1/ViewingSession"


class Stats:
    def __init__(self) -> None:
        self.latencies: dict[str, list[float]] = collections.defaultdict(list)
        self.errors: collections.Counter = collections.Counter()

    def all(self) -> list[float]:
        return [x for values in self.latencies.values() for x in values]


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


async def _get(http: aiohttp.ClientSession, stats: Stats, kind: str, url: str, params: dict):
    started = time.monotonic()
    try:
        async with http.get(url, params=params) as r:
            body = await r.read()
            ok = 200 <= r.status < 300
            status = r.status
    except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
        stats.errors[f"{kind}: {type(exc).__name__}"] += 1
        return None
    stats.latencies[kind].append(time.monotonic() - started)
    if not ok:
        stats.errors[f"{kind}: {status}"] += 1
        return None
    return body


async def viewer(http: aiohttp.ClientSession, base: str, sid: str, stats: Stats, until: float, think: float,
                 rng: random.Random) -> None:
    doc = {"DocumentID": "u" + sid}
    body = await _get(http, stats, "document attributes", base + "/PCCIS/V1/Document/q/Attributes", doc)
    count = json.loads(body)["pageCount"] if body else 1
    await _get(http, stats, "page attributes", base + "/PCCIS/V1/Page/q/0/Attributes", {**doc, "ContentType": "svgb"})
    for n in range(min(4, count)):
        await _get(http, stats, "thumbnail", base + f"/PCCIS/V1/Page/q/{n}/120x160", {**doc, "ContentType": "png"})
    page = 0
    while time.monotonic() < until:
        await _get(http, stats, "page attributes", base + f"/PCCIS/V1/Page/q/{page}/Attributes",
                   {**doc, "ContentType": "svgb"})
        await _get(http, stats, "page svg", base + f"/PCCIS/V1/Page/q/{page}", {**doc, "ContentType": "svgb"})
        if page % 4 == 0:
            last = min(count - 1, page + 3)
            await _get(http, stats, "text", base + f"/PCCIS/V1/Document/q/{page}-{last}/Text", doc)
        if rng.random() < 0.15:
            await _get(http, stats, "page png at zoom", base + f"/PCCIS/V1/Page/q/{page}",
                       {**doc, "ContentType": "png", "Scale": "1.5"})
        page = rng.randrange(count) if rng.random() < 0.1 else (page + 1) % count
        await asyncio.sleep(rng.uniform(0, 2 * think))


async def _upload(http: aiohttp.ClientSession, base: str, data: bytes, ext: str) -> str:
    async with http.post(base + V1, json={}) as r:
        sid = (await r.json())["viewingSessionId"]
    async with http.put(f"{base}{V1}/u{sid}/SourceFile", data=data, params={"FileExtension": ext}) as r:
        assert r.status == 200, await r.text()
    return sid


async def main_async(args: argparse.Namespace, server: ServerProcess, documents: list[tuple[bytes, str]]) -> int:
    base = server.url
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0),
                                     timeout=aiohttp.ClientTimeout(total=args.timeout)) as http:
        sids = [await _upload(http, base, data, ext) for data, ext in documents]
        start_memory = tree_memory(server.proc.pid)
        start_cpu, start_load = tree_cpu_seconds(server.proc.pid), os.getloadavg()[0]
        stats = Stats()
        started = time.monotonic()
        until = started + args.duration
        await asyncio.gather(*(viewer(http, base, sids[i % len(sids)], stats, until, args.think,
                                      random.Random(i)) for i in range(args.viewers)))
        elapsed = time.monotonic() - started
        end_memory = tree_memory(server.proc.pid)
        cpu = tree_cpu_seconds(server.proc.pid) - start_cpu
        end_load = os.getloadavg()[0]
    every = stats.all()
    print(f"{args.viewers} viewers over {len(sids)} sessions for {elapsed:.0f} s (think {args.think} s): "
          f"{len(every)} requests, {len(every) / elapsed:.0f} req/s, errors {sum(stats.errors.values())}")
    print(f"latency all requests: p50 {percentile(every, .5) * 1000:.0f} ms, "
          f"p95 {percentile(every, .95) * 1000:.0f} ms, "
          f"p99 {percentile(every, .99) * 1000:.0f} ms, max {max(every) * 1000:.0f} ms")
    for kind, values in sorted(stats.latencies.items()):
        print(f"  {kind:20} n={len(values):6}  p50 {percentile(values, .5) * 1000:6.0f} ms  "
              f"p95 {percentile(values, .95) * 1000:6.0f} ms  p99 {percentile(values, .99) * 1000:6.0f} ms  "
              f"mean {statistics.fmean(values) * 1000:6.0f} ms")
    for what, n in stats.errors.most_common():
        print(f"  error {what} x{n}")
    for label, m in (("start", start_memory), ("end", end_memory)):
        print(f"memory at {label}: server {mib(m.server)}, {m.count} worker processes {mib(m.children)} "
              f"(largest {mib(m.largest_child)} {m.largest_child_name}), total {mib(m.total)}")
    print(f"CPU used by the server and its workers: {cpu:.0f} s in {elapsed:.0f} s "
          f"({cpu / elapsed / (os.cpu_count() or 1) * 100:.0f} % of {os.cpu_count()} cores; "
          f"{len(every) / max(cpu, 0.001):.0f} "
          f"requests per CPU second); machine load average {start_load:.1f} at start, {end_load:.1f} at end")
    return 1 if stats.errors else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--viewers", type=int, default=200)
    parser.add_argument("--sessions", type=int, default=50)
    parser.add_argument("--duration", type=float, default=120, help="seconds of reading (default 120)")
    parser.add_argument("--think", type=float, default=1.0, help="mean pause between pages, seconds")
    parser.add_argument("--timeout", type=float, default=120, help="a request unanswered this long is an error")
    parser.add_argument("--office-every", type=int, default=10, help="every n-th session holds a Word document")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="pageturn-load-") as tmp:
        documents = []
        for i in range(args.sessions):
            if args.office_every and i % args.office_every == args.office_every - 1:
                path = Path(tmp) / f"doc{i}.docx"
                docx_pages(path, 6, tables=True)
                with zipfile.ZipFile(path, "a") as archive:  # distinct bytes: no session shares another's cache
                    archive.writestr("customXml/pageturn-load.txt", str(i))
                documents.append((path.read_bytes(), "docx"))
            else:  # a comment after %%EOF makes the bytes distinct and changes nothing else
                documents.append((make_pdf_pages(10, lines=30, image=i % 2 == 0) + f"% {i}\n".encode(), "pdf"))
        server = ServerProcess(Path(tmp) / "data", {"PAGETURN_LOG_LEVEL": "warning",
                                                    "PAGETURN_OFFICE_WORKERS": "1"}).start()
        try:
            return asyncio.run(main_async(args, server, documents))
        finally:
            server.stop()


if __name__ == "__main__":
    sys.exit(main())
