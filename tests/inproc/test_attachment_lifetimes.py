"""E-mail attachments in process: the extracted attachment is a work file of the session that views it, and goes
with that session's private data; the Attachments list is built once."""
from __future__ import annotations

import asyncio
import hashlib

from api.samples import pdf_bytes
from inproc.harness import in_process
from mailgen import plain_eml, with_attachments_eml

V1 = "/PCCIS/V1/ViewingSession"


def _blob(data_dir, data: bytes):
    digest = hashlib.sha256(data).hexdigest()
    return data_dir / "blobs" / digest[:2] / digest


def test_a_deleted_private_session_takes_its_attachment_with_it(tmp_path):
    attached = pdf_bytes("attached and private")
    message = with_attachments_eml(attached, b"PK\x03\x04 not really a docx", plain_eml("inner"))

    async def scenario():
        async with in_process(tmp_path) as app:
            sid = await app.session_with(message, {"attachmentIndex": 1, "serverCaching": "none"}, "eml")
            assert _blob(app.data_dir, attached).exists()  # extracted when the e-mail arrived
            assert (await app.client.delete(f"{V1}/u{sid}")).status == 204
            assert not _blob(app.data_dir, attached).exists()

            shared = await app.session_with(message, {"attachmentIndex": 1}, "eml")
            assert (await app.client.delete(f"{V1}/u{shared}")).status == 580  # cached sessions are not deletable
            assert _blob(app.data_dir, attached).exists()

    asyncio.run(scenario())


def test_the_attachment_list_is_built_once_with_a_child_session_each(tmp_path):
    message = with_attachments_eml(pdf_bytes("one"), b"PK\x03\x04 two", plain_eml("three"))

    async def scenario():
        async with in_process(tmp_path) as app:
            sid = await app.session_with(message, {"tenantId": "t1", "serverCaching": "none"}, "eml")
            first = await (await app.client.get(f"{V1}/u{sid}/Attachments")).json()
            again = await (await app.client.get(f"{V1}/u{sid}/Attachments")).json()
            assert first == again and first["status"] == "complete" and len(first["attachments"]) == 3
            for index, item in enumerate(first["attachments"], start=1):
                child = await (await app.client.get(f"{V1}/u{item['viewingSessionId']}")).json()
                assert child["attachmentIndex"] == index
                assert child["attachmentDisplayName"] == item["displayName"]
                assert child["tenantId"] == "t1" and child["serverCaching"] == "none"
            nested = first["attachments"][2]["viewingSessionId"]
            inner = await (await app.client.get(f"{V1}/u{nested}/Attachments")).json()
            assert inner == {"status": "complete", "attachments": []}
            unknown = await app.client.get(f"{V1}/uNoSuchSession/Attachments")
            assert unknown.status == 500  # an unknown id, as on every V1 session URL

    asyncio.run(scenario())
