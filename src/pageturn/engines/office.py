"""Office, text and HTML documents to PDF (or Word .doc to .docx) through a pool of warm LibreOffice processes.

Split the way process supervisors are: engines/sandbox.py starts a process isolated, office_bridge.py is one
process and the JSON-line protocol with it, and this module is the pool that supervises them. The pool:
  * starts and warms every process up front, and keeps each profile across restarts (a warm restart is fast);
  * hands processes to requests in arrival order; at most `queue_limit` requests wait, more get QueueFull;
  * gives every conversion a deadline: past it the process is killed and started again, the caller gets
    ConversionTimeout;
  * caps each soffice's memory: it is watched while it converts and killed when its resident memory passes
    `max_memory_mb` (the conversion raises MemoryLimitExceeded); the kernel also refuses it address space past
    that plus ADDRESS_SPACE_HEADROOM_MB (LibreOffice reserves about 700 MB more than it touches), and a process
    that dies with its memory past half the cap is taken to have died of it;
  * recycles a process after `max_conversions` conversions or when soffice's resident memory after a conversion
    passes `recycle_memory_mb` (default: half the cap), and replaces one that crashed;
  * runs each process in a sandbox when the machine allows it (bubblewrap: no network, a private /tmp, only
    /usr, /etc and the process's own directory visible, so a document can reach neither the network nor another
    job's files), else in a private network namespace (unshare --net), else as is, with a warning.
LibreOffice loads every document hidden, with macros never executed and links never updated, and only ever
sees a private copy inside its own job directory; HTML is also stripped of every URL it would fetch.
"""
from __future__ import annotations

import asyncio
import collections
import contextlib
import fcntl
import logging
import os
import shutil
import threading
import time
import uuid
from collections.abc import Coroutine
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import derived_input, text_input
from .errors import (ConversionFailed, ConversionTimeout, MemoryLimitExceeded, OfficeError, OfficeUnavailable,
                     OfficeCrashed, PasswordRequired, QueueFull, SandboxUnavailable,
                     UnreadableDocument)
from .formats import CONVERTED, WORKBOOKS, Format
from .office_bridge import BridgeGone, OfficeProcess
from .sandbox import Isolation

log = logging.getLogger(__name__)

START_TIMEOUT = 120.0    # a first start creates the profile; on a loaded machine that takes a while
REVIVE_DELAYS = (1, 2, 5, 10, 30)
WATCH_INTERVAL = 0.1     # how often a converting soffice's memory is read
ADDRESS_SPACE_HEADROOM_MB = 1024  # measured: an idle soffice maps 820 MB for 150 MB resident


# ---- formats: the engines' one table (engines/formats.py) ------------------------------------------------------
FORMATS = CONVERTED
WORKBOOK_FORMATS = WORKBOOKS   # the ones whose sheets are reported
TARGETS = {"pdf", "docx"}


@dataclass
class ConversionResult:
    page_count: int | None          # pages of the produced PDF (None for target="docx")
    sheets: list[dict] | None       # workbooks: [{name, firstPageIndex, pageCount}] in sheet order


