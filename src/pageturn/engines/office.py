"""Office, text and HTML documents to PDF (or Word .doc to .docx) through a pool of warm LibreOffice processes.

Each process is one soffice.bin with its own user profile, driven by uno_bridge.py under Debian's
/usr/bin/python3 over JSON lines on stdin/stdout, converting one document at a time. The pool:
  * starts and warms every process up front, and keeps each profile across restarts (a warm restart is fast);
  * hands processes to requests in arrival order; at most `queue_limit` requests wait, more get QueueFull;
  * gives every conversion a deadline: past it the process is killed and started again, the caller gets
    ConversionTimeout;
  * recycles a process after `max_conversions` conversions or when soffice's resident memory passes
    `max_memory_mb`, and replaces one that crashed;
  * runs each process in a sandbox when the machine allows it (bubblewrap: no network, a private /tmp, only
    /usr, /etc and the process's own directory visible, so a document can reach neither the network nor another
    job's files), else in a private network namespace (unshare --net), else as is, with a warning.
LibreOffice loads every document hidden, with macros never executed and links never updated, and only ever
sees a private copy inside its own job directory; HTML is also stripped of every URL it would fetch.
"""
from __future__ import annotations

import asyncio
import collections
import fcntl
import json
import logging
import os
import shutil
import signal
import subprocess
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import text_input
from .errors import (ConversionFailed, ConversionTimeout, OfficeError, OfficeUnavailable, PasswordRequired,
                     QueueFull, UnreadableDocument)

log = logging.getLogger(__name__)

SYSTEM_PYTHON = "/usr/bin/python3"  # python3-uno is built for Debian's interpreter only
BRIDGE = Path(__file__).resolve().with_name("uno_bridge.py")
START_TIMEOUT = 120.0    # a first start creates the profile; on a loaded machine that takes a while
STOP_GRACE = 10.0
REVIVE_DELAYS = (1, 2, 5, 10, 30)


# ---- formats ------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class _Format:
    kind: str                   # the LibreOffice application it opens in: text, spreadsheet, presentation
    prepare: str = "copy"       # copy | text | table | html
    delimiter: str | None = None


FORMATS: dict[str, _Format] = {
    **{ext: _Format("text") for ext in ("doc", "docx", "docm", "dot", "dotx", "rtf", "odt")},
    **{ext: _Format("spreadsheet") for ext in ("xls", "xlsx", "xlsm", "ods")},
    **{ext: _Format("presentation") for ext in ("ppt", "pptx", "pps", "ppsx", "odp")},
    "txt": _Format("text", "text"),
    "csv": _Format("spreadsheet", "table"),
    "tsv": _Format("spreadsheet", "table", "\t"),
    "html": _Format("text", "html"),
    "htm": _Format("text", "html"),
}
WORKBOOK_FORMATS = {"xls", "xlsx", "xlsm", "ods"}   # the ones whose sheets are reported
TARGETS = {"pdf", "docx"}


@dataclass
class ConversionResult:
    page_count: int | None          # pages of the produced PDF (None for target="docx")
    sheets: list[dict] | None       # workbooks: [{name, firstPageIndex, pageCount}] in sheet order


