"""What the OpenAPI document says about each route: one entry per (method, path), the path written as in the
route tables (api/routes.py, api/zoho.py, api/ops_routes.py). tests/api/test_openapi.py checks that every route
the application serves has an entry here and every entry is served: a new route needs one line below."""
from __future__ import annotations

from dataclasses import dataclass, field

from .zoho import BASE as ZOHO


@dataclass(frozen=True)
class Op:
    summary: str
    tag: str
    query: tuple[str, ...] = ()        # query parameters; a trailing "!" marks a required one
    body: str | None = None            # "json", "binary" (raw bytes), "multipart" or "form"
    responses: dict[str, str] = field(default_factory=lambda: {"200": "OK"})
    produces: str = "application/json"  # the 200 answer's type


PRIZM = "PrizmDoc viewing sessions"
WORK = "PrizmDoc work files"
HTML5 = "PrizmDoc HTML5 viewing"
SERVICE = "Service"
VIEWER = "Web viewer"
ZOHO_TAG = "Zoho Office Integrator (Writer)"
OPS = "Operations"
SEARCH = "PrizmDoc search"
CONVERT = "PrizmDoc content conversion"
MARKUP = "PrizmDoc markup, burning and redaction"
TAG_ORDER = [PRIZM, HTML5, CONVERT, SEARCH, MARKUP, WORK, SERVICE, ZOHO_TAG, VIEWER, OPS]  # sections of the reference page, in this order

PRIZM_ERRORS = {"480": "invalid input (PrizmDoc error JSON: errorCode, errorDetails)",
                "580": "the server could not do it (PrizmDoc error JSON)"}
SESSION_ERRORS = {**PRIZM_ERRORS, "403": "the session is invalid or has expired", "500": "unknown session id"}
PAGE = ("DocumentID!", "iv")  # iv: required by sessions with pageContentEncryption (the body is then AES-CBC)
ZOHO_ERRORS = {"400": "Zoho error JSON: code, message, parameter_name"}

