"""Small HTTP helpers shared by the API modules: JSON answers, case-insensitive query parameters, bodies."""
from __future__ import annotations

import json
from typing import Any, AsyncIterator
from urllib.parse import quote

from aiohttp import web

from ..core.errors import invalid

JSON_TYPE = "application/json;charset=utf-8"
CHUNK = 1 << 16


def json_response(data: Any, status: int = 200, reason: str | None = None, headers: dict | None = None
                  ) -> web.Response:
    body = json.dumps(data, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    response = web.Response(body=body, status=status, reason=reason, headers=headers)
    response.headers["Content-Type"] = JSON_TYPE
    return response


def query_param(request: web.Request, name: str) -> str | None:
    """PrizmDoc's query parameter names are case-insensitive (`ContentDispositionFilename` on V1,
    `contentDispositionFilename` on v2); the first non-empty match wins."""
    lowered = name.lower()
    for key, value in request.query.items():
        if key.lower() == lowered and value != "":
            return value
    return None


# a session's watermark images add up to at most 8 MB (README), about 10.7 MB in base64, plus the rest
MAX_JSON_BODY = 16 << 20


async def read_body(request: web.Request, max_bytes: int) -> bytes | None:
    """The whole body, however many TCP writes it came in, or None when it is longer than `max_bytes`."""
    if request.content_length is not None and request.content_length > max_bytes:
        return None
    data = bytearray()
    while chunk := await request.content.read(CHUNK):
        data += chunk
        if len(data) > max_bytes:
            return None
    return bytes(data)


async def read_json(request: web.Request, *, allow_empty: bool = True, max_bytes: int = MAX_JSON_BODY) -> Any:
    """The request's JSON body, or ValueError when it is not JSON (callers choose the protocol's error)."""
    raw = await read_body(request, max_bytes)
    if raw is None:
        raise invalid("", f"a JSON body of at most {max_bytes} bytes")
    if not raw.strip():
        if allow_empty:
            return None
        raise ValueError("empty body")
    return json.loads(raw.decode("utf-8"))


async def json_body_or_invalid(request: web.Request) -> Any:
    try:
        return await read_json(request)
    except (ValueError, UnicodeDecodeError):
        raise invalid("", "a JSON body") from None


async def body_chunks(request: web.Request) -> AsyncIterator[bytes]:
    async for chunk in request.content.iter_chunked(CHUNK):
        yield chunk


def content_disposition(name: str, extension: str) -> str:
    """`attachment; filename=Name.ext; filename*=UTF-8''Name.ext`, with an ASCII fallback for other names."""
    cleaned = "".join(c for c in name if c.isprintable() and c not in '/\\"\r\n;').strip() or "SourceFile"
    full = f"{cleaned}.{extension}"
    fallback = "".join(c if c.isascii() and (c.isalnum() or c in "._- ") else "_" for c in full)
    if " " in fallback:
        fallback = f'"{fallback}"'
    return f"attachment; filename={fallback}; filename*=UTF-8''{quote(full, safe='')}"
