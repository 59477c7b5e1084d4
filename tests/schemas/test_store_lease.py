"""The run lease on an object-store root, against a local S3 API server (moto in server mode): a second run is
refused in one line, a stale lease is taken over once, a lease is renewed while held and released after a
normal run and after an error, and a holder that lost its lease never removes its successor's."""

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from schemas.store import ObjectStore
from schemas.store_lease import LEASE_KEY, LeaseLostError, RootLeasedError, hold_lease, take_lease
from tests.conftest import TEST_SECRET
from tests.s3_server import list_keys

BUCKET = "longitude-lease"


def _lease_key(store: ObjectStore) -> str:
    return f"{store.url.split('/', 3)[3]}/{LEASE_KEY}"


def _held(store: ObjectStore, s3_env) -> bool:
    return _lease_key(store) in list_keys(s3_env, BUCKET)


@pytest.mark.slow  # moto's server and an S3 client per test: ~3 s on 2 shared cores
def test_a_second_run_is_refused_in_one_line_naming_the_root(store, s3_env):
    with hold_lease(store, command="longitude materialize") as first:
        with pytest.raises(RootLeasedError) as refused:
            take_lease(store, command="longitude demo")
        message = str(refused.value)
        assert "\n" not in message and message.startswith(f"{store.url} is being written by pid {os.getpid()}")
        assert "longitude materialize" in message
        first.check()  # the refusal left the holder's lease alone
    assert not _held(store, s3_env)


@pytest.mark.slow
def test_the_lease_is_released_after_a_normal_run_and_after_an_error(store, s3_env):
    with hold_lease(store):
        assert _held(store, s3_env)
    assert not _held(store, s3_env)
    with pytest.raises(ZeroDivisionError), hold_lease(store):
        1 / 0  # noqa: B018 - a step that fails
    assert not _held(store, s3_env)
    with hold_lease(store):  # and the next run takes it at once
        pass


@pytest.mark.slow
def test_a_stale_lease_is_taken_over_once_and_its_old_holder_cannot_remove_it(store, s3_env):
    dead = take_lease(store, command="longitude materialize", ttl_s=1.0)
    dead._stop.set()  # its process "died": no more heartbeats, no release
    time.sleep(2.5)  # past its ttl by the store's clock (Date and Last-Modified have 1 s resolution)
    seen = []
    with hold_lease(store, on_takeover=lambda holder, age: seen.append((holder, age))) as heir:
        assert len(seen) == 1 and seen[0][0].command == "longitude materialize" and seen[0][1] > 1.0
        with pytest.raises(RootLeasedError):  # the heir's lease is fresh: no second takeover
            take_lease(store)
        dead.renew()
        with pytest.raises(LeaseLostError, match="expired or was taken over"):
            dead.check()
        dead._stop.clear()
        dead.release()  # If-Match on its old ETag: the heir's lease stays
        assert _held(store, s3_env)
        heir.check()
    assert not _held(store, s3_env)


@pytest.mark.slow
def test_a_held_lease_is_renewed_so_it_never_goes_stale(store, s3_env):
    with hold_lease(store, ttl_s=2.0) as lease:
        time.sleep(4.5)  # two ttls: without heartbeats (every 0.5 s) it would be taken over
        with pytest.raises(RootLeasedError):
            take_lease(store)
        lease.check()


@pytest.mark.slow  # a CLI subprocess: ~4 s on 2 shared cores
@pytest.mark.integration
def test_the_cli_refuses_a_leased_root_in_one_line_and_releases_its_own_after_an_error(store, s3_env, tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LONGITUDE_", "AWS_"))}
    env |= {"LONGITUDE_SECRET": TEST_SECRET.decode(), "COLUMNS": "300", **s3_env}
    cmd = [sys.executable, "-c", "from pipelines.cli import main; main()", "materialize", "--root", store.url]
    with hold_lease(store, command="longitude demo"):
        run = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=tmp_path, timeout=300)
        assert run.returncode == 1 and "Traceback" not in run.stderr, run.stderr
        lines = [line for line in run.stderr.splitlines() if line.strip()]
        assert len(lines) == 1 and f"{store.url} is being written by pid" in lines[0], run.stderr
    # Now free: the run takes the lease, finds no root at the prefix, stops, and leaves no lease behind.
    run = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=tmp_path, timeout=300)
    assert run.returncode == 1 and "holds no Longitude root" in run.stderr, run.stderr
    assert not _held(store, s3_env)
    assert list(Path(tmp_path).iterdir()) == []


@pytest.mark.slow
def test_a_working_copy_whose_run_lost_the_lease_publishes_nothing(store, s3_env, monkeypatch, tmp_path):
    from schemas.working_copy import open_working_copy

    monkeypatch.setenv("TMPDIR", str(tmp_path))
    lease = take_lease(store, ttl_s=1.0)
    lease._stop.set()  # stalled past its ttl: another run takes the root over
    time.sleep(2.5)
    with hold_lease(store):
        copy = open_working_copy(store.url, temp_dir=tmp_path)
        copy.lease = lease
        (copy.dir / "longitude.json").write_text("{}\n")
        with pytest.raises(LeaseLostError):
            copy.push()
        copy.close()
        mine = [k for k in list_keys(s3_env, BUCKET) if k.startswith(_lease_key(store).rsplit("/", 1)[0] + "/")]
        assert mine == [_lease_key(store)]  # only the heir's lease: nothing was pushed