OPERATIONS: dict[tuple[str, str], Op] = {
    # ---- viewing sessions
    ("POST", "/PCCIS/V1/ViewingSession"): Op("Create a viewing session", PRIZM, body="json",
                                              responses={"200": "viewingSessionId and affinityToken", **PRIZM_ERRORS}),
    ("GET", "/PCCIS/V1/ViewingSession/{sid}"): Op("A session's properties", PRIZM, responses={"200": "OK", **SESSION_ERRORS}),
    ("DELETE", "/PCCIS/V1/ViewingSession/{sid}"): Op("Delete a session (serverCaching none)", PRIZM, produces="",
                                                      responses={"204": "deleted", "404": "unknown session", **PRIZM_ERRORS}),
    ("PUT", "/PCCIS/V1/ViewingSession/{sid}/SourceFile"): Op(
        "Upload the session's document", PRIZM, query=("FileExtension",), body="binary",
        responses={"200": "stored", "413": "too large", **SESSION_ERRORS}),
    ("GET", "/PCCIS/V1/ViewingSession/{sid}/SourceFile"): Op(
        "Download the session's document", PRIZM, query=("ContentDispositionFilename",),
        produces="application/octet-stream", responses={"200": "the document's bytes", **SESSION_ERRORS}),
    ("PUT", "/PCCIS/V1/ViewingSession/{sid}/SourceRef"): Op("Attach a work file (or a comparison pair)", PRIZM,
                                                             body="json", responses={"200": "attached", **SESSION_ERRORS}),
    ("GET", "/PCCIS/V1/ViewingSession/{sid}/FileId"): Op("The session document's work file", PRIZM,
                                                          responses={"200": "fileId and affinityToken", **SESSION_ERRORS}),
    ("POST", "/PCCIS/V1/ViewingSession/{sid}/Notification/SessionStarted"): Op(
        "Start converting", PRIZM, body="json", responses={"200": "OK", **SESSION_ERRORS}),
    ("POST", "/PCCIS/V1/ViewingSession/{sid}/Notification/SessionStopped"): Op(
        "Stop the session with a status and message", PRIZM, body="json", responses={"200": "OK", **SESSION_ERRORS}),
    ("POST", "/PCCIS/V1/ViewingSession/{sid}/Notification/SessionErrored"): Op(
        "Mark the session errored with a status and message", PRIZM, body="json",
        responses={"200": "OK", **SESSION_ERRORS}),
    ("GET", "/PCCIS/V1/ViewingSession/{sid}/Attachments"): Op(
        "An e-mail's attachments, each with a viewing session of its own", PRIZM,
        responses={"200": "status and attachments (empty for other documents)", **SESSION_ERRORS}),
    ("POST", "/PCCIS/V1/ViewingSession/{sid}/Replacement"): Op(
        "A new session on the same document (new password)", PRIZM, body="json",
        responses={"200": "viewingSessionId and affinityToken", **SESSION_ERRORS}),
    ("PUT", "/v2/viewingSessions/{id}/sourceFile/{role:original|revised}"): Op(
        "Upload one Word document of a comparison", PRIZM, query=("FileExtension",), body="binary",
        responses={"200": "stored", "404": "unknown session", **PRIZM_ERRORS}),
    ("GET", "/v2/viewingSessions/{id}/sourceFile/{role:original|revised}"): Op(
        "Download one document of a comparison", PRIZM, query=("contentDispositionFilename",),
        produces="application/octet-stream", responses={"200": "the document's bytes", "404": "unknown session"}),
    ("GET", "/v2/viewingSessions/{id}/revisionData"): Op(
        "The comparison's changes, paged", PRIZM, query=("limit", "continueToken"),
        responses={"200": "changes and an optional continueToken", "404": "unknown session", **PRIZM_ERRORS}),
    # ---- content conversion
    ("POST", "/v2/contentConverters"): Op("Start converting work files (pdf, tiff, png, jpeg, svg, docx; OCR)",
                                          CONVERT, body="json",
                                          responses={"200": "the process (processId, state)", **PRIZM_ERRORS}),
    ("GET", "/v2/contentConverters/{processId}"): Op("A conversion process's state, progress and results", CONVERT,
                                                     responses={"200": "the process", "404": "unknown process"}),
    # ---- markup layers, burning, redaction
    ("GET", "/MarkupLayers/{sid}"): Op("The markup layers of the session's document", MARKUP,
                                       responses={"200": "layer summaries", "502": "unknown or ended session"}),
    ("POST", "/MarkupLayers/{sid}"): Op("Create a markup layer", MARKUP, body="json",
                                        responses={"201": "the layer's id", "480": "invalid mark (named)",
                                                   "502": "unknown or ended session"}),
    ("GET", "/MarkupLayers/{sid}/{layerRecordId}"): Op("One markup layer", MARKUP,
                                                       responses={"200": "the layer", "404": "unknown layer",
                                                                  "502": "unknown or ended session"}),
    ("PUT", "/MarkupLayers/{sid}/{layerRecordId}"): Op("Replace a markup layer", MARKUP, body="json",
                                                       responses={"200": "the layer's id", "404": "unknown layer",
                                                                  "480": "invalid mark (named)"}),
    ("POST", "/MarkupLayers/{sid}/{layerRecordId}"): Op("Replace a markup layer (X-HTTP-Method-Override: PUT)",
                                                        MARKUP, body="json",
                                                        responses={"200": "the layer's id", "404": "unknown layer"}),
    ("DELETE", "/MarkupLayers/{sid}/{layerRecordId}"): Op("Delete a markup layer", MARKUP, produces="",
                                                          responses={"204": "deleted", "404": "unknown layer"}),
    ("POST", "/PCCIS/V1/MarkupBurner"): Op("Burn markup (work file) into a document (work file)", MARKUP,
                                           body="json", responses={"200": "the process", **PRIZM_ERRORS}),
    ("GET", "/PCCIS/V1/MarkupBurner/{processId}"): Op("A burner process's state and result", MARKUP,
                                                      responses={"200": "the process", "404": "unknown process"}),
    ("POST", "/PCCIS/V1/ViewingSession/{sid}/MarkupBurner"): Op("Burn marks into the session's document", MARKUP,
                                                                body="json",
                                                                responses={"200": "the process", **SESSION_ERRORS}),
    ("GET", "/PCCIS/V1/ViewingSession/{sid}/MarkupBurner/{processId}"): Op(
        "A session burner process's state", MARKUP, responses={"200": "the process", "404": "unknown process"}),
    ("GET", "/PCCIS/V1/ViewingSession/{sid}/MarkupBurner/{processId}/Document"): Op(
        "The burned PDF", MARKUP, produces="application/pdf",
        responses={"200": "the burned PDF", "404": "unknown process"}),
    ("POST", "/v2/redactionCreators"): Op("Find text to redact by rules; answers a markup work file", MARKUP,
                                          body="json", responses={"200": "the process", **PRIZM_ERRORS}),
    ("GET", "/v2/redactionCreators/{processId}"): Op("A redaction creator's state and result", MARKUP,
                                                     responses={"200": "the process", "404": "unknown process"}),
    ("POST", "/v2/plainTextRedactors"): Op("The document's text with redactions applied", MARKUP, body="json",
                                           responses={"200": "the process", **PRIZM_ERRORS}),
    ("GET", "/v2/plainTextRedactors/{processId}"): Op("A plain-text redactor's state and result", MARKUP,
                                                      responses={"200": "the process", "404": "unknown process"}),
    # ---- search (contexts and tasks)
    ("POST", "/v2/searchContexts"): Op("Create a search context over a work file or uploaded text", SEARCH,
                                       body="json", responses={"200": "the context", **PRIZM_ERRORS}),
    ("GET", "/v2/searchContexts/{contextId}"): Op("A search context's state", SEARCH,
                                                  responses={"200": "the context", "404": "unknown context"}),
    ("DELETE", "/v2/searchContexts/{contextId}"): Op("Delete a search context", SEARCH, produces="",
                                                     responses={"204": "deleted", "404": "unknown context"}),
    ("GET", "/v2/searchContexts/{contextId}/records"): Op("The context's text records", SEARCH,
                                                          responses={"200": "records", "404": "unknown context"}),
    ("PUT", "/v2/searchContexts/{contextId}/records"): Op("Upload text records to search", SEARCH, body="json",
                                                          responses={"200": "stored", "404": "unknown context",
                                                                     **PRIZM_ERRORS}),
    ("POST", "/v2/searchContexts/{contextId}/completed"): Op("Mark the uploaded records complete", SEARCH,
                                                             responses={"200": "the context",
                                                                        "404": "unknown context"}),
    ("POST", "/v2/searchTasks"): Op("Start a search task over a search context", SEARCH, body="json",
                                    responses={"200": "the task (processId, state)", **PRIZM_ERRORS}),
    ("GET", "/v2/searchTasks/{processId}"): Op("A search task's state and progress", SEARCH,
                                               responses={"200": "the task", "404": "unknown task"}),
    ("GET", "/v2/searchTasks/{processId}/results"): Op(
        "A search task's hits, paged, readable while it runs", SEARCH, query=("limit", "continueToken", "iv"),
        responses={"200": "results and an optional continueToken", "404": "unknown task", **PRIZM_ERRORS}),
    ("DELETE", "/v2/searchTasks/{processId}"): Op("Stop and delete a search task", SEARCH, produces="",
                                                  responses={"204": "deleted", "404": "unknown task"}),
    ("POST", "/v2/viewingSessions/{id}/searchTasks"): Op(
        "Start a search task over a viewing session's document", SEARCH, body="json",
        responses={"200": "the task (processId, state)", "404": "unknown session", **PRIZM_ERRORS}),
    ("GET", "/v2/viewingSessions/{id}/searchTasks/{processId}"): Op(
        "A session's search task: state and progress", SEARCH,
        responses={"200": "the task", "404": "unknown session or task"}),
    ("GET", "/v2/viewingSessions/{id}/searchTasks/{processId}/results"): Op(
        "A session's search hits, paged", SEARCH, query=("limit", "continueToken", "iv"),
        responses={"200": "results and an optional continueToken", "404": "unknown session or task",
                   **PRIZM_ERRORS}),
    ("DELETE", "/v2/viewingSessions/{id}/searchTasks/{processId}"): Op(
        "Stop and delete a session's search task", SEARCH, produces="",
        responses={"204": "deleted", "404": "unknown session or task"}),
    # ---- HTML5 viewing
    ("GET", "/PCCIS/V1/Document/q/Attributes"): Op("Page count and its confidence", HTML5,
                                                    query=(*PAGE, "DesiredPageCountConfidence"),
                                                    responses={"200": "OK", **SESSION_ERRORS}),
    ("GET", "/PCCIS/V1/Document/q/{first:[^/-]+}-{last:[^/]+}/Text"): Op(
        "Text and character boxes of a page range", HTML5, query=PAGE, responses={"200": "OK", **SESSION_ERRORS}),
    ("GET", "/PCCIS/V1/Page/q/{page}/Attributes"): Op("A page's size", HTML5, query=(*PAGE, "ContentType"),
                                                       responses={"200": "OK", **SESSION_ERRORS}),
    ("GET", "/PCCIS/V1/Page/q/{page}/Tile/{x}/{y}/{w}/{h}"): Op(
        "A tile of a page image", HTML5, query=(*PAGE, "ContentType", "Scale", "Quality"), produces="image/png",
        responses={"200": "PNG or JPEG", **SESSION_ERRORS}),
    ("GET", "/PCCIS/V1/Page/q/{page}/{size:[^/]*x[^/]*}"): Op(
        "A thumbnail fitting WIDTHxHEIGHT", HTML5, query=(*PAGE, "ContentType", "Quality"), produces="image/png",
        responses={"200": "PNG or JPEG", **SESSION_ERRORS}),
    ("GET", "/PCCIS/V1/Page/q/{page}"): Op(
        "A page as SVG, PNG or JPEG", HTML5, query=(*PAGE, "ContentType", "Scale", "Quality"),
        produces="image/svg+xml", responses={"200": "SVG, PNG or JPEG", **SESSION_ERRORS}),
    ("GET", "/PCCIS/V1/License/ClientViewer"): Op("Deprecated: answers 500", HTML5,
                                                   responses={"500": "as documented"}),
    # ---- work files
    ("POST", "/PCCIS/V1/WorkFile"): Op("Store a work file", WORK, query=("FileExtension", "MinSecondsAvailable"),
                                        body="binary", responses={"200": "fileId, fileExtension, affinityToken",
                                                                  "413": "too large", **PRIZM_ERRORS}),
    ("GET", "/PCCIS/V1/WorkFile/{fileId}"): Op("A work file's bytes", WORK, produces="application/octet-stream",
                                                responses={"200": "the bytes", "404": "unknown work file"}),
    ("GET", "/PCCIS/V1/WorkFile/{fileId}/Info"): Op("A work file's facts", WORK,
                                                     responses={"200": "OK", "404": "unknown work file"}),
    ("DELETE", "/PCCIS/V1/WorkFile/{fileId}"): Op("Delete a work file (extension)", WORK, produces="",
                                                   responses={"204": "deleted", "404": "unknown work file"}),
    # ---- service
    ("GET", "/PCCIS/V1/Service/Current/Health"): Op("OK, or 500 naming the failing part", SERVICE,
                                                     produces="text/plain", responses={"200": "OK", "500": "unhealthy"}),
    ("GET", "/PCCIS/V1/Service/Current/Info"): Op("Version, instance and components", SERVICE),
    # ---- viewer
    ("GET", "/"): Op("The upload page", VIEWER, produces="text/html"),
    ("GET", "/viewer/{id:[A-Za-z0-9_-]+}"): Op("The web viewer on a session", VIEWER, produces="text/html"),
    ("GET", "/viewer/static/{filename}"): Op("The viewer's scripts, styles and icons", VIEWER,
                                             produces="application/octet-stream"),
    # ---- Zoho
    ("POST", ZOHO + "/document/preview"): Op("Preview a document", ZOHO_TAG, query=("apikey",), body="multipart",
                                             responses={"200": "preview_url, session_id, ...", **ZOHO_ERRORS}),
    ("POST", ZOHO + "/document/compare"): Op("Compare two documents", ZOHO_TAG, query=("apikey",), body="multipart",
                                             responses={"200": "compare_url, session_id, ...", **ZOHO_ERRORS}),
    ("GET", ZOHO + "/documents/{session_id}/{view:preview|compare}"): Op(
        "The viewer page of a Zoho session", ZOHO_TAG, produces="text/html",
        responses={"200": "the viewer", **ZOHO_ERRORS}),
    ("GET", ZOHO + "/sessions/{session_id}"): Op("A session's facts", ZOHO_TAG, query=("apikey!",),
                                                 responses={"200": "OK", **ZOHO_ERRORS}),
    ("DELETE", ZOHO + "/sessions/{session_id}"): Op("Delete a session", ZOHO_TAG, query=("apikey!",),
                                                    responses={"200": "session_deleted", **ZOHO_ERRORS}),
    ("GET", ZOHO + "/documents/{document_id}"): Op("A document's facts", ZOHO_TAG, query=("apikey!",),
                                                   responses={"200": "OK", **ZOHO_ERRORS}),
    ("DELETE", ZOHO + "/documents/{document_id}"): Op("Delete a document", ZOHO_TAG, query=("apikey!",),
                                                      responses={"200": "document_deleted", **ZOHO_ERRORS}),
    # ---- operations (pageturn extensions)
    ("GET", "/livez"): Op("The process answers", OPS, produces="text/plain"),
    ("GET", "/readyz"): Op("Ready for work: storage writable, metadata store reachable, pools able to work", OPS,
                           responses={"200": "ready", "503": "not ready (checks say which part)"}),
    ("GET", "/metrics"): Op("Prometheus metrics (bearer token, or served on metrics_port only)", OPS,
                            produces="text/plain", responses={"200": "text exposition format", "401": "token needed",
                                                              "404": "served on metrics_port only"}),
    ("GET", "/openapi.json"): Op("This document", OPS),
    ("GET", "/docs"): Op("API reference page rendering this document", OPS, produces="text/html"),
    ("GET", "/docs/static/{filename}"): Op("The API reference page's scripts and styles", OPS,
                                           produces="application/octet-stream"),
}
