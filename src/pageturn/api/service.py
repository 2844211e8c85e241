"""Service URLs: health and instance information."""
from __future__ import annotations

from typing import Callable

from aiohttp import web

from .common import json_response

HEALTH_CHECKS = web.AppKey("health_checks", list)
INSTANCE = web.AppKey("instance", dict)


async def health(request: web.Request) -> web.Response:
    failing = [name for name, check in request.app[HEALTH_CHECKS] if not _passes(check)]
    if failing:
        return web.Response(status=500, text="Unhealthy: " + ", ".join(failing), content_type="text/plain")
    return web.Response(status=200, text="OK", content_type="text/plain")


def _passes(check: Callable[[], bool]) -> bool:
    try:
        return bool(check())
    except Exception:
        return False


async def info(request: web.Request) -> web.Response:
    instance = request.app[INSTANCE]
    healthy = all(_passes(check) for _, check in request.app[HEALTH_CHECKS])
    return json_response({**instance, "serviceStatus": "running" if healthy else "unhealthy",
                          "components": {name: _passes(check) for name, check in request.app[HEALTH_CHECKS]}})
