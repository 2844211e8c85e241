"""A fuzz campaign over a running server: mutated documents uploaded to sessions, then their document
attributes, first page's attributes, first page and text requested, as the viewer would.

Every answer must be a page (200) or a documented error: 480/580 (or 413) with a JSON body naming an
`errorCode`, or a status-only error carrying `Accusoft-Status-Number` (a password is needed, the session
ended). Anything else, a request that outlives the timeout, or a dead server is a finding, reported with the
(seed, case) that reproduces its file: `python scripts/fuzz.py --seed S --case N --keep DIR`."""
from __future__ import annotations

import asyncio
import collections
import json
import random
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import aiohttp

from .corpus import Seed, seeds
from .mutate import mutate
from .procmem import TreeMemory, tree_memory

V1 = "/PCCIS/V1/ViewingSession"


@dataclass
class Case:
    index: int
    seed_name: str
    extension: str
    data: bytes
    mutations: list[str]


def make_case(corpus: list[Seed], seed: int, index: int) -> Case:
    """Case `index` of campaign `seed`: its own Random, so any case is rebuilt alone."""
    rng = random.Random(f"pageturn-fuzz:{seed}:{index}")
    base = corpus[index % len(corpus)]
    data, done = mutate(rng, base.data, is_zip=base.is_zip)
    return Case(index, base.name, base.extension, data, done)


@dataclass
class Finding:
    index: int
    seed_name: str
    mutations: list[str]
    request: str
    what: str


@dataclass
class Report:
    seed: int
    cases: int = 0
    requests: int = 0
    pages: int = 0                       # first pages served
    outcomes: collections.Counter = field(default_factory=collections.Counter)  # "200" / "480 InvalidInput" ...
    findings: list[Finding] = field(default_factory=list)
    slowest: float = 0.0
    slowest_case: int = -1
    seconds: float = 0.0
    memory_start: TreeMemory | None = None
    memory_end: TreeMemory | None = None
    peak_server: int = 0
    peak_child: int = 0
    peak_child_name: str = ""
    peak_total: int = 0
    server_alive: bool = True
    render_failed: set[int] = field(default_factory=set)  # cases answered 580 RenderFailed (a worker crashed or
    # a renderer failed on the file): documented, worth a look
    processes_seen: dict[int, str] = field(default_factory=dict)  # sampled: replaced workers show as new pids


def _documented(status: int, headers, body: bytes) -> str | None:
    """The outcome's name when the answer is documented, else None."""
    if 200 <= status < 300:
        return str(status)
    if "Accusoft-Status-Number" in headers and not body:
        return f"{status} status-only {headers['Accusoft-Status-Number']}"
    if status in (480, 580, 413) and headers.get("Content-Type", "").startswith("application/json"):
        try:
            code = json.loads(body).get("errorCode")
        except (ValueError, AttributeError):
            return None
        return f"{status} {code}" if isinstance(code, str) and code else None
    return None


async def _one(http: aiohttp.ClientSession, base: str, case: Case, report: Report, timeout: float) -> None:
    async def call(method: str, path: str, what: str, **kw) -> tuple[int, bytes, str] | None:
        started = time.monotonic()
        try:
            async with http.request(method, base + path, timeout=aiohttp.ClientTimeout(total=timeout),
                                    **kw) as r:
                body = await r.read()
                status, headers = r.status, r.headers
        except asyncio.TimeoutError:
            report.findings.append(Finding(case.index, case.seed_name, case.mutations, what,
                                           f"no answer within {timeout:.0f} s"))
            return None
        except aiohttp.ClientError as exc:
            report.findings.append(Finding(case.index, case.seed_name, case.mutations, what,
                                           f"connection failed: {exc!r}"))
            return None
        elapsed = time.monotonic() - started
        if elapsed > report.slowest:
            report.slowest, report.slowest_case = elapsed, case.index
        report.requests += 1
        outcome = _documented(status, headers, body)
        if outcome is None:
            report.findings.append(Finding(case.index, case.seed_name, case.mutations, what,
                                           f"undocumented answer {status}: {body[:200]!r}"))
            return None
        report.outcomes[f"{what}: {outcome}"] += 1
        if outcome == "580 RenderFailed":
            report.render_failed.add(case.index)
        return status, body, headers.get("Content-Type", "")

    created = await call("POST", V1, "create", json={"serverCaching": "none"})
    if created is None or created[0] != 200:
        return
    sid = json.loads(created[1])["viewingSessionId"]
    try:
        uploaded = await call("PUT", f"{V1}/u{sid}/SourceFile", "upload", data=case.data,
                              params={"FileExtension": case.extension})
        if uploaded is None or uploaded[0] != 200:
            return
        doc = {"DocumentID": "u" + sid}
        await call("GET", "/PCCIS/V1/Document/q/Attributes", "attributes",
                   params={**doc, "DesiredPageCountConfidence": "100"})
        await call("GET", "/PCCIS/V1/Page/q/0/Attributes", "page attributes", params=doc)
        kind = ("png", "svgb", "jpeg")[case.index % 3]
        page = await call("GET", "/PCCIS/V1/Page/q/0", "page", params={**doc, "ContentType": kind})
        if page is not None and page[0] == 200:
            if not page[1] or not (page[2].startswith("image/") or page[2].startswith("application/json")):
                report.findings.append(Finding(case.index, case.seed_name, case.mutations, "page",
                                               f"200 without a page: {page[2]} {len(page[1])} bytes"))
            else:
                report.pages += 1
        await call("GET", "/PCCIS/V1/Document/q/0-0/Text", "text", params=doc)
    finally:
        await call("DELETE", f"{V1}/u{sid}", "delete")


