"""Zoho Office Integrator Writer URLs (/writer/officeapi/v1): preview, compare, sessions and documents.

They live in a sub-application with its own error middleware, so every failure under the prefix (an unknown
URL, a wrong method, a domain error, a bug) leaves as Zoho's HTTP 400 JSON: the official SDKs read only 200
and 400 answers and drop anything else silently."""
from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from pathlib import PurePosixPath
from typing import AsyncIterator
from urllib.parse import parse_qsl

from aiohttp import BodyPartReader, web

from ..core import formats
from ..core.errors import DomainError, SessionGone, SessionNotFound, TooLarge, UnrecognizedFormat
from ..core.records import WorkFileRecord
from ..core.url_fetch import FetchError, fetch_to_workfile
from ..core.workfiles import WorkFiles
from ..core.zoho import (INTERNAL_ERROR, INVALID_METHOD, INVALID_NAME, MISSING_PARAMETER, UNSUPPORTED_FORMAT,
                         CompareOptions, PreviewOptions, ZohoError, ZohoService, expired_session,
                         invalid_value, parse_document_info, parse_lang, parse_permissions, parse_title,
                         unknown_session, unsupported_format)
from .common import CHUNK, read_body
from .errors import client_disconnected
from .hosts import base_url

log = logging.getLogger(__name__)

BASE = "/writer/officeapi/v1"
PREVIEW_FIELDS = ("apikey", "document", "url", "document_info", "permissions", "lang")
COMPARE_FIELDS = ("apikey", "document1", "url1", "document2", "url2", "title", "lang")
FIELD_LIMIT = 64 << 10  # bytes of one text field
FORM_LIMIT = 1 << 20    # a url-encoded body (the document itself always comes as multipart)
_TEXT_TYPES = {"text/plain": "txt", "text/csv": "csv", "text/tab-separated-values": "tsv", "text/html": "html"}


ZOHO = web.AppKey("zoho", ZohoService)


# ---- errors ---------------------------------------------------------------------------------------------------
def zoho_json(data: dict, status: int = 200) -> web.Response:
    """JSON without the apostrophe character: the Python SDK turns ' into " before parsing a reply (even an
    escaped one, as it re-serializes parsed objects), so a message or a document name holding one would make
    it fail. Answers carry the typographic apostrophe (U+2019) instead."""
    text = json.dumps(data, separators=(",", ":"), ensure_ascii=False).replace("'", "\u2019")
    return web.Response(body=text.encode("utf-8"), status=status, content_type="application/json",
                        charset="utf-8")


def zoho_response(error: ZohoError) -> web.Response:
    return zoho_json(error.body(), 400)


def as_zoho_error(request: web.Request, exc: BaseException) -> ZohoError:
    """Any failure, in Zoho's terms."""
    if isinstance(exc, ZohoError):
        return exc
    if isinstance(exc, FetchError):
        return invalid_value("url", exc.message)
    if isinstance(exc, UnrecognizedFormat):
        return unsupported_format("document")
    if isinstance(exc, TooLarge):
        return invalid_value("document", exc.message or "The document is too large")
    if isinstance(exc, SessionNotFound):
        return unknown_session()
    if isinstance(exc, SessionGone):
        return expired_session()
    if isinstance(exc, web.HTTPMethodNotAllowed):
        return ZohoError(INVALID_METHOD, f"Invalid method. {request.method} is not supported on this URL; "
                         f"use {', '.join(sorted(exc.allowed_methods))}.")
    if isinstance(exc, web.HTTPNotFound):
        return ZohoError(INVALID_METHOD, f"Invalid method. This server has no API at {request.path} (it serves "
                         "document/preview, document/compare, sessions/{session_id} and documents/{document_id}).")
    if isinstance(exc, web.HTTPRequestEntityTooLarge):
        return invalid_value("document", "The request body is too large")
    if isinstance(exc, web.HTTPException):
        return invalid_value("", exc.reason)
    if isinstance(exc, DomainError):
        return invalid_value("", exc.message or type(exc).__name__)
    if client_disconnected(exc):
        log.debug("client went away during %s %s: %s", request.method, request.path, exc)
    else:
        log.error("unhandled error on %s %s", request.method, request.path, exc_info=exc)
    return ZohoError(INTERNAL_ERROR, "Internal Server Error while processing this request.")


@web.middleware
async def zoho_errors(request: web.Request, handler):
    try:
        return await handler(request)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        return zoho_response(as_zoho_error(request, exc))
    except Exception as exc:  # every failure under the prefix is Zoho's 400 JSON
        return zoho_response(as_zoho_error(request, exc))


