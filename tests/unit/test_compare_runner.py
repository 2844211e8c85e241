"""The comparison job runner on its own (no server): sandboxed job, memory cap, deadline, queue, clean-up."""
from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

import comparegen
from pageturn.engines.compare.runner import CompareRunner, CompareTimeout, CompareTooLarge
from pageturn.engines.office import QueueFull


@pytest.fixture(scope="module")
def pair(tmp_path_factory) -> tuple[Path, Path]:
    return comparegen.PAIRS["word_inserted"].write(tmp_path_factory.mktemp("pair"))


def _run(runner: CompareRunner, pair: tuple[Path, Path], out: Path) -> list[dict]:
    return asyncio.run(runner.run(pair[0], pair[1], out))


def test_a_comparison_runs_in_the_sandbox_and_leaves_only_its_output(pair, tmp_path):
    work = tmp_path / "work"
    work.mkdir()
    runner = CompareRunner(tmp_path / "probe", timeout=120)
    changes = _run(runner, pair, work / "marked.docx")
    assert [c["type"] for c in changes] == ["contentInserted"]
    assert runner.isolation is not None and runner.isolation.mode == "sandbox"
    assert [p.name for p in work.iterdir()] == ["marked.docx"]  # the job's directory and TMPDIR are gone


def test_a_comparison_over_its_memory_cap_is_refused_clearly(pair, tmp_path):
    # measured: the .NET engine cannot even start in 900 MB of address space
    runner = CompareRunner(tmp_path / "probe", max_memory_mb=900)
    with pytest.raises(CompareTooLarge, match="more memory"):
        _run(runner, pair, tmp_path / "marked.docx")
    assert list(tmp_path.glob("job-*")) == []


def test_a_comparison_past_its_deadline_is_killed(pair, tmp_path):
    runner = CompareRunner(tmp_path / "probe", timeout=0.05)
    with pytest.raises(CompareTimeout, match="longer than 0.05 s"):
        _run(runner, pair, tmp_path / "marked.docx")
    assert list(tmp_path.glob("job-*")) == []


def test_comparisons_beyond_the_queue_limit_are_refused(pair, tmp_path):
    async def scenario() -> list[object]:
        runner = CompareRunner(tmp_path / "probe", workers=1, queue_limit=1)
        outs = [tmp_path / f"out{i}" for i in range(3)]
        for out in outs:
            out.mkdir()
        jobs = [asyncio.create_task(runner.run(pair[0], pair[1], out / "marked.docx")) for out in outs]
        return await asyncio.gather(*jobs, return_exceptions=True)

    results = asyncio.run(scenario())
    assert [type(r) for r in results[:2]] == [list, list]  # one runs, one waits
    assert isinstance(results[2], QueueFull)
