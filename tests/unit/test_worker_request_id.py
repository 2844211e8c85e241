"""A render worker's own log lines name the request their job came from (JSON when the server logs JSON)."""
from __future__ import annotations

import asyncio
import json

import pytest

from pageturn.logs import REQUEST_ID
from pageturn.workers.pool import WorkerPool


@pytest.mark.parametrize("fmt", ["json", "text"])
def test_a_failing_job_logs_the_request_id(tmp_path, capfd, fmt):
    broken = tmp_path / "broken.pdf"
    broken.write_bytes(b"%PDF-1.4 not really")

    async def run() -> None:
        pool = WorkerPool(1, job_timeout=30, settings={"log_format": fmt})
        await pool.start()
        try:
            REQUEST_ID.set("req-worker-9")
            with pytest.raises(TypeError):  # the job's unexpected argument
                await pool.run("k", "document_info", str(broken), "pdf", unexpected=1)
        finally:
            await pool.stop()
    asyncio.run(run())
    lines = [line for line in capfd.readouterr().err.splitlines() if "req-worker-9" in line]
    assert lines, "the worker logged nothing naming the request"
    if fmt == "json":
        entry = json.loads(lines[0])
        assert entry["request_id"] == "req-worker-9" and entry["logger"] == "pageturn.worker"
        assert "document_info" in entry["message"] and "TypeError" in entry["message"]
    else:
        assert lines[0].startswith("pageturn.worker [req-worker-9]: render job document_info failed")
