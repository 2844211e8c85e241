"""Stage 1, running the redline: the Docxodus engine (shipped by python-redlines with its own .NET runtime) writes
a DOCX whose differences are Word tracked changes. It runs as a child process of the comparison job, inside the
job's sandbox (see job.py and runner.py)."""
from __future__ import annotations

import functools
import os
import subprocess
import threading
from pathlib import Path

from .ooxml import CompareError

_binary_lock = threading.Lock()


@functools.lru_cache(maxsize=1)
def _cached_binary() -> str:
    from python_redlines import DocxodusEngine  # extracts its .NET build once into the user cache directory
    return DocxodusEngine().extracted_binaries_path


def redline_binary() -> str:
    """Path of the Docxodus `redline` executable (extracted on first use; call at startup to warm it)."""
    with _binary_lock:
        return _cached_binary()


def compare_docx(original: Path, revised: Path, out: Path, author: str = "pageturn", *,
                 detect_moves: bool = True, timeout: float = 120, binary: str | None = None) -> None:
    """Writes to `out` the revised document with every difference from `original` as a Word tracked change.
    `binary`: the engine's path when the caller knows it (the sandboxed job cannot extract it)."""
    env = dict(os.environ)
    env.setdefault("DOTNET_SYSTEM_GLOBALIZATION_INVARIANT", "1")  # no libicu needed
    env.setdefault("DOTNET_CLI_TELEMETRY_OPTOUT", "1")
    env.setdefault("DOTNET_TieredPGO", "0")  # a one-shot process: profiling the JIT costs ~10% and never pays back
    # no debugger/diagnostics IPC: it leaves clr-debug-pipe-* files in the temp directory when the process is killed
    env.setdefault("DOTNET_EnableDiagnostics", "0")
    command = [binary or redline_binary(), str(original), str(revised), str(out), f"--author={author}"]
    if detect_moves:
        command.append("--detect-moves")
    try:
        result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=timeout,
                                stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired as exc:
        raise CompareError(f"the comparison took longer than {timeout:g} s") from exc
    if result.returncode != 0 or not Path(out).is_file():
        detail = (result.stderr or result.stdout or "").strip()[-1000:]
        raise CompareError(f"the comparison engine failed ({result.returncode}): {detail}")

