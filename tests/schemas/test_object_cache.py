"""The working copies' persistent object cache, against a local S3 API server (moto): a second pull downloads
only what changed, a damaged or half-downloaded object is never used, concurrent pulls share it, it stays bounded."""

import os
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from schemas import publish as pub
from schemas import publish_store as ps
from schemas.object_cache import CacheError, ObjectCache, cache_from_env
from schemas.store import ObjectStore, StoreError
from schemas.working_copy import open_working_copy

BUCKET = "longitude-cache-test"
SHARDS = {f"data/train/{i}.parquet": f"shard {i} " * 200 for i in range(4)}


@pytest.fixture
def cache(tmp_path: Path) -> ObjectCache:
    return ObjectCache(tmp_path / "cache")


def _root(store: ObjectStore) -> None:
    """A root of one dataset (four shards and metadata), a single file and a delivered landing file."""
    copy = open_working_copy(store.url, cache=None)
    with pub.publishing(copy.dir / "meds") as stage:
        for rel, text in {**SHARDS, "metadata/codes.parquet": "codes"}.items():
            stage.path(rel).parent.mkdir(parents=True, exist_ok=True)
            stage.path(rel).write_text(text)
    (copy.dir / "landing").mkdir()
    (copy.dir / "landing" / "p1.json").write_text("{}" * 100)
    (copy.dir / "longitude.json").write_text('{"n_shards": 4}')
    copy.push()
    copy.close()


def _amend_one_shard(store: ObjectStore, cache: ObjectCache) -> None:
    copy = open_working_copy(store.url, cache=cache)
    with pub.publishing(copy.dir / "meds", keep_except=["data/train/3.parquet"]) as stage:
        stage.path("data/train/3.parquet").parent.mkdir(parents=True, exist_ok=True)
        stage.path("data/train/3.parquet").write_text("shard 3, amended")
    assert copy.push() == 1
    copy.close()


def _contents(copy) -> dict[str, str]:
    return {
        p.relative_to(copy.dir / "meds").as_posix(): p.read_text() for p in pub.dataset_files(copy.dir / "meds")
    }


@pytest.mark.slow  # moto's server and an S3 client per test: ~4 s on 2 shared cores
def test_a_second_pull_downloads_only_the_mutable_objects_and_what_changed(store, cache):
    _root(store)
    first = open_working_copy(store.url, cache=cache)
    # 5 version files, the manifest, the landing file, longitude.json
    assert (first.stats.downloaded, first.stats.cached) == (8, 0)
    expected = _contents(first)
    first.close()

    again = open_working_copy(store.url, cache=cache)
    assert (again.stats.downloaded, again.stats.cached) == (0, 8)  # the index and the pointer only
    assert _contents(again) == expected and (again.dir / "landing" / "p1.json").read_text() == "{}" * 100
    assert again.push() == 0  # files from the cache are the working copy's own, in sync
    # a single file is a copy (its writer may append to it in place): the cache's entry is not touched
    with open(again.dir / "longitude.json", "a", encoding="utf-8") as fh:
        fh.write(" ")
    assert again.push() == 1
    again.close()

    _amend_one_shard(store, cache)  # a new version: 4 of its 5 files are the previous version's bytes
    changed = open_working_copy(store.url, cache=cache)
    # unchanged shards are hits by content although their keys (the new version's) are new; the amended shard
    # and the new manifest are hits too: the push that published them put them in the cache
    assert (changed.stats.downloaded, changed.stats.cached) == (0, 8), changed.stats
    assert _contents(changed) == {**expected, "data/train/3.parquet": "shard 3, amended"}
    changed.close()
    elsewhere = open_working_copy(store.url, cache=ObjectCache(cache.dir.parent / "another-machine"))
    assert _contents(elsewhere) == {**expected, "data/train/3.parquet": "shard 3, amended"}
    assert (elsewhere.stats.downloaded, elsewhere.stats.cached) == (8, 0)
    elsewhere.close()


