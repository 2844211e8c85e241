"""Content-addressed bytes on disk, and a keyed cache of derived files, both written atomically.

Every file is written under tmp/ and renamed into place, so a crash never leaves a half file where a reader
looks. The directory can be a volume shared by several nodes: names depend only on content or key."""
from __future__ import annotations

import asyncio
import hashlib
import os
import shutil
import tempfile
from pathlib import Path
from typing import AsyncIterator

from ..clock import Clock, system_clock

_HEX = set("0123456789abcdef")


def file_sha256(path: Path) -> str:
    """Hash a file in blocks (callers on the event loop run it in a thread: files can be large)."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


class StorageUnavailable(Exception):
    """The shared object store cannot be reached or refused a write: nothing was stored (answered as a 5xx)."""

    code = "StorageUnavailable"

    def __init__(self, message: str = "the object store is unavailable"):
        super().__init__(message)
        self.message = message


class TooLargeError(Exception):
    def __init__(self, limit: int):
        super().__init__(f"larger than the limit of {limit} bytes")
        self.limit = limit


class BlobStore:
    def __init__(self, root: Path, clock: Clock = system_clock):
        self.root = root
        self.clock = clock
        self.tmp = root / "tmp"
        self.blobs = root / "blobs"
        for d in (self.tmp, self.blobs):
            d.mkdir(parents=True, exist_ok=True)

    def path(self, sha256: str) -> Path:
        if len(sha256) != 64 or not set(sha256) <= _HEX:
            raise ValueError("not a sha256")
        return self.blobs / sha256[:2] / sha256

    def temp_path(self, suffix: str = "") -> Path:
        fd, name = tempfile.mkstemp(dir=self.tmp, suffix=suffix)
        os.close(fd)
        return Path(name)

    async def local_path(self, sha256: str) -> Path:
        """A local file with the blob's bytes, for engines that read paths (here: the stored file itself)."""
        return self.path(sha256)

    def healthy(self) -> bool:
        return os.access(self.blobs, os.W_OK)

    async def put_stream(self, chunks: AsyncIterator[bytes], limit: int) -> tuple[str, int]:
        """Stream into a temp file while hashing; over `limit` -> TooLargeError and nothing is left behind."""
        tmp, sha256, size = await self._receive(chunks, limit)
        try:
            return await self._store(tmp, sha256), size
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise

    async def _store(self, tmp: Path, sha256: str) -> str:
        return self._commit(tmp, sha256)

    async def _receive(self, chunks: AsyncIterator[bytes], limit: int) -> tuple[Path, str, int]:
        digest = hashlib.sha256()
        size = 0
        tmp = self.temp_path()
        try:
            with open(tmp, "wb") as out:
                async for chunk in chunks:
                    size += len(chunk)
                    if size > limit:
                        raise TooLargeError(limit)
                    digest.update(chunk)
                    out.write(chunk)
            return tmp, digest.hexdigest(), size
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise

    async def put_finished(self, source: Path) -> tuple[str, int]:
        """Store a finished temp file (under tmp/, moved in) where every node reads it, as put_stream does for
        received bytes: hashed in a thread, acknowledged once stored."""
        size = source.stat().st_size
        sha256 = await asyncio.to_thread(file_sha256, source)
        return await self._store(source, sha256), size

    def _commit(self, tmp: Path, sha256: str) -> str:
        final = self.path(sha256)
        if final.exists():  # identical bytes are stored once
            tmp.unlink(missing_ok=True)
        else:
            final.parent.mkdir(parents=True, exist_ok=True)
            os.replace(tmp, final)
        return sha256

    def delete(self, sha256: str) -> None:
        self.path(sha256).unlink(missing_ok=True)

    def sweep_unreferenced(self, live: set[str], written_before: float) -> int:
        """Delete stored bytes no work file refers to, if written before `written_before` (a younger blob may
        belong to an upload whose record is being written)."""
        removed = 0
        for sha256 in self.all_hashes():
            if sha256 not in live:
                path = self.path(sha256)
                try:
                    if path.stat().st_mtime < written_before:
                        path.unlink()
                        removed += 1
                except FileNotFoundError:
                    pass
        return removed

    def all_hashes(self) -> list[str]:
        return [p.name for p in self.blobs.glob("*/*") if len(p.name) == 64]

    def clean_tmp(self, older_than: float) -> None:
        """Remove temp files a crash left behind."""
        limit = self.clock() - older_than
        for p in self.tmp.iterdir():
            try:
                if p.stat().st_mtime < limit:
                    shutil.rmtree(p) if p.is_dir() else p.unlink()
            except FileNotFoundError:
                pass


