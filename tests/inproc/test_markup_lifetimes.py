"""Markup layers' lifetimes in process, with a clock the test moves: a document's layers outlive their sessions
and expire after their last use; a private session's layers go with it."""
from __future__ import annotations

import asyncio

from api.samples import pdf_bytes
from inproc.harness import in_process
from pageturn.api.markup_layers import LAYERS

MINUTE = 60.0
DAY = 86400.0
LAYER = {"name": "Review", "owner": "Ann", "marks": [
    {"uid": "a", "type": "RectangleAnnotation", "pageNumber": 1, "pageData": {"width": 612, "height": 792},
     "rectangle": {"x": 10, "y": 10, "width": 50, "height": 50}}]}


def test_layers_outlive_sessions_and_expire_after_their_last_use(tmp_path):
    async def scenario():
        async with in_process(tmp_path, session_lifetime="20m", workfile_lifetime="1d") as app:
            data = pdf_bytes("layers")
            sid = await app.session_with(data)
            r = await app.client.post(f"/MarkupLayers/u{sid}", json=LAYER)
            assert r.status == 201, await r.text()
            layer_id = (await r.json())["layerRecordId"]
            # the session ends; a day later a new session on the same bytes still sees the layer (and uses it)
            app.clock.advance(DAY)
            await app.sweep()
            later = await app.session_with(data)
            r = await app.client.get(f"/MarkupLayers/u{later}/{layer_id}")
            assert r.status == 200 and (await r.json())["owner"] == "Ann"
            # unused for longer than its lifetime (and its last session's), it is swept
            app.clock.advance(2 * DAY + MINUTE)
            await app.sweep()
            fresh = await app.session_with(data)
            assert await (await app.client.get(f"/MarkupLayers/u{fresh}")).json() == []
            assert (await app.client.get(f"/MarkupLayers/u{fresh}/{layer_id}")).status == 404
    asyncio.run(scenario())


def test_a_private_sessions_layers_go_with_it(tmp_path):
    async def scenario():
        async with in_process(tmp_path, session_lifetime="20m") as app:
            data = pdf_bytes("private layers")
            sid = await app.session_with(data, {"serverCaching": "none"})
            layer_id = (await (await app.client.post(f"/MarkupLayers/u{sid}", json=LAYER)).json())["layerRecordId"]
            assert (await app.client.get(f"/MarkupLayers/u{sid}/{layer_id}")).status == 200
            app.clock.advance(20 * MINUTE + 1)
            assert (await app.client.get(f"/MarkupLayers/u{sid}")).status == 502   # the session has ended
            await app.sweep()
            assert app.app[LAYERS].store.get("markuplayer", layer_id) is None   # gone from the store itself
    asyncio.run(scenario())
