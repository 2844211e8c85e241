"""Content conversion processes (`/v2/contentConverters`): records, the queue, progress, and the conversion itself.

A process is a record in the metadata store (SQLite, or Redis shared by several nodes), so any node answers its
GET. The node running it writes its progress and a heartbeat into the record. Records of running processes carry
the ref "processing": at start-up, and every few seconds, a node looks for running processes whose heartbeat has
stopped (their node died or restarted) and runs them again from the start (their inputs are work files, their
outputs are only created at the end), at most MAX_ATTEMPTS times; after that they end in `error` with
`ProcessInterrupted`. With SQLite only this node can have run them, so it takes them over at once.

The work runs in the render worker pool (PDF and TIFF assembly, page renders, OCR) and the LibreOffice pool
(Office, text and HTML sources), each job under its pool's memory cap and timeouts. Scratch files live in one
private directory per process under the data directory's tmp/, removed whatever happens.
"""
from __future__ import annotations

import asyncio
import contextlib
import logging
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Awaitable, Callable, Sequence, TypedDict

from ..engines import ocr
from ..storage.metadata import MetadataStore
from . import formats
from .conversion_input import ConversionRequest, Source, font_available, pages_text, parse, resolve_pages
from .documents import OfficeConverter
from .errors import InputError, NotFound, ServerError
from .ids import new_file_id
from .pages import RenderPool
from .process_records import HEARTBEAT, ProcessRecords
from .records import WorkFileRecord
from .workfiles import WorkFiles, iso

log = logging.getLogger(__name__)

KIND = "contentconverter"
MAX_ATTEMPTS = 2
PROGRESS_EVERY = 0.25      # at most this often a progress change is written to the store


class ResultSource(TypedDict):
    fileId: str
    pages: str


@dataclass
class Limits:
    concurrency: int = 2          # processes converting at once on a node
    queue_limit: int = 50         # processes allowed to wait on a node
    timeout: float = 600          # longest a process may take
    max_pages: int = 2000         # output pages per process
    max_output: int = 512 << 20   # bytes of output per process (the upload size limit)
    lifetime: float = 1200        # how long a process record is kept
    render_timeout: float = 60    # per page job
    office_timeout: float = 120   # per LibreOffice conversion


class ProcessFailed(Exception):
    """Ends a process in `error`. `code` is the process's errorCode; `result_code` (with `sources`) makes the
    spec's `output.results` item for a failure tied to a source."""

    def __init__(self, code: str, message: str, result_code: str | None = None,
                 sources: list[ResultSource] | None = None):
        super().__init__(message)
        self.code = code
        self.message = message
        self.result_code = result_code
        self.sources = sources or []


def _source_failure(result_code: str, message: str, source: Source, pages: str | None = None) -> ProcessFailed:
    return ProcessFailed("CouldNotConvert", message, result_code,
                         [{"fileId": source.file_id, "pages": source.pages_text if pages is None else pages}])


@dataclass
class _Prepared:
    """A source as the renderers read it."""

    source: Source
    path: str
    kind: str                  # "pdf" | "image"
    password: str | None
    info: dict
    pages: list[int]           # 0-based, in output order
    beyond: list[int]          # 1-based pages asked for past the end

    def part(self, pages: list[int] | None = None) -> dict:
        return {"path": self.path, "kind": self.kind, "password": self.password,
                "pages": self.pages if pages is None else pages}


class _Progress:
    """Real progress: weighted steps done out of steps known, written to the record as it changes."""

    def __init__(self, save: Callable[[int], None]):
        self._save = save
        self.total = 1.0
        self.done = 0.0
        self._written = -1
        self._at = 0.0

    def plan(self, total: float) -> None:
        self.total = max(total, self.done + 1)
        self.tick(0)

    def tick(self, amount: float = 1) -> None:
        self.done += amount
        percent = min(99, int(100 * self.done / self.total))
        if percent > self._written and (time.monotonic() - self._at >= PROGRESS_EVERY or percent - self._written
                                        >= 10):
            self._written = percent
            self._at = time.monotonic()
            self._save(percent)


