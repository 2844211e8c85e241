"""A render worker process: `python -m pageturn.workers.worker '<settings json>'`.

It speaks frames over its standard input (jobs) and standard output (results): an 8-byte big-endian length,
then a pickle. The first frame it writes is ("ready", pid, [job names]). Then, for each job frame
(job_id, name, args, kwargs), it writes (job_id, True, result) or (job_id, False, exception). It runs one job at a
time and exits when its input closes.

Only functions listed in pageturn.engines.jobs.JOBS can be called. Exceptions sent back are engine errors or
built-in exceptions; anything else becomes an EngineError (its traceback goes to this process's stderr), so the
server only ever unpickles those classes. With a memory limit (RLIMIT_AS), an allocation over it raises
MemoryError in Python code: that job answers MemoryLimitExceeded and the worker exits, to be replaced.
"""
from __future__ import annotations

import builtins
import json
import os
import pickle
import select
import signal
import struct
import sys
import traceback
from typing import Any, BinaryIO

HEADER = struct.Struct(">Q")


def write_frame(stream: BinaryIO, message: Any) -> None:
    payload = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
    stream.write(HEADER.pack(len(payload)))
    stream.write(payload)
    stream.flush()


def read_frame(stream: BinaryIO) -> Any | None:
    header = stream.read(HEADER.size)
    if len(header) < HEADER.size:
        return None
    (size,) = HEADER.unpack(header)
    payload = stream.read(size)
    if len(payload) < size:
        return None
    return pickle.loads(payload)  # from the server that started this process


def _sendable(exc: BaseException) -> BaseException:
    """The exception itself when the server may unpickle it, else an EngineError carrying its gist."""
    from pageturn.engines import errors

    if isinstance(exc, MemoryError):  # an allocation hit this process's address-space cap
        return errors.MemoryLimitExceeded()
    cls = type(exc)
    allowed = (cls.__module__ == "builtins" and getattr(builtins, cls.__name__, None) is cls) or \
        (cls.__module__ == errors.__name__ and getattr(errors, cls.__name__, None) is cls)
    if allowed:
        try:
            pickle.loads(pickle.dumps(exc))
            if not isinstance(exc, errors.EngineError):  # a built-in exception: one line, no traceback
                _log_failure(exc, trace=False)
            return exc
        except Exception:
            pass
    _log_failure(exc)
    return errors.EngineError(f"The page could not be rendered ({cls.__name__})")


_log = {"format": "text", "request_id": "-", "job": ""}  # set per job: what this worker's log lines carry


def _log_failure(exc: BaseException, *, trace: bool = True) -> None:
    """A job's unexpected failure on stderr (the server's log), with the request id the job came with: a JSON
    object on one line when the server logs JSON, else the traceback after a plain line."""
    if _log["format"] == "json":
        import datetime
        sys.stderr.write(json.dumps({
            "time": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="milliseconds").replace(
                "+00:00", "Z"), "level": "error", "logger": "pageturn.worker", "pid": os.getpid(),
            "message": f"render job {_log['job']} failed: {type(exc).__name__}: {exc}"[:2000],
            "request_id": _log["request_id"],
            **({"exception": "".join(traceback.format_exception(exc))} if trace else {})}) + "\n")
        sys.stderr.flush()
        return
    print(f"pageturn.worker [{_log['request_id']}]: render job {_log['job']} failed (pid {os.getpid()}): "
          f"{type(exc).__name__}: {exc}"[:2000], file=sys.stderr)
    if trace:
        traceback.print_exception(exc, file=sys.stderr)


def _idle(jobs_in: BinaryIO) -> bool:
    """No next job waiting on the input (one already read into its buffer is missed: harmless)."""
    try:
        return not select.select([jobs_in], [], [], 0)[0]
    except (OSError, ValueError):
        return False


def serve(jobs_in: BinaryIO, results_out: BinaryIO, settings: dict[str, Any], prestart: bool = False) -> None:
    from pageturn.engines import jobs

    from pageturn.engines import errors, procmem

    memory_mb = settings.pop("memory_limit_mb", None)
    _log["format"] = settings.pop("log_format", "text")
    if memory_mb:
        procmem.limit_address_space(int(memory_mb))
    jobs.configure(**settings)
    if prestart:
        from pageturn.engines import svg
        svg.prestart()  # the SVG renderer loads while the worker waits for its first job
    write_frame(results_out, ("ready", os.getpid(), sorted(jobs.JOBS)))
    from pageturn import malloc
    while True:
        message = read_frame(jobs_in)
        if message is None:
            return
        job_id, name, args, kwargs, *rest = message
        _log["request_id"], _log["job"] = (rest[0] if rest else "-"), name
        function = jobs.JOBS.get(name)
        try:
            if function is None:
                raise ValueError(f"{name!r} is not a render job")
            reply = (job_id, True, function(*args, **kwargs))
        except BaseException as exc:  # noqa: BLE001 - every failure goes back to the caller
            if isinstance(exc, (KeyboardInterrupt, SystemExit)):
                raise
            reply = (job_id, False, _sendable(exc))
        write_frame(results_out, reply)
        if isinstance(reply[2], errors.MemoryLimitExceeded):
            return  # what a failed allocation left behind is unknown: the pool starts a fresh process
        del reply, message
        if _idle(jobs_in):
            # what the job freed goes back to the system while nothing waits (pageturn/malloc.py): a worker that
            # had rendered large pages stayed 30 MB larger for good
            malloc.trim()


def main() -> None:
    # Ctrl-C in a terminal reaches the whole process group: the server decides when workers stop.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    settings = json.loads(sys.argv[1]) if len(sys.argv) > 1 else {}
    # Results go over the original stdout; fd 1 then points at stderr so stray prints from native libraries or
    # child processes cannot corrupt the frames.
    results_out = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    serve(sys.stdin.buffer, results_out, settings, prestart=True)


if __name__ == "__main__":
    main()
