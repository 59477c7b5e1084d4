"""MEDS shards computed ahead in the CLI's parser processes: a step writes exactly what it would have computed,
computes again when its inputs changed meanwhile, and a run that stops before the steps leaves nothing."""

import hashlib
import shutil
from pathlib import Path

import pytest

from deid.pseudonym import Keyring
from pipelines.defs.fhir import head_start
from pipelines.defs.fhir.ingest import ingest_fhir
from pipelines.defs.meds import ahead
from pipelines.defs.meds import build as meds_build
from pipelines.defs.meds.ahead import build_shard
from schemas.layout import Layout
from schemas.publish import files_under
from tests.conftest import TEST_SECRET, write_bundle, write_ndjson
from tests.fhir_fixtures import condition, encounter, lab, patient

KEYS = Keyring(TEST_SECRET)
SHARDS = 2
FRACTIONS = (0.6, 0.2, 0.2)


def _landing(root: Path, n: int = 8) -> Path:
    fhir = root / "landing" / "fhir"
    for i in range(n):
        pid = f"pat{i}"
        write_bundle(fhir / f"{pid}.json", [
            patient(pid, birth=f"19{50 + i}-02-0{1 + i % 9}"),
            encounter(f"e{i}", pid, "2015-03-01T08:00:00Z", "2015-03-03T12:00:00Z"),
            lab(f"o{i}", pid, "2015-03-01T09:00:00Z", value=90 + i),
            condition(f"c{i}", pid, "2014-01-01"),
        ])  # fmt: skip
    write_ndjson(fhir / "orphans.ndjson", [lab("orph", "nobody", "2020-01-01", ref="Patient/")])
    return root


def _written(root: Path) -> dict[str, str]:
    """sha256 of every file the MEDS build writes: data shards (as staged or published), quarantine, ledger."""
    layout = Layout(root)
    files = [*files_under(layout.meds, pending=True), *layout.quarantine("meds_data").glob("*.parquet")]
    files += (layout.quality / "ledger" / "meds_data").glob("*.parquet")
    return {p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(files)}


def _plain(root: Path, shards: int = SHARDS) -> dict[str, str]:
    layout = Layout(root)
    ingest_fhir(layout, KEYS, shards, workers=1)
    for shard in range(shards):
        meds_build.build_shard(layout, KEYS, shard, FRACTIONS, shards)  # the library's build, nothing ahead
    return _written(root)


def _begin_with_shards_ahead(root: Path, shards: int = SHARDS) -> Layout:
    layout = Layout(root)
    assert head_start.begin(layout, KEYS, shards, False, 2)
    head_start.build_meds_ahead(layout, KEYS, FRACTIONS, list(range(shards)))
    ingest_fhir(layout, KEYS, shards, workers=2)  # takes the parse over, then hands its processes the shards
    return layout


def _computed_here(*args, **kwargs):
    raise AssertionError("the step computed a shard that was computed ahead from the same inputs")


@pytest.fixture(autouse=True)
def _nothing_left_begun():
    yield
    head_start.cancel()


def test_a_shard_computed_ahead_is_written_as_the_step_would_compute_it(tmp_path: Path, monkeypatch):
    expected = _plain(_landing(tmp_path / "plain"))
    layout = _begin_with_shards_ahead(_landing(tmp_path / "ahead"))
    assert ahead.pending() == [0, 1]
    monkeypatch.setattr(meds_build, "compute_shard", _computed_here)
    for shard in range(SHARDS):
        build_shard(layout, KEYS, shard, FRACTIONS, SHARDS)
    assert _written(layout.root) == expected
    assert not ahead.pending() and not ahead._STATE  # every shard taken, the processes gone


def test_only_a_few_shards_per_process_wait_computed_in_memory(tmp_path: Path, monkeypatch):
    monkeypatch.setattr(ahead, "AHEAD_PER_WORKER", 1)  # 2 processes: 2 shards of 4 in flight at a time
    expected = _plain(_landing(tmp_path / "plain"), 4)
    layout = _begin_with_shards_ahead(_landing(tmp_path / "ahead"), 4)
    assert ahead.pending() == [0, 1, 2, 3] and sorted(ahead._STATE[0].running) == [0, 1]
    monkeypatch.setattr(meds_build, "compute_shard", _computed_here)
    for shard in range(4):
        build_shard(layout, KEYS, shard, FRACTIONS, 4)
        assert len(ahead._STATE[0].running) <= 2 if ahead._STATE else shard == 3
    assert _written(layout.root) == expected and not ahead._STATE


def test_a_shard_whose_inputs_changed_meanwhile_is_computed_again(tmp_path: Path):
    layout = _begin_with_shards_ahead(_landing(tmp_path / "ahead"))
    # Another step publishes new raw events before the MEDS steps: what was computed ahead is stale.
    write_bundle(layout.landing_fhir / "late.json", [patient("late"), condition("cl", "late", "2018-01-01")])
    ingest_fhir(layout, KEYS, SHARDS, workers=1)
    for shard in range(SHARDS):
        build_shard(layout, KEYS, shard, FRACTIONS, SHARDS)
    plain = _landing(tmp_path / "plain")
    write_bundle(
        plain / "landing" / "fhir" / "late.json", [patient("late"), condition("cl", "late", "2018-01-01")]
    )
    assert _written(layout.root) == _plain(plain)


def test_a_shard_computed_for_other_splits_is_not_taken(tmp_path: Path):
    layout = _begin_with_shards_ahead(_landing(tmp_path / "ahead"))
    other = (0.8, 0.1, 0.1)
    assert ahead.take(layout, KEYS, 0, other) is None
    assert ahead.take(layout, Keyring(b"another-secret-0123456789abcdef"), 1, FRACTIONS) is None
    assert not ahead.pending() and not ahead._STATE


def test_a_run_stopped_before_the_meds_steps_leaves_no_meds_output(tmp_path: Path):
    root = _landing(tmp_path / "ahead")
    layout = _begin_with_shards_ahead(root)
    head_start.cancel()  # what the CLI does when the run stops (a blocking check of fhir_raw failed)
    assert not ahead.pending() and not ahead._STATE
    assert not layout.meds.exists() and not layout.quarantine("meds_data").exists()
    assert not (layout.quality / "ledger" / "meds_data").exists()
    shutil.rmtree(root)


class _BrokenPool:
    """A pool whose processes are gone (what `submit` raises then)."""

    def submit(self, *args, **kwargs):
        from concurrent.futures.process import BrokenProcessPool

        raise BrokenProcessPool("a process of the pool ended abruptly")

    def shutdown(self, wait: bool = True, cancel_futures: bool = False) -> None:
        pass


def test_a_broken_pool_leaves_every_shard_to_its_step(tmp_path: Path):
    expected = _plain(_landing(tmp_path / "plain"))
    layout = Layout(_landing(tmp_path / "broken"))
    ingest_fhir(layout, KEYS, SHARDS, workers=1)
    ahead.submit(_BrokenPool(), layout, KEYS, FRACTIONS, list(range(SHARDS)), 2)  # raises nothing
    for shard in range(SHARDS):
        build_shard(layout, KEYS, shard, FRACTIONS, SHARDS)
    assert _written(layout.root) == expected and not ahead._STATE
