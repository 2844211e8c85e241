"""PrizmDoc search URLs: search contexts, and search tasks over a context or a viewing session's document.

Results of a task over a session with `pageContentEncryption` are page content (hit text and context): they
are encrypted like that session's Text and refused without an `iv`. A task's state (its input, progress and
counts) is not content and stays plain."""
from __future__ import annotations

import json
import logging

from aiohttp import web

from ..core.errors import InputError, invalid
from ..core.records import SessionRecord
from ..core.search_contexts import SearchContexts
from ..core.search_tasks import ResultsPage, SearchTasks, Target
from .common import JSON_TYPE, json_body_or_invalid, json_response, query_param, read_json
from .encryption import encrypted_response, require_iv
from .viewing_sessions import SESSIONS

log = logging.getLogger(__name__)

TASKS = web.AppKey("search_tasks", SearchTasks)
CONTEXTS = web.AppKey("search_contexts", SearchContexts)
MAX_RECORDS_BODY = 96 << 20
NO_STORE = {"Cache-Control": "no-store"}


def _answer(body: dict) -> web.Response:
    return json_response(body, headers=NO_STORE)


async def _results(request: web.Request, page: ResultsPage, session: SessionRecord | None,
                   iv: bytes | None) -> web.Response:
    """{"results": [...], ...rest}: the hits are spliced in as the JSON text they were stored as. A task over an
    encrypted session answers its results encrypted like the session's Text (hits carry page text)."""
    rest = json.dumps(page.rest, separators=(",", ":"), ensure_ascii=False)
    body = ('{"results":[' + ",".join(page.hits) + "]" + ("," + rest[1:] if page.rest else "}")).encode("utf-8")
    if session is not None and iv is not None:
        return await encrypted_response(request, session, iv, data=body)
    return web.Response(body=body, headers={**NO_STORE, "Content-Type": JSON_TYPE})


async def _read_results(request: web.Request, session_id: str | None = None) -> web.Response:
    """A task's results, refused (480 MissingInput, as its session's Text is) without an iv when that session's
    content is encrypted: never sent in clear, and refused before any wait for hits."""
    tasks = request.app[TASKS]
    task = tasks.load(request.match_info["processId"], session_id=session_id)
    session = iv = None
    if task["session"] is not None:
        session = request.app[SESSIONS].usable(task["session"])
        iv = require_iv(request, session)
    body = await tasks.results(task, limit_raw=query_param(request, "limit"),
                               token=query_param(request, "continueToken"), session_id=session_id)
    return await _results(request, body, session, iv)


# ---- search contexts ---------------------------------------------------------------------------------------
async def create_context(request: web.Request) -> web.Response:
    body = await json_body_or_invalid(request)
    return _answer(request.app[CONTEXTS].create(body))


async def get_context(request: web.Request) -> web.Response:
    contexts = request.app[CONTEXTS]
    return _answer(contexts.describe(contexts.load(request.match_info["contextId"])))


async def delete_context(request: web.Request) -> web.Response:
    request.app[CONTEXTS].delete(request.match_info["contextId"])
    return web.Response(status=204)


async def get_records(request: web.Request) -> web.Response:
    body = await request.app[CONTEXTS].records(request.match_info["contextId"], query_param(request, "pages"))
    return _answer(body)


async def put_records(request: web.Request) -> web.Response:
    try:
        body = await read_json(request, max_bytes=MAX_RECORDS_BODY)
    except (ValueError, UnicodeDecodeError):
        raise invalid("", 'a JSON body such as {"pages": [{"text": "..."}]}') from None
    return _answer(request.app[CONTEXTS].put_records(request.match_info["contextId"], body))


async def complete_context(request: web.Request) -> web.Response:
    return _answer(request.app[CONTEXTS].complete(request.match_info["contextId"]))


# ---- search tasks over a context -------------------------------------------------------------------------------
async def create_task(request: web.Request) -> web.Response:
    body = await json_body_or_invalid(request)
    contexts = request.app[CONTEXTS]
    answer = request.app[TASKS].start(body, lambda echo: contexts.target(echo["contextId"]), context_form=True)
    return _answer(answer)


async def get_task(request: web.Request) -> web.Response:
    tasks = request.app[TASKS]
    return _answer(tasks.describe(tasks.load(request.match_info["processId"])))


async def get_results(request: web.Request) -> web.Response:
    return await _read_results(request)


async def delete_task(request: web.Request) -> web.Response:
    await request.app[TASKS].delete(request.match_info["processId"])
    return web.Response(status=204)


# ---- search tasks over a viewing session ---------------------------------------------------------------------------
def _session_target(request: web.Request) -> Target:
    session = request.app[SESSIONS].usable(request.match_info["id"])
    has_document = session.get("source") or (session.get("original") and session.get("revised"))
    if not has_document:
        raise InputError("DocumentNotProvidedYet", {"in": "path", "at": "viewingSessionId",
                                                    "message": "The viewing session has no document yet"})
    return Target(session, session_id=session["id"], affinity_token=session.get("affinityToken"))


async def create_session_task(request: web.Request) -> web.Response:
    target = _session_target(request)
    body = await json_body_or_invalid(request)
    return _answer(request.app[TASKS].start(body, lambda _echo: target))


async def get_session_task(request: web.Request) -> web.Response:
    request.app[SESSIONS].usable(request.match_info["id"])
    tasks = request.app[TASKS]
    return _answer(tasks.describe(tasks.load(request.match_info["processId"], session_id=request.match_info["id"])))


async def get_session_results(request: web.Request) -> web.Response:
    request.app[SESSIONS].usable(request.match_info["id"])
    return await _read_results(request, request.match_info["id"])


async def delete_session_task(request: web.Request) -> web.Response:
    request.app[SESSIONS].usable(request.match_info["id"])
    await request.app[TASKS].delete(request.match_info["processId"], session_id=request.match_info["id"])
    return web.Response(status=204)
