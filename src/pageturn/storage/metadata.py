"""Metadata storage: named collections of JSON records with an expiry time and one indexed reference.

Storage knows nothing about documents: a record is a dict, `ref` is an opaque string callers may search by
(a work file's sha256, a tenant's key). SQLite is the embedded default; Redis can stand in for several nodes."""
from __future__ import annotations

import json
import sqlite3
import threading
import time
from pathlib import Path
from typing import Any, Iterator, Protocol


class MetadataStore(Protocol):
    def put(self, kind: str, id: str, data: dict, expires_at: float | None, ref: str | None = None) -> None: ...
    def get(self, kind: str, id: str) -> dict | None: ...
    def delete(self, kind: str, id: str) -> bool: ...
    def find(self, kind: str, ref: str) -> list[tuple[str, dict]]: ...
    def expired(self, kind: str, now: float) -> list[tuple[str, dict]]: ...
    def refs(self, kind: str) -> set[str]: ...
    def ping(self) -> bool: ...
    def close(self) -> None: ...


class SqliteMetadataStore:
    """One table, WAL mode. Calls are short and run on the caller's thread under a lock; a single writer
    keeps SQLite happy and each call takes tens of microseconds."""

    def __init__(self, path: Path):
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
        self._lock = threading.Lock()
        with self._lock:
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.execute(
                "CREATE TABLE IF NOT EXISTS records (kind TEXT NOT NULL, id TEXT NOT NULL, data TEXT NOT NULL,"
                " expires_at REAL, ref TEXT, PRIMARY KEY (kind, id))")
            self._db.execute("CREATE INDEX IF NOT EXISTS records_ref ON records (kind, ref)")
            self._db.execute("CREATE INDEX IF NOT EXISTS records_expiry ON records (kind, expires_at)")

    def _rows(self, sql: str, args: tuple) -> Iterator[tuple[str, dict]]:
        with self._lock:
            rows = self._db.execute(sql, args).fetchall()
        for id, data in rows:
            yield id, json.loads(data)

    def put(self, kind: str, id: str, data: dict, expires_at: float | None, ref: str | None = None) -> None:
        with self._lock:
            self._db.execute("INSERT OR REPLACE INTO records (kind, id, data, expires_at, ref) VALUES (?,?,?,?,?)",
                             (kind, id, json.dumps(data, separators=(",", ":")), expires_at, ref))

    def get(self, kind: str, id: str) -> dict | None:
        for _, data in self._rows("SELECT id, data FROM records WHERE kind=? AND id=?", (kind, id)):
            return data
        return None

    def delete(self, kind: str, id: str) -> bool:
        with self._lock:
            return self._db.execute("DELETE FROM records WHERE kind=? AND id=?", (kind, id)).rowcount > 0

    def find(self, kind: str, ref: str) -> list[tuple[str, dict]]:
        return list(self._rows("SELECT id, data FROM records WHERE kind=? AND ref=?", (kind, ref)))

    def expired(self, kind: str, now: float) -> list[tuple[str, dict]]:
        return list(self._rows("SELECT id, data FROM records WHERE kind=? AND expires_at IS NOT NULL"
                               " AND expires_at <= ?", (kind, now)))

    def refs(self, kind: str) -> set[str]:
        with self._lock:
            return {r[0] for r in self._db.execute(
                "SELECT DISTINCT ref FROM records WHERE kind=? AND ref IS NOT NULL", (kind,))}

    def ping(self) -> bool:
        try:
            with self._lock:
                self._db.execute("SELECT 1").fetchone()
            return True
        except sqlite3.Error:
            return False

    def close(self) -> None:
        with self._lock:
            self._db.close()


def now() -> float:
    return time.time()


def dumps(data: Any) -> str:
    return json.dumps(data, separators=(",", ":"))
