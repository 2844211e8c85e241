"""PrizmDoc markup burning and redaction URLs: the markup burner (work files, and the viewing session's own),
redaction creators and plain-text redactors. Each POST starts a process; GET polls it by processId."""
from __future__ import annotations

from aiohttp import web

from ..core.errors import NotFound
from ..core.markup_service import MarkupService
from ..core.processes import Processes
from .common import content_disposition, json_body_or_invalid, json_response, query_param
from .viewing_sessions import SESSIONS

MARKUP = web.AppKey("markup_service", MarkupService)


def _service(request: web.Request) -> MarkupService:
    return request.app[MARKUP]


def _process(request: web.Request, kind: str, owner: str | None = None):
    record = _service(request).processes.get(kind, request.match_info["processId"], owner)
    if record is None:
        raise NotFound("No such process, or it has expired", error_code="NotFound")
    return record


async def start_burner(request: web.Request) -> web.Response:
    record = _service(request).start_burner(await json_body_or_invalid(request))
    return json_response(Processes.describe(record))


async def get_burner(request: web.Request) -> web.Response:
    return json_response(Processes.describe(_process(request, "markupBurner")))


def _session_id(request: web.Request) -> str:
    sessions = request.app[SESSIONS]
    session_id = sessions.parse_id(request.match_info["sid"])
    sessions.usable(session_id)
    return session_id


def _pas_shape(record) -> dict:
    """The viewer control's shape for the session's burner: every key present, null when not set."""
    return {"input": None, "errorCode": None, "output": None, **Processes.describe(record, echo_input=False)}


async def start_session_burner(request: web.Request) -> web.Response:
    session_id = _session_id(request)
    session = request.app[SESSIONS].usable(session_id)
    record = _service(request).start_session_burner(session, await json_body_or_invalid(request))
    return json_response(_pas_shape(record))


async def get_session_burner(request: web.Request) -> web.Response:
    return json_response(_pas_shape(_process(request, "sessionMarkupBurner", _session_id(request))))


async def get_session_burned_document(request: web.Request) -> web.StreamResponse:
    record = _process(request, "sessionMarkupBurner", _session_id(request))
    service = _service(request)
    output = record["output"] if record["state"] == "complete" else None
    work = service.workfiles.get(output["documentFileId"]) if output else None
    if work is None:
        raise NotFound("The burned document is not ready, or has expired", error_code="NotFound")
    name = query_param(request, "ContentDispositionFilename") or "burned"
    if name.lower().endswith(".pdf"):
        name = name[:-4]
    return web.FileResponse(await service.workfiles.local_path(work), headers={
        "Content-Type": "application/pdf", "Content-Disposition": content_disposition(name, "pdf"),
        "Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"})


async def start_creator(request: web.Request) -> web.Response:
    record = _service(request).start_creator(await json_body_or_invalid(request))
    return json_response(Processes.describe(record))


async def get_creator(request: web.Request) -> web.Response:
    return json_response(Processes.describe(_process(request, "redactionCreator")))


async def start_plain_text(request: web.Request) -> web.Response:
    record = _service(request).start_plain_text(await json_body_or_invalid(request))
    return json_response(Processes.describe(record))


async def get_plain_text(request: web.Request) -> web.Response:
    return json_response(Processes.describe(_process(request, "plainTextRedactor")))
