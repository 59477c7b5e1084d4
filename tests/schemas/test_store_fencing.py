"""Fencing and the index's compare-and-swap on an object-store root, against moto's S3 server: a worker of a run
whose lease was taken over publishes nothing (its version objects removed, the root showing the new holder's
version only), a push whose lease check came just before the takeover is refused by the conditional pointer
PUT, and many concurrent index updates are all kept."""

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from schemas import publish as pub
from schemas import publish_store as ps
from schemas.store_lease import LEASE_KEY, Fence, LeaseLostError, hold_lease, take_lease
from schemas.working_copy import open_working_copy
from tests.s3_server import list_keys

BUCKET = "longitude-fencing"


def _publish(copy, dataset: str, text: str) -> str:
    """What a step does in its working copy: publish a new version of `dataset`; returns its vid."""
    with pub.publishing(copy.dir / dataset) as stage:
        stage.path("data/0.parquet").parent.mkdir(parents=True, exist_ok=True)
        stage.path("data/0.parquet").write_text(text)
    return pub.current_version(copy.dir / dataset).name


def _keys(store, s3_env) -> list[str]:
    prefix = store.url.split("/", 3)[3] + "/"
    return [k.removeprefix(prefix) for k in list_keys(s3_env, BUCKET) if k.startswith(prefix)]


def _contents(store, dataset: str) -> list[bytes]:
    return [store.read(key) for key in ps.dataset_keys(store, dataset).values()]


@pytest.mark.slow  # moto's server, a stale lease (4.5 s) and three working copies: ~8 s on 2 shared cores
def test_a_worker_of_a_run_whose_lease_was_taken_over_publishes_nothing(store, s3_env, tmp_path):
    from pipelines.run_fence import fence_of_run, lease_tags

    old = take_lease(store, command="longitude materialize", ttl_s=3.0)
    old._stop.set()  # the driver stalled: no more heartbeats
    fence = fence_of_run(store, lease_tags(old))  # what pipelines.celery_steps gives a step's copy
    fence.check()  # its step starts while the lease is still the run's
    worker = open_working_copy(store.url, temp_dir=tmp_path, share_open=True)
    worker.lease = fence
    stale_vid = _publish(worker, "meds", "stale")
    (worker.dir / "quality").mkdir()
    (worker.dir / "quality" / "stale.json").write_text("{}")
    time.sleep(4.5)  # past the lease's ttl by the store's clock (1 s resolution)

    with hold_lease(store, command="longitude materialize") as new:  # a second driver takes the root over
        heir = open_working_copy(store.url, temp_dir=tmp_path)
        heir.lease = new
        new_vid = _publish(heir, "meds", "new")
        heir.push()
        heir.close()
        with pytest.raises(LeaseLostError) as refused:
            worker.push()
        message = str(refused.value)
        assert "\n" not in message and message.startswith(f"{store.url}: ") and LEASE_KEY in message
        assert "stale" not in message and old.token not in message  # names the root and the lease, no value
        worker.close()

        assert ps.read_pointer(store, "meds").version == new_vid and _contents(store, "meds") == [b"new"]
        index = ps.read_index(store)
        assert index.datasets == ("meds",) and "quality/stale.json" not in index.files
        assert not [k for k in _keys(store, s3_env) if stale_vid in k or k.startswith("quality/")]


@pytest.mark.slow
def test_a_push_checked_just_before_a_takeover_is_refused_by_the_conditional_pointer_put(store, s3_env, tmp_path):
    with hold_lease(store) as first:
        seed = open_working_copy(store.url, temp_dir=tmp_path)
        seed.lease = first
        _publish(seed, "meds", "v0")
        seed.push()
        seed.close()
    late = open_working_copy(store.url, temp_dir=tmp_path)  # a step pulled the root at v0 ...
    late_vid = _publish(late, "meds", "late")
    other = open_working_copy(store.url, temp_dir=tmp_path)  # another, with a dataset none had published then
    late_first = _publish(other, "notes", "late")
    with hold_lease(store) as new:  # ... then the root changed hands and the new holder published both
        heir = open_working_copy(store.url, temp_dir=tmp_path)
        heir.lease = new
        heir_vid = _publish(heir, "meds", "heir")
        heir_notes = _publish(heir, "notes", "heir")
        heir.push()
        heir.close()
    # The late step's lease check passed a moment before the takeover (no fence here): the PUTs themselves
    # are conditional on what it read, so it is refused all the same, and removes what it uploaded.
    with pytest.raises(ps.PublishConflictError) as refused:
        late.push()
    assert "\n" not in str(refused.value) and str(refused.value).startswith(f"{store.url}/meds.pointer.json: ")
    with pytest.raises(ps.PublishConflictError, match=r"notes\.pointer\.json"):  # its PUT was If-None-Match: *
        other.push()
    late.close()
    other.close()
    assert ps.read_pointer(store, "meds").version == heir_vid and _contents(store, "meds") == [b"heir"]
    assert ps.read_pointer(store, "notes").version == heir_notes
    assert not [k for k in _keys(store, s3_env) if late_vid in k or late_first in k]


@pytest.mark.slow
def test_a_fence_holds_only_for_the_current_fresh_lease_of_its_token(store):
    lease = take_lease(store, ttl_s=2.0)
    Fence(store, lease.token).check()
    with pytest.raises(LeaseLostError, match="taken over"):
        Fence(store, "0123456789abcdef").check()
    lease._stop.set()  # stops renewing
    time.sleep(2.2)
    with pytest.raises(LeaseLostError, match="not renewed"):
        Fence(store, lease.token).check()
    lease._stop.clear()
    lease.release()
    with pytest.raises(LeaseLostError, match="released or taken over"):
        Fence(store, lease.token).check()


@pytest.mark.slow  # 24 writers racing on one object: ~6 s on 2 shared cores
def test_many_concurrent_index_updates_are_all_kept(store, monkeypatch):
    writers = 24
    lost_races = []
    replace = type(store).replace

    def counting(self, key, data, tag):
        out = replace(self, key, data, tag)
        if out is None:
            lost_races.append(key)
        return out

    monkeypatch.setattr(type(store), "replace", counting)
    start = threading.Barrier(writers)

    def update(i: int) -> None:
        start.wait()  # all at once: the read-modify-write windows overlap
        ps.update_index(
            store, lambda index: ps.RootIndex(index.datasets, {**index.files, f"quality/{i}.json": i}, index.open)
        )

    with ThreadPoolExecutor(writers) as pool:
        list(pool.map(update, range(writers)))
    assert ps.read_index(store).files == {f"quality/{i}.json": i for i in range(writers)}
    assert lost_races  # the writers did collide: each loser reread and reapplied


@pytest.mark.slow
def test_working_copies_pushing_at_once_keep_every_single_file(store, tmp_path):
    copies = [open_working_copy(store.url, temp_dir=tmp_path) for _ in range(6)]
    for i, copy in enumerate(copies):  # sibling checks in six workers, each writing its own result
        (copy.dir / "quality" / "checks").mkdir(parents=True)
        (copy.dir / "quality" / "checks" / f"{i}.json").write_text(str(i))
    start = threading.Barrier(len(copies))

    def push(copy) -> int:
        start.wait()
        return copy.push()

    with ThreadPoolExecutor(len(copies)) as pool:
        assert list(pool.map(push, copies)) == [1] * len(copies)
    assert set(ps.read_index(store).files) == {f"quality/checks/{i}.json" for i in range(len(copies))}
    for copy in copies:
        copy.close()
