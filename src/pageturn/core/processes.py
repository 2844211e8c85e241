"""PrizmDoc processes (POST, then poll GET by processId): records in the metadata store, so any node answers the
poll; the work itself runs as a task on the node that accepted the POST.

A process that fails ends with HTTP 200 and `state: "error"` plus an `errorCode` (the spec's final-status
errors). The node running a process keeps a heartbeat in its record; a process whose node stopped beating (a
crash, a restart) is ended by the next sweep of any node with `errorCode: "ProcessInterrupted"`: its work
cannot be picked up elsewhere (it was given as code, not as data), so it is told as interrupted rather than left
"processing" until it expires."""
from __future__ import annotations

import asyncio
import logging
from typing import Any, Awaitable, Callable, TypedDict, cast

from ..clock import Clock, system_clock
from ..storage.metadata import MetadataStore
from .errors import DomainError
from .process_records import ProcessRecords
from .workfiles import iso

log = logging.getLogger(__name__)

KIND = "markupprocess"   # its own collection: other process APIs keep theirs


class ProcessRecord(TypedDict):
    processId: str
    type: str                 # markupBurner, redactionCreator, plainTextRedactor, sessionMarkupBurner
    input: dict[str, Any]
    state: str                # processing, complete, error
    percentComplete: int
    output: dict[str, Any] | None
    errorCode: str | None
    errorDetails: Any
    affinityToken: str | None
    owner: str | None         # the viewing session of a session-scoped process
    created: float
    expires: float


class ProcessFailed(Exception):
    """A final-status error: the process ends with this errorCode (HTTP 200, state "error")."""

    def __init__(self, error_code: str, details: Any = None, percent: int = 100):
        super().__init__(error_code)
        self.error_code = error_code
        self.details = details
        self.percent = percent


Work = Callable[[ProcessRecord], Awaitable[dict[str, Any]]]


class Processes:
    def __init__(self, store: MetadataStore, *, clock: Clock = system_clock, default_lifetime: float = 1200):
        self.records = ProcessRecords(store, KIND, clock=clock)
        self.default_lifetime = default_lifetime
        self._tasks: set[asyncio.Task[None]] = set()
        self._running: set[str] = set()   # ids of the processes this node is running

    def start(self, kind: str, input: dict[str, Any], work: Work, *, min_seconds: int | None = None,
              affinity_token: str | None = None, owner: str | None = None) -> ProcessRecord:
        created, expires = self.records.lifetime(self.default_lifetime, min_seconds)
        record: ProcessRecord = {
            "processId": self.records.new_id(), "type": kind, "input": input, "state": "processing",
            "percentComplete": 0, "output": None, "errorCode": None, "errorDetails": None,
            "affinityToken": affinity_token, "owner": owner, "created": created, "expires": expires,
        }
        self.records.beat(cast(dict, record))
        task = asyncio.create_task(self._run(record, work))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return record

    async def _run(self, record: ProcessRecord, work: Work) -> None:
        self._running.add(record["processId"])
        beat = asyncio.create_task(self.records.keep_beating(cast(dict, record)))
        try:
            await self._work(record, work)
        finally:
            beat.cancel()
            self._running.discard(record["processId"])

    async def _work(self, record: ProcessRecord, work: Work) -> None:
        try:
            output = await work(record)
            record.update({"state": "complete", "percentComplete": 100, "output": output})
        except ProcessFailed as exc:
            record.update({"state": "error", "percentComplete": exc.percent, "errorCode": exc.error_code,
                           "errorDetails": exc.details})
        except DomainError as exc:
            record.update({"state": "error", "percentComplete": 100, "errorCode": exc.error_code or "InternalError",
                           "errorDetails": exc.details if exc.details is not None else {"message": exc.message}})
        except Exception:  # never a hung process: the unexpected is logged and told as InternalError
            log.exception("%s process failed", record["type"])
            record.update({"state": "error", "percentComplete": 100, "errorCode": "InternalError"})
        self.records.beat(cast(dict, record))

    def get(self, kind: str, process_id: str, owner: str | None = None) -> ProcessRecord | None:
        found = self.records.load(process_id)
        if found is None or found["type"] != kind or found.get("owner") != owner:
            return None
        return cast(ProcessRecord, found)

    @staticmethod
    def describe(record: ProcessRecord, *, echo_input: bool = True) -> dict[str, Any]:
        out: dict[str, Any] = {"processId": record["processId"], "expirationDateTime": iso(record["expires"]),
                               "input": record["input"] if echo_input else None, "state": record["state"],
                               "percentComplete": record["percentComplete"]}
        if record["affinityToken"]:
            out["affinityToken"] = record["affinityToken"]
        if record["state"] == "complete":
            out["output"] = record["output"]
        if record["state"] == "error":
            out["errorCode"] = record["errorCode"]
            if record["errorDetails"] is not None:
                out["errorDetails"] = record["errorDetails"]
        return out

    def sweep(self) -> int:
        for process_id, found in list(self.records.running()):
            if process_id not in self._running and found["state"] == "processing" and self.records.stale(found):
                found.update({"state": "error", "percentComplete": 100, "errorCode": "ProcessInterrupted",
                              "errorDetails": {"message": "The server running this process stopped before it "
                                                          "finished; start it again"}})
                self.records.beat(found)
        return self.records.sweep()

    async def wait_idle(self) -> None:
        """Lets running processes finish (shutdown)."""
        if self._tasks:
            await asyncio.wait(list(self._tasks), timeout=30)
