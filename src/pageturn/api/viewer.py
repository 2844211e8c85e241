"""Serves the web viewer: the landing page at `/`, the viewer on a session at `/viewer/{id}`, and its static
files at `/viewer/static/`. The viewer itself only uses the public HTML5 viewing API."""
from __future__ import annotations

import base64
import html
import json
from pathlib import Path
from urllib.parse import urlencode

from aiohttp import web

from ..core.sessions import ViewingSessions
from .encryption import CONTENT_KEYS
from .security import viewer_page_headers
from .html5 import PAGES
from .viewer_assets import with_assets
from .viewer_facts import scale_text, viewer_facts
from .viewing_sessions import SESSIONS

VIEWER_DIR = Path(__file__).resolve().parent.parent / "viewer"
DEFAULT_PERMISSIONS = {"print": True, "download": True}


def viewer_config(sessions: ViewingSessions, session_id: str) -> dict:
    """What the viewer page needs to know about a session; raises the session's own error when unusable."""
    record = sessions.usable(session_id)
    mode = "compare" if (record.get("original") or record.get("revised")) else "view"
    permissions = {**DEFAULT_PERMISSIONS, **(record.get("viewerPermissions") or {})}
    config = {"viewingSessionId": session_id, "permissions": permissions, "mode": mode, "apiBase": ""}
    annotations = annotation_mode(record["props"])
    if annotations is not None:
        config["annotations"] = annotations
    name = record.get("documentName") or record["props"].get("attachmentDisplayName")
    if isinstance(name, str) and name:
        config["documentName"] = name  # shown in the toolbar and used for downloads
    return config


def annotation_mode(props: dict) -> dict | None:
    """The session's `viewerOptions.annotations` ("edit" or "readonly", anything else off) and the name its
    marks are saved under (`viewerOptions.userName`); annotation mode is off by default."""
    options = props.get("viewerOptions")
    if not isinstance(options, dict) or options.get("annotations") not in ("edit", "readonly"):
        return None
    user = options.get("userName")
    return {"mode": options["annotations"], "userName": user[:256] if isinstance(user, str) and user else "Anonymous"}


# JSON escapes for every character that means something to the HTML parser inside a script element ('<!--',
# '<script', '</script'), and for the line separators JavaScript source once refused: no string from a document
# or a client can change the page's structure, and JSON.parse reads the same value back
_SCRIPT_SAFE = str.maketrans({"<": "\\u003c", ">": "\\u003e", "&": "\\u0026", "\u2028": "\\u2028",
                              "\u2029": "\\u2029"})


def script_safe_json(data: dict) -> str:
    return json.dumps(data, ensure_ascii=False).translate(_SCRIPT_SAFE)


def first_page_preloads(config: dict) -> str:
    """<link rel=preload> for the viewer's first requests (the page count and page 1's size), so they start
    beside the scripts instead of after them (page 1's image needs the zoom, known only in the browser). The URLs
    are exactly those api.js builds (same query order, same credentials mode), or the browser would not reuse
    the answers."""
    if "error" in config or config.get("apiBase"):
        return ""
    query = urlencode({"DocumentID": "u" + config["viewingSessionId"]})
    preview = config.get("firstPagePreview")
    if "firstPageAttributes" in config:  # the page carries these answers itself: page 1's preview is asked first
        if not preview or "encryption" in config:  # encrypted content needs a fresh iv per request
            return ""
        urls = [f"/PCCIS/V1/Page/q/0?{query}&ContentType=png&Scale={scale_text(preview['scale'])}"]
    else:
        urls = [f"/PCCIS/V1/Document/q/Attributes?{query}&DesiredPageCountConfidence=50",
                f"/PCCIS/V1/Page/q/0/Attributes?{query}&ContentType=svgb"]
    return "\n  ".join(f'<link rel="preload" as="fetch" crossorigin="anonymous" href="{html.escape(url)}">'
                        for url in urls)


def viewer_page(request: web.Request, config: dict) -> web.Response:
    template = with_assets((VIEWER_DIR / "viewer.html").read_text(encoding="utf-8"), VIEWER_DIR)
    page = template.replace("{{PRELOADS}}", first_page_preloads(config), 1)
    return web.Response(text=page.replace("{{CONFIG_JSON}}", script_safe_json(config)),
                        content_type="text/html",
                        headers={"Cache-Control": "no-store", **viewer_page_headers(request)})


async def landing(request: web.Request) -> web.StreamResponse:
    return web.FileResponse(VIEWER_DIR / "index.html", headers={"Content-Type": "text/html; charset=utf-8",
                                                                **viewer_page_headers(request)})


async def viewer(request: web.Request) -> web.Response:
    sessions = request.app[SESSIONS]
    session_id = request.match_info["id"]
    try:
        config = viewer_config(sessions, session_id)
        record = sessions.load(session_id)
        if record["props"].get("pageContentEncryption"):
            # the key that unwraps this session's content keys: only its viewer page carries it
            key = request.app[CONTENT_KEYS].wrapping_key(session_id)
            config["encryption"] = {"key": base64.b64encode(key).decode("ascii")}
        # the first requests' answers in the page itself: page 1 is asked for as soon as the scripts run
        config.update(await viewer_facts(request.app[PAGES], record))
    except Exception as exc:  # an unusable session still gets the viewer, which shows the reason
        status = getattr(exc, "status", 404)
        message = getattr(exc, "message", "") or "This document is not available"
        config = {"viewingSessionId": session_id, "permissions": DEFAULT_PERMISSIONS, "mode": "view",
                  "apiBase": "", "error": {"status": status, "message": message}}
    return viewer_page(request, config)
