"""The root's run lock: one holder at a time, a clear refusal naming it, and a killed holder's lock taken over."""

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from schemas.publish import BUILD_ENV, partition_stage, sweep, versions_dir
from schemas.run_lock import Holder, RootBusyError, holder, lock_path, run_lock

REPO = Path(__file__).resolve().parents[2]
_HOLD = """
import sys, time
from pathlib import Path
from schemas.run_lock import run_lock
with run_lock(Path(sys.argv[1]), wait=False, command="test holder"):
    print("held", flush=True)
    time.sleep(120)
"""


def _hold_in_another_process(root: Path) -> subprocess.Popen:
    proc = subprocess.Popen([sys.executable, "-c", _HOLD, str(root)], cwd=REPO, stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None and proc.stdout.readline().strip() == "held"
    return proc


def test_a_second_run_is_refused_with_the_holder_named(tmp_path: Path):
    proc = _hold_in_another_process(tmp_path)
    try:
        with pytest.raises(RootBusyError) as err, run_lock(tmp_path, wait=False):
            pytest.fail("two runs held one root's lock")
        message = str(err.value)
        assert f"pid {proc.pid}" in message and "test holder" in message and str(tmp_path) in message
        assert "\n" not in message  # one short line for the CLI
    finally:
        proc.kill()
        proc.wait()


def test_a_killed_holders_lock_is_taken_over_and_reported(tmp_path: Path):
    proc = _hold_in_another_process(tmp_path)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    left = holder(tmp_path)
    assert left is not None and left.pid == proc.pid  # the file still names the dead run ...
    dead: list[Holder] = []
    with run_lock(tmp_path, wait=False, command="rerun", on_takeover=dead.append) as me:  # ... the lock is free
        assert [h.pid for h in dead] == [proc.pid]
        assert holder(tmp_path) == me and me.pid == os.getpid()
    assert holder(tmp_path) is None and lock_path(tmp_path).exists()  # released cleanly: nothing to take over
    with run_lock(tmp_path, wait=False, on_takeover=dead.append):
        pass
    assert len(dead) == 1


def test_a_waiting_run_starts_when_the_holder_ends(tmp_path: Path):
    proc = _hold_in_another_process(tmp_path)
    waited: list[Holder | None] = []
    entered: list[float] = []

    def second() -> None:
        with run_lock(tmp_path, wait=True, on_wait=waited.append, poll_s=0.05):
            entered.append(time.monotonic())

    thread = threading.Thread(target=second)
    thread.start()
    time.sleep(0.5)
    assert not entered and [h.pid for h in waited if h] == [proc.pid]  # waiting, and said for whom
    released = time.monotonic()
    proc.kill()
    proc.wait()
    thread.join(timeout=30)
    assert entered and entered[0] >= released


def test_nested_use_in_one_process_is_one_hold(tmp_path: Path):
    with run_lock(tmp_path, wait=False) as outer, run_lock(tmp_path, wait=False) as inner:
        assert holder(tmp_path) == outer and inner.pid == outer.pid
        other = subprocess.run([sys.executable, "-c", _HOLD, str(tmp_path)], cwd=REPO, capture_output=True,
                               text=True, timeout=60)  # fmt: skip
        assert other.returncode != 0 and "RootBusyError" in other.stderr  # still held against other processes
    assert holder(tmp_path) is None


def test_sweep_keeps_the_open_set_of_the_build_that_sweeps_and_drops_any_other(tmp_path: Path, monkeypatch):
    meds = tmp_path / "meds"
    monkeypatch.setenv(BUILD_ENV, "backfill-a")
    partition_stage(meds, "meds_data", "0", ["0", "1"], ["data/**"], ["data/*/0.parquet"]).commit()
    open_dir = versions_dir(meds) / "open-meds_data"
    assert open_dir.is_dir()
    assert sweep(tmp_path, keep_build="backfill-a") == [] and open_dir.is_dir()  # shard 1's run of one backfill
    assert sweep(tmp_path, keep_build="backfill-b") == [open_dir] and not open_dir.exists()  # another build's
    monkeypatch.delenv(BUILD_ENV)
    partition_stage(meds, "meds_data", "0", ["0", "1"], ["data/**"], ["data/*/0.parquet"]).commit()
    assert sweep(tmp_path, keep_build="") == [open_dir]  # the CLI keeps nothing: it sweeps once per run
