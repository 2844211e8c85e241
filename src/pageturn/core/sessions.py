"""Viewing sessions: creation, sources, lifecycle (stop, error, replace, delete, expiry)."""
from __future__ import annotations

import asyncio
import copy
import logging
import time
from pathlib import Path
from typing import Any, AsyncIterator, Awaitable, Callable, Sequence, cast

from ..clock import Clock, system_clock
from ..storage.metadata import MetadataStore
from . import formats
from .errors import (DomainError, InputError, ServerError, SessionGone, SessionNotFound, UnrecognizedFormat, invalid,
                     missing)
from .ids import decode_prefixed_id, is_valid_id, new_affinity_token, new_session_id
from .properties import validate_properties
from .records import DocumentPart, Role, SessionRecord, WorkFileRecord
from .workfiles import WorkFiles, iso

log = logging.getLogger(__name__)

KIND = "session"
RECENT_SECONDS = 1.0
TOMBSTONE_SECONDS = 86400  # an ended session answers 403 (not 500) for this long
ACTIVE = "active"
ROLES: tuple[Role, Role] = ("original", "revised")
ALL_ROLES: tuple[Role, Role, Role] = ("source", "original", "revised")


def _has_document(record: SessionRecord) -> bool:
    return bool(record["source"] or (record["original"] and record["revised"]))


class SessionListener:
    """What the document pipeline hears about sessions; a listener overrides the events it cares about."""

    async def source_attached(self, session: SessionRecord) -> None:
        """A session's document (or both comparison documents) arrived."""

    async def session_started(self, session: SessionRecord) -> None:
        """SessionStarted was posted."""

    async def session_removed(self, session: SessionRecord) -> None:
        """A session was deleted or expired: its private data goes."""