class ContentConverters:
    def __init__(self, store: MetadataStore, workfiles: WorkFiles, *, scratch_root: Path, limits: Limits,
                 pool: RenderPool, office: OfficeConverter | None, exclusive: bool,
                 node_id: str | None = None):
        self.records = ProcessRecords(store, KIND)
        self.workfiles = workfiles
        self.scratch_root = scratch_root
        self.limits = limits
        self.pool = pool
        self.office = office          # None when LibreOffice is off
        self.exclusive = exclusive          # no other node shares the store (SQLite)
        self.node_id = node_id or new_file_id()[:16]
        self._slots = asyncio.Semaphore(limits.concurrency)
        self._tasks: dict[str, asyncio.Task] = {}
        self._watch: asyncio.Task | None = None

    # ---- lifecycle ----------------------------------------------------------------------------------------------
    async def start(self) -> None:
        await self.recover(first=True)
        self._watch = asyncio.create_task(self._watch_loop())

    async def stop(self) -> None:
        if self._watch is not None:
            self._watch.cancel()
            with contextlib.suppress(BaseException):
                await self._watch
        tasks = list(self._tasks.values())
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(BaseException):
                await task
        # processes cut off by this shutdown stay "processing" with a heartbeat that stops: the next start (or
        # another node) resumes them

    async def _watch_loop(self) -> None:
        while True:
            await asyncio.sleep(HEARTBEAT * 2)
            try:
                await self.recover(first=False)
                self.sweep()
            except Exception:  # a failed round is retried next time; it must never end the loop
                log.exception("content converter watch failed")

    async def recover(self, *, first: bool) -> None:
        """Take over running processes whose node stopped: run them again, or end them as interrupted."""
        for process_id, record in self.records.running():
            if process_id in self._tasks or record.get("state") != "processing":
                continue
            if not ((first and self.exclusive) or self.records.stale(record)):
                continue
            if record.get("attempts", 1) >= MAX_ATTEMPTS:
                self._finish(record, "error", errorCode="ProcessInterrupted", errorDetails={
                    "message": "The server stopped while converting, more than once; the process was ended"})
                continue
            log.info("resuming content converter %s (attempt %d)", process_id[:12], record.get("attempts", 1) + 1)
            record["attempts"] = record.get("attempts", 1) + 1
            self._claim(record)
            self._launch(record)

    def sweep(self) -> int:
        return self.records.sweep()

    # ---- the API's calls ----------------------------------------------------------------------------------------
    def create(self, body: Any, *, affinity: str | None = None) -> dict:
        request = parse(body, lookup_file=self.workfiles.get, resolve_language=ocr.resolve_language,
                        languages=ocr.installed_languages())
        if sum(1 for t in self._tasks.values() if not t.done()) >= self.limits.queue_limit + self.limits.concurrency:
            raise ServerError("ServerTooBusy", "Too many conversions are waiting; try again shortly",
                              {"message": "Too many conversions are waiting; try again shortly"})
        created, expires = self.records.lifetime(self.limits.lifetime, request.min_seconds)
        first: dict[str, Any] = dict(self.workfiles.get(request.sources[0].file_id) or {})
        record = {
            "processId": self.records.new_id(), "input": request.echo, "state": "processing",
            "percentComplete": 0, "created": created, "expires": expires, "affinityToken": first.get("affinityToken"),
            "minSecondsAvailable": request.min_seconds, "attempts": 1, "affinityHint": affinity,
            # kept to run the process again after a restart; never part of an answer
            "secret": {"passwords": request.secrets(), "ocr": request.ocr_language},
        }
        self._claim(record)
        self._launch(record)
        return self.view(record)

    def get(self, process_id: str) -> dict:
        record = self.records.load(process_id)
        if record is None:
            raise NotFound("The content converter does not exist or has expired", error_code="NotFound")
        return self.view(record)

    @staticmethod
    def view(record: dict) -> dict:
        answer = {"processId": record["processId"], "expirationDateTime": iso(record["expires"]),
                  "input": record["input"], "state": record["state"],
                  "percentComplete": record["percentComplete"]}
        if record.get("minSecondsAvailable"):
            answer["minSecondsAvailable"] = record["minSecondsAvailable"]
        for name in ("output", "errorCode", "errorDetails", "affinityToken"):
            if record.get(name) is not None:
                answer[name] = record[name]
        return answer

    # ---- records ------------------------------------------------------------------------------------------------
    def _claim(self, record: dict) -> None:
        record["node"] = self.node_id
        record["heartbeat"] = self.records.clock()
        self.records.save(record, running=True)

    def _save(self, record: dict) -> None:
        self.records.beat(record)

    def _finish(self, record: dict, state: str, **fields: Any) -> None:
        record["state"] = state
        record["percentComplete"] = 100
        record.pop("secret", None)
        record.update(fields)
        self._save(record)

    def _launch(self, record: dict) -> None:
        process_id = record["processId"]
        task = asyncio.create_task(self._run(record))
        self._tasks[process_id] = task
        task.add_done_callback(lambda _t: self._tasks.pop(process_id, None))

    # ---- running --------------------------------------------------------------------------------------------------
    async def _run(self, record: dict) -> None:
        process_id = record["processId"]
        scratch = self.scratch_root / f"convert-{process_id[:32]}"
        beat = asyncio.create_task(self.records.keep_beating(record))
        try:
            async with self._slots:
                shutil.rmtree(scratch, ignore_errors=True)  # left by an interrupted earlier attempt
                scratch.mkdir(parents=True)
                started = time.monotonic()
                try:
                    results = await asyncio.wait_for(self._convert(record, scratch, started),
                                                     self.limits.timeout)
                except asyncio.TimeoutError:
                    raise ProcessFailed("ProcessTimedOut", f"The conversion took longer than "
                                                           f"{self.limits.timeout:g} s and was stopped") from None
                log.info("content converter %s complete in %.2fs", process_id[:12], time.monotonic() - started)
            self._finish(record, "complete", output={"results": results})
        except ProcessFailed as failure:
            fields: dict[str, Any] = {"errorCode": failure.code, "errorDetails": {"message": failure.message}}
            if failure.result_code:
                fields["output"] = {"results": [{"errorCode": failure.result_code, "sources": failure.sources}]}
            self._finish(record, "error", **fields)
        except asyncio.CancelledError:
            raise   # shutdown: the record keeps "processing" and is resumed by the next start
        except Exception:
            log.exception("content converter %s failed", process_id[:12])
            self._finish(record, "error", errorCode="InternalError",
                         errorDetails={"message": "The conversion failed unexpectedly"})
        finally:
            beat.cancel()
            await asyncio.to_thread(shutil.rmtree, scratch, True)

    def _remaining(self, started: float) -> float:
        return max(1.0, self.limits.timeout - (time.monotonic() - started))

    async def _job(self, key: str, fn: str, *args: Any, timeout: float, source: Source | None = None,
                   **kwargs: Any) -> Any:
        """One worker-pool job; engine failures become the process's errors."""
        pool = self.pool
        try:
            return await pool.run(key, fn, *args, timeout=timeout, **kwargs)
        except Exception as exc:
            raise _engine_failure(exc, source) from None

    async def _convert(self, record: dict, scratch: Path, started: float) -> list[dict]:
        body = {"input": {**record["input"], "sources": [
            {**s, "password": p} if p else s
            for s, p in zip(record["input"]["sources"], record["secret"]["passwords"])]}}
        if record.get("minSecondsAvailable"):
            body["minSecondsAvailable"] = record["minSecondsAvailable"]
        try:
            request = parse(body, lookup_file=self.workfiles.get, resolve_language=ocr.resolve_language,
                            languages=ocr.installed_languages())
        except InputError as exc:  # checked at the POST: what changed since is a source that expired
            at = (exc.details or {}).get("at", "")
            raise ProcessFailed("CouldNotConvert", f"The input cannot be converted any more ({exc.error_code} at "
                                f"{at})", exc.error_code) from None
        for spec in (request.header, request.footer):
            if spec is not None and not font_available(spec.font_family):
                raise _source_failure("RequestedHeaderOrFooterFontIsNotAvailable",
                                      f"The font {spec.font_family!r} is not available on this server",
                                      request.sources[0])

        def save(percent: int) -> None:
            # a resumed process starts over: its percentage holds until the new run passes it
            if percent > record.get("percentComplete", 0):
                record["percentComplete"] = percent
                self._save(record)

        progress = _Progress(save)
        # rough weights: a LibreOffice conversion ~ 4 page renders, OCR ~ 6, storing the result ~ 1
        office_sources = sum(1 for s in request.sources if _family(s.extension) in ("office", "text"))
        progress.plan(office_sources * 4 + len(request.sources) + 4)
        if request.dest == "docx":
            return await self._to_docx(request, scratch, started, progress)
        sizes = request.dest in ("png", "jpeg", "svg")
        prepared = [await self._prepare(n, s, scratch, started, progress, sizes=sizes)
                    for n, s in enumerate(request.sources)]
        total_pages = sum(len(p.pages) for p in prepared)
        if total_pages > self.limits.max_pages:
            raise ProcessFailed("TooManyPages", f"The output would have {total_pages} pages; at most "
                                f"{self.limits.max_pages} are converted in one process")
        if request.dest == "pdf":
            return await self._to_pdf(request, prepared, scratch, started, progress)
        if request.dest == "tiff":
            return await self._to_tiff(request, prepared, scratch, started, progress)
        return await self._to_pages(request, prepared[0], scratch, started, progress)

    async def _prepare(self, n: int, source: Source, scratch: Path, started: float, progress: _Progress, *,
                       sizes: bool) -> _Prepared:
        """A source as the renderers read it; `sizes`: page sizes are needed (raster outputs), not only the
        count."""
        record = self.workfiles.get(source.file_id)
        if record is None:
            raise _source_failure("WorkFileDoesNotExist", "The source work file has expired", source)
        path, kind, password = str(await self.workfiles.local_path(record)), "pdf", source.password
        family = _family(record["fileExtension"])
        if family == "image":
            kind, password = "image", None
        elif family in ("office", "text"):
            converted, count = await self._office_convert(source, record, scratch / f"source-{n}", "pdf", started)
            path, password = str(converted), None
            progress.tick(4)
            if count and not sizes:  # LibreOffice counted the pages: no need to open its PDF again
                pages, beyond = resolve_pages(source.pages, count, self.limits.max_pages)
                return _Prepared(source, path, kind, password, {"pageCount": count, "pages": []}, pages, beyond)
        info = await self._job(path, "document_info", path, kind, password=password,
                               timeout=self._timeout(started), source=source)
        progress.tick()
        pages, beyond = resolve_pages(source.pages, info["pageCount"], self.limits.max_pages)
        return _Prepared(source, path, kind, password, info, pages, beyond)

    async def _office_convert(self, source: Source, record: WorkFileRecord, work: Path, target: str, started: float
                              ) -> tuple[Path, int | None]:
        """LibreOffice's conversion of a source (on a private copy) and its page count when it gives one."""
        office = self.office
        if office is None:
            raise _source_failure("UnsupportedSourceFileFormat", "Office, text and HTML documents are not "
                                  "enabled on this server", source)
        work.mkdir()
        private = work / f"document.{record['fileExtension']}"
        await asyncio.to_thread(shutil.copyfile, await self.workfiles.local_path(record), private)
        out = work / f"document.{target}"
        try:
            result = await office.convert(private, out, record["fileExtension"], target=target,
                                          password=source.password,
                                          timeout=min(self.limits.office_timeout, self._remaining(started)))
        except Exception as exc:
            raise _engine_failure(exc, source) from None
        return out, getattr(result, "page_count", None)

    def _timeout(self, started: float) -> float:
        return min(self.limits.render_timeout, self._remaining(started))

    async def _gather(self, jobs: Sequence[Awaitable[Any]]) -> list[Any]:
        """Run page jobs a few at a time (enough to keep every worker busy, not the whole document queued)."""
        width = max(2, 2 * (getattr(self.pool, "size", 1) or 1))
        gate = asyncio.Semaphore(width)

        async def one(job: Awaitable[Any]) -> Any:
            async with gate:
                return await job
        return list(await _together(*(one(job) for job in jobs)))

    # ---- destinations -----------------------------------------------------------------------------------------------
    @staticmethod
    def _check_beyond(prepared: list[_Prepared]) -> None:
        for item in prepared:
            if item.beyond:
                raise _source_failure("NoSuchPage", f"Page {item.beyond[0]} is past the end of the document "
                                      f"({item.info['pageCount']} pages)", item.source)

    async def _to_pdf(self, request: ConversionRequest, prepared: list[_Prepared], scratch: Path, started: float,
                      progress: _Progress) -> list[dict]:
        ocr_weight = 6 if request.ocr_language else 0
        if request.one_file_per_page:
            pages = [(item, page) for item in prepared for page in item.pages]
            progress.plan(progress.done + len(pages) * (1 + ocr_weight) + 2)
            built: list[tuple[Path | None, list, int | None]] = []
            for k, (item, page) in enumerate(pages):
                out = scratch / f"page-{k}.pdf"
                await self._job(item.path, "build_pdf", [item.part([page])], str(out),
                                timeout=self._timeout(started), source=item.source)
                progress.tick()
                if request.ocr_language:
                    out = await self._ocr(out, [(item, page)], request.ocr_language, scratch / f"ocr-{k}", started,
                                          progress)
                built.append((out, [{"fileId": item.source.file_id, "pages": pages_text([page])}], 1))
            for item in prepared:  # per-page failures do not fail the process (as the original answers)
                for number in item.beyond:
                    built.append((None, [{"fileId": item.source.file_id, "pages": str(number)}], 0))
            return await self._store_results(built, "pdf", request)
        self._check_beyond(prepared)
        count = sum(len(item.pages) for item in prepared)
        progress.plan(progress.done + 2 + count * ocr_weight + 1)
        header = request.header.as_job() if request.header else None
        footer = request.footer.as_job() if request.footer else None

        async def whole() -> Path:
            only = prepared[0]
            if len(prepared) == 1 and only.path.startswith(str(scratch)) and header is None and footer is None \
                    and only.pages == list(range(only.info["pageCount"])):
                progress.tick(2)
                return Path(only.path)  # LibreOffice's PDF of the whole document is the answer as it is
            out = scratch / "document.pdf"
            await self._job(only.path, "build_pdf", [item.part() for item in prepared], str(out),
                            header=header, footer=footer, timeout=self._remaining(started),
                            source=only.source if len(prepared) == 1 else None)
            progress.tick(2)
            return out

        if request.ocr_language:
            # each page is recognised from its source, not from the built document: both run at once
            pages = [(item, page) for item in prepared for page in item.pages]
            work = scratch / "ocr"
            out, layers = await _together(whole(), self._ocr_layers(pages, request.ocr_language, work, started,
                                                                     progress))
            out = await self._lay(out, layers, work, started)
        else:
            out = await whole()
        sources = [{"fileId": item.source.file_id, "pages": pages_text(item.pages)} for item in prepared]
        return await self._store_results([(out, sources, count)], "pdf", request)

    async def _ocr(self, document: Path, pages: list[tuple[_Prepared, int]], language: str, work: Path,
                   started: float, progress: _Progress) -> Path:
        """Lay recognised text over every page of `document` that has none."""
        return await self._lay(document, await self._ocr_layers(pages, language, work, started, progress), work,
                               started)

    async def _ocr_layers(self, pages: list[tuple[_Prepared, int]], language: str, work: Path, started: float,
                          progress: _Progress) -> list[tuple[int, str]]:
        """The text layer of each page (index in `pages`, file) that has no text of its own. Each page is
        recognised from its source page (an image's own pixels, a scanned PDF page's image), so nothing is
        rendered twice."""
        work.mkdir()

        async def layer(index: int, item: _Prepared, page: int) -> tuple[int, str] | None:
            out = work / f"layer-{index}.pdf"
            timeout = self._timeout(started)
            done = await self._job(f"{item.path}#{page}", "ocr_layer", item.path, item.kind, page, str(out),
                                   language=language, password=item.password, budget=timeout, timeout=timeout,
                                   source=item.source)
            progress.tick(6)
            return None if done.get("skipped") else (index, str(out))

        jobs = [layer(index, item, page) for index, (item, page) in enumerate(pages)]
        return [x for x in await self._gather(jobs) if x is not None]

    async def _lay(self, document: Path, layers: list[tuple[int, str]], work: Path, started: float) -> Path:
        if not layers:
            return document
        searchable = work / "searchable.pdf"
        await self._job(str(document), "add_text_layers", str(document), {str(k): v for k, v in layers},
                        str(searchable), timeout=self._remaining(started))
        return searchable

    async def _to_tiff(self, request: ConversionRequest, prepared: list[_Prepared], scratch: Path, started: float,
                       progress: _Progress) -> list[dict]:
        if not request.one_file_per_page:
            self._check_beyond(prepared)
        pages = [(item, page) for item in prepared for page in item.pages]
        progress.plan(progress.done + len(pages) + 2)
        render_from = {id(item): (item.path, item.kind, item.password) for item in prepared}
        if request.header or request.footer:
            # headers and footers are drawn as PDF text first, then the decorated pages are rasterised
            decorated = scratch / "decorated.pdf"
            await self._job(prepared[0].path, "build_pdf", [prepared[0].part()], str(decorated),
                            header=request.header.as_job() if request.header else None,
                            footer=request.footer.as_job() if request.footer else None,
                            timeout=self._remaining(started), source=prepared[0].source)
            render_from[id(prepared[0])] = (str(decorated), "pdf", None)
            pages = [(prepared[0], k) for k in range(len(prepared[0].pages))]
        size = (request.max_width, request.max_height)

        async def frame(k: int, item: _Prepared, page: int) -> str:
            path, kind, password = render_from[id(item)]
            out = scratch / f"page-{k}.tif"
            await self._job(f"{path}#{page}", "tiff_page", path, kind, page, str(out), password=password,
                            max_size=size, timeout=self._timeout(started), source=item.source)
            progress.tick()
            return str(out)

        frames = await self._gather([frame(k, item, page) for k, (item, page) in enumerate(pages)])
        if request.one_file_per_page:
            built: list[tuple[Path | None, list[dict[str, str]], int | None]] = [
                (Path(f), [{"fileId": item.source.file_id, "pages": pages_text([page])}], 1)
                for f, (item, page) in zip(frames, pages)]
            for item in prepared:
                for number in item.beyond:
                    built.append((None, [{"fileId": item.source.file_id, "pages": str(number)}], 0))
            return await self._store_results(built, "tiff", request)
        out = scratch / "document.tiff"
        await self._job(str(out), "join_tiffs", frames, str(out), timeout=self._remaining(started))
        sources = [{"fileId": item.source.file_id, "pages": pages_text(item.pages)} for item in prepared]
        return await self._store_results([(out, sources, len(frames))], "tiff", request)

    async def _to_pages(self, request: ConversionRequest, item: _Prepared, scratch: Path, started: float,
                        progress: _Progress) -> list[dict]:
        """png, jpeg, svg: one work file per page."""
        progress.plan(progress.done + len(item.pages) + 1)
        size = (request.max_width, request.max_height)
        fmt = request.dest

        async def page_file(page: int) -> tuple[Path, list, int]:
            out = scratch / f"page-{page}.{fmt}"
            timeout = self._timeout(started)
            key = f"{item.path}#{page}"
            if fmt == "svg" and item.kind == "pdf":
                data = await self._job(key, "render_svg", item.path, "pdf", page, password=item.password,
                                       timeout=timeout, source=item.source)
            elif fmt == "svg":
                data = await self._job(key, "svg_of_image", item.path, page, max_size=size, timeout=timeout,
                                       source=item.source)
            else:
                fit = _fit(item.info["pages"][page], size)
                data = await self._job(key, "render_raster", item.path, item.kind, page, password=item.password,
                                       dpi=None, fmt=fmt, fit=fit, timeout=timeout, source=item.source)
            await asyncio.to_thread(out.write_bytes, data)
            progress.tick()
            return out, [{"fileId": item.source.file_id, "pages": str(page + 1)}], 1

        built = await self._gather([page_file(page) for page in item.pages])
        return await self._store_results(list(built), fmt, request)

    async def _to_docx(self, request: ConversionRequest, scratch: Path, started: float, progress: _Progress
                       ) -> list[dict]:
        source = request.sources[0]
        record = self.workfiles.get(source.file_id)
        if record is None:
            raise _source_failure("WorkFileDoesNotExist", "The source work file has expired", source)
        out, _ = await self._office_convert(source, record, scratch / "docx", "docx", started)
        progress.tick(4)
        return await self._store_results([(out, [{"fileId": source.file_id, "pages": ""}], _docx_pages(out))], "docx",
                                   request)

    # ---- results ------------------------------------------------------------------------------------------------
    async def _store_results(self, built: Sequence[tuple[Path | None, list, int | None]], extension: str,
                       request: ConversionRequest) -> list[dict]:
        total = sum(path.stat().st_size for path, _, _ in built if path is not None)
        if total > self.limits.max_output:
            raise ProcessFailed("OutputTooLarge", f"The output would be {total} bytes; at most "
                                f"{self.limits.max_output} are kept")
        results = []
        for path, sources, count in built:
            if path is None:
                results.append({"errorCode": "NoSuchPage", "sources": sources})
                continue
            sha256, size = await self.workfiles.blobs.put_finished(path)  # in the bucket too, with S3 storage
            work_file = self.workfiles.adopt(sha256, size, extension, min_seconds=request.min_seconds,
                                             require_format=False)
            result: dict[str, Any] = {"fileId": work_file["fileId"], "sources": sources,
                                      "affinityToken": work_file["affinityToken"]}
            if count is not None:
                result["pageCount"] = count
            results.append(result)
        return results