@pytest.mark.slow
def test_a_half_downloaded_or_damaged_object_is_never_used(store, cache, monkeypatch):
    _root(store)
    key = ps.dataset_keys(store, "meds")["data/train/0.parquet"]
    real_download = ObjectStore.download

    def dies_midway(self, files):  # the connection drops after part of one object arrived
        for k, dest in files.items():
            if k == key:
                dest.parent.mkdir(parents=True, exist_ok=True)
                dest.write_bytes(b"shard 0 sh")
                raise StoreError(f"{self.url}/{k}: ConnectionError from the object store")
        return real_download(self, files)

    monkeypatch.setattr(ObjectStore, "download", dies_midway)
    with pytest.raises(StoreError):
        open_working_copy(store.url, cache=cache)
    monkeypatch.setattr(ObjectStore, "download", real_download)
    assert list((cache.dir / "tmp").iterdir()) == []  # the partial download is gone, and it made no entry
    copy = open_working_copy(store.url, cache=cache)
    assert _contents(copy)["data/train/0.parquet"] == SHARDS["data/train/0.parquet"]
    copy.close()

    # an object whose bytes are not what the pointer records (size kept, content changed) is refused
    store.write(key, SHARDS["data/train/0.parquet"].replace("shard", "SHARD").encode())
    with pytest.raises(StoreError, match=r"data/train/0\.parquet: sha256 differs from the pointer's"):
        open_working_copy(store.url, cache=ObjectCache(cache.dir.parent / "fresh"))
    # the cache verified its entry when it made it: a reader through it still gets the published bytes
    copy = open_working_copy(store.url, cache=cache)
    assert _contents(copy)["data/train/0.parquet"] == SHARDS["data/train/0.parquet"]
    copy.close()


@pytest.mark.slow
def test_an_entry_written_to_is_dropped_and_fetched_again(store, cache):
    _root(store)
    open_working_copy(store.url, cache=cache).close()
    entries = [p for p in (cache.dir / "content").rglob("*") if p.is_file()]
    assert entries and all(not p.stat().st_mode & 0o222 for p in entries)  # read-only: a writer must chmod
    victim = entries[0]
    victim.chmod(0o644)
    victim.write_bytes(victim.read_bytes()[:-1] + b"!")
    copy = open_working_copy(store.url, cache=cache)
    assert copy.stats.downloaded == 1  # the damaged entry's object
    assert sorted(_contents(copy).values()) == sorted([*SHARDS.values(), "codes"])
    copy.close()


@pytest.mark.slow
def test_concurrent_pulls_share_the_cache(store, cache):
    _root(store)
    with ThreadPoolExecutor(4) as pool:
        copies = list(pool.map(lambda _: open_working_copy(store.url, cache=cache), range(4)))
    try:
        assert all(_contents(c) == _contents(copies[0]) for c in copies)
        assert len(_contents(copies[0])) == 5
    finally:
        for c in copies:
            c.close()
    entries = [p for p in (cache.dir / "content").rglob("*") if p.is_file()]
    assert len(entries) == 6 and list((cache.dir / "tmp").iterdir()) == []  # 5 version files, longitude.json


@pytest.mark.slow
def test_the_cache_stays_bounded_least_recently_used_first(store, tmp_path):
    _root(store)
    entry_bytes = len(SHARDS["data/train/0.parquet"])
    small = ObjectCache(tmp_path / "small", max_bytes=3 * entry_bytes)
    copy = open_working_copy(store.url, cache=small)
    assert copy.stats.evicted > 0 and small.size() <= 0.8 * small.max_bytes
    assert len(_contents(copy)) == 5  # the run's own links survive the collection
    copy.close()
    stale = small.dir / "tmp" / "killed-download.part"
    stale.write_bytes(b"x")
    os.utime(stale, (time.time() - 3 * 86400,) * 2)
    small.collect()
    assert not stale.exists()


def test_the_cache_dir_is_configured_absolute_or_off_and_never_the_working_directory(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert cache_from_env({"LONGITUDE_CACHE_DIR": "off"}) is None
    assert cache_from_env({"LONGITUDE_CACHE_DIR": str(tmp_path / "c"), "LONGITUDE_CACHE_MAX_GB": "0.5"}) == (
        ObjectCache(tmp_path / "c", 512 * 1024**2)
    )
    with pytest.raises(CacheError, match="LONGITUDE_CACHE_DIR must be an absolute path"):
        cache_from_env({"LONGITUDE_CACHE_DIR": "cache"})
    with pytest.raises(CacheError, match="LONGITUDE_CACHE_MAX_GB must be a number"):
        cache_from_env({"LONGITUDE_CACHE_DIR": "/c", "LONGITUDE_CACHE_MAX_GB": "lots"})
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert cache_from_env({}) == ObjectCache(tmp_path / "xdg" / "longitude")
    assert list(tmp_path.iterdir()) == []
