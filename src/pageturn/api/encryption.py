"""Encrypted page content on the wire: an encrypted session's SVG and raster pages, tiles, thumbnails and text go
out as AES-CBC bodies with `Accusoft-Data-Encrypted: true` and the wrapped content key in `Accusoft-Data-SK`.
Requests of an encrypted session without `iv` are refused (480): no page content of it is ever sent in clear.
Pages are cached in clear on the server and encrypted on the way out, each response under a new content key."""
from __future__ import annotations

import asyncio
from pathlib import Path

from aiohttp import web

from ..core.records import SessionRecord

from ..core.content_crypto import ContentKeys, parse_iv
from ..core.errors import InputError
from .common import query_param

CONTENT_KEYS = web.AppKey("content_keys", ContentKeys)
# the bytes are sent as they are; x-user-defined maps each byte to one character for XHR responseText readers
ENCRYPTED_TYPE = "text/plain; charset=x-user-defined"


def is_encrypted(session: SessionRecord) -> bool:
    return bool(session["props"].get("pageContentEncryption"))


def require_iv(request: web.Request, session: SessionRecord) -> bytes | None:
    """The request's IV for an encrypted session (refused without one), None for other sessions."""
    if not is_encrypted(session):
        return None
    value = query_param(request, "iv")
    if value is None:
        raise InputError("MissingInput", {"in": "query", "at": "iv", "expected": "an iv: this session's page "
                                          "content is encrypted"})
    return parse_iv(value)


async def encrypted_response(request: web.Request, session: SessionRecord, iv: bytes, *, data: bytes | None = None,
                             path: Path | None = None) -> web.Response:
    if data is None:
        assert path is not None
        data = await asyncio.to_thread(path.read_bytes)
    sealed = await asyncio.to_thread(request.app[CONTENT_KEYS].encrypt, session["id"], iv, data)
    return web.Response(body=sealed.body, headers={
        "Content-Type": ENCRYPTED_TYPE, "Accusoft-Data-Encrypted": "true", "Accusoft-Data-SK": sealed.wrapped_key,
        # a new content key per response: a cached copy is useless to anyone without the session's key
        "Cache-Control": "private, no-store"})
