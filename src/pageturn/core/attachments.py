"""E-mail attachments as viewing sessions.

A session views its source, or (with `attachmentIndex` n > 0) the n-th attachment (1-based, in the order the
attachment list shows) of the e-mail it was given. `GET ViewingSession/u{id}/Attachments` lists the attachments
of what a session views, each with a child viewing session of its own: the child views the same e-mail with
its attachment's index, so a child of a child (a message attached to a message) works the same way, one level
at a time, down to MailLimits.max_message_depth.

An attachment's bytes become a work file of their own the first time a session needs them (the e-mail is read
in a thread, under MailLimits). What a session views is recorded in the metadata store (KIND), so every server
node finds it; the record lives as long as the session."""
from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import Any, AsyncIterator, TypedDict, cast

from ..engines.errors import EngineError
from ..engines.mail import Attachment, read_message
from ..engines.mail.model import DEFAULT_LIMITS, MailLimits
from ..storage.metadata import MetadataStore
from .errors import DomainError, ServerError
from .records import DocumentPart, SessionRecord
from .sessions import TOMBSTONE_SECONDS, SessionListener, ViewingSessions
from .workfiles import WorkFiles

log = logging.getLogger(__name__)

KIND = "attachment"          # session id -> ViewedPart
LIST_KIND = "attachment-list"  # session id -> the Attachments answer, built once
MAIL_FORMATS = ("eml", "msg")
# properties a child session takes from the session whose attachment it views
INHERITED = ("serverCaching", "pageContentEncryption", "tenantId", "render", "watermarkText", "watermarks",
             "contentType")


class ViewedPart(TypedDict):
    part: DocumentPart | None     # the attachment the session views (None with `error`)
    error: str | None             # why the attachment cannot be viewed
    depth: int                    # how many messages deep the viewed document is (the e-mail itself: 0)


class AttachmentNotFound(ServerError):
    def __init__(self, message: str) -> None:
        super().__init__("AttachmentNotFound", message)