async def _together(*jobs: Awaitable[Any]) -> tuple[Any, ...]:
    """Run jobs at once and return their results in order; when one fails, the others are cancelled (their
    worker jobs with them) before the failure is raised."""
    tasks = [asyncio.ensure_future(job) for job in jobs]
    try:
        return tuple(await asyncio.gather(*tasks))
    except BaseException:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        raise


def _docx_pages(path: Path) -> int | None:
    """The page count LibreOffice recorded in the Word document it wrote (docProps/app.xml), if any."""
    import re
    import zipfile
    try:
        with zipfile.ZipFile(path) as archive:
            app = formats.read_member(archive, "docProps/app.xml", 100_000).decode("utf-8", "replace")
    except (zipfile.BadZipFile, KeyError, OSError):
        return None
    match = re.search(r"<Pages>(\d+)</Pages>", app)
    return int(match.group(1)) if match else None


def _family(extension: str) -> str | None:
    fmt = formats.format_of(extension)
    return fmt.family if fmt else None


def _fit(size: dict, box: tuple[int | None, int | None]) -> tuple[int, int] | None:
    """A thumbnail box when the page's natural pixels (150 dpi for PDF pages, native for images) exceed
    maxWidth/maxHeight; None (natural size) otherwise. Pages are shrunk to fit, never enlarged."""
    width = size.get("pixelWidth") or round(size["width"] * 150 / 72)
    height = size.get("pixelHeight") or round(size["height"] * 150 / 72)
    box_w, box_h = box
    if (box_w and width > box_w) or (box_h and height > box_h):
        return (box_w or width, box_h or height)
    return None


