"""The metadata collections behave the same on SQLite and on a real Redis server."""
from __future__ import annotations

import time
import uuid

import pytest

from pageturn.storage.metadata import RedisMetadataStore, SqliteMetadataStore, open_store


@pytest.fixture(params=["sqlite", "redis"])
def store(request, tmp_path):
    if request.param == "sqlite":
        s = SqliteMetadataStore(tmp_path / "m.sqlite3")
    else:
        s = RedisMetadataStore(request.getfixturevalue("redis_url"), prefix=f"test-{uuid.uuid4().hex}:")
    yield s
    s.close()


def test_put_get_delete(store):
    store.put("session", "a", {"x": 1, "nested": {"y": [1, 2]}}, time.time() + 60)
    assert store.get("session", "a") == {"x": 1, "nested": {"y": [1, 2]}}
    assert store.get("workfile", "a") is None  # kinds are separate collections
    store.put("session", "a", {"x": 2}, time.time() + 60)
    assert store.get("session", "a") == {"x": 2}
    assert store.delete("session", "a") is True
    assert store.get("session", "a") is None
    assert store.delete("session", "a") is False


def test_find_by_ref_and_refs_in_use(store):
    store.put("workfile", "f1", {"n": 1}, time.time() + 60, ref="sha-a")
    store.put("workfile", "f2", {"n": 2}, time.time() + 60, ref="sha-a")
    store.put("workfile", "f3", {"n": 3}, time.time() + 60, ref="sha-b")
    assert sorted(i for i, _ in store.find("workfile", "sha-a")) == ["f1", "f2"]
    assert store.refs("workfile") == {"sha-a", "sha-b"}
    store.delete("workfile", "f3")
    assert store.refs("workfile") == {"sha-a"}
    store.put("workfile", "f2", {"n": 2}, time.time() + 60, ref="sha-c")  # a record's ref can change
    assert [i for i, _ in store.find("workfile", "sha-a")] == ["f1"]
    assert [i for i, _ in store.find("workfile", "sha-c")] == ["f2"]


def test_expired_records_are_listed_not_dropped(store):
    now = time.time()
    store.put("session", "old", {"s": "old"}, now - 5)
    store.put("session", "new", {"s": "new"}, now + 60)
    store.put("session", "forever", {"s": "forever"}, None)
    assert [i for i, _ in store.expired("session", now)] == ["old"]
    assert store.get("session", "old") == {"s": "old"}  # still there for the sweep to clean up
    assert {i for i, _ in store.expired("session", now + 120)} == {"old", "new"}


def test_ping_and_the_store_url(store, tmp_path):
    assert store.ping()
    assert isinstance(open_store("sqlite", tmp_path), SqliteMetadataStore)
    with pytest.raises(ValueError):
        open_store("postgres://x", tmp_path)


def test_redis_keys_carry_a_ttl_past_their_expiry(redis_url):
    import redis
    prefix = f"ttl-{uuid.uuid4().hex}:"
    store = RedisMetadataStore(redis_url, prefix=prefix)
    store.put("session", "s", {"a": 1}, time.time() + 100)
    ttl = redis.Redis.from_url(redis_url).ttl(prefix + "session:r:s")
    assert 100 + RedisMetadataStore.GRACE - 5 < ttl <= 100 + RedisMetadataStore.GRACE + 1
