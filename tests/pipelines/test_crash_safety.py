"""Kill `longitude materialize` (SIGKILL) mid-run, rerun, and get the same curated bytes as a run never killed.

The process kills itself at a named point (schemas.publish.crash_point, via LONGITUDE_CRASH_AT), so every
crash lands at the same place on every machine: `step:<n>` before the n-th step (each asset boundary),
`write#<n>` after the n-th file is written aside but before its rename (inside the steps: raw ingest, MEDS,
ledgers, check results, ...), and the publish points. The reference run lists every point it reaches
(`LONGITUDE_CRASH_AT=list:<file>`); the sweep draws from that list.

* `make test` (integration tier): one crash inside the MEDS build.
* `LONGITUDE_CRASH_SWEEP=1`: every step boundary, and a seeded sample inside the steps (writes, publish points,
  plus a crash while rebuilding a complete root): 24 points and 4 rebuilds, 30-90 min on 2 shared cores.
  `LONGITUDE_CRASH_SEED=<n>` draws another sample (default 15).
* `LONGITUDE_CRASH_SWEEP=inside`: only points inside the steps (writes, publish points) that `=1` with the
  default seed and `make test` do not kill, `LONGITUDE_CRASH_COUNT` of them (default 8) drawn with the seed,
  killed in the order drawn (a sweep stopped early is still a random sample).
* `LONGITUDE_CRASH_SWEEP=all`: every point the reference run reached (a few hundred; hours).
`LONGITUDE_CRASH_REPORT=<file>` writes each point's outcome as JSON after every point (BENCHMARKS.md, issue 15).
"""

import hashlib
import json
import os
import random
import shutil
import subprocess
import sys
import time
from pathlib import Path

import polars as pl
import pytest

from pipelines.settings import ROOT_SETTINGS_FILE
from quality.integrity import ledger_balances
from schemas.layout import Layout
from schemas.publish import CRASH_ENV, files_under, versions_dir
from schemas.run_lock import holder
from tests.conftest import TEST_SECRET, write_bundle, write_ndjson
from tests.fhir_fixtures import condition, encounter, lab, patient

# Each materialize has its own 600 s limit; a loaded machine may need more than the suite-wide 900 s for three.
pytestmark = [pytest.mark.integration, pytest.mark.timeout(3600)]
REPO = Path(__file__).resolve().parents[2]
CURATED = ("meds", "notes", "imaging", "tokens", "features")
# Every asset a data engineer's night run builds, short of training a model and the stewards' site.
SELECT = ["*catalog", "*trajectories", "*online_features", "*features_readmission_30d", "*imaging_series",
          "*imaging_studies", "*imaging_fhir_links", "*notes_deidentified", "*meds_dataset_metadata"]  # fmt: skip
SWEEP = os.environ.get("LONGITUDE_CRASH_SWEEP", "")
DEFAULT_SEED = 15
SEED = int(os.environ.get("LONGITUDE_CRASH_SEED", str(DEFAULT_SEED)))
COUNT = int(os.environ.get("LONGITUDE_CRASH_COUNT", "8"))  # `inside`: how many points to draw
MAKE_TEST_POINT = "publish:partition-marked#1"  # the one point `make test` kills
INNER_SAMPLE = 4  # seeded `write#n` points in the sweep; each publish kind gets 1 (partition-marked: all)


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
    """Staging or open partition sets, or a killed atomic write's temp file, anywhere under the root."""
    found = []
    for dirpath, dirnames, filenames in os.walk(root):
        found += [f"{dirpath}/{d}" for d in dirnames if d.endswith(".staging") or d.startswith("open-")]
        found += [f"{dirpath}/{f}" for f in filenames if f.startswith(".") and f.endswith(".tmp")]
    return found


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str], tuple[int, int]]:
    root = _landing(tmp_path_factory.mktemp("reference"))
    points = root.parent / "points.txt"
    run = _materialize(root, crash_at=f"list:{points}")  # kills nothing: lists every crash point reached
    assert run.returncode == 0, run.stderr[-3000:]
    curated = _curated(root)
    assert any(k.startswith("meds/data/") for k in curated) and any(k.startswith("tokens/") for k in curated)
    return root, curated, _events(root)


def _reached(reference) -> list[str]:
    """Every crash point of the reference run, as `LONGITUDE_CRASH_AT` names it (`write#7`, `step:3`), in order."""
    seen: dict[str, int] = {}
    out = []
    for name in (reference[0].parent / "points.txt").read_text().split():
        seen[name] = seen.get(name, 0) + 1
        out.append(name if name.startswith("step:") else f"{name}#{seen[name]}")
    return out


