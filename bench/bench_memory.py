"""Memory (issue 16): 1,000 live viewing sessions over 100 documents, mixed requests at a steady rate for
`--minutes`, the resident memory of the server and of its render workers sampled from /proc (LibreOffice's
processes are left out: they are capped and recycled by their own pool).

A real server is started (one LibreOffice process, for the Word documents). 100 documents are generated (90 PDFs
of 2–6 pages, half of them with an image, and 10 Word documents of 3 pages), 1,000 sessions are created, each
uploading one of them (ten sessions per document: the bytes are the same, so the server holds 100 documents).
A priming pass asks once for every document's attributes and every page's attributes, SVG, PNG and text, so
the run measures a server that has seen everything once; `--warmup` seconds of the mixed load follow before
the measured `--minutes`. The mixed load picks a random session and page for each request: page attributes,
SVG page, PNG page (scale 1, 1.5 or 2), thumbnail, text of a page range, document attributes, started at
`--rate` requests per second (at most `--concurrency` in flight).

Printed: the samples once a minute, start / peak / end RSS of the server, its workers and both together, the
drift (mean of the last minute against the mean of the first minute after warm-up), and whether the goals hold:
server + workers <= 300 MB throughout, drift within +-10 %.

Run: .venv/bin/python bench/bench_memory.py [--minutes 10] [--rate 20] [--warmup 60] [--json samples.json]
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import shutil
import signal
import statistics
import sys
import tempfile
import time
import zipfile
from dataclasses import asdict, dataclass
from pathlib import Path

import aiohttp

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
from conftest import ServerProcess  # noqa: E402
from docgen import make_pdf_pages  # noqa: E402
from fuzz.procmem import children, descendants, pss_bytes, rss_bytes  # noqa: E402
from officegen import docx_pages  # noqa: E402

V1 = "/PCCIS/V1/ViewingSession"
MB = 1_000_000          # the goal is in MB (decimal); MiB printed beside it
GOAL_MB = 300
DRIFT = 0.10
OFFICE_MARKERS = (b"soffice", b"oosplash", b"uno_bridge")


# ---- /proc ----------------------------------------------------------------------------------------------------
def _subtree(pid: int) -> list[int]:
    return [pid, *descendants(pid)]


def _cmdline(pid: int) -> bytes:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as handle:
            return handle.read()
    except OSError:
        return b""


@dataclass
class Sample:
    t: float           # seconds since the measured window started (negative: priming and warm-up)
    server: int        # bytes resident in the server process
    workers: int       # bytes resident in the render workers and their helpers (poppler SVG)
    office: int        # bytes resident in LibreOffice's processes (not part of the goal)
    worker_count: int

    @property
    def total(self) -> int:
        return self.server + self.workers


def sample(server_pid: int, t: float) -> Sample:
    """Each direct child of the server is a subtree: LibreOffice's (a bridge, its sandbox and soffice) when any
    process in it is one of LibreOffice's, else a render worker with its helpers."""
    workers = office = count = 0
    for child in children(server_pid):
        pids = _subtree(child)
        size = sum(rss_bytes(p) for p in pids)
        if any(marker in _cmdline(p) for p in pids for marker in OFFICE_MARKERS):
            office += size
        else:
            workers += size
            count += 1
    return Sample(t, rss_bytes(server_pid), workers, office, count)


def breakdown(server_pid: int) -> list[str]:
    """One line per process of the server and its render workers: resident and proportional (shared library
    pages split between the processes that map them) size."""
    lines = []
    for pid in _subtree(server_pid):
        command = _cmdline(pid)
        if any(marker in command for marker in OFFICE_MARKERS) or b"bwrap" in command:
            continue
        name = ("server" if pid == server_pid else "render worker" if b"pageturn.workers.worker" in command
                else "SVG helper" if b"poppler_svg" in command else command.split(b"\0")[0].decode()[-40:])
        lines.append(f"  {pid:>8} {name:14} RSS {mb(rss_bytes(pid))}  PSS {mb(pss_bytes(pid))}")
    return lines


