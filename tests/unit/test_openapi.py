"""The OpenAPI document is true: every route the application serves is described, and every described route is
served. A new route needs an entry in src/pageturn/api/openapi_paths.py (OPERATIONS)."""
from __future__ import annotations

from aiohttp import web
from openapi_spec_validator import validate

from pageturn.api.openapi import document, openapi_path
from pageturn.api.openapi_paths import OPERATIONS
from pageturn.app import build_app
from pageturn.config import Settings

WHERE = "src/pageturn/api/openapi_paths.py (OPERATIONS)"


def served_routes(app: web.Application, prefix: str = "") -> set[tuple[str, str]]:
    """(method, declared path) of every route, sub-applications' included; HEAD goes with GET."""
    routes = set()
    for resource in app.router.resources():
        if isinstance(resource, web.PrefixedSubAppResource):
            routes |= served_routes(resource._app, prefix)  # its resources already carry the prefix
            continue
        info = resource.get_info()
        if "prefix" in info and "directory" in info:  # a static directory
            routes.add(("GET", resource.canonical.rstrip("/") + "/{filename}"))
            continue
        for route in resource:
            if route.method not in ("HEAD", "*"):
                routes.add((route.method, prefix + resource.canonical))
    return routes


def test_every_route_is_described_and_every_description_is_served(tmp_path):
    app = build_app(Settings(data_dir=tmp_path / "data", office_enabled=False), engines=False)
    served = {(method, openapi_path(path)) for method, path in served_routes(app)}
    described = {(method, openapi_path(path)) for method, path in OPERATIONS}
    missing = sorted(served - described)
    assert not missing, ("routes served but not described in the OpenAPI document: "
                         + ", ".join(f"{m} {p}" for m, p in missing) + f"; add an Op for each to {WHERE}")
    stale = sorted(described - served)
    assert not stale, ("routes described in the OpenAPI document that the application does not serve: "
                       + ", ".join(f"{m} {p}" for m, p in stale) + f"; remove or fix them in {WHERE}")


def test_the_document_is_valid_openapi_3_1():
    spec = document()
    assert spec["openapi"] == "3.1.0"
    validate(spec)
    assert spec["paths"]["/v2/viewingSessions/{id}/sourceFile/{role}"]["put"]["parameters"][1]["name"] == "role"
    page = spec["paths"]["/PCCIS/V1/Page/q/{page}"]["get"]
    assert {"name": "DocumentID", "in": "query", "required": True, "schema": {"type": "string"}} in page["parameters"]


def test_the_check_names_a_route_that_lacks_a_description(tmp_path):
    """The completeness check above would catch a route added without its entry (and says where to add it)."""
    app = build_app(Settings(data_dir=tmp_path / "data", office_enabled=False), engines=False)

    async def handler(request):
        return web.Response()
    app.router.add_get("/v2/newThing/{id}", handler)
    served = {(m, openapi_path(p)) for m, p in served_routes(app)}
    described = {(m, openapi_path(p)) for m, p in OPERATIONS}
    assert served - described == {("GET", "/v2/newThing/{id}")}
