"""The S3 blob and cache stores against a real S3 server (SeaweedFS started by the `s3` fixture): uploads
(single PUT and multipart), a node with an empty cache fetching what another stored, the sweep and session
removal deleting in the bucket, and conversions published for other nodes."""
from __future__ import annotations

import asyncio
import hashlib
import os
import time
from pathlib import Path

import pytest

from pageturn.storage.blobs import StorageUnavailable
from pageturn.storage.s3 import Bucket, S3BlobStore, S3CacheStore, S3Settings, trim_local
from s3server import ACCESS_KEY, SECRET_KEY


def _bucket(s3, prefix: str, threshold: int = 1 << 20, endpoint: str | None = None) -> Bucket:
    return Bucket(S3Settings(bucket="pageturn", prefix=prefix, endpoint=endpoint or s3.endpoint, region="us-east-1",
                             access_key_id=ACCESS_KEY, secret_access_key=SECRET_KEY, addressing_style="path",
                             multipart_threshold=threshold, timeout=2))


async def _chunks(data: bytes, size: int = 1 << 16):
    for start in range(0, len(data), size):
        yield data[start:start + size]


@pytest.fixture
def prefix() -> str:
    return f"unit-{os.urandom(6).hex()}/"


@pytest.mark.parametrize("size", [300_000, 12 << 20], ids=["single-put", "multipart"])
def test_a_node_with_an_empty_cache_reads_what_another_stored(s3, tmp_path, prefix, size):
    data = os.urandom(size)
    one = S3BlobStore(tmp_path / "one", _bucket(s3, prefix))
    two = S3BlobStore(tmp_path / "two", _bucket(s3, prefix))
    sha, stored = asyncio.run(one.put_stream(_chunks(data), 1 << 30))
    assert (sha, stored) == (hashlib.sha256(data).hexdigest(), size)
    assert s3.keys(prefix) == [f"{prefix}blobs/{sha}"]
    assert one.path(sha).read_bytes() == data        # the storing node keeps a local copy
    assert not two.path(sha).exists()
    assert asyncio.run(two.local_path(sha)).read_bytes() == data
    assert not list(two.tmp.iterdir()) and not list(one.tmp.iterdir())
    # storing the same bytes again is no error and leaves the one object
    assert asyncio.run(two.put_stream(_chunks(data), 1 << 30))[0] == sha
    assert s3.keys(prefix) == [f"{prefix}blobs/{sha}"]


def test_unknown_blob_is_a_missing_local_file(s3, tmp_path, prefix):
    store = S3BlobStore(tmp_path, _bucket(s3, prefix))
    assert not asyncio.run(store.local_path("0" * 64)).exists()


def test_sweep_deletes_unreferenced_objects_in_the_bucket(s3, tmp_path, prefix):
    store = S3BlobStore(tmp_path, _bucket(s3, prefix))
    kept, _ = asyncio.run(store.put_stream(_chunks(b"kept bytes"), 1000))
    dropped, _ = asyncio.run(store.put_stream(_chunks(b"dropped bytes"), 1000))
    store.sweep_unreferenced({kept, dropped}, time.time() + 120)
    assert len(s3.keys(prefix + "blobs/")) == 2
    store.sweep_unreferenced({kept}, time.time() - 120)  # too young: an upload may be writing its record
    assert len(s3.keys(prefix + "blobs/")) == 2
    store.sweep_unreferenced({kept}, time.time() + 120)
    assert s3.keys(prefix + "blobs/") == [f"{prefix}blobs/{kept}"]
    assert not store.path(dropped).exists() and store.path(kept).exists()


def test_conversions_are_published_for_other_nodes_and_removed_with_their_session(s3, tmp_path, prefix):
    names = ("meta.json", "document.pdf")
    bucket = _bucket(s3, prefix)
    one = S3CacheStore(tmp_path / "one" / "cache", _tmp(tmp_path / "one"), bucket)
    two = S3CacheStore(tmp_path / "two" / "cache", _tmp(tmp_path / "two"), bucket)
    directory = one.path("s-abc", "converted", "key1")
    directory.mkdir(parents=True)
    (directory / "meta.json").write_text('{"pageCount": 3}')
    (directory / "document.pdf").write_bytes(b"%PDF-1.4 converted")
    other = two.path("s-abc", "converted", "key1")
    assert not asyncio.run(two.fetch_shared(other, names))  # not published yet
    asyncio.run(one.share(directory, names))
    assert asyncio.run(two.fetch_shared(other, names))
    assert (other / "document.pdf").read_bytes() == b"%PDF-1.4 converted"
    assert (other / "meta.json").read_text() == '{"pageCount": 3}'
    # a second node publishing the same conversion leaves the first's files (never a mix of the two)
    (other / "meta.json").write_text('{"pageCount": 4}')
    (other / "document.pdf").write_bytes(b"%PDF-1.4 converted again")
    asyncio.run(two.share(other, names))
    again = tmp_path / "three" / "cache"
    three = S3CacheStore(again, _tmp(tmp_path / "three"), bucket)
    assert asyncio.run(three.fetch_shared(three.path("s-abc", "converted", "key1"), names))
    assert (three.path("s-abc", "converted", "key1") / "meta.json").read_text() == '{"pageCount": 3}'
    two.remove_tree("s-abc")  # no event loop here: removed before it returns
    assert not other.exists() and s3.keys(prefix + "cache/s-abc/") == []