class CacheStore:
    """Derived files (converted PDFs, rendered pages) under a key of safe path segments."""

    def __init__(self, root: Path, tmp: Path, clock: Clock = system_clock):
        self.root = root
        self.tmp = tmp
        self.clock = clock
        root.mkdir(parents=True, exist_ok=True)

    def path(self, *segments: str) -> Path:
        for s in segments:
            if not s or "/" in s or "\\" in s or s in (".", "..") or "\x00" in s:
                raise ValueError(f"unsafe cache key segment: {s!r}")
        return self.root.joinpath(*segments)

    def write_bytes(self, path: Path, data: bytes) -> Path:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(dir=self.tmp)
        with os.fdopen(fd, "wb") as out:
            out.write(data)
        os.replace(name, path)
        return path

    def adopt(self, path: Path, finished: Path) -> Path:
        """Move a finished file (written elsewhere on the same filesystem) into place atomically."""
        path.parent.mkdir(parents=True, exist_ok=True)
        os.replace(finished, path)
        return path

    async def fetch_shared(self, directory: Path, names: tuple[str, ...]) -> bool:
        """Bring output another node published (see share) into `directory`; False when there is none. A
        directory on one volume is already shared, so there is never anything to fetch."""
        return False

    async def share(self, directory: Path, names: tuple[str, ...]) -> None:
        """Publish finished output for other nodes (nothing to do when they read the same directory)."""

    async def fetch_file(self, path: Path, group: Path) -> bool:
        """Bring one file another node published (publish_file) into `path`; False when there is none. `group`
        is a directory above it whose published names are looked up together (one listing, many lookups)."""
        return False

    def look_ahead(self, group: Path) -> None:
        """A hint: fetch_file will soon be asked about `group` (its lookup can start now, in the background)."""

    def publish_file(self, path: Path) -> None:
        """Offer a finished file to other nodes in the background, never delaying the caller (nothing to do
        when they read the same directory)."""

    async def settle(self) -> None:
        """Wait for the background publishing started so far (tests, shutdown)."""

    def remove_tree(self, *segments: str) -> None:
        shutil.rmtree(self.path(*segments), ignore_errors=True)

    def prune(self, scope: str, older_than: float) -> int:
        """Remove derived-output directories (one per content key) not written to for `older_than` seconds."""
        limit = self.clock() - older_than
        removed = 0
        base = self.root / scope
        for kind in ("pages", "converted"):
            for directory in (base / kind).glob("*"):
                try:
                    newest = max((p.stat().st_mtime for p in directory.rglob("*")), default=directory.stat().st_mtime)
                except FileNotFoundError:
                    continue
                if newest < limit:
                    shutil.rmtree(directory, ignore_errors=True)
                    removed += 1
        return removed


class HotFiles:
    """The most recently served small files, kept in memory so a cached page answers without touching the disk.
    Bounded by total bytes; entries under a removed directory are forgotten with it."""

    def __init__(self, budget: int = 128 << 20, largest: int = 4 << 20):
        from collections import OrderedDict
        self.budget = budget
        self.largest = largest
        self.used = 0
        self._entries: "OrderedDict[Path, bytes]" = OrderedDict()

    def get(self, path: Path) -> bytes | None:
        data = self._entries.get(path)
        if data is not None:
            self._entries.move_to_end(path)
            return data
        try:
            if path.stat().st_size > self.largest:
                return None
            data = path.read_bytes()
        except (FileNotFoundError, NotADirectoryError):
            return None
        self.put(path, data)
        return data

    def put(self, path: Path, data: bytes) -> None:
        if len(data) > self.largest:
            return
        old = self._entries.pop(path, None)
        if old is not None:
            self.used -= len(old)
        self._entries[path] = data
        self.used += len(data)
        while self.used > self.budget:
            _, evicted = self._entries.popitem(last=False)
            self.used -= len(evicted)

    def forget_under(self, directory: Path) -> None:
        for path in [p for p in self._entries if directory in p.parents]:
            self.used -= len(self._entries.pop(path))