# ---- the pool -----------------------------------------------------------------------------------------------
class OfficePool:
    def __init__(self, size: int, timeout: float = 120, max_conversions: int = 50, max_memory_mb: int = 2048,
                 queue_limit: int = 100, work_dir: Path = Path("office"), *, isolation: str = "auto",
                 start_timeout: float = START_TIMEOUT, recycle_memory_mb: int | None = None, nice: int = 0):
        if size < 1:
            raise ValueError("an office pool needs at least one process")
        self.size = size
        self.timeout = timeout
        self.max_conversions = max_conversions
        self.max_memory_mb = max_memory_mb
        self.recycle_memory_mb = recycle_memory_mb or max_memory_mb // 2
        self.queue_limit = queue_limit
        self.work_dir = Path(work_dir).resolve()
        self.isolation_wanted = isolation
        self.isolation: Isolation | None = None
        self.start_timeout = start_timeout
        self.nice = nice                 # niceness of every LibreOffice process (0: as the server's)
        self._processes: list[OfficeProcess] = []
        self._slot_locks: list[int] = []
        self._idle: collections.deque[OfficeProcess] = collections.deque()
        self._waiters: collections.deque[asyncio.Future] = collections.deque()
        self._background: set[asyncio.Task] = set()
        self._state = "new"          # new -> running -> stopped; conversions may queue while new
        self._unavailable: OfficeError | None = None

    # ---- lifecycle --------------------------------------------------------------------------------------
    @property
    def _running(self) -> bool:
        return self._state == "running"

    async def start(self) -> None:
        """Starts and warms up every process; raises OfficeUnavailable when not even one starts (the others
        keep being retried in the background). Conversions asked for meanwhile wait for the first process."""
        if self._state != "new":
            raise OfficeUnavailable("an office pool starts once")
        self._state = "running"
        try:
            self.work_dir.mkdir(parents=True, exist_ok=True)
            self.isolation = await asyncio.to_thread(Isolation.detect, self.isolation_wanted, self.work_dir,
                                                     what="LibreOffice")
            slots = self._claim_slots()
        except (OSError, ValueError, SandboxUnavailable) as exc:
            error = OfficeUnavailable(f"LibreOffice could not be started: {exc}")
            self._fail_waiters(error)
            raise error from exc
        self._processes = [OfficeProcess(i, slot, self.isolation,
                                         address_space_mb=self.max_memory_mb + ADDRESS_SPACE_HEADROOM_MB,
                                         nice=self.nice)
                           for i, slot in enumerate(slots)]
        # one after another, each handed out as soon as it is ready: soffice starts on one core at a time, so
        # pages keep rendering meanwhile (all at once, one per core took every core of the machine for seconds;
        # bench/bench_startup.py measures the first 10 s against the steady rate)
        failures = []
        for process in self._processes:
            try:
                await process.start(self.start_timeout)
            except Exception as exc:  # noqa: BLE001 - retried in the background; the pool fails only if none starts
                process.state, process.last_error = "failed", str(exc)
                failures.append(exc)
                self._spawn(self._revive(process))
            else:
                self._release(process)
        if len(failures) == len(self._processes):
            error = OfficeUnavailable(f"LibreOffice could not be started: {failures[0]}")
            self._fail_waiters(error)
            raise error

    def _fail_waiters(self, error: OfficeError) -> None:
        """No process can run: conversions are told so at once instead of waiting for ever."""
        self._unavailable = error
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_exception(error)

    def _claim_slots(self) -> list[Path]:
        """Slot directories held with a lock, so two servers on one data directory never share a profile."""
        slots: list[Path] = []
        index = 0
        while len(slots) < self.size:
            slot = self.work_dir / f"slot-{index}"
            index += 1
            slot.mkdir(exist_ok=True)
            fd = os.open(slot / ".lock", os.O_CREAT | os.O_RDWR, 0o600)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(fd)
                continue
            self._slot_locks.append(fd)
            slots.append(slot)
        return slots

    async def stop(self) -> None:
        self._state = "stopped"
        self._fail_waiters(OfficeUnavailable("the LibreOffice pool is stopped"))
        for task in list(self._background):
            task.cancel()
        await asyncio.gather(*self._background, return_exceptions=True)
        await asyncio.gather(*(p.stop() for p in self._processes), return_exceptions=True)
        for process in self._processes:
            process.state = "stopped"
        self._idle.clear()
        for fd in self._slot_locks:
            os.close(fd)
        self._slot_locks.clear()

    def _spawn(self, coroutine) -> None:
        task = asyncio.create_task(coroutine)
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    # ---- handing processes out, in arrival order --------------------------------------------------------
    async def _acquire(self) -> OfficeProcess:
        if self._state == "stopped":
            raise OfficeUnavailable("the LibreOffice pool is stopped")
        if self._idle and not self._waiters:
            return self._take(self._idle.popleft())
        if self._unavailable is not None and not self._idle:
            raise self._unavailable
        if len(self._waiters) >= self.queue_limit:
            raise QueueFull(f"{len(self._waiters)} conversions are already waiting for LibreOffice")
        waiter = asyncio.get_running_loop().create_future()
        self._waiters.append(waiter)
        try:
            return self._take(await waiter)
        except asyncio.CancelledError:
            if waiter.done() and not waiter.cancelled() and waiter.exception() is None:
                self._release(waiter.result())  # handed to us just as we were cancelled: pass it on
            raise
        finally:
            if waiter in self._waiters:
                self._waiters.remove(waiter)

    @staticmethod
    def _take(process: OfficeProcess) -> OfficeProcess:
        process.state = "busy"
        return process

    def _release(self, process: OfficeProcess) -> None:
        process.state = "ready"
        self._unavailable = None
        if not self._running:
            return
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(process)
                return
        self._idle.append(process)

    async def _restart(self, process: OfficeProcess, *, kill: bool) -> None:
        process.state = "restarting"
        process.restarts += 1
        await (process.kill() if kill else process.stop())
        if self._running:
            await self._revive(process)

    async def _revive(self, process: OfficeProcess) -> None:
        """Starts the process again, retrying with growing pauses; while no process at all can run, waiting
        conversions are told so instead of waiting for ever."""
        attempt = 0
        while self._running:
            try:
                await process.start(self.start_timeout)
            except OfficeUnavailable as exc:
                process.state, process.last_error = "failed", str(exc)
                log.error("LibreOffice slot %s failed to start: %s", process.slot.name, exc)
                if all(p.state == "failed" for p in self._processes):
                    self._fail_waiters(OfficeUnavailable(f"LibreOffice could not be started: {exc}"))
                await asyncio.sleep(REVIVE_DELAYS[min(attempt, len(REVIVE_DELAYS) - 1)])
                attempt += 1
                continue
            self._release(process)
            return

    def _after_job(self, process: OfficeProcess, *, broken: bool) -> None:
        """Back in line, or restarted first when it is spent, too big or broken."""
        process.conversions += 1
        if not self._running:
            return  # stop() closes it
        rss = process.rss_mb()
        if broken:
            self._spawn(self._restart(process, kill=True))
        elif process.conversions >= self.max_conversions or (rss is not None and rss > self.recycle_memory_mb):
            log.info("recycling LibreOffice slot %s after %d conversions (%.0f MB)", process.slot.name,
                     process.conversions, rss or 0)
            self._spawn(self._restart(process, kill=False))
        else:
            self._release(process)

    # ---- converting -------------------------------------------------------------------------------------
    async def convert(self, src: Path, out: Path, fmt: str, *, target: str = "pdf", password: str | None = None,
                      timeout: float | None = None) -> ConversionResult:
        """Converts `src`, a document of format `fmt` (its extension), into `out`. LibreOffice works on a copy
        in its own job directory. `timeout` (default: the pool's) bounds the conversion itself, not the wait
        for a free process (the queue's length bounds that). Raises PasswordRequired, UnreadableDocument,
        ConversionTimeout, ConversionFailed, QueueFull or OfficeUnavailable."""
        fmt = (fmt or "").lower().lstrip(".")
        spec = FORMATS.get(fmt)
        if spec is None:
            raise ConversionFailed(f"LibreOffice does not convert .{fmt} files here")
        if target not in TARGETS:
            raise ConversionFailed(f"unknown conversion target {target!r}")
        if target == "docx" and spec.office != "text":
            raise ConversionFailed(f"a .{fmt} document cannot become a Word document")
        src, out = Path(src), Path(out)
        if not src.is_file():
            raise ConversionFailed(f"no document at {src}")
        process = await self._acquire()
        job = asyncio.ensure_future(self._run(process, src, out, fmt, spec, target, password,
                                              self.timeout if timeout is None else timeout))
        job.add_done_callback(lambda task: task.cancelled() or task.exception())  # seen, even if abandoned
        # a caller that goes away does not stop a conversion under way: the process is only free once it ends
        return await asyncio.shield(job)

    async def _run(self, process: OfficeProcess, src: Path, out: Path, fmt: str, spec: Format, target: str,
                   password: str | None, timeout: float) -> ConversionResult:
        job_dir = process.jobs / uuid.uuid4().hex
        broken = False
        try:
            job_dir.mkdir(parents=True)
            prepared = await asyncio.to_thread(_prepare, src, fmt, spec, job_dir)
            produced = job_dir / f"result.{target}"
            request = {"op": "convert", "src": str(prepared.path), "out": str(produced), "target": target,
                       "filter": prepared.filter, "filter_options": prepared.filter_options,
                       "password": password, "expect": spec.office}
            started = time.monotonic()
            watch = _MemoryWatch(process, self.max_memory_mb)
            try:
                reply = await watch.run(process.request(request, timeout))
            except asyncio.TimeoutError:
                broken = True
                await process.kill()
                raise ConversionTimeout(f"LibreOffice took longer than {timeout:g} s; the conversion was "
                                        f"stopped") from None
            except BridgeGone as exc:
                broken = True
                if watch.exceeded or watch.near_cap():
                    raise self._over_memory(process, watch) from None
                raise OfficeCrashed(f"LibreOffice stopped while converting the document ({exc})") from None
            log.debug("office[%d] converted .%s in %.2fs", process.index, fmt, time.monotonic() - started)
            if not reply.get("ok"):
                error = reply.get("error")
                message = reply.get("message") or "LibreOffice could not convert the document"
                if error == "OfficeCrashed":
                    broken = True
                    if watch.near_cap():
                        raise self._over_memory(process, watch)
                    raise OfficeCrashed(message)
                if error == "PasswordRequired":
                    raise PasswordRequired(message)
                if error == "LoadFailed":
                    raise UnreadableDocument(message)
                raise ConversionFailed(message)
            if not produced.is_file() or produced.stat().st_size == 0:
                raise ConversionFailed("LibreOffice produced no output")
            await asyncio.to_thread(_move, produced, out)
            if target != "pdf":
                return ConversionResult(None, None)
            page_count, outline = await asyncio.to_thread(_pdf_facts, out)
            sheets = None
            if fmt in WORKBOOK_FORMATS and reply.get("sheets") is not None:
                sheets = _sheet_ranges(reply["sheets"], outline, page_count)
            return ConversionResult(page_count, sheets)
        finally:
            await asyncio.to_thread(shutil.rmtree, job_dir, True)
            self._after_job(process, broken=broken)

    def _over_memory(self, process: OfficeProcess, watch: "_MemoryWatch") -> MemoryLimitExceeded:
        log.warning("LibreOffice slot %s passed its memory cap of %d MB (%.0f MB resident)", process.slot.name,
                    self.max_memory_mb, watch.peak_rss_mb)
        return MemoryLimitExceeded(f"Converting the document needs more than the {self.max_memory_mb} MB of "
                                   f"memory LibreOffice may use here")

    # ---- health -----------------------------------------------------------------------------------------
    def healthy(self) -> bool:
        """Healthy while at least one LibreOffice process is up or (re)starting, as during warm-up."""
        if self._state == "stopped":
            return False
        return not self._processes or any(p.state not in ("failed", "stopped") for p in self._processes)

    def stats(self) -> dict[str, Any]:
        return {
            "size": self.size,
            "isolation": self.isolation.mode if self.isolation else None,
            "waiting": len(self._waiters),
            "queue_limit": self.queue_limit,
            "max_memory_mb": self.max_memory_mb,
            "processes": [{
                "slot": p.slot.name, "state": p.state, "busy": p.state == "busy", "pid": p.soffice_pid,
                "bridge_pid": p.proc.pid if p.proc and p.proc.returncode is None else None,
                "conversions": p.conversions, "restarts": p.restarts,
                "rss_mb": None if (rss := p.rss_mb()) is None else round(rss, 1), "last_error": p.last_error,
            } for p in self._processes],
        }