def test_single_files_are_published_in_the_background_and_fetched_by_another_node(s3, tmp_path, prefix):
    bucket = _bucket(s3, prefix)
    one = S3CacheStore(tmp_path / "one" / "cache", _tmp(tmp_path / "one"), bucket)
    two = S3CacheStore(tmp_path / "two" / "cache", _tmp(tmp_path / "two"), bucket)
    group = ("s-abc", "pages", "content1")
    page, text = one.path(*group, "0", "page.png-d1"), one.path(*group, "0", "text.json")
    one.write_bytes(page, b"\x89PNG rendered on one")
    one.write_bytes(text, b'{"text": "hello"}')

    async def run() -> None:
        # before anything is published: not there (and the empty listing is remembered a few seconds)
        assert not await two.fetch_file(two.path(*group, "0", "page.png-d1"), two.path(*group))
        one.publish_file(page)
        one.publish_file(text)
        await one.settle()
        assert sorted(s3.keys(prefix + "cache/")) == [f"{prefix}cache/s-abc/pages/content1/0/page.png-d1",
                                                       f"{prefix}cache/s-abc/pages/content1/0/text.json"]
        two._listings.clear()  # as after LISTING_TTL
        target = two.path(*group, "0", "page.png-d1")
        assert await two.fetch_file(target, two.path(*group))
        assert target.read_bytes() == b"\x89PNG rendered on one"
        assert not await two.fetch_file(two.path(*group, "1", "page.png-d1"), two.path(*group))
        assert not list(two.tmp.iterdir())
    asyncio.run(run())
    two.remove_tree("s-abc")
    assert s3.keys(prefix + "cache/") == [] and not two.path("s-abc").exists()


def test_publishing_a_file_removed_before_its_turn_is_no_error(s3, tmp_path, prefix):
    cache = S3CacheStore(tmp_path / "cache", _tmp(tmp_path), _bucket(s3, prefix))
    path = cache.write_bytes(cache.path("shared", "pages", "c", "0", "page.svg-x"), b"<svg/>")

    async def run() -> None:
        path.unlink()  # e.g. its session ended between the render and the upload's turn
        cache.publish_file(path)
        await cache.settle()
    asyncio.run(run())
    assert s3.keys(prefix) == []


def test_rendered_output_is_neither_looked_up_nor_published_while_the_bucket_is_away(tmp_path, prefix, s3):
    dead = Bucket(S3Settings(bucket="pageturn", endpoint="http://127.0.0.1:9", region="us-east-1",
                             access_key_id=ACCESS_KEY, secret_access_key=SECRET_KEY, timeout=1))
    cache = S3CacheStore(tmp_path / "cache", _tmp(tmp_path), dead)
    group = cache.path("shared", "pages", "c")
    path = cache.write_bytes(group / "0" / "page.png-x", b"\x89PNG")

    async def run() -> None:
        assert not await cache.fetch_file(group / "1" / "page.png-x", group)  # one failed listing...
        assert not dead.available
        cache.look_ahead(group)
        cache.publish_file(path)
        assert not cache._listing and not cache._publishing  # ... and then nothing is even tried
        assert not await cache.fetch_file(group / "1" / "page.png-x", group)
    asyncio.run(run())


def test_prune_deletes_old_shared_output_in_the_bucket(s3, tmp_path, prefix):
    cache = S3CacheStore(tmp_path / "cache", _tmp(tmp_path), _bucket(s3, prefix), clock=lambda: time.time() + 7200)
    directory = cache.path("shared", "converted", "k")
    directory.mkdir(parents=True)
    (directory / "document.pdf").write_bytes(b"%PDF")
    asyncio.run(cache.share(directory, ("document.pdf",)))
    assert s3.keys(prefix + "cache/shared/")
    cache.prune("shared", 3600)
    assert s3.keys(prefix + "cache/shared/") == [] and not directory.exists()


def test_an_unreachable_bucket_refuses_the_upload_and_leaves_nothing(tmp_path, prefix, s3):
    dead = Bucket(S3Settings(bucket="pageturn", endpoint="http://127.0.0.1:9", region="us-east-1",
                             access_key_id=ACCESS_KEY, secret_access_key=SECRET_KEY, timeout=1))
    store = S3BlobStore(tmp_path, dead)
    with pytest.raises(StorageUnavailable):
        asyncio.run(store.put_stream(_chunks(b"never stored"), 1000))
    assert not store.healthy()
    assert not list(store.tmp.iterdir()) and store.all_hashes() == []
    assert store.sweep_unreferenced(set(), time.time()) == 0  # a sweep during the outage is no error


def test_the_local_cache_evicts_the_least_recently_read(tmp_path):
    old, new = tmp_path / "blobs" / "aa" / "old", tmp_path / "cache" / "shared" / "new"
    for path in (old, new):
        path.parent.mkdir(parents=True)
        path.write_bytes(b"x" * 1000)
    now = time.time()
    os.utime(old, (now - 3600, now - 3600))
    os.utime(new, (now - 600, now - 3600))  # written long ago, read ten minutes ago
    assert trim_local(tmp_path, 1500, 60, now) == 1
    assert new.exists() and not old.exists()
    assert trim_local(tmp_path, 0, 3600, now) == 0  # read within the last hour: kept however full


def _tmp(root: Path) -> Path:
    (root / "tmp").mkdir(parents=True, exist_ok=True)
    return root / "tmp"


def test_storage_urls_and_settings_are_checked():
    assert S3Settings.parse_url("s3://bucket") == ("bucket", "")
    assert S3Settings.parse_url("s3://bucket/a/b/") == ("bucket", "a/b/")
    for bad in ("bucket/prefix", "http://bucket/p", "s3:///p", "s3://b/p?x=1", "s3://b/../p"):
        with pytest.raises(ValueError):
            S3Settings.parse_url(bad)
    with pytest.raises(ValueError):
        S3Settings(bucket="b", addressing_style="sideways")
