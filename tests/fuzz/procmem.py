"""Resident memory of a server and every process under it (render workers, LibreOffice and its sandbox), read
from /proc."""
from __future__ import annotations

import os
from dataclasses import dataclass


def children(pid: int) -> list[int]:
    found: list[int] = []
    try:
        for task in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{task}/children") as handle:
                found += [int(p) for p in handle.read().split()]
    except OSError:
        pass
    return found


def descendants(pid: int) -> list[int]:
    out: list[int] = []
    todo = children(pid)
    while todo:
        child = todo.pop()
        out.append(child)
        todo += children(child)
    return out


def _kib_field(path: str, field: str) -> int:
    """A "Field:   123 kB" line of a /proc file, in bytes; 0 when the process or the line is gone."""
    try:
        with open(path) as handle:
            for line in handle:
                if line.startswith(field):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def rss_bytes(pid: int) -> int:
    return _kib_field(f"/proc/{pid}/status", "VmRSS:")


def pss_bytes(pid: int) -> int:
    """Resident memory with each shared page divided among the processes sharing it."""
    return _kib_field(f"/proc/{pid}/smaps_rollup", "Pss:")


def process_name(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as handle:
            args = handle.read().split(b"\0")
        text = b" ".join(args).decode(errors="replace")
        for name in ("pageturn.workers.worker", "soffice", "bwrap", "uno_bridge"):
            if name in text:
                return name
        return os.path.basename(args[0].decode(errors="replace")) if args and args[0] else "?"
    except OSError:
        return "?"


@dataclass
class TreeMemory:
    server: int        # bytes resident in the server process
    children: int      # bytes resident in all its descendants together
    largest_child: int
    largest_child_name: str
    count: int         # number of descendants
    pids: dict[int, str]  # every descendant: pid -> kind (a worker that was replaced shows as a new pid)

    @property
    def total(self) -> int:
        return self.server + self.children


def tree_memory(pid: int) -> TreeMemory:
    sizes = [(rss_bytes(child), child) for child in descendants(pid)]
    largest = max(sizes, default=(0, 0))
    return TreeMemory(server=rss_bytes(pid), children=sum(s for s, _ in sizes), largest_child=largest[0],
                      largest_child_name=process_name(largest[1]) if largest[1] else "", count=len(sizes),
                      pids={child: process_name(child) for _, child in sizes})


def mib(n: int) -> str:
    return f"{n / (1 << 20):.0f} MiB"


def cpu_seconds(pid: int) -> float:
    """CPU time (user + system) of a process and of its children it has waited for."""
    try:
        with open(f"/proc/{pid}/stat") as handle:
            fields = handle.read().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    ticks = sum(int(f) for f in fields[11:15])  # utime, stime, cutime, cstime
    return ticks / os.sysconf("SC_CLK_TCK")


def tree_cpu_seconds(pid: int) -> float:
    """CPU time of a server and every process now under it (finished helpers count in their parent)."""
    return cpu_seconds(pid) + sum(cpu_seconds(child) for child in descendants(pid))
