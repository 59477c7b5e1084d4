"""Runs on one root never interleave: the CLI refuses while another run holds the root, and a run launched the
way the Dagster UI launches it (through the code location's executor) waits for the lock, then sweeps."""

import os
import subprocess
import sys
from pathlib import Path

import dagster as dg
import pytest

from pipelines.run_start import BACKFILL_TAG, build_token
from schemas.publish import versions_dir
from schemas.run_lock import holder
from tests.conftest import TEST_SECRET, write_bundle
from tests.fhir_fixtures import encounter, lab, patient

pytestmark = pytest.mark.integration
REPO = Path(__file__).resolve().parents[2]
_HOLD = """
import sys
from pathlib import Path
from schemas.run_lock import run_lock
with run_lock(Path(sys.argv[1]), wait=False, command="test holder"):
    print("held", flush=True)
    sys.stdin.read()  # until the test closes our stdin
"""


def _root(tmp_path: Path) -> Path:
    root = tmp_path / "root"
    write_bundle(root / "landing" / "fhir" / "p0.json", [
        patient("p0"), encounter("e0", "p0", "2018-05-01T10:00:00Z"), lab("o0", "p0", "2018-05-01T10:05:00Z"),
    ])  # fmt: skip
    return root


def _stale(root: Path) -> tuple[Path, Path]:
    """What a crashed run leaves: a staging version, and an open MEDS partition set of another build."""
    staging = versions_dir(root / "raw" / "fhir") / "vdead.staging"
    (staging / "events").mkdir(parents=True)
    open_set = versions_dir(root / "meds") / "open-meds_data"
    open_set.mkdir(parents=True)
    (open_set / ".build").write_text("a-build-that-crashed")
    return staging, open_set


def _env(root: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LONGITUDE_", "DAGSTER_"))}
    return env | {"LONGITUDE_SECRET": TEST_SECRET.decode(), "LONGITUDE_ROOT": str(root)}


def _hold(root: Path) -> subprocess.Popen:
    proc = subprocess.Popen([sys.executable, "-c", _HOLD, str(root)], cwd=REPO, text=True,
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE)  # fmt: skip
    assert proc.stdout is not None and proc.stdout.readline().strip() == "held"
    return proc


def test_a_second_materialize_exits_at_once_naming_the_run_that_holds_the_root(tmp_path: Path):
    root = _root(tmp_path)
    staging, open_set = _stale(root)
    other = _hold(root)
    try:
        cmd = [sys.executable, "-c", "from pipelines.cli import main; main()", "materialize", "--root", str(root),
               "--select", "fhir_raw"]  # fmt: skip
        run = subprocess.run(cmd, capture_output=True, text=True, env=_env(root), cwd=REPO, timeout=300)
    finally:
        other.communicate("", timeout=30)
    assert run.returncode == 1
    assert f"pid {other.pid}" in run.stderr and "is being written by" in run.stderr
    assert "Traceback" not in run.stderr
    # It touched nothing: the running run's staging is not swept from under it, nothing was published.
    assert staging.is_dir() and open_set.is_dir() and not (root / "raw" / "fhir").exists()


def test_a_run_launched_like_the_ui_waits_for_the_lock_then_sweeps(tmp_path: Path):
    root = _root(tmp_path)
    staging, open_set = _stale(root)
    other = _hold(root)
    dagster = Path(sys.executable).with_name("dagster")
    cmd = [str(dagster), "asset", "materialize", "-m", "pipelines.definitions", "--select", "fhir_raw",
           "--partition", "c0"]  # fhir_raw's one ingest chunk  # fmt: skip
    run = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=_env(root),
                           cwd=REPO)  # fmt: skip
    assert run.stdout is not None
    seen = []
    for line in run.stdout:  # the run's event log
        seen.append(line)
        if "waiting for the root's run lock" in line:
            break
    assert any(f"pid {other.pid}" in line for line in seen[-1:]), "".join(seen[-20:])
    assert staging.is_dir() and not (root / "raw" / "fhir").exists()  # nothing done while waiting
    other.communicate("", timeout=30)  # the holder ends; the run goes on
    rest = run.stdout.read()
    assert run.wait(timeout=600) == 0, rest[-3000:]
    assert "swept 2 leftovers" in rest and "RUN_SUCCESS" in rest
    assert not staging.exists() and not open_set.exists()
    assert (root / "raw" / "fhir").is_symlink() and holder(root) is None  # published, lock released


def test_a_backfills_runs_share_one_build_and_a_lone_run_is_its_own():
    lone = dg.DagsterRun(job_name="__ASSET_JOB", run_id="r1")
    shard = dg.DagsterRun(job_name="__ASSET_JOB", run_id="r2", tags={BACKFILL_TAG: "bf"})
    assert build_token(lone) == "r1" and build_token(shard) == "bf"
