"""Security headers. Every answer gets nosniff and no referrer; the viewer's own pages get a CSP that runs
scripts from this server only; everything else (stored documents above all) gets a sandboxing CSP, so bytes a
client uploaded never run as script on this server's origin, even when a browser opens them directly."""
from __future__ import annotations

from aiohttp import web

from ..core import formats

# what a browser may show inline: plain images and PDF, which run no script of their own on our origin
INLINE_SAFE_TYPES = frozenset({"application/pdf", "image/png", "image/jpeg", "image/gif", "image/bmp",
                               "image/tiff", "image/webp"})
DOCUMENT_CSP = "default-src 'none'; img-src data:; style-src 'unsafe-inline'; sandbox"
_BASE_HEADERS = {"X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer"}
FRAME_ANCESTORS = web.AppKey("frame_ancestors", str)  # the frame_ancestors setting


def page_csp(frame_ancestors: str) -> str:
    """The viewer pages: scripts, styles and data from this server only; blob: and data: images are the pages the
    viewer fetched itself. `frame_ancestors` names the sites allowed to embed the viewer."""
    return ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' blob: data:; "
            "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
            f"frame-ancestors {frame_ancestors}")


def page_headers(frame_ancestors: str) -> dict[str, str]:
    return {"Content-Security-Policy": page_csp(frame_ancestors)}


def document_headers(extension: str, attachment: str | None = None) -> dict[str, str]:
    """Headers for stored bytes: their type by extension, the caller's `attachment` disposition if any, and
    `attachment` anyway for anything a browser could run (HTML, SVG, XML, text, unknown)."""
    mime = formats.mime_type(extension)
    headers = {"Content-Type": mime, "Content-Security-Policy": DOCUMENT_CSP}
    if attachment is not None:
        headers["Content-Disposition"] = attachment
    elif mime not in INLINE_SAFE_TYPES:
        headers["Content-Disposition"] = "attachment"
    return headers


async def add_security_headers(request: web.Request, response: web.StreamResponse) -> None:
    """on_response_prepare: runs for every answer, errors and static files included."""
    for name, value in _BASE_HEADERS.items():
        response.headers.setdefault(name, value)
    # a viewer page keeps its own policy; anything else, opened as a page, runs no script in a sandbox
    response.headers.setdefault("Content-Security-Policy", DOCUMENT_CSP)


def install(app: web.Application, frame_ancestors: str) -> None:
    app[FRAME_ANCESTORS] = frame_ancestors
    app.on_response_prepare.append(add_security_headers)


def viewer_page_headers(request: web.Request) -> dict[str, str]:
    return page_headers(request.app[FRAME_ANCESTORS])