def sweep_points(reached: list[str], mode: str, seed: int, count: int = 8) -> list[str]:
    """The points a sweep kills at: all reached (`all`), every step boundary and a seeded sample inside (`1`),
    or (`inside`) `count` points inside the steps that `1` with the default seed and `make test` leave out.

    >>> pts = ["step:0", "write#1", "write#2", "publish:pointer-swapped#1", "step:1", "write#3"]
    >>> sweep_points(pts, "all", 0) == pts
    True
    >>> [p for p in sweep_points(pts, "1", 0) if p.startswith("step:")]
    ['step:0', 'step:1']
    >>> many = [f"write#{i}" for i in range(1, 40)] + ["step:0"]
    >>> inner = sweep_points(many, "inside", 3, count=5)
    >>> len(inner), set(inner) & set(sweep_points(many, "1", DEFAULT_SEED)), inner == sweep_points(many, "inside", 3, 5)
    (5, set(), True)
    """
    if mode == "all":
        return reached
    if mode == "inside":  # drawn order, not run order: a sweep cut short is still a random sample
        covered = {*sweep_points(reached, "1", DEFAULT_SEED), MAKE_TEST_POINT}
        inner = [p for p in reached if not p.startswith("step:") and p not in covered]
        return random.Random(seed).sample(inner, min(count, len(inner)))
    rng = random.Random(seed)
    steps = [p for p in reached if p.startswith("step:")]
    writes = [p for p in reached if p.startswith("write#")]
    chosen = rng.sample(writes, min(INNER_SAMPLE, len(writes)))
    for kind in ("publish:manifest-written", "publish:version-renamed", "publish:pointer-swapped"):
        hits = [p for p in reached if p.startswith(f"{kind}#")]
        chosen += rng.sample(hits, min(1, len(hits)))
    chosen += [p for p in reached if p.startswith("publish:partition-marked#")]
    return [p for p in reached if p in steps or p in chosen]  # in run order


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
    lock = holder(root)
    if lock is None:  # killed pinning longitude.json, before the run took the root's lock: nothing else written
        assert {p.name for p in root.iterdir() if not p.name.startswith(".")} <= {"landing", ROOT_SETTINGS_FILE}
    else:
        assert lock.pid != os.getpid()  # the killed run's lock is left ...
    rerun = _materialize(root)
    assert rerun.returncode == 0, rerun.stderr[-3000:]
    # ... and the rerun takes it over, saying so (and says nothing of the kind when there was none)
    assert ("took over the run lock" in rerun.stderr) == (lock is not None), point
    assert _curated(root) == ref_curated, f"{point}: curated output differs from an uninterrupted run"
    assert _events(root) == ref_events
    assert not _leftovers(root)
    ledgers = files_under(Layout(root).quality / "ledger", "**/*.parquet")
    assert ledgers and ledger_balances(ledgers).passed
    assert holder(root) is None  # released
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
@pytest.mark.timeout(12 * 3600)  # `all`: ~200 points of about a minute each
@pytest.mark.skipif(
    SWEEP not in ("1", "inside", "all"), reason="the crash sweep runs with LONGITUDE_CRASH_SWEEP=1, inside or all"
)
def test_crash_sweep(reference, tmp_path_factory: pytest.TempPathFactory):
    reached = _reached(reference)
    points = sweep_points(reached, SWEEP, SEED, COUNT)
    if SWEEP == "inside":
        assert points and not any(p.startswith("step:") for p in points)
    else:
        assert sum(p.startswith("step:") for p in points) >= 10 and (SWEEP == "all" or len(points) < len(reached))
    kinds = {p.partition("#")[0]: p for p in reversed(points) if p.startswith("publish:")}
    rebuild = set(kinds.values())  # the first point of each publish kind: also crash a rebuild of a whole root
    outcomes, failed = [], []
    for i, point in enumerate(points):
        started = time.perf_counter()
        where = tmp_path_factory.mktemp(f"point{i}")
        try:
            _crash_then_rerun(reference, where, point)
            if point in rebuild:
                _assert_rerun_over_a_crashed_rebuild(reference, where / "rebuild", point)
            result = "identical"
        except AssertionError as err:
            result = f"FAILED: {str(err).splitlines()[0][:300]}"
            failed.append(point)
        outcomes.append({"point": point, "result": result, "seconds": round(time.perf_counter() - started, 1)})
        shutil.rmtree(where, ignore_errors=True)
        print(f"{point}: {result} ({outcomes[-1]['seconds']} s)", flush=True)
        # The report is rewritten after every point, so a sweep cut short keeps its results.
        if report := os.environ.get("LONGITUDE_CRASH_REPORT"):
            body = {"mode": SWEEP, "seed": SEED, "reached": len(reached), "killed": len(outcomes), "drawn": points,
                    "points": outcomes}  # fmt: skip
            Path(report).write_text(json.dumps(body, indent=1) + "\n")
    assert not failed, f"{len(failed)} of {len(points)} crash points did not rerun to identical output: {failed}"
