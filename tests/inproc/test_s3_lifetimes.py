"""Lifetimes with the S3 store (a real SeaweedFS), in process with a clock the test moves: the sweep deletes in
the bucket what it deletes on disk, and keeps what is still referred to."""
from __future__ import annotations

import asyncio
import hashlib
import os

from api.samples import pdf_bytes
from inproc.harness import in_process

DAY = 86400.0


def _settings(s3, prefix: str) -> dict[str, str]:
    return {name[len("PAGETURN_"):].lower(): value for name, value in s3.server_env(prefix).items()}


def test_expired_work_files_leave_the_bucket_at_the_sweep(tmp_path, s3):
    prefix = f"inproc-{os.urandom(6).hex()}"

    async def scenario():
        async with in_process(tmp_path, workfile_lifetime="1d", **_settings(s3, prefix)) as app:
            data, kept_data = pdf_bytes("expires from the bucket"), pdf_bytes("kept in the bucket")
            r = await app.client.post("/PCCIS/V1/WorkFile", data=data)
            assert r.status == 200, await r.text()
            kept = await app.client.post("/PCCIS/V1/WorkFile", data=kept_data,
                                         params={"MinSecondsAvailable": str(int(2 * DAY))})
            kept_id = (await kept.json())["fileId"]
            gone, stays = (f"{prefix}/blobs/{hashlib.sha256(d).hexdigest()}" for d in (data, kept_data))
            assert sorted(s3.keys(f"{prefix}/blobs/")) == sorted([gone, stays])
            await app.sweep()
            assert sorted(s3.keys(f"{prefix}/blobs/")) == sorted([gone, stays])  # both still referred to
            app.clock.advance(DAY + 1)
            await app.sweep()
            assert s3.keys(f"{prefix}/blobs/") == [stays]
            assert (await app.client.get(f"/PCCIS/V1/WorkFile/{kept_id}")).status == 200
    asyncio.run(scenario())
