"""SVG pages from the long-lived poppler helper (engines.poppler_svg): the same bytes as pdftocairo per page, no
larger than before, under a memory cap, and recovering from a helper that dies or hangs."""
from __future__ import annotations

import os
import signal
import sys

import pytest

import docgen
from pageturn.engines import poppler_svg, raster, svg
from pageturn.engines.errors import EngineError

pytestmark = pytest.mark.skipif(not poppler_svg.available(), reason="no /usr/bin/python3")


@pytest.fixture(scope="module")
def sources(tmp_path_factory):
    directory = tmp_path_factory.mktemp("svg")
    made = {"mixed.pdf": (docgen.make_pdf_pages(3), None), "turned.pdf": (docgen.make_turned_pdf(), None),
            "encrypted.pdf": (docgen.make_encrypted_pdf("secret", "owner"), "secret")}
    paths = {}
    for name, (data, password) in made.items():
        (directory / name).write_bytes(data)
        paths[name] = (str(directory / name), password)
    return paths


@pytest.fixture
def helper_setting():
    saved = raster.LIMITS.svg_helper, raster.LIMITS.svg_timeout
    yield
    raster.LIMITS.svg_helper, raster.LIMITS.svg_timeout = saved
    poppler_svg.close()


def render(path: str, page: int, password: str | None, helper: bool) -> bytes:
    raster.LIMITS.svg_helper = helper
    return svg.render(path, page, password)


def test_the_helper_writes_the_same_bytes_as_pdftocairo(sources, helper_setting):
    for path, password in sources.values():
        for page in range(3 if "mixed" in path else 4 if "turned" in path else 1):
            by_helper = render(path, page, password, True)
            assert poppler_svg.helper_pid() is not None
            assert by_helper == render(path, page, password, False), (path, page)
            assert by_helper.startswith(b"<?xml") and b"<use" in by_helper


def test_the_helper_stays_loaded_between_pages(sources, helper_setting):
    path, _ = sources["mixed.pdf"]
    render(path, 0, None, True)
    pid = poppler_svg.helper_pid()
    render(path, 1, None, True)
    render(path, 2, None, True)
    assert poppler_svg.helper_pid() == pid


def test_the_helper_runs_under_the_svg_memory_cap(sources, helper_setting):
    path, _ = sources["mixed.pdf"]
    render(path, 0, None, True)
    limits = open(f"/proc/{poppler_svg.helper_pid()}/limits").read()
    cap = raster.LIMITS.svg_memory_mb * 1024 * 1024
    line = next(row for row in limits.splitlines() if row.startswith("Max address space"))
    assert line.split()[3:5] == [str(cap), str(cap)]


def test_a_killed_helper_is_replaced_on_the_next_page(sources, helper_setting):
    path, _ = sources["mixed.pdf"]
    first = render(path, 0, None, True)
    pid = poppler_svg.helper_pid()
    os.kill(pid, signal.SIGKILL)
    poppler_svg._helper.process.wait()
    assert render(path, 0, None, True) == first
    assert poppler_svg.helper_pid() not in (None, pid)


def test_a_page_over_the_timeout_kills_the_helper_and_the_next_page_works(sources, helper_setting):
    path, _ = sources["mixed.pdf"]
    render(path, 0, None, True)
    pid = poppler_svg.helper_pid()
    raster.LIMITS.svg_timeout = 1e-9
    with pytest.raises(EngineError, match="longer than"):
        render(path, 1, None, True)
    assert poppler_svg.helper_pid() is None
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)
    raster.LIMITS.svg_timeout = 60.0
    assert render(path, 1, None, True) == render(path, 1, None, False)


def test_without_poppler_glib_pages_come_from_pdftocairo(sources, helper_setting, monkeypatch):
    path, _ = sources["mixed.pdf"]
    poppler_svg.close()
    monkeypatch.setattr(poppler_svg, "PYTHON", sys.executable)  # the venv's python has no gi: the helper says so
    monkeypatch.setattr(poppler_svg, "_unavailable", False)
    assert render(path, 0, None, True) == render(path, 0, None, False)
    assert not poppler_svg.available() and poppler_svg.helper_pid() is None