def _engine_failure(exc: Exception, source: Source | None) -> ProcessFailed:
    """An engine's or pool's exception as the process's error (worker errors arrive as their own classes)."""
    from ..engines import errors as engine

    if isinstance(exc, ProcessFailed):
        return exc
    message = getattr(exc, "message", None) or str(exc) or type(exc).__name__
    subject: list[ResultSource] = [{"fileId": source.file_id, "pages": source.pages_text}] if source else []
    if isinstance(exc, engine.PasswordRequired):
        return ProcessFailed("CouldNotConvert", message, "InvalidPassword", subject)
    if isinstance(exc, engine.PageOutOfRange):
        return ProcessFailed("CouldNotConvert", message, "NoSuchPage", subject)
    if isinstance(exc, (engine.OcrFailed, engine.OcrUnavailable)):
        return ProcessFailed("OcrFailed", message)
    if isinstance(exc, (engine.JobTimeout, engine.ConversionTimeout)):
        return ProcessFailed("ProcessTimedOut", message)
    if isinstance(exc, (engine.PoolBusy, engine.PoolClosed, engine.QueueFull, engine.OfficeUnavailable)):
        return ProcessFailed("ServerTooBusy", message)
    if isinstance(exc, engine.MemoryLimitExceeded):
        return ProcessFailed("CouldNotConvert", f"The source needs more memory than this server allows: {message}",
                             "DocumentTooComplex", subject)
    if isinstance(exc, (engine.CorruptDocument, engine.UnsupportedDocument,
                        engine.ImageTooLarge, engine.WorkerCrashed, engine.ConversionFailed)):
        # a worker that dies on a file (or LibreOffice failing on it) is the file's fault as far as we can tell
        return ProcessFailed("CouldNotConvert", f"The source could not be read: {message}", "CorruptSourceFile",
                             subject)
    if isinstance(exc, ValueError):
        return ProcessFailed("CouldNotConvert", message, "InvalidInput", subject)
    log.error("conversion step failed: %r", exc)
    return ProcessFailed("InternalError", "The conversion failed unexpectedly")