def mb(n: float) -> str:
    return f"{n / MB:6.1f} MB"


# ---- documents and sessions ------------------------------------------------------------------------------------
def make_documents(tmp: Path, count: int, office_every: int) -> list[tuple[bytes, str, int]]:
    """(bytes, extension, page count): distinct bytes each, so no two documents share a cache entry."""
    rng = random.Random(16)
    documents = []
    for i in range(count):
        if office_every and i % office_every == office_every - 1:
            path = tmp / f"doc{i}.docx"
            docx_pages(path, 3, tables=i % 2 == 0)
            with zipfile.ZipFile(path, "a") as archive:
                archive.writestr("customXml/pageturn-memory.txt", str(i))
            documents.append((path.read_bytes(), "docx", 0))  # page count read from the server
        else:
            pages = rng.randint(2, 6)
            documents.append((make_pdf_pages(pages, lines=30, image=i % 2 == 0) + f"% {i}\n".encode(), "pdf",
                              pages))
    return documents


async def create_session(http: aiohttp.ClientSession, base: str, data: bytes, ext: str) -> str:
    async with http.post(base + V1, json={}) as r:
        assert r.status == 200, await r.text()
        sid = (await r.json())["viewingSessionId"]
    async with http.put(f"{base}{V1}/u{sid}/SourceFile", data=data, params={"FileExtension": ext}) as r:
        assert r.status == 200, await r.text()
    return sid


async def bounded(limit: int, jobs) -> list:
    gate = asyncio.Semaphore(limit)

    async def one(job):
        async with gate:
            return await job

    return await asyncio.gather(*(one(job) for job in jobs))


# ---- the mixed load --------------------------------------------------------------------------------------------
@dataclass
class Counts:
    ok: int = 0
    errors: int = 0


def request_for(rng: random.Random, sid: str, pages: int) -> tuple[str, str, dict[str, str]]:
    """(kind, path, query) of one random request on a session, weighted roughly as the web viewer asks."""
    doc = {"DocumentID": "u" + sid}
    page = rng.randrange(pages)
    roll = rng.random()
    if roll < 0.30:
        return "page attributes", f"/PCCIS/V1/Page/q/{page}/Attributes", {**doc, "ContentType": "svgb"}
    if roll < 0.55:
        return "svg page", f"/PCCIS/V1/Page/q/{page}", {**doc, "ContentType": "svgb"}
    if roll < 0.67:
        return "png page", f"/PCCIS/V1/Page/q/{page}", {**doc, "ContentType": "png",
                                                        "Scale": rng.choice(("1", "1.5", "2"))}
    if roll < 0.75:
        return "thumbnail", f"/PCCIS/V1/Page/q/{page}/120x160", {**doc, "ContentType": "png"}
    if roll < 0.90:
        last = min(pages - 1, page + rng.randrange(4))
        return "text", f"/PCCIS/V1/Document/q/{page}-{last}/Text", doc
    return "document attributes", "/PCCIS/V1/Document/q/Attributes", doc


async def fetch(http: aiohttp.ClientSession, base: str, path: str, query: dict[str, str], counts: Counts,
                errors: dict[str, int], kind: str) -> None:
    try:
        async with http.get(base + path, params=query) as r:
            await r.read()
            good = r.status == 200
            what = f"{kind}: {r.status}"
    except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
        good, what = False, f"{kind}: {type(exc).__name__}"
    if good:
        counts.ok += 1
    else:
        counts.errors += 1
        errors[what] = errors.get(what, 0) + 1


