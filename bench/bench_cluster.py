"""Issue 15 benchmark: cached page throughput through HAProxy (deploy/haproxy.cfg) with 1, 2 and 3 nodes on one
Redis, and the per-request cost of Redis metadata against SQLite on one node.

Load comes from wrk (a Lua script cycling over the pages of many sessions, so requests spread over the nodes
by their session id); every page is rendered once before measuring. CPU is read from /proc for the server side
only (nodes with their workers, HAProxy, Redis), so "requests per CPU-second" says how efficiently the cores
that did the work were used; wrk runs on the same 2 cores and takes its share.

Run: .venv/bin/python bench/bench_cluster.py [--seconds 8] [--clients 32] [--sessions 24] [--rounds 3]
"""
from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
from conftest import ServerProcess, free_port  # noqa: E402
from api.cluster import HAProxy, start_nodes  # noqa: E402
from docgen import make_pdf_pages  # noqa: E402

V1 = "/PCCIS/V1/ViewingSession"
TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(roots: list[int]) -> float:
    """User+system CPU of the processes in `roots` and all their descendants (living ones)."""
    parents: dict[int, int] = {}
    times: dict[int, float] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2:].split()
        parents[int(entry)] = int(fields[1])
        times[int(entry)] = (int(fields[11]) + int(fields[12])) / TICKS
    wanted = set(roots)
    changed = True
    while changed:
        changed = False
        for pid, parent in parents.items():
            if parent in wanted and pid not in wanted:
                wanted.add(pid)
                changed = True
    return sum(times.get(pid, 0.0) for pid in wanted)


