"""What every request leaves behind for operators: a request id (taken from a sane `X-Request-Id`, else new,
and sent back in the same header), an access log line, and its count and duration in the metrics."""
from __future__ import annotations

import logging
import re
import secrets
import time

from aiohttp import web

from ..logs import REQUEST_ID
from ..metrics import METRICS

REQUEST_ID_HEADER = "X-Request-Id"
_SANE_ID = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")  # what a proxy may hand us; anything else is replaced
PAGE_ROUTE = "/PCCIS/V1/Page/q/{page}"
ACCESS_LOG = web.AppKey("access_log", bool)

access_log = logging.getLogger("pageturn.access")


def _route_of(request: web.Request) -> str:
    """The route's declared path, never the raw URL (ids, queries): a bounded set of label values."""
    route = request.match_info.route
    resource = route.resource if route is not None else None
    return resource.canonical if resource is not None else "unmatched"


@web.middleware
async def observe(request: web.Request, handler):
    given = request.headers.get(REQUEST_ID_HEADER, "")
    request_id = given if _SANE_ID.match(given) else secrets.token_hex(8)
    token = REQUEST_ID.set(request_id)
    started = time.perf_counter()
    status = 500
    response: web.StreamResponse | None = None
    try:
        response = await handler(request)
        status = response.status
        response.headers[REQUEST_ID_HEADER] = request_id
        return response
    except web.HTTPException as exc:
        status = exc.status
        exc.headers[REQUEST_ID_HEADER] = request_id
        raise
    finally:
        elapsed = time.perf_counter() - started
        route = _route_of(request)
        metrics = request.app[METRICS]
        metrics.requests.labels(route, request.method, str(status)).inc()
        metrics.request_seconds.labels(route).observe(elapsed)
        if route == PAGE_ROUTE:
            metrics.page_seconds.labels("first" if request.match_info.get("page") == "0" else "other") \
                .observe(elapsed)
        if request.app[ACCESS_LOG]:
            access_log.info('%s "%s %s" %d %.1fms', request.remote, request.method, request.path, status,
                            elapsed * 1000, extra={"fields": {
                                "remote": request.remote, "method": request.method, "path": request.path,
                                "route": route, "status": status, "duration_ms": round(elapsed * 1000, 2),
                                "bytes": response.content_length if response is not None else None}})
        REQUEST_ID.reset(token)


def install(app: web.Application, *, access_log_enabled: bool) -> None:
    """Outermost middleware, so it sees the status the error middleware settled on."""
    app[ACCESS_LOG] = access_log_enabled
    app.middlewares.insert(0, observe)
