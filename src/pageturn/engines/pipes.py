"""The pipes of a child process started with stdin/stdout/stderr=PIPE, typed as present (asyncio types them
Optional because a process may be started without them)."""
from __future__ import annotations

import asyncio


def stdin_of(process: asyncio.subprocess.Process) -> asyncio.StreamWriter:
    assert process.stdin is not None
    return process.stdin


def stdout_of(process: asyncio.subprocess.Process) -> asyncio.StreamReader:
    assert process.stdout is not None
    return process.stdout


def stderr_of(process: asyncio.subprocess.Process) -> asyncio.StreamReader:
    assert process.stderr is not None
    return process.stderr
