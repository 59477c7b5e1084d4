"""Kill `longitude materialize` (SIGKILL) mid-run, rerun, and get the same curated bytes as a run never killed.

The process kills itself at a named point (schemas.publish.crash_point, via LONGITUDE_CRASH_AT), so every
crash lands at the same place on every machine: `step:<n>` before the n-th step (each asset boundary),
`write#<n>` after the n-th file is written aside but before its rename (inside the big steps), and the
publish points. One crash runs in `make test`; LONGITUDE_CRASH_SWEEP=1 runs every step boundary, every publish
point and seeded random writes (~15 minutes on 2 shared cores).
"""

import hashlib
import json
import os
import random
import shutil
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest

from quality.integrity import ledger_balances
from schemas.layout import Layout
from schemas.publish import CRASH_ENV, files_under, versions_dir
from tests.conftest import TEST_SECRET, write_bundle, write_ndjson
from tests.fhir_fixtures import condition, encounter, lab, patient

# Each materialize has its own 600 s limit; a loaded machine may need more than the suite-wide 900 s for three.
pytestmark = [pytest.mark.integration, pytest.mark.timeout(3600)]
REPO = Path(__file__).resolve().parents[2]
CURATED = ("meds", "notes", "imaging", "tokens", "features")
# Every asset a data engineer's night run builds, short of training a model and the stewards' site.
SELECT = ["*catalog", "*trajectories", "*online_features", "*features_readmission_30d", "*imaging_series",
          "*imaging_studies", "*imaging_fhir_links", "*notes_deidentified", "*meds_dataset_metadata"]  # fmt: skip
SWEEP = os.environ.get("LONGITUDE_CRASH_SWEEP") == "1"


def _materialize(root: Path, crash_at: str | None = None) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LONGITUDE_")}
    env["LONGITUDE_SECRET"] = TEST_SECRET.decode()
    if crash_at:
        env[CRASH_ENV] = crash_at
    select = [a for s in SELECT for a in ("--select", s)]
    cmd = [sys.executable, "-c", "from pipelines.cli import main; main()", "materialize", "--root", str(root),
           "--shards", "2", "--workers", "1", *select]  # fmt: skip
    return subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=REPO, timeout=600)


def _landing(root: Path) -> Path:
    fhir = root / "landing" / "fhir"
    for i in range(8):
        pid = f"p{i}"
        write_bundle(fhir / f"{pid}.json", [
            patient(pid, birth=f"19{40 + i}-03-0{1 + i}"),
            encounter(f"e{i}", pid, "2018-05-01T10:00:00Z", "2018-05-04T09:00:00Z", cls="IMP"),
            encounter(f"f{i}", pid, "2018-05-20T10:00:00Z", "2018-05-21T09:00:00Z", cls="IMP"),
            lab(f"o{i}", pid, "2018-05-01T10:05:00Z", value=90 + i),
            lab(f"q{i}", pid, "2019-02-01T08:00:00Z", value=110 + i),
            condition(f"c{i}", pid, "2017-01-01"),
        ])  # fmt: skip
    write_ndjson(fhir / "bad.ndjson", ["{not json"])
    return root


def _curated(root: Path) -> dict[str, str]:
    """sha256 of every published curated file (dataset.json without its build time stamps)."""
    out = {}
    for top in CURATED:
        for path in files_under(root / top):
            data = path.read_bytes()
            if path.name == "dataset.json":
                meta = json.loads(data)
                data = json.dumps({k: v for k, v in meta.items() if k not in ("created_at", "dataset_version")})
                data = data.encode()
            out[path.relative_to(root).as_posix()] = hashlib.sha256(data).hexdigest()
    return out


def _events(root: Path) -> tuple[int, int]:
    """(raw events, MEDS rows) as published: a doubled source shows in both."""
    raw = files_under(root / "raw", "**/events/**/*.parquet")
    meds = files_under(root / "meds", "data/*/*.parquet")
    return (pl.read_parquet(raw, hive_partitioning=False).height if raw else 0,
            pl.read_parquet(meds).height if meds else 0)  # fmt: skip


