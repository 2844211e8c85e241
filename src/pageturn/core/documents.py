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
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..storage.blobs import BlobStore, CacheStore, file_sha256
from . import formats
from .errors import DomainError, PasswordRequired, ServerError, UnrecognizedFormat

log = logging.getLogger(__name__)


@dataclass
class PageSource:
    """What a renderer needs: a file of a kind it reads, a key naming its content, the scope of its cache."""

    kind: str              # "pdf" or "image"
    path: Path
    content_key: str       # sha256 of the bytes the pages come from
    scope: str             # "shared", or "s-<session id>" for sessions that must not share output
    password: str | None = None
    sheets: list | None = None
    extra: dict = field(default_factory=dict)


@dataclass
class Progress:
    """A conversion's state for Document/q/Attributes while it runs."""

    done: bool
    estimate: int
    confidence: int
    error: DomainError | None = None
    sheets: list | None = None


_TRANSIENT = {"QueueFull": "Too many documents are waiting for conversion; try again shortly",
              "OfficeUnavailable": "The document converter is starting; try again shortly"}


class ConversionFailed(ServerError):
    def __init__(self, message: str):
        super().__init__("ConversionFailed", message, {"message": message})


class Documents:
    def __init__(self, blobs: BlobStore, cache: CacheStore, *, office: Any = None, conversion_timeout: float = 120):
        self.blobs = blobs
        self.cache = cache
        self.office = office          # engines.office.OfficePool, or None when LibreOffice is off
        self.comparer: Any = None     # set by the comparison feature
        self.conversion_timeout = conversion_timeout
        self._tasks: dict[str, asyncio.Task] = {}
        self._failures: dict[str, DomainError] = {}
        self.on_scope_removed: list = []  # in-memory caches that must forget a removed session's output

    # ---- which source, where ----------------------------------------------------------------------------
    @staticmethod
    def scope(session: dict) -> str:
        return "shared" if session["props"]["serverCaching"] == "full" else "s-" + session["id"]

    @staticmethod
    def is_comparison(session: dict) -> bool:
        return bool(session.get("original") or session.get("revised"))

    def _password(self, session: dict) -> str | None:
        return session["props"].get("password")

    def _converted_dir(self, session: dict, key: str) -> Path:
        return self.cache.path(self.scope(session), "converted", key)

    def conversion_key(self, session: dict) -> str | None:
        """The key of the conversion a session needs, or None when its source is read as is."""
        if self.is_comparison(session):
            if not (session.get("original") and session.get("revised")):
                raise ServerError("DocumentNotProvidedYet", "Both the original and the revised document are needed")
            pair = session["original"]["sha256"] + session["revised"]["sha256"]
            return "cmp-" + hashlib.sha256(pair.encode()).hexdigest()
        part = session.get("source")
        if part is None:
            return None
        fmt = formats.format_of(part["extension"])
        if fmt is None:
            raise UnrecognizedFormat()
        if fmt.family in ("office", "text"):
            # the password changes what LibreOffice can open, so it is part of the key
            password = self._password(session) or ""
            salt = hashlib.sha256(password.encode()).hexdigest()[:12] if password else "nopw"
            return f"{part['sha256']}-{part['extension']}-{salt}"
        return None

    async def page_source(self, session: dict, *, wait: bool = True) -> PageSource | None:
        """The page source, converting first if needed; None when `wait` is False and it is not ready yet."""
        part = session.get("source")
        if part is None and not self.is_comparison(session):
            raise ServerError("DocumentNotProvidedYet", "The viewing session has no document yet")
        if self.is_comparison(session) and not (session.get("original") and session.get("revised")):
            raise ServerError("DocumentNotProvidedYet", "Both the original and the revised document are needed")
        key = self.conversion_key(session)
        if key is None:
            fmt = formats.format_of(part["extension"])
            return PageSource(kind="pdf" if fmt.family == "pdf" else "image", path=self.blobs.path(part["sha256"]),
                              content_key=part["sha256"], scope=self.scope(session),
                              password=self._password(session))
        directory = self._converted_dir(session, key)
        result = directory / "document.pdf"
        if not result.exists():
            task = self._start(session, key, directory)
            if not wait:
                return None
            await asyncio.shield(task)
        meta = self._meta(directory)
        return PageSource(kind="pdf", path=result, content_key=meta.get("sha256") or key, scope=self.scope(session),
                          password=None, sheets=meta.get("sheets"), extra=meta)

    @staticmethod
    def _meta(directory: Path) -> dict:
        try:
            return json.loads((directory / "meta.json").read_text())
        except (FileNotFoundError, ValueError):
            return {}

    def _start(self, session: dict, key: str, directory: Path) -> asyncio.Task:
        full_key = str(directory)
        if full_key in self._failures:
            raise self._failures[full_key]
        task = self._tasks.get(full_key)
        if task is None or task.done():
            task = asyncio.create_task(self._convert(session, key, directory))
            task.add_done_callback(lambda t: t.cancelled() or t.exception())  # failures are kept in _failures
            self._tasks[full_key] = task
        return task

    async def _convert(self, session: dict, key: str, directory: Path) -> None:
        started = time.monotonic()
        try:
            if self.is_comparison(session):
                if self.comparer is None:
                    raise ServerError("FeatureDisabled", "Document comparison is not available on this server")
                await self.comparer.convert(session, directory)  # both publish their PDF and facts
            else:
                await self._convert_office(session, directory)
            log.info("converted %s in %.2fs", key[:16], time.monotonic() - started)
        except DomainError as exc:
            self._failures[str(directory)] = exc
            raise
        except Exception as exc:  # an engine's failure becomes the session's clear 580
            name = type(exc).__name__
            if name in _TRANSIENT:  # a busy or restarting pool: the next request tries again
                raise ServerError("ServerBusy", _TRANSIENT[name], {"message": _TRANSIENT[name]}) from None
            if name == "ConversionTimeout":
                error = ConversionFailed(f"Converting the document took longer than {self.conversion_timeout:g} s")
            elif name in ("UnreadableDocument", "CorruptDocument", "ConversionFailed"):
                error = ConversionFailed(f"The document could not be read: {getattr(exc, 'message', exc)}")
            else:
                log.exception("conversion of %s failed", key[:16])
                error = ConversionFailed("The document could not be converted")
            self._failures[str(directory)] = error
            raise error from None
        finally:
            self._tasks.pop(str(directory), None)

    async def _convert_office(self, session: dict, directory: Path) -> dict:
        if self.office is None:
            raise ServerError("FeatureDisabled", "Office, text and HTML documents are not enabled on this server")
        part = session["source"]
        source = self.blobs.path(part["sha256"])
        work = Path(self.blobs.temp_path(suffix=".d"))
        work.unlink()
        work.mkdir()
        try:
            # LibreOffice sees only this private copy, named by the format so its filters pick correctly
            private = work / f"document.{part['extension']}"
            shutil.copyfile(source, private)  # streamed: sources may be hundreds of MB
            out = work / "document.pdf"
            result = await self.office.convert(private, out, part["extension"], password=self._password(session),
                                               timeout=self.conversion_timeout)
            meta = {"pageCount": getattr(result, "page_count", None), "sheets": getattr(result, "sheets", None),
                    "sha256": await asyncio.to_thread(file_sha256, out)}
            return self.publish(directory, out, meta)
        except Exception as exc:
            if type(exc).__name__ == "PasswordRequired":
                raise PasswordRequired() from None
            raise
        finally:
            shutil.rmtree(work, ignore_errors=True)

    def publish(self, directory: Path, pdf: Path, meta: dict) -> dict:
        """meta.json first, then the PDF by rename: a reader that sees the PDF also sees its facts."""
        directory.mkdir(parents=True, exist_ok=True)
        self.cache.write_bytes(directory / "meta.json", json.dumps(meta).encode())
        self.cache.adopt(directory / "document.pdf", pdf)
        return meta

    # ---- progress -----------------------------------------------------------------------------------------
    def progress(self, session: dict) -> Progress | None:
        """None when the source is read as is; otherwise how far its conversion is."""
        key = self.conversion_key(session)
        if key is None:
            return None
        directory = self._converted_dir(session, key)
        if (directory / "document.pdf").exists():
            meta = self._meta(directory)
            return Progress(True, meta.get("pageCount") or 0, 100, sheets=meta.get("sheets"))
        failure = self._failures.get(str(directory))
        if failure is not None:
            return Progress(True, 0, 100, error=failure)
        estimate, confidence = self.estimate_pages(session)
        return Progress(False, estimate, confidence)

    def estimate_pages(self, session: dict) -> tuple[int, int]:
        """An honest early page count: what the file itself records (Word and PowerPoint store their page and
        slide counts in docProps/app.xml), else a rough guess with low confidence."""
        part = session.get("source") or session.get("revised")
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
    async def source_attached(self, session: dict) -> None:
        # converting from the upload on (not only from SessionStarted) gives faster first pages
        if session["props"].get("startConverting") != "none" or session.get("started"):
            await self.session_started(session)

    async def session_started(self, session: dict) -> None:
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

    async def session_removed(self, session: dict) -> None:
        if self.scope(session) != "shared":
            self.cache.remove_tree(self.scope(session))
            for forget in self.on_scope_removed:
                forget(self.cache.path(self.scope(session)))

    def failure_for(self, session: dict) -> DomainError | None:
        key = self.conversion_key(session)
        return None if key is None else self._failures.get(str(self._converted_dir(session, key)))
