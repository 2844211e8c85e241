"""One LibreOffice process and the protocol with it.

A process is uno_bridge.py, run under Debian's /usr/bin/python3 (python3-uno exists only for that interpreter),
which starts one soffice.bin with its own user profile and converts one document at a time. They talk in JSON
lines: a request {"id": n, "op": "convert", ...} on the bridge's stdin, its reply with the same id on stdout (see
uno_bridge.py for the fields). The process lives in a slot directory (profile, scratch, jobs) and is started
through an engines.sandbox.Isolation; its soffice gets an address-space cap (RLIMIT_AS, set from outside with
prlimit once it runs) and its memory is read from /proc for the pool's watch.
"""
from __future__ import annotations

import asyncio
import collections
import json
import logging
import os
import shutil
import signal
import uuid
from pathlib import Path

from . import procmem
from .errors import OfficeUnavailable
from .sandbox import Isolation, clean_env
from .pipes import stderr_of, stdin_of, stdout_of

log = logging.getLogger(__name__)

SYSTEM_PYTHON = "/usr/bin/python3"  # python3-uno is built for Debian's interpreter only
BRIDGE = Path(__file__).resolve().with_name("uno_bridge.py")
STOP_GRACE = 10.0


class BridgeGone(Exception):
    """The bridge or its soffice ended, or stopped listening."""


class OfficeProcess:
    """One bridge + soffice pair in its own slot directory (profile, scratch, jobs)."""

    def __init__(self, index: int, slot: Path, isolation: Isolation, *, address_space_mb: int | None = None,
                 nice: int = 0):
        self.index = index
        self.nice = nice
        self.address_space_mb = address_space_mb
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
        command = self.isolation.command(self.slot, argv, read_only=[BRIDGE])
        if self.nice and shutil.which("nice"):  # below the render workers: pages keep the CPU while soffice starts
            command = ["nice", "-n", str(self.nice), *command]
        self.proc = await asyncio.create_subprocess_exec(
            *command, stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, env=clean_env(self.slot),
            cwd=str(self.slot), start_new_session=True, limit=1 << 20)
        self._stderr_task = asyncio.create_task(self._drainstderr_of(self.proc))
        try:
            line = await asyncio.wait_for(stdout_of(self.proc).readline(), start_timeout + 15)
        except asyncio.TimeoutError:
            await self.kill()
            raise OfficeUnavailable("LibreOffice did not start in time") from None
        ready = parse(line)
        if not ready.get("ready"):
            await self.kill()
            detail = ready.get("message") or " | ".join(self._stderr_tail) or "no output"
            raise OfficeUnavailable(f"LibreOffice did not start: {detail}")
        self.soffice_pid = await asyncio.to_thread(_find_descendant, self.proc.pid, "soffice.bin")
        if self.address_space_mb and self.soffice_pid is not None:
            try:  # the cap is set once soffice runs: LibreOffice's start-up reserves more than it keeps
                procmem.limit_address_space(self.address_space_mb, self.soffice_pid)
            except OSError as exc:
                log.warning("LibreOffice slot %s runs without an address-space cap: %s", self.slot.name, exc)
        self.conversions = 0
        self.state = "ready"
        log.info("LibreOffice %s ready in slot %s (soffice pid %s, isolation %s)", ready.get("version", "?"),
                 self.slot.name, self.soffice_pid, self.isolation.mode)

    async def _drainstderr_of(self, proc: asyncio.subprocess.Process) -> None:
        while True:
            line = await stderr_of(proc).readline()
            if not line:
                return
            text = line.decode("utf-8", "replace").rstrip()
            self._stderr_tail.append(text)
            log.debug("office[%d]: %s", self.index, text)

    async def request(self, message: dict, timeout: float) -> dict:
        """One request and its reply; asyncio.TimeoutError past `timeout`, BridgeGone if the process died."""
        if self.proc is None or self.proc.returncode is not None:
            raise BridgeGone("the LibreOffice process is not running")
        self._request_id += 1
        message = {**message, "id": self._request_id}
        try:
            stdin_of(self.proc).write((json.dumps(message) + "\n").encode())
            await stdin_of(self.proc).drain()
        except (ConnectionError, RuntimeError) as exc:
            raise BridgeGone(f"the LibreOffice process stopped listening ({exc})") from None
        while True:
            line = await asyncio.wait_for(stdout_of(self.proc).readline(), timeout)
            if not line:
                raise BridgeGone("the LibreOffice process exited: " + (" | ".join(list(self._stderr_tail)[-5:])
                                                                         or "no output"))
            reply = parse(line)
            if reply.get("id") == self._request_id:
                return reply

    def memory(self) -> procmem.Memory | None:
        return None if self.soffice_pid is None else procmem.read(self.soffice_pid)

    def rss_mb(self) -> float | None:
        memory = self.memory()
        return None if memory is None else memory.rss_mb

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
                stdin_of(proc).write(b'{"op": "quit"}\n')
                await stdin_of(proc).drain()
                stdin_of(proc).close()
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


def parse(line: bytes) -> dict:
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
