"""PrizmDoc viewing-session URLs: translate HTTP to ViewingSessions calls and back."""
from __future__ import annotations

from aiohttp import web

from ..core import formats
from ..core.errors import invalid
from ..core.sessions import ViewingSessions
from ..core.workfiles import parse_extension_param
from .common import (body_chunks, content_disposition, json_body_or_invalid, json_response, query_param,
                     read_json)
from .errors import NOT_FOUND_AS_404, v2_route

SESSIONS = web.AppKey("sessions", ViewingSessions)
URL_FETCHER = web.AppKey("url_fetcher", object)  # async (url, *, extension, owner) -> work file record
V1 = "/PCCIS/V1/ViewingSession"


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
    request[NOT_FOUND_AS_404] = True  # documented: 404 when no such session
    await _sessions(request).delete(_id(request))
    return web.Response(status=204)


async def _upload(request: web.Request, session_id: str, role: str) -> web.Response:
    sessions = _sessions(request)
    extension = parse_extension_param(query_param(request, "FileExtension"))
    sessions.check_can_take(session_id, role)  # fail before reading a body we would refuse
    await sessions.upload(session_id, role, body_chunks(request), extension,
                          content_length=request.content_length)
    return web.Response(status=200)


async def put_source_file(request: web.Request) -> web.Response:
    return await _upload(request, _id(request), "source")


@v2_route
async def put_comparison_file(request: web.Request) -> web.Response:
    return await _upload(request, request.match_info["id"], request.match_info["role"])


async def put_source_ref(request: web.Request) -> web.Response:
    session_id = _id(request)
    _sessions(request).usable(session_id)
    body = await json_body_or_invalid(request)
    await _sessions(request).attach_ref(session_id, body)
    return web.Response(status=200)


_DEFAULT_NAMES = {"source": "SourceFile", "original": "OriginalSourceFile", "revised": "RevisedSourceFile"}


def _download(request: web.Request, session_id: str, role: str) -> web.StreamResponse:
    part, path = _sessions(request).source(session_id, role)
    name = query_param(request, "ContentDispositionFilename") or _DEFAULT_NAMES[role]
    return web.FileResponse(path, headers={
        "Content-Type": formats.mime_type(part["extension"]),
        "Content-Disposition": content_disposition(name, part["extension"]),
    })


async def get_source_file(request: web.Request) -> web.StreamResponse:
    return _download(request, _id(request), "source")


@v2_route
async def get_comparison_file(request: web.Request) -> web.StreamResponse:
    return _download(request, request.match_info["id"], request.match_info["role"])


async def get_file_id(request: web.Request) -> web.Response:
    return json_response(_sessions(request).file_id(_id(request)))


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


def _ending(state: str):
    async def handler(request: web.Request) -> web.Response:
        session_id = _id(request)
        _sessions(request).usable(session_id)
        body = await json_body_or_invalid(request)
        await _sessions(request).end(session_id, state, body if body is not None else {})
        return web.Response(status=200)
    handler.__name__ = f"session_{state}"
    return handler


async def replacement(request: web.Request) -> web.Response:
    session_id = _id(request)
    _sessions(request).usable(session_id, allow_errored=True)
    body = await json_body_or_invalid(request)
    if body is None:
        raise invalid("", 'a JSON object such as {"password": "..."}')
    record = await _sessions(request).replace(session_id, body)
    return json_response({"viewingSessionId": record["id"], "affinityToken": record["affinityToken"]})


def add_routes(app: web.Application) -> None:
    sid = V1 + "/{sid}"
    app.router.add_post(V1, create)
    app.router.add_get(sid, get)
    app.router.add_delete(sid, delete)
    app.router.add_put(sid + "/SourceFile", put_source_file)
    app.router.add_get(sid + "/SourceFile", get_source_file)
    app.router.add_put(sid + "/SourceRef", put_source_ref)
    app.router.add_get(sid + "/FileId", get_file_id)
    app.router.add_post(sid + "/Notification/SessionStarted", session_started)
    app.router.add_post(sid + "/Notification/SessionStopped", _ending("stopped"))
    app.router.add_post(sid + "/Notification/SessionErrored", _ending("errored"))
    app.router.add_post(sid + "/Replacement", replacement)
    v2 = "/v2/viewingSessions/{id}/sourceFile/{role:original|revised}"
    app.router.add_put(v2, put_comparison_file)
    app.router.add_get(v2, get_comparison_file)
