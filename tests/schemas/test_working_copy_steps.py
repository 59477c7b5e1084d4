"""Working copies of one object-store root used by separate steps (Celery workers), against moto: a partition
set staged across copies publishes once whole, concurrent pushes keep each other's index entries, and a run's
driver sweeps the open sets a crashed run left."""

import pytest

from schemas import publish as pub
from schemas import publish_store as ps
from schemas.object_cache import ObjectCache
from schemas.working_copy import open_working_copy
from tests.s3_server import list_keys

BUCKET = "longitude-steps-test"
KEYS = ("0", "1")


def _stage_shard(copy, key: str) -> None:
    """What a per-shard step does: stage its shard of the set `meds` and commit it (the last one publishes)."""
    part = pub.partition_stage(copy.dir / "meds", "build", key, KEYS, ["data/**"], [f"data/{key}.parquet"])
    part.path(f"data/{key}.parquet").parent.mkdir(parents=True, exist_ok=True)
    part.path(f"data/{key}.parquet").write_text(f"shard {key}")
    part.commit()


@pytest.mark.slow  # moto's server and an S3 client per test: ~4 s on 2 shared cores
def test_a_partition_set_staged_in_two_working_copies_publishes_once_whole(store, s3_env, tmp_path):
    cache = ObjectCache(tmp_path / "cache")
    first = open_working_copy(store.url, cache=cache, share_open=True)
    _stage_shard(first, "0")
    first.push()
    first.close()
    assert ps.read_pointer(store, "meds") is None  # half a set: nothing published
    assert list(ps.read_index(store).open) == [".meds.versions/open-build"]

    second = open_working_copy(
        store.url, cache=cache, share_open=True
    )  # another worker's copy: it sees shard 0 staged
    _stage_shard(second, "1")
    second.push()
    second.close()
    reader = open_working_copy(store.url, cache=cache)
    files = pub.dataset_files(reader.dir / "meds")
    assert [p.read_text() for p in files] == ["shard 0", "shard 1"]
    reader.close()
    assert ps.read_index(store).open == {}
    assert not [k for k in list_keys(s3_env, BUCKET) if "/open-" in k]  # the staged objects went too


@pytest.mark.slow
def test_concurrent_pushes_keep_each_others_index_entries_and_the_driver_sweeps_open_sets(store, tmp_path):
    cache = ObjectCache(tmp_path / "cache")
    a = open_working_copy(store.url, cache=cache)
    b = open_working_copy(
        store.url, cache=cache, share_open=True
    )  # pulled before `a` pushes: its view lacks what `a` adds
    (a.dir / "quality").mkdir()
    (a.dir / "quality" / "a.parquet").write_text("a")
    with pub.publishing(a.dir / "notes") as stage:
        stage.path("0.parquet").write_text("notes")
    a.push()
    (b.dir / "quality").mkdir()
    (b.dir / "quality" / "b.parquet").write_text("b")
    _stage_shard(b, "0")
    b.push()
    index = ps.read_index(store)
    assert index.datasets == ("notes",) and set(index.files) == {"quality/a.parquet", "quality/b.parquet"}
    assert list(index.open) == [".meds.versions/open-build"]
    a.close()
    b.close()
    run_copy = open_working_copy(store.url, cache=cache)  # a run's only copy: open sets are not its business
    assert not list(run_copy.dir.glob(".meds.versions/*"))
    run_copy.close()

    driver = open_working_copy(store.url, cache=cache, light=True)  # a new run's driver: single files only
    assert not (driver.dir / "notes").exists() and (driver.dir / "quality" / "b.parquet").exists()
    assert driver.sweep_open() == 3  # the shard, its done mark, the build mark the crashed run left
    assert ps.read_index(store).open == {}
    driver.close()
    worker = open_working_copy(store.url, cache=cache, share_open=True)
    assert not (worker.dir / "meds").exists() and not list((worker.dir / "meds").parent.glob(".meds.versions/*"))
    worker.close()
