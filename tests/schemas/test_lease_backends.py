"""The run lease, the fence and the index's compare-and-swap on gs:// and abfs:// roots, against local emulators
(fake-gcs-server; Azurite), the same checks as on S3 (tests/schemas/test_store_lease.py, test_store_fencing.py):
a second run is refused, a stale lease is taken over once and its old holder can neither renew nor remove it,
a worker fenced by the old token publishes nothing, and concurrent index updates are all kept. A backend
whose emulator is not installed is skipped, saying which."""

import re
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from schemas import publish as pub
from schemas import publish_store as ps
from schemas.store import ObjectStore
from schemas.store_lease import LEASE_KEY, Fence, LeaseLostError, RootLeasedError, hold_lease, take_lease
from schemas.working_copy import open_working_copy
from tests.store_servers import schemes, store_server

BUCKET = "longitude-backends"


@pytest.fixture(scope="module", params=schemes("gs", "abfs"))
def backend_env(request):
    with store_server(request.param, BUCKET) as env:
        yield request.param, env


@pytest.fixture
def store(backend_env, monkeypatch: pytest.MonkeyPatch, request) -> ObjectStore:
    scheme, env = backend_env
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    return ObjectStore(f"{scheme}://{BUCKET}/{request.node.originalname}")


@pytest.mark.slow  # an emulator and a stale lease (2.5 s): ~5 s on 2 shared cores
def test_a_lease_is_exclusive_taken_over_once_when_stale_and_never_removed_by_its_old_holder(store):
    dead = take_lease(store, command="longitude materialize", ttl_s=1.0)
    with pytest.raises(RootLeasedError, match=f"^{store.url} is being written by pid"):
        take_lease(store)
    dead._stop.set()  # its process "died": no more heartbeats, no release
    time.sleep(2.5)
    seen = []
    with hold_lease(store, on_takeover=lambda holder, age: seen.append(holder.command)) as heir:
        assert seen == ["longitude materialize"]
        with pytest.raises(RootLeasedError):  # the heir's lease is fresh: no second takeover
            take_lease(store)
        dead.renew()  # conditional on its old tag: refused
        with pytest.raises(LeaseLostError, match="expired or was taken over"):
            dead.check()
        dead._stop.clear()
        dead.release()  # conditional too: the heir's lease stays
        heir.check()
        Fence(store, heir.token).check()
        with pytest.raises(LeaseLostError, match="taken over"):
            Fence(store, dead.token).check()
    assert store.read(LEASE_KEY) is None  # released by its holder


@pytest.mark.slow
def test_a_worker_fenced_by_a_lost_lease_publishes_nothing(store, tmp_path):
    old = take_lease(store, ttl_s=3.0)
    old._stop.set()
    worker = open_working_copy(store.url, temp_dir=tmp_path, cache=None, share_open=True)
    worker.lease = Fence(store, old.token)
    with pub.publishing(worker.dir / "meds") as stage:
        stage.path("0.parquet").write_text("stale")
    time.sleep(4.5)
    with hold_lease(store) as new:
        heir = open_working_copy(store.url, temp_dir=tmp_path, cache=None)
        heir.lease = new
        with pub.publishing(heir.dir / "meds") as stage:
            stage.path("0.parquet").write_text("new")
        heir.push()
        heir.close()
        with pytest.raises(LeaseLostError, match=re.escape(LEASE_KEY)):
            worker.push()
        worker.close()
        assert [store.read(k) for k in ps.dataset_keys(store, "meds").values()] == [b"new"]
        assert ps.read_index(store).datasets == ("meds",)


@pytest.mark.slow
def test_concurrent_index_updates_are_all_kept(store):
    writers = 12
    start = threading.Barrier(writers)

    def update(i: int) -> None:
        start.wait()
        ps.update_index(
            store, lambda index: ps.RootIndex(index.datasets, {**index.files, f"quality/{i}.json": i}, index.open)
        )

    with ThreadPoolExecutor(writers) as pool:
        list(pool.map(update, range(writers)))
    assert ps.read_index(store).files == {f"quality/{i}.json": i for i in range(writers)}


@pytest.mark.slow
def test_a_fence_check_racing_with_the_holders_heartbeats_never_fails(store):
    """A worker checks the lease while the driver renews it: the tag and the bytes read must belong together
    (GCS reads the generation, then that generation's bytes; a rewrite in between is read again)."""
    with hold_lease(store, ttl_s=60.0) as lease:
        done = threading.Event()

        def beat() -> None:  # every 20 ms (the real ones come every ttl/4 = 30 s)
            while not done.wait(0.02):
                lease.renew()

        beating = threading.Thread(target=beat)
        beating.start()
        try:
            for _ in range(40):
                Fence(store, lease.token).check()
        finally:
            done.set()
            beating.join()
        lease.check()