class _MemoryWatch:
    """Reads a converting soffice's memory every WATCH_INTERVAL; past the cap it kills the process (the
    request then ends with BridgeGone and `exceeded` says why)."""

    def __init__(self, process: OfficeProcess, cap_mb: int):
        self.process = process
        self.cap_mb = cap_mb
        self.peak_rss_mb = 0.0
        self.peak_size_mb = 0.0
        self.exceeded = False

    async def run(self, request: Coroutine[Any, Any, dict]) -> dict:
        task = asyncio.ensure_future(request)
        try:
            while True:
                done, _ = await asyncio.wait({task}, timeout=WATCH_INTERVAL)
                if done:
                    return task.result()
                memory = self.process.memory()
                if memory is None:
                    continue
                self.peak_rss_mb = max(self.peak_rss_mb, memory.rss_mb)
                self.peak_size_mb = max(self.peak_size_mb, memory.size_mb)
                if memory.rss_mb > self.cap_mb and not self.exceeded:
                    self.exceeded = True
                    await self.process.kill()  # the request sees the pipe close: BridgeGone
        finally:
            if not task.done():
                task.cancel()
                with contextlib.suppress(BaseException):
                    await task

    def near_cap(self) -> bool:
        """A crash with this much in use is taken to be the address-space cap refusing an allocation."""
        headroom_cap = self.cap_mb + ADDRESS_SPACE_HEADROOM_MB
        return self.exceeded or self.peak_rss_mb >= self.cap_mb / 2 or self.peak_size_mb >= 0.75 * headroom_cap


