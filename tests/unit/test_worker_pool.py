"""The render worker pool: real worker processes, real jobs, real crashes (SIGKILL) and timeouts."""
from __future__ import annotations

import asyncio
import io
import os
import pickle
import signal
import time

import pytest

import docgen
from pageturn.engines.errors import (JobTimeout, MemoryLimitExceeded, PageOutOfRange, PasswordRequired, PoolBusy,
                                     PoolClosed, SvgNotAvailable, WorkerCrashed)
from pageturn.engines.health import Health
from pageturn.workers import worker as worker_module
from pageturn.workers.pool import WorkerPool, _load_result

# A 600 dpi A4 PNG: ~35 million pixels, well over half a second of work, under the default pixel limit.
SLOW = {"dpi": 600}


@pytest.fixture(scope="module")
def documents(tmp_path_factory):
    directory = tmp_path_factory.mktemp("pool")
    known = directory / "known.pdf"
    known.write_bytes(docgen.make_pdf()[0])
    encrypted = directory / "encrypted.pdf"
    encrypted.write_bytes(docgen.make_encrypted_pdf("secret"))
    image = directory / "image.png"
    image.write_bytes(docgen.make_png())
    return {"pdf": str(known), "encrypted": str(encrypted), "image": str(image)}


def run(scenario, **pool_options):
    """Run `scenario(pool)` on a fresh started pool inside a new event loop, stopping the pool afterwards."""
    async def main():
        pool = WorkerPool(pool_options.pop("size", 2), **{"job_timeout": 60, **pool_options})
        await pool.start()
        try:
            return await scenario(pool)
        finally:
            await pool.stop()
    return asyncio.run(main())


def keys_for_each_worker(pool: WorkerPool) -> list[str]:
    keys: dict[int, str] = {}
    for n in range(1000):
        keys.setdefault(pool.home(f"doc-{n}"), f"doc-{n}")
        if len(keys) == pool.size:
            break
    return [keys[i] for i in range(pool.size)]


def test_jobs_return_results_and_the_same_key_goes_to_the_same_worker(documents):
    async def scenario(pool):
        first, second = keys_for_each_worker(pool)
        info = await pool.run(first, "document_info", documents["pdf"], "pdf")
        assert info["pageCount"] == 4
        png = await pool.run(first, "render_raster", documents["pdf"], "pdf", 0, fmt="png", fit=(100, 100))
        assert png.startswith(b"\x89PNG")
        pids = pool.worker_pids()
        assert len(set(pids)) == 2 and None not in pids
        for _ in range(5):
            assert (await pool.run(first, "ping"))["pid"] == pids[pool.home(first)]
            assert (await pool.run(second, "ping"))["pid"] == pids[pool.home(second)]
        assert isinstance(pool, Health) and pool.healthy()
    run(scenario)


def test_idle_workers_take_waiting_jobs_unless_stealing_is_off(documents):
    async def scenario(pool):
        key = "one-document"
        await asyncio.gather(*(pool.run(key, "render_raster", documents["pdf"], "pdf", page % 4, dpi=200)
                               for page in range(8)))
        return [w["jobs"] for w in pool.worker_stats()]

    assert all(jobs > 0 for jobs in run(scenario))            # one document kept both workers busy
    strict = run(scenario, steal=False)
    assert sorted(strict) == [0, 8]                            # strict affinity: one worker did all


def test_engine_errors_arrive_as_the_same_class(documents):
    async def scenario(pool):
        with pytest.raises(PageOutOfRange, match="outside"):
            await pool.run("k", "page_text", documents["pdf"], "pdf", 9)
        with pytest.raises(PasswordRequired, match="requires a password"):
            await pool.run("k", "document_info", documents["encrypted"], "pdf")
        assert (await pool.run("k", "document_info", documents["encrypted"], "pdf",
                               password="secret"))["pageCount"] == 4
        with pytest.raises(SvgNotAvailable):
            await pool.run("k", "render_svg", documents["image"], "image", 0)
        with pytest.raises(ValueError, match="scale"):
            await pool.run("k", "render_raster", documents["pdf"], "pdf", 0, scale=-1)
        with pytest.raises(ValueError, match="not a render job"):
            await pool.run("k", "system", "echo hi")
        assert (await pool.run("k", "ping"))["pid"] in pool.worker_pids()   # the worker survived all that
    run(scenario)