def test_renumbering_never_lengthens_ids():
    raw = (b'<svg><defs><image id="image13" width="1"/><clipPath id="clip120"><path/></clipPath></defs>'
           b'<g id="surface9" clip-path="url(#clip120)"><use xlink:href="#image13"/><use xlink:href="#glyph0-1"/>'
           b'<use xlink:href="#image13"/></g><image xlink:href="data:image/png;base64,clip120image13"/></svg>')
    out = svg._renumber(raw)
    assert out == raw.replace(b'"image13"', b'"image1"').replace(b'"#image13"', b'"#image1"') \
        .replace(b'"clip120"', b'"clip1"').replace(b"(#clip120)", b"(#clip1)").replace(b'"surface9"', b'"surface1"')
    assert b"base64,clip120image13" in out and len(out) < len(raw)
    assert svg._renumber(out) == out


def test_a_prestarted_helper_answers_the_first_page(sources, helper_setting):
    path, _ = sources["mixed.pdf"]
    poppler_svg.close()
    raster.LIMITS.svg_helper = True
    svg.prestart()
    pid = poppler_svg.helper_pid()
    assert pid is not None
    assert render(path, 0, None, True) == render(path, 0, None, False)
    raster.LIMITS.svg_helper = True
    assert poppler_svg.helper_pid() == pid


def test_a_worker_answers_svg_through_its_helper(sources, helper_setting):
    import asyncio

    from pageturn.workers.pool import WorkerPool
    path, _ = sources["turned.pdf"]

    async def scenario() -> tuple[bytes, bytes, list[list[str]]]:
        pool = WorkerPool(1, job_timeout=60)
        await pool.start()
        try:
            worker = pool.worker_pids()[0]
            started = open(f"/proc/{worker}/task/{worker}/children").read().split()  # prestarted with the worker
            first = await pool.run("k", "render_svg", path, "pdf", 1)
            children = [open(f"/proc/{pid}/cmdline").read().split("\0")[:2]
                        for pid in open(f"/proc/{worker}/task/{worker}/children").read().split()]
            assert open(f"/proc/{worker}/task/{worker}/children").read().split() == started
            second = await pool.run("k", "render_svg", path, "pdf", 2)
            return first, second, children
        finally:
            await pool.stop()

    first, second, children = asyncio.run(scenario())
    assert children == [[poppler_svg.PYTHON, "-I"]]  # the same helper before and after the first page
    assert first == render(path, 1, None, False) and second == render(path, 2, None, False)


def test_a_worker_with_a_helper_killed_mid_job_is_reported_as_killed(sources, helper_setting):
    import asyncio

    from pageturn.engines.errors import WorkerCrashed
    from pageturn.workers.pool import WorkerPool
    path, _ = sources["mixed.pdf"]

    async def scenario() -> None:
        pool = WorkerPool(1, job_timeout=60)
        await pool.start()
        try:
            await pool.run("k", "render_svg", path, "pdf", 0)
            victim = pool.worker_pids()[0]
            helper = int(open(f"/proc/{victim}/task/{victim}/children").read().split()[0])
            slow = asyncio.create_task(pool.run("k", "render_raster", path, "pdf", 0, dpi=600))
            while not pool.worker_stats()[0]["busy"]:
                await asyncio.sleep(0.01)
            os.kill(victim, signal.SIGKILL)
            with pytest.raises(WorkerCrashed, match="SIGKILL"):
                await slow
            for _ in range(200):  # the helper follows its worker (PR_SET_PDEATHSIG)
                if not os.path.exists(f"/proc/{helper}") or "Z" in open(f"/proc/{helper}/stat").read().split()[2]:
                    break
                await asyncio.sleep(0.05)
            else:
                raise AssertionError("the helper outlived its worker")
        finally:
            await pool.stop()

    asyncio.run(scenario())
