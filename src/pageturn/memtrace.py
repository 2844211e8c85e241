"""A debugging aid for memory: with PAGETURN_TRACEMALLOC=<file> in the environment, the server traces its Python
allocations (tracemalloc, which slows it) and writes a snapshot to <file> on each SIGUSR2; read one with
`tracemalloc.Snapshot.load(<file>).statistics("lineno")`, or compare two. Off (and free) without the variable."""
from __future__ import annotations

import logging
import os
import signal
import tracemalloc

log = logging.getLogger(__name__)
VARIABLE = "PAGETURN_TRACEMALLOC"


def install() -> None:
    target = os.environ.get(VARIABLE)
    if not target:
        return
    tracemalloc.start(int(os.environ.get(VARIABLE + "_FRAMES", "1")))

    def dump(_signum: int, _frame: object) -> None:
        snapshot = tracemalloc.take_snapshot()
        snapshot.dump(target + ".tmp")
        os.replace(target + ".tmp", target)  # a reader never sees half a snapshot
        log.warning("tracemalloc snapshot written to %s (%.1f MiB traced)", target,
                    tracemalloc.get_traced_memory()[0] / (1 << 20))

    signal.signal(signal.SIGUSR2, dump)
    log.warning("tracing Python allocations (%s is set): SIGUSR2 writes a snapshot to %s", VARIABLE, target)
