"""Prometheus metrics of one server (the official client library, one registry per application).

What the server measures itself lives here; a feature with processes of its own (search, content conversion)
adds what it wants to show through `Metrics.add_gauge` when the application is built:

    metrics = app[METRICS]
    metrics.add_gauge("pageturn_search_processes", "search processes running", lambda: search_pool.running())

Each reading function is called at every scrape, on the event loop: it must be quick (no I/O).
"""
from __future__ import annotations

import os
import threading
import time
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator

from aiohttp import web
from prometheus_client import CollectorRegistry, Counter, Histogram, disable_created_metrics
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

disable_created_metrics()  # `_created` series double the page and say nothing a scraper needs

# seconds: cached pages answer in about a millisecond, renders in tens to hundreds, conversions in seconds
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120)
WORK_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300)
DISK_SCAN_INTERVAL = 60.0  # a directory walk: at most once a minute, in a thread


class _Readings(Collector):
    """Gauges and counters read from the running parts at scrape time."""

    def __init__(self) -> None:
        self.gauges: list[tuple[str, str, Callable[[], float | dict[tuple[str, ...], float]], tuple[str, ...]]] = []
        self.counters: list[tuple[str, str, Callable[[], dict[tuple[str, ...], float]], tuple[str, ...]]] = []

    def collect(self) -> Iterator[Metric]:
        for name, help, read, labels in self.gauges:
            family = GaugeMetricFamily(name, help, labels=list(labels))
            for values, number in _samples(read):
                family.add_metric(list(values), number)
            yield family
        for name, help, read, labels in self.counters:
            counter = CounterMetricFamily(name, help, labels=list(labels))
            for values, number in _samples(read):
                counter.add_metric(list(values), number)
            yield counter


def _samples(read: Callable[[], Any]) -> Iterable[tuple[tuple[str, ...], float]]:
    try:
        value = read()
    except Exception:  # a part being replaced must not break the scrape: its series is absent this time
        return ()
    if isinstance(value, dict):
        return [(tuple(k), float(v)) for k, v in value.items()]
    return [((), float(value))]


class DiskUse:
    """Bytes under some directories, walked in a thread at most every DISK_SCAN_INTERVAL seconds."""

    def __init__(self, directories: dict[str, Path]):
        self.directories = directories
        self.bytes: dict[tuple[str, ...], float] = {}
        self._scanned = 0.0
        self._lock = threading.Lock()

    def refresh(self) -> None:
        if time.monotonic() - self._scanned < DISK_SCAN_INTERVAL or not self._lock.acquire(blocking=False):
            return
        try:
            self.bytes = {(name,): float(_tree_size(path)) for name, path in self.directories.items()}
            self._scanned = time.monotonic()
        finally:
            self._lock.release()


