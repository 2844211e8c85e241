"""Every PrizmDoc and viewer URL, with its full literal path, as the specs write them: search for a URL from
the spec to find its handler. (The Zoho URLs are in api/zoho.py, under their own error handling.)"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Awaitable, Callable

from aiohttp import web

from . import (attachments, comparison, content_converters, html5, markup, markup_layers, search, service, viewer,
               viewer_assets, viewing_sessions, work_files)
from .errors import NOT_FOUND_ROUTES

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass(frozen=True)
class Route:
    method: str
    path: str
    handler: Handler
    # an unknown session id answers 404 where the spec says so (v2 URLs, DELETE); elsewhere the documented 500
    unknown_session_404: bool = False


PRIZMDOC = (
    Route("POST", "/PCCIS/V1/ViewingSession", viewing_sessions.create),
    Route("GET", "/PCCIS/V1/ViewingSession/{sid}", viewing_sessions.get),
    Route("DELETE", "/PCCIS/V1/ViewingSession/{sid}", viewing_sessions.delete, unknown_session_404=True),
    Route("PUT", "/PCCIS/V1/ViewingSession/{sid}/SourceFile", viewing_sessions.put_source_file),
    Route("GET", "/PCCIS/V1/ViewingSession/{sid}/SourceFile", viewing_sessions.get_source_file),
    Route("PUT", "/PCCIS/V1/ViewingSession/{sid}/SourceRef", viewing_sessions.put_source_ref),
    Route("GET", "/PCCIS/V1/ViewingSession/{sid}/FileId", viewing_sessions.get_file_id),
    Route("GET", "/PCCIS/V1/ViewingSession/{sid}/Attachments", attachments.list_attachments),
    Route("POST", "/PCCIS/V1/ViewingSession/{sid}/Notification/SessionStarted", viewing_sessions.session_started),
    Route("POST", "/PCCIS/V1/ViewingSession/{sid}/Notification/SessionStopped", viewing_sessions.session_stopped),
    Route("POST", "/PCCIS/V1/ViewingSession/{sid}/Notification/SessionErrored", viewing_sessions.session_errored),
    Route("POST", "/PCCIS/V1/ViewingSession/{sid}/Replacement", viewing_sessions.replacement),
    Route("PUT", "/v2/viewingSessions/{id}/sourceFile/{role:original|revised}",
          viewing_sessions.put_comparison_file, unknown_session_404=True),
    Route("GET", "/v2/viewingSessions/{id}/sourceFile/{role:original|revised}",
          viewing_sessions.get_comparison_file, unknown_session_404=True),
    Route("GET", "/v2/viewingSessions/{id}/revisionData", comparison.revision_data, unknown_session_404=True),
    Route("GET", "/PCCIS/V1/Document/q/Attributes", html5.document_attributes),
    Route("GET", "/PCCIS/V1/Document/q/{first:[^/-]+}-{last:[^/]+}/Text", html5.text),
    Route("GET", "/PCCIS/V1/Page/q/{page}/Attributes", html5.page_attributes),
    Route("GET", "/PCCIS/V1/Page/q/{page}/Tile/{x}/{y}/{w}/{h}", html5.tile),
    Route("GET", "/PCCIS/V1/Page/q/{page}/{size:[^/]*x[^/]*}", html5.thumbnail),
    Route("GET", "/PCCIS/V1/Page/q/{page}", html5.page),
    Route("GET", "/PCCIS/V1/License/ClientViewer", html5.license_client_viewer),
    Route("POST", "/PCCIS/V1/WorkFile", work_files.create),
    Route("GET", "/PCCIS/V1/WorkFile/{fileId}", work_files.get),
    Route("GET", "/PCCIS/V1/WorkFile/{fileId}/Info", work_files.info),
    Route("DELETE", "/PCCIS/V1/WorkFile/{fileId}", work_files.delete),
    Route("POST", "/v2/contentConverters", content_converters.create),
    Route("GET", "/v2/contentConverters/{processId}", content_converters.status),
    Route("POST", "/v2/searchContexts", search.create_context),
    Route("GET", "/v2/searchContexts/{contextId}", search.get_context),
    Route("DELETE", "/v2/searchContexts/{contextId}", search.delete_context),
    Route("GET", "/v2/searchContexts/{contextId}/records", search.get_records),
    Route("PUT", "/v2/searchContexts/{contextId}/records", search.put_records),
    Route("POST", "/v2/searchContexts/{contextId}/completed", search.complete_context),
    Route("POST", "/v2/searchTasks", search.create_task),
    Route("GET", "/v2/searchTasks/{processId}", search.get_task),
    Route("GET", "/v2/searchTasks/{processId}/results", search.get_results),
    Route("DELETE", "/v2/searchTasks/{processId}", search.delete_task),
    Route("POST", "/v2/viewingSessions/{id}/searchTasks", search.create_session_task, unknown_session_404=True),
    Route("GET", "/v2/viewingSessions/{id}/searchTasks/{processId}", search.get_session_task,
          unknown_session_404=True),
    Route("GET", "/v2/viewingSessions/{id}/searchTasks/{processId}/results", search.get_session_results,
          unknown_session_404=True),
    Route("DELETE", "/v2/viewingSessions/{id}/searchTasks/{processId}", search.delete_session_task,
          unknown_session_404=True),
    Route("GET", "/PCCIS/V1/Service/Current/Health", service.health),
    Route("GET", "/PCCIS/V1/Service/Current/Info", service.info),
    Route("GET", "/MarkupLayers/{sid}", markup_layers.list_layers),
    Route("POST", "/MarkupLayers/{sid}", markup_layers.create),
    Route("GET", "/MarkupLayers/{sid}/{layerRecordId}", markup_layers.read),
    Route("PUT", "/MarkupLayers/{sid}/{layerRecordId}", markup_layers.replace),
    Route("POST", "/MarkupLayers/{sid}/{layerRecordId}", markup_layers.post_to_layer),
    Route("DELETE", "/MarkupLayers/{sid}/{layerRecordId}", markup_layers.delete),
    Route("POST", "/PCCIS/V1/MarkupBurner", markup.start_burner),
    Route("GET", "/PCCIS/V1/MarkupBurner/{processId}", markup.get_burner),
    Route("POST", "/PCCIS/V1/ViewingSession/{sid}/MarkupBurner", markup.start_session_burner),
    Route("GET", "/PCCIS/V1/ViewingSession/{sid}/MarkupBurner/{processId}", markup.get_session_burner),
    Route("GET", "/PCCIS/V1/ViewingSession/{sid}/MarkupBurner/{processId}/Document",
          markup.get_session_burned_document),
    Route("POST", "/v2/redactionCreators", markup.start_creator),
    Route("GET", "/v2/redactionCreators/{processId}", markup.get_creator),
    Route("POST", "/v2/plainTextRedactors", markup.start_plain_text),
    Route("GET", "/v2/plainTextRedactors/{processId}", markup.get_plain_text),
)

VIEWER = (
    Route("GET", "/", viewer.landing),
    Route("GET", "/viewer/{id:[A-Za-z0-9_-]+}", viewer.viewer),
)
VIEWER_STATIC = ("/viewer/static/", viewer.VIEWER_DIR)


def add_routes(app: web.Application) -> None:
    not_found_routes = app.setdefault(NOT_FOUND_ROUTES, set())
    for route in PRIZMDOC + VIEWER:
        methods = ("HEAD", "GET") if route.method == "GET" else (route.method,)  # HEAD wherever GET, as add_get
        for method in methods:
            added = app.router.add_route(method, route.path, route.handler)
            if route.unknown_session_404:
                not_found_routes.add(added)
    prefix, directory = VIEWER_STATIC
    app.router.add_static(prefix, directory, follow_symlinks=False)
    app.on_response_prepare.append(viewer_assets.cache_static)
