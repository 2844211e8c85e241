"""The comparison job: stages 1-3 (redline, changes, markers) in one short-lived process that runner.py starts in
the sandbox, under an address-space cap, with its own temp directory. Everything that reads the untrusted DOCX
files runs here, never in the server.

    python -m pageturn.engines.compare.job REDLINE_BINARY MAX_MEMORY_BYTES MAX_CPU_SECONDS

works in its current directory: reads original.docx and revised.docx, writes marked.docx (the copy to render)
and result.json: {"ok": true, "changes": [...]} or {"ok": false, "error": "failed" | "memory", "message": ...}.
"""
from __future__ import annotations

import json
import os
import resource
import sys
from pathlib import Path

from .changes import parse_changes
from .markers import add_change_markers
from .ooxml import CompareError
from .redline import compare_docx

MAX_FILE_BYTES = 1 << 30
# what .NET prints when its heap limit (DOTNET_GCHeapHardLimit) or the address-space cap is reached
_OUT_OF_MEMORY = ("OutOfMemory", "Out of memory", "Cannot allocate memory", "GC heap initialization failed")


def _cap(memory: int, cpu_seconds: int) -> None:
    """OS-enforced caps on this process and the .NET child it starts (rlimits are inherited). The CPU limit is
    a backstop only: the runner kills the job at its deadline, this ends one whose runner went away."""
    if memory > 0:
        resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    if cpu_seconds > 0:
        resource.setrlimit(resource.RLIMIT_CPU, (cpu_seconds, cpu_seconds))
    # no file the job writes (the redlined copies, the change list) may fill the data directory's disk
    resource.setrlimit(resource.RLIMIT_FSIZE, (MAX_FILE_BYTES, MAX_FILE_BYTES))


def run(work: Path, binary: str) -> dict:
    original, revised = work / "original.docx", work / "revised.docx"
    redlined, marked = work / "redlined.docx", work / "marked.docx"
    try:
        # the runner bounds the whole job's time; the engine's own timeout only has to outlast it
        compare_docx(original, revised, redlined, binary=binary, timeout=24 * 3600)
        changes = parse_changes(redlined, original, revised)
        add_change_markers(redlined, marked, changes)
    except MemoryError:
        return {"ok": False, "error": "memory", "message": "the comparison needed more memory than it may use"}
    except CompareError as exc:
        message = str(exc)
        kind = "memory" if any(sign in message for sign in _OUT_OF_MEMORY) else "failed"
        if kind == "memory":
            message = "the comparison needed more memory than it may use"
        return {"ok": False, "error": kind, "message": message}
    return {"ok": True, "changes": changes}


def main(argv: list[str]) -> int:
    binary, memory, cpu_seconds = argv[0], int(argv[1]), int(argv[2])
    _cap(memory, cpu_seconds)
    work = Path.cwd()
    result = run(work, binary)
    tmp = work / "result.json.part"
    tmp.write_text(json.dumps(result))
    os.replace(tmp, work / "result.json")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
