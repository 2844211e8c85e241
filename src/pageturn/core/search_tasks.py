"""Search tasks: PrizmDoc's `searchTasks` processes over a viewing session's document or a search context.

A task is a record in the metadata store (SQLite, or Redis shared by several nodes) with its state and
progress; its hits are stored beside it in chunks, one per batch of pages, appended in page order. So any node
can answer a task's state and results while the node that runs it is still searching, and results read while
`processing` grow page by page in document order. Records expire (`TASK_LIFETIME`, or the request's longer
`minSecondsAvailable`); a task whose session ends, or that is deleted, stops at its next batch.

Paging tokens are the revisionData tokens (core.comparison.ContinueTokens): signed, bound to the task."""
from __future__ import annotations

import asyncio
import base64
import bisect
import concurrent.futures
import json
import logging
import time
import zlib
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, AsyncGenerator, Callable

from ..engines import search as engine
from ..storage.metadata import MetadataStore, now
from .comparison import ContinueTokens, parse_limit
from .documents import PageSource
from .errors import DomainError, InputError, input_object, NotFound, PasswordRequired, invalid, missing
from .ids import is_valid_id, new_file_id
from .records import SessionRecord
from .search_boxes import PageHits
from .search_text import BATCH_PAGES, DocumentText
from .workfiles import iso

if TYPE_CHECKING:  # a type only: the module loads PDFium, which the server process never calls
    from ..engines.search_text import PageText

log = logging.getLogger(__name__)

TASK_KIND = "searchTask"
HITS_KIND = "searchHits"
TASK_LIFETIME = 1200.0         # 20 minutes, as PrizmDoc's other processes
MAX_LIFETIME = 86400.0
MAX_TERMS = 25
DEFAULT_PADDING = 25
MAX_PADDING = 1000
PAGE_TIMEOUT = 1.0             # one term on one page: a pattern slower than this is stopped
MATCH_BUDGET = 30.0            # all matching of one task
MAX_RESULTS = 100_000          # a task stops collecting hits here (resultLimitReached)
HOLD_SECONDS = 0.5             # a results request waits this long for new hits while the task runs
POLL_SECONDS = 0.02            # how often it looks for them when the task runs on another node
CONTINUE_AFTER_MS = 250
STALE_SECONDS = 90.0           # a running task whose node stopped writing for this long ended with it
BEAT_SECONDS = 15.0
CACHED_HITS = 50_000           # hits a node keeps in memory for clients paging through results
_TOKEN_SCOPE = "searchTask:"

TERM_CODES = ("MissingInputForSimpleTerm", "InvalidInputForSimpleTerm")


@dataclass
class ResultsPage:
    hits: list[str]     # each hit as JSON text
    rest: dict          # the answer's other fields


@dataclass
class _Budget:
    seconds: float = MATCH_BUDGET   # matching time left to the task


@dataclass
class Target:
    """What a task searches: a viewing session (or a work file's stand-in for one) or uploaded text."""

    session: SessionRecord | None   # what core.pages reads pages from
    session_id: str | None = None   # a viewing session whose end ends the task
    context_id: str | None = None
    affinity_token: str | None = None
    uploaded: list[str] | None = None   # a search context's uploaded page texts


def _term_error(code: int, at: str, expected: str, received: Any = None) -> InputError:
    details: dict = {"in": "body", "at": at, "expected": expected}
    if received is not None:
        details["received"] = received if isinstance(received, (str, int, float, bool)) else type(received).__name__
    return InputError(TERM_CODES[code], details)