class Attachments(SessionListener):
    def __init__(self, workfiles: WorkFiles, store: MetadataStore, limits: MailLimits = DEFAULT_LIMITS):
        self.workfiles = workfiles
        self.store = store
        self.limits = limits
        self._known: dict[str, ViewedPart] = {}
        self._locks: dict[str, asyncio.Lock] = {}

    # ---- what a session views -----------------------------------------------------------------------------
    def _viewed(self, session_id: str) -> ViewedPart | None:
        found = self._known.get(session_id)
        if found is None:
            stored = self.store.get(KIND, session_id)
            if stored is not None:
                found = cast(ViewedPart, stored)
                self._remember(session_id, found)
        return found

    def _remember(self, session_id: str, viewed: ViewedPart) -> None:
        if len(self._known) > 10_000:
            self._known.clear()
        self._known[session_id] = viewed

    def _save(self, session: SessionRecord, viewed: ViewedPart) -> None:
        self.store.put(KIND, session["id"], dict(viewed), session["expires"] + TOMBSTONE_SECONDS)
        self._remember(session["id"], viewed)

    def select(self, session: SessionRecord) -> DocumentPart | None:
        """The document a session views: its source, or the attachment its attachmentIndex names."""
        source = session.get("source")
        if source is None or not session["props"].get("attachmentIndex"):
            return source
        viewed = self._viewed(session["id"])
        if viewed is None:
            raise ServerError("DocumentNotProvidedYet", "The attachment is still being extracted")
        if viewed["part"] is None:
            raise AttachmentNotFound(viewed["error"] or "The attachment cannot be viewed")
        return viewed["part"]

    def depth(self, session: SessionRecord) -> int:
        viewed = self._viewed(session["id"]) if session["props"].get("attachmentIndex") else None
        return viewed["depth"] if viewed else 0

    async def source_attached(self, session: SessionRecord) -> None:
        """A session created with attachmentIndex n > 0 got its e-mail: extract the n-th attachment now, before
        the conversion (the document pipeline hears of the source after this listener)."""
        index = session["props"].get("attachmentIndex") or 0
        source = session.get("source")
        if not index or source is None or self._viewed(session["id"]) is not None:
            return
        viewed: ViewedPart = {"part": None, "error": None, "depth": 1}
        if source["extension"] not in MAIL_FORMATS:
            viewed["error"] = "The document is not an e-mail, so it has no attachments"
        else:
            try:
                attachments = await self._attachments(source)
                if index > len(attachments):
                    viewed["error"] = f"The e-mail has {len(attachments)} attachment(s), not {index}"
                else:
                    work = await self._store_attachment(attachments[index - 1], session)
                    viewed["part"] = work
            except (EngineError, DomainError) as exc:
                viewed["error"] = f"The e-mail could not be read ({getattr(exc, 'message', '') or exc})"
        self._save(session, viewed)

    async def session_removed(self, session: SessionRecord) -> None:
        """A removed session's extracted attachment goes with it where its source would (serverCaching "none",
        or a fixed-lifetime session), as ViewingSessions removes owned sources."""
        viewed = self._viewed(session["id"])
        private = session["props"].get("serverCaching") == "none" or not session.get("sliding", True)
        if viewed is not None and viewed["part"] is not None and private:
            self.workfiles.delete(viewed["part"]["fileId"])
        self.store.delete(KIND, session["id"])
        self.store.delete(LIST_KIND, session["id"])
        self._known.pop(session["id"], None)

    async def _attachments(self, part: DocumentPart) -> list[Attachment]:
        """The message's attachments, read in a thread from this node's copy (fetched when stored in S3)."""
        path = await self.workfiles.blobs.local_path(part["sha256"])
        return await asyncio.to_thread(self._read, path, part["extension"])

    def _read(self, path: Path, extension: str) -> list[Attachment]:
        if path.stat().st_size > self.limits.max_bytes:
            return []
        return read_message(path.read_bytes(), extension, self.limits).attachments

    async def _store_attachment(self, attachment: Attachment, session: SessionRecord) -> DocumentPart:
        async def one_chunk() -> AsyncIterator[bytes]:
            yield attachment.data
        if not attachment.data:
            raise AttachmentNotFound("The attachment is empty")
        sha256, size = await self.workfiles.blobs.put_stream(one_chunk(), self.workfiles.max_size)
        lifetime = max(session["expires"] - self.workfiles.clock(), 0) + TOMBSTONE_SECONDS
        work = self.workfiles.adopt(sha256, size, attachment.extension, require_format=False,
                                    owner=session["id"], lifetime=max(lifetime, self.workfiles.lifetime))
        return {"fileId": work["fileId"], "sha256": sha256, "size": size, "extension": work["fileExtension"],
                "owned": False}

    # ---- GET ViewingSession/u{id}/Attachments -------------------------------------------------------------
    async def listing(self, sessions: ViewingSessions, session_id: str) -> dict[str, Any]:
        """`sessions` makes the child sessions (it is given here, not kept: the sessions list this object among
        their listeners, so it exists before them)."""
        session = sessions.usable(session_id)
        stored = self.store.get(LIST_KIND, session_id)
        if stored is not None:
            return stored
        lock = self._locks.setdefault(session_id, asyncio.Lock())
        async with lock:
            try:
                stored = self.store.get(LIST_KIND, session_id)
                if stored is not None:
                    return stored
                answer = await self._build(sessions, session)
                if answer is not None:
                    self.store.put(LIST_KIND, session_id, answer, session["expires"] + TOMBSTONE_SECONDS)
                    return answer
                return {"status": "complete", "attachments": []}
            finally:
                self._locks.pop(session_id, None)

    async def _build(self, sessions: ViewingSessions, session: SessionRecord) -> dict[str, Any] | None:
        """The answer, or None when it is not worth keeping (no document yet)."""
        try:
            viewed = self.select(session)
        except DomainError:
            viewed = None
        if viewed is None:
            return None if session.get("source") is None else {"status": "complete", "attachments": []}
        depth = self.depth(session)
        if viewed["extension"] not in MAIL_FORMATS or depth >= self.limits.max_message_depth:
            return {"status": "complete", "attachments": []}
        try:
            attachments = await self._attachments(viewed)
        except (EngineError, DomainError):
            return {"status": "complete", "attachments": []}  # the message pages themselves say what is wrong
        listed = []
        for index, attachment in enumerate(attachments, start=1):
            props: dict[str, Any] = {key: session["props"][key] for key in INHERITED if key in session["props"]}
            props.update({"attachmentIndex": index, "attachmentDisplayName": attachment.name,
                          "startConverting": "none"})  # converted when opened, not all at once
            child = sessions.create(props, affinity_hint=session.get("affinityHint"))
            try:
                part = await self._store_attachment(attachment, child)
                self._save(child, {"part": part, "error": None, "depth": depth + 1})
            except (EngineError, DomainError) as exc:
                self._save(child, {"part": None, "error": str(exc), "depth": depth + 1})
            await sessions.attach_ref(child["id"], {"refType": "workFile", "fileId": viewed["fileId"]})
            listed.append({"displayName": attachment.name, "viewingSessionId": child["id"]})
        return {"status": "complete", "attachments": listed}
