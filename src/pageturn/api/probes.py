"""Probes for orchestrators and load balancers, and the metrics page.

`/livez`: the process answers (its event loop runs). `/readyz`: it can take work now: the data directory
takes a write, the metadata store answers (Redis in cluster mode), the render pool and the LibreOffice pool can
take jobs; 503 otherwise, and from the moment a shutdown begins, so a load balancer stops sending new requests
before in-flight ones are drained."""
from __future__ import annotations

import asyncio
import hmac
import secrets
from pathlib import Path
from typing import Callable

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from ..metrics import METRICS
from .common import json_response

READINESS = web.AppKey("readiness", list)      # [(name, check)]: each check answers True when that part can work
SHUTTING_DOWN = web.AppKey("shutting_down", list)  # [bool]
METRICS_TOKEN = web.AppKey("metrics_token", str)  # "" when no token is needed
METRICS_PUBLIC = web.AppKey("metrics_public", bool)  # this application serves /metrics


def storage_writable(directory: Path) -> Callable[[], bool]:
    """A real write and removal in the data directory (full disk, read-only or vanished mount all fail)."""
    def check() -> bool:
        probe = directory / "tmp" / f".ready-{secrets.token_hex(6)}"
        try:
            probe.write_bytes(b"ok")
            probe.unlink()
            return True
        except OSError:
            return False
    return check


async def livez(request: web.Request) -> web.Response:
    return web.Response(text="ok", content_type="text/plain")


async def readyz(request: web.Request) -> web.Response:
    checks = request.app[READINESS]
    results = await asyncio.gather(*(asyncio.to_thread(_passes, check) for _, check in checks))
    report = {name: ok for (name, _), ok in zip(checks, results)}
    if request.app[SHUTTING_DOWN][0]:
        report["accepting"] = False
    ready = all(report.values())
    return json_response({"status": "ready" if ready else "unavailable", "checks": report}, 200 if ready else 503)


def _passes(check: Callable[[], bool]) -> bool:
    try:
        return bool(check())
    except Exception:
        return False


async def metrics(request: web.Request) -> web.Response:
    """Prometheus text format. With `metrics_token` set, only for `Authorization: Bearer <token>`. On the public
    port only when no `metrics_port` is set and a token is (an open metrics page would tell anyone the load)."""
    token = request.app[METRICS_TOKEN]
    if not request.app[METRICS_PUBLIC]:
        raise web.HTTPNotFound()
    if token:
        given = request.headers.get("Authorization", "")
        if not hmac.compare_digest(given.encode(), f"Bearer {token}".encode()):
            return web.Response(status=401, text="metrics need a bearer token", content_type="text/plain",
                                headers={"WWW-Authenticate": 'Bearer realm="metrics"'})
    registry = request.app[METRICS]
    if registry.disk is not None:
        await asyncio.to_thread(registry.disk.refresh)
    body = generate_latest(registry.registry)
    return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})


async def _shutting_down(app: web.Application) -> None:
    app[SHUTTING_DOWN][0] = True


def install(app: web.Application, checks: list, *, metrics_token: str, metrics_public: bool) -> None:
    app[READINESS] = checks
    app[SHUTTING_DOWN] = [False]
    app[METRICS_TOKEN] = metrics_token
    app[METRICS_PUBLIC] = metrics_public and bool(metrics_token)
    app.on_shutdown.append(_shutting_down)


def metrics_app(main: web.Application) -> web.Application:
    """The metrics page alone, for `metrics_port` (off the public port; a token still applies when set)."""
    side = web.Application()
    side[METRICS] = main[METRICS]
    side[METRICS_TOKEN] = main[METRICS_TOKEN]
    side[METRICS_PUBLIC] = True
    side.router.add_get("/metrics", metrics)
    return side


def serve_metrics_on(app: web.Application, host: str, port: int) -> None:
    """Start the metrics page on its own address with the application, stop it after."""
    async def context(app: web.Application):
        runner = web.AppRunner(metrics_app(app), access_log=None)
        await runner.setup()
        await web.TCPSite(runner, host, port).start()
        yield
        await runner.cleanup()
    app.cleanup_ctx.append(context)