def parse_input(body: Any, *, context_form: bool) -> tuple[dict, list[engine.Term], float]:
    """The request's `input` with defaults filled in (echoed in answers), its terms, and the lifetime asked."""
    raw = input_object(body, 'a JSON object such as {"input": {"searchTerms": [...]}}')
    echo: dict = {}
    if context_form:
        context_id = raw.get("contextId")
        if context_id is None:
            raise missing("input.contextId")
        if not isinstance(context_id, str):
            raise invalid("input.contextId", "a string", received=context_id)
        echo["contextId"] = context_id
    terms_in = raw.get("searchTerms")
    if terms_in is None:
        raise missing("input.searchTerms")
    if not isinstance(terms_in, list) or not terms_in or len(terms_in) > MAX_TERMS:
        raise invalid("input.searchTerms", f"an array of 1 to {MAX_TERMS} search terms", received=terms_in)
    terms, echoed = [], []
    for index, term in enumerate(terms_in):
        at = f"input.searchTerms[{index}]"
        if not isinstance(term, dict):
            raise _term_error(1, at, "an object", term)
        kind = term.get("type")
        if kind is None:
            raise _term_error(0, at + ".type", '"simple"')
        if kind != "simple":
            raise _term_error(1, at + ".type", '"simple" (proximity terms are not supported)', kind)
        pattern = term.get("pattern")
        if pattern is None:
            raise _term_error(0, at + ".pattern", "a regular expression")
        if not isinstance(pattern, str) or not pattern:
            raise _term_error(1, at + ".pattern", "a non-empty string", pattern)
        case = term.get("caseSensitive", False)
        if not isinstance(case, bool):
            raise _term_error(1, at + ".caseSensitive", "true or false", case)
        term_id = term.get("termId", str(index))
        if not isinstance(term_id, (str, int)) or isinstance(term_id, bool) or len(str(term_id)) > 200:
            raise _term_error(1, at + ".termId", "a string of at most 200 characters", term_id)
        padding = term.get("contextPadding", DEFAULT_PADDING)
        if not isinstance(padding, int) or isinstance(padding, bool) or not 0 <= padding <= MAX_PADDING:
            raise _term_error(1, at + ".contextPadding", f"an integer from 0 to {MAX_PADDING}", padding)
        terms.append(engine.Term(pattern, case))
        echoed.append({"type": "simple", "pattern": pattern, "caseSensitive": case, "termId": term_id,
                       "contextPadding": padding})
    try:
        engine.compile_terms(terms)
    except engine.SearchTermError as exc:
        raise InputError(TERM_CODES[1], {"in": "body", "at": f"input.searchTerms[{exc.index}].pattern",
                                         "expected": "a valid regular expression", "message": str(exc)}) from None
    echo["searchTerms"] = echoed
    lifetime = TASK_LIFETIME
    seconds = body.get("minSecondsAvailable")
    if seconds is not None:
        if not isinstance(seconds, int) or isinstance(seconds, bool) or seconds < 0:
            raise invalid("minSecondsAvailable", "an integer of at least 0", received=seconds)
        lifetime = min(MAX_LIFETIME, max(lifetime, float(seconds)))
    return echo, terms, lifetime


