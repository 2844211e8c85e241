"""Zoho Office Integrator (Writer) previews and comparisons on top of pageturn viewing sessions.

A tenant is an API key. A preview makes one document (the bytes and their name) and one viewing session on
it, with a fixed lifetime; both belong to the tenant that made them and do not exist for any other. A
comparison does the same with two Word documents: its session is a comparison session (original and revised)
and its document stands for the pair. Either session is an ordinary pageturn viewing session, so its id also
works on the PrizmDoc API (revisionData for a comparison) and in the viewer.
This module knows no HTTP: the API layer parses requests and renders ZohoError as the protocol's 400 JSON."""
from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import re
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, AsyncIterator, Iterable

from .errors import DomainError, SessionGone, SessionNotFound, StatusOnlyError
from .ids import is_valid_id, new_file_id
from .records import Role, SessionRecord, WorkFileRecord
from .sessions import ViewingSessions
from .url_fetch import AllowList
from .workfiles import WorkFiles

log = logging.getLogger(__name__)

# The error codes of Zoho Writer's API, as its documentation lists them.
INTERNAL_ERROR = 1801
INVALID_VALUE = 1831
INVALID_NAME = 1832
INVALID_SESSION = 1833
SESSION_EXPIRED = 1834
MISSING_PARAMETER = 1837
INVALID_METHOD = 1838
INVALID_DOCUMENT = 1844
INVALID_API_KEY = 1846
UNSUPPORTED_FORMAT = 1852

SESSION_KIND = "zoho_session"
DOCUMENT_KIND = "zoho_document"
RETAIN_SECONDS = 86400  # an expired session answers "expired" (1834), not "unknown" (1833), for this long

# Zoho's permission names. Viewing honours print and export (download); the editing ones are accepted, since
# applications send one permission set to every Zoho API, and mean nothing to a viewer.
VIEWER_PERMISSIONS = {"document.print": "print", "document.export": "download"}
EDITOR_PERMISSIONS = {"document.edit", "document.fill", "review.comment", "review.changes.resolve", "collab.chat",
                      "document.pausecollaboration"}
DOCUMENT_INFO_FIELDS = {"document_name"}
MAX_NAME = 255
_LANG = re.compile(r"^[A-Za-z]{2,3}(?:[-_][A-Za-z0-9]{2,8})*$")


class ZohoError(DomainError):
    """An error in the shape of Zoho's API: always HTTP 400 with {"code", "message", "parameter_name"?}."""

    status = 400

    def __init__(self, code: int, message: str, parameter_name: str | None = None):
        super().__init__(message, error_code=str(code))
        self.code = code
        self.parameter_name = parameter_name

    def body(self) -> dict:
        out: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.parameter_name:
            out["parameter_name"] = self.parameter_name
        return out


def invalid_value(parameter: str, message: str) -> ZohoError:
    return ZohoError(INVALID_VALUE, message, parameter)


def unsupported_format(parameter: str) -> ZohoError:
    return ZohoError(UNSUPPORTED_FORMAT, "The file format is not supported.", parameter)


def unknown_session() -> ZohoError:
    return ZohoError(INVALID_SESSION, "Invalid session id provided. Please try again with correct session id.",
                     "session_id")


def expired_session() -> ZohoError:
    return ZohoError(SESSION_EXPIRED, "Session expired. Please initiate a new request.", "session_id")


def unknown_document() -> ZohoError:
    return ZohoError(INVALID_DOCUMENT, "Invalid document id provided. Please try again with correct document id.",
                     "document_id")


# ---- tenants ---------------------------------------------------------------------------------------------
class Tenants:
    """The configured API keys. A key is compared in constant time against every configured key, and a tenant
    is known by a hash of its key so stored records never hold the key itself."""

    def __init__(self, keys: Iterable[str]):
        self._keys = [(_digest(key), tenant_id(key)) for key in keys if key]

    def __len__(self) -> int:
        return len(self._keys)

    def identify(self, key: str | None) -> str:
        if not key:
            raise ZohoError(INVALID_API_KEY, "Invalid API Key. The apikey parameter is missing.", "apikey")
        given = _digest(key)
        found = None
        for digest, tenant in self._keys:  # no early exit: the time taken does not tell which key matched
            if hmac.compare_digest(digest, given) and found is None:
                found = tenant
        if found is None:
            raise ZohoError(INVALID_API_KEY, "Invalid API Key.", "apikey")
        return found


def _digest(key: str) -> bytes:
    return hashlib.sha256(key.encode("utf-8")).digest()


def tenant_id(key: str) -> str:
    return "t-" + hashlib.sha256(b"pageturn-zoho-tenant\x00" + key.encode("utf-8")).hexdigest()[:32]