# ---- isolation ----------------------------------------------------------------------------------------------
class Isolation:
    """How a bridge process is started: "sandbox" (bubblewrap), "network" (unshare --net) or "none"."""

    MASKED = ("/etc/shadow", "/etc/shadow-", "/etc/gshadow", "/etc/gshadow-", "/etc/ssh", "/etc/ssl/private")

    def __init__(self, mode: str):
        self.mode = mode

    @classmethod
    def detect(cls, wanted: str, probe_dir: Path) -> "Isolation":
        """`wanted`: auto | sandbox | network | none. auto takes the strongest that works here."""
        order = {"auto": ["sandbox", "network", "none"], "sandbox": ["sandbox"], "network": ["network"],
                 "none": ["none"]}.get(wanted)
        if order is None:
            raise ValueError(f"unknown isolation {wanted!r}")
        for mode in order:
            candidate = cls(mode)
            if mode == "none" or candidate._works(probe_dir):
                if mode != order[0] or mode == "none":
                    log.warning("LibreOffice runs with isolation %r: %s", mode,
                                "documents can reach the network and local files" if mode == "none"
                                else "documents cannot reach the network but can read local files")
                return candidate
        raise OfficeUnavailable(f"isolation {wanted!r} is not possible on this machine")

    def _works(self, probe_dir: Path) -> bool:
        try:
            result = subprocess.run(self.command(probe_dir, ["/usr/bin/true"]), capture_output=True, timeout=30,
                                    env=_clean_env(probe_dir))
        except (OSError, subprocess.TimeoutExpired):
            return False
        return result.returncode == 0

    def command(self, home: Path, argv: list[str]) -> list[str]:
        if self.mode == "network":
            return ["unshare", "--net", "--", *argv]
        if self.mode != "sandbox":
            return argv
        args = ["bwrap", "--die-with-parent", "--unshare-net", "--unshare-pid", "--unshare-ipc", "--unshare-uts",
                "--cap-drop", "ALL", "--ro-bind", "/usr", "/usr", "--ro-bind", "/etc", "/etc",
                "--dev", "/dev", "--proc", "/proc", "--tmpfs", "/tmp"]
        for name in ("bin", "sbin", "lib", "lib32", "lib64", "libx32"):
            path = Path("/", name)
            if path.is_symlink():
                args += ["--symlink", os.readlink(path), str(path)]
            elif path.is_dir():
                args += ["--ro-bind", str(path), str(path)]
        for secret in self.MASKED:
            if os.path.isdir(secret):
                args += ["--tmpfs", secret]
            elif os.path.exists(secret):
                args += ["--ro-bind", "/dev/null", secret]
        if os.path.isdir("/var/cache/fontconfig"):  # without the font cache every start rescans all fonts
            args += ["--ro-bind", "/var/cache/fontconfig", "/var/cache/fontconfig"]
        args += ["--bind", str(home), str(home), "--ro-bind", str(BRIDGE), str(BRIDGE), "--chdir", str(home), "--"]
        return args + argv


def _clean_env(home: Path) -> dict[str, str]:
    """LibreOffice gets no variable of the server's (no secrets, no proxies), only what it needs."""
    return {"PATH": "/usr/bin:/bin", "HOME": str(home), "LANG": "C.UTF-8", "SAL_USE_VCLPLUGIN": "svp"}


# ---- one process --------------------------------------------------------------------------------------------
class _BridgeGone(Exception):
    pass


class _OfficeProcess:
    """One bridge + soffice pair in its own slot directory (profile, scratch, jobs)."""

    def __init__(self, index: int, slot: Path, isolation: Isolation):
        self.index = index
        self.slot = slot
        self.profile = slot / "profile"
        self.tmp = slot / "tmp"
        self.jobs = slot / "jobs"
        self.isolation = isolation
        self.proc: asyncio.subprocess.Process | None = None
        self.soffice_pid: int | None = None
        self.conversions = 0
        self.restarts = 0
        self.state = "new"           # starting | ready | busy | restarting | failed | stopped
        self.last_error: str | None = None
        self._stderr_tail: collections.deque[str] = collections.deque(maxlen=30)
        self._stderr_task: asyncio.Task | None = None
        self._request_id = 0

    async def start(self, start_timeout: float) -> None:
        self.state = "starting"
        for path in (self.tmp, self.jobs):
            shutil.rmtree(path, ignore_errors=True)
            path.mkdir(parents=True)
        pipe_name = f"pageturn-{os.getpid()}-{self.index}-{uuid.uuid4().hex[:8]}"
        argv = [SYSTEM_PYTHON, str(BRIDGE), "--profile", str(self.profile), "--tmp", str(self.tmp),
                "--pipe-name", pipe_name, "--start-timeout", str(start_timeout)]
        self._stderr_tail.clear()
        self.proc = await asyncio.create_subprocess_exec(
            *self.isolation.command(self.slot, argv), stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, env=_clean_env(self.slot),
            cwd=str(self.slot), start_new_session=True, limit=1 << 20)
        self._stderr_task = asyncio.create_task(self._drain_stderr(self.proc))
        try:
            line = await asyncio.wait_for(self.proc.stdout.readline(), start_timeout + 15)
        except asyncio.TimeoutError:
            await self.kill()
            raise OfficeUnavailable("LibreOffice did not start in time") from None
        ready = _parse(line)
        if not ready.get("ready"):
            await self.kill()
            detail = ready.get("message") or " | ".join(self._stderr_tail) or "no output"
            raise OfficeUnavailable(f"LibreOffice did not start: {detail}")
        self.soffice_pid = await asyncio.to_thread(_find_descendant, self.proc.pid, "soffice.bin")
        self.conversions = 0
        self.state = "ready"
        log.info("LibreOffice %s ready in slot %s (soffice pid %s, isolation %s)", ready.get("version", "?"),
                 self.slot.name, self.soffice_pid, self.isolation.mode)

    async def _drain_stderr(self, proc: asyncio.subprocess.Process) -> None:
        while True:
            line = await proc.stderr.readline()
            if not line:
                return
            text = line.decode("utf-8", "replace").rstrip()
            self._stderr_tail.append(text)
            log.debug("office[%d]: %s", self.index, text)

    async def request(self, message: dict, timeout: float) -> dict:
        """One request and its reply; asyncio.TimeoutError past `timeout`, _BridgeGone if the process died."""
        if self.proc is None or self.proc.returncode is not None:
            raise _BridgeGone("the LibreOffice process is not running")
        self._request_id += 1
        message = {**message, "id": self._request_id}
        try:
            self.proc.stdin.write((json.dumps(message) + "\n").encode())
            await self.proc.stdin.drain()
        except (ConnectionError, RuntimeError) as exc:
            raise _BridgeGone(f"the LibreOffice process stopped listening ({exc})") from None
        while True:
            line = await asyncio.wait_for(self.proc.stdout.readline(), timeout)
            if not line:
                raise _BridgeGone("the LibreOffice process exited: " + (" | ".join(list(self._stderr_tail)[-5:])
                                                                         or "no output"))
            reply = _parse(line)
            if reply.get("id") == self._request_id:
                return reply

    def rss_mb(self) -> float | None:
        if self.soffice_pid is None:
            return None
        try:
            with open(f"/proc/{self.soffice_pid}/status") as status:
                for line in status:
                    if line.startswith("VmRSS:"):
                        return int(line.split()[1]) / 1024
        except (OSError, ValueError):
            return None
        return None

    async def kill(self) -> None:
        proc = self.proc
        if proc is None:
            return
        if proc.returncode is None:
            try:
                os.killpg(proc.pid, signal.SIGKILL)  # the bridge and soffice share its process group
            except (ProcessLookupError, PermissionError):
                pass
            await proc.wait()
        await self._finish()

    async def stop(self) -> None:
        """Closes LibreOffice cleanly (so the profile stays sound), killing it if it does not go in time."""
        proc = self.proc
        if proc is None:
            return
        if proc.returncode is None:
            try:
                proc.stdin.write(b'{"op": "quit"}\n')
                await proc.stdin.drain()
                proc.stdin.close()
                await asyncio.wait_for(proc.wait(), STOP_GRACE)
            except (asyncio.TimeoutError, ConnectionError, RuntimeError):
                pass
        await self.kill()

    async def _finish(self) -> None:
        if self._stderr_task is not None:
            try:
                await asyncio.wait_for(self._stderr_task, 2)
            except (asyncio.TimeoutError, asyncio.CancelledError):
                self._stderr_task.cancel()
            self._stderr_task = None
        self.soffice_pid = None


