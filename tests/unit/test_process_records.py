"""core.process_records: the store plumbing the process APIs share (ids, lifetime, the running ref, expiry)."""
from __future__ import annotations

from pageturn.core.process_records import ProcessRecords
from pageturn.storage.metadata import SqliteMetadataStore


def test_records_live_their_lifetime_and_running_ones_are_listed(tmp_path):
    clock = [1000.0]
    store = SqliteMetadataStore(tmp_path / "meta.sqlite")
    records = ProcessRecords(store, "someprocess", clock=lambda: clock[0])
    other = ProcessRecords(store, "otherprocess", clock=lambda: clock[0])
    assert records.lifetime(60, None) == (1000.0, 1060.0)
    assert records.lifetime(60, 300) == (1000.0, 1300.0)   # the client may ask for longer, never shorter
    short = {"processId": records.new_id(), "expires": 1060.0, "state": "processing"}
    long = {"processId": records.new_id(), "expires": 1300.0, "state": "processing"}
    records.save(short, running=True)
    records.save(long, running=True)
    assert short["processId"] != long["processId"] and len(short["processId"]) >= 32
    assert records.load(short["processId"]) == short
    assert other.load(short["processId"]) is None          # each API keeps its own collection
    assert records.load("../" + short["processId"]) is None and records.load("") is None
    assert sorted(pid for pid, _ in records.running()) == sorted([short["processId"], long["processId"]])
    long["state"] = "complete"
    records.save(long)                                      # finished: no longer among the running
    assert [pid for pid, _ in records.running()] == [short["processId"]]
    clock[0] = 1100.0
    assert records.load(short["processId"]) is None          # expired: gone for the API at once
    assert list(records.running()) == []
    assert records.sweep() == 1 and store.get("someprocess", short["processId"]) is None
    assert records.load(long["processId"]) == long


def test_a_markup_process_whose_node_stopped_ends_as_interrupted_and_a_live_one_does_not(tmp_path):
    import asyncio

    from pageturn.core.processes import KIND, Processes

    clock = [1000.0]
    store = SqliteMetadataStore(tmp_path / "meta.sqlite")

    async def scenario():
        dead_node = Processes(store, clock=lambda: clock[0])
        release = asyncio.Event()

        async def stuck(record):
            await release.wait()
            return {"done": True}

        orphan = dead_node.start("markupBurner", {}, stuck)
        await asyncio.sleep(0)
        for task in list(dead_node._tasks):   # the node dies: its task never finishes, its heartbeat stops
            task.cancel()
        await asyncio.gather(*dead_node._tasks, return_exceptions=True)

        survivor = Processes(store, clock=lambda: clock[0])
        live = survivor.start("markupBurner", {}, stuck)
        await asyncio.sleep(0)
        clock[0] += 10
        survivor.sweep()                      # a young heartbeat: the orphan may still be running somewhere
        assert survivor.get("markupBurner", orphan["processId"])["state"] == "processing"
        clock[0] += 60
        survivor.sweep()
        ended = survivor.get("markupBurner", orphan["processId"])
        assert (ended["state"], ended["errorCode"]) == ("error", "ProcessInterrupted")
        assert Processes.describe(ended)["errorCode"] == "ProcessInterrupted"
        assert survivor.get("markupBurner", live["processId"])["state"] == "processing"   # its own, running
        release.set()
        await asyncio.gather(*survivor._tasks)
        assert survivor.get("markupBurner", live["processId"])["state"] == "complete"
        assert not list(ProcessRecords(store, KIND, clock=lambda: clock[0]).running())

    asyncio.run(scenario())