def test_killed_worker_fails_its_job_fast_and_queued_jobs_run_on_the_replacement(documents):
    async def scenario(pool):
        key = "victim"
        victim = pool.worker_pids()[pool.home(key)]
        slow = asyncio.create_task(pool.run(key, "render_raster", documents["pdf"], "pdf", 0, **SLOW))
        queued = asyncio.create_task(pool.run(key, "document_info", documents["pdf"], "pdf"))
        await asyncio.sleep(0.2)
        os.kill(victim, signal.SIGKILL)
        killed_at = time.monotonic()
        with pytest.raises(WorkerCrashed, match="SIGKILL"):
            await slow
        assert time.monotonic() - killed_at < 3
        assert (await queued)["pageCount"] == 4
        assert (await pool.run(key, "render_raster", documents["pdf"], "pdf", 0, fit=(50, 50))).startswith(b"\x89PNG")
        await wait_for(lambda: None not in pool.worker_pids())
        assert victim not in pool.worker_pids()
        assert pool.stats.crashed == 1
    run(scenario, steal=False)


def test_job_over_its_timeout_kills_the_worker_which_is_replaced(documents):
    async def scenario(pool):
        key = "slow"
        before = pool.worker_pids()[pool.home(key)]
        started = time.monotonic()
        with pytest.raises(JobTimeout):
            await pool.run(key, "render_raster", documents["pdf"], "pdf", 0, timeout=0.2, **SLOW)
        assert time.monotonic() - started < 2
        assert (await pool.run(key, "ping"))["pid"] != before
        await wait_for(lambda: None not in pool.worker_pids())
        assert pool.stats.timed_out == 1 and pool.stats.crashed == 0
    run(scenario, steal=False)


def test_default_job_timeout_applies(documents):
    async def scenario(pool):
        with pytest.raises(JobTimeout, match="0.2 s"):
            await pool.run("k", "render_raster", documents["pdf"], "pdf", 0, **SLOW)
        assert "pid" in await pool.run("k", "ping")
    run(scenario, size=1, job_timeout=0.2)


def test_event_loop_keeps_running_while_workers_render(documents):
    async def scenario(pool):
        gaps, last = [], time.monotonic()
        render = asyncio.create_task(pool.run("k", "render_raster", documents["pdf"], "pdf", 0, **SLOW))
        while not render.done():
            await asyncio.sleep(0.01)
            now = time.monotonic()
            gaps.append(now - last)
            last = now
        assert len(await render) > 1000
        assert len(gaps) > 10 and max(gaps) < 0.25
    run(scenario, size=1)


def test_workers_are_recycled_after_max_jobs():
    async def scenario(pool):
        first = (await pool.run("k", "ping"))["pid"]
        assert (await pool.run("k", "ping"))["pid"] == first
        assert (await pool.run("k", "ping"))["pid"] != first
        assert pool.stats.recycled >= 1 and pool.stats.crashed == 0
    run(scenario, size=1, max_jobs=2)


def test_full_queue_is_refused_and_a_cancelled_caller_leaves_the_queue(documents):
    async def scenario(pool):
        busy = asyncio.create_task(pool.run("k", "render_raster", documents["pdf"], "pdf", 0, **SLOW))
        await asyncio.sleep(0.05)
        waiting = asyncio.create_task(pool.run("k", "ping"))
        await asyncio.sleep(0.05)
        with pytest.raises(PoolBusy):
            await pool.run("k", "ping")
        waiting.cancel()
        await asyncio.sleep(0)
        assert pool.queued() == 0
        assert len(await busy) > 1000
    run(scenario, size=1, max_queue=1)


