"""The short form of the fuzz run (the long one is `make fuzz`): 60 mutated files of every seed format through a
real server; every answer a page or a documented error in time, the server alive, memory bounded."""
from __future__ import annotations

import asyncio

import pytest
import requests

from conftest import ServerProcess
from fuzz.campaign import make_case, run, summary
from fuzz.corpus import digest, seeds
from fuzz.settings import CHILD_PEAK, SERVER_PEAK, SERVER_SETTINGS, TIMEOUT

SEED = 20261201
CASES = 60


def test_cases_are_reproducible_from_seed_and_index():
    corpus = seeds()
    assert digest(corpus) == digest(seeds())
    first = [make_case(corpus, SEED, i) for i in range(20)]
    assert [c.data for c in first] == [make_case(corpus, SEED, i).data for i in range(20)]
    assert [c.data for c in first] != [make_case(corpus, SEED + 1, i).data for i in range(20)]
    assert all(c.data != corpus[c.index % len(corpus)].data for c in first)  # every case is mutated
    assert {c.extension for c in first} == {"pdf", "png", "jpg", "tif", "html", "docx", "xlsx", "pptx"}


@pytest.fixture(scope="module")
def fuzz_server(tmp_path_factory):
    env = {**SERVER_SETTINGS, "PAGETURN_RENDER_WORKERS": "1", "PAGETURN_OFFICE_WORKERS": "1"}
    server = ServerProcess(tmp_path_factory.mktemp("fuzz"), env).start()
    yield server
    server.stop()


def test_mutated_files_get_a_page_or_a_documented_error(fuzz_server):
    report = asyncio.run(run(fuzz_server.url, fuzz_server.proc.pid, seed=SEED, cases=CASES, concurrency=2,
                             timeout=TIMEOUT, alive=lambda: fuzz_server.proc.poll() is None))
    text = summary(report)
    print(text)
    assert report.server_alive, text
    assert report.findings == [], text
    assert report.cases == CASES
    # the campaign went deep enough to mean something: pages served and errors answered
    assert report.pages >= CASES // 4, text
    assert any(key.startswith("page: 580") or key.startswith("page: 480") for key in report.outcomes), text
    assert report.peak_server < SERVER_PEAK and report.peak_child < CHILD_PEAK, text
    r = requests.get(fuzz_server.url + "/PCCIS/V1/Service/Current/Health", timeout=10)
    assert r.status_code == 200, r.text
