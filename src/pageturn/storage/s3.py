"""Blobs and shared output in an S3 bucket, with this node's data directory as a size-bounded local cache.

Nodes then share nothing but the metadata store (Redis) and the bucket. Keys under the configured prefix:
  blobs/<sha256>                         stored documents (content-addressed, written once: If-None-Match: *)
  cache/<scope>/converted/<key>/<name>   converted documents other nodes may want (meta.json, document.pdf)
  cache/<scope>/<any other path>         other output published one file at a time (rendered pages, text):
                                         uploaded in the background after it is produced, looked for by one
                                         listing per group of files before it is produced again

Engines read local paths, so a blob or a converted document is fetched into the local cache on first use and
read from there afterwards. Every write goes to a temp file first and is renamed into place (locally) or
becomes visible only when its PUT or multipart upload completes (in S3): nothing half-written is ever seen.

boto3 is synchronous: every call here runs in a worker thread (asyncio.to_thread), as the directory store's
file work already does."""
from __future__ import annotations

import asyncio
import functools
import logging
import os
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, BinaryIO, Callable, Iterator, Sequence
from urllib.parse import urlparse

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from ..clock import Clock, system_clock
from .blobs import BlobStore, CacheStore, StorageUnavailable, file_sha256

log = logging.getLogger(__name__)

PART_SIZE = 8 << 20          # multipart part size (S3's minimum is 5 MiB)
PUBLISH_THREADS = 2          # background uploads of rendered output at once
MAX_PUBLISHING = 512         # queued background uploads beyond which new output is not published
LISTING_TTL = 5.0            # seconds a listing of published output is trusted
_ABSENT = {"404", "NoSuchKey", "NotFound"}
_EXISTS = {"412", "PreconditionFailed", "ConditionalRequestConflict", "409"}


@dataclass(frozen=True)
class S3Settings:
    bucket: str
    prefix: str = ""
    endpoint: str = ""              # empty: AWS's own endpoint for the region
    region: str = ""                # empty: AWS_REGION / AWS_DEFAULT_REGION / the config file
    access_key_id: str = ""         # empty: the standard AWS chain (environment, config files, instance role)
    secret_access_key: str = ""
    addressing_style: str = "auto"  # auto, path or virtual
    multipart_threshold: int = 16 << 20
    timeout: float = 10.0           # connect and read timeout of one request

    @staticmethod
    def parse_url(url: str) -> tuple[str, str]:
        """'s3://bucket/some/prefix' -> ('bucket', 'some/prefix/')."""
        parsed = urlparse(url)
        if parsed.scheme != "s3" or not parsed.netloc:
            raise ValueError(f"not an s3://bucket/prefix URL: {url!r}")
        prefix = parsed.path.strip("/")
        if parsed.query or parsed.fragment or ".." in prefix.split("/"):
            raise ValueError(f"not an s3://bucket/prefix URL: {url!r}")
        return parsed.netloc, (prefix + "/") if prefix else ""

    def __post_init__(self) -> None:
        if self.addressing_style not in ("auto", "path", "virtual"):
            raise ValueError(f"s3_addressing_style must be auto, path or virtual, not {self.addressing_style!r}")


def _code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


