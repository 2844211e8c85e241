"""Chooses the blob and cache stores from the settings: the data directory (default) or an S3 bucket with the
data directory as this node's cache. Gives app.py one health check and one background task either way."""
from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, AsyncIterator, Callable

from ..clock import Clock
from ..config import Settings
from .blobs import BlobStore, CacheStore, StorageUnavailable

if TYPE_CHECKING:
    from .s3 import Bucket

log = logging.getLogger(__name__)

PROBE_INTERVAL = 5.0  # how often an S3 node checks the bucket for readiness


@dataclass
class Stores:
    blobs: BlobStore
    cache: CacheStore
    healthy: Callable[[], bool]   # for the health checks and readiness: answers without a network call
    background: Callable[[], AsyncIterator[None]] | None = None  # a cleanup context body, or None


def open_stores(settings: Settings, data_dir: Path, clock: Clock) -> Stores:
    if not settings.storage:
        blobs = BlobStore(data_dir, clock)
        return Stores(blobs, CacheStore(data_dir / "cache", blobs.tmp, clock), blobs.healthy)
    from .s3 import Bucket, S3BlobStore, S3CacheStore, S3Settings, trim_local  # boto3 only when used
    name, prefix = S3Settings.parse_url(settings.storage)
    bucket = Bucket(S3Settings(
        bucket=name, prefix=prefix, endpoint=settings.s3_endpoint, region=settings.s3_region,
        access_key_id=settings.s3_access_key_id, secret_access_key=settings.s3_secret_access_key,
        addressing_style=settings.s3_addressing_style, multipart_threshold=settings.s3_multipart_threshold,
        timeout=settings.s3_timeout))
    s3_blobs = S3BlobStore(data_dir, bucket, clock)
    try:
        share_secret(bucket, data_dir / "secret.key", s3_blobs.temp_path())
    except StorageUnavailable as exc:  # tokens then hold on this node only until it restarts with S3 up
        log.warning("could not share the installation secret through the bucket: %s", exc.message)
    cache = S3CacheStore(data_dir / "cache", s3_blobs.tmp, bucket, clock)

    async def background() -> AsyncIterator[None]:
        async def loop() -> None:
            rounds = 0
            while True:
                await asyncio.to_thread(bucket.probe)
                if rounds % 12 == 0:  # a directory walk: about once a minute
                    try:
                        await asyncio.to_thread(trim_local, data_dir, settings.local_cache_size, 60, time.time())
                    except OSError:
                        log.exception("trimming the local cache failed")
                rounds += 1
                await asyncio.sleep(PROBE_INTERVAL)
        task = asyncio.create_task(loop())
        yield
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task

    return Stores(s3_blobs, cache, s3_blobs.healthy, background)


def share_secret(bucket: "Bucket", path: Path, tmp: Path) -> None:
    """Nodes share no directory, so the installation secret (signing comparison continue tokens) lives in the
    bucket: the first node to start writes it (a conditional put), every node copies it into its data dir."""
    try:
        if not bucket.get_file("secret.key", tmp):
            tmp.write_bytes(secrets.token_bytes(32))
            bucket.put_file("secret.key", tmp, if_absent=True)
            if not bucket.get_file("secret.key", tmp):
                raise StorageUnavailable("the secret just written is not there")
        os.chmod(tmp, 0o600)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
