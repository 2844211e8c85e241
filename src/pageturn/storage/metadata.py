"""Metadata storage: named collections of JSON records with an expiry time and one indexed reference.

Storage knows nothing about documents: a record is a dict, `ref` is an opaque string callers may search by
(a work file's sha256, a tenant's key). SQLite is the embedded default; Redis can stand in for several nodes."""
from __future__ import annotations

import json
import sqlite3
import threading
import time
from pathlib import Path
from typing import Any, Iterator, Mapping, Protocol


class MetadataStore(Protocol):
    def put(self, kind: str, id: str, data: Mapping[str, Any], expires_at: float | None,
            ref: str | None = None) -> None: ...
    def get(self, kind: str, id: str) -> dict | None: ...
    def delete(self, kind: str, id: str) -> bool: ...
    def find(self, kind: str, ref: str) -> list[tuple[str, dict]]: ...
    def expired(self, kind: str, now: float) -> list[tuple[str, dict]]: ...
    def refs(self, kind: str) -> set[str]: ...
    def count(self, kind: str, expiring_after: float) -> int: ...
    def ping(self) -> bool: ...
    def close(self) -> None: ...
    # A named lock with an expiry, for work that must run once however many nodes share this store: `owner`
    # takes it when free (or expired) and keeps it by calling again before `ttl` seconds pass.
    def acquire_lock(self, name: str, owner: str, ttl: float) -> bool: ...
    def release_lock(self, name: str, owner: str) -> None: ...


class LocalLocks:
    """Locks within one process: enough for SQLite, whose data directory one node owns."""

    def __init__(self) -> None:
        self._held: dict[str, tuple[str, float]] = {}
        self._guard = threading.Lock()

    def acquire_lock(self, name: str, owner: str, ttl: float) -> bool:
        now = time.monotonic()
        with self._guard:
            holder = self._held.get(name)
            if holder is not None and holder[0] != owner and holder[1] > now:
                return False
            self._held[name] = (owner, now + ttl)
            return True

    def release_lock(self, name: str, owner: str) -> None:
        with self._guard:
            if self._held.get(name, ("",))[0] == owner:
                del self._held[name]


class SqliteMetadataStore(LocalLocks):
    """One table, WAL mode. Calls are short and run on the caller's thread under a lock; a single writer
    keeps SQLite happy and each call takes tens of microseconds."""

    def __init__(self, path: Path):
        super().__init__()
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

    def put(self, kind: str, id: str, data: Mapping[str, Any], expires_at: float | None,
            ref: str | None = None) -> None:
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

    def count(self, kind: str, expiring_after: float) -> int:
        with self._lock:
            return self._db.execute("SELECT COUNT(*) FROM records WHERE kind=? AND (expires_at IS NULL OR "
                                    "expires_at > ?)", (kind, expiring_after)).fetchone()[0]

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


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


def now() -> float:
    return time.time()


def dumps(data: Any) -> str:
    return json.dumps(data, separators=(",", ":"))


