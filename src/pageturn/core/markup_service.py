"""Markup burning and redaction as PrizmDoc processes: the markup burner, redaction creators and plain-text
redactors. Inputs and outputs are work files; the document is parsed only in render workers (under their
memory cap and a timeout), never in the server process.

A document that is not a PDF is burned through its PDF: Office and text documents are converted by LibreOffice
first, images become a PDF page per frame inside the worker."""
from __future__ import annotations

import asyncio
import json
import logging
import re
import shutil
from pathlib import Path
from typing import Any, AsyncIterator

from . import formats
from .documents import Documents, OfficeConverter
from .engine_errors import to_domain
from .errors import DomainError, InputError, input_object, invalid, missing
from .markup_json import validate_markup
from .pages import RenderPool
from .processes import ProcessFailed, ProcessRecord, Processes
from .records import SessionRecord, WorkFileRecord
from .workfiles import WorkFiles

log = logging.getLogger(__name__)

MAX_MARKUP_BYTES = 32 << 20    # as a markup layer's body
MAX_RULES = 100
MAX_PATTERN = 2000
NAMED = ("emailAddress", "phoneNumber", "iban", "paymentCardNumber")
COLOR = re.compile(r"#[0-9A-Fa-f]{6}")
LINE_ENDINGS = ("\n", "\r\n")
_BODY = 'a JSON object {"input": {...}}'  # what a process request body is, for its 480


def _min_seconds(body: dict[str, Any]) -> int | None:
    value = body.get("minSecondsAvailable")
    if value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise invalid("minSecondsAvailable", "a whole number of seconds", received=value)
    return min(value, 10 * 365 * 86400)


def _string(data: dict[str, Any], key: str, at: str) -> str:
    value = data.get(key)
    if value is None:
        raise missing(at)
    if not isinstance(value, str) or not value:
        raise invalid(at, "a string", received=value)
    return value


def _not_found(at: str) -> InputError:
    return InputError("ResourceNotFound", {"in": "body", "at": at})


