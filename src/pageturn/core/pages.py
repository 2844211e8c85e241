"""Page content for a session: document info, page images and SVG, tiles, thumbnails and text.

Every output is one render job in the worker pool, keyed by (content, page, output kind, parameters, watermark
set) and cached on disk under the session's scope, so sessions on the same bytes share output when their
serverCaching is "full" and their watermarks are the same."""
from __future__ import annotations

import asyncio
import functools
import gzip
import hashlib
import json
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Awaitable, Callable, Protocol

from ..engines.raster import LIMITS, pixel_size
from ..engines.watermark import fingerprint
from ..storage.blobs import CacheStore, HotFiles
from .documents import Documents, PageSource
from .engine_errors import to_domain
from .errors import DomainError, ServerError, invalid
from .records import SessionRecord

SVG_TYPES = ("svg", "svga", "svgb")
RASTER_TYPES = ("png", "jpeg")
TEXT_JOBS_AT_ONCE = 8          # text jobs one Text request keeps in the render queue


class RenderPool(Protocol):
    """The render worker pool as the domain uses it (workers.pool.WorkerPool): jobs of engines.jobs by name."""

    @property
    def size(self) -> int:
        """How many workers run jobs at once (callers size their read-ahead by it)."""
        ...

    async def run(self, affinity_key: str, fn: str, *args: Any, timeout: float | None = None,
                  **kwargs: Any) -> Any: ...


def session_watermarks(props: dict[str, Any]) -> list[dict[str, Any]]:
    """The watermarks drawn for a session: its `watermarks`, plus the legacy `watermarkText` as diagonal text."""
    marks = list(props.get("watermarks") or [])
    legacy = props.get("watermarkText")
    if isinstance(legacy, str) and legacy.strip():
        marks.append({"type": "diagonalText", "text": legacy, "color": "gray", "opacity": 0.35})
    return marks


@dataclass
class Output:
    path: Path
    mime: str
    data: bytes | None = None      # the bytes when small enough to keep in memory
    gzipped: bytes | None = None   # a gzip twin (SVG) when there is one
    provisional: bool = False      # from a long document's preview: replaced once the whole is converted


