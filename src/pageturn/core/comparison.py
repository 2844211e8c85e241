"""Word comparison sessions: the redlined document, its pages and the list of changes (revisionData).

The comparison runs once per pair of source hashes (per session for serverCaching "none"): the engine writes a
redlined DOCX with Word revision marks, LibreOffice renders it (tracked changes visible), and each change is
located on the rendered pages. The PDF and its change list are published together, so page requests and
revisionData always agree."""
from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import os
import secrets
import shutil
from pathlib import Path
from typing import Any

from ..engines.compare.runner import CompareRunner
from ..storage.blobs import BlobStore, file_sha256
from .documents import Documents, OfficeConverter
from .errors import DomainError, InputError, ServerError, invalid
from .pages import RenderPool
from .records import DocumentPart, SessionRecord

WORD_OPEN_XML = ("docx", "docm", "dotx")
CONTINUE_AFTER_MS = 250        # what a client waits between polls while the comparison runs
HOLD_SECONDS = 1.0             # how long one revisionData request waits for a running comparison
DEFAULT_LIMIT = 100
MAX_LIMIT = 10_000             # larger limits are served as this many per answer
_TOKEN_PURPOSE = b"pageturn revisionData v1\0"


class Comparer:
    """Documents' comparison converter: turns a comparison session into a PDF plus its change list.

    Where each stage runs: the redline, the reading of its changes and the markers in a sandboxed, bounded job
    process (`runner`); the rendering in the LibreOffice pool; the locating of changes on the pages in a render
    worker. The server itself only copies files and awaits."""

    def __init__(self, blobs: BlobStore, office: OfficeConverter, pool: RenderPool, runner: CompareRunner, *,
                 conversion_timeout: float):
        self.blobs = blobs
        self.office = office
        self.pool = pool  # the render worker pool does the PDF work (PDFium runs only in workers)
        self.runner = runner
        self.conversion_timeout = conversion_timeout

    async def _as_docx(self, part: DocumentPart, work: Path, name: str) -> Path:
        """The part as a DOCX the engine reads: Word 2007+ files as they are, .doc/.dot through LibreOffice."""
        source = await self.blobs.local_path(part["sha256"])
        target = work / f"{name}.docx"
        if part["extension"] in WORD_OPEN_XML:
            await asyncio.to_thread(shutil.copyfile, source, target)
            return target
        private = work / f"{name}.{part['extension']}"
        await asyncio.to_thread(shutil.copyfile, source, private)
        await self.office.convert(private, target, part["extension"], target="docx", timeout=self.conversion_timeout)
        return target

    async def convert(self, session: SessionRecord, work: Path) -> dict[str, Any]:
        """Writes work/document.pdf and answers the facts to publish with it (page count, changes, hash)."""
        original_part, revised_part = session["original"], session["revised"]
        assert original_part is not None and revised_part is not None  # Documents converts complete pairs only
        original = await self._as_docx(original_part, work, "original")
        revised = await self._as_docx(revised_part, work, "revised")
        marked, pdf = work / "marked.docx", work / "document.pdf"
        # its own bounded process: a slow or hostile pair never holds one of the server's threads
        changes = await self.runner.run(original, revised, marked)
        result = await self.office.convert(marked, pdf, "docx", timeout=self.conversion_timeout)
        located = await self.pool.run("cmp-" + session["id"], "locate_changes", str(pdf), changes)
        for change, place in zip(changes, located):
            change.update(place)
        return {"pageCount": result.page_count, "changes": changes,
                "sha256": await asyncio.to_thread(file_sha256, pdf)}




class ContinueTokens:
    """Opaque continuation tokens bound to one session: an HMAC over (purpose, session id, offset) with a server
    secret, so a client can neither forge an offset nor carry a token to another session."""

    def __init__(self, secret: bytes):
        self.secret = secret

    def _mac(self, session_id: str, body: bytes) -> bytes:
        message = _TOKEN_PURPOSE + session_id.encode() + b"\0" + body
        return hmac.new(self.secret, message, hashlib.sha256).digest()[:16]

    def make(self, session_id: str, offset: int) -> str:
        body = offset.to_bytes(4, "big")
        return base64.urlsafe_b64encode(body + self._mac(session_id, body)).decode().rstrip("=")

    def read(self, session_id: str, token: str) -> int:
        """The offset a token carries; InvalidInput (480) for anything this server did not issue to this session."""
        raw = b""
        if len(token) <= 64:
            try:
                raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
            except (ValueError, TypeError):
                raw = b""
        if len(raw) == 20 and hmac.compare_digest(raw[4:], self._mac(session_id, raw[:4])):
            return int.from_bytes(raw[:4], "big")
        raise invalid("continueToken", "a continueToken from an earlier answer for this viewing session",
                      where="query")


