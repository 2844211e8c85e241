"""A document's page text for search, extracted once per content and cached on disk, and the boxes of hits.

Text is read in batches of pages (`batch_ranges`: a small first one, so the first hits come quickly) by the
render workers (engines.search_text) and kept as one JSON
file per batch beside the document's cached pages (same scope and content key, so `serverCaching: "none"`
sessions keep theirs private and lose it with the session). Batches are spread over every worker, so a
document never searched before is read on all cores; a second search reads the files."""
from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any, AsyncIterator

from ..engines.search import NO_LINES
from . import search_boxes
from .documents import PageSource
from .engine_errors import to_domain

if TYPE_CHECKING:  # a type only: the module loads PDFium, which the server process never calls (about 11 MB)
    from ..engines.search_text import PageText

BATCH_PAGES = 25
FIRST_BATCHES = (5, 20)  # pages of the first batches; BATCH_PAGES each after them
TEXT_TIMEOUT = 120.0     # one batch of text, or the boxes of one batch's hits


def batch_ranges(page_count: int) -> list[range]:
    """The pages of each batch, in order: fixed for a page count, so cached batch files are found again."""
    out: list[range] = []
    first = 0
    for size in FIRST_BATCHES:
        if first < page_count:
            out.append(range(first, min(page_count, first + size)))
            first += size
    out.extend(range(start, min(page_count, start + BATCH_PAGES)) for start in range(first, page_count, BATCH_PAGES))
    return out


class DocumentText:
    def __init__(self, pages: Any):
        self.pages = pages   # core.pages.Pages: its pool, cache and page sources
        self._keys: dict[tuple[str, int], str] = {}

    def _path(self, source: PageSource, pages: range) -> Path:
        name = f"text-{pages.start}-{pages.stop - 1}.json"
        return self.pages.cache.path(source.scope, "pages", source.content_key, "search", name)

    def _key(self, source: PageSource, batch: int) -> str:
        """An affinity key for a batch: batches take the workers in turn, and each key always lands on the same
        worker (each worker then opens the document once)."""
        slot = batch % max(1, self.pages.pool.size)
        known = self._keys.get((source.content_key, slot))
        if known is None:
            pool = self.pages.pool
            for n in range(10_000):
                candidate = f"{source.content_key}/search-{n}"
                if pool.home(candidate) == slot:
                    known = candidate
                    break
            else:  # cannot happen with crc32; stay correct anyway
                known = source.content_key
            if len(self._keys) > 10_000:
                self._keys.clear()
            self._keys[(source.content_key, slot)] = known
        return known

    async def _run(self, source: PageSource, key: str, fn: str, *args: Any) -> Any:
        try:
            return await self.pages.pool.run(key, fn, str(source.path), source.kind, *args,
                                             password=source.password, timeout=TEXT_TIMEOUT)
        except Exception as exc:  # the one table says what each engine failure means to a client
            raise to_domain(exc, "render") from None

    def _boxes_path(self, source: PageSource, pages: range) -> Path:
        return self.pages.cache.path(source.scope, "pages", source.content_key, "search",
                                     f"hits-{pages.start}-{pages.stop - 1}.txt")

    def _keep(self, path: Path, known: search_boxes.PageHits) -> None:
        data = search_boxes.encode(known)
        if len(data) <= search_boxes.MAX_FILE_BYTES:   # a full file stays as it is: the cache stops growing
            self.pages.cache.write_bytes(path, data)

    async def batch(self, source: PageSource, batch: int, pages: range, terms: list[tuple[str, bool]] | None = None,
                    timeout: float = 1.0) -> tuple[list[PageText], search_boxes.PageHits | None]:
        """The text of the pages of one batch, from the cache or extracted now. With `terms` (pattern, case
        sensitive) and no cached text, the worker also joins the boxes of their matches into line rectangles in
        the same pass (kept with the batch's other hits): those, or None when the text was cached."""
        path = self._path(source, pages)
        group = self.pages.shared_group(source)
        for attempt in ("local", "shared"):  # this node's cache, then text another node published
            try:
                return json.loads(await asyncio.to_thread(path.read_bytes)), None
            except (FileNotFoundError, ValueError):
                if attempt == "shared" or group is None or not await self.pages.cache.fetch_file(path, group):
                    break
        found = await self._run(source, self._key(source, batch), "search_batch", pages.start, pages.stop - 1,
                                terms or [], timeout)
        known = None
        if terms:
            boxes = self._boxes_path(source, pages)
            known = await search_boxes.load(boxes)
            for page, hits in enumerate(found["hits"], pages.start):
                for start, end, members in hits or ():
                    known[search_boxes.key(page, start, end)] = members
            self._keep(boxes, known)
        texts = found["texts"]
        self.pages.cache.write_bytes(path, found["json"])
        if group is not None:
            self.pages.cache.publish_file(path)
        return texts, known

    async def batches(self, source: PageSource, page_count: int, terms: list[tuple[str, bool]] | None = None,
                      timeout: float = 1.0
                      ) -> AsyncIterator[tuple[int, int, list[PageText], search_boxes.PageHits | None]]:
        """(batch index, first page, texts, boxes read with them) for every batch in page order, reading ahead on
        every worker."""
        ranges = batch_ranges(page_count)
        # one batch per worker, and one more queued behind them, so a worker that finishes a batch starts the next
        # while the caller still matches the one before (a deeper queue would make the boxes of the first hits
        # wait behind later text)
        ahead = max(1, self.pages.pool.size) + 1
        pending: dict[int, asyncio.Task] = {}
        try:
            for batch, pages in enumerate(ranges):
                for upcoming in range(batch, min(len(ranges), batch + ahead)):
                    if upcoming not in pending:
                        pending[upcoming] = asyncio.create_task(
                            self.batch(source, upcoming, ranges[upcoming], terms, timeout))
                texts, known = await pending.pop(batch)
                yield batch, pages.start, texts, known
        finally:
            for task in pending.values():
                task.cancel()
            if pending:
                await asyncio.gather(*pending.values(), return_exceptions=True)

    async def all_pages(self, source: PageSource, page_count: int) -> list[PageText]:
        out: list[PageText] = []
        async for _, _, texts, _ in self.batches(source, page_count):
            out.extend(texts)
        return out

    async def rectangles(self, source: PageSource,
                         requests: list[tuple[int, list[tuple[int, int]], list[int], str]], batch: int,
                         pages: range, known: search_boxes.PageHits | None = None) -> list[list[str]]:
        """Per request (page, spans, skips, text): per span, its line rectangles (Text URL units) and the bounding
        one, as the JSON members of a hit (geometry). Spans computed before for this content come
        from the batch's file; the others from a worker, and are kept."""
        if source.kind != "pdf" or not requests:
            return [[NO_LINES for _ in spans] for _, spans, _, _ in requests]
        path = self._boxes_path(source, pages)
        if known is None:
            known = await search_boxes.load(path)
        keys = [[search_boxes.key(page, start, end) for start, end in spans] for page, spans, _, _ in requests]
        missing = [(page, [span for span, k in zip(spans, page_keys) if k not in known], skips, text)
                   for (page, spans, skips, text), page_keys in zip(requests, keys)]
        missing = [request for request in missing if request[1]]
        if missing:
            read = await self._run(source, self._key(source, batch), "search_hit_geometries", missing)
            for (page, spans, _, _), page_geometries in zip(missing, read):
                known.update((search_boxes.key(page, start, end), members)
                             for (start, end), members in zip(spans, page_geometries))
            self._keep(path, known)
        return [[known[k] for k in page_keys] for page_keys in keys]