async def mixed_load(http: aiohttp.ClientSession, base: str, sessions: list[tuple[str, int]], seconds: float,
                     rate: float, concurrency: int, rng: random.Random, counts: Counts, errors: dict[str, int]):
    """Requests started at `rate` per second for `seconds` (fewer when `concurrency` are still in flight)."""
    gate = asyncio.Semaphore(concurrency)
    running: set[asyncio.Task] = set()

    async def one(kind: str, path: str, query: dict[str, str]) -> None:
        try:
            await fetch(http, base, path, query, counts, errors, kind)
        finally:
            gate.release()

    started = time.monotonic()
    n = 0
    while time.monotonic() - started < seconds:
        n += 1
        await asyncio.sleep(max(0.0, started + n / rate - time.monotonic()))
        await gate.acquire()
        sid, pages = rng.choice(sessions)
        task = asyncio.create_task(one(*request_for(rng, sid, pages)))
        running.add(task)
        task.add_done_callback(running.discard)
    await asyncio.gather(*running)


async def sampler(pid: int, origin: list[float], samples: list[Sample], interval: float, stop: asyncio.Event):
    while not stop.is_set():
        samples.append(sample(pid, time.monotonic() - origin[0]))
        try:
            await asyncio.wait_for(stop.wait(), interval)
        except asyncio.TimeoutError:
            pass


def window_mean(samples: list[Sample], start: float, end: float, field: str) -> float:
    values = [getattr(s, field) for s in samples if start <= s.t < end]
    return statistics.fmean(values) if values else float("nan")


async def run(args: argparse.Namespace, server: ServerProcess, documents: list[tuple[bytes, str, int]]) -> int:
    base, pid = server.url, server.proc.pid
    samples: list[Sample] = []
    origin = [0.0]  # where t = 0 is: the start of priming, then (samples shifted) the start of the measured window
    stop = asyncio.Event()
    counts, errors = Counts(), {}
    rng = random.Random(1)
    idle = sample(pid, 0)
    print(f"server started: server {mb(idle.server)}, {idle.worker_count} render workers {mb(idle.workers)}, "
          f"LibreOffice {mb(idle.office)} (not counted); load average {os.getloadavg()[0]:.1f}", flush=True)
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=64),
                                     timeout=aiohttp.ClientTimeout(total=args.timeout)) as http:
        await snapshot(args, server, "idle")
        began = time.monotonic()
        origin[0] = began
        sampling = asyncio.create_task(sampler(pid, origin, samples, args.interval, stop))
        ids = await bounded(8, [create_session(http, base, *documents[i % len(documents)][:2])
                                for i in range(args.sessions)])
        print(f"{len(ids)} sessions over {len(documents)} documents created in {time.monotonic() - began:.0f} s",
              flush=True)
        page_counts = []
        for i, (_data, _ext, pages) in enumerate(documents):
            if not pages:  # a Word document: its PDF's page count, once converted
                async with http.get(base + "/PCCIS/V1/Document/q/Attributes", params={"DocumentID": "u" + ids[i]}) as r:
                    assert r.status == 200, await r.text()
                    pages = (await r.json())["pageCount"]
            page_counts.append(pages)
        sessions = [(sid, page_counts[i % len(documents)]) for i, sid in enumerate(ids)]
        primed = time.monotonic()
        jobs = []
        for i, pages in enumerate(page_counts):
            sid = ids[i]
            doc = {"DocumentID": "u" + sid}
            jobs.append(fetch(http, base, "/PCCIS/V1/Document/q/Attributes", doc, counts, errors, "prime"))
            jobs.append(fetch(http, base, f"/PCCIS/V1/Document/q/0-{pages - 1}/Text", doc, counts, errors, "prime"))
            for page in range(pages):
                for path, query in ((f"/PCCIS/V1/Page/q/{page}/Attributes", {**doc, "ContentType": "svgb"}),
                                    (f"/PCCIS/V1/Page/q/{page}", {**doc, "ContentType": "svgb"}),
                                    (f"/PCCIS/V1/Page/q/{page}", {**doc, "ContentType": "png"})):
                    jobs.append(fetch(http, base, path, query, counts, errors, "prime"))
        await bounded(8, jobs)
        print(f"priming: {len(jobs)} requests in {time.monotonic() - primed:.0f} s; then {args.warmup:g} s of warm-up",
              flush=True)
        await mixed_load(http, base, sessions, args.warmup, args.rate, args.concurrency, rng, counts, errors)
        for s in samples:  # priming and warm-up: negative times
            s.t -= time.monotonic() - began
        origin[0] = time.monotonic()
        await snapshot(args, server, "start")
        load_start = os.getloadavg()[0]
        before = counts.ok + counts.errors
        seconds = args.minutes * 60
        report_task = asyncio.create_task(_report_every_minute(samples, origin[0], seconds))
        await mixed_load(http, base, sessions, seconds, args.rate, args.concurrency, rng, counts, errors)
        measured = counts.ok + counts.errors - before
        await snapshot(args, server, "end")
        stop.set()
        await sampling
        report_task.cancel()
        samples.append(sample(pid, time.monotonic() - origin[0]))
        print("\nprocesses at the end (LibreOffice left out):", *breakdown(pid), sep="\n")
    load_end = os.getloadavg()[0]
    return summarise(args, samples, seconds, measured, counts, errors, load_start, load_end)


