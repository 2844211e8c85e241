"""Work files: stored source bytes with an id, a format and a lifetime. Every session source is one."""
from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path
from typing import AsyncIterator, cast

from ..storage.blobs import BlobStore, TooLargeError
from ..clock import Clock, system_clock
from ..storage.metadata import MetadataStore
from . import formats
from .errors import InputError, TooLarge, UnrecognizedFormat, invalid
from .records import WorkFileRecord
from .ids import is_valid_id, new_affinity_token, new_file_id

KIND = "workfile"


def iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


class WorkFiles:
    def __init__(self, store: MetadataStore, blobs: BlobStore, *, lifetime: float, max_size: int,
                 clock: Clock = system_clock):
        self.store = store
        self.clock = clock
        self.blobs = blobs
        self.lifetime = lifetime
        self.max_size = max_size

    async def receive(self, chunks: AsyncIterator[bytes], extension: str | None, *, min_seconds: int | None = None,
                      require_format: bool = True, owner: str | None = None,
                      content_length: int | None = None) -> WorkFileRecord:
        """Store uploaded bytes as a new work file. Undetectable content without a known extension is
        refused when `require_format` (a document to view); otherwise kept with the given extension."""
        if content_length is not None and content_length > self.max_size:
            raise TooLarge(f"The upload is larger than the limit of {self.max_size} bytes")
        try:
            sha256, size = await self.blobs.put_stream(chunks, self.max_size)
        except TooLargeError:
            raise TooLarge(f"The upload is larger than the limit of {self.max_size} bytes") from None
        if size == 0:
            raise InputError("MissingInput", {"in": "body", "at": "", "expected": "the document's bytes"})
        return self.adopt(sha256, size, extension, min_seconds=min_seconds, require_format=require_format,
                          owner=owner)

    def adopt(self, sha256: str, size: int, extension: str | None, *, min_seconds: int | None = None,
              require_format: bool = True, owner: str | None = None, lifetime: float | None = None) -> WorkFileRecord:
        detected = formats.detect(self.blobs.path(sha256))
        fmt = formats.resolve(detected, extension)
        if fmt is None:
            if require_format:
                self._drop_blob_if_unused(sha256)
                raise UnrecognizedFormat()
            fmt = extension or "tmp"
        created = self.clock()
        life = max(lifetime or self.lifetime, float(min_seconds or 0))
        record: WorkFileRecord = {
            "fileId": new_file_id(), "sha256": sha256, "size": size, "fileExtension": fmt,
            "detected": detected is not None, "affinityToken": new_affinity_token(),
            "created": created, "expires": created + life, "owner": owner,
        }
        self.store.put(KIND, record["fileId"], record, record["expires"], ref=sha256)
        return record

    def get(self, file_id: str) -> WorkFileRecord | None:
        if not is_valid_id(file_id):
            return None
        record = self.store.get(KIND, file_id)
        if record is None or record["expires"] <= self.clock():
            return None
        return cast(WorkFileRecord, record)

    def extend(self, record: WorkFileRecord, until: float) -> None:
        """Keep a work file at least as long as a session that uses it."""
        if record["expires"] < until:
            record["expires"] = until
            self.store.put(KIND, record["fileId"], record, until, ref=record["sha256"])

    def path(self, record: WorkFileRecord) -> Path:
        """Where the bytes are on this node (absent until local_path fetched them when stored in S3)."""
        return self.blobs.path(record["sha256"])

    async def local_path(self, record: WorkFileRecord) -> Path:
        return await self.blobs.local_path(record["sha256"])

    def delete(self, file_id: str) -> bool:
        record = self.store.get(KIND, file_id)
        if record is None:
            return False
        self.store.delete(KIND, file_id)
        self._drop_blob_if_unused(record["sha256"])
        return True

    def _drop_blob_if_unused(self, sha256: str) -> None:
        if not self.store.find(KIND, sha256):
            self.blobs.delete(sha256)

    def info(self, record: WorkFileRecord) -> dict:
        return {
            "fileId": record["fileId"], "fileExtension": record["fileExtension"], "size": record["size"],
            "sha256": record["sha256"], "mimeType": formats.mime_type(record["fileExtension"]),
            "createdTime": iso(record["created"]), "expirationTime": iso(record["expires"]),
            "affinityToken": record["affinityToken"],
        }

    def sweep(self) -> int:
        """Remove expired work files and any stored bytes no work file refers to."""
        removed = 0
        for file_id, _ in self.store.expired(KIND, self.clock()):
            self.store.delete(KIND, file_id)
            removed += 1
        self.blobs.sweep_unreferenced(set(self.store.refs(KIND)), self.clock() - 60)
        return removed


def parse_extension_param(value: str | None, at: str = "FileExtension") -> str | None:
    try:
        return formats.normalize_extension(value)
    except ValueError as exc:
        raise invalid(at, str(exc), where="query", received=value) from None