def _leftovers(root: Path) -> list[str]:
    """Staging or open partition sets anywhere under the root."""
    found = []
    for dirpath, dirnames, _ in os.walk(root):
        found += [f"{dirpath}/{d}" for d in dirnames if d.endswith(".staging") or d.startswith("open-")]
    return found


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str], tuple[int, int]]:
    root = _landing(tmp_path_factory.mktemp("reference"))
    run = _materialize(root)
    assert run.returncode == 0, run.stderr[-3000:]
    curated = _curated(root)
    assert any(k.startswith("meds/data/") for k in curated) and any(k.startswith("tokens/") for k in curated)
    return root, curated, _events(root)


def _crash_then_rerun(reference, tmp_path: Path, point: str, *, may_finish: bool = False) -> bool:
    """Kill a fresh build at `point`, rerun, compare; False when the run ended before reaching the point."""
    ref_root, ref_curated, ref_events = reference
    root = tmp_path / "root"
    shutil.copytree(ref_root / "landing", root / "landing")
    crashed = _materialize(root, crash_at=point)
    if may_finish and crashed.returncode == 0:
        assert _curated(root) == ref_curated
        return False
    assert crashed.returncode == -9, f"{point}: the run was not killed ({crashed.returncode})"
    # What a reader sees right after the kill: never more events than a whole run (nothing doubled).
    raw_events, meds_rows = _events(root)
    assert raw_events <= ref_events[0] and meds_rows in (0, ref_events[1]), point  # the MEDS set is whole
    rerun = _materialize(root)
    assert rerun.returncode == 0, rerun.stderr[-3000:]
    assert _curated(root) == ref_curated, f"{point}: curated output differs from an uninterrupted run"
    assert _events(root) == ref_events
    assert not _leftovers(root)
    ledgers = files_under(Layout(root).quality / "ledger", "**/*.parquet")
    assert ledgers and ledger_balances(ledgers).passed
    return True


def _assert_rerun_over_a_crashed_rebuild(reference, tmp_path: Path, point: str) -> None:
    """A crash while rebuilding a root that was complete: readers keep the whole previous build."""
    ref_root, ref_curated, _ = reference
    root = tmp_path / "root"
    shutil.copytree(ref_root, root, symlinks=True)
    crashed = _materialize(root, crash_at=point)
    assert crashed.returncode == -9
    assert _curated(root) == ref_curated  # same inputs: every dataset is the old version or an equal new one
    assert (root / "meds").is_symlink() and versions_dir(root / "meds").is_dir()
    rerun = _materialize(root)
    assert rerun.returncode == 0, rerun.stderr[-3000:]
    assert _curated(root) == ref_curated and not _leftovers(root)


def test_a_kill_inside_the_meds_build_then_a_rerun_gives_identical_output(reference, tmp_path: Path):
    # After shard 0 of 2 is staged: the partial set must stay invisible, and the rerun must not build on it.
    _crash_then_rerun(reference, tmp_path, "publish:partition-marked#1")


@pytest.mark.slow
@pytest.mark.skipif(not SWEEP, reason="the full crash sweep runs with LONGITUDE_CRASH_SWEEP=1 (~15 min)")
def test_every_step_boundary(reference, tmp_path_factory: pytest.TempPathFactory):
    n = 0  # step:<n> past the last step never fires: that run completes and the sweep is done
    while _crash_then_rerun(reference, tmp_path_factory.mktemp(f"step{n}"), f"step:{n}", may_finish=True):
        n += 1
    assert n >= 10


@pytest.mark.slow
@pytest.mark.skipif(not SWEEP, reason="the full crash sweep runs with LONGITUDE_CRASH_SWEEP=1 (~15 min)")
@pytest.mark.parametrize("point", ["publish:manifest-written#3", "publish:version-renamed#5",
                                   "publish:pointer-swapped#7", "publish:partition-marked#2"])  # fmt: skip
def test_every_publish_point(reference, tmp_path: Path, point: str):
    _crash_then_rerun(reference, tmp_path / "a", point)
    _assert_rerun_over_a_crashed_rebuild(reference, tmp_path / "b", point)


@pytest.mark.slow
@pytest.mark.skipif(not SWEEP, reason="the full crash sweep runs with LONGITUDE_CRASH_SWEEP=1 (~15 min)")
@pytest.mark.parametrize("seed", range(4))
def test_random_points_inside_the_steps(reference, tmp_path: Path, seed: int):
    nth = random.Random(seed).randint(1, 60)  # ~70 files are written in a run of this root
    _crash_then_rerun(reference, tmp_path, f"write#{nth}")