def test_stop_fails_waiting_jobs_and_later_runs():
    async def main():
        pool = WorkerPool(1, job_timeout=30)
        await pool.start()
        pid = pool.worker_pids()[0]
        jobs = [asyncio.create_task(pool.run("k", "ping")) for _ in range(3)]
        await asyncio.sleep(0)
        await pool.stop()
        outcomes = await asyncio.gather(*jobs, return_exceptions=True)
        assert any(isinstance(o, PoolClosed) for o in outcomes)
        with pytest.raises(PoolClosed):
            await pool.run("k", "ping")
        await wait_for(lambda: not os.path.exists(f"/proc/{pid}"))
    asyncio.run(main())


def test_worker_refuses_functions_outside_the_job_list():
    def frame(message) -> bytes:
        payload = pickle.dumps(message)
        return worker_module.HEADER.pack(len(payload)) + payload

    requests = io.BytesIO(frame((1, "system", ("true",), {})) + frame((2, "ping", (), {})))
    replies = io.BytesIO()
    worker_module.serve(requests, replies, {})
    replies.seek(0)
    ready = worker_module.read_frame(replies)
    assert ready[0] == "ready" and "render_raster" in ready[2] and "system" not in ready[2]
    job_id, ok, error = worker_module.read_frame(replies)
    assert (job_id, ok, type(error)) == (1, False, ValueError)
    assert worker_module.read_frame(replies)[:2] == (2, True)


def test_server_unpickles_only_data_and_error_classes():
    assert _load_result(pickle.dumps((1, False, PasswordRequired()))) [2].message == "Document requires a password"
    assert _load_result(pickle.dumps((1, True, {"a": [b"x", 1.5, None]}))) == (1, True, {"a": [b"x", 1.5, None]})
    with pytest.raises(pickle.UnpicklingError):
        _load_result(pickle.dumps((1, True, os.system)))
    with pytest.raises(pickle.UnpicklingError):
        _load_result(pickle.dumps(time.struct_time((2020, 1, 1, 0, 0, 0, 0, 1, 0))))


async def wait_for(condition, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.05)


def test_decrypted_copies_never_touch_the_disk_even_when_a_worker_is_killed(documents, tmp_path, monkeypatch):
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    monkeypatch.setenv("TMPDIR", str(scratch))  # the workers inherit it: any temp file would land here

    async def scenario(pool):
        svg = await pool.run("k", "render_svg", documents["encrypted"], "pdf", 0, password="secret")
        assert svg.startswith((b"<?xml", b"<svg"))
        assert list(scratch.iterdir()) == []  # while the worker keeps the document open
        os.kill(pool.worker_pids()[0], signal.SIGKILL)
        await wait_for(lambda: None not in pool.worker_pids() and pool.worker_pids()[0] is not None)
        assert list(scratch.iterdir()) == []
    run(scenario, size=1)


def test_a_job_past_the_memory_cap_answers_memory_limit_exceeded_and_the_worker_is_replaced(tmp_path):
    import bombgen

    bomb = tmp_path / "bomb.pdf"
    bomb.write_bytes(bombgen.pdf_content_bomb(1 << 30))

    async def scenario(pool):
        before = pool.worker_pids()[0]
        with pytest.raises(MemoryLimitExceeded):
            await pool.run("k", "render_raster", str(bomb), "pdf", 0)
        assert pool.stats.over_memory == 1 and pool.stats.crashed == 0
        await wait_for(lambda: pool.worker_pids()[0] not in (None, before))
        assert pool.healthy()
        assert (await pool.run("k", "ping"))["pid"] == pool.worker_pids()[0]
    run(scenario, size=1, memory_limit_mb=512)
