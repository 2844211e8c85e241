"""The server's side of a comparison: starts the comparison job (job.py) as a bounded, sandboxed process.

A comparison can take minutes of CPU and gigabytes of memory for a pair of 100 KB files, so it never runs in the
server's threads (the shared default thread pool also serves DNS lookups and conversion steps):
  * at most `workers` jobs run at once; at most `queue_limit` wait, more get QueueFull (580 ServerBusy);
  * each job runs in the LibreOffice pool's sandbox (bubblewrap: no network, a private /tmp, only /usr, /etc,
    the interpreter, the engine and its own directory visible) with a minimal environment;
  * an OS address-space cap (RLIMIT_AS) on the job and the .NET engine it starts, plus a .NET heap limit set
    below it so the engine stops with "out of memory" instead of dying in the middle of an allocation
    (without the heap limit the .NET runtime reserves more address space than a sane cap allows);
  * a deadline: past it the whole process group is killed and the caller gets CompareTimeout;
  * its own TMPDIR inside its work directory, removed with it (and .NET diagnostics off, whose pipes were left
    in the system temp directory when the engine was killed).
"""
from __future__ import annotations

import asyncio
import json
import logging
import os
import shutil
import signal
import sys
import tempfile
from pathlib import Path

import pageturn

from ..errors import CompareError, CompareTimeout, CompareTooLarge, QueueFull
from ..sandbox import Isolation, clean_env
from .redline import redline_binary

log = logging.getLogger(__name__)

MAX_RESULT_BYTES = 64 << 20         # the change list the job hands back; more is a hostile document
# measured: the engine needs about 700 MB of address space besides its heap (runtime, JIT, thread stacks)
RUNTIME_OVERHEAD_MB = 768
MIN_HEAP_MB = 256


def _kill_group(proc: asyncio.subprocess.Process) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


