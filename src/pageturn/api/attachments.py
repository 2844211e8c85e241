"""GET ViewingSession/u{id}/Attachments: an e-mail's attachments, each with a viewing session of its own."""
from __future__ import annotations

from aiohttp import web

from ..core.attachments import Attachments
from .common import json_response
from .viewing_sessions import SESSIONS

ATTACHMENTS = web.AppKey("attachments", Attachments)


async def list_attachments(request: web.Request) -> web.Response:
    sessions = request.app[SESSIONS]
    session_id = sessions.parse_id(request.match_info["sid"])
    return json_response(await request.app[ATTACHMENTS].listing(sessions, session_id))