async def run(base: str, server_pid: int, *, seed: int, cases: int, concurrency: int, timeout: float,
              alive: Callable[[], bool], only: list[int] | None = None, keep: Path | None = None,
              progress: Callable[[Report], None] | None = None) -> Report:
    """`alive` tells whether the server process still runs (checked after every case)."""
    corpus = seeds()
    report = Report(seed=seed)
    report.memory_start = tree_memory(server_pid)
    indexes = only if only is not None else list(range(cases))
    queue: asyncio.Queue[int] = asyncio.Queue()
    for i in indexes:
        queue.put_nowait(i)
    stop = asyncio.Event()

    async def sample() -> None:
        while not stop.is_set():
            m = tree_memory(server_pid)
            report.peak_server = max(report.peak_server, m.server)
            report.peak_total = max(report.peak_total, m.total)
            report.processes_seen.update(m.pids)
            if m.largest_child > report.peak_child:
                report.peak_child, report.peak_child_name = m.largest_child, m.largest_child_name
            try:
                await asyncio.wait_for(stop.wait(), 0.25)
            except asyncio.TimeoutError:
                pass

    async def worker(http: aiohttp.ClientSession) -> None:
        while not queue.empty() and report.server_alive:
            index = queue.get_nowait()
            try:
                case = make_case(corpus, seed, index)
            except Exception as exc:
                report.findings.append(Finding(index, "?", [], "mutator", repr(exc)))
                continue
            if keep is not None:
                keep.mkdir(parents=True, exist_ok=True)
                (keep / f"case-{seed}-{index}.{case.extension}").write_bytes(case.data)
            try:
                await _one(http, base, case, report, timeout)
            except Exception as exc:  # a fault of the campaign itself is reported, and the run goes on
                report.findings.append(Finding(index, case.seed_name, case.mutations, "campaign", repr(exc)))
            report.cases += 1
            if not alive():
                report.server_alive = False
                report.findings.append(Finding(index, case.seed_name, case.mutations, "server", "the server died"))
            if progress is not None:
                progress(report)

    started = time.monotonic()
    sampler = asyncio.create_task(sample())
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=concurrency)) as http:
        await asyncio.gather(*(worker(http) for _ in range(concurrency)))
    stop.set()
    await sampler
    report.seconds = time.monotonic() - started
    report.memory_end = tree_memory(server_pid)
    return report


def summary(report: Report) -> str:
    from .procmem import mib
    lines = [f"fuzz seed {report.seed}: {report.cases} files, {report.requests} requests in {report.seconds:.0f} s; "
             f"first pages served {report.pages}; findings {len(report.findings)}; server alive {report.server_alive}",
             f"slowest answer {report.slowest:.1f} s (case {report.slowest_case})",
             f"memory: server {mib(report.memory_start.server) if report.memory_start else '?'} -> "
             f"{mib(report.memory_end.server) if report.memory_end else '?'} (peak {mib(report.peak_server)}); "
             f"largest child peak {mib(report.peak_child)} ({report.peak_child_name}); "
             f"server + children peak {mib(report.peak_total)}",
             "processes seen (sampled every 0.25 s; more than the pool sizes = replaced): " + ", ".join(
                 f"{kind} {n}" for kind, n in collections.Counter(report.processes_seen.values()).most_common())]
    by_request: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)
    for key, count in report.outcomes.items():
        what, outcome = key.split(": ", 1)
        by_request[what][outcome] += count
    for what in ("upload", "attributes", "page attributes", "page", "text"):
        if what in by_request:
            lines.append(f"  {what}: " + ", ".join(f"{o} x{n}" for o, n in by_request[what].most_common()))
    if report.render_failed:
        lines.append("  cases answered 580 RenderFailed: " + " ".join(map(str, sorted(report.render_failed))))
    for f in report.findings[:30]:
        lines.append(f"  FINDING case {f.index} ({f.seed_name}, {'+'.join(f.mutations)}) {f.request}: {f.what}")
    return "\n".join(lines)
