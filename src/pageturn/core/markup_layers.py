"""Markup layers: named sets of marks that belong to the document a viewing session views.

A layer is reached through any session on the same document: the key is the document's content (its sha256,
or the pair of a comparison) within the session's tenant, so a new session on the same bytes sees the layers.
A `serverCaching: "none"` session shares nothing: its layers are keyed by the session and go with it.

Records live in the metadata store (SQLite, or Redis for several nodes), one per layer, found by the document
key. Lifetime follows the document's: a layer is kept at least as long as work files are (`workfile_lifetime`)
after its last use, and at least as long as the session that used it."""
from __future__ import annotations

import hashlib
from typing import Any, TypedDict, cast

from ..clock import Clock, system_clock
from ..storage.metadata import MetadataStore
from .errors import DomainError, InputError
from .ids import is_valid_id, new_file_id
from .markup_json import validate_layer
from .records import SessionRecord
from .sessions import TOMBSTONE_SECONDS, SessionListener, ViewingSessions
from .workfiles import iso

KIND = "markuplayer"
MAX_LAYERS_PER_DOCUMENT = 200


class LayerRecord(TypedDict):
    layerRecordId: str
    document: str          # the document key (see MarkupLayers.document_key)
    owner: str
    created: float
    modified: float
    expires: float
    layer: dict[str, Any]  # the layer JSON as the client sent it, plus layerRecordId and originalXmlName


class BadGateway(DomainError):
    """The session's document cannot be identified (the spec's 502 for this API)."""

    status = 502
    error_code = "BadGateway"


class LayerNotFound(DomainError):
    status = 404
    error_code = "NotFound"


class MarkupLayers(SessionListener):
    def __init__(self, store: MetadataStore, *, lifetime: float, clock: Clock = system_clock):
        self.store = store
        self.lifetime = lifetime
        self.clock = clock

    # ---- which document -------------------------------------------------------------------------------------
    @staticmethod
    def document_key(session: SessionRecord) -> str:
        props = session["props"]
        if props.get("serverCaching") == "none":
            return "s-" + hashlib.sha256(session["id"].encode()).hexdigest()
        if session.get("source"):
            content = session["source"]["sha256"]  # type: ignore[index]
        elif session.get("original") and session.get("revised"):
            content = "cmp-" + session["original"]["sha256"] + session["revised"]["sha256"]  # type: ignore[index]
        else:
            raise BadGateway("The viewing session has no document yet")
        tenant = props.get("tenantId") or ""
        zoho = session.get("zoho") or {}
        if zoho.get("tenant"):
            tenant = "zoho:" + str(zoho["tenant"])
        return "d-" + hashlib.sha256(f"{tenant}\0{content}".encode()).hexdigest()

    @staticmethod
    def session(sessions: ViewingSessions, prefixed_id: str) -> SessionRecord:
        """The usable session named in the URL; anything else is the spec's 502 (its document is unknown)."""
        try:
            return sessions.usable(sessions.parse_id(prefixed_id))
        except DomainError:
            raise BadGateway("The viewing session is unknown or has ended") from None

    # ---- layers ---------------------------------------------------------------------------------------------
    def _expiry(self, session: SessionRecord, current: float = 0.0) -> float:
        return max(current, self.clock() + self.lifetime, session["expires"] + TOMBSTONE_SECONDS)

    def _records(self, document: str) -> list[LayerRecord]:
        now = self.clock()
        found = [cast(LayerRecord, r) for _, r in self.store.find(KIND, document)]
        return sorted((r for r in found if r["expires"] > now), key=lambda r: (r["created"], r["layerRecordId"]))

    def list(self, session: SessionRecord) -> list[dict[str, Any]]:
        out = []
        for record in self._records(self.document_key(session)):
            layer = record["layer"]
            out.append({"name": layer.get("name", ""), "layerRecordId": record["layerRecordId"],
                        "originalXmlName": layer.get("originalXmlName", ""), "owner": record["owner"],
                        "markCount": len(layer.get("marks", [])), "modified": iso(record["modified"])})
        return out

    def create(self, session: SessionRecord, body: Any, page_count: int | None) -> LayerRecord:
        layer = validate_layer(body, page_count)  # freshly parsed JSON: nobody else holds it
        document = self.document_key(session)
        if len(self._records(document)) >= MAX_LAYERS_PER_DOCUMENT:
            raise InputError("InvalidInput", {"in": "body", "at": "",
                                              "expected": f"at most {MAX_LAYERS_PER_DOCUMENT} layers per document"})
        now = self.clock()
        layer_id = new_file_id()
        layer["layerRecordId"] = layer_id
        layer.setdefault("originalXmlName", layer.get("name", ""))
        record: LayerRecord = {"layerRecordId": layer_id, "document": document, "owner": layer.get("owner") or "",
                               "created": now, "modified": now, "expires": self._expiry(session), "layer": layer}
        self._save(record)
        return record

    def get(self, session: SessionRecord, layer_id: str) -> LayerRecord:
        record = self.store.get(KIND, layer_id) if is_valid_id(layer_id) else None
        # another document's layer is as unknown as a missing one: ids never cross documents or tenants
        if record is None or record["document"] != self.document_key(session) or record["expires"] <= self.clock():
            raise LayerNotFound("No markup layer with this id exists for this document")
        found = cast(LayerRecord, record)
        expires = self._expiry(session, found["expires"])
        if expires - found["expires"] > self.lifetime / 2:  # reading keeps a layer alive; written back sparingly
            found["expires"] = expires
            self._save(found)
        return found

    def replace(self, session: SessionRecord, layer_id: str, body: Any, page_count: int | None) -> LayerRecord:
        record = self.get(session, layer_id)
        layer = validate_layer(body, page_count)
        layer["layerRecordId"] = layer_id
        layer.setdefault("originalXmlName", record["layer"].get("originalXmlName", layer.get("name", "")))
        if "owner" not in layer and record["owner"]:
            layer["owner"] = record["owner"]
        record.update({"layer": layer, "owner": layer.get("owner") or "", "modified": self.clock(),
                       "expires": self._expiry(session, record["expires"])})
        self._save(record)
        return record

    def delete(self, session: SessionRecord, layer_id: str) -> None:
        self.get(session, layer_id)
        self.store.delete(KIND, layer_id)

    def _save(self, record: LayerRecord) -> None:
        self.store.put(KIND, record["layerRecordId"], record, record["expires"], ref=record["document"])

    # ---- lifetime ---------------------------------------------------------------------------------------------
    async def session_removed(self, session: SessionRecord) -> None:
        """A private (serverCaching "none") session's layers go with its other private data."""
        if session["props"].get("serverCaching") == "none":
            for layer_id, _ in self.store.find(KIND, self.document_key(session)):
                self.store.delete(KIND, layer_id)

    def sweep(self) -> int:
        removed = 0
        for layer_id, _ in self.store.expired(KIND, self.clock()):
            removed += self.store.delete(KIND, layer_id)
        return removed
