"""Search-task helpers for the tests: start a task, wait for it, read every result page by page."""
from __future__ import annotations

import time

from api.prizm import Prizm


def term(pattern: str, **options) -> dict:
    return {"type": "simple", "pattern": pattern, **options}


def start(api: Prizm, sid: str, *terms: dict, **body) -> dict:
    r = api.post(f"/v2/viewingSessions/{sid}/searchTasks", json={"input": {"searchTerms": list(terms)}, **body})
    assert r.status_code == 200, (r.status_code, r.text)
    return r.json()


def task(api: Prizm, pid: str, sid: str | None = None) -> dict:
    path = f"/v2/viewingSessions/{sid}/searchTasks/{pid}" if sid else f"/v2/searchTasks/{pid}"
    r = api.get(path)
    assert r.status_code == 200, (r.status_code, r.text)
    return r.json()


def wait(api: Prizm, pid: str, timeout: float = 120) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        info = task(api, pid)
        if info["state"] != "processing":
            return info
        assert time.monotonic() < deadline, info
        time.sleep(0.05)


def results(api: Prizm, pid: str, *, limit: int | None = None, sid: str | None = None,
            timeout: float = 120) -> tuple[list[dict], dict]:
    """Every hit, following continueToken (waiting continueAfter) until an answer has none; and that answer."""
    path = f"/v2/viewingSessions/{sid}/searchTasks/{pid}/results" if sid else f"/v2/searchTasks/{pid}/results"
    hits: list[dict] = []
    token = None
    deadline = time.monotonic() + timeout
    while True:
        params = {}
        if limit is not None:
            params["limit"] = limit
        if token:
            params["continueToken"] = token
        r = api.get(path, params=params)
        assert r.status_code == 200, (r.status_code, r.text)
        body = r.json()
        if limit is not None:
            assert len(body["results"]) <= limit
        hits += body["results"]
        token = body.get("continueToken")
        if not token:
            return hits, body
        assert time.monotonic() < deadline
        time.sleep(body.get("continueAfter", 0) / 1000)


def search(api: Prizm, sid: str, *terms: dict, **kw) -> list[dict]:
    info = start(api, sid, *terms)
    hits, last = results(api, info["processId"], **kw)
    assert "errorCode" not in last, last
    return hits