def _status(exc: ClientError) -> str:
    return str(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", ""))


def _absent(exc: ClientError) -> bool:
    return _code(exc) in _ABSENT or _status(exc) == "404"


class Bucket:
    """The bucket as this server uses it: small typed operations, every failure to reach it a
    StorageUnavailable, and a health flag readiness reads without a network call."""

    def __init__(self, settings: S3Settings):
        self.settings = settings
        config = Config(connect_timeout=settings.timeout, read_timeout=settings.timeout,
                        retries={"max_attempts": 2, "mode": "standard"},
                        s3={"addressing_style": settings.addressing_style},
                        # S3-compatible servers differ on the newer default checksums: send them only when needed
                        request_checksum_calculation="when_required", response_checksum_validation="when_required")
        kwargs: dict[str, Any] = {"config": config}
        if settings.endpoint:
            kwargs["endpoint_url"] = settings.endpoint
        if settings.region:
            kwargs["region_name"] = settings.region
        if settings.access_key_id:
            kwargs["aws_access_key_id"] = settings.access_key_id
            kwargs["aws_secret_access_key"] = settings.secret_access_key
        # a boto3 client is thread-safe once made; the session is not, so it is made here, once
        self.client = boto3.session.Session().client("s3", **kwargs)
        self.name = settings.bucket
        self.available = True

    def key(self, relative: str) -> str:
        return self.settings.prefix + relative

    def _call(self, what: str, fn: Callable[[], Any], *, absent_ok: bool = False, exists_ok: bool = False) -> Any:
        """Runs one request: None when absent (absent_ok) or already there (exists_ok); any other failure marks
        the bucket unavailable and raises StorageUnavailable."""
        try:
            result = fn()
        except ClientError as exc:
            if absent_ok and _absent(exc):
                self.available = True
                return None
            if exists_ok and (_code(exc) in _EXISTS or _status(exc) in _EXISTS):
                self.available = True
                return None
            self.available = False
            log.warning("S3 %s failed: %s", what, exc)
            raise StorageUnavailable(f"the object store refused {what}: {_code(exc) or _status(exc)}") from None
        except (BotoCoreError, OSError) as exc:
            self.available = False
            log.warning("S3 %s failed: %s", what, exc)
            raise StorageUnavailable(f"the object store is unreachable ({what})") from None
        self.available = True
        return result

    def probe(self) -> bool:
        try:
            self._call("a health check", lambda: self.client.head_bucket(Bucket=self.name))
        except StorageUnavailable:
            pass
        return self.available

    def exists(self, relative: str) -> bool:
        head = self._call("a lookup", lambda: self.client.head_object(Bucket=self.name, Key=self.key(relative)),
                          absent_ok=True)
        return head is not None

    def put_file(self, relative: str, path: Path, *, if_absent: bool) -> None:
        """Upload a file: one PUT below the multipart threshold, else a multipart upload read part by part.
        With `if_absent`, an object already there (another node stored the same bytes) is kept and no error."""
        size = path.stat().st_size
        key = self.key(relative)
        condition = {"IfNoneMatch": "*"} if if_absent else {}
        if size <= self.settings.multipart_threshold:
            with open(path, "rb") as body:
                self._call("an upload", lambda: self.client.put_object(
                    Bucket=self.name, Key=key, Body=body, ContentLength=size, **condition), exists_ok=if_absent)
            return
        if if_absent and self.exists(relative):  # skip sending hundreds of MB that are already there
            return
        upload = self._call("an upload", lambda: self.client.create_multipart_upload(Bucket=self.name, Key=key))
        upload_id = upload["UploadId"]
        try:
            parts = []
            with open(path, "rb") as source:
                for number, chunk in enumerate(_chunks(source, PART_SIZE), start=1):
                    answer = self._call("an upload", functools.partial(
                        self.client.upload_part, Bucket=self.name, Key=key, UploadId=upload_id, PartNumber=number,
                        Body=chunk))
                    parts.append({"PartNumber": number, "ETag": answer["ETag"]})
            # the object appears only now, whole; a conditional completion keeps the first of racing writers
            self._call("an upload", lambda: self.client.complete_multipart_upload(
                Bucket=self.name, Key=key, UploadId=upload_id, MultipartUpload={"Parts": parts}, **condition),
                exists_ok=if_absent)
        except BaseException:
            try:
                self.client.abort_multipart_upload(Bucket=self.name, Key=key, UploadId=upload_id)
            except (ClientError, BotoCoreError):
                pass  # a bucket lifecycle rule for incomplete uploads is the backstop (README)
            raise

    def get_file(self, relative: str, target: Path) -> bool:
        """Download to `target` (streamed); False when there is no such object."""
        answer = self._call("a download", lambda: self.client.get_object(Bucket=self.name, Key=self.key(relative)),
                            absent_ok=True)
        if answer is None:
            return False
        body = answer["Body"]
        try:
            with open(target, "wb") as out:
                for chunk in iter(lambda: body.read(1 << 20), b""):
                    out.write(chunk)
        except (BotoCoreError, OSError) as exc:
            self.available = False
            raise StorageUnavailable(f"the object store is unreachable (a download): {exc}") from None
        finally:
            body.close()
        return True

    def list(self, relative_prefix: str) -> Iterator[tuple[str, datetime]]:
        """(key relative to the prefix, last modified) of every object under a prefix."""
        paginator = self.client.get_paginator("list_objects_v2")
        pages = self._call("a listing", lambda: iter(paginator.paginate(Bucket=self.name,
                                                                          Prefix=self.key(relative_prefix))))
        while True:
            page = self._call("a listing", lambda: next(pages, None))
            if page is None:
                return
            for item in page.get("Contents", []):
                yield item["Key"][len(self.settings.prefix):], item["LastModified"]

    def delete(self, relatives: Sequence[str]) -> None:
        for start in range(0, len(relatives), 1000):  # DeleteObjects takes at most 1000 keys
            batch = [{"Key": self.key(r)} for r in relatives[start:start + 1000]]
            self._call("a deletion", functools.partial(
                self.client.delete_objects, Bucket=self.name, Delete={"Objects": batch, "Quiet": True}))


def _chunks(source: BinaryIO, size: int) -> Iterator[bytes]:
    return iter(lambda: source.read(size), b"")


def _touch(path: Path) -> None:
    """Mark a local copy as just read (the local cache evicts by last read)."""
    try:
        os.utime(path, (datetime.now().timestamp(), path.stat().st_mtime))
    except FileNotFoundError:
        pass


class S3BlobStore(BlobStore):
    """Content-addressed blobs in the bucket; `root` (the data directory) holds the local copies."""

    def __init__(self, root: Path, bucket: Bucket, clock: Clock = system_clock):
        super().__init__(root, clock)
        self.bucket = bucket
        self._fetching: dict[str, asyncio.Future[Path]] = {}

    @staticmethod
    def _key(sha256: str) -> str:
        return f"blobs/{sha256}"

    def healthy(self) -> bool:
        return self.bucket.available

    async def _store(self, tmp: Path, sha256: str) -> str:
        # acknowledged only once the bucket has it: a failure here leaves nothing behind and answers a 5xx
        await asyncio.to_thread(self.bucket.put_file, self._key(sha256), tmp, if_absent=True)
        return self._commit(tmp, sha256)  # the local copy, so this node reads it without a download

    async def local_path(self, sha256: str) -> Path:
        path = self.path(sha256)
        if path.exists():
            _touch(path)
            return path
        running = self._fetching.get(sha256)
        if running is None:  # one download per blob, however many requests want it at once
            running = asyncio.ensure_future(self._fetch(sha256, path))
            self._fetching[sha256] = running
            running.add_done_callback(lambda _f: self._fetching.pop(sha256, None))
        return await asyncio.shield(running)

    async def _fetch(self, sha256: str, path: Path) -> Path:
        tmp = self.temp_path()
        try:
            if not await asyncio.to_thread(self.bucket.get_file, self._key(sha256), tmp):
                return path  # gone: the caller sees a missing file, as with the directory store
            if await asyncio.to_thread(file_sha256, tmp) != sha256:
                raise StorageUnavailable("the object store returned bytes that do not match their name")
            path.parent.mkdir(parents=True, exist_ok=True)
            os.replace(tmp, path)
            return path
        finally:
            tmp.unlink(missing_ok=True)

    def delete(self, sha256: str) -> None:
        # only this node's copy: the object goes with the next sweep once no work file refers to it, which
        # keeps a request from waiting on the bucket and spares a blob another node has just referred to again
        self.path(sha256).unlink(missing_ok=True)

    def sweep_unreferenced(self, live: set[str], written_before: float) -> int:
        super().sweep_unreferenced(live, written_before)  # this node's copies
        try:
            stale = [key for key, modified in self.bucket.list("blobs/")
                     if key[len("blobs/"):] not in live and modified.timestamp() < written_before]
            self.bucket.delete(stale)
        except StorageUnavailable as exc:  # the next sweep tries again
            log.warning("could not sweep the bucket: %s", exc.message)
            return 0
        return len(stale)


class S3CacheStore(CacheStore):
    """Derived output in the local cache directory; what other nodes may want (converted documents, rendered
    pages, extracted text) is also published to the bucket so another node serves it without producing it
    again. Names only: what the files hold is the callers' business."""

    def __init__(self, root: Path, tmp: Path, bucket: Bucket, clock: Clock = system_clock):
        super().__init__(root, tmp, clock)
        self.bucket = bucket
        # publishing has threads of its own, so a burst of renders never takes the threads requests wait on
        self._publisher = ThreadPoolExecutor(PUBLISH_THREADS, thread_name_prefix="s3-publish")
        self._publishing: set[asyncio.Future[None]] = set()
        self._listings: dict[str, tuple[float, frozenset[str]]] = {}   # group -> (listed at, published names)
        self._listing: dict[str, asyncio.Future[frozenset[str]]] = {}

    # ---- single files (rendered output) ----------------------------------------------------------------------
    async def fetch_file(self, path: Path, group: Path) -> bool:
        if not self.bucket.available:  # an outage: render now rather than wait for timeouts (the probe says)
            return False
        relative = self._relative(path)
        try:
            if relative not in await self._published(self._relative(group)):
                return False
            tmp = _mkstemp(self.tmp)
            try:
                if not await asyncio.to_thread(self.bucket.get_file, relative, tmp):
                    return False  # removed since it was listed
                self.adopt(path, tmp)  # a rename: readers see the whole file or none
                return True
            finally:
                tmp.unlink(missing_ok=True)
        except StorageUnavailable:
            return False  # the caller produces it itself

    async def _published(self, group: str) -> frozenset[str]:
        """The names under a group, listed at most once per LISTING_TTL seconds (one request instead of a
        lookup per file; what another node publishes later is seen on the next listing)."""
        known = self._listings.get(group)
        if known is not None and known[0] > time.monotonic() - LISTING_TTL:
            return known[1]
        running = self._listing.get(group)
        if running is None:
            running = asyncio.ensure_future(asyncio.to_thread(self._list_names, group))
            self._listing[group] = running
            running.add_done_callback(lambda _f: self._listing.pop(group, None))
        names = await asyncio.shield(running)
        if len(self._listings) > 10_000:
            self._listings.clear()
        self._listings[group] = (time.monotonic(), names)
        return names

    def look_ahead(self, group: Path) -> None:
        relative = self._relative(group)
        known = self._listings.get(relative)
        fresh = known is not None and known[0] > time.monotonic() - LISTING_TTL
        if not self.bucket.available or relative in self._listing or fresh:
            return
        ahead = asyncio.ensure_future(self._published(relative))
        ahead.add_done_callback(lambda f: f.cancelled() or f.exception())  # an outage: fetch_file says so

    def _list_names(self, group: str) -> frozenset[str]:
        return frozenset(key for key, _ in self.bucket.list(group + "/"))

    def publish_file(self, path: Path) -> None:
        if len(self._publishing) >= MAX_PUBLISHING or not self.bucket.available:  # slow or away: kept local
            return
        relative = self._relative(path)

        def upload() -> None:
            if not self.bucket.available:  # it failed since this was queued: drop the queue quickly
                return
            try:
                self.bucket.put_file(relative, path, if_absent=False)  # a PUT: the object appears whole
            except StorageUnavailable as exc:
                log.debug("could not publish %s: %s", relative, exc.message)
            except FileNotFoundError:
                pass  # removed (session ended, cache trimmed) before its turn
        future = asyncio.get_running_loop().run_in_executor(self._publisher, upload)
        self._publishing.add(future)
        future.add_done_callback(self._publishing.discard)

    async def settle(self) -> None:
        while self._publishing:
            await asyncio.wait(set(self._publishing))

    def _relative(self, directory: Path) -> str:
        return "cache/" + directory.relative_to(self.root).as_posix()

    async def fetch_shared(self, directory: Path, names: tuple[str, ...]) -> bool:
        """Fetch `names` (the last one is the file whose presence means "done") into `directory`, published in
        the same order as share() uploads them. False when not published or the bucket is unreachable."""
        relative = self._relative(directory)
        fetched: list[Path] = []
        try:
            for name in reversed(names):  # the "done" file first: without it there is nothing to fetch
                tmp = _mkstemp(self.tmp)
                fetched.append(tmp)
                if not await asyncio.to_thread(self.bucket.get_file, f"{relative}/{name}", tmp):
                    return False
            directory.mkdir(parents=True, exist_ok=True)
            for name, tmp in zip(names, reversed(fetched)):  # then into place, "done" file last
                self.adopt(directory / name, tmp)
            return True
        except StorageUnavailable:
            return False
        finally:
            for tmp in fetched:
                tmp.unlink(missing_ok=True)

    async def share(self, directory: Path, names: tuple[str, ...]) -> None:
        relative = self._relative(directory)
        try:
            # another node that converted the same document may have published first: its files stay, so a
            # reader never mixes one node's PDF with the other's facts (short of both finishing at once)
            if await asyncio.to_thread(self.bucket.exists, f"{relative}/{names[-1]}"):
                return
            for name in names:  # in order: the last one tells readers the rest is there
                await asyncio.to_thread(self.bucket.put_file, f"{relative}/{name}", directory / name,
                                        if_absent=False)
        except StorageUnavailable as exc:  # this node still serves it; others convert again
            log.warning("could not publish %s: %s", relative, exc.message)

    def remove_tree(self, *segments: str) -> None:
        super().remove_tree(*segments)
        relative = self._relative(self.path(*segments)) + "/"
        for group in [g for g in list(self._listings) if (g + "/").startswith(relative)]:
            self._listings.pop(group, None)

        def remove_shared() -> None:
            try:
                self.bucket.delete([key for key, _ in self.bucket.list(relative)])
            except StorageUnavailable:
                pass  # the sweep's prune or the bucket lifecycle rule removes it later
        try:
            asyncio.get_running_loop().run_in_executor(None, remove_shared)
        except RuntimeError:  # called from a thread (the sweep): wait for it
            remove_shared()

    def prune(self, scope: str, older_than: float) -> int:
        removed = super().prune(scope, older_than)
        limit = self.clock() - older_than
        try:
            # every scope: a private session's output published just after its session ended is caught here
            stale = [key for key, modified in self.bucket.list("cache/") if modified.timestamp() < limit]
            self.bucket.delete(stale)
        except StorageUnavailable:
            pass
        return removed


def _mkstemp(directory: Path) -> Path:
    fd, name = tempfile.mkstemp(dir=directory)
    os.close(fd)
    return Path(name)


def trim_local(root: Path, budget: int, keep_newer_than: float, now: float) -> int:
    """Evict the least recently read local copies (blobs and cached output) until the total is within
    `budget` bytes; a file read in the last `keep_newer_than` seconds is kept (it may be in use).
    Only for a node whose data directory is a cache of the bucket."""
    files = []
    total = 0
    for sub in ("blobs", "cache"):
        for dirpath, _dirs, names in os.walk(root / sub):
            for name in names:
                if name == "meta.json":  # tiny, and read with the document it describes
                    continue
                path = Path(dirpath) / name
                try:
                    st = path.stat()
                except FileNotFoundError:
                    continue
                files.append((max(st.st_atime, st.st_mtime), st.st_size, path))
                total += st.st_size
    removed = 0
    files.sort()
    for used, size, path in files:
        if total <= budget:
            break
        if used > now - keep_newer_than:
            continue
        path.unlink(missing_ok=True)
        total -= size
        removed += 1
    return removed