class RedisMetadataStore:
    """The same collections in Redis, for several nodes sharing state (with a shared data directory).

    A record is `{prefix}{kind}:r:{id}` (JSON); `{prefix}{kind}:exp` is a sorted set of ids by expiry, so the sweep
    still sees what has expired (it must remove private data) instead of Redis dropping it unseen; each `ref`
    has a set of ids, and `{prefix}{kind}:refs` the refs in use. Keys also get a Redis TTL a day past their
    expiry, so nothing outlives its time even if no node sweeps."""

    GRACE = 86400

    def __init__(self, url: str, prefix: str = "pageturn:"):
        import redis
        self._redis = redis.Redis.from_url(url, socket_timeout=5, socket_connect_timeout=5)
        self._prefix = prefix

    def _key(self, kind: str, *parts: str) -> str:
        return self._prefix + ":".join((kind, *parts))

    def put(self, kind: str, id: str, data: Mapping[str, Any], expires_at: float | None,
            ref: str | None = None) -> None:
        key = self._key(kind, "r", id)
        old = self._redis.hget(self._key(kind, "ref-of"), id)
        pipe = self._redis.pipeline(transaction=True)
        pipe.set(key, dumps(data))
        if expires_at is not None:
            pipe.zadd(self._key(kind, "exp"), {id: expires_at})
            pipe.expireat(key, int(expires_at + self.GRACE))
        else:
            pipe.zrem(self._key(kind, "exp"), id)
            pipe.persist(key)
        if old is not None and _text(old) != ref:
            self._unlink_ref(pipe, kind, id, _text(old))
        if ref is not None:
            pipe.sadd(self._key(kind, "ref", ref), id)
            pipe.sadd(self._key(kind, "refs"), ref)
            pipe.hset(self._key(kind, "ref-of"), id, ref)
        pipe.execute()

    def _unlink_ref(self, pipe, kind: str, id: str, ref: str) -> None:
        pipe.srem(self._key(kind, "ref", ref), id)
        pipe.hdel(self._key(kind, "ref-of"), id)

    def get(self, kind: str, id: str) -> dict | None:
        raw = self._redis.get(self._key(kind, "r", id))
        return None if raw is None else json.loads(raw)

    def delete(self, kind: str, id: str) -> bool:
        ref = self._redis.hget(self._key(kind, "ref-of"), id)
        pipe = self._redis.pipeline(transaction=True)
        pipe.delete(self._key(kind, "r", id))
        pipe.zrem(self._key(kind, "exp"), id)
        if ref is not None:
            self._unlink_ref(pipe, kind, id, _text(ref))
        removed = pipe.execute()[0] > 0
        if ref is not None and not self._redis.scard(self._key(kind, "ref", _text(ref))):
            self._redis.srem(self._key(kind, "refs"), ref)
        return removed

    def _records(self, kind: str, ids: list) -> list[tuple[str, dict]]:
        if not ids:
            return []
        names = [_text(i) for i in ids]
        values = self._redis.mget([self._key(kind, "r", i) for i in names])
        return [(i, json.loads(v)) for i, v in zip(names, values) if v is not None]

    def find(self, kind: str, ref: str) -> list[tuple[str, dict]]:
        return self._records(kind, list(self._redis.smembers(self._key(kind, "ref", ref))))

    def expired(self, kind: str, now: float) -> list[tuple[str, dict]]:
        return self._records(kind, self._redis.zrangebyscore(self._key(kind, "exp"), "-inf", now))

    def refs(self, kind: str) -> set[str]:
        return {_text(r) for r in self._redis.smembers(self._key(kind, "refs"))}

    def count(self, kind: str, expiring_after: float) -> int:
        return int(self._redis.zcount(self._key(kind, "exp"), f"({expiring_after}", "+inf"))

    # acquire or extend when ours; release only when still ours (an expired lock may have a new owner)
    _ACQUIRE = ("if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) end "
                "return redis.call('set', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) and 1 or 0")
    _RELEASE = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end return 0"

    def acquire_lock(self, name: str, owner: str, ttl: float) -> bool:
        return bool(self._redis.eval(self._ACQUIRE, 1, self._key("lock", name), owner, max(1, int(ttl * 1000))))

    def release_lock(self, name: str, owner: str) -> None:
        self._redis.eval(self._RELEASE, 1, self._key("lock", name), owner)

    def ping(self) -> bool:
        try:
            return bool(self._redis.ping())
        except Exception:
            return False

    def close(self) -> None:
        self._redis.close()


def open_store(url: str, data_dir: Path) -> MetadataStore:
    """`sqlite` (embedded, in the data directory) or a `redis://` URL."""
    if not url or url == "sqlite":
        return SqliteMetadataStore(data_dir / "metadata.sqlite3")
    if url.startswith(("redis://", "rediss://", "unix://")):
        return RedisMetadataStore(url)
    raise ValueError(f"metadata must be 'sqlite' or a redis:// URL, not {url!r}")