class MarkupService:
    def __init__(self, workfiles: WorkFiles, documents: Documents, pool: RenderPool, office: OfficeConverter | None,
                 processes: Processes, *, job_timeout: float, conversion_timeout: float, dpi: float = 150.0):
        self.workfiles = workfiles
        self.documents = documents
        self.pool = pool
        self.office = office
        self.processes = processes
        self.job_timeout = job_timeout
        self.conversion_timeout = conversion_timeout
        self.dpi = dpi

    # ---- inputs ---------------------------------------------------------------------------------------------
    async def _job(self, key: str, fn: str, *args: Any, timeout: float | None = None, **kwargs: Any) -> Any:
        try:
            return await self.pool.run(key, fn, *args, timeout=timeout or self.job_timeout, **kwargs)
        except Exception as exc:
            raise to_domain(exc, "convert") from None

    def _markup_of(self, path: Path) -> list[dict[str, Any]]:
        if path.stat().st_size > MAX_MARKUP_BYTES:
            raise ProcessFailed("InvalidMarkup", {"message": f"markup files are at most {MAX_MARKUP_BYTES} bytes"})
        raw = path.read_bytes()
        try:
            body = json.loads(raw.decode("utf-8-sig"))
        except (ValueError, UnicodeDecodeError):
            # XML markup (the legacy format) is not read here: JSON only (README)
            raise ProcessFailed("RedactionError", {"message": "the markup file is not markup JSON"}) from None
        try:
            return validate_markup(body)
        except InputError as exc:
            raise ProcessFailed("InvalidMarkup", exc.details) from None

    async def _as_pdf(self, work: WorkFileRecord, scratch: Path) -> tuple[str, str]:
        """(path, kind) the workers read for a work file's document; Office documents are converted first."""
        fmt = formats.format_of(work["fileExtension"])
        path = await self.workfiles.local_path(work)  # fetched into this node's cache when stored in S3
        if fmt is None:
            raise ProcessFailed("RedactionError", {"message": "the document's format is not recognised"})
        if fmt.family == "pdf":
            return str(path), "pdf"
        if fmt.family == "image":
            return str(path), "image"
        if self.office is None:
            raise ProcessFailed("RedactionError", {"message": "Office documents are not enabled on this server"})
        private = scratch / f"document.{work['fileExtension']}"
        await asyncio.to_thread(shutil.copyfile, path, private)
        out = scratch / "document.pdf"
        try:
            await self.office.convert(private, out, work["fileExtension"], timeout=self.conversion_timeout)
        except Exception as exc:
            raise to_domain(exc, "convert") from None
        return str(out), "pdf"

    async def _store(self, path: Path, extension: str) -> WorkFileRecord:
        """A result as a new work file (an empty one too: a document without text has empty plain text)."""
        async def chunks() -> AsyncIterator[bytes]:
            with open(path, "rb") as source:
                while block := source.read(1 << 20):
                    yield block
        sha256, size = await self.workfiles.blobs.put_stream(chunks(), 1 << 40)
        return self.workfiles.adopt(sha256, size, extension, require_format=False)

    def _scratch(self) -> Path:
        scratch = self.workfiles.blobs.temp_path(suffix=".markup")
        scratch.unlink()
        scratch.mkdir()
        return scratch

    # ---- the markup burner ------------------------------------------------------------------------------------
    def start_burner(self, body: Any) -> ProcessRecord:
        data = input_object(body, _BODY, received=body)
        document_id = _string(data, "documentFileId", "input.documentFileId")
        markup_id = _string(data, "markupFileId", "input.markupFileId")
        document = self.workfiles.get(document_id)
        return self.processes.start("markupBurner", {"documentFileId": document_id, "markupFileId": markup_id},
                                    lambda record: self._burn_files(document_id, markup_id),
                                    min_seconds=_min_seconds(body),
                                    affinity_token=document["affinityToken"] if document else None)

    async def _burn_files(self, document_id: str, markup_id: str) -> dict[str, Any]:
        document = self.workfiles.get(document_id)
        if document is None:
            raise ProcessFailed("DocumentFileIdDoesNotExist", {"in": "body", "at": "input.documentFileId"})
        markup = self.workfiles.get(markup_id)
        if markup is None:
            raise ProcessFailed("MarkupFileIdDoesNotExist", {"in": "body", "at": "input.markupFileId"})
        marks = await asyncio.to_thread(self._markup_of, await self.workfiles.local_path(markup))
        scratch = self._scratch()
        try:
            path, kind = await self._as_pdf(document, scratch)
            result = await self._burn(document["sha256"], path, kind, marks, None, scratch)
        finally:
            await asyncio.to_thread(shutil.rmtree, scratch, True)
        return {"documentFileId": result["fileId"]}

    async def _burn(self, key: str, path: str, kind: str, marks: list[dict[str, Any]], password: str | None,
                    scratch: Path, dpi: float | None = None) -> WorkFileRecord:
        out = scratch / "burned.pdf"
        try:
            report = await self._job(key, "burn_markup", path, kind, marks, str(out), password=password,
                                     dpi=dpi or self.dpi)
        except DomainError as exc:
            if exc.error_code in ("InvalidDocument", "ConversionFailed"):
                raise ProcessFailed("RedactionError", exc.details) from None
            raise
        log.info("burned %d marks: %s", len(marks), report)
        return await self._store(out, "pdf")

    # ---- the session's burner (the viewer's route) ----------------------------------------------------------
    def start_session_burner(self, session: SessionRecord, body: Any) -> ProcessRecord:
        try:
            marks = validate_markup(body)
        except InputError as exc:
            raise InputError("InvalidMarkup", exc.details) from None
        return self.processes.start("sessionMarkupBurner", {}, lambda record: self._burn_session(session, marks),
                                    owner=session["id"])

    async def _burn_session(self, session: SessionRecord, marks: list[dict[str, Any]]) -> dict[str, Any]:
        source = await self.documents.page_source(session)
        assert source is not None  # page_source waits for the conversion
        scratch = self._scratch()
        try:
            # a page that must be rasterised is, at the resolution the session shows its pages at
            html5 = (session["props"].get("render") or {}).get("html5") or {}
            result = await self._burn(source.content_key, str(source.path), source.kind, marks, source.password,
                                      scratch, dpi=float(html5.get("rasterResolution") or self.dpi))
        finally:
            await asyncio.to_thread(shutil.rmtree, scratch, True)
        return {"documentFileId": result["fileId"]}

    # ---- redaction creators -----------------------------------------------------------------------------------
    def start_creator(self, body: Any) -> ProcessRecord:
        data = input_object(body, _BODY, received=body)
        source = data.get("source")
        if source is None:
            raise missing("input.source")
        if not isinstance(source, dict):
            raise invalid("input.source", 'an object {"fileId": ...}', received=source)
        file_id = _string(source, "fileId", "input.source.fileId")
        work = self.workfiles.get(file_id)
        if work is None:
            raise _not_found("input.source.fileId")
        rules = self._rules(data.get("rules"))
        echo = {"source": {"fileId": file_id}, "rules": data["rules"]}
        return self.processes.start("redactionCreator", echo, lambda record: self._create(work, rules),
                                    min_seconds=_min_seconds(body), affinity_token=work["affinityToken"])

    @staticmethod
    def _rules(rules: Any) -> list[dict[str, Any]]:
        if rules is None:
            raise missing("input.rules")
        if not isinstance(rules, list) or not rules or len(rules) > MAX_RULES:
            raise invalid("input.rules", f"an array of 1 to {MAX_RULES} rules", received=rules)
        out = []
        for i, rule in enumerate(rules):
            at = f"input.rules[{i}]"
            if not isinstance(rule, dict):
                raise invalid(at, "an object {find, redactWith}", received=rule)
            find = rule.get("find")
            if not isinstance(find, dict):
                raise invalid(f"{at}.find", "an object {type, pattern}", received=find)
            name = None
            if find.get("type") == "regex":
                pattern = find.get("pattern")
                if not isinstance(pattern, str) or not pattern or len(pattern) > MAX_PATTERN:
                    raise invalid(f"{at}.find.pattern", f"a regular expression of 1 to {MAX_PATTERN} characters",
                                  received=pattern)
                try:
                    re.compile(pattern)
                except re.error as exc:
                    raise invalid(f"{at}.find.pattern", f"a valid regular expression ({exc})") from None
            elif find.get("type") == "namedPattern":
                name = find.get("name")
                if name not in NAMED:
                    raise InputError("InvalidInput", {"in": "body", "at": f"{at}.find.name",
                                                      "expected": {"enum": list(NAMED)}})
                from ..engines.markup.text import NAMED_PATTERNS
                pattern = NAMED_PATTERNS[name]
            else:
                raise InputError("InvalidInput", {"in": "body", "at": f"{at}.find.type",
                                                  "expected": {"enum": ["regex", "namedPattern"]}})
            redact_with = rule.get("redactWith", {"type": "RectangleRedaction"})
            if not isinstance(redact_with, dict):
                raise invalid(f"{at}.redactWith", "an object", received=redact_with)
            if redact_with.get("type", "RectangleRedaction") != "RectangleRedaction":
                raise InputError("InvalidInput", {"in": "body", "at": f"{at}.redactWith.type",
                                                  "expected": {"enum": ["RectangleRedaction"]}})
            for key in ("fontColor", "fillColor", "borderColor"):
                if key in redact_with:
                    value = redact_with[key]
                    if not isinstance(value, str):
                        raise InputError("InvalidInput", {"in": "body", "at": f"{at}.redactWith.{key}",
                                                          "expected": {"type": "string"}})
                    if not COLOR.fullmatch(value):
                        raise invalid(f"{at}.redactWith.{key}", 'a color "#RRGGBB"', received=value)
            if "borderThickness" in redact_with:
                value = redact_with["borderThickness"]
                if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
                    raise InputError("InvalidInput", {"in": "body", "at": f"{at}.redactWith.borderThickness",
                                                      "expected": {"type": "integer", "greaterThan": 0}})
            if "reason" in redact_with and not isinstance(redact_with["reason"], str):
                raise invalid(f"{at}.redactWith.reason", "a string", received=redact_with["reason"])
            data = redact_with.get("data")
            if data is not None and (not isinstance(data, dict) or not all(isinstance(v, str) for v in data.values())):
                raise invalid(f"{at}.redactWith.data", "an object of string values", received=data)
            out.append({"pattern": pattern, "name": name, "redactWith": redact_with})
        return out

    async def _create(self, work: WorkFileRecord, rules: list[dict[str, Any]]) -> dict[str, Any]:
        scratch = self._scratch()
        try:
            try:
                path, kind = await self._as_pdf(work, scratch)
                # a client's regular expression may backtrack for ever: it gets one page render's time
                marks = await self._job(work["sha256"], "find_redactions", path, kind, rules,
                                        timeout=self.job_timeout / 5)
            except (DomainError, ProcessFailed) as exc:
                details = getattr(exc, "details", None)
                raise ProcessFailed("MarkupCreationError", details, percent=0) from None
            out = scratch / "markup.json"
            out.write_text(json.dumps({"marks": marks}, separators=(",", ":")))
            record = await self._store(out, "json")
        finally:
            await asyncio.to_thread(shutil.rmtree, scratch, True)
        return {"markupFileId": record["fileId"]}

    # ---- plain-text redactors ---------------------------------------------------------------------------------
    def start_plain_text(self, body: Any) -> ProcessRecord:
        data = input_object(body, _BODY, received=body)
        ids = {}
        for part in ("source", "markup"):
            value = data.get(part)
            if value is None:
                raise missing(f"input.{part}")
            if not isinstance(value, dict):
                raise invalid(f"input.{part}", 'an object {"fileId": ...}', received=value)
            ids[part] = _string(value, "fileId", f"input.{part}.fileId")
        dest = data.get("dest", {}) or {}
        if not isinstance(dest, dict):
            raise invalid("input.dest", "an object", received=dest)
        line_ending = dest.get("lineEndings", "\n")
        if line_ending not in LINE_ENDINGS:
            raise InputError("InvalidInput", {"in": "body", "at": "input.dest.lineEndings",
                                              "expected": {"enum": list(LINE_ENDINGS)}})
        source = self.workfiles.get(ids["source"])
        if source is None:
            raise _not_found("input.source.fileId")
        markup = self.workfiles.get(ids["markup"])
        if markup is None:
            raise _not_found("input.markup.fileId")
        echo = {"source": {"fileId": ids["source"]}, "markup": {"fileId": ids["markup"]},
                "dest": {"lineEndings": line_ending}}
        return self.processes.start("plainTextRedactor", echo,
                                    lambda record: self._plain_text(source, markup, line_ending),
                                    min_seconds=_min_seconds(body), affinity_token=source["affinityToken"])

    async def _plain_text(self, source: WorkFileRecord, markup: WorkFileRecord, line_ending: str) -> dict[str, Any]:
        path = await self.workfiles.local_path(markup)
        try:
            if path.stat().st_size > MAX_MARKUP_BYTES:
                raise ProcessFailed("InvalidMarkup", {"message": f"markup files are at most {MAX_MARKUP_BYTES} bytes"},
                                    percent=0)
            raw = await asyncio.to_thread(path.read_bytes)
            body = json.loads(raw.decode("utf-8-sig"))
        except (ValueError, UnicodeDecodeError, OSError):
            raise ProcessFailed("InvalidJson", percent=0) from None
        try:
            marks = validate_markup(body)
        except InputError as exc:
            raise ProcessFailed("InvalidMarkup", exc.details, percent=0) from None
        scratch = self._scratch()
        try:
            try:
                pdf_path, kind = await self._as_pdf(source, scratch)
                text = await self._job(source["sha256"], "redacted_text", pdf_path, kind, marks,
                                       line_ending=line_ending)
            except (DomainError, ProcessFailed):
                raise ProcessFailed("InternalError", percent=0) from None
            out = scratch / "text.txt"
            out.write_bytes(text.encode("utf-8"))
            record = await self._store(out, "txt")
        finally:
            await asyncio.to_thread(shutil.rmtree, scratch, True)
        return {"fileId": record["fileId"]}