# ---- request helpers --------------------------------------------------------------------------------------------
def _zoho(request: web.Request) -> ZohoService:
    return request.app[ZOHO]


def _base(request: web.Request) -> str:
    zoho = _zoho(request)
    base = base_url(request, zoho.public_url, zoho.allowed_hosts)
    if base is None:
        raise invalid_value("Host", "This server does not answer for the host named in the Host header; set "
                            "public_url or allowed_hosts")
    return base


def _query_key(request: web.Request) -> str | None:
    """The apikey in the query; SDKs end the query with '&' and empty pairs are ignored."""
    for name, value in request.query.items():
        if name.lower() == "apikey" and value:
            return value
    return None


async def _tenant(request: web.Request) -> str:
    """GET and DELETE: the key comes in the query, or as a field of a url-encoded or multipart body."""
    key = _query_key(request)
    if key is None and request.content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
        key = (await _form_fields(request)).get("apikey") or None
    return _zoho(request).tenants.identify(key)


async def _form_fields(request: web.Request) -> dict[str, str]:
    """The text fields of a small form body, whatever the method (aiohttp's post() reads no GET body)."""
    fields: dict[str, str] = {}
    if request.content_type == "multipart/form-data":
        with _readable_multipart():
            reader = await request.multipart()
            while (part := await reader.next()) is not None:
                if isinstance(part, BodyPartReader) and part.name and part.filename is None:
                    fields.setdefault(part.name, await _read_text(part))
        return fields
    for name, value in await _urlencoded(request):
        fields.setdefault(name, value)
    return fields


@contextlib.contextmanager
def _readable_multipart():
    """A malformed multipart body is the client's error (1831), not the server's."""
    try:
        yield
    except (ValueError, AssertionError, asyncio.IncompleteReadError) as exc:
        raise invalid_value("", f"The multipart body could not be read: {exc}") from None


async def _urlencoded(request: web.Request) -> list[tuple[str, str]]:
    raw = await read_body(request, FORM_LIMIT)
    if raw is None:
        raise invalid_value("", f"A url-encoded body may hold at most {FORM_LIMIT} bytes; send documents as "
                            "multipart/form-data")
    try:
        return parse_qsl(raw.decode("utf-8"), keep_blank_values=True)
    except UnicodeDecodeError:
        raise invalid_value("", "The url-encoded body is not UTF-8") from None


def _extension_hint(filename: str | None, content_type: str | None) -> str | None:
    suffix = PurePosixPath(filename or "").suffix[1:].lower()
    if suffix and formats.format_of(suffix) is not None:
        return suffix
    return _TEXT_TYPES.get((content_type or "").split(";")[0].strip().lower())


async def _part_chunks(part: BodyPartReader) -> AsyncIterator[bytes]:
    while chunk := await part.read_chunk(CHUNK):
        yield chunk


async def _read_text(part: BodyPartReader) -> str:
    data = bytearray()
    while chunk := await part.read_chunk(CHUNK):
        data += chunk
        if len(data) > FIELD_LIMIT:
            raise invalid_value(part.name or "", f"{part.name} is longer than {FIELD_LIMIT} bytes")
    try:
        return data.decode(part.get_charset("utf-8"))
    except (UnicodeDecodeError, LookupError):
        raise invalid_value(part.name or "", f"{part.name} is not UTF-8 text") from None