def _tree_size(root: Path) -> int:
    total = 0
    for directory, _, files in os.walk(root):
        for name in files:
            try:
                total += os.lstat(os.path.join(directory, name)).st_blocks * 512
            except OSError:  # removed while walking
                pass
    return total


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.requests = Counter("pageturn_http_requests", "HTTP requests answered, by route, method and status",
                                ["route", "method", "status"], registry=r)
        self.request_seconds = Histogram("pageturn_http_request_duration_seconds",
                                         "time to answer a request, by route", ["route"],
                                         buckets=LATENCY_BUCKETS, registry=r)
        self.page_seconds = Histogram("pageturn_page_request_duration_seconds",
                                      "time to answer a page image or SVG request (GET /PCCIS/V1/Page/q/{page}); "
                                      "page=first for a document's first page", ["page"],
                                      buckets=LATENCY_BUCKETS, registry=r)
        self.render_seconds = Histogram("pageturn_render_duration_seconds", "render jobs in the worker pool, by job",
                                        ["job"], buckets=WORK_BUCKETS, registry=r)
        self.conversion_seconds = Histogram("pageturn_conversion_duration_seconds",
                                            "conversions to PDF (LibreOffice, comparison), by kind and outcome",
                                            ["kind", "outcome"], buckets=WORK_BUCKETS, registry=r)
        self.cache = Counter("pageturn_page_cache_lookups",
                             "page output cache lookups: hit, shared (fetched from the bucket) or miss (rendered)",
                             ["result"], registry=r)
        self._readings = _Readings()
        r.register(self._readings)
        self.disk: DiskUse | None = None

    # ---- hooks ---------------------------------------------------------------------------------------------
    def add_gauge(self, name: str, help: str, read: Callable[[], float | dict[tuple[str, ...], float]],
                  labels: tuple[str, ...] = ()) -> None:
        """A gauge read at each scrape. `read` returns a number, or {label values: number} when `labels` are
        given. Quick and without I/O: it runs on the event loop."""
        self._readings.gauges.append((name, help, read, labels))

    def add_counter(self, name: str, help: str, read: Callable[[], dict[tuple[str, ...], float]],
                    labels: tuple[str, ...] = ()) -> None:
        """A counter some part keeps itself (worker restarts...), read at each scrape; `_total` is appended."""
        self._readings.counters.append((name, help, read, labels))

    def watch_disk(self, directories: dict[str, Path]) -> None:
        self.disk = DiskUse(directories)
        disk = self.disk
        self.add_gauge("pageturn_disk_bytes", "bytes on disk, by area (cache: rendered and converted output; "
                       "blobs: stored documents), measured at most once a minute", lambda: disk.bytes, ("area",))

    def cache_lookup(self, result: str) -> None:
        """hit (this node's cache), shared (fetched from another node's published output) or miss (rendered)."""
        self.cache.labels(result).inc()

    def converted(self, kind: str, outcome: str, seconds: float) -> None:
        self.conversion_seconds.labels(kind, outcome).observe(seconds)


METRICS = web.AppKey("metrics", Metrics)


class TimedPool:
    """The render pool as Pages uses it, timing each job into `pageturn_render_duration_seconds`."""

    def __init__(self, pool: Any, metrics: Metrics):
        self.pool = pool
        self.histogram = metrics.render_seconds

    @property
    def size(self) -> int:
        return int(self.pool.size)

    def __getattr__(self, name: str) -> Any:
        # everything else (which worker a key goes to, its stats) is the pool's own
        return getattr(self.pool, name)

    async def run(self, affinity_key: str, fn: str, *args: Any, timeout: float | None = None, **kwargs: Any) -> Any:
        started = time.perf_counter()
        try:
            return await self.pool.run(affinity_key, fn, *args, timeout=timeout, **kwargs)
        finally:
            self.histogram.labels(fn).observe(time.perf_counter() - started)


def watch_pools(metrics: Metrics, render_pool: Any, office: Any | None) -> None:
    """Queue depths, busy processes, restarts and timeouts of the render pool (workers.pool.WorkerPool) and
    the LibreOffice pool (engines.office.OfficePool), read from their own counters."""
    metrics.add_gauge("pageturn_render_queue_depth", "render jobs waiting for a worker", render_pool.queued)
    metrics.add_gauge("pageturn_render_workers_busy", "render workers running a job",
                      lambda: sum(1 for w in render_pool.worker_stats() if w["busy"]))
    metrics.add_counter("pageturn_render_worker_events", "render worker processes started, crashed, killed "
                        "for a timeout, recycled or replaced after passing the memory cap", lambda: {
                            (event,): getattr(render_pool.stats, event)
                            for event in ("started", "crashed", "timed_out", "recycled", "over_memory")},
                        ("event",))
    if office is None:
        return
    metrics.add_gauge("pageturn_conversion_queue_depth", "conversions waiting for a LibreOffice process",
                      lambda: office.stats()["waiting"])
    metrics.add_gauge("pageturn_office_processes_busy", "LibreOffice processes converting",
                      lambda: sum(1 for p in office.stats()["processes"] if p["busy"]))
    metrics.add_counter("pageturn_office_restarts", "LibreOffice process restarts (recycled, crashed, timed out "
                        "or over memory)", lambda: {(): sum(p["restarts"] for p in office.stats()["processes"])})
