"""Word comparison sessions: the redlined document, its pages and the list of changes (revisionData).

The comparison runs once per pair of source hashes: the engine writes a redlined DOCX with Word revision marks,
LibreOffice renders it (tracked changes visible), and each change is located on the rendered pages."""
from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import shutil
from pathlib import Path
from typing import Any

from ..storage.blobs import BlobStore
from .errors import InputError, ServerError, invalid

CONTINUE_AFTER_MS = 500
TEXT_LIMIT = 200


class Comparer:
    """Plugged into Documents as its `comparer`: turns a comparison session into a PDF plus change list."""

    def __init__(self, blobs: BlobStore, documents: Any, pages: Any):
        self.blobs = blobs
        self.documents = documents
        self.pages = pages  # its worker pool does the PDF work (PDFium runs only in workers)

    async def _as_docx(self, part: dict, work: Path, name: str) -> Path:
        source = self.blobs.path(part["sha256"])
        target = work / f"{name}.docx"
        if part["extension"] in ("docx", "docm", "dotx"):
            shutil.copyfile(source, target)
            return target
        office = self.documents.office
        if office is None:
            raise ServerError("FeatureDisabled", "Comparing .doc files needs LibreOffice, which is not enabled")
        private = work / f"{name}.{part['extension']}"
        shutil.copyfile(source, private)
        await office.convert(private, target, part["extension"], target="docx")
        return target

    async def convert(self, session: dict, directory: Path) -> dict:
        from ..engines import compare as engine
        office = self.documents.office
        if office is None:
            raise ServerError("FeatureDisabled", "Comparison pages need LibreOffice, which is not enabled")
        work = self.blobs.temp_path(suffix=".cmp")
        work.unlink()
        work.mkdir()
        try:
            original = await self._as_docx(session["original"], work, "original")
            revised = await self._as_docx(session["revised"], work, "revised")
            redlined = work / "redlined.docx"
            # the engine runs its own .NET process; a thread keeps the event loop free meanwhile
            await asyncio.to_thread(engine.compare_docx, original, revised, redlined)
            changes = await asyncio.to_thread(engine.parse_changes, redlined, original, revised)
            marked = work / "marked.docx"
            await asyncio.to_thread(engine.add_change_markers, redlined, marked, changes)
            pdf = work / "document.pdf"
            result = await office.convert(marked, pdf, "docx", timeout=self.documents.conversion_timeout)
            located = await self.pages.pool.run("cmp-" + session["id"], "locate_changes", str(pdf), changes)
            for change, place in zip(changes, located):
                change.update(place)
                if len(change.get("text") or "") > TEXT_LIMIT:
                    change["text"] = change["text"][:TEXT_LIMIT - 1] + "…"
            meta = {"pageCount": getattr(result, "page_count", None), "changes": changes,
                    "sha256": hashlib.sha256(pdf.read_bytes()).hexdigest()}
            return self.documents._publish(directory, pdf, meta)
        finally:
            shutil.rmtree(work, ignore_errors=True)


class ContinueTokens:
    """Opaque continuation tokens bound to one session: an HMAC over (session id, offset) with a server secret,
    so a client can neither forge an offset nor carry a token to another session."""

    def __init__(self, secret: bytes):
        self.secret = secret

    def make(self, session_id: str, offset: int) -> str:
        body = offset.to_bytes(4, "big")
        mac = hmac.new(self.secret, session_id.encode() + body, hashlib.sha256).digest()[:16]
        return base64.urlsafe_b64encode(body + mac).decode().rstrip("=")

    def read(self, session_id: str, token: str) -> int:
        try:
            raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        except (ValueError, TypeError):
            raw = b""
        if len(raw) == 20:
            body, mac = raw[:4], raw[4:]
            expected = hmac.new(self.secret, session_id.encode() + body, hashlib.sha256).digest()[:16]
            if hmac.compare_digest(mac, expected):
                return int.from_bytes(body, "big")
        raise invalid("continueToken", "a continueToken from an earlier answer for this session", where="query")


def public_change(change: dict) -> dict:
    """The spec's fields first; text, startPageIndex and rectangles are our documented extensions."""
    out = {"id": change["id"], "endPageIndex": change.get("endPageIndex", 0), "type": change["type"]}
    for key in ("text", "startPageIndex", "rectangles"):
        if key in change:
            out[key] = change[key]
    return out


async def revision_page(documents: Any, tokens: ContinueTokens, session: dict, *, limit: int,
                        token: str | None) -> dict:
    if not documents.is_comparison(session):
        raise InputError("InvalidInput", {"in": "path", "at": "viewingSessionId",
                                          "expected": "a comparison viewing session"})
    offset = tokens.read(session["id"], token) if token else 0
    pending = {"changes": [], "continueToken": tokens.make(session["id"], offset), "continueAfter": CONTINUE_AFTER_MS}
    if not (session.get("original") and session.get("revised")):
        return pending  # the second document is still to come
    progress = documents.progress(session)
    if not progress.done:
        await documents.session_started(session)  # make sure the comparison is under way
        return pending
    if progress.error is not None:
        raise ServerError("InternalError", "The comparison failed", {"message": progress.error.message})
    source = await documents.page_source(session)
    changes = source.extra.get("changes") or []
    chunk = changes[offset:offset + limit]
    body: dict = {"changes": [public_change(c) for c in chunk]}
    if offset + len(chunk) < len(changes):
        body["continueToken"] = tokens.make(session["id"], offset + len(chunk))
        body["continueAfter"] = 0
    return body


def load_secret(path: Path) -> bytes:
    """A per-installation secret, kept in the data directory so tokens survive restarts."""
    import os
    import secrets
    if path.exists():
        return path.read_bytes()
    data = secrets.token_bytes(32)
    tmp = path.with_suffix(".tmp")
    tmp.write_bytes(data)
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)
    return data