class ZohoForm:
    """The fields of one request: text fields, and file parts streamed into work files as they arrive. The
    caller takes the work files it hands on (`take`) and must `discard()` the rest."""

    def __init__(self, workfiles: WorkFiles, fields: tuple[str, ...], file_fields: tuple[str, ...], action: str):
        self.workfiles = workfiles
        self.fields = fields
        self.file_fields = file_fields
        self.action = action
        self.text: dict[str, str] = {}
        self.works: dict[str, WorkFileRecord] = {}
        self.filenames: dict[str, str] = {}

    def _take(self, name: str | None) -> str:
        if name not in self.fields:
            raise ZohoError(INVALID_NAME, f"Unknown parameter {name}; {self.action} accepts "
                            + ", ".join(self.fields), name or "")
        if name in self.text or name in self.filenames:
            raise invalid_value(name, f"{name} is given more than once")
        return name

    async def read(self, request: web.Request) -> None:
        if request.content_type == "multipart/form-data":
            await self._read_multipart(request)
        elif request.content_type == "application/x-www-form-urlencoded":
            for name, value in await _urlencoded(request):
                self.text[self._take(name)] = value
        for name in self.file_fields:
            if name in self.text:
                raise invalid_value(name, f"{name} must be a file part of a multipart/form-data body")

    async def _read_multipart(self, request: web.Request) -> None:
        with _readable_multipart():
            reader = await request.multipart()
            while (part := await reader.next()) is not None:
                if not isinstance(part, BodyPartReader):
                    raise invalid_value("", "nested multipart bodies are not supported")
                name = self._take(part.name)
                if name in self.file_fields:
                    await self._receive_file(name, part)
                else:
                    self.text[name] = await _read_text(part)

    async def _receive_file(self, name: str, part: BodyPartReader) -> None:
        self.filenames[name] = part.filename or ""
        hint = _extension_hint(part.filename, part.headers.get("Content-Type"))
        try:
            self.works[name] = await self.workfiles.receive(_part_chunks(part), hint)
        except UnrecognizedFormat:
            raise unsupported_format(name) from None
        except DomainError as exc:
            if exc.error_code == "MissingInput":
                raise invalid_value(name, f"The {name} file is empty") from None
            raise

    async def document(self, zoho: ZohoService, file_field: str, url_field: str
                       ) -> tuple[WorkFileRecord, str | None]:
        """The work file of one document, given as a file part or as a URL the server downloads, and its name.
        It stays in the form (discarded with it) until `take`n."""
        url = self.text.get(url_field, "").strip() or None
        work = self.works.get(file_field)
        if work is None and url is None:
            raise ZohoError(MISSING_PARAMETER, f"Mandatory parameter(s) missing: give a {file_field} file or a "
                            f"{url_field}.", file_field)
        if work is not None and url is not None:
            raise invalid_value(url_field, f"Give either {file_field} or {url_field}, not both")
        if url is None:
            stem = PurePosixPath(self.filenames.get(file_field) or "").stem
            # the official SDKs send the field's own name as the file name: that names nothing
            assert work is not None
            return work, stem if stem and stem != file_field else None
        try:
            fetched = await fetch_to_workfile(url, zoho.workfiles, allow=zoho.allow, timeout=zoho.fetch_timeout,
                                              max_size=zoho.max_size)
        except FetchError as exc:
            raise invalid_value(url_field, exc.message) from None
        except UnrecognizedFormat:
            raise unsupported_format(url_field) from None
        except TooLarge as exc:
            raise invalid_value(url_field, exc.message) from None
        self.works[file_field] = fetched
        return fetched, fetched.get("sourceName")

    def take(self, file_field: str) -> WorkFileRecord:
        """Hands a work file on: the form no longer deletes it."""
        return self.works.pop(file_field)

    def discard(self) -> None:
        for work in self.works.values():
            self.workfiles.delete(work["fileId"])
        self.works.clear()


def preview_options(text: dict[str, str]) -> PreviewOptions:
    options = PreviewOptions()
    if "document_info" in text:
        options.document_name = parse_document_info(text["document_info"])
    if "permissions" in text:
        options.permissions, options.viewer_permissions = parse_permissions(text["permissions"])
    if text.get("lang"):
        options.lang = parse_lang(text["lang"])
    return options


def compare_options(text: dict[str, str]) -> CompareOptions:
    options = CompareOptions()
    if "title" in text:
        options.title = parse_title(text["title"])
    if text.get("lang"):
        options.lang = parse_lang(text["lang"])
    return options


# ---- handlers ---------------------------------------------------------------------------------------------------
async def _read_form(request: web.Request, form: ZohoForm) -> str:
    """Reads the form and returns the tenant; a bad key in the query stops before the body is read."""
    zoho = _zoho(request)
    query_key = _query_key(request)
    tenant = zoho.tenants.identify(query_key) if query_key else None
    await form.read(request)
    return tenant if tenant is not None else zoho.tenants.identify(form.text.get("apikey"))


async def preview(request: web.Request) -> web.Response:
    zoho = _zoho(request)
    form = ZohoForm(zoho.workfiles, PREVIEW_FIELDS, ("document",), "a preview")
    try:
        tenant = await _read_form(request, form)
        options = preview_options(form.text)
        _, name = await form.document(zoho, "document", "url")
        created = await zoho.previews.preview(tenant, form.take("document"), options, name=name)
    finally:
        form.discard()
    base = _base(request) + BASE
    session_id, document_id = created["session_id"], created["document_id"]
    return zoho_json({
        "preview_url": f"{base}/documents/{session_id}/preview",
        "session_id": session_id,
        "session_delete_url": f"{base}/sessions/{session_id}",
        "document_id": document_id,
        "document_delete_url": f"{base}/documents/{document_id}",
    })


