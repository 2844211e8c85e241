"""From a session's source to the page source the renderers read: a PDF or raster image as is, an Office,
text or HTML document converted to PDF by LibreOffice, a comparison turned into a redlined PDF.

Conversions run once per content (per session for `serverCaching: "none"`): concurrent requests share one task,
and the result is cached on disk so a second session on the same bytes starts at once."""
from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import shutil
import time
import zipfile
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Protocol

from ..engines.xps import XpsConverter
from ..storage.blobs import BlobStore, CacheStore, StorageUnavailable, file_sha256
from ..storage.metadata import LocalLocks
from . import formats
from .engine_errors import remember_seconds, to_domain
from .errors import DomainError, ServerError, UnrecognizedFormat
from .office_preview import CONFIDENCE as PREVIEW_CONFIDENCE, OfficePreviews
from .records import DocumentPart, SessionRecord
from .run_once import LOCK_TTL, LockStore, WaitedTooLong, run_once
from .sessions import SessionListener

log = logging.getLogger(__name__)


@dataclass
class PageSource:
    """What a renderer needs: a file of a kind it reads, a key naming its content, the scope of its cache."""

    kind: str              # "pdf" or "image"
    path: Path
    content_key: str       # sha256 of the bytes the pages come from
    scope: str             # "shared", or "s-<session id>" for sessions that must not share output
    password: str | None = None
    sheets: list[dict[str, Any]] | None = None
    extra: dict[str, Any] = field(default_factory=dict)   # the conversion's published facts (meta.json)
    # the first pages of a long document converted ahead of the whole (core.office_preview): pages past
    # extra["pages"] are not in it, and its pages are replaced by the whole document's once that is published
    provisional: bool = False


@dataclass
class Progress:
    """A conversion's state for Document/q/Attributes while it runs."""

    done: bool
    estimate: int
    confidence: int
    error: DomainError | None = None
    sheets: list[dict[str, Any]] | None = None


class ConversionResult(Protocol):
    page_count: int | None
    sheets: list[dict[str, Any]] | None


class OfficeConverter(Protocol):
    """The LibreOffice pool as the domain uses it (engines.office.OfficePool)."""

    async def convert(self, source: Path, out: Path, extension: str, *, password: str | None = None,
                      timeout: float | None = None, target: str = "pdf") -> ConversionResult: ...


class ComparisonConverter(Protocol):
    """Turns a comparison session into `work/document.pdf` plus the facts to publish with it (core.comparison)."""

    async def convert(self, session: SessionRecord, work: Path) -> dict[str, Any]: ...


MAX_FAILURES = 1000             # conversion failures remembered at once (each only for a while)
PUBLISHED = ("meta.json", "document.pdf")  # a conversion's files, in the order they are published
PREVIEW = ("preview.json", "preview.pdf")  # a long document's first pages, before the whole (this node only)


@dataclass
class _Conversion:
    """A conversion running on this node."""

    task: asyncio.Task[None]
    # set when its result is in place on this node: its pages are served from then on, while the conversion
    # still holds the cluster-wide lock until other nodes can fetch the result
    local: asyncio.Event = field(default_factory=asyncio.Event)
    # for a document that may have a preview: settled once it is published or will not be
    preview: asyncio.Future[None] | None = None


