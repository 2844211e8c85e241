"""PrizmDoc work-file URLs."""
from __future__ import annotations

from aiohttp import web

from ..core.errors import NotFound, invalid
from ..core.records import WorkFileRecord
from ..core.workfiles import WorkFiles, parse_extension_param
from .common import body_chunks, json_response, query_param
from .security import document_headers

WORKFILES = web.AppKey("workfiles", WorkFiles)


def _record(request: web.Request) -> WorkFileRecord:
    record = request.app[WORKFILES].get(request.match_info["fileId"])
    if record is None:
        raise NotFound("The work file has expired or does not exist", error_code="NotFound")
    return record


async def create(request: web.Request) -> web.Response:
    extension = parse_extension_param(query_param(request, "FileExtension"))
    min_seconds = query_param(request, "MinSecondsAvailable")
    if min_seconds is not None:
        if not min_seconds.isdigit() or not 0 < int(min_seconds) <= 10 * 365 * 86400:
            raise invalid("MinSecondsAvailable", "a positive whole number of seconds", where="query",
                          received=min_seconds)
    record = await request.app[WORKFILES].receive(
        body_chunks(request), extension, min_seconds=int(min_seconds) if min_seconds else None,
        require_format=False, content_length=request.content_length)
    return json_response({"fileId": record["fileId"], "fileExtension": record["fileExtension"],
                          "affinityToken": record["affinityToken"]})


async def get(request: web.Request) -> web.StreamResponse:
    record = _record(request)
    return web.FileResponse(await request.app[WORKFILES].local_path(record),
                            headers=document_headers(record["fileExtension"]))


async def info(request: web.Request) -> web.Response:
    return json_response(request.app[WORKFILES].info(_record(request)))


async def delete(request: web.Request) -> web.Response:
    _record(request)
    request.app[WORKFILES].delete(request.match_info["fileId"])
    return web.Response(status=204)