def parse_limit(raw: str | None) -> int:
    """revisionData's `limit`: an integer greater than 0 (default 100); larger than MAX_LIMIT counts as MAX_LIMIT."""
    if raw is None:
        return DEFAULT_LIMIT
    digits = raw.strip()
    if not digits.isascii() or not digits.isdigit() or not digits.lstrip("0"):
        raise invalid("limit", "an integer greater than 0", where="query", received=raw[:100])
    significant = digits.lstrip("0")
    return MAX_LIMIT if len(significant) > 6 else min(int(significant), MAX_LIMIT)


def public_change(change: dict) -> dict:
    """The spec's fields first; text, startPageIndex and rectangles are our documented extensions."""
    out = {"id": change["id"], "endPageIndex": change.get("endPageIndex", 0), "type": change["type"]}
    for key in ("text", "startPageIndex", "rectangles"):
        if key in change:
            out[key] = change[key]
    return out


def _comparison_failed(failure: DomainError) -> ServerError:
    message = failure.message or "The comparison failed"
    return ServerError("InternalError", message, {"message": message})


async def _known_changes(documents: Documents, session: SessionRecord, hold: float) -> list[dict[str, Any]] | None:
    """Every change once the comparison is done; None while it runs (waiting up to `hold` seconds for it)."""
    if not (session.get("original") and session.get("revised")):
        return None  # a document is still to come
    failure = documents.failure_for(session)
    if failure is not None:
        raise _comparison_failed(failure)
    await documents.session_started(session)  # under way from now on (again, after a busy pool refused it)
    try:
        source = await asyncio.wait_for(documents.page_source(session), hold)
    except asyncio.TimeoutError:
        return None
    except DomainError:
        failure = documents.failure_for(session)
        if failure is not None:
            raise _comparison_failed(failure) from None
        return None  # a busy or restarting pool: the next poll starts the comparison again
    assert source is not None  # page_source waits for the comparison
    return source.extra.get("changes") or []


async def revision_page(documents: Documents, tokens: ContinueTokens, session: SessionRecord, *, limit: int,
                        token: str | None, hold: float = HOLD_SECONDS) -> dict:
    """One answer of GET revisionData: the changes after the token's offset, at most `limit`, and a token for
    the rest (or to poll again while the comparison runs). A session that has no document yet may still become
    a comparison, so it is answered as one whose documents are still coming."""
    if session.get("source") is not None:
        raise InputError("InvalidInput", {"in": "path", "at": "viewingSessionId",
                                          "expected": "a comparison viewing session (original and revised "
                                                      "documents); this one views a single document"})
    offset = tokens.read(session["id"], token) if token else 0
    changes = await _known_changes(documents, session, hold)
    if changes is None:
        return {"changes": [], "continueToken": tokens.make(session["id"], offset),
                "continueAfter": CONTINUE_AFTER_MS}
    chunk = changes[offset:offset + limit]
    body: dict = {"changes": [public_change(c) for c in chunk]}
    if offset + len(chunk) < len(changes):
        body["continueToken"] = tokens.make(session["id"], offset + len(chunk))
        body["continueAfter"] = 0
    return body


def load_secret(path: Path) -> bytes:
    """A per-installation secret, kept in the data directory so tokens survive restarts."""
    if path.exists():
        return path.read_bytes()
    data = secrets.token_bytes(32)
    tmp = path.with_suffix(f".{os.getpid()}.tmp")
    tmp.write_bytes(data)
    os.chmod(tmp, 0o600)
    try:
        os.link(tmp, path)  # first writer wins: nodes sharing a data directory share one secret
    except FileExistsError:
        pass
    finally:
        tmp.unlink()
    return path.read_bytes()
