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


def test_published_pages_go_with_their_session_or_after_the_cache_lifetime(tmp_path, s3):
    """Rendered output published to the bucket: a private session's with the session, shared output once it is
    older than cache_lifetime, as on disk."""
    from pageturn.app import CACHE
    prefix = f"inproc-pages-{os.urandom(6).hex()}"

    async def scenario():
        async with in_process(tmp_path, engines=True, session_lifetime="20m", cache_lifetime="1d",
                              **_settings(s3, prefix)) as app:
            private = await app.session_with(pdf_bytes("private pages"), {"serverCaching": "none"})
            shared = await app.session_with(pdf_bytes("shared pages"))
            for sid in (private, shared):
                r = await app.client.get("/PCCIS/V1/Page/q/0", params={"DocumentID": "u" + sid, "ContentType": "png"})
                assert r.status == 200, await r.text()
            await app.app[CACHE].settle()
            assert s3.keys(f"{prefix}/cache/s-{private}/pages/") and s3.keys(f"{prefix}/cache/shared/pages/")
            app.clock.advance(3600)  # both sessions expire; the shared output is an hour old
            await app.sweep()
            assert s3.keys(f"{prefix}/cache/s-{private}/") == []
            assert s3.keys(f"{prefix}/cache/shared/pages/")
            app.clock.advance(DAY)
            await app.sweep()
            assert s3.keys(f"{prefix}/cache/") == []
    asyncio.run(scenario())
