"""PrizmDoc viewing-session URLs: translate HTTP to ViewingSessions calls and back."""
from __future__ import annotations

from typing import Awaitable, Callable, cast

from aiohttp import web

from ..core.errors import SessionGone, SessionNotFound, invalid
from ..core.records import Role, WorkFileRecord
from ..core.sessions import ViewingSessions
from ..core.workfiles import parse_extension_param
from ..core.zoho import Tenants, check_download, check_owner
from .common import (body_chunks, content_disposition, json_body_or_invalid, json_response, query_param,
                     read_json)
from .security import document_headers

SESSIONS = web.AppKey("sessions", ViewingSessions)
TENANTS = web.AppKey("zoho_tenants", Tenants)  # Zoho sessions are ended through these URLs with their key only
# documentSource "http": (url, *, extension, owner) -> the fetched work file
URL_FETCHER: web.AppKey[Callable[..., Awaitable[WorkFileRecord]]] = web.AppKey("url_fetcher")


def _sessions(request: web.Request) -> ViewingSessions:
    return request.app[SESSIONS]


def _id(request: web.Request) -> str:
    return _sessions(request).parse_id(request.match_info["sid"])


async def create(request: web.Request) -> web.Response:
    body = await json_body_or_invalid(request)
    sessions = _sessions(request)
    record = sessions.create(body, affinity_hint=request.headers.get("Accusoft-Affinity-Hint"),
                             extra={"workFileAffinityToken": request.headers.get("Accusoft-Affinity-Token")})
    if record["props"]["documentSource"] == "http":
        try:
            await sessions.attach_url(record["id"], request.app[URL_FETCHER])
        except Exception:
            await sessions.end(record["id"], "errored", {"httpStatus": 580, "endUserMessage":
                                                         "The document could not be downloaded"})
            raise
    return json_response({"viewingSessionId": record["id"], "affinityToken": record["affinityToken"]})


async def get(request: web.Request) -> web.Response:
    sessions = _sessions(request)
    return json_response(sessions.describe(sessions.usable(_id(request))))


async def delete(request: web.Request) -> web.Response:
    sessions = _sessions(request)
    session_id = _id(request)
    check_owner(sessions.load(session_id), request.app[TENANTS], query_param(request, "apikey"))
    try:
        await sessions.delete(session_id)
    except SessionGone:  # already deleted or expired: documented as 404, no such session
        raise SessionNotFound("No viewing session with this id could be found") from None
    return web.Response(status=204)


async def _upload(request: web.Request, session_id: str, role: Role) -> web.Response:
    sessions = _sessions(request)
    extension = parse_extension_param(query_param(request, "FileExtension"))
    sessions.check_can_take(session_id, role)  # fail before reading a body we would refuse
    await sessions.upload(session_id, role, body_chunks(request), extension,
                          content_length=request.content_length)
    return web.Response(status=200)


async def put_source_file(request: web.Request) -> web.Response:
    return await _upload(request, _id(request), "source")


def _comparison_role(request: web.Request) -> Role:
    role = request.match_info["role"]
    assert role in ("original", "revised")  # the route's pattern allows only these
    return cast(Role, role)


async def put_comparison_file(request: web.Request) -> web.Response:
    return await _upload(request, request.match_info["id"], _comparison_role(request))


async def put_source_ref(request: web.Request) -> web.Response:
    session_id = _id(request)
    _sessions(request).usable(session_id)
    body = await json_body_or_invalid(request)
    await _sessions(request).attach_ref(session_id, body)
    return web.Response(status=200)


_DEFAULT_NAMES = {"source": "SourceFile", "original": "OriginalSourceFile", "revised": "RevisedSourceFile"}


async def _download(request: web.Request, session_id: str, role: Role) -> web.StreamResponse:
    part, path = await _sessions(request).source(session_id, role)
    check_download(_sessions(request).load(session_id))
    name = query_param(request, "ContentDispositionFilename") or _DEFAULT_NAMES[role]
    return web.FileResponse(path, headers=document_headers(
        part["extension"], content_disposition(name, part["extension"])))


async def get_source_file(request: web.Request) -> web.StreamResponse:
    return await _download(request, _id(request), "source")


async def get_comparison_file(request: web.Request) -> web.StreamResponse:
    return await _download(request, request.match_info["id"], _comparison_role(request))


async def get_file_id(request: web.Request) -> web.Response:
    answer = _sessions(request).file_id(_id(request))
    check_download(_sessions(request).load(_id(request)))  # the work file id downloads the same bytes
    return json_response(answer)


async def session_started(request: web.Request) -> web.Response:
    session_id = _id(request)
    _sessions(request).usable(session_id)
    try:
        body = await read_json(request, allow_empty=False)
    except (ValueError, UnicodeDecodeError):
        # documented: a body that is not JSON gives 500
        return json_response({"errorCode": "InternalError", "errorDetails": {
            "message": "The request body must be JSON; send at least {}"}}, 500)
    await _sessions(request).start(session_id, body)
    return web.Response(status=200)


def _ending(state: str) -> Callable[[web.Request], Awaitable[web.Response]]:
    async def handler(request: web.Request) -> web.Response:
        session_id = _id(request)
        check_owner(_sessions(request).usable(session_id), request.app[TENANTS], query_param(request, "apikey"))
        body = await json_body_or_invalid(request)
        await _sessions(request).end(session_id, state, body if body is not None else {})
        return web.Response(status=200)
    handler.__name__ = f"session_{state}"
    return handler


session_stopped = _ending("stopped")
session_errored = _ending("errored")


async def replacement(request: web.Request) -> web.Response:
    session_id = _id(request)
    old = _sessions(request).usable(session_id, allow_errored=True)
    check_owner(old, request.app[TENANTS], query_param(request, "apikey"))  # replacing stops the old session
    body = await json_body_or_invalid(request)
    if body is None:
        raise invalid("", 'a JSON object such as {"password": "..."}')
    record = await _sessions(request).replace(session_id, body)
    return json_response({"viewingSessionId": record["id"], "affinityToken": record["affinityToken"]})