async def snapshot(args: argparse.Namespace, server: ServerProcess, name: str) -> None:
    """With --tracemalloc: the server writes a tracemalloc snapshot (pageturn/memtrace.py), kept as <name>."""
    if not args.tracemalloc:
        return
    target = Path(args.tracemalloc) / "server.snapshot"
    before = target.stat().st_mtime_ns if target.exists() else 0
    server.proc.send_signal(signal.SIGUSR2)
    for _ in range(600):
        if target.exists() and target.stat().st_mtime_ns != before:
            break
        await asyncio.sleep(0.1)
    shutil.copy(target, Path(args.tracemalloc) / f"{name}.snapshot")


def compare_snapshots(directory: Path) -> None:
    import tracemalloc
    idle, start, end = (tracemalloc.Snapshot.load(str(directory / f"{name}.snapshot"))
                        for name in ("idle", "start", "end"))
    print("\ntracemalloc, largest at the end:")
    for stat in end.statistics("lineno")[:12]:
        print(f"  {stat.size / (1 << 20):7.2f} MiB {stat.count:8} blocks  {stat.traceback[0]}")
    for title, old, new in (("idle to the measured window (sessions, priming, warm-up)", idle, start),
                            ("the measured window", start, end)):
        print(f"tracemalloc, largest growth over {title}:")
        for stat in new.compare_to(old, "lineno")[:12]:
            print(f"  {stat.size_diff / (1 << 20):+7.2f} MiB {stat.count_diff:+8} blocks  {stat.traceback[0]}")


async def _report_every_minute(samples: list[Sample], origin: float, seconds: float) -> None:
    minute = 1
    while minute * 60 <= seconds + 1:
        await asyncio.sleep(max(0.0, origin + minute * 60 - time.monotonic()))
        recent = [s for s in samples if minute * 60 - 60 <= s.t < minute * 60]
        if recent:
            last = recent[-1]
            print(f"  minute {minute:2}: server {mb(last.server)}, workers {mb(last.workers)}, together "
                  f"{mb(last.total)} (LibreOffice {mb(last.office)}); load average {os.getloadavg()[0]:.1f}",
                  flush=True)
        minute += 1