class Documents(SessionListener):
    def __init__(self, blobs: BlobStore, cache: CacheStore, *, office: OfficeConverter | None,
                 comparer: ComparisonConverter | None, conversion_timeout: float = 120,
                 on_scope_removed: tuple[Callable[[Path], None], ...] = (), locks: LockStore | None = None,
                 on_converted: Callable[[str, str, float], None] = lambda kind, outcome, seconds: None,
                 select_part: Callable[[SessionRecord], DocumentPart | None] = lambda session: session["source"],
                 previews: OfficePreviews | None = None):
        self.blobs = blobs
        self.cache = cache
        self.office = office          # None when LibreOffice is off
        self.comparer = comparer      # None when comparison is off
        self.conversion_timeout = conversion_timeout
        self._running: dict[str, _Conversion] = {}   # by converted directory
        # failures the document caused, each with when it is forgotten; bounded, oldest first
        self._failures: OrderedDict[str, tuple[DomainError, float]] = OrderedDict()
        self.xps = XpsConverter()     # XPS/OXPS to PDF (xpstopdf, isolated and capped)
        self.on_scope_removed = on_scope_removed  # in-memory caches that must forget a removed session's output
        self.locks: LockStore = locks if locks is not None else LocalLocks()  # one conversion per source, cluster-wide
        self.on_converted = on_converted  # (kind, "ok" or "failed", seconds): for metrics
        # which document a session views: its source, unless something else is chosen (core.attachments picks
        # an e-mail's attachment by attachmentIndex)
        self.select_part = select_part
        self.previews = previews  # None: a long document's first page waits for its whole conversion

    # ---- which source, where ----------------------------------------------------------------------------
    @staticmethod
    def scope(session: SessionRecord) -> str:
        return "shared" if session["props"]["serverCaching"] == "full" else "s-" + session["id"]

    @staticmethod
    def is_comparison(session: SessionRecord) -> bool:
        return bool(session.get("original") or session.get("revised"))

    def _password(self, session: SessionRecord) -> str | None:
        return session["props"].get("password")

    def _converted_dir(self, session: SessionRecord, key: str) -> Path:
        return self.cache.path(self.scope(session), "converted", key)

    def conversion_key(self, session: SessionRecord) -> str | None:
        """The key of the conversion a session needs, or None when its source is read as is."""
        if self.is_comparison(session):
            original, revised = session["original"], session["revised"]
            if original is None or revised is None:
                raise ServerError("DocumentNotProvidedYet", "Both the original and the revised document are needed")
            pair = original["sha256"] + revised["sha256"]
            return "cmp-" + hashlib.sha256(pair.encode()).hexdigest()
        part = self.select_part(session)
        if part is None:
            return None
        fmt = formats.format_of(part["extension"])
        if fmt is None:
            raise UnrecognizedFormat()
        if fmt.family in ("office", "text", "xps"):
            # the password changes what LibreOffice can open, so it is part of the key
            password = self._password(session) or ""
            salt = hashlib.sha256(password.encode()).hexdigest()[:12] if password else "nopw"
            return f"{part['sha256']}-{part['extension']}-{salt}"
        return None

    async def page_source(self, session: SessionRecord, *, wait: bool = True,
                          page: int | None = None) -> PageSource | None:
        """The page source, converting first if needed; None when `wait` is False and it is not ready yet.
        With `page`, a preview holding that page (provisional) is enough while the whole conversion runs."""
        part = self.select_part(session)
        if part is None and not self.is_comparison(session):
            raise ServerError("DocumentNotProvidedYet", "The viewing session has no document yet")
        if self.is_comparison(session) and not (session.get("original") and session.get("revised")):
            raise ServerError("DocumentNotProvidedYet", "Both the original and the revised document are needed")
        key = self.conversion_key(session)
        if key is None:
            assert part is not None  # only a single document is read as is
            fmt = formats.format_of(part["extension"])
            kind = "pdf" if fmt is not None and fmt.family == "pdf" else "image"
            return PageSource(kind=kind, path=await self.blobs.local_path(part["sha256"]),
                              content_key=part["sha256"], scope=self.scope(session),
                              password=self._password(session))
        directory = self._converted_dir(session, key)
        result = directory / "document.pdf"
        if not result.exists():
            conversion = self._start(session, key, directory)
            if page is not None:
                early = await self._preview_source(session, directory, page, conversion)
                if early is not None:
                    return early
            if not wait:
                return None
            await self._until_local(conversion, directory)
        meta = self._meta(directory)
        return PageSource(kind="pdf", path=result, content_key=meta.get("sha256") or key, scope=self.scope(session),
                          password=None, sheets=meta.get("sheets"), extra=meta)

    @staticmethod
    def _meta(directory: Path, name: str = "meta.json") -> dict[str, Any]:
        try:
            return json.loads((directory / name).read_text())
        except (FileNotFoundError, ValueError):
            return {}

    async def _preview_source(self, session: SessionRecord, directory: Path, page: int,
                              conversion: _Conversion) -> PageSource | None:
        """The preview, once there is one holding `page` and the whole document is not published yet."""
        preview = self._meta(directory, PREVIEW[0])
        if not preview:
            if conversion.preview is None:
                return None
            await asyncio.wait({conversion.preview, conversion.task}, return_when=asyncio.FIRST_COMPLETED)
            preview = self._meta(directory, PREVIEW[0])
        if not preview or page >= preview["pages"] or (directory / "document.pdf").exists():
            return None
        return PageSource(kind="pdf", path=directory / PREVIEW[1], content_key=preview["sha256"],
                          scope=self.scope(session), extra=preview, provisional=True)

    def _failure(self, full_key: str) -> DomainError | None:
        remembered = self._failures.get(full_key)
        if remembered is None:
            return None
        if remembered[1] <= time.monotonic():
            del self._failures[full_key]
            return None
        return remembered[0]

    def _remember_failure(self, full_key: str, error: DomainError, seconds: float) -> None:
        if seconds <= 0:
            return
        self._failures[full_key] = (error, time.monotonic() + seconds)
        self._failures.move_to_end(full_key)
        while len(self._failures) > MAX_FAILURES:
            self._failures.popitem(last=False)

    async def _until_local(self, conversion: _Conversion, directory: Path) -> None:
        """Wait for a conversion's result on this node (not for its publishing); its failure is raised."""
        task = conversion.task
        if not task.done():
            here = asyncio.ensure_future(conversion.local.wait())
            try:
                await asyncio.wait({task, here}, return_when=asyncio.FIRST_COMPLETED)
            finally:
                here.cancel()
        if not (directory / "document.pdf").exists():
            await asyncio.shield(task)

    def _start(self, session: SessionRecord, key: str, directory: Path) -> _Conversion:
        full_key = str(directory)
        failure = self._failure(full_key)
        if failure is not None:
            raise failure
        conversion = self._running.get(full_key)
        if conversion is None or conversion.task.done():
            # the task starts running after this record is in place (it looks itself up by its directory)
            task = asyncio.create_task(self._convert(session, key, directory))
            task.add_done_callback(lambda t: t.cancelled() or t.exception())  # failures are kept in _failures
            preview = asyncio.get_running_loop().create_future() if self._previewable(session) else None
            conversion = self._running[full_key] = _Conversion(task, preview=preview)
        return conversion

    async def _convert(self, session: SessionRecord, key: str, directory: Path) -> None:
        """Once across the cluster: a node holding the store's lock converts, the others wait for its result."""
        try:
            await run_once(self.locks, f"convert:{self.scope(session)}:{key}", (directory / "document.pdf").exists,
                           lambda: self._convert_here(session, key, directory),
                           max_wait=2 * self.conversion_timeout + LOCK_TTL)
        except WaitedTooLong:
            error = ServerError("ConversionFailed", "Another node took too long converting the document")
            self._remember_failure(str(directory), error, 10)
            raise error from None
        finally:
            self._settle_preview(directory)
            self._running.pop(str(directory), None)

    def _previewable(self, session: SessionRecord) -> bool:
        part = self.select_part(session)
        return (self.previews is not None and part is not None and not self.is_comparison(session)
                and self.previews.applies(part["extension"], self._password(session)))

    def _settle_preview(self, directory: Path) -> None:
        conversion = self._running.get(str(directory))
        if conversion is not None and conversion.preview is not None and not conversion.preview.done():
            conversion.preview.set_result(None)

    async def _convert_here(self, session: SessionRecord, key: str, directory: Path) -> None:
        started = time.monotonic()
        work = self.blobs.temp_path(suffix=".d")
        work.unlink()
        work.mkdir()
        kind = "comparison" if self.is_comparison(session) else "office"
        try:
            if await self.cache.fetch_shared(directory, PUBLISHED):  # another node converted it already
                log.info("fetched %s converted elsewhere in %.2fs", key[:16], time.monotonic() - started)
                self._served_here(directory)
                return
            if self.is_comparison(session):
                if self.comparer is None:
                    raise ServerError("FeatureDisabled", "Document comparison is not available on this server")
                meta = await self.comparer.convert(session, work)
            elif self._family(session) == "xps":
                meta = await self._convert_xps(session, work)
            else:
                meta = await self._convert_office(session, work, directory)
            await asyncio.to_thread(self.publish, directory, work / "document.pdf", meta)
            log.info("converted %s in %.2fs", key[:16], time.monotonic() - started)
            self.on_converted(kind, "ok", time.monotonic() - started)
            self._served_here(directory)  # this node's pages go ahead now, not after the upload below
            # published before the lock is released: a node waiting for it then fetches instead of converting
            await self.cache.share(directory, PUBLISHED)
        except StorageUnavailable:
            self.on_converted(kind, "failed", time.monotonic() - started)
            raise  # the store's outage, not the document's fault: nothing to remember
        except Exception as exc:  # an engine's failure becomes the session's clear 580 (or 480 for a password)
            self.on_converted(kind, "failed", time.monotonic() - started)
            error = to_domain(exc, "convert")
            self._remember_failure(str(directory), error, remember_seconds(exc))
            raise error from None
        finally:
            await asyncio.to_thread(shutil.rmtree, work, True)

    def _served_here(self, directory: Path) -> None:
        conversion = self._running.get(str(directory))
        if conversion is not None:
            conversion.local.set()

    async def _convert_office(self, session: SessionRecord, work: Path, directory: Path) -> dict[str, Any]:
        if self.office is None:
            raise ServerError("FeatureDisabled", "Office, text and HTML documents are not enabled on this server")
        part = self.select_part(session)
        assert part is not None  # conversion_key() gave a key, so there is a source
        # LibreOffice sees only this private copy, named by the format so its filters pick correctly;
        # copied in a thread: sources may be hundreds of MB
        private = work / f"document.{part['extension']}"
        await asyncio.to_thread(shutil.copyfile, await self.blobs.local_path(part["sha256"]), private)
        out = work / "document.pdf"
        preview = await self._start_preview(session, private, work, directory)
        try:
            result = await self.office.convert(private, out, part["extension"], password=self._password(session),
                                               timeout=self.conversion_timeout)
        finally:
            if preview is not None:
                preview.cancel()  # the whole document is here (or failed): its first pages are not needed
        return {"pageCount": result.page_count, "sheets": result.sheets,
                "sha256": await asyncio.to_thread(file_sha256, out)}

    async def _start_preview(self, session: SessionRecord, private: Path, work: Path,
                             directory: Path) -> asyncio.Task[None] | None:
        """Cuts the document's first pages out and starts converting them, ahead of the whole document."""
        if self.previews is None or not self._previewable(session):
            return None
        prefix = await self.previews.prefix(private, work)
        if prefix is None:
            self._settle_preview(directory)
            return None
        task = asyncio.create_task(self._preview(prefix[0], prefix[1], work, directory))
        await asyncio.sleep(0)  # its conversion gets in LibreOffice's line before the whole document's
        return task

    async def _preview(self, prefix: Path, facts: dict[str, Any], work: Path, directory: Path) -> None:
        assert self.previews is not None
        try:
            preview = await self.previews.convert(prefix, facts, work)
            if preview is None or (directory / "document.pdf").exists():
                return
            sha = await asyncio.to_thread(file_sha256, preview.pdf)
            meta = {"pages": preview.pages, "estimate": preview.estimate, "sha256": "preview-" + sha}

            def publish() -> None:  # the PDF first: a reader that finds the facts finds their PDF
                directory.mkdir(parents=True, exist_ok=True)
                self.cache.adopt(directory / PREVIEW[1], preview.pdf)
                self.cache.write_bytes(directory / PREVIEW[0], json.dumps(meta).encode())
            await asyncio.to_thread(publish)
            log.info("preview of %s: %d pages of about %d", directory.name[:16], preview.pages, preview.estimate)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # the whole conversion reports what is wrong with the document
            log.info("no preview for %s: %s", directory.name[:16], exc)
        finally:
            self._settle_preview(directory)

    def _family(self, session: SessionRecord) -> str | None:
        part = self.select_part(session)
        fmt = formats.format_of(part["extension"]) if part else None
        return fmt.family if fmt else None

    async def _convert_xps(self, session: SessionRecord, work: Path) -> dict[str, Any]:
        """XPS has its own converter (engines/xps.py): LibreOffice does not read it."""
        part = self.select_part(session)
        assert part is not None
        private = work / f"document.{part['extension']}"
        await asyncio.to_thread(shutil.copyfile, await self.blobs.local_path(part["sha256"]), private)
        out = work / "document.pdf"
        count = await self.xps.convert(private, out, timeout=self.conversion_timeout)
        return {"pageCount": count, "sheets": None, "sha256": await asyncio.to_thread(file_sha256, out)}

    def publish(self, directory: Path, pdf: Path, meta: dict[str, Any]) -> None:
        """meta.json first, then the PDF by rename: a reader that sees the PDF also sees its facts."""
        directory.mkdir(parents=True, exist_ok=True)
        self.cache.write_bytes(directory / "meta.json", json.dumps(meta).encode())
        self.cache.adopt(directory / "document.pdf", pdf)

    # ---- progress -----------------------------------------------------------------------------------------
    def progress(self, session: SessionRecord) -> Progress | None:
        """None when the source is read as is; otherwise how far its conversion is."""
        key = self.conversion_key(session)
        if key is None:
            return None
        directory = self._converted_dir(session, key)
        if (directory / "document.pdf").exists():
            meta = self._meta(directory)
            return Progress(True, meta.get("pageCount") or 0, 100, sheets=meta.get("sheets"))
        failure = self._failure(str(directory))
        if failure is not None:
            return Progress(True, 0, 100, error=failure)
        estimate, confidence = self.estimate_pages(session)
        preview = self._meta(directory, PREVIEW[0])
        if preview:  # pages already laid out: at least that many, and an extrapolation from them
            known = int(preview["pages"])
            if not (confidence >= PREVIEW_CONFIDENCE and estimate > known):  # Word's own count when it has one
                estimate, confidence = max(known, int(preview["estimate"])), PREVIEW_CONFIDENCE
        return Progress(False, estimate, confidence)

    def estimate_pages(self, session: SessionRecord) -> tuple[int, int]:
        """An honest early page count: what the file itself records (Word and PowerPoint store their page and
        slide counts in docProps/app.xml), else a rough guess with low confidence."""
        part = self.select_part(session) or session.get("revised")
        if part is None:
            return 1, 0
        path = self.blobs.path(part["sha256"])
        if part["extension"] in ("docx", "docm", "dotx", "pptx", "ppsx", "xlsx", "xlsm"):
            try:
                with zipfile.ZipFile(path) as archive:
                    app = formats.read_member(archive, "docProps/app.xml", 100_000).decode("utf-8", "replace")
                for tag in ("Pages", "Slides"):
                    start = app.find(f"<{tag}>")
                    if start >= 0:
                        value = int(app[start + len(tag) + 2:app.find(f"</{tag}>", start)])
                        if value > 0:
                            return value, 50
            except (zipfile.BadZipFile, KeyError, ValueError, OSError):
                pass
        size = part.get("size") or path.stat().st_size
        return max(1, size // 50_000), 10

    # ---- session events -------------------------------------------------------------------------------------
    async def source_attached(self, session: SessionRecord) -> None:
        # converting from the upload on (not only from SessionStarted) gives faster first pages
        if session["props"].get("startConverting") != "none" or session.get("started"):
            await self.session_started(session)

    async def session_started(self, session: SessionRecord) -> None:
        """Start converting now, so the first page request finds the work under way or done."""
        try:
            key = self.conversion_key(session)
        except DomainError:
            return
        if key is not None:
            directory = self._converted_dir(session, key)
            if not (directory / "document.pdf").exists():
                try:
                    self._start(session, key, directory)
                except DomainError:
                    pass

    async def session_removed(self, session: SessionRecord) -> None:
        if self.scope(session) != "shared":
            await asyncio.to_thread(self.cache.remove_tree, self.scope(session))  # a walk of many files
            for forget in self.on_scope_removed:
                forget(self.cache.path(self.scope(session)))

    def failure_for(self, session: SessionRecord) -> DomainError | None:
        key = self.conversion_key(session)
        return None if key is None else self._failure(str(self._converted_dir(session, key)))