# ---- preview parameters ------------------------------------------------------------------------------------
@dataclass
class CompareOptions:
    """The optional form fields of a comparison, validated."""

    title: str | None = None
    lang: str | None = None


@dataclass
class PreviewOptions:
    """The optional form fields of a preview, validated."""

    document_name: str | None = None
    permissions: dict = field(default_factory=dict)         # Zoho names -> bool, as given
    viewer_permissions: dict = field(default_factory=dict)  # the viewer's names -> bool
    lang: str | None = None


def _json_object(parameter: str, text: str) -> dict:
    try:
        value = json.loads(text)
    except ValueError:
        raise invalid_value(parameter, f"{parameter} must be a JSON object; it is not valid JSON") from None
    if not isinstance(value, dict):
        raise invalid_value(parameter, f"{parameter} must be a JSON object")
    return value


def parse_document_info(text: str) -> str | None:
    """`document_info` ({"document_name": "..."}) -> the document's name."""
    info = _json_object("document_info", text)
    for key in info:
        if key not in DOCUMENT_INFO_FIELDS:
            raise ZohoError(INVALID_NAME, f"document_info has an unknown key {key}; a preview accepts "
                            "document_name", "document_info")
    name = info.get("document_name")
    if name is None:
        return None
    if not isinstance(name, str) or not name.strip() or len(name) > MAX_NAME:
        raise invalid_value("document_info", f"document_name must be a non-empty string of at most {MAX_NAME} "
                            "characters")
    return "".join(c for c in name if c.isprintable()).strip()


def parse_permissions(text: str) -> tuple[dict, dict]:
    """`permissions` ({"document.print": false, ...}) -> (Zoho permissions, viewer permissions)."""
    given = _json_object("permissions", text)
    zoho: dict[str, bool] = {}
    viewer: dict[str, bool] = {}
    for key, value in given.items():
        if key not in VIEWER_PERMISSIONS and key not in EDITOR_PERMISSIONS:
            raise ZohoError(INVALID_NAME, f"permissions has an unknown key {key}; known keys: "
                            + ", ".join(sorted({*VIEWER_PERMISSIONS, *EDITOR_PERMISSIONS})), "permissions")
        if isinstance(value, str) and value.lower() in ("true", "false"):
            value = value.lower() == "true"  # some SDKs type permission values as strings
        if not isinstance(value, bool):
            raise invalid_value("permissions", f"permissions {key} must be true or false")
        zoho[key] = value
        if key in VIEWER_PERMISSIONS:
            viewer[VIEWER_PERMISSIONS[key]] = value
    return zoho, viewer


def parse_title(text: str) -> str | None:
    """`title` of a comparison: its name, printable characters only; empty means none."""
    title = "".join(c for c in text if c.isprintable()).strip()
    if len(title) > MAX_NAME:
        raise invalid_value("title", f"title must be at most {MAX_NAME} characters")
    return title or None


def parse_lang(text: str) -> str:
    value = text.strip()
    if not _LANG.match(value):
        raise invalid_value("lang", "lang must be a language code such as en or pt-BR")
    return value