# ---- helpers that run in threads ----------------------------------------------------------------------------
def _prepare(src: Path, fmt: str, spec: Format, job_dir: Path) -> text_input.Prepared:
    """The private copy LibreOffice reads, named by its format, and its import filter (None: LibreOffice
    detects the exact variant, e.g. Word 95 vs 97, and the bridge checks it opened as the right kind)."""
    dest = job_dir / f"document.{fmt}"
    if spec.prepare == "text":
        return text_input.prepare_text(src, dest)
    if spec.prepare == "table":
        return text_input.prepare_table(src, dest, spec.delimiter)
    if spec.prepare == "html":
        return text_input.prepare_html(src, dest)
    if spec.prepare in derived_input.PREPARERS:  # e-mail, Markdown, JSON/XML, SVG
        return derived_input.PREPARERS[spec.prepare](src, dest)
    shutil.copyfile(src, dest)
    return text_input.Prepared(dest, None, None)  # type: ignore[arg-type]


def _move(produced: Path, out: Path) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    shutil.move(str(produced), str(out))


_PDFIUM = threading.Lock()  # PDFium is not thread-safe


def _pdf_facts(path: Path) -> tuple[int, list[tuple[str, int]]]:
    """Page count and the top-level outline (title, page index) of a PDF."""
    import pypdfium2

    with _PDFIUM:
        pdf = pypdfium2.PdfDocument(str(path))
        try:
            outline = []
            for bookmark in pdf.get_toc(max_depth=1):
                dest = bookmark.get_dest()
                index = dest.get_index() if dest is not None else None
                if index is not None:
                    outline.append((bookmark.get_title(), index))
            return len(pdf), outline
        finally:
            pdf.close()


def _sheet_ranges(sheets: list[dict], outline: list[tuple[str, int]], page_count: int) -> list[dict] | None:
    """[{name, firstPageIndex, pageCount}] for the visible sheets. Calc's PDF export puts one top-level
    bookmark per printed sheet on its first page; a sheet without one printed nothing (pageCount 0, placed
    where its pages would be)."""
    visible = [s["name"] for s in sheets if s.get("visible", True)]
    starts: dict[int, int] = {}
    cursor = 0
    for position, name in enumerate(visible):
        if cursor < len(outline) and outline[cursor][0] == name:
            starts[position] = outline[cursor][1]
            cursor += 1
    if cursor != len(outline) or (outline and sorted(i for _, i in outline) != [i for _, i in outline]):
        log.warning("sheet bookmarks do not match the workbook's sheets; sheet pages not reported")
        return None
    result = []
    next_start = page_count
    for position in range(len(visible) - 1, -1, -1):
        first = starts.get(position, next_start)
        result.append({"name": visible[position], "firstPageIndex": first, "pageCount": next_start - first})
        next_start = first
    result.reverse()
    return result
