"""A pool of render worker processes driven from an asyncio event loop.

    pool = WorkerPool(size=4, job_timeout=60)
    await pool.start()
    png = await pool.run(document_sha256, "render_raster", path, "pdf", 0, dpi=150, fmt="png")
    await pool.stop()

Why not concurrent.futures.ProcessPoolExecutor: one dead worker breaks that whole pool, and it cannot kill the one
job that hangs. Here every worker is its own subprocess (`python -m pageturn.workers.worker`) speaking length-
prefixed pickles over its stdin/stdout pipes, read with asyncio streams, so the event loop never blocks.

- Only functions in pageturn.engines.jobs.JOBS can be run (the worker refuses others; `run` checks the names the
  workers announced). Results come back as bytes/dicts over the pipe; they are unpickled with a whitelist (plain
  data, built-in exceptions, engine errors), so a worker subverted by a hostile document cannot make the server
  unpickle arbitrary objects.
- Affinity: a job goes to the queue of worker `crc32(affinity_key) % size`, so jobs of one document meet the
  document that worker already parsed. When a worker is idle and another worker's queue has waiting jobs, the idle
  one takes the oldest of them (work stealing): one busy document then uses every core. Pass steal=False for
  strict affinity. Each worker's queue is bounded (`max_queue`); a full queue raises PoolBusy at once.
- A worker that dies (SIGKILL, segfault, out of memory) is seen at once by the EOF on its pipe: its job raises
  WorkerCrashed, a replacement is started, and the jobs waiting in its queue run on the replacement (or are taken
  by other idle workers).
- Every job has a timeout (job_timeout, or `timeout=` per call), counted from when a worker starts it (time spent
  waiting in a queue is not counted). Past it the worker is killed and replaced and the job raises JobTimeout.
- memory_limit_mb: each worker's address space is capped by the kernel (RLIMIT_AS). A job that hits the cap
  raises MemoryLimitExceeded and its worker is replaced: either Python saw MemoryError, or a native library
  aborted on a failed allocation (the pool reads each busy worker's peak address space, so a worker that dies by
  a signal other than SIGKILL with its peak past a quarter of its cap is taken to have died of its cap: an
  allocator that doubles a buffer fails once the buffer passes a third of the cap).
- max_jobs: a worker is replaced after that many jobs (bounds slow leaks in native libraries).
- Exceptions raised by a job arrive as the same class (engine errors, ValueError, ...). Pool errors below are
  EngineError subclasses too, so `except EngineError` covers every way a render can fail.
"""
from __future__ import annotations

import asyncio
import builtins
import contextlib
import io
import itertools
import json
import logging
import os
import pickle
import signal
import struct
import sys
import zlib
from collections import deque
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..engines import errors as engine_errors
from ..engines import procmem
from ..engines.errors import EngineError, JobTimeout, MemoryLimitExceeded, PoolBusy, PoolClosed, WorkerCrashed
from ..engines.pipes import stdin_of, stdout_of
from ..logs import REQUEST_ID

log = logging.getLogger(__name__)

HEADER = struct.Struct(">Q")
MAX_FRAME = 1 << 31          # a result above 2 GiB is a protocol error, not a page
STREAM_LIMIT = 1 << 23
WATCH_INTERVAL = 0.1         # how often a busy worker's memory is read


class _ResultUnpickler(pickle.Unpickler):
    """Results may hold plain data and exceptions of the built-in and engine-error kinds, nothing else."""

    def find_class(self, module: str, name: str) -> Any:
        source = {"builtins": builtins, engine_errors.__name__: engine_errors}.get(module)
        found = getattr(source, name, None) if source is not None else None
        if isinstance(found, type) and issubclass(found, BaseException):
            return found
        raise pickle.UnpicklingError(f"a worker result may not contain {module}.{name}")


def _load_result(payload: bytes) -> Any:
    return _ResultUnpickler(io.BytesIO(payload)).load()


@dataclass(eq=False)
class _Job:
    id: int
    name: str
    payload: bytes
    timeout: float
    slot: int
    future: asyncio.Future
    timer: asyncio.TimerHandle | None = None
    running: bool = False


@dataclass(eq=False)
class _Worker:
    slot: int
    process: asyncio.subprocess.Process
    pid: int
    job: _Job | None = None
    jobs_done: int = 0
    retiring: bool = False
    timed_out: bool = False
    reader: asyncio.Task | None = None
    peak_mb: float = 0.0     # the peak address space read during the current job


@dataclass
class PoolStats:
    started: int = 0      # worker processes started
    crashed: int = 0      # workers that died on their own
    timed_out: int = 0    # workers killed for a job over its timeout
    recycled: int = 0     # workers replaced after max_jobs
    completed: int = 0    # jobs answered (successfully or with the job's own exception)
    over_memory: int = 0  # workers replaced after a job passed the memory cap