# ---- documents and sessions ------------------------------------------------------------------------------------
def zoho_time(ts: float) -> str:
    return datetime.fromtimestamp(ts, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def zoho_times(created: float, expires: float) -> dict:
    """created_time/expires_on and their _ms twins; the lifetime is exact in milliseconds (rounding each
    timestamp on its own could make it one off)."""
    created_ms = int(created * 1000)
    return {"created_time": zoho_time(created), "created_time_ms": created_ms,
            "expires_on": zoho_time(expires), "expires_on_ms": created_ms + round((expires - created) * 1000)}


async def _file_chunks(path: Path, size: int = 1 << 20) -> AsyncIterator[bytes]:
    with open(path, "rb") as handle:
        while block := handle.read(size):
            yield block


class ZohoPreviews:
    """Documents and viewing sessions made through the Zoho API, each owned by one tenant."""

    def __init__(self, sessions: ViewingSessions, *, lifetime: float):
        self.sessions = sessions
        self.store = sessions.store
        self.workfiles = sessions.workfiles
        self.lifetime = lifetime
        self.clock = sessions.clock  # one time for a session and its Zoho record

    # ---- creation --------------------------------------------------------------------------------------------
    async def preview(self, tenant: str, work: WorkFileRecord, options: PreviewOptions, *,
                      name: str | None = None) -> dict:
        """A new document and a viewing session on it. `work` is a work file holding the received bytes; the
        session stores its own copy, which goes when the session ends, and `work` is deleted here."""
        document_id = new_file_id()
        try:
            session = self.sessions.create(
                {"serverCaching": "none"}, lifetime=self.lifetime, sliding=False,
                extra={"viewerPermissions": options.viewer_permissions,
                       "documentName": options.document_name or name,
                       "zoho": {"tenant": tenant, "documentId": document_id, "lang": options.lang,
                                "permissions": options.permissions}})
            try:
                await self.sessions.upload(session["id"], "source", _file_chunks(self.workfiles.path(work)),
                                           work["fileExtension"], content_length=work["size"])
            except BaseException:
                await self.sessions.delete(session["id"], force=True)
                raise
        finally:
            self.workfiles.delete(work["fileId"])
        created, expires = session["created"], session["expires"]
        document = {"id": document_id, "tenant": tenant, "name": options.document_name or name or "Untitled",
                    "type": work["fileExtension"], "created": created, "expires": expires,
                    "sessions": [session["id"]]}
        return self._remember(tenant, session, document)

    async def compare(self, tenant: str, original: WorkFileRecord, revised: WorkFileRecord, options: CompareOptions, *,
                      names: tuple[str | None, str | None] = (None, None)) -> dict:
        """A comparison session of two Word documents (work files holding the received bytes, deleted here) and
        a document record standing for the pair, named by the title or else by both documents' names."""
        document_id = new_file_id()
        try:
            session = self.sessions.create(
                {"serverCaching": "none"}, lifetime=self.lifetime, sliding=False,
                extra={"zoho": {"tenant": tenant, "documentId": document_id, "lang": options.lang,
                                "view": "compare"}})
            try:
                pair: tuple[tuple[Role, WorkFileRecord], ...] = (("original", original), ("revised", revised))
                for role, work in pair:
                    await self.sessions.upload(session["id"], role, _file_chunks(self.workfiles.path(work)),
                                               work["fileExtension"], content_length=work["size"])
            except BaseException:
                await self.sessions.delete(session["id"], force=True)
                raise
        finally:
            self.workfiles.delete(original["fileId"])
            self.workfiles.delete(revised["fileId"])
        name = options.title or (" vs ".join(n or "Untitled" for n in names)[:MAX_NAME] if any(names)
                                 else "Comparison")
        document = {"id": document_id, "tenant": tenant, "name": name, "type": revised["fileExtension"],
                    "created": session["created"], "expires": session["expires"], "sessions": [session["id"]]}
        return self._remember(tenant, session, document, view="compare")

    def _remember(self, tenant: str, session: SessionRecord, document: dict, view: str = "preview") -> dict:
        expires = session["expires"]
        record = {"id": session["id"], "tenant": tenant, "documentId": document["id"], "created": session["created"],
                  "expires": expires, "opened": False, "deleted": False, "view": view}
        self.store.put(DOCUMENT_KIND, document["id"], document, expires + RETAIN_SECONDS, ref=tenant)
        self.store.put(SESSION_KIND, record["id"], record, expires + RETAIN_SECONDS, ref=tenant)
        return {"session_id": record["id"], "document_id": document["id"]}

    # ---- sessions --------------------------------------------------------------------------------------------
    def _record(self, session_id: str) -> dict | None:
        return self.store.get(SESSION_KIND, session_id) if is_valid_id(session_id) else None

    def _usable(self, tenant: str, session_id: str) -> tuple[dict, SessionRecord]:
        """The tenant's live session (its Zoho record and its viewing session), or 1833 / 1834."""
        record = self._record(session_id)
        if record is None or not hmac.compare_digest(record["tenant"], tenant) or record["deleted"]:
            raise unknown_session()
        if record["expires"] <= self.clock():
            raise expired_session()
        try:
            viewing = self.sessions.load(session_id)
        except SessionNotFound:
            raise unknown_session() from None
        if viewing["state"] == "deleted":  # deleted through the PrizmDoc API
            raise unknown_session()
        if viewing["state"] != "active" or viewing["expires"] <= self.clock():  # stopped, errored or expired
            raise expired_session()
        return record, viewing

    def session_info(self, tenant: str, session_id: str) -> dict:
        """GET sessions/{id} without its URLs: status (active once opened, inactive before) and times."""
        record, viewing = self._usable(tenant, session_id)
        opened = record["opened"] or bool(viewing.get("started"))
        # no user_info: a preview has no user, and the Python SDK fails on an empty object
        return {"status": "active" if opened else "inactive",
                "info": {"document_id": record["documentId"], **zoho_times(record["created"], record["expires"])}}

    async def delete_session(self, tenant: str, session_id: str) -> None:
        """The session's content goes at once; afterwards the id is unknown (1833) on this API and ended (403)
        on the PrizmDoc API and in the viewer."""
        record, _ = self._usable(tenant, session_id)
        try:
            await self.sessions.delete(session_id, force=True)
        except (SessionGone, SessionNotFound):
            raise unknown_session() from None  # a concurrent delete won
        record["deleted"] = True
        self.store.put(SESSION_KIND, session_id, record, record["expires"] + RETAIN_SECONDS, ref=tenant)

    def view_of(self, session_id: str) -> str:
        """The viewer URL's last step for a session: "preview" or "compare"."""
        record = self._record(session_id)
        return (record or {}).get("view", "preview")

    def opened(self, session_id: str, view: str = "preview") -> bool:
        """The session's viewer URL (preview or compare) was opened: True when the session is a Zoho session
        of that kind (in any state), which is then reported active; False when no such Zoho session exists."""
        record = self._record(session_id)
        if record is None or record.get("view", "preview") != view:
            return False
        if not record["opened"] and not record["deleted"] and record["expires"] > self.clock():
            record["opened"] = True
            self.store.put(SESSION_KIND, session_id, record, record["expires"] + RETAIN_SECONDS,
                           ref=record["tenant"])
        return True

    # ---- documents -------------------------------------------------------------------------------------------
    def _document(self, tenant: str, document_id: str) -> dict:
        document = self.store.get(DOCUMENT_KIND, document_id) if is_valid_id(document_id) else None
        if (document is None or not hmac.compare_digest(document["tenant"], tenant)
                or document["expires"] <= self.clock()):
            raise unknown_document()
        return document

    def document_info(self, tenant: str, document_id: str) -> dict:
        document = self._document(tenant, document_id)
        active = 0
        for session_id in document["sessions"]:
            try:
                self._usable(tenant, session_id)
                active += 1
            except ZohoError:
                pass
        return {"document_id": document["id"], "document_name": document["name"],
                "document_type": document["type"], "active_sessions_count": active,
                **zoho_times(document["created"], document["expires"])}

    async def delete_document(self, tenant: str, document_id: str) -> None:
        """The document and every session on it."""
        document = self._document(tenant, document_id)
        for session_id in document["sessions"]:
            try:
                await self.delete_session(tenant, session_id)
            except ZohoError:
                pass  # already deleted or expired: its content is gone or going with the sweep
        self.store.delete(DOCUMENT_KIND, document_id)

    # ---- housekeeping ----------------------------------------------------------------------------------------
    def sweep(self) -> int:
        """Forget records past their retention (the viewing sessions' own sweep removes the content)."""
        removed = 0
        for kind in (SESSION_KIND, DOCUMENT_KIND):
            for record_id, _ in self.store.expired(kind, self.clock()):
                removed += self.store.delete(kind, record_id)
        return removed


# ---- the same sessions through the PrizmDoc URLs ------------------------------------------------------------
class DownloadNotPermitted(StatusOnlyError):
    """A Zoho session made with document.export or document.print off: its bytes are not handed out on any
    URL (printing the source is as good as exporting it)."""

    code = "DownloadNotPermitted"

    def __init__(self) -> None:
        super().__init__(403, "Downloading this document is not permitted")


class TenantKeyRequired(StatusOnlyError):
    """Ending a Zoho session through the PrizmDoc URLs needs the key of the tenant that made it."""

    code = "TenantKeyRequired"

    def __init__(self) -> None:
        super().__init__(403, "This session belongs to a Zoho API key: send it as the apikey query parameter")


def check_download(session: SessionRecord) -> None:
    """Raises DownloadNotPermitted for a Zoho session whose permissions turn export or print off."""
    if session.get("zoho") is None:
        return
    permissions = session.get("viewerPermissions") or {}
    if permissions.get("download") is False or permissions.get("print") is False:
        raise DownloadNotPermitted()


def check_owner(session: SessionRecord, tenants: Tenants, key: str | None) -> None:
    """A Zoho session is stopped or deleted only with its tenant's key; other sessions need none."""
    zoho = session.get("zoho")
    if zoho is None:
        return
    try:
        tenant = tenants.identify(key)
    except ZohoError:
        raise TenantKeyRequired() from None
    if not hmac.compare_digest(zoho.get("tenant", ""), tenant):
        raise TenantKeyRequired()


# ---- the service as the application builds it ---------------------------------------------------------------
@dataclass
class ZohoService:
    """Everything the Zoho API needs, built once by the application."""

    previews: ZohoPreviews
    tenants: Tenants
    workfiles: WorkFiles
    allow: AllowList
    fetch_timeout: float
    max_size: int
    public_url: str
    sweep_interval: float
    allowed_hosts: list[str] = field(default_factory=list)

    async def sweep_forever(self) -> None:
        """Forgets expired Zoho records every `sweep_interval` until cancelled."""
        while True:
            await asyncio.sleep(self.sweep_interval)
            try:
                self.previews.sweep()
            except Exception:  # retried next time; must never end the loop
                log.exception("zoho sweep failed")
