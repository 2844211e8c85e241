"""XPS and OpenXPS documents to PDF with libgxps' `xpstopdf` (Debian libgxps-utils; LibreOffice has no XPS
import). The converter runs isolated like LibreOffice (engines/sandbox.py: no network, only its job directory
visible), under an address-space cap and a deadline, and is killed with its process group when either passes."""
from __future__ import annotations

import asyncio
import contextlib
import os
import resource
import shutil
import signal
from pathlib import Path

from .errors import ConversionFailed, ConversionTimeout, MemoryLimitExceeded, UnreadableDocument
from .sandbox import Isolation, clean_env

DEFAULT_MEMORY_MB = 1024


class XpsConverter:
    def __init__(self, *, memory_mb: int = DEFAULT_MEMORY_MB, isolation: str = "auto"):
        self.memory_mb = memory_mb
        self.isolation_wanted = isolation
        self._isolation: Isolation | None = None

    async def convert(self, src: Path, out: Path, *, timeout: float) -> int:
        """Writes `out` and answers its page count."""
        tool = shutil.which("xpstopdf")
        if tool is None:
            raise ConversionFailed("XPS documents need xpstopdf (Debian package libgxps-utils)")
        job = src.parent
        if self._isolation is None:
            self._isolation = await asyncio.to_thread(Isolation.detect, self.isolation_wanted, job,
                                                      what="xpstopdf")
        argv = self._isolation.command(job, [tool, str(src), str(out)])
        limit = self.memory_mb * 1024 * 1024

        def cap() -> None:  # in the child before exec
            resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
            os.setsid()

        process = await asyncio.create_subprocess_exec(
            *argv, stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.PIPE, env=clean_env(job), preexec_fn=cap)
        try:
            _, stderr = await asyncio.wait_for(process.communicate(), timeout)
        except asyncio.TimeoutError:
            raise ConversionTimeout(f"xpstopdf took longer than {timeout:g} s; the conversion was stopped") from None
        finally:
            if process.returncode is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)
                await process.wait()
        detail = stderr.decode("utf-8", "replace").strip().splitlines()[-1:] if stderr else []
        if process.returncode in (-signal.SIGSEGV, -signal.SIGABRT) or "memory" in " ".join(detail).lower():
            raise MemoryLimitExceeded(f"Converting the XPS document needs more than {self.memory_mb} MB")
        if process.returncode != 0 or not out.is_file() or out.stat().st_size == 0:
            raise UnreadableDocument(f"the XPS document could not be read ({(detail or ['no output'])[0][:200]})")
        return await asyncio.to_thread(_page_count, out)


def _page_count(path: Path) -> int:
    import pypdfium2

    from .office import _PDFIUM  # PDFium is not thread-safe: one lock for every user in this process

    with _PDFIUM:
        document = pypdfium2.PdfDocument(str(path))
        try:
            return len(document)
        finally:
            document.close()