def _kill(process: asyncio.subprocess.Process) -> None:
    """SIGKILL a worker without reaping it. Process.kill() goes through Popen.send_signal, which first polls
    (waitpid WNOHANG): a worker that had just died would be reaped there, and asyncio's child watcher would then
    report exit code 255 instead of the signal that killed it (seen when a worker with a child process was
    killed: its death then took a moment longer). A pid is not reused before the watcher has reaped it."""
    os.kill(process.pid, signal.SIGKILL)


def _signal_name(code: int | None) -> str:
    if code is None:
        return "unknown status"
    if code < 0:
        try:
            return f"signal {-code} ({signal.Signals(-code).name})"
        except ValueError:
            return f"signal {-code}"
    return f"exit code {code}"


class WorkerPool:
    def __init__(self, size: int | None = None, job_timeout: float = 60.0, max_jobs: int | None = None, *,
                 max_queue: int = 256, start_timeout: float = 60.0, steal: bool = True,
                 settings: dict[str, Any] | None = None, memory_limit_mb: int | None = None):
        """size: worker processes (default: one per core). settings: engine limits for the workers
        (see engines.raster.Limits, e.g. {"max_output_pixels": 40_000_000, "max_image_pixels": 1e8}).
        memory_limit_mb: address-space limit of each worker (a runaway allocation kills only that worker)."""
        self.size = max(1, size or os.cpu_count() or 1)
        self.job_timeout = float(job_timeout)
        self.max_jobs = max_jobs
        self.max_queue = max_queue
        self.start_timeout = start_timeout
        self.steal = steal
        self.settings = dict(settings or {})
        self.memory_limit_mb = int(memory_limit_mb) if memory_limit_mb else None
        if self.memory_limit_mb:
            self.settings["memory_limit_mb"] = self.memory_limit_mb
        self.stats = PoolStats()
        self._workers: list[_Worker | None] = [None] * self.size
        self._queues: list[deque[_Job]] = [deque() for _ in range(self.size)]
        self._spawning: dict[int, asyncio.Task] = {}
        self._job_names: frozenset[str] = frozenset()
        self._ids = itertools.count(1)
        self._started = False
        self._closing = False
        self._watch: asyncio.Task | None = None

    # ---- public ----------------------------------------------------------------------------------------------
    async def start(self) -> None:
        """Start every worker; raises RuntimeError when none could start (a broken installation)."""
        if self._started:
            return
        self._started = True
        self._closing = False
        attempts = [self._start_worker(slot) for slot in range(self.size)]
        outcomes = await asyncio.gather(*attempts, return_exceptions=True)
        failures = [o for o in outcomes if isinstance(o, BaseException)]
        if len(failures) == self.size:
            self._started = False
            raise RuntimeError(f"no render worker could start: {failures[0]}")
        for slot, outcome in enumerate(outcomes):
            if isinstance(outcome, BaseException):
                self._respawn(slot)
        if self.memory_limit_mb:
            self._watch = asyncio.create_task(self._watch_memory())

    async def stop(self, grace: float = 5.0) -> None:
        """Fail queued jobs with PoolClosed, let workers exit (killing those that do not within `grace`)."""
        self._closing = True
        self._started = False
        if self._watch is not None:
            self._watch.cancel()
            with contextlib.suppress(BaseException):
                await self._watch
            self._watch = None
        for task in self._spawning.values():
            task.cancel()
        for task in list(self._spawning.values()):
            with contextlib.suppress(BaseException):
                await task
        self._spawning.clear()
        for queue in self._queues:
            while queue:
                self._fail(queue.popleft(), PoolClosed())
        workers = [w for w in self._workers if w is not None]
        for worker in workers:
            if worker.job is not None:
                self._fail(worker.job, PoolClosed())
            with contextlib.suppress(Exception):
                stdin_of(worker.process).close()
        for worker in workers:
            try:
                await asyncio.wait_for(worker.process.wait(), grace)
            except asyncio.TimeoutError:
                with contextlib.suppress(ProcessLookupError):
                    _kill(worker.process)
                await worker.process.wait()
            if worker.reader is not None:
                worker.reader.cancel()
                with contextlib.suppress(BaseException):
                    await worker.reader
        self._workers = [None] * self.size

    async def run(self, affinity_key: str, fn: str, *args: Any, timeout: float | None = None,
                  **kwargs: Any) -> Any:
        """Run jobs.<fn>(*args, **kwargs) in the worker that `affinity_key` maps to, and return its result."""
        if not self._started or self._closing:
            raise PoolClosed()
        if self._job_names and fn not in self._job_names:
            raise ValueError(f"{fn!r} is not a render job (known: {', '.join(sorted(self._job_names))})")
        slot = self.home(affinity_key)
        queue = self._queues[slot]
        if len(queue) >= self.max_queue:
            raise PoolBusy()
        job_id = next(self._ids)
        # the request id goes along so the worker's own log lines name the request they belong to
        payload = pickle.dumps((job_id, fn, args, kwargs, REQUEST_ID.get()), protocol=pickle.HIGHEST_PROTOCOL)
        job = _Job(job_id, fn, payload, float(timeout if timeout is not None else self.job_timeout), slot,
                   asyncio.get_running_loop().create_future())
        queue.append(job)
        self._dispatch()
        try:
            return await job.future
        except asyncio.CancelledError:
            if not job.running:  # nobody will run it now: take it out of its queue
                with contextlib.suppress(ValueError):
                    self._queues[job.slot].remove(job)
            raise

    def home(self, affinity_key: str) -> int:
        """The index of the worker that jobs with this key go to."""
        return zlib.crc32(affinity_key.encode("utf-8")) % self.size

    def worker_pids(self) -> list[int | None]:
        """Process ids by worker index (None while a worker is being replaced)."""
        return [w.pid if w is not None else None for w in self._workers]

    def healthy(self) -> bool:
        """Running with at least one worker up (one being replaced shows as None for a moment)."""
        return self._started and not self._closing and any(w is not None for w in self._workers)

    def queued(self) -> int:
        """Jobs waiting for a worker."""
        return sum(len(q) for q in self._queues)

    def worker_stats(self) -> list[dict[str, Any]]:
        """Per worker index: its pid (None while replaced), jobs it answered, whether it is busy, its queue."""
        return [{"pid": w.pid if w else None, "jobs": w.jobs_done if w else 0, "busy": bool(w and w.job),
                 "queued": len(self._queues[slot])} for slot, w in enumerate(self._workers)]

    # ---- workers -----------------------------------------------------------------------------------------
    def _command(self) -> tuple[list[str], dict[str, str]]:
        package_root = str(Path(__file__).resolve().parent.parent.parent)
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(p for p in (package_root, env.get("PYTHONPATH")) if p)
        return [sys.executable, "-m", "pageturn.workers.worker", json.dumps(self.settings)], env

    async def _start_worker(self, slot: int) -> _Worker:
        command, env = self._command()
        process = await asyncio.create_subprocess_exec(
            *command, stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, env=env, limit=STREAM_LIMIT)
        try:
            hello = await asyncio.wait_for(self._read_frame(stdout_of(process)), self.start_timeout)
            if not (isinstance(hello, tuple) and len(hello) == 3 and hello[0] == "ready"):
                raise RuntimeError(f"unexpected greeting {hello!r:.100}")
        except BaseException as exc:
            with contextlib.suppress(ProcessLookupError):
                _kill(process)
            await process.wait()
            if isinstance(exc, asyncio.IncompleteReadError):
                raise RuntimeError(f"the worker exited at start ({_signal_name(process.returncode)})") from None
            raise
        self._job_names = frozenset(hello[2])
        worker = _Worker(slot, process, int(hello[1]))
        self._workers[slot] = worker
        self.stats.started += 1
        worker.reader = asyncio.create_task(self._read_results(worker))
        self._dispatch()
        return worker

    def _respawn(self, slot: int) -> None:
        if self._closing or slot in self._spawning:
            return
        self._spawning[slot] = asyncio.create_task(self._respawn_loop(slot))

    async def _respawn_loop(self, slot: int) -> None:
        delay = 0.5
        try:
            while not self._closing:
                try:
                    await self._start_worker(slot)
                    return
                except asyncio.CancelledError:
                    raise
                except Exception as exc:
                    log.error("render worker %d could not start: %s", slot, exc)
                    # nobody may be able to serve the jobs waiting for this worker: fail them rather than hang
                    queue = self._queues[slot]
                    while queue:
                        self._fail(queue.popleft(), WorkerCrashed(f"A render worker could not start: {exc}"))
                    await asyncio.sleep(delay)
                    delay = min(delay * 2, 30.0)
        finally:
            self._spawning.pop(slot, None)

    async def _read_frame(self, stream: asyncio.StreamReader) -> Any:
        (size,) = HEADER.unpack(await stream.readexactly(HEADER.size))
        if size > MAX_FRAME:
            raise pickle.UnpicklingError(f"a worker sent a frame of {size} bytes")
        return _load_result(await stream.readexactly(size))

    async def _read_results(self, worker: _Worker) -> None:
        try:
            while True:
                message = await self._read_frame(stdout_of(worker.process))
                job_id, ok, value = message
                job = worker.job
                if job is None or job.id != job_id:
                    raise pickle.UnpicklingError(f"a worker answered job {job_id!r} it was not given")
                self._finish(worker, job)
                if not ok and isinstance(value, MemoryLimitExceeded):
                    worker.retiring = True  # the worker exits after this answer
                    self.stats.over_memory += 1
                if not job.future.done():
                    if ok:
                        job.future.set_result(value)
                    else:
                        job.future.set_exception(value if isinstance(value, BaseException)
                                                 else EngineError(str(value)))
                self.stats.completed += 1
                worker.jobs_done += 1
                if self.max_jobs and worker.jobs_done >= self.max_jobs and not self._closing:
                    worker.retiring = True
                    self.stats.recycled += 1
                    with contextlib.suppress(Exception):
                        stdin_of(worker.process).close()  # it exits when its input ends
                self._dispatch()
        except asyncio.CancelledError:
            raise
        except (asyncio.IncompleteReadError, ConnectionError, pickle.UnpicklingError, ValueError, TypeError,
                EOFError, struct.error) as exc:
            if not isinstance(exc, (asyncio.IncompleteReadError, ConnectionError, EOFError)):
                log.error("render worker %d (pid %d) broke the protocol: %s", worker.slot, worker.pid, exc)
        await self._worker_ended(worker)

    async def _worker_ended(self, worker: _Worker) -> None:
        with contextlib.suppress(ProcessLookupError):
            if worker.process.returncode is None:
                _kill(worker.process)
        code = await worker.process.wait()
        if self._workers[worker.slot] is worker:
            self._workers[worker.slot] = None
        job = worker.job
        over_memory = False
        if job is not None:
            self._finish(worker, job)
            over_memory = self._died_of_memory(worker, code)
            if over_memory:
                self.stats.over_memory += 1
                self._fail(job, MemoryLimitExceeded(f"The page needs more than the {self.memory_limit_mb} MB of "
                                                    f"memory a renderer may use"))
            else:
                self._fail(job, WorkerCrashed(f"The renderer stopped while working on this page "
                                              f"({_signal_name(code)})"))
        if self._closing:
            return
        if over_memory:
            log.warning("render worker %d (pid %d) passed its memory cap of %d MB (%s)", worker.slot, worker.pid,
                        self.memory_limit_mb, _signal_name(code))
        elif worker.timed_out:
            self.stats.timed_out += 1
        elif not worker.retiring:
            self.stats.crashed += 1
            log.warning("render worker %d (pid %d) ended: %s", worker.slot, worker.pid, _signal_name(code))
        self._respawn(worker.slot)
        self._dispatch()

    def _died_of_memory(self, worker: _Worker, code: int | None) -> bool:
        """A native library aborts (or faults) when an allocation fails at the cap: a death by a signal (not
        SIGKILL, which comes from outside, nor the pool's own kill for a timeout) with the worker's peak address
        space past a quarter of its cap."""
        return bool(self.memory_limit_mb and code is not None and code < 0 and code != -signal.SIGKILL
                    and not worker.timed_out and worker.peak_mb >= self.memory_limit_mb / 4)

    async def _watch_memory(self) -> None:
        while True:
            await asyncio.sleep(WATCH_INTERVAL)
            for worker in self._workers:
                if worker is not None and worker.job is not None:
                    memory = procmem.read(worker.pid)
                    if memory is not None:
                        worker.peak_mb = max(worker.peak_mb, memory.peak_mb)

    # ---- jobs ----------------------------------------------------------------------------------------------
    def _dispatch(self) -> None:
        if self._closing:
            return
        idle = [w for w in self._workers if w is not None and w.job is None and not w.retiring]
        waiting = []
        for worker in idle:
            queue = self._queues[worker.slot]
            if queue:
                self._begin(worker, queue.popleft())
            else:
                waiting.append(worker)
        if not self.steal:
            return
        for worker in waiting:
            victim = max(self._queues, key=len)
            if not victim:
                return
            self._begin(worker, victim.popleft())

    def _begin(self, worker: _Worker, job: _Job) -> None:
        worker.job = job
        worker.peak_mb = 0.0
        job.running = True
        try:
            stdin_of(worker.process).write(HEADER.pack(len(job.payload)) + job.payload)
        except (ConnectionError, RuntimeError):
            pass  # the worker is gone: its reader sees the end of its pipe and fails the job
        job.timer = asyncio.get_running_loop().call_later(job.timeout, self._expire, worker, job)

    def _expire(self, worker: _Worker, job: _Job) -> None:
        if worker.job is not job:
            return
        worker.timed_out = True
        self._fail(job, JobTimeout(f"Rendering took longer than {job.timeout:g} s; the job was stopped"))
        with contextlib.suppress(ProcessLookupError):
            _kill(worker.process)

    @staticmethod
    def _finish(worker: _Worker, job: _Job) -> None:
        worker.job = None
        if job.timer is not None:
            job.timer.cancel()
            job.timer = None

    @staticmethod
    def _fail(job: _Job, error: BaseException) -> None:
        if not job.future.done():
            job.future.set_exception(error)
