"""Search contexts: a document's full text per page, for search tasks that name a `contextId` and for clients
that read the text records themselves. The source is a work file (its text is extracted in the background,
through the same per-content cache as viewing-session search) or text the client uploads page by page."""
from __future__ import annotations

import asyncio
import logging
import re
from typing import Any, cast

from ..storage.metadata import MetadataStore, now
from .errors import DomainError, InputError, input_object, NotFound, invalid, missing
from .ids import is_valid_id, new_file_id
from .records import SessionRecord
from .search_tasks import Target
from .search_text import DocumentText
from .workfiles import WorkFiles, iso

log = logging.getLogger(__name__)

CONTEXT_KIND = "searchContext"
# uploaded page texts, in the metadata store (not on a node's disk) so that every node of a cluster sees them
UPLOADED_KIND = "searchContextText"
MAX_UPLOADED_CHARS = 64_000_000
_PAGES = re.compile(r"^\s*(\d{1,7})\s*(?:-\s*(\d{1,7})?)?\s*$")


class SearchContexts:
    def __init__(self, store: MetadataStore, text: DocumentText, workfiles: WorkFiles, *, lifetime: float):
        self.store = store
        self.text = text
        self.workfiles = workfiles
        self.lifetime = lifetime
        self._running: dict[str, asyncio.Task] = {}

    # ---- creating --------------------------------------------------------------------------------------
    def create(self, body: Any) -> dict:
        raw = input_object(body, 'a JSON object such as {"input": {"documentIdentifier": ..., "source": ...}}')
        identifier = raw.get("documentIdentifier")
        if identifier is None:
            raise missing("input.documentIdentifier")
        if not isinstance(identifier, str) or not identifier or len(identifier) > 1000:
            raise invalid("input.documentIdentifier", "a string of 1 to 1000 characters", received=identifier)
        source = raw.get("source")
        if source is None:
            raise missing("input.source")
        if source not in ("workFile", "upload"):
            raise invalid("input.source", '"workFile" or "upload"', received=source)
        echo: dict = {"documentIdentifier": identifier, "source": source}
        work = None
        if source == "workFile":
            file_id = raw.get("fileId")
            if file_id is None:
                raise missing("input.fileId")
            work = self.workfiles.get(file_id) if isinstance(file_id, str) else None
            if work is None:
                raise InputError("InvalidInput", {"in": "body", "at": "input.fileId",
                                                  "expected": "the fileId of an existing work file"})
            echo["fileId"] = file_id
        created = now()
        life = self.lifetime
        seconds = body.get("minSecondsAvailable")
        if isinstance(seconds, int) and not isinstance(seconds, bool) and seconds > life:
            life = float(min(seconds, 7 * 86400))
        context = {"id": new_file_id(), "input": echo, "state": "processing", "created": created,
                   "expires": created + life, "pageCount": None, "uploaded": 0,
                   "affinityToken": work["affinityToken"] if work else None, "errorCode": None,
                   "work": {"fileId": work["fileId"], "sha256": work["sha256"], "size": work["size"],
                            "extension": work["fileExtension"]} if work else None}
        self._save(context)
        if work is not None:
            context_id = str(context["id"])
            task = asyncio.create_task(self._extract(context))
            self._running[context_id] = task
            task.add_done_callback(lambda _t: self._running.pop(context_id, None))
        return self.describe(context)

    def _save(self, context: dict) -> None:
        self.store.put(CONTEXT_KIND, context["id"], context, context["expires"])

    @staticmethod
    def _document(context: dict) -> SessionRecord:
        """A stand-in for a viewing session over the work file, so pages, conversion and caches are shared (only
        the fields the document pipeline reads)."""
        return cast(SessionRecord, {"id": "ctx-" + context["id"], "props": {"serverCaching": "full"},
                                    "source": context["work"], "original": None, "revised": None})

    async def _extract(self, context: dict) -> None:
        try:
            source, info = await self.text.pages.info(self._document(context))
            await self.text.all_pages(source, info["pageCount"])
            context.update(state="complete", pageCount=info["pageCount"])
        except DomainError as exc:
            context.update(state="error", errorCode=exc.error_code or "TextExtractionFailed")
        except Exception:
            log.exception("search context text extraction failed")
            context.update(state="error", errorCode="InternalError")
        if self.store.get(CONTEXT_KIND, context["id"]) is not None:
            self._save(context)

    # ---- reading -----------------------------------------------------------------------------------------
    def load(self, context_id: str) -> dict:
        context = self.store.get(CONTEXT_KIND, context_id) if is_valid_id(context_id) else None
        if context is None or context["expires"] <= now():
            raise NotFound("Unknown search context", error_code="NotFound")
        return context

    @staticmethod
    def describe(context: dict) -> dict:
        out = {"contextId": context["id"], "expirationDateTime": iso(context["expires"]), "input": context["input"],
               "state": context["state"]}
        if context.get("affinityToken"):
            out["affinityToken"] = context["affinityToken"]
        if context["state"] == "error":
            out["errorCode"] = context["errorCode"]
        if context["pageCount"] is not None:
            out["pageCount"] = context["pageCount"]
        return out

    def _uploaded(self, context_id: str) -> list[str]:
        record = self.store.get(UPLOADED_KIND, context_id)
        return list(record["pages"]) if record is not None else []

    async def records(self, context_id: str, pages_raw: str | None) -> dict:
        """GET …/records?pages=a-b (0-based, inclusive; "a-" to the end; default all)."""
        context = self.load(context_id)
        first, last = 0, None
        if pages_raw is not None:
            m = _PAGES.match(pages_raw)
            if m is None:
                raise invalid("pages", 'a 0-based page range such as "0-" or "2-5"', where="query",
                              received=pages_raw[:100])
            first = int(m.group(1))
            last = int(m.group(2)) if m.group(2) else (first if "-" not in pages_raw else None)
        if context["work"] is None:
            texts = self._uploaded(context_id)
        else:
            source, info = await self.text.pages.info(self._document(context))
            texts = [t["text"] for t in await self.text.all_pages(source, info["pageCount"])]
        end = len(texts) - 1 if last is None else min(last, len(texts) - 1)
        return {"pages": [{"text": texts[i]} for i in range(first, end + 1)]}

    # ---- uploaded text ---------------------------------------------------------------------------------------
    def put_records(self, context_id: str, body: Any) -> dict:
        context = self.load(context_id)
        if context["work"] is not None:
            raise InputError("InvalidInput", {"in": "path", "at": "contextId",
                                              "expected": 'a context whose source is "upload"'})
        if context["state"] != "processing":
            raise InputError("InvalidInput", {"in": "path", "at": "contextId",
                                              "expected": "a context still taking records (not completed)"})
        pages = body.get("pages") if isinstance(body, dict) else None
        if not isinstance(pages, list) or not all(isinstance(p, dict) and isinstance(p.get("text"), str)
                                                  for p in pages):
            raise invalid("pages", 'an array of {"text": "..."} records, one per page')
        texts = self._uploaded(context_id) + [p["text"] for p in pages]
        if sum(len(t) for t in texts) > MAX_UPLOADED_CHARS:
            raise invalid("pages", f"at most {MAX_UPLOADED_CHARS} characters of text in one context")
        self.store.put(UPLOADED_KIND, context_id, {"pages": texts}, context["expires"])
        context["uploaded"] = context["pageCount"] = len(texts)
        self._save(context)
        return self.describe(context)

    def complete(self, context_id: str) -> dict:
        context = self.load(context_id)
        if context["work"] is not None:
            raise InputError("InvalidInput", {"in": "path", "at": "contextId",
                                              "expected": 'a context whose source is "upload"'})
        context.update(state="complete", pageCount=context["uploaded"])
        self._save(context)
        return self.describe(context)

    def delete(self, context_id: str) -> None:
        self.load(context_id)
        running = self._running.pop(context_id, None)
        if running is not None:
            running.cancel()
        self.store.delete(CONTEXT_KIND, context_id)
        self.store.delete(UPLOADED_KIND, context_id)

    def sweep(self) -> int:
        expired = self.store.expired(CONTEXT_KIND, now())
        for context_id, _ in expired:
            self.store.delete(CONTEXT_KIND, context_id)
        for context_id, _ in self.store.expired(UPLOADED_KIND, now()):
            self.store.delete(UPLOADED_KIND, context_id)
        return len(expired)

    # ---- for search tasks --------------------------------------------------------------------------------------
    def target(self, context_id: str) -> Target:
        try:
            context = self.load(context_id)
        except NotFound:
            raise InputError("InvalidInput", {"in": "body", "at": "input.contextId",
                                              "expected": "the contextId of an existing search context"}) from None
        if context["state"] == "error":
            raise InputError("InvalidInput", {"in": "body", "at": "input.contextId",
                                              "expected": "a search context whose text could be read",
                                              "message": context["errorCode"]})
        if context["work"] is not None:
            return Target(self._document(context), context_id=context_id, affinity_token=context["affinityToken"])
        if context["state"] != "complete":
            raise InputError("InvalidInput", {"in": "body", "at": "input.contextId",
                                              "expected": "an upload context marked completed"})
        return Target(None, context_id=context_id, uploaded=self._uploaded(context_id))
