"""Giving freed memory back to the system (glibc's malloc_trim; nothing elsewhere).

glibc keeps memory a process freed: once a large block (a 25 MB page image, an 800 kB PNG answer) has been
freed, its mmap threshold rises and later blocks of that size come from heaps it seldom shrinks, so a process
that once handled a large page stays tens of MB larger. Trimming returns those pages; it takes well under a
millisecond on a heap of a few hundred MB."""
from __future__ import annotations

import ctypes
from typing import Callable

_trim: Callable[[int], int] | None
try:
    # glibc's soname, not ctypes.util.find_library: that runs `ldconfig -p` in a child process on every start
    _trim = ctypes.CDLL("libc.so.6").malloc_trim
except (OSError, AttributeError):  # not glibc: nothing to do
    _trim = None


def trim() -> None:
    if _trim is not None:
        _trim(0)