def _parse(line: bytes) -> dict:
    try:
        value = json.loads(line)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def _find_descendant(root: int, name: str) -> int | None:
    """The pid (in our namespace) of the first process called `name` below `root`."""
    parents: dict[int, int] = {}
    names: dict[int, str] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as handle:
                stat = handle.read()
        except OSError:
            continue
        pid = int(entry)
        names[pid] = stat[stat.index("(") + 1:stat.rindex(")")]
        parents[pid] = int(stat[stat.rindex(")") + 2:].split()[1])
    for pid, comm in names.items():
        if comm != name:
            continue
        ancestor = parents.get(pid)
        while ancestor:
            if ancestor == root:
                return pid
            ancestor = parents.get(ancestor)
    return None


# ---- the pool -----------------------------------------------------------------------------------------------
class OfficePool:
    def __init__(self, size: int, timeout: float = 120, max_conversions: int = 50, max_memory_mb: int = 1024,
                 queue_limit: int = 100, work_dir: Path = Path("office"), *, isolation: str = "auto",
                 start_timeout: float = START_TIMEOUT):
        if size < 1:
            raise ValueError("an office pool needs at least one process")
        self.size = size
        self.timeout = timeout
        self.max_conversions = max_conversions
        self.max_memory_mb = max_memory_mb
        self.queue_limit = queue_limit
        self.work_dir = Path(work_dir).resolve()
        self.isolation_wanted = isolation
        self.isolation: Isolation | None = None
        self.start_timeout = start_timeout
        self._processes: list[_OfficeProcess] = []
        self._slot_locks: list[int] = []
        self._idle: collections.deque[_OfficeProcess] = collections.deque()
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
            self.isolation = await asyncio.to_thread(Isolation.detect, self.isolation_wanted, self.work_dir)
            slots = self._claim_slots()
        except (OSError, ValueError, OfficeUnavailable) as exc:
            self._fail_waiters(OfficeUnavailable(f"LibreOffice could not be started: {exc}"))
            raise self._unavailable from exc
        self._processes = [_OfficeProcess(i, slot, self.isolation) for i, slot in enumerate(slots)]
        results = await asyncio.gather(*(p.start(self.start_timeout) for p in self._processes),
                                       return_exceptions=True)
        failures = []
        for process, result in zip(self._processes, results):
            if isinstance(result, BaseException):
                process.state, process.last_error = "failed", str(result)
                failures.append(result)
                self._spawn(self._revive(process))
            else:
                self._release(process)
        if len(failures) == len(self._processes):
            self._fail_waiters(OfficeUnavailable(f"LibreOffice could not be started: {failures[0]}"))
            raise self._unavailable

    def _fail_waiters(self, error: OfficeError) -> None:
        """No process can run: conversions are told so at once instead of waiting for ever."""
        self._unavailable = error
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_exception(error)

    def _claim_slots(self) -> list[Path]:
        """Slot directories held with a lock, so two servers on one data directory never share a profile."""
        slots = []
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
    async def _acquire(self) -> _OfficeProcess:
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
    def _take(process: _OfficeProcess) -> _OfficeProcess:
        process.state = "busy"
        return process

    def _release(self, process: _OfficeProcess) -> None:
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

    async def _restart(self, process: _OfficeProcess, *, kill: bool) -> None:
        process.state = "restarting"
        process.restarts += 1
        await (process.kill() if kill else process.stop())
        if self._running:
            await self._revive(process)

    async def _revive(self, process: _OfficeProcess) -> None:
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

    def _after_job(self, process: _OfficeProcess, *, broken: bool) -> None:
        """Back in line, or restarted first when it is spent, too big or broken."""
        process.conversions += 1
        if not self._running:
            return  # stop() closes it
        rss = process.rss_mb()
        if broken:
            self._spawn(self._restart(process, kill=True))
        elif process.conversions >= self.max_conversions or (rss is not None and rss > self.max_memory_mb):
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
        if target == "docx" and spec.kind != "text":
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

    async def _run(self, process: _OfficeProcess, src: Path, out: Path, fmt: str, spec: _Format, target: str,
                   password: str | None, timeout: float) -> ConversionResult:
        job_dir = process.jobs / uuid.uuid4().hex
        broken = False
        try:
            job_dir.mkdir(parents=True)
            prepared = await asyncio.to_thread(_prepare, src, fmt, spec, job_dir)
            produced = job_dir / f"result.{target}"
            request = {"op": "convert", "src": str(prepared.path), "out": str(produced), "target": target,
                       "filter": prepared.filter, "filter_options": prepared.filter_options,
                       "password": password, "expect": spec.kind}
            started = time.monotonic()
            try:
                reply = await process.request(request, timeout)
            except asyncio.TimeoutError:
                broken = True
                await process.kill()
                raise ConversionTimeout(f"LibreOffice took longer than {timeout:g} s; the conversion was "
                                        f"stopped") from None
            except _BridgeGone as exc:
                broken = True
                raise ConversionFailed(f"LibreOffice stopped while converting the document ({exc})") from None
            log.debug("office[%d] converted .%s in %.2fs", process.index, fmt, time.monotonic() - started)
            if not reply.get("ok"):
                error = reply.get("error")
                message = reply.get("message") or "LibreOffice could not convert the document"
                if error == "OfficeCrashed":
                    broken = True
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

    # ---- health -----------------------------------------------------------------------------------------
    def stats(self) -> dict[str, Any]:
        return {
            "size": self.size,
            "isolation": self.isolation.mode if self.isolation else None,
            "waiting": len(self._waiters),
            "queue_limit": self.queue_limit,
            "processes": [{
                "slot": p.slot.name, "state": p.state, "busy": p.state == "busy", "pid": p.soffice_pid,
                "bridge_pid": p.proc.pid if p.proc and p.proc.returncode is None else None,
                "conversions": p.conversions, "restarts": p.restarts,
                "rss_mb": None if (rss := p.rss_mb()) is None else round(rss, 1), "last_error": p.last_error,
            } for p in self._processes],
        }


# ---- helpers that run in threads ----------------------------------------------------------------------------
def _prepare(src: Path, fmt: str, spec: _Format, job_dir: Path) -> text_input.Prepared:
    """The private copy LibreOffice reads, named by its format, and its import filter (None: LibreOffice
    detects the exact variant, e.g. Word 95 vs 97, and the bridge checks it opened as the right kind)."""
    dest = job_dir / f"document.{fmt}"
    if spec.prepare == "text":
        return text_input.prepare_text(src, dest)
    if spec.prepare == "table":
        return text_input.prepare_table(src, dest, spec.delimiter)
    if spec.prepare == "html":
        return text_input.prepare_html(src, dest)
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