class CompareRunner:
    """Runs comparison jobs with their own queue, process limit, sandbox, timeout and memory cap."""

    def __init__(self, work_dir: Path, *, workers: int = 1, queue_limit: int = 8, timeout: float = 120,
                 max_memory_mb: int = 2048, isolation: str = "auto"):
        if workers < 1:
            raise ValueError("a comparison needs at least one process")
        self.work_dir = Path(work_dir).resolve()
        self.workers = workers
        self.queue_limit = queue_limit
        self.timeout = timeout
        self.max_memory_mb = max_memory_mb
        self.isolation_wanted = isolation
        self.isolation: Isolation | None = None
        self._binary: str | None = None
        self._slots = asyncio.Semaphore(workers)
        self._running = 0
        self._waiting = 0
        self._ready = asyncio.Lock()

    async def _prepare(self) -> tuple[Isolation, str]:
        """The sandbox mode (probed in `work_dir`) and the engine's path, found once (both take a few blocking
        seconds)."""
        async with self._ready:
            if self.isolation is None or self._binary is None:
                self.work_dir.mkdir(parents=True, exist_ok=True)
                self._binary = await asyncio.to_thread(redline_binary)
                self.isolation = await asyncio.to_thread(Isolation.detect, self.isolation_wanted, self.work_dir)
        return self.isolation, self._binary

    async def start(self) -> None:
        """Warms up (optional: the first comparison does it otherwise)."""
        await self._prepare()

    def stats(self) -> dict:
        return {"workers": self.workers, "running": self._running, "waiting": self._waiting,
                "queue_limit": self.queue_limit}

    async def run(self, original: Path, revised: Path, out_docx: Path) -> list[dict]:
        """Compares two DOCX files: writes the marked redlined copy to render to `out_docx` and returns the change
        list. Raises QueueFull, CompareTimeout, CompareTooLarge or CompareError."""
        if self._slots.locked() and self._waiting >= self.queue_limit:
            raise QueueFull("Too many comparisons are waiting; try again shortly")
        self._waiting += 1
        try:
            await self._slots.acquire()
        finally:
            self._waiting -= 1
        self._running += 1
        try:
            return await self._run(original, revised, out_docx)
        finally:
            self._running -= 1
            self._slots.release()

    def _command(self, isolation: Isolation, job_dir: Path, binary: str) -> list[str]:
        limit = self.max_memory_mb << 20
        cpu_backstop = int(self.timeout * 2) + 30
        # absolute, not resolved: a virtual environment is found from the path its interpreter was started by
        python = os.path.normpath(os.path.abspath(sys.executable))
        argv = [python, "-I", "-m", "pageturn.engines.compare.job", binary, str(limit), str(cpu_backstop)]
        command = isolation.command(job_dir, argv)
        if isolation.mode == "sandbox":
            # the sandbox shows only /usr, /etc and the job's directory: add, read-only, the interpreter's
            # environment, pageturn's code and the engine's build
            extra: list[str] = []
            wanted = (Path(sys.base_prefix), Path(sys.prefix), Path(pageturn.__file__).parent.parent,
                      Path(binary).parent)
            for path in dict.fromkeys(p.resolve() for p in wanted if not str(p.resolve()).startswith("/usr/")):
                extra += ["--ro-bind", str(path), str(path)]
            command[1:1] = extra  # bwrap's own options come first; later mounts (/tmp, the job's dir) stay on top
        return command

    def _env(self, job_dir: Path) -> dict[str, str]:
        env = clean_env(job_dir)
        tmp = job_dir / "tmp"
        heap_mb = max(MIN_HEAP_MB, self.max_memory_mb - RUNTIME_OVERHEAD_MB)
        env.update({
            "TMPDIR": str(tmp),                   # the engine's temp files stay in the job's directory
            "DOTNET_EnableDiagnostics": "0",      # no clr-debug-pipe-* files at all
            "DOTNET_GCHeapHardLimit": f"{heap_mb << 20:#x}",
            "DOTNET_SYSTEM_GLOBALIZATION_INVARIANT": "1",
            "DOTNET_CLI_TELEMETRY_OPTOUT": "1",
            "DOTNET_TieredPGO": "0",
            "PYTHONDONTWRITEBYTECODE": "1",
        })
        return env

    async def _run(self, original: Path, revised: Path, out_docx: Path) -> list[dict]:
        isolation, binary = await self._prepare()
        job_dir = await asyncio.to_thread(self._job_dir, original, revised, out_docx.parent)
        try:
            command = self._command(isolation, job_dir, binary)
            env = self._env(job_dir)
            proc = await asyncio.create_subprocess_exec(
                *command, cwd=job_dir, env=env, stdin=asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE, start_new_session=True)
            try:
                _, stderr = await asyncio.wait_for(proc.communicate(), self.timeout)
            except asyncio.TimeoutError:
                raise CompareTimeout(f"the comparison took longer than {self.timeout:g} s") from None
            finally:
                if proc.returncode is None:  # timed out, or the caller went away: nothing may keep running
                    _kill_group(proc)
                    await proc.wait()
            result = await asyncio.to_thread(self._result, job_dir, proc.returncode, stderr)
            if not result.get("ok"):
                error = CompareTooLarge if result.get("error") == "memory" else CompareError
                raise error(str(result.get("message") or "the comparison failed"))
            await asyncio.to_thread(os.replace, job_dir / "marked.docx", out_docx)
            return list(result["changes"])
        finally:
            await asyncio.to_thread(shutil.rmtree, job_dir, True)

    @staticmethod
    def _job_dir(original: Path, revised: Path, parent: Path) -> Path:
        """A fresh directory the job may write to (beside its output, so the caller's clean-up removes it too),
        with private copies of the two inputs and its TMPDIR."""
        job_dir = Path(tempfile.mkdtemp(prefix="job-", dir=parent))
        (job_dir / "tmp").mkdir()
        shutil.copyfile(original, job_dir / "original.docx")
        shutil.copyfile(revised, job_dir / "revised.docx")
        return job_dir

    def _result(self, job_dir: Path, returncode: int | None, stderr: bytes) -> dict:
        path = job_dir / "result.json"
        if not path.is_file():
            detail = stderr.decode(errors="replace").strip()[-500:]
            if returncode == -signal.SIGKILL or "MemoryError" in detail:
                raise CompareTooLarge("the comparison needed more memory than it may use")
            raise CompareError(f"the comparison stopped ({returncode}): {detail}")
        if path.stat().st_size > MAX_RESULT_BYTES:
            raise CompareTooLarge("the comparison found more changes than can be listed")
        return json.loads(path.read_text())
