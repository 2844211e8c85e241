"""Issue 17 benchmark: the S3 blob store against the directory store, one node each, in one run.

Prints, for each store: (1) first page after upload: create a session, upload a 20-page PDF (fresh bytes each
run, so nothing is cached), ask page 0 as PNG; median and spread of several runs; (2) cached page requests per
second: concurrent clients asking pages already rendered (served from the node's local cache). Both nodes
run at once (one render worker each) and are measured in turn, run by run, the order swapped every run (so
neither always goes first after the other's work); the differences are medians of each run's pair. The load
average is printed before and after (other work on the machine moves both stores' figures). The S3 server
is SeaweedFS on 127.0.0.1 (started here), so the figures show this server's own overhead, not a network's.
With S3, each new page also costs a listing of the bucket (is it published already?) before rendering and an
upload in the background after: both are in these figures.

Run: .venv/bin/python bench/bench_s3.py [--runs 7] [--clients 16] [--seconds 5]
"""
from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Awaitable, Callable

import aiohttp

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
from conftest import ServerProcess  # noqa: E402
from docgen import make_pdf_pages  # noqa: E402
from s3server import SeaweedS3  # noqa: E402

V1 = "/PCCIS/V1/ViewingSession"
PAGES = 20


async def first_page(session: aiohttp.ClientSession, base: str, data: bytes) -> tuple[float, str]:
    started = time.perf_counter()
    async with session.post(base + V1, json={}) as r:
        sid = (await r.json())["viewingSessionId"]
    async with session.put(f"{base}{V1}/u{sid}/SourceFile", data=data, params={"FileExtension": "pdf"}) as r:
        assert r.status == 200, await r.text()
    async with session.get(f"{base}/PCCIS/V1/Page/q/0", params={"DocumentID": "u" + sid,
                                                                 "ContentType": "png"}) as r:
        assert r.status == 200, await r.text()
        await r.read()
    return time.perf_counter() - started, sid


async def cached_rate(base: str, sid: str, clients: int, seconds: float,
                      settled: Callable[[], Awaitable[None]]) -> float:
    async with aiohttp.ClientSession() as session:
        for page in range(PAGES):  # render every page once: what follows is served from the cache
            async with session.get(f"{base}/PCCIS/V1/Page/q/{page}",
                                   params={"DocumentID": "u" + sid, "ContentType": "png"}) as r:
                assert r.status == 200
                await r.read()
        await settled()  # the steady state: new output's background uploads are done
        done = 0
        deadline = time.perf_counter() + seconds

        async def client(offset: int) -> None:
            nonlocal done
            page = offset
            while time.perf_counter() < deadline:
                async with session.get(f"{base}/PCCIS/V1/Page/q/{page % PAGES}",
                                       params={"DocumentID": "u" + sid, "ContentType": "png"}) as r:
                    await r.read()
                    assert r.status == 200
                done += 1
                page += 1
        started = time.perf_counter()
        await asyncio.gather(*(client(i) for i in range(clients)))
        return done / (time.perf_counter() - started)


def _turns(bases: dict[str, str], run: int) -> list[tuple[str, str]]:
    items = list(bases.items())
    return items if run % 2 == 0 else items[::-1]


def _load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


async def measure(bases: dict[str, str], runs: int, clients: int, seconds: float, pdf: bytes,
                  settled: dict[str, Callable[[], Awaitable[None]]]) -> dict[str, tuple[list[float], list[float]]]:
    """Alternates the stores run by run, so a busy moment on the machine does not favour one of them."""
    times: dict[str, list[float]] = {name: [] for name in bases}
    rates: dict[str, list[float]] = {name: [] for name in bases}
    sids: dict[str, str] = {}
    async with aiohttp.ClientSession() as session:
        for name, base in bases.items():
            await first_page(session, base, pdf + f"\n% warm-up {name}".encode())
        for run in range(runs):
            for name, base in _turns(bases, run):
                elapsed, sids[name] = await first_page(session, base, pdf + f"\n% {name} {run} {time.time()}".encode())
                times[name].append(elapsed)
    for round_ in range(3):
        for name, base in _turns(bases, round_):
            rates[name].append(await cached_rate(base, sids[name], clients, seconds / 3, settled[name]))
    return {name: (times[name], rates[name]) for name in bases}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=5)
    args = parser.parse_args()
    load_before = _load()
    work = Path(tempfile.mkdtemp(prefix="bench-s3-"))
    pdf = make_pdf_pages(PAGES)
    s3 = SeaweedS3(work / "seaweedfs").start()
    nodes = {}
    try:  # one render worker each: both nodes run at once on the same cores
        for name, env in (("directory", {}), ("s3", s3.server_env("bench"))):
            nodes[name] = ServerProcess(work / name, {"PAGETURN_OFFICE_ENABLED": "false",
                                                      "PAGETURN_RENDER_WORKERS": "1", **env}).start()
        async def nothing() -> None:
            pass

        async def published() -> None:
            """Until the S3 node's published output stops growing (its uploads run in the background)."""
            count = -1
            while (now := len(await asyncio.to_thread(s3.keys, "bench/cache/"))) != count:
                count = now
                await asyncio.sleep(0.5)
        results = asyncio.run(measure({name: node.url for name, node in nodes.items()}, args.runs, args.clients,
                                      args.seconds, pdf, {"directory": nothing, "s3": published}))
    finally:
        for node in nodes.values():
            node.stop()
        s3.stop()
    print(f"{PAGES}-page PDF of {len(pdf) // 1024} KiB; {args.runs} runs; {args.clients} clients for {args.seconds}s; "
          f"load average {load_before} before, {_load()} after")
    print(f"{'store':<10} {'first page median':>18} {'min':>8} {'max':>8} {'cached pages/s':>15}")
    for name, (times, rates) in results.items():
        rate = statistics.median(rates)
        print(f"{name:<10} {statistics.median(times) * 1000:>15.1f} ms {min(times) * 1000:>6.1f} ms "
              f"{max(times) * 1000:>6.1f} ms {rate:>15.0f}")
    (d_times, d_rates), (s_times, s_rates) = results["directory"], results["s3"]
    print("cached pages/s by round: " + "; ".join(f"{name} {', '.join(f'{r:.0f}' for r in rates)}"
                                                  for name, (_, rates) in results.items()))
    paired = statistics.median(s - d for s, d in zip(s_times, d_times))
    ratio = statistics.median(s / d for s, d in zip(s_rates, d_rates))
    print(f"S3 - directory (median of paired runs): first page {paired * 1000:+.1f} ms (goal <= +30 ms), "
          f"cached pages {(ratio - 1) * 100:+.1f} % (goal within 10 %)")


if __name__ == "__main__":
    main()
