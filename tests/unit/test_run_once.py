"""Work that runs once across nodes: the metadata stores' expiring locks (in-process for SQLite, Redis for a
cluster) and run_once over them."""
from __future__ import annotations

import asyncio
import time

import pytest

from pageturn.core.run_once import run_once
from pageturn.storage.metadata import RedisMetadataStore, SqliteMetadataStore


@pytest.fixture(params=["sqlite", "redis"])
def store(request, tmp_path):
    if request.param == "sqlite":
        s = SqliteMetadataStore(tmp_path / "m.sqlite3")
    else:
        url = request.getfixturevalue("redis_url").rsplit("/", 1)[0] + "/5"
        s = RedisMetadataStore(url, prefix=f"test-{time.monotonic_ns()}:")
    yield s
    s.close()


def wait_for(condition, timeout=10.0):
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.01)


def test_a_lock_has_one_holder_until_released_or_expired(store):
    assert store.acquire_lock("convert:x", "node-a", 30)
    assert not store.acquire_lock("convert:x", "node-b", 30)
    assert store.acquire_lock("convert:x", "node-a", 30)  # renewal by its holder
    store.release_lock("convert:x", "node-b")  # not its lock: nothing happens
    assert not store.acquire_lock("convert:x", "node-b", 30)
    store.release_lock("convert:x", "node-a")
    assert store.acquire_lock("convert:x", "node-b", 0.2)
    # node-b dies without releasing: its lock expires and another takes it
    wait_for(lambda: store.acquire_lock("convert:x", "node-c", 30))
    assert store.acquire_lock("convert:other", "node-b", 30)  # locks are by name


def test_run_once_runs_the_work_once_and_the_others_get_its_result(store):
    done = []
    started = asyncio.Event()

    async def work():
        started.set()
        await asyncio.sleep(0.2)
        done.append("result")

    async def main():
        first = asyncio.create_task(run_once(store, "convert:y", lambda: bool(done), work, max_wait=10))
        await started.wait()
        second = await run_once(store, "convert:y", lambda: bool(done), work, max_wait=10, poll=0.01)
        return await first, second
    assert asyncio.run(main()) == (True, False)
    assert done == ["result"]


def test_a_dead_holder_blocks_only_until_its_lock_expires(store):
    assert store.acquire_lock("convert:z", "dead-node", 0.3)
    ran = []

    async def work():
        ran.append(True)
    took = asyncio.run(run_once(store, "convert:z", lambda: False, work, max_wait=10, poll=0.02))
    assert took and ran == [True]