def _word_document(zoho: ZohoService, work: WorkFileRecord, parameter: str) -> None:
    """Comparison takes Word documents only, judged by their bytes (never by a file name)."""
    if formats.detect(zoho.workfiles.path(work)) not in formats.WORD_FORMATS:
        raise ZohoError(UNSUPPORTED_FORMAT, f"The file format is not supported: {parameter} must be a Word "
                        "document (.doc or .docx) to compare.", parameter)


async def compare(request: web.Request) -> web.Response:
    """Two Word documents -> a comparison session (original = document1, revised = document2) the viewer shows
    with every change marked."""
    zoho = _zoho(request)
    form = ZohoForm(zoho.workfiles, COMPARE_FIELDS, ("document1", "document2"), "a comparison")
    try:
        tenant = await _read_form(request, form)
        options = compare_options(form.text)
        original, first_name = await form.document(zoho, "document1", "url1")
        _word_document(zoho, original, "url1" if form.text.get("url1", "").strip() else "document1")
        revised, second_name = await form.document(zoho, "document2", "url2")
        _word_document(zoho, revised, "url2" if form.text.get("url2", "").strip() else "document2")
        created = await zoho.previews.compare(tenant, form.take("document1"), form.take("document2"), options,
                                              names=(first_name, second_name))
    finally:
        form.discard()
    base = _base(request) + BASE
    session_id = created["session_id"]
    return zoho_json({
        "compare_url": f"{base}/documents/{session_id}/compare",
        "session_id": session_id,
        "session_delete_url": f"{base}/sessions/{session_id}",
    })


async def viewer_page(request: web.Request) -> web.Response:
    """The preview_url or compare_url a browser opens: the session id is the capability (no key), and the web
    viewer shows the document (or the comparison) with the session's permissions, or why it cannot (deleted,
    expired)."""
    session_id = request.match_info["session_id"]
    if not _zoho(request).previews.opened(session_id, request.match_info["view"]):
        raise unknown_session()
    return web.Response(status=302, headers={"Location": f"{_base(request)}/viewer/{session_id}",
                                             "Cache-Control": "no-store"})


async def get_session(request: web.Request) -> web.Response:
    tenant = await _tenant(request)
    session_id = request.match_info["session_id"]
    previews = _zoho(request).previews
    answer = previews.session_info(tenant, session_id)
    base = _base(request) + BASE
    answer["info"]["session_url"] = f"{base}/documents/{session_id}/{previews.view_of(session_id)}"
    answer["info"]["session_delete_url"] = f"{base}/sessions/{session_id}"
    return zoho_json(answer)


async def delete_session(request: web.Request) -> web.Response:
    tenant = await _tenant(request)
    await _zoho(request).previews.delete_session(tenant, request.match_info["session_id"])
    # the page documents session_delete; every official SDK reads session_deleted
    return zoho_json({"session_delete": True, "session_deleted": True})


async def get_document(request: web.Request) -> web.Response:
    tenant = await _tenant(request)
    return zoho_json(_zoho(request).previews.document_info(tenant, request.match_info["document_id"]))


async def delete_document(request: web.Request) -> web.Response:
    tenant = await _tenant(request)
    await _zoho(request).previews.delete_document(tenant, request.match_info["document_id"])
    return zoho_json({"document_deleted": True})


async def _sweeper(app: web.Application):
    task = asyncio.create_task(app[ZOHO].sweep_forever())
    yield
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


# Every Zoho URL, by its full path (the sub-application is mounted at BASE).
ROUTES = (
    ("POST", BASE + "/document/preview", preview),
    ("POST", BASE + "/document/compare", compare),
    ("GET", BASE + "/documents/{session_id}/{view:preview|compare}", viewer_page),
    ("GET", BASE + "/sessions/{session_id}", get_session),
    ("DELETE", BASE + "/sessions/{session_id}", delete_session),
    ("GET", BASE + "/documents/{document_id}", get_document),
    ("DELETE", BASE + "/documents/{document_id}", delete_document),
)


def setup(app: web.Application, service: ZohoService) -> web.Application:
    """Mount the Zoho API under /writer/officeapi/v1 of `app`, in a sub-application whose error middleware
    answers every failure under the prefix in Zoho's shape."""
    if not len(service.tenants):
        log.info("Zoho API: no keys configured (zoho_api_keys), so it refuses every request")
    zoho = web.Application(middlewares=[zoho_errors])
    zoho[ZOHO] = service
    for method, path, handler in ROUTES:
        if method == "GET":  # HEAD as well, as add_get does
            zoho.router.add_get(path.removeprefix(BASE), handler)
        else:
            zoho.router.add_route(method, path.removeprefix(BASE), handler)
    zoho.cleanup_ctx.append(_sweeper)
    app.add_subapp(BASE, zoho)
    return zoho
