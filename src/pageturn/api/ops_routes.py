"""The operations URLs (pageturn extensions): probes, metrics, the OpenAPI document and the API reference."""
from __future__ import annotations

from aiohttp import web

from . import openapi, probes
from .routes import Route

OPS = (
    Route("GET", "/livez", probes.livez),
    Route("GET", "/readyz", probes.readyz),
    Route("GET", "/metrics", probes.metrics),
    Route("GET", "/openapi.json", openapi.openapi_json),
    Route("GET", "/docs", openapi.docs_page),
)
DOCS_STATIC = ("/docs/static/", openapi.APIDOCS_DIR)


def add_routes(app: web.Application) -> None:
    for route in OPS:
        app.router.add_get(route.path, route.handler)  # HEAD too, as every GET here
    prefix, directory = DOCS_STATIC
    app.router.add_static(prefix, directory, follow_symlinks=False)
