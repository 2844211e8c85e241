"""The records of one kind of PrizmDoc process (POST, then poll GET by processId) in the metadata store (SQLite, or
Redis shared by several nodes, so any node answers the poll): ids, lifetime and expiry, saving, the ref that
marks a running process (for taking over processes whose node stopped), and sweeping expired records.

What a record holds and how a process runs stay with its API (core.conversions, core.processes)."""
from __future__ import annotations

import asyncio
from typing import Any, Iterator, Mapping

from ..clock import Clock, system_clock
from ..storage.metadata import MetadataStore
from .ids import is_valid_id, new_file_id

RUNNING = "processing"  # the store ref of a record whose process is running (saved with running=True)
HEARTBEAT = 2.0         # seconds between a running process's heartbeats
STALE_AFTER = 15.0      # a heartbeat older than this means the node running it is gone


class ProcessRecords:
    def __init__(self, store: MetadataStore, kind: str, *, clock: Clock = system_clock):
        self.store = store
        self.kind = kind   # the store collection: each process API keeps its own
        self.clock = clock

    @staticmethod
    def new_id() -> str:
        return new_file_id()

    def lifetime(self, default: float, min_seconds: float | None) -> tuple[float, float]:
        """(created, expires) for a new record: kept `default` seconds, or `min_seconds` if the client asked
        for longer."""
        created = self.clock()
        return created, created + max(default, float(min_seconds or 0))

    def save(self, record: Mapping[str, Any], *, running: bool = False) -> None:
        self.store.put(self.kind, record["processId"], record, record["expires"], ref=RUNNING if running else None)

    def beat(self, record: dict) -> None:
        """Save a record with the time of its heartbeat (running while its state is "processing")."""
        record["heartbeat"] = self.clock()
        self.save(record, running=record["state"] == "processing")

    async def keep_beating(self, record: dict) -> None:
        """The heartbeat of a process running on this node, until cancelled."""
        while True:
            await asyncio.sleep(HEARTBEAT)
            if record["state"] == "processing":
                self.beat(record)

    def stale(self, record: Mapping[str, Any]) -> bool:
        """Whether the node running this record's process has stopped beating."""
        return self.clock() - record.get("heartbeat", 0) > STALE_AFTER

    def load(self, process_id: str) -> dict | None:
        """The record of `process_id`, or None when the id is malformed, unknown or expired."""
        record = self.store.get(self.kind, process_id) if is_valid_id(process_id) else None
        if record is None or record["expires"] <= self.clock():
            return None
        return record

    def running(self) -> Iterator[tuple[str, dict]]:
        """Records saved as running that have not expired (possibly run by a node that stopped)."""
        at = self.clock()
        for process_id, record in self.store.find(self.kind, RUNNING):
            if record["expires"] > at:
                yield process_id, record

    def sweep(self) -> int:
        """Removes expired records; returns how many."""
        removed = 0
        for process_id, _ in self.store.expired(self.kind, self.clock()):
            removed += self.store.delete(self.kind, process_id)
        return removed