class ViewingSessions:
    def __init__(self, store: MetadataStore, workfiles: WorkFiles, *, lifetime: float,
                 listeners: Sequence[SessionListener] = (), clock: Clock = system_clock):
        self.store = store
        self.clock = clock
        self.workfiles = workfiles
        self.lifetime = lifetime
        self.listeners = tuple(listeners)
        self._locks: dict[str, asyncio.Lock] = {}
        self._recent: dict[str, tuple[SessionRecord, float]] = {}

    # ---- lookup ---------------------------------------------------------------------------------------
    def parse_id(self, prefixed: str) -> str:
        session_id = decode_prefixed_id(prefixed)
        if session_id is None:
            raise SessionNotFound("Invalid viewing session id")
        return session_id

    def load(self, session_id: str) -> SessionRecord:
        """Any known session, in whatever state; unknown -> SessionNotFound. A record read in the last second
        is reused: page requests come in bursts, and another node's change shows within that second. A record
        without its document is always read again: the upload may have just landed on another node, and a page
        request that follows it must not be told there is no document."""
        recent = self._recent.get(session_id)
        if recent is not None and recent[1] > time.monotonic() and _has_document(recent[0]):
            return recent[0]
        found = self.store.get(KIND, session_id) if is_valid_id(session_id) else None
        if found is None:
            raise SessionNotFound("Unknown viewing session")
        record = cast(SessionRecord, found)
        self._remember(record)
        return record

    def _remember(self, record: SessionRecord) -> None:
        if len(self._recent) > 10_000:
            self._recent.clear()
        self._recent[record["id"]] = (record, time.monotonic() + RECENT_SECONDS)

    def usable(self, session_id: str, *, allow_errored: bool = False) -> SessionRecord:
        """An active session, or the error its state calls for (403, or its own custom status)."""
        record = self.load(session_id)
        state = record["state"]
        if state == "errored" and allow_errored and record["expires"] > self.clock():
            return record
        if state in ("stopped", "errored"):
            raise SessionGone(record["endStatus"] or 403,
                              record["endMessage"] or "The session is invalid or has expired")
        if state != ACTIVE or record["expires"] <= self.clock():
            raise SessionGone()
        self._touch(record)
        return record

    def _touch(self, record: SessionRecord) -> None:
        """Sliding lifetime: each use keeps the session alive; written back only when half the time is used."""
        if not record.get("sliding", True):
            return
        life = record["lifetime"]
        if record["expires"] - self.clock() < life / 2:
            record["expires"] = self.clock() + life
            self._save(record)

    def _save(self, record: SessionRecord) -> None:
        self.store.put(KIND, record["id"], record, record["expires"] + TOMBSTONE_SECONDS)
        self._remember(record)

    def lock(self, session_id: str) -> asyncio.Lock:
        return self._locks.setdefault(session_id, asyncio.Lock())

    async def _notify(self, event: str, record: SessionRecord) -> None:
        for listener in self.listeners:
            handler: Callable[[SessionRecord], Awaitable[None]] = getattr(listener, event)
            try:
                await handler(record)
            except Exception:  # a listener's failure must not break the session API
                log.exception("session listener %s failed", event)

    # ---- creation and description --------------------------------------------------------------------
    def create(self, body: Any, *, affinity_hint: str | None = None, lifetime: float | None = None,
               sliding: bool = True, extra: dict[str, Any] | None = None) -> SessionRecord:
        """A new session. `sliding` False gives a fixed end (the Zoho API's sessions); `extra` holds fields
        other APIs keep on the session (such as the viewer's permissions)."""
        props = validate_properties(body)
        life = float(lifetime or self.lifetime)
        if props["minSecondsAvailable"]:
            life = max(life, float(props["minSecondsAvailable"]))
        created = self.clock()
        # `extra` keys are the record's optional fields (SessionRecord lists them)
        record = cast(SessionRecord, {
            "id": new_session_id(), "props": props, "created": created, "creationTime": iso(created),
            "lifetime": life, "expires": created + life, "state": ACTIVE, "endStatus": None, "endMessage": None,
            "affinityToken": new_affinity_token(), "affinityHint": affinity_hint,
            "source": None, "original": None, "revised": None, "started": False, "sliding": sliding,
            **(extra or {}),
        })
        self._save(record)
        return record

    @staticmethod
    def describe(record: SessionRecord) -> dict:
        out = copy.deepcopy(record["props"])
        out["creationTime"] = record["creationTime"]
        return out

    # ---- sources ---------------------------------------------------------------------------------------
    def _check_can_take(self, record: SessionRecord, role: Role) -> None:
        """role: 'source' for a single document, or 'original'/'revised' for comparison."""
        if role == "source":
            if record["original"] or record["revised"]:
                raise InputError("IncorrectUsage", {"in": "body", "at": "", "expected":
                                 "no single source document on a session that has comparison documents"})
            if record["source"]:
                raise InputError("CannotChangeDocument", {"in": "body", "at": "",
                                 "expected": "a session without a source document"})
        else:
            if record["source"]:
                raise InputError("IncorrectUsage", {"in": "body", "at": "", "expected":
                                 "no comparison document on a session that has a single source document"})
            if record[role]:
                raise InputError("CannotChangeDocument", {"in": "body", "at": role,
                                 "expected": f"a session without an {role} document"})

    def check_can_take(self, session_id: str, role: Role) -> SessionRecord:
        record = self.usable(session_id)
        self._check_can_take(record, role)
        return record

    async def upload(self, session_id: str, role: Role, chunks: AsyncIterator[bytes], extension: str | None,
                     content_length: int | None = None) -> SessionRecord:
        """PUT SourceFile (role 'source') or a v2 comparison upload (role 'original'/'revised')."""
        async with self.lock(session_id):
            record = self.check_can_take(session_id, role)
            extension = extension or record["props"].get("documentExtension")
            work = await self.workfiles.receive(chunks, extension, content_length=content_length,
                                                owner=session_id)
            try:
                if role != "source" and not formats.is_word(work["fileExtension"]):
                    raise InputError("UnsupportedFormatForComparison", {"in": "body", "at": role,
                                     "expected": "a Word document (doc or docx)"})
                record = self.usable(session_id)
                self._check_can_take(record, role)
            except DomainError:
                self.workfiles.delete(work["fileId"])
                raise
            return await self._attach(record, {role: work}, owned=True)

    async def attach_ref(self, session_id: str, body: Any) -> SessionRecord:
        """PUT SourceRef: one work file, or a comparison pair."""
        if not isinstance(body, dict):
            raise invalid("", "a JSON object with refType")
        ref_type = body.get("refType")
        if ref_type is None:
            raise missing("refType")
        async with self.lock(session_id):
            record = self.usable(session_id)
            if ref_type == "workFile":
                self._check_can_take(record, "source")
                work = self._workfile_ref(body, "")
                if formats.format_of(work["fileExtension"]) is None:  # as PUT SourceFile answers, now, not later
                    raise UnrecognizedFormat()
                return await self._attach(record, {"source": work}, owned=False)
            if ref_type == "comparison":
                for role in ROLES:
                    part = body.get(role)
                    if part is None:
                        raise missing(role)
                    if not isinstance(part, dict) or part.get("refType") != "workFile":
                        raise invalid(role, 'an object with "refType": "workFile" and a "fileId"')
                found = {role: self._workfile_ref(body[role], role + ".") for role in ROLES}
                for role in ROLES:
                    self._check_can_take(record, role)
                for role in ROLES:
                    if not formats.is_word(found[role]["fileExtension"]):
                        raise InputError("UnsupportedFormatForComparison", {"in": "body", "at": role + ".fileId",
                                         "expected": "a Word document (doc or docx)"})
                return await self._attach(record, found, owned=False)
            raise invalid("refType", '"workFile" or "comparison"', received=ref_type)

    async def attach_url(self, session_id: str, fetch: Callable[..., Awaitable[WorkFileRecord]]) -> SessionRecord:
        """documentSource "http": the server downloads externalId (through `fetch`, which enforces the address
        rules and limits) and attaches it as the source."""
        async with self.lock(session_id):
            record = self.usable(session_id)
            self._check_can_take(record, "source")
            work = await fetch(record["props"]["externalId"], extension=record["props"].get("documentExtension"),
                               owner=session_id)
            return await self._attach(record, {"source": work}, owned=True)

    def _workfile_ref(self, body: dict[str, Any], prefix: str) -> WorkFileRecord:
        file_id = body.get("fileId")
        if file_id is None:
            raise missing(prefix + "fileId")
        if not isinstance(file_id, str):
            raise invalid(prefix + "fileId", "a string", received=file_id)
        work = self.workfiles.get(file_id)
        if work is None:
            raise InputError("NotFound", {"in": "body", "at": prefix + "fileId",
                                          "message": "The work file has expired or does not exist"})
        return work

    async def _attach(self, record: SessionRecord, parts: dict[Role, WorkFileRecord], *, owned: bool) -> SessionRecord:
        for role, work in parts.items():
            record[role] = {"fileId": work["fileId"], "sha256": work["sha256"], "size": work["size"],
                            "extension": work["fileExtension"], "owned": owned}
            # the work file must outlive the session that views it
            self.workfiles.extend(work, record["expires"] + TOMBSTONE_SECONDS)
        self._save(record)
        if record["source"] or (record["original"] and record["revised"]):
            await self._notify("source_attached", record)
        return record

    async def source(self, session_id: str, role: Role) -> tuple[DocumentPart, Path]:
        """The stored bytes of a session's document: role 'source', 'original' or 'revised'."""
        record = self.usable(session_id, allow_errored=True)
        if role == "source" and (record["original"] or record["revised"]):
            raise InputError("IncorrectUsage", {"in": "path", "at": "SourceFile",
                             "expected": "a session viewing a single document (this one is a comparison)"})
        if role != "source" and record["source"]:
            raise InputError("IncorrectUsage", {"in": "path", "at": role,
                             "expected": "a comparison session (this one views a single document)"})
        part = record[role]
        if part is None:
            raise InputError("DocumentNotProvidedYet", {"in": "path", "at": role})
        return part, await self.workfiles.blobs.local_path(part["sha256"])

    def file_id(self, session_id: str) -> dict:
        record = self.usable(session_id)
        part = record["source"]
        if part is None:
            raise InputError("DocumentNotProvidedYet", {"in": "path", "at": "FileId"})
        work = self.workfiles.get(part["fileId"])
        return {"fileId": part["fileId"], "affinityToken": work["affinityToken"] if work else record[
            "affinityToken"]}

    # ---- lifecycle -------------------------------------------------------------------------------------
    async def start(self, session_id: str, body: Any) -> SessionRecord:
        record = self.usable(session_id)
        if not record["started"]:
            record["started"] = True
            self._save(record)
        await self._notify("session_started", record)
        return record

    async def end(self, session_id: str, state: str, body: Any) -> None:
        """SessionStopped / SessionErrored: later requests get the given status and message."""
        if not isinstance(body, dict):
            raise invalid("", 'a JSON object such as {"httpStatus": 418, "endUserMessage": "..."}')
        status = body.get("httpStatus", 403)
        message = body.get("endUserMessage", "The session is invalid or has expired")
        if not isinstance(status, int) or isinstance(status, bool) or not 400 <= status <= 999:
            raise invalid("httpStatus", "an integer HTTP status from 400 to 999", received=status)
        if not isinstance(message, str):
            raise invalid("endUserMessage", "a string", received=message)
        message = "".join(c if c.isprintable() else " " for c in message).strip()[:500] or "Session ended"
        async with self.lock(session_id):
            record = self.usable(session_id)
            record.update({"state": state, "endStatus": status, "endMessage": message})
            self._save(record)

    async def replace(self, session_id: str, body: Any) -> SessionRecord:
        if not isinstance(body, dict):
            raise invalid("", 'a JSON object such as {"password": "..."}')
        unexpected = sorted(set(body) - {"password"})
        if unexpected:
            raise InputError("PropertyNotReplaceable", {"in": "body", "at": unexpected[0],
                             "expected": "only password can be replaced"})
        password = body.get("password")
        if password is not None and not isinstance(password, str):
            raise invalid("password", "a string or null", received=password)
        async with self.lock(session_id):
            old = self.usable(session_id, allow_errored=True)
            props = copy.deepcopy(old["props"])
            props["password"] = password
            new: SessionRecord = {**copy.deepcopy(old), "id": new_session_id(), "props": props, "created": self.clock(),
                   "creationTime": iso(self.clock()), "expires": self.clock() + old["lifetime"], "state": ACTIVE,
                   "endStatus": None, "endMessage": None, "affinityToken": new_affinity_token(),
                   "started": False, "replaces": old["id"]}
            for role in ALL_ROLES:
                part = new[role]
                if part is not None:
                    part["owned"] = False  # the old session's tombstone still refers to the bytes
            old.update({"state": "stopped", "endStatus": 403, "endMessage": "The session is invalid or has expired",
                        "replacedBy": new["id"]})
            self._save(old)
            self._save(new)
        if new["source"] or (new["original"] and new["revised"]):
            await self._notify("source_attached", new)
        return new

    async def delete(self, session_id: str, *, force: bool = False) -> None:
        """DELETE: only sessions that never share output (serverCaching none), unless `force` (an API whose
        sessions are always deletable, such as Zoho's)."""
        async with self.lock(session_id):
            record = self.load(session_id)
            if record["state"] == "deleted" or (record["state"] == ACTIVE and record["expires"] <= self.clock()):
                raise SessionGone()
            if record["props"]["serverCaching"] != "none" and not force:
                raise ServerError("CannotDeleteCachedViewingSession",
                                  "Only sessions created with serverCaching \"none\" can be deleted")
            await self._remove_private_data(record)
            record.update({"state": "deleted", "endStatus": 403, "endMessage": "The session is invalid or has expired"})
            record["expires"] = self.clock()
            self._save(record)

    async def _remove_private_data(self, record: SessionRecord) -> None:
        for role in ALL_ROLES:
            part = record[role]
            if part and part.get("owned") and (record["props"]["serverCaching"] == "none"
                                               or not record.get("sliding", True)):
                self.workfiles.delete(part["fileId"])
        await self._notify("session_removed", record)

    async def sweep(self) -> int:
        """Expire sessions past their lifetime (their private data goes) and forget old tombstones."""
        removed = 0
        for session_id, _ in self.store.expired(KIND, self.clock()):
            self.store.delete(KIND, session_id)
            self._locks.pop(session_id, None)
            self._recent.pop(session_id, None)
            removed += 1
        # sessions whose usable time ended but whose tombstone lives on: drop their private data once
        # (the metadata store only knows the tombstone expiry, so scan with a shifted clock)
        for _, found in self.store.expired(KIND, self.clock() + TOMBSTONE_SECONDS):
            ended = cast(SessionRecord, found)
            if not ended.get("cleaned"):
                await self._remove_private_data(ended)
                ended["cleaned"] = True
                if ended["state"] == ACTIVE:
                    ended["state"] = "expired"
                self._save(ended)
        return removed

