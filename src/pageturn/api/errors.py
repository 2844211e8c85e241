"""Turns domain errors into the PrizmDoc error shapes; anything unexpected becomes a plain 500 JSON, never a
traceback. Another protocol (Zoho) raises errors that render themselves through `to_response()`."""
from __future__ import annotations

import logging
import re

from aiohttp import web

from ..core.errors import DomainError, InputError, ServerError, SessionNotFound, StatusOnlyError, TooLarge
from ..storage.blobs import StorageUnavailable
from .common import json_response

log = logging.getLogger(__name__)

# the routes whose spec answers 404 (not the V1 URLs' documented 500) for an unknown session: see api/routes.py
NOT_FOUND_ROUTES = web.AppKey("not_found_routes", set)
_UNSAFE_REASON = re.compile(r"[\x00-\x1f\x7f]")


def safe_reason(message: str) -> str:
    return _UNSAFE_REASON.sub(" ", message)[:500]


def status_only(status: int, message: str, number: int | None = None) -> web.Response:
    reason = safe_reason(message)
    header = reason.encode("latin-1", "replace").decode("latin-1")
    return web.Response(status=status, reason=reason, headers={
        "Accusoft-Status-Message": header, "Accusoft-Status-Number": str(number if number is not None else status)})


def error_response(request: web.Request, exc: Exception) -> web.StreamResponse:
    to_response = getattr(exc, "to_response", None)
    if callable(to_response):
        return to_response()
    if isinstance(exc, SessionNotFound):
        if request.match_info.route in request.app.get(NOT_FOUND_ROUTES, ()):
            return web.Response(status=404, reason="Not Found")
        return json_response({"errorCode": "InternalError", "errorDetails": {"message": exc.message}}, 500)
    if isinstance(exc, StatusOnlyError):
        return status_only(exc.status, exc.message, exc.status_number)
    if isinstance(exc, (InputError, ServerError)):
        body = {"errorCode": exc.error_code}
        if exc.details is not None:
            body["errorDetails"] = exc.details
        return json_response(body, exc.status, reason=exc.error_code)
    if isinstance(exc, TooLarge):
        return json_response({"errorCode": "RequestTooLarge", "errorDetails": {"message": exc.message}}, 413)
    if isinstance(exc, DomainError):
        return json_response({"errorCode": exc.error_code or "Error", "errorDetails": {"message": exc.message}},
                             exc.status)
    if isinstance(exc, StorageUnavailable):  # S3 down: a clear, retryable 503; nothing was acknowledged
        return json_response({"errorCode": exc.code, "errorDetails": {"message": exc.message}}, 503)
    if client_disconnected(exc):
        log.debug("client went away during %s %s: %s", request.method, request.path, exc)
        return web.Response(status=499, reason="Client Closed Request")  # nobody reads it
    log.exception("unhandled error on %s %s", request.method, request.path, exc_info=exc)
    return json_response({"errorCode": "InternalError"}, 500)


def client_disconnected(exc: BaseException) -> bool:
    """The client closed the connection (aiohttp's ClientConnectionResetError is a ConnectionResetError): its
    own choice, not a server fault worth a traceback."""
    return isinstance(exc, ConnectionResetError)


@web.middleware
async def error_middleware(request: web.Request, handler):
    try:
        return await handler(request)
    except web.HTTPException:
        raise
    except Exception as exc:  # every error leaves as a protocol-shaped answer
        return error_response(request, exc)
