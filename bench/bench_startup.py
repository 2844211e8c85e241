"""Start-up benchmark (issue 16): uncached page throughput in the first 10 s after the server reports healthy,
while the LibreOffice pool starts, against the same server's steady rate once LibreOffice is ready, in one run.

Each round starts a real server (LibreOffice enabled), and as soon as its health check answers, asks for every
page of fresh copies of the 50-page text-and-image PDF as PNG with 8 concurrent clients for 10 s (window A: an
upload is part of the work, as for a person opening documents). Then it waits until the server's log says every
LibreOffice process is ready and measures the same 10 s again (window B, steady). Printed: pages/s of both and
A/B per round, and the median ratio (target >= 0.8).

Run: .venv/bin/python bench/bench_startup.py [--rounds 3] [--seconds 10] [--variant NAME:VAR=VALUE ...]
"""
from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import aiohttp

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "bench"))
from bench_pages_http import _session  # noqa: E402
from conftest import ServerProcess  # noqa: E402
from docgen import make_pdf_pages  # noqa: E402

PAGES = 50
CLIENTS = 8


async def window(base: str, document: bytes, seconds: float, tag: str) -> float:
    """Pages per second for `seconds` of uncached PNG pages of fresh documents."""
    done = 0
    deadline = time.perf_counter() + seconds
    async with aiohttp.ClientSession() as http:
        serial = 0
        while time.perf_counter() < deadline:
            serial += 1
            sid = await _session(http, base, document + f"\n% {tag} {serial} {time.time()}\n".encode())
            queue = list(range(PAGES))

            async def client(queue: list[int] = queue, sid: str = sid) -> None:
                nonlocal done
                while queue and time.perf_counter() < deadline:
                    index = queue.pop()
                    async with http.get(f"{base}/PCCIS/V1/Page/q/{index}",
                                        params={"DocumentID": "u" + sid, "ContentType": "png"}) as r:
                        assert r.status == 200, await r.text()
                        await r.read()
                    if time.perf_counter() < deadline:
                        done += 1

            await asyncio.gather(*(client() for _ in range(CLIENTS)))
    return done / seconds


def office_ready(server: ServerProcess, workers: int) -> bool:
    return server.log().count("ready in slot") >= workers


def one_round(document: bytes, workers: int, seconds: float, env: dict[str, str]) -> tuple[float, float, bool]:
    """(first window pages/s, steady pages/s, LibreOffice ready before the first window ended)."""
    work = Path(tempfile.mkdtemp(prefix="pageturn-startup-"))
    server = ServerProcess(work / "data", {"PAGETURN_OFFICE_ENABLED": "true", **env}).start(timeout=120)
    try:
        first = asyncio.run(window(server.url, document, seconds, "first"))
        office = env.get("PAGETURN_OFFICE_ENABLED", "true") != "false"  # a variant may measure without it
        ready_before = office and office_ready(server, workers)
        deadline = time.time() + 180
        while office and not office_ready(server, workers) and time.time() < deadline:
            time.sleep(0.5)
        steady = asyncio.run(window(server.url, document, seconds, "steady"))
    finally:
        server.stop()
        shutil.rmtree(work, ignore_errors=True)
    return first, steady, ready_before


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=3, help="rounds per variant")
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--variant", action="append", default=[], metavar="NAME:VAR=VALUE[,VAR=VALUE]",
                        help="also measure the server with these environment variables; rounds alternate between "
                             "the variants (repeatable)")
    args = parser.parse_args()
    variants: list[tuple[str, dict[str, str]]] = [("as configured", {})]
    for text in args.variant:
        name, _, assignments = text.partition(":")
        variants.append((name, dict(item.split("=", 1) for item in assignments.split(",") if item)))
    document = make_pdf_pages(PAGES)
    workers = os.cpu_count() or 1
    print(f"# start-up: {PAGES}-page PDF as PNG, {CLIENTS} clients, {args.seconds:g} s windows, {workers} cores, "
          f"{workers} LibreOffice processes; load average at start {os.getloadavg()[0]:.1f}")
    ratios: dict[str, list[float]] = {name: [] for name, _ in variants}
    for round_number in range(args.rounds):
        for name, env in variants:
            load = os.getloadavg()[0]
            first, steady, ready_before = one_round(document, workers, args.seconds, env)
            ratios[name].append(first / steady)
            print(f"  round {round_number + 1} {name:14}: first {args.seconds:g} s {first:6.1f} pages/s, steady "
                  f"{steady:6.1f} pages/s, ratio {first / steady:.2f} (load average {load:.1f})"
                  f"{' (LibreOffice was ready within the window)' if ready_before else ''}", flush=True)
    for name, values in ratios.items():
        print(f"{name}: median first/steady = {statistics.median(values):.2f} "
              f"(rounds {', '.join(f'{v:.2f}' for v in values)}; target >= 0.8)")
    print(f"load average at end {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