class Pages:
    def __init__(self, documents: Documents, pool: RenderPool, cache: CacheStore, hot: HotFiles, *,
                 render_timeout: float, on_cache_lookup: Callable[[str], None] = lambda result: None,
                 ocr_language: str | None = None):
        self.documents = documents
        self.pool = pool
        self.cache = cache
        self.hot = hot
        self.render_timeout = render_timeout
        self._inflight: dict[Path, asyncio.Future[None]] = {}
        self._served: dict[tuple[Any, ...], Path] = {}  # (session, page, parameters) -> file, for repeat requests
        self._info: dict[tuple[str, str], dict[str, Any]] = {}
        # metrics: an output found in the local cache ("hit"), fetched from another node's ("shared") or rendered
        self.on_cache_lookup = on_cache_lookup
        self.ocr_language = ocr_language  # Tesseract languages: pages without a text layer get OCR'd text

    # ---- running jobs ---------------------------------------------------------------------------------------
    async def _job(self, source: PageSource, fn: str, *args: Any, **kwargs: Any) -> Any:
        try:
            return await self.pool.run(source.content_key, fn, str(source.path), source.kind, *args,
                                       password=source.password, timeout=self.render_timeout, **kwargs)
        except Exception as exc:
            raise to_domain(exc, "render") from None

    async def source(self, session: SessionRecord, page: int | None = None) -> PageSource:
        """The session's page source; with `page`, a long document's preview holding that page will do."""
        if self.documents.is_comparison(session) and self.documents.comparer is None:
            raise ServerError("FeatureDisabled", "Comparison pages are not available on this server yet")
        source = await self.documents.page_source(session, page=page)
        assert source is not None  # page_source waits for the conversion unless told not to
        return source

    async def info(self, session: SessionRecord, page: int | None = None) -> tuple[PageSource, dict[str, Any]]:
        """The page count and page sizes (page units), checking the password on the way. With `page`, they may
        be a preview's (source.provisional): only its pages that are the whole document's are counted."""
        source = await self.source(session, page)
        key = (str(source.path), hashlib.sha256((source.password or "").encode()).hexdigest())
        info = self._info.get(key)
        if info is None:
            group = self.shared_group(source)
            if group is not None:  # first sight of this content: is its output published?
                self.cache.look_ahead(group)
            info = await self._job(source, "document_info")
            if source.provisional:
                shown = int(source.extra["pages"])
                info = {**info, "pageCount": min(shown, info["pageCount"]), "pages": info["pages"][:shown]}
            if len(self._info) > 2000:
                self._info.clear()
            self._info[key] = info
        return source, info

    def check_page(self, info: dict[str, Any], page: int) -> dict[str, Any]:
        if not 0 <= page < info["pageCount"]:
            raise invalid("PageNumber", f"a page number from 0 to {info['pageCount'] - 1}", where="path",
                          received=page)
        return info["pages"][page]

    # ---- cached outputs ---------------------------------------------------------------------------------------
    def _cache_path(self, session: SessionRecord, source: PageSource, page: int, name: str,
                    params: dict[str, Any]) -> Path:
        marks = fingerprint(session_watermarks(session["props"]))
        canonical = json.dumps({"p": params, "w": marks}, sort_keys=True, separators=(",", ":"))
        digest = hashlib.sha256(canonical.encode()).hexdigest()[:32]
        return self.cache.path(source.scope, "pages", source.content_key, str(page), f"{name}-{digest}")

    def shared_group(self, source: PageSource) -> Path | None:
        """The directory of all output of one content: another node's published output is looked up per group.
        None for a long document's preview: its pages are replaced by the whole document's, not worth sharing."""
        if source.provisional:
            return None
        return self.cache.path(source.scope, "pages", source.content_key)

    async def _cached(self, path: Path, produce: Callable[[], Awaitable[bytes]], *, group: Path | None = None,
                      companions: tuple[Path, ...] = ()) -> bytes | None:
        """Produce a cache file once, however many requests ask for it at the same time; its bytes when small.
        With a `group`, the output is shared with other nodes (storage permitting): fetched when another node
        published it, else produced and published in the background, with its `companions` (files `produce`
        wrote beside it)."""
        data = self.hot.get(path)
        if data is not None or path.exists():
            self.on_cache_lookup("hit")
            return data
        pending = self._inflight.get(path)
        if pending is not None:
            self.on_cache_lookup("miss")
            await asyncio.shield(pending)
            return self.hot.get(path)
        future = asyncio.get_running_loop().create_future()
        self._inflight[path] = future
        try:
            if group is not None and await self._fetch_shared(path, group, companions):
                self.on_cache_lookup("shared")
                data = self.hot.get(path)
            else:
                self.on_cache_lookup("miss")
                data = await produce()
                self.cache.write_bytes(path, data)
                self.hot.put(path, data)
                if group is not None:
                    for finished in (*companions, path):
                        self.cache.publish_file(finished)
            future.set_result(None)
            return data
        except BaseException as exc:
            future.set_exception(exc)
            future.exception()  # retrieved here; waiters re-raise it
            raise
        finally:
            self._inflight.pop(path, None)

    async def _fetch_shared(self, path: Path, group: Path, companions: tuple[Path, ...]) -> bool:
        """Another node's published output into the local cache: its optional companions (a gzip twin) first,
        so a request that finds the main file finds them too."""
        for companion in companions:
            await self.cache.fetch_file(companion, group)
        return await self.cache.fetch_file(path, group)

    # ---- outputs ------------------------------------------------------------------------------------------------
    def raster_resolution(self, session: SessionRecord, size: dict[str, Any] | None = None) -> int | None:
        """The session's rasterResolution for PDFs; None (the image's own pixels) for raster sources, so a large
        photo is shown at its native size rather than upscaled."""
        if size is not None and "pixelWidth" in size:
            return None
        return int(session["props"]["render"]["html5"]["rasterResolution"])

    def svg_available(self, session: SessionRecord, source: PageSource) -> bool:
        return source.kind == "pdf" and not session["props"]["render"]["html5"]["alwaysUseRaster"]

    async def svg(self, session: SessionRecord, page: int) -> Output | None:
        """SVG of a page, or None when SVG is not available for this session (raster source or alwaysUseRaster)."""
        source, info = await self.info(session, page)
        self.check_page(info, page)
        if not self.svg_available(session, source):
            return None
        watermarks = session_watermarks(session["props"])
        path = self._cache_path(session, source, page, "page.svg", {"k": "svg"})
        twin = path.with_name(path.name + ".gz")

        async def produce() -> bytes:
            data = await self._job(source, "render_svg", page, watermarks=watermarks)
            # a gzip twin lets the file server answer Accept-Encoding: gzip without compressing per request
            self.cache.write_bytes(twin, gzip.compress(data, 6))
            return data

        data = await self._cached(path, produce, group=self.shared_group(source), companions=(twin,))
        return Output(path, "image/svg+xml", data, self.hot.get(twin), provisional=source.provisional)

    async def raster(self, session: SessionRecord, page: int, *, fmt: str, scale: float = 1.0, quality: int = 85,
                     tile: tuple[int, int, int, int] | None = None, fit: tuple[int, int] | None = None) -> Output:
        mime = "image/jpeg" if fmt == "jpeg" else "image/png"
        # repeated requests (the common case) skip straight to the bytes kept in memory
        memo_key = (session["id"], page, fmt, scale, quality, tile, fit)
        known = self._served.get(memo_key)
        if known is not None:
            data = self.hot.get(known)
            if data is not None:
                self.on_cache_lookup("hit")
                return Output(known, mime, data)
        source, info = await self.info(session, page)
        size = self.check_page(info, page)
        dpi = self.raster_resolution(session, size)
        width, height = self.pixel_size(size, dpi, scale)
        limit = LIMITS.max_output_pixels
        if fit is None and tile is None and width * height > limit:
            raise invalid("Scale", f"a scale giving at most {limit} pixels for this page", where="query",
                          received=scale)
        if tile is not None:
            x, y, _, _ = tile
            if x >= width or y >= height:
                raise invalid("Tile", f"a tile origin inside the {width}x{height} page", where="path")
        watermarks = session_watermarks(session["props"])
        params = {"k": fmt, "dpi": dpi, "s": scale, "q": quality if fmt == "jpeg" else None, "t": tile, "f": fit}
        name = f"{'tile' if tile else 'thumb' if fit else 'page'}.{'jpg' if fmt == 'jpeg' else 'png'}"
        path = self._cache_path(session, source, page, name, params)

        async def produce() -> bytes:
            return await self._job(source, "render_raster", page, dpi=dpi, scale=scale, fmt=fmt, quality=quality,
                                   tile=tile, fit=fit, watermarks=watermarks)

        # tiles are many and cheap: only whole pages and thumbnails are worth a round trip to the bucket
        data = await self._cached(path, produce, group=None if tile else self.shared_group(source))
        if source.provisional:  # not remembered: the next request must find the whole document once it is here
            return Output(path, mime, data, provisional=True)
        if len(self._served) > 50_000:
            self._served.clear()
        self._served[memo_key] = path
        return Output(path, mime, data)

    @staticmethod
    def pixel_size(size: dict[str, Any], dpi: int | None, scale: float) -> tuple[int, int]:
        if dpi is None:  # an image page at its own pixels
            return max(1, round(size["pixelWidth"] * scale)), max(1, round(size["pixelHeight"] * scale))
        return pixel_size(size["width"], size["height"], dpi, scale)

    async def attributes(self, session: SessionRecord, page: int, content_type: str) -> dict[str, Any]:
        source, info = await self.info(session, page)
        size = self.check_page(info, page)
        if content_type in SVG_TYPES and self.svg_available(session, source):
            return {"version": "7.1", "contentType": "jpeg,png,svg", "imageBitDepth": 16,
                    "imageHeight": round(size["height"]), "imageWidth": round(size["width"]),
                    "imageXResolution": 90, "imageYResolution": 90}
        return self.raster_attributes(session, source, size)

    def raster_attributes(self, session: SessionRecord, source: PageSource, size: dict[str, Any]) -> dict[str, Any]:
        dpi = self.raster_resolution(session, size)
        width, height = self.pixel_size(size, dpi, 1.0)
        x_dpi, y_dpi = (dpi, dpi) if dpi is not None else (round(size["dpi"][0]), round(size["dpi"][1]))
        return {"version": "7.1", "contentType": "jpeg,png", "imageBitDepth": 8, "imageHeight": height,
                "imageWidth": width, "imageXResolution": x_dpi, "imageYResolution": y_dpi}

    async def svg_unavailable(self, session: SessionRecord, page: int) -> dict[str, Any]:
        source, info = await self.info(session, page)
        size = self.check_page(info, page)
        return {"errorCode": "SvgNotAvailable", "pageAttributes": self.raster_attributes(session, source, size)}

    async def text(self, session: SessionRecord, first: int, last: int) -> list[dict[str, Any]]:
        source, info = await self.info(session, last)
        count = info["pageCount"]
        if first > last or first >= count:
            raise invalid("PageNumberBegin", f"a page range within 0-{count - 1}", where="path")
        name = f"text-ocr-{self.ocr_language.replace('+', '-')}.json" if self.ocr_language else "text.json"
        at_once = asyncio.Semaphore(TEXT_JOBS_AT_ONCE)

        async def one(page: int) -> dict[str, Any]:
            path = self.cache.path(source.scope, "pages", source.content_key, str(page), name)
            try:
                async with at_once:
                    data = await self._cached(path, functools.partial(self._text_job, source, page),
                                              group=self.shared_group(source))
                return json.loads(data if data is not None else path.read_bytes())
            except ServerError as exc:
                return {"number": page, "errorCode": 1,
                        "errorDescription": (exc.details or {}).get("message", exc.message)}
        # the pages' jobs queue together (a few at a time, so a long range never fills the pool's queue): under
        # load a range then waits about one queue's time, not one per page
        return list(await asyncio.gather(*(one(page) for page in range(first, min(last, count - 1) + 1))))

    async def _text_job(self, source: PageSource, page: int) -> bytes:
        if self.ocr_language:  # engines.convert_jobs.page_text_ocr: native text, else OCR of the page image
            # its files go in a directory the server removes, even when the worker is killed mid-job
            scratch = Path(tempfile.mkdtemp(prefix="ocr-", dir=self.cache.tmp))
            try:
                result = await self._job(source, "page_text_ocr", page, language=self.ocr_language,
                                         budget=self.render_timeout, scratch=str(scratch))
            finally:
                shutil.rmtree(scratch, ignore_errors=True)
        else:
            result = await self._job(source, "page_text", page)
        return json.dumps(result, separators=(",", ":")).encode()

    async def prepare(self, session: SessionRecord, count: int) -> None:
        """Render the first pages ahead of requests (SessionStarted, countOfInitialPages)."""
        try:
            source, info = await self.info(session, count - 1)
            wanted = session["props"].get("contentType") or "svg"
            for page in range(min(count, info["pageCount"])):
                if wanted in RASTER_TYPES or not self.svg_available(session, source):
                    await self.raster(session, page, fmt="jpeg" if wanted == "jpeg" else "png")
                else:
                    await self.svg(session, page)
                await self.text(session, page, page)
        except DomainError:
            pass  # the requests that follow report the error
