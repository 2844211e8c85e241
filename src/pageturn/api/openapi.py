"""The OpenAPI 3.1 document (`/openapi.json`), built from the descriptions in api/openapi_paths.py, and the API
reference page (`/docs`): Swagger UI vendored from the npm registry (scripts/vendor_swagger_ui.sh), served by
pageturn itself under a CSP that allows only this server's own scripts and styles."""
from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from aiohttp import web

from .. import __version__
from .common import json_response
from .openapi_paths import OPERATIONS, TAG_ORDER, Op
from .security import page_csp, FRAME_ANCESTORS

APIDOCS_DIR = Path(__file__).resolve().parent.parent / "apidocs"
_PARAM = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)(?::[^{}]*)?\}")
_BODIES = {"json": "application/json", "binary": "application/octet-stream", "multipart": "multipart/form-data",
           "form": "application/x-www-form-urlencoded"}
_DOCUMENT = web.AppKey("openapi_document", dict)


def openapi_path(declared: str) -> str:
    """`/v2/viewingSessions/{id}/sourceFile/{role:original|revised}` -> `/v2/viewingSessions/{id}/sourceFile/{role}`."""
    return _PARAM.sub(lambda m: "{" + m.group(1) + "}", declared)


def _operation(method: str, path: str, op: Op) -> dict[str, Any]:
    params: list[dict[str, Any]] = [{"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
                                    for name in _PARAM.findall(path)]
    for name in op.query:
        params.append({"name": name.rstrip("!"), "in": "query", "required": name.endswith("!"),
                       "schema": {"type": "string"}})
    responses: dict[str, Any] = {}
    for status, text in op.responses.items():
        answer: dict[str, Any] = {"description": text}
        if status == "200" and op.produces:
            answer["content"] = {op.produces: {}}
        responses[status] = answer
    operation: dict[str, Any] = {"summary": op.summary, "tags": [op.tag], "responses": responses,
                                 "operationId": method.lower() + re.sub(r"[^A-Za-z0-9]+", "_", path).rstrip("_")}
    if params:
        operation["parameters"] = params
    if op.body:
        operation["requestBody"] = {"content": {_BODIES[op.body]: {}}}
    return operation


def document(operations: dict[tuple[str, str], Op] = OPERATIONS) -> dict[str, Any]:
    paths: dict[str, dict[str, Any]] = {}
    def order(item: tuple[tuple[str, str], Op]) -> tuple[int, str]:
        tag = item[1].tag
        return (TAG_ORDER.index(tag) if tag in TAG_ORDER else len(TAG_ORDER), item[0][1])
    for (method, declared), op in sorted(operations.items(), key=order):
        path = openapi_path(declared)
        paths.setdefault(path, {})[method.lower()] = _operation(method, path, op)
    return {
        "openapi": "3.1.0",
        "info": {"title": "pageturn", "version": __version__,
                 "description": "PrizmDoc Server REST API, Zoho Office Integrator Writer API and pageturn's "
                                "operations endpoints. Errors keep each protocol's own shape."},
        "tags": [{"name": tag} for tag in TAG_ORDER],
        "paths": paths,
    }


async def openapi_json(request: web.Request) -> web.Response:
    app = request.app
    if _DOCUMENT not in app:
        app[_DOCUMENT] = document()
    return json_response(app[_DOCUMENT])


async def docs_page(request: web.Request) -> web.StreamResponse:
    # no inline script: the initializer is a file (docs.js), so the page runs under the viewer's strict CSP
    return web.FileResponse(APIDOCS_DIR / "docs.html",
                            headers={"Content-Type": "text/html; charset=utf-8",
                                     "Content-Security-Policy": page_csp(request.app[FRAME_ANCESTORS])})
