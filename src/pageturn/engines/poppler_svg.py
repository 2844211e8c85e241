"""A render worker's long-lived SVG renderer (engines/poppler_svg_main.py under /usr/bin/python3).

One helper per render worker, started with it (or on its first SVG page) and kept: the page is drawn by the same
poppler code as `pdftocairo -svg`, without a process start and a re-parse of the PDF for every page. The helper
runs under the same address-space cap as pdftocairo did (LIMITS.svg_memory_mb) and dies with its worker
(PR_SET_PDEATHSIG). A page that takes longer than LIMITS.svg_timeout kills it (the next page starts a new one).
A helper that dies on a page makes that page a CorruptDocument. Where poppler-glib is missing, `available()`
turns false once and engines.svg keeps using pdftocairo per page.
"""
from __future__ import annotations

import json
import os
import select
import struct
import subprocess
import time
from pathlib import Path
from typing import Callable

from .errors import CorruptDocument, EngineError

PYTHON = "/usr/bin/python3"       # Debian's: python3-gi and gir1.2-poppler-0.18 are installed for it only
SCRIPT = Path(__file__).with_name("poppler_svg_main.py")
LENGTH = struct.Struct(">I")
START_TIMEOUT = 30.0


class _Helper:
    def __init__(self, prepare: Callable[[], None]) -> None:
        self.process = subprocess.Popen([PYTHON, "-I", str(SCRIPT)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                        stderr=subprocess.DEVNULL, preexec_fn=prepare, close_fds=True)
        self.ready = False  # it says so once poppler is imported; read before the first request

    def wait_ready(self) -> None:
        if not self.ready:
            status, message = self.read(START_TIMEOUT)
            if status != b"O":
                raise OSError(message.decode("utf-8", "replace"))
            self.ready = True

    def _read_exactly(self, size: int, deadline: float) -> bytes:
        assert self.process.stdout is not None
        fd = self.process.stdout.fileno()
        parts: list[bytes] = []
        while size:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([fd], [], [], left)[0]:
                raise TimeoutError
            chunk = os.read(fd, min(size, 1 << 20))
            if not chunk:
                raise EOFError
            parts.append(chunk)
            size -= len(chunk)
        return b"".join(parts)

    def read(self, timeout: float) -> tuple[bytes, bytes]:
        deadline = time.monotonic() + timeout
        head = self._read_exactly(1 + LENGTH.size, deadline)
        return head[:1], self._read_exactly(LENGTH.unpack(head[1:])[0], deadline)

    def ask(self, path: str, page: int, password: str | None, timeout: float) -> tuple[bytes, bytes]:
        assert self.process.stdin is not None
        request = json.dumps({"path": path, "page": page, "password": password}).encode()
        self.process.stdin.write(LENGTH.pack(len(request)) + request)
        self.process.stdin.flush()
        return self.read(timeout)

    def close(self) -> None:
        self.process.kill()
        self.process.wait()
        for stream in (self.process.stdin, self.process.stdout):
            if stream is not None:
                stream.close()


_helper: _Helper | None = None
_unavailable = not os.access(PYTHON, os.X_OK)


def available() -> bool:
    return not _unavailable


def render(path: str, page: int, password: str | None, *, timeout: float, prepare: Callable[[], None]) -> bytes:
    """Raw SVG of one page (0-based), as pdftocairo would write it. Raises OSError when the helper cannot run here
    (after which available() is false), EngineError on a timeout, CorruptDocument when poppler fails on the page."""
    global _helper, _unavailable
    if _helper is not None and _helper.process.poll() is not None:
        close()  # ended between pages (killed from outside): start a new one rather than fail this page
    try:
        if _helper is None:
            _helper = _Helper(prepare)
        _helper.wait_ready()
    except (OSError, subprocess.SubprocessError, EOFError, TimeoutError):
        close()
        _unavailable = True
        raise OSError("the poppler SVG helper cannot run here") from None
    try:
        status, payload = _helper.ask(os.path.abspath(path), page, password, timeout)
    except TimeoutError:
        close()
        raise EngineError(f"Producing SVG for page {page} took longer than {timeout:g} s") from None
    except (EOFError, BrokenPipeError):
        close()  # killed by its memory cap or crashed on this page: the next page gets a new helper
        raise CorruptDocument(f"Page {page} could not be converted to SVG (the renderer stopped)") from None
    if status != b"O" or not payload.lstrip().startswith((b"<?xml", b"<svg")):
        raise CorruptDocument(f"Page {page} could not be converted to SVG "
                              f"({payload.decode('utf-8', 'replace')[:200] if status != b'O' else 'no SVG'})")
    return payload


def prestart(prepare: Callable[[], None]) -> None:
    """Start the helper now (a worker calls this when it starts) so that the first SVG page does not wait for
    Python and poppler to load; it is read as ready on that first page."""
    global _helper, _unavailable
    if _helper is None and not _unavailable:
        try:
            _helper = _Helper(prepare)
        except (OSError, subprocess.SubprocessError):
            _unavailable = True


def close() -> None:
    """Stop this worker's helper (it is started again by the next SVG page)."""
    global _helper
    if _helper is not None:
        _helper.close()
        _helper = None


def helper_pid() -> int | None:
    return _helper.process.pid if _helper is not None else None
