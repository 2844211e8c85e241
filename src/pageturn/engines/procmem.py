"""Memory figures of a process read from /proc (Linux), for the pools' memory watch.

The caps themselves are enforced by the kernel (RLIMIT_AS); these readings serve to stop a process before it
reaches a cap that cannot be set low enough (LibreOffice reserves far more address space than it uses) and to
tell, when a process died, whether it died of its cap or of something else.
"""
from __future__ import annotations

import resource
from dataclasses import dataclass

MB = 1024 * 1024


@dataclass(frozen=True)
class Memory:
    rss_mb: float      # resident now
    size_mb: float     # address space now (what RLIMIT_AS counts)
    peak_mb: float     # the largest address space it ever had (so a reading misses no peak between readings)


def read(pid: int) -> Memory | None:
    """None when the process is gone (or is a zombie, which has no memory left)."""
    values: dict[str, int] = {}
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                name, _, value = line.partition(":")
                if name in ("VmRSS", "VmSize", "VmPeak"):
                    values[name] = int(value.split()[0])
    except (OSError, ValueError):
        return None
    if "VmRSS" not in values:
        return None
    size = values.get("VmSize", 0)
    return Memory(values["VmRSS"] / 1024, size / 1024, max(size, values.get("VmPeak", 0)) / 1024)


def limit_address_space(mb: int, pid: int = 0) -> None:
    """Sets RLIMIT_AS of a process (0: this one) to `mb` MiB: past it allocations fail instead of growing."""
    limit = int(mb) * MB
    resource.prlimit(pid, resource.RLIMIT_AS, (limit, limit))
