"""Session, work-file, cache and Zoho lifetimes in process, with a clock the test moves: each expiry is checked on
both sides of its edge, and sweeps run when the test says so."""
from __future__ import annotations

import asyncio
import hashlib
import json

from aiohttp import FormData

from api.samples import pdf_bytes
from inproc.harness import in_process

V1 = "/PCCIS/V1/ViewingSession"
MINUTE = 60.0
DAY = 86400.0
EXPIRED = "The session is invalid or has expired"


def _blob(data_dir, data: bytes):
    digest = hashlib.sha256(data).hexdigest()
    return data_dir / "blobs" / digest[:2] / digest


def test_sessions_expire_and_their_private_data_goes(tmp_path):
    async def scenario():
        async with in_process(tmp_path, session_lifetime="20m") as app:
            short = pdf_bytes("short lived")
            sid = await app.session_with(short, {"serverCaching": "none"})
            long_lived = await app.session_with(pdf_bytes("long lived"), {"serverCaching": "none",
                                                                          "minSecondsAvailable": 3600})
            file_id = (await (await app.client.get(f"{V1}/u{sid}/FileId")).json())["fileId"]
            app.clock.advance(20 * MINUTE - 1)
            assert (await app.client.get(f"{V1}/u{sid}")).status == 200  # 1 s left (and this use slides it)
            app.clock.advance(20 * MINUTE + 1)
            r = await app.client.get(f"{V1}/u{sid}")
            assert (r.status, r.reason) == (403, EXPIRED)
            assert (await app.client.get(f"/PCCIS/V1/WorkFile/{file_id}")).status == 200  # until the sweep
            assert _blob(app.data_dir, short).exists()
            await app.sweep()
            assert (await app.client.get(f"/PCCIS/V1/WorkFile/{file_id}")).status == 404
            assert not _blob(app.data_dir, short).exists()
            r = await app.client.get(f"{V1}/u{sid}")
            assert (r.status, r.reason) == (403, EXPIRED)  # the tombstone answers for a day
            assert (await app.client.get(f"{V1}/u{long_lived}")).status == 200
            app.clock.advance(DAY + MINUTE)
            await app.sweep()
            assert (await app.client.get(f"{V1}/u{sid}")).status == 500  # forgotten: an unknown id
    asyncio.run(scenario())


def test_use_keeps_a_session_alive_and_idleness_ends_it(tmp_path):
    async def scenario():
        async with in_process(tmp_path, session_lifetime="20m") as app:
            sid = await app.create()
            for _ in range(6):  # 90 minutes of use, never 20 idle
                app.clock.advance(15 * MINUTE)
                assert (await app.client.get(f"{V1}/u{sid}")).status == 200
            await app.sweep()
            assert (await app.client.get(f"{V1}/u{sid}")).status == 200
            app.clock.advance(20 * MINUTE + 1)
            assert (await app.client.get(f"{V1}/u{sid}")).status == 403
    asyncio.run(scenario())


def test_work_files_expire(tmp_path):
    async def scenario():
        async with in_process(tmp_path, workfile_lifetime="1d") as app:
            data = pdf_bytes("a work file")
            r = await app.client.post("/PCCIS/V1/WorkFile", data=data)
            file_id = (await r.json())["fileId"]
            kept = await app.client.post("/PCCIS/V1/WorkFile", data=pdf_bytes("kept"),
                                         params={"MinSecondsAvailable": str(int(2 * DAY))})
            kept_id = (await kept.json())["fileId"]
            info = await (await app.client.get(f"/PCCIS/V1/WorkFile/{file_id}/Info")).json()
            assert info["expirationTime"] > info["createdTime"]
            app.clock.advance(DAY - 1)
            assert (await app.client.get(f"/PCCIS/V1/WorkFile/{file_id}")).status == 200
            app.clock.advance(2)
            assert (await app.client.get(f"/PCCIS/V1/WorkFile/{file_id}")).status == 404
            assert _blob(app.data_dir, data).exists()
            await app.sweep()
            assert not _blob(app.data_dir, data).exists()
            assert (await app.client.get(f"/PCCIS/V1/WorkFile/{kept_id}")).status == 200
    asyncio.run(scenario())


def test_a_session_keeps_its_work_file_past_the_work_files_lifetime(tmp_path):
    async def scenario():
        async with in_process(tmp_path, workfile_lifetime="1m", session_lifetime="20m") as app:
            r = await app.client.post("/PCCIS/V1/WorkFile", data=pdf_bytes("attached"))
            file_id = (await r.json())["fileId"]
            sid = await app.create()
            r = await app.client.put(f"{V1}/u{sid}/SourceRef", json={"refType": "workFile", "fileId": file_id})
            assert r.status == 200, await r.text()
            app.clock.advance(10 * MINUTE)
            await app.sweep()
            assert (await app.client.get(f"{V1}/u{sid}/SourceFile")).status == 200
            assert (await app.client.get(f"/PCCIS/V1/WorkFile/{file_id}")).status == 200
    asyncio.run(scenario())


def test_shared_cache_is_pruned_after_its_lifetime(tmp_path):
    async def scenario():
        async with in_process(tmp_path, engines=True, cache_lifetime="1h", session_lifetime="1d") as app:
            sid = await app.session_with(pdf_bytes("cached for a while"))
            params = {"DocumentID": "u" + sid, "Scale": "0.2"}
            assert (await app.client.get("/PCCIS/V1/Page/q/0", params=params)).status == 200
            pages = app.data_dir / "cache" / "shared" / "pages"
            assert list(pages.iterdir())
            app.clock.advance(30 * MINUTE)
            await app.sweep()
            assert list(pages.iterdir())  # younger than its lifetime
            app.clock.advance(31 * MINUTE)
            await app.sweep()
            assert not list(pages.iterdir())
            r = await app.client.get("/PCCIS/V1/Page/q/0", params=params)
            assert r.status == 200  # still served (rendered again, or from the in-memory copy)
    asyncio.run(scenario())


def test_zoho_sessions_expire_and_their_content_goes(tmp_path):
    base = "/writer/officeapi/v1"

    async def scenario():
        async with in_process(tmp_path, zoho_api_keys="key-a", zoho_session_lifetime="6h") as app:
            data = pdf_bytes("expires with its zoho session")
            form = FormData()
            form.add_field("document", data, filename="upload.pdf")
            r = await app.client.post(f"{base}/document/preview", params={"apikey": "key-a"}, data=form)
            assert r.status == 200, await r.text()
            body = await r.json()
            session_url = f"{base}/sessions/{body['session_id']}"
            session = await (await app.client.get(session_url, params={"apikey": "key-a"})).json()
            assert session["info"]["expires_on_ms"] - session["info"]["created_time_ms"] == 6 * 3600 * 1000
            app.clock.advance(6 * 3600 - 1)
            assert (await app.client.get(session_url, params={"apikey": "key-a"})).status == 200
            assert (await app.client.get(f"{V1}/u{body['session_id']}")).status == 200
            app.clock.advance(2)
            for method in ("GET", "DELETE"):
                r = await app.client.request(method, session_url, params={"apikey": "key-a"})
                assert r.status == 400 and json.loads(await r.text())["code"] == 1834
            r = await app.client.get(f"{base}/documents/{body['document_id']}", params={"apikey": "key-a"})
            assert r.status == 400 and (await r.json())["code"] == 1844
            r = await app.client.get(f"{V1}/u{body['session_id']}")
            assert (r.status, r.reason) == (403, EXPIRED)
            assert _blob(app.data_dir, data).exists()
            await app.sweep()
            assert not _blob(app.data_dir, data).exists()
    asyncio.run(scenario())