class SearchTasks:
    def __init__(self, store: MetadataStore, text: DocumentText, tokens: ContinueTokens, sessions: Any):
        self.store = store
        self.text = text
        self.pages = text.pages
        self.tokens = tokens
        self.sessions = sessions           # core.sessions.ViewingSessions: a task ends with its session
        self._running: dict[str, asyncio.Task] = {}
        self._chunks: dict[tuple[str, int], list[str]] = {}   # hits written or read, for paging clients
        self._cached_hits = 0
        self._stored: dict[str, asyncio.Event] = {}   # set when a task running here stores its record
        # matching runs here, never on the event loop; the regex engine releases the GIL while it works
        self._matchers = concurrent.futures.ThreadPoolExecutor(2, thread_name_prefix="search-match")

    # ---- starting --------------------------------------------------------------------------------------
    def start(self, body: Any, resolve: Callable[[dict], Target], *, context_form: bool = False) -> dict:
        """Validates the request, then finds what to search (`resolve` gets the echoed input), then searches it
        in the background. The answer is the new task's process JSON."""
        echo, terms, lifetime = parse_input(body, context_form=context_form)
        target = resolve(echo)
        created = now()
        task = {"id": new_file_id(), "input": echo, "state": "processing", "percentComplete": 0,
                "affinityToken": target.affinity_token, "session": target.session_id,
                "context": target.context_id, "pageCount": None, "pagesSearched": 0, "ends": [],
                "pagesWithoutText": [], "created": created, "expires": created + lifetime, "beat": created,
                "errorCode": None, "errorDetails": None, "resultLimitReached": False}
        self._save(task)
        task_id = str(task["id"])
        runner = asyncio.create_task(self._run(task, target, terms))
        self._running[task_id] = runner
        runner.add_done_callback(lambda _t: self._ended(task_id))
        return self.describe(task)

    def _ended(self, task_id: str) -> None:
        self._running.pop(task_id, None)
        self._wake(task_id)

    def _save(self, task: dict) -> None:
        self.store.put(TASK_KIND, task["id"], task, task["expires"], ref=task["session"] or task["context"])
        self._wake(task["id"])

    def _wake(self, task_id: str) -> None:
        """Results requests waiting for this task's next hits look again now."""
        stored = self._stored.pop(task_id, None)
        if stored is not None:
            stored.set()

    # ---- the search itself -------------------------------------------------------------------------------
    async def _run(self, task: dict, target: Target, terms: list[engine.Term]) -> None:
        patterns = engine.compile_terms(terms)
        echoed = task["input"]["searchTerms"]
        budget = _Budget()
        beat = asyncio.create_task(self._heartbeat(task))
        # a batch is matched (in a thread) and its hits' boxes read (by a worker, unless cached) while the batch
        # before it is formatted and stored: up to one batch per worker, and at least two, are in flight, and
        # batches are committed in page order
        in_flight: list[tuple[int, list[PageText], asyncio.Future]] = []
        ahead = max(2, getattr(self.pages.pool, "size", 1))
        batches = self._batches(target, task)
        try:
            async for batch, first, texts, source, known in batches:
                if not self._still_wanted(task, target):
                    return
                step = asyncio.ensure_future(
                    self._batch_hits(source, batch, first, texts, patterns, echoed, known, budget))
                in_flight.append((first, texts, step))
                if known is not None:
                    # the rectangles came with the text: these hits are committed as soon as they are matched,
                    # not after the next batch's text (the first hits of a document never searched)
                    await asyncio.wait([step])
                while len(in_flight) >= ahead or (in_flight and in_flight[0][2].done()):
                    if not await self._commit(task, target, *in_flight.pop(0)):
                        return
                if task["resultLimitReached"]:
                    break
            while in_flight and not task["resultLimitReached"]:
                if not await self._commit(task, target, *in_flight.pop(0)):
                    return
            task.update(state="complete", percentComplete=100, beat=now())
        except engine.MatchTimeout as exc:
            task.update(state="error", percentComplete=100, errorCode=exc.code, errorDetails={
                "at": f"input.searchTerms[{exc.term}].pattern", "pageIndex": exc.page,
                "message": f"Search term {exc.term} took too long to match on page {exc.page + 1}; "
                           "simplify the pattern"})
        except PasswordRequired as exc:  # a session with the right password (Replacement) can search
            task.update(state="error", percentComplete=100, errorCode="PasswordRequired",
                        errorDetails={"message": exc.message})
        except DomainError as exc:
            task.update(state="error", percentComplete=100, errorCode=exc.error_code or "SearchFailed",
                        errorDetails=_error_details(exc))
        except asyncio.CancelledError:
            raise
        except Exception:  # a task's failure is its own error state, never a crashed server
            log.exception("search task failed")
            task.update(state="error", percentComplete=100, errorCode="InternalError",
                        errorDetails={"message": "The search failed"})
        finally:
            beat.cancel()
            for _, _, pending in in_flight:
                pending.cancel()
            await batches.aclose()  # stops the text read ahead when the task ends early
        if self._still_wanted(task, target):
            self._save(task)

    async def _commit(self, task: dict, target: Target, first: int, texts: list[PageText],
                      pending: asyncio.Future) -> bool:
        """Stores one batch's hits after those before it and updates the task; False when the task is no longer
        wanted (deleted, or its session ended)."""
        hits = await pending
        room = MAX_RESULTS - self._total(task)
        if len(hits) > room:
            hits, task["resultLimitReached"] = hits[:room], True
        if not self._still_wanted(task, target):
            return False
        if hits:
            offset = self._total(task)
            encoded = ['{"id":' + str(number) + "," + hit for number, hit in enumerate(hits, offset)]
            chunk = len(task["ends"])
            self.store.put(HITS_KIND, f"{task['id']}.{chunk}", {"z": _pack(encoded)}, task["expires"], ref=task["id"])
            self._remember((task["id"], chunk), encoded)   # this node's readers need not read it back
            task["ends"].append(offset + len(hits))
        task["pagesWithoutText"] += [first + k for k, t in enumerate(texts) if not t["text"].strip()]
        task["pagesSearched"] = first + len(texts)
        task["percentComplete"] = min(99, int(100 * task["pagesSearched"] / max(1, task["pageCount"] or 1)))
        task["beat"] = now()
        self._save(task)
        return True

    async def _heartbeat(self, task: dict) -> None:
        """Shows other nodes the task is alive while a batch (or the conversion before it) takes long."""
        while True:
            await asyncio.sleep(BEAT_SECONDS)
            if self.store.get(TASK_KIND, task["id"]) is None:
                return
            task["beat"] = now()
            self._save(task)

    def _still_wanted(self, task: dict, target: Target) -> bool:
        """False once the task was deleted or its viewing session ended (then the task ends quietly)."""
        if self.store.get(TASK_KIND, task["id"]) is None:
            return False
        if target.session_id is not None and not self._session_alive(target.session_id):
            task.update(state="error", percentComplete=100, errorCode="ViewingSessionEnded",
                        errorDetails={"message": "The viewing session ended"})
            self._save(task)
            return False
        return True

    def _session_alive(self, session_id: str) -> bool:
        try:
            record = self.sessions.load(session_id)
        except DomainError:
            return False
        return record["state"] == "active" and record["expires"] > now()

    async def _batches(self, target: Target, task: dict
                       ) -> AsyncGenerator[tuple[int, int, list[PageText], PageSource | None, PageHits | None], None]:
        """(batch index, first page, texts, page source, boxes read with the text) in page order."""
        if target.uploaded is not None:
            task["pageCount"] = len(target.uploaded)
            for batch, first in enumerate(range(0, len(target.uploaded), BATCH_PAGES)):
                chunk = target.uploaded[first:first + BATCH_PAGES]
                yield batch, first, [{"text": t, "skips": [], "width": 0.0, "height": 0.0} for t in chunk], None, None
            return
        source, info = await self.pages.info(target.session)  # converts Office documents first
        task["pageCount"] = info["pageCount"]
        self._save(task)
        terms = [(t["pattern"], t["caseSensitive"]) for t in task["input"]["searchTerms"]]
        async for batch, first, texts, known in self.text.batches(source, info["pageCount"], terms, PAGE_TIMEOUT):
            yield batch, first, texts, source, known

    async def _batch_hits(self, source: PageSource | None, batch: int, first: int, texts: list[PageText],
                          patterns: list, terms: list[dict], known: PageHits | None, budget: _Budget) -> list[str]:
        """A batch's hits: matched in a thread (never on the event loop), within what is left of the budget."""
        timeout = max(0.05, min(PAGE_TIMEOUT, budget.seconds))
        started = time.monotonic()
        matches = await asyncio.get_running_loop().run_in_executor(
            self._matchers, _match_batch, texts, first, patterns, timeout)
        budget.seconds -= time.monotonic() - started
        return await self._hits(source, batch, first, texts, matches, terms, known)

    async def _hits(self, source: PageSource | None, batch: int, first: int, texts: list[PageText],
                    matches: list[list[engine.Match]], terms: list[dict], known: PageHits | None) -> list[str]:
        """A batch's hits in page order, as JSON text without their id (given when they are committed): each is
        encoded once, here, and results answers splice the stored text."""
        requests = [(first + k, [(m.start, m.end) for m in found], texts[k]["skips"], texts[k]["text"])
                    for k, found in enumerate(matches) if found]
        pages = range(first, first + len(texts))
        geometries = await self.text.rectangles(source, requests, batch, pages, known) if source is not None \
            else [[engine.NO_LINES for _ in spans] for _, spans, _, _ in requests]
        # the term as PrizmDoc names it, by its termId (its pattern and options are in the task's input): a dense
        # search's answers are a tenth smaller than with the whole term in every hit
        term_json = [',"searchTerm":{"termId":' + _dumps(t["termId"]) + "}}" for t in terms]
        paddings = [t["contextPadding"] for t in terms]
        hits: list[str] = []
        context = engine.context
        for (page, _, _, _), page_geometries in zip(requests, geometries):
            page_text = texts[page - first]
            text = page_text["text"]
            page_data = (',"pageData":{"width":' + _number(page_text["width"]) + ',"height":'
                         + _number(page_text["height"]) + "}") if source is not None else ""
            head = f'"pageIndex":{page},"startIndex":'
            tails = [page_data + t for t in term_json]
            for match, geometry in zip(matches[page - first], page_geometries):
                start, end = match.start, match.end
                around, at = context(text, start, end, paddings[match.term])
                # the fields of the spec's hit, in its order; boundingRectangle only when there are rectangles
                hits.append(f'{head}{start},"text":{_string(text[start:end])},"context":{_string(around)},'
                            f'"startIndexInContext":{at},{geometry}{tails[match.term]}')
        return hits

    # ---- reading -----------------------------------------------------------------------------------------
    @staticmethod
    def _total(task: dict) -> int:
        return task["ends"][-1] if task["ends"] else 0

    def load(self, task_id: str, *, session_id: str | None = None) -> dict:
        """A live task (404 for unknown, expired, or another session's); a running task whose node went quiet
        is reported as ended."""
        task = self.store.get(TASK_KIND, task_id) if is_valid_id(task_id) else None
        if task is None or task["expires"] <= now() or (session_id is not None and task["session"] != session_id):
            raise NotFound("Unknown search task", error_code="NotFound")
        if task["session"] is not None:
            self.sessions.usable(task["session"])  # an ended session's tasks end with it (its own status)
        if task["state"] == "processing" and task["id"] not in self._running and now() - task["beat"] > STALE_SECONDS:
            task.update(state="error", percentComplete=100, errorCode="SearchInterrupted",
                        errorDetails={"message": "The server running this search stopped; start it again"})
        return task

    @staticmethod
    def describe(task: dict) -> dict:
        out: dict = {"processId": task["id"], "expirationDateTime": iso(task["expires"]), "input": task["input"],
                     "state": task["state"], "percentComplete": task["percentComplete"]}
        if task.get("affinityToken"):
            out["affinityToken"] = task["affinityToken"]
        if task["state"] == "error":
            out["errorCode"] = task["errorCode"]
            if task.get("errorDetails"):
                out["errorDetails"] = task["errorDetails"]
        # pageturn extensions: how far it got
        out["pageCount"] = task["pageCount"]
        out["pagesSearched"] = task["pagesSearched"]
        out["resultCount"] = SearchTasks._total(task)
        if task.get("resultLimitReached"):
            out["resultLimitReached"] = True
        return out

    def _chunk(self, task_id: str, index: int) -> list[str]:
        key = (task_id, index)
        hits = self._chunks.get(key)
        if hits is None:
            record = self.store.get(HITS_KIND, f"{task_id}.{index}")
            hits = _unpack(record["z"]) if record else []
            self._remember(key, hits)
        return hits

    def _remember(self, key: tuple[str, int], hits: list[str]) -> None:
        self._cached_hits += len(hits)
        if self._cached_hits > CACHED_HITS:
            self._chunks.clear()
            self._cached_hits = len(hits)
        self._chunks[key] = hits   # chunks never change once written

    async def _next_store(self, task_id: str, seconds: float) -> None:
        """Until a task running here stores its record again, or `seconds` (a task on another node is polled)."""
        if task_id not in self._running:
            await asyncio.sleep(min(POLL_SECONDS, seconds))
            return
        stored = self._stored.setdefault(task_id, asyncio.Event())
        try:
            await asyncio.wait_for(stored.wait(), seconds)
        except TimeoutError:
            pass

    async def results(self, task: dict, *, limit_raw: str | None, token: str | None,
                      session_id: str | None = None, hold: float = HOLD_SECONDS) -> ResultsPage:
        """One answer of GET results for a task just loaded: the hits after the token's offset (JSON text, as
        stored), at most `limit`, and the rest of the answer (pagesWithoutText, a continueToken while more may
        come, or the errorCode)."""
        limit = parse_limit(limit_raw)
        task_id = task["id"]
        offset = self.tokens.read(_TOKEN_SCOPE + task_id, token) if token else 0
        deadline = time.monotonic() + hold
        while task["state"] == "processing" and self._total(task) <= offset and time.monotonic() < deadline:
            await self._next_store(task_id, deadline - time.monotonic())
            task = self.load(task_id, session_id=session_id)
        results: list[str] = []
        ends = task["ends"]
        index = bisect.bisect_right(ends, offset)
        while len(results) < limit and index < len(ends):
            start = ends[index - 1] if index else 0
            skip = max(0, offset + len(results) - start)
            results.extend(self._chunk(task_id, index)[skip:skip + limit - len(results)])
            index += 1
        next_offset = offset + len(results)
        body: dict = {"pagesWithoutText": task["pagesWithoutText"]}
        more_ready = next_offset < self._total(task)
        if more_ready or task["state"] == "processing":
            body["continueToken"] = self.tokens.make(_TOKEN_SCOPE + task_id, next_offset)
            # a request for hits not found yet waits for them (HOLD_SECONDS), so a client that was just given
            # hits asks again at once; only one that waited in vain is told to pause
            body["continueAfter"] = 0 if results or more_ready else CONTINUE_AFTER_MS
        elif task["state"] == "error":
            body["errorCode"] = task["errorCode"]
            if task.get("errorDetails"):
                body["errorDetails"] = task["errorDetails"]
        return ResultsPage(results, body)

    # ---- ending ------------------------------------------------------------------------------------------
    async def delete(self, task_id: str, *, session_id: str | None = None) -> None:
        self.load(task_id, session_id=session_id)
        runner = self._running.get(task_id)
        self._remove(task_id)
        if runner is not None:
            runner.cancel()

    def _remove(self, task_id: str) -> None:
        self.store.delete(TASK_KIND, task_id)
        for chunk_id, _ in self.store.find(HITS_KIND, task_id):
            self.store.delete(HITS_KIND, chunk_id)

    def sweep(self) -> int:
        removed = 0
        for task_id, _ in self.store.expired(TASK_KIND, now()):
            self._remove(task_id)
            removed += 1
        for chunk_id, _ in self.store.expired(HITS_KIND, now()):
            self.store.delete(HITS_KIND, chunk_id)
        return removed

    async def close(self) -> None:
        for runner in list(self._running.values()):
            runner.cancel()
        await asyncio.gather(*self._running.values(), return_exceptions=True)
        self._matchers.shutdown(wait=False, cancel_futures=True)


_dumps = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode
_string = json.encoder.encode_basestring   # what json.dumps writes for a str (ensure_ascii=False), in C


def _pack(hits: list[str]) -> str:
    """A chunk of hits as the store keeps it: one line each (a hit's JSON never holds a raw line break), deflated
    (a tenth of the size: less for SQLite to write and Redis to hold, and no quote to escape), in base64."""
    return base64.b64encode(zlib.compress("\n".join(hits).encode("utf-8"), 1)).decode("ascii")


def _unpack(packed: str) -> list[str]:
    return zlib.decompress(base64.b64decode(packed)).decode("utf-8").split("\n")


def _number(value: float) -> str:
    """What json.dumps writes for a number (the numbers here are finite; repr is json's own float format)."""
    return repr(value)


def _match_batch(texts: list[PageText], first: int, patterns: list, timeout: float) -> list[list[engine.Match]]:
    return [engine.find_matches(t["text"], patterns, page=first + k, timeout=timeout) for k, t in enumerate(texts)]


def _error_details(exc: DomainError) -> dict:
    if isinstance(exc.details, dict):
        return exc.details
    return {"message": exc.message or exc.error_code or "The search failed"}