def summarise(args: argparse.Namespace, samples: list[Sample], seconds: float, measured: int, counts: Counts,
              errors: dict[str, int], load_start: float, load_end: float) -> int:
    window = [s for s in samples if s.t >= 0]
    first_end = min(60.0, seconds / 2)
    last_start = max(seconds - 60.0, seconds / 2)
    print(f"\n{measured} requests in {seconds:.0f} s measured ({measured / seconds:.1f} req/s), "
          f"{counts.errors} errors in all; load average {load_start:.1f} at start, {load_end:.1f} at end")
    for what, n in sorted(errors.items(), key=lambda item: -item[1])[:10]:
        print(f"  error {what} x{n}")
    print(f"{'':10} {'start':>9} {'median':>9} {'peak':>9} {'end':>9}   first min  last min   drift")
    verdicts = []
    for field in ("server", "workers", "total"):
        values = [getattr(s, field) for s in window]
        peak_all = max(getattr(s, field) for s in samples)
        first = window_mean(window, 0, first_end, field)
        last = window_mean(window, last_start, seconds + 1, field)
        drift = last / first - 1
        print(f"{field:10} {mb(values[0])} {mb(statistics.median(values))} {mb(peak_all)} {mb(values[-1])}   "
              f"{mb(first)} {mb(last)}  {drift:+6.1%}")
        if field == "total":
            verdicts.append(("server + workers <= 300 MB at every sample", peak_all <= GOAL_MB * MB,
                             f"peak {mb(peak_all)} = {peak_all / (1 << 20):.0f} MiB"))
            verdicts.append(("server + workers <= 300 MB, median of the measured samples",
                             statistics.median(values) <= GOAL_MB * MB, mb(statistics.median(values))))
            verdicts.append(("server + workers flat within +-10 %", abs(drift) <= DRIFT, f"{drift:+.1%}"))
        if field == "server":
            verdicts.append(("server process alone flat within +-10 %", abs(drift) <= DRIFT, f"{drift:+.1%}"))
    office_peak = max(s.office for s in samples)
    print(f"LibreOffice (not counted): peak {mb(office_peak)}; {window[-1].worker_count} render worker subtrees")
    for what, good, detail in verdicts:
        print(f"goal {what}: {'met' if good else 'NOT met'} ({detail})")
    if args.json:
        Path(args.json).write_text(json.dumps([asdict(s) for s in samples]))
    if args.tracemalloc:
        compare_snapshots(Path(args.tracemalloc))
    return 0 if all(good for _, good, _ in verdicts) and not counts.errors else 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--minutes", type=float, default=10, help="measured minutes of mixed load (default 10)")
    parser.add_argument("--warmup", type=float, default=60, help="seconds of mixed load before measuring")
    parser.add_argument("--rate", type=float, default=20, help="requests started per second")
    parser.add_argument("--concurrency", type=int, default=16, help="most requests in flight")
    parser.add_argument("--sessions", type=int, default=1000)
    parser.add_argument("--documents", type=int, default=100)
    parser.add_argument("--office-every", type=int, default=10, help="every n-th document is a Word document")
    parser.add_argument("--interval", type=float, default=5, help="seconds between memory samples")
    parser.add_argument("--timeout", type=float, default=120, help="a request unanswered this long is an error")
    parser.add_argument("--json", help="write every sample to this file")
    parser.add_argument("--tracemalloc", metavar="DIR",
                        help="trace the server's Python allocations (slower) and compare snapshots taken at the "
                             "start and end of the measured window, kept in DIR")
    parser.add_argument("--env", action="append", default=[], metavar="NAME=VALUE",
                        help="extra server setting, e.g. PAGETURN_RENDER_WORKERS=1 (repeatable)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="pageturn-memory-") as tmp:
        documents = make_documents(Path(tmp), args.documents, args.office_every)
        env = {"PAGETURN_LOG_LEVEL": "warning", "PAGETURN_OFFICE_WORKERS": "1",
               **dict(item.split("=", 1) for item in args.env)}
        if args.tracemalloc:
            Path(args.tracemalloc).mkdir(parents=True, exist_ok=True)
            env["PAGETURN_TRACEMALLOC"] = str(Path(args.tracemalloc).resolve() / "server.snapshot")
        server = ServerProcess(Path(tmp) / "data", env).start(timeout=120)
        print(f"# memory: {args.sessions} sessions over {args.documents} documents, {args.rate:g} req/s for "
              f"{args.minutes:g} min after {args.warmup:g} s of warm-up; {os.cpu_count()} cores; settings {env}",
              flush=True)
        try:
            return asyncio.run(run(args, server, documents))
        finally:
            server.stop()


if __name__ == "__main__":
    sys.exit(main())