def start_redis(workdir: Path) -> tuple[subprocess.Popen, str]:
    port = free_port()
    proc = subprocess.Popen(["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                             "--appendonly", "no", "--dir", str(workdir)], stdout=subprocess.DEVNULL)
    import redis
    deadline = time.time() + 20
    while True:
        try:
            redis.Redis(port=port).ping()
            return proc, f"redis://127.0.0.1:{port}/0"
        except redis.ConnectionError:
            if time.time() > deadline:
                raise
            time.sleep(0.05)


def make_sessions(base: str, count: int, pages: int) -> list[str]:
    paths = []
    http = requests.Session()
    for i in range(count):
        data = make_pdf_pages(pages, image=False) + f"\n% bench {i}\n".encode()
        sid = http.post(base + V1, json={}).json()["viewingSessionId"]
        assert http.put(f"{base}{V1}/u{sid}/SourceFile", data=data, params={"FileExtension": "pdf"}).ok
        for page in range(pages):
            path = f"/PCCIS/V1/Page/q/{page}?DocumentID=u{sid}&ContentType=png"
            assert http.get(base + path, timeout=120).status_code == 200  # rendered once, cached from here on
            paths.append(path)
    return paths


def wrk(base: str, paths: list[str], clients: int, seconds: float, workdir: Path, roots: list[int]
        ) -> tuple[float, float, int]:
    """(requests per second, server CPU seconds per second, non-2xx answers)."""
    script = workdir / "paths.lua"
    listed = ",\n".join(f'"{p}"' for p in paths)
    script.write_text("local paths = {\n" + listed + "\n}\nlocal i = 0\nrequest = function()\n"
                      "  i = i % #paths + 1\n  return wrk.format('GET', paths[i])\nend\n")
    cpu_before, started = cpu_seconds(roots), time.perf_counter()
    out = subprocess.run(["wrk", "-t2", f"-c{clients}", f"-d{int(seconds)}s", "-s", str(script), base],
                         capture_output=True, text=True).stdout
    wall = time.perf_counter() - started
    cpu = (cpu_seconds(roots) - cpu_before) / wall
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return rate, cpu, int(errors.group(1)) if errors else 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=8)
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--sessions", type=int, default=24)
    parser.add_argument("--pages", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="pageturn-bench-cluster-"))
    cores = os.cpu_count() or 1
    env = {"PAGETURN_OFFICE_ENABLED": "false", "PAGETURN_RENDER_WORKERS": "1", "PAGETURN_ACCESS_LOG": "false"}
    print(f"pageturn cluster benchmark: {cores} cores, wrk -c{args.clients} for {args.seconds:.0f}s per row, "
          f"{args.sessions} sessions x {args.pages} cached PNG pages", flush=True)

    # ---- Redis against SQLite on one node, no load balancer: both nodes up, measured in turns (the machine's
    # other load shifts between runs), medians of the rounds
    redis_proc, redis_url = start_redis(work)
    try:
        singles = {}
        for mode in ("sqlite", "redis"):
            (work / f"single-{mode}").mkdir()
            node_env = {**env, "PAGETURN_METADATA": "sqlite" if mode == "sqlite" else redis_url.replace("/0", "/1")}
            node = ServerProcess(work / f"single-{mode}" / "data", node_env).start()
            singles[mode] = (node, make_sessions(node.url, args.sessions, args.pages))
        results: dict[str, list[tuple[float, float, int]]] = {"sqlite": [], "redis": []}
        try:
            for _ in range(args.rounds):
                for mode, (node, paths) in singles.items():
                    roots = [node.proc.pid] + ([redis_proc.pid] if mode == "redis" else [])
                    results[mode].append(wrk(node.url, paths, args.clients, args.seconds, work, roots))
        finally:
            for node, _ in singles.values():
                node.stop()
        print(f"\none node, cached pages, by metadata store (medians of {args.rounds} alternating rounds; CPU counts "
              "the node, its workers and Redis):")
        print(f"{'metadata':<10}{'req/s':>10}{'server CPU':>12}{'µs CPU/req':>12}{'non-2xx':>9}")
        medians = {}
        for mode, runs in results.items():
            rate = statistics.median(r[0] for r in runs)
            per_request = statistics.median(r[1] / r[0] for r in runs)
            cpu = statistics.median(r[1] for r in runs)
            medians[mode] = (rate, per_request)
            print(f"{mode:<10}{rate:>10.0f}{cpu:>11.2f}c{per_request * 1e6:>12.0f}{sum(r[2] for r in runs):>9}")
        print(f"Redis / SQLite: throughput {medians['redis'][0] / medians['sqlite'][0]:.0%}, CPU per request "
              f"{medians['redis'][1] / medians['sqlite'][1]:.0%} (goal: within 10 %)", flush=True)

        # ---- 1, 2, 3 nodes behind HAProxy on one Redis
        print("\nthrough HAProxy, nodes on one Redis and one data directory (CPU: nodes, workers, HAProxy, Redis):")
        print(f"{'nodes':<7}{'req/s':>10}{'server CPU':>12}{'req/CPU-s':>11}{'vs 1 node':>11}{'non-2xx':>9}")
        base_rate = None
        for count in (1, 2, 3):
            data_dir = work / f"cluster-{count}" / "data"
            data_dir.parent.mkdir()
            node_env = {**env, "PAGETURN_METADATA": redis_url.replace("/0", f"/{count + 1}")}
            nodes = start_nodes(data_dir, count, node_env)
            lb = HAProxy(work / f"haproxy-{count}", [f"127.0.0.1:{n.port}" for n in nodes]).start()
            try:
                paths = make_sessions(lb.url, args.sessions, args.pages)
                roots = [n.proc.pid for n in nodes] + [lb.proc.pid, redis_proc.pid]
                rate, cpu, errors = wrk(lb.url, paths, args.clients, args.seconds, work, roots)
                base_rate = base_rate or rate
                print(f"{count:<7}{rate:>10.0f}{cpu:>11.2f}c{rate / cpu:>11.0f}{rate / base_rate:>11.0%}{errors:>9}",
                      flush=True)
            finally:
                lb.stop()
                for n in nodes:
                    n.stop()
    finally:
        redis_proc.terminate()
        redis_proc.wait(10)


if __name__ == "__main__":
    main()
